/* The audio contract (model/audio_contract.h): models trained at 22050 and 24000 Hz hear in
 * conversion exactly what they heard in training, and the model file keeps every front-end
 * field. */
#define _POSIX_C_SOURCE 200809L
#include "convert/convert.h"
#include "io/features.h"
#include "io/safetensors.h"
#include "model/audio_contract.h"
#include "train/batch.h"

#include "tempdir.h"
#include "test.h"

#include <string.h>

#define N_SPK 2
#define N_UTT 3
#define SECONDS 1.4

static void quiet_log(int level, const char *msg, void *user) {
    (void)user;
    if (level <= VC_LOG_WARN) fprintf(stderr, "vconv: %s\n", msg);
}

/* A harmonic voice with a pitch contour and syllable-like bursts, as int16-exact floats
 * (k / 32767, what the feature cache stores), so training's quantisation leaves it alone. */
static void synth(float *x, size_t n, int rate, int spk, int utt) {
    double f0b = 110.0 + 90.0 * spk, formant = 600.0 + 900.0 * spk, phase = 0.0;
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / rate;
        double f0 = f0b * (1.0 + 0.1 * sin(VC_TWO_PI * (0.7 + 0.3 * utt) * t));
        phase += VC_TWO_PI * f0 / rate;
        double env = sin(VC_TWO_PI * (2.0 + utt) * 0.5 * t);
        double s = 0.0;
        for (int k = 1; k * f0 < 0.45 * rate; k++) {
            double d = (k * f0 - formant) / 400.0;
            s += (pow(k, -0.8) + 0.5 * exp(-d * d)) * sin(k * phase);
        }
        x[i] = roundf((float)(0.12 * env * env * s) * 32767.0f) / 32767.0f;
    }
}

/* Moves x's active level to exactly where conversion's levelling gain is 1.0f, by whole int16
 * steps, so that the conversion path sees the same samples as training. Returns 1 on success. */
static int make_unit_gain(float *x, size_t n, int rate) {
    for (int round = 0; round < 60; round++) {
        vc_level lv;
        if (vc_audio_level(x, n, rate, &lv) != VC_OK) return 0;
        float g = vcm_level_gain(lv.active_dbfs);
        if (g == 1.0f) return 1;
        /* energy change needed, spread over samples of moderate size for fine steps */
        double need = (pow(10.0, (VCM_LEVEL_DBFS - lv.active_dbfs) / 10.0) - 1.0);
        double e = 0.0;
        for (size_t i = 0; i < n; i++) e += (double)x[i] * x[i] * 32767.0 * 32767.0;
        double todo = fabs(need) * e * lv.active_share;
        int up = need > 0.0;
        if (round < 3) { /* coarse: scale everything */
            float s = (float)sqrt(1.0 + need);
            for (size_t i = 0; i < n; i++) x[i] = roundf(x[i] * s * 32767.0f) / 32767.0f;
            continue;
        }
        for (size_t i = (size_t)round * 7919 % n; todo > 0.0 && i < n; i += 13) {
            float k = roundf(x[i] * 32767.0f);
            if (fabsf(k) < 4.0f || fabsf(k) > 64.0f) continue;
            float k2 = k + (up ? 1.0f : -1.0f) * (k > 0 ? 1.0f : -1.0f);
            todo -= fabs((double)k2 * k2 - (double)k * k);
            x[i] = k2 / 32767.0f;
        }
    }
    return 0;
}

static void make_corpus(const char *dir, int rate) {
    mkdir(dir, 0755);
    size_t n = (size_t)(SECONDS * rate);
    float *x = malloc(sizeof(float) * n);
    if (!x) abort();
    for (int s = 0; s < N_SPK; s++) {
        char name[64], path[1100];
        snprintf(name, sizeof name, "spk%d", s);
        join(path, sizeof path, dir, name);
        mkdir(path, 0755);
        for (int u = 0; u < N_UTT; u++) {
            synth(x, n, rate, s, u);
            snprintf(name, sizeof name, "spk%d/u%d.wav", s, u);
            join(path, sizeof path, dir, name);
            vc_audio a = {x, n, rate};
            CHECK(vc_audio_save(path, &a, VC_AUDIO_PCM16) == VC_OK);
        }
    }
    free(x);
}

static vc_status train_tiny(const char *corpus, const char *out, int rate) {
    char cfg[160];
    snprintf(cfg, sizeof cfg,
             "{\"sample_rate\":%d,\"channels\":16,\"codebook_size\":16,\"spk_channels\":16,"
             "\"postnet_channels\":16}",
             rate);
    const char *dirs[] = {corpus};
    vc_train_params p = vc_train_default_params();
    p.data_dirs = dirs;
    p.n_data_dirs = 1;
    p.out_model = out;
    p.preset = "tiny";
    p.config_json = cfg;
    p.steps = 6;
    p.batch = 4;
    p.segment_frames = 32;
    p.warmup = 2;
    p.val_share = 0.2f;
    p.val_every = 1000;
    p.checkpoint_every = 1000;
    p.log_every = 1000;
    return vc_train(&p);
}

/* The model input, pitch and F0 that training computes for utterance x (feature cache, then a
 * batch item over its first T frames) against conversion's (prepare, then the model input of
 * the same frames). Bit for bit. */
static void check_same_input(const vc_model *vm, const float *x, size_t n, int rate) {
    const vcm_model *m = vcm_model_internal(vm);
    vc_frontend_params fp = vcm_frontend_params(&m->cfg);
    vc_frontend *fe = NULL;
    CHECK(vc_frontend_init(&fp, &fe) == VC_OK);
    vc_feature_set fs = {.M = m->cfg.n_mels, .hop = fp.hop, .sample_rate = rate, .n = 1};
    vc_utt_features u;
    CHECK(vci_features_compute(fe, x, n, &u) == VC_OK);
    fs.u = &u;
    int T = u.T & ~1, M = m->cfg.n_mels, F = m->cfg.n_bins;
    vct_scratch sc;
    CHECK(vct_scratch_init(&sc, &fs, &fp, 0) == VC_OK);
    float *xb = malloc(sizeof(float) * (size_t)M * T), *xs = malloc(sizeof(float) * (size_t)M * T);
    float *pb = malloc(sizeof(float) * 2 * (size_t)T), *lin = malloc(sizeof(float) * (size_t)F * T);
    vct_item it = {.u = 0, .us = 0, .t = 0, .ts = 0};
    CHECK(vct_fill_item(fe, &fs, m, &it, 0, 1, T, T, &sc, xb, pb, xs, lin) == VC_OK);

    /* conversion: the public model's own front end, through vcc_prepare */
    vc_audio a = {(float *)x, n, rate};
    vcc_input in;
    CHECK(vcc_prepare(vm, &a, "source", &in) == VC_OK);
    vc_frontend *fc = NULL;
    CHECK(vc_frontend_init(&vm->fp, &fc) == VC_OK);
    size_t len = in.e - in.b;
    CHECK(len == u.n_samples && vc_frontend_n_frames(fc, len) == u.T);
    float *tm = malloc(sizeof(float) * (size_t)M * T), *xc = malloc(sizeof(float) * (size_t)M * T);
    float *f0 = malloc(sizeof(float) * 2 * (size_t)u.T), *pc = malloc(sizeof(float) * 2 * u.T);
    CHECK(vcm_model_input(fc, m, in.x + in.b, len, 0, T, T, tm, xc) == VC_OK);
    CHECK(memcmp(xc, xb, sizeof(float) * (size_t)M * T) == 0);
    CHECK(vc_frontend_f0(fc, in.x + in.b, len, f0, f0 + u.T) == VC_OK);
    CHECK(memcmp(f0, u.f0, sizeof(float) * u.T) == 0);
    vcm_pitch_features(f0, f0 + u.T, u.T, pc);
    CHECK(memcmp(pc, pb, sizeof(float) * T) == 0); /* pitch channel 0 over the batch's frames */

    /* the control: the front end conversion built before the fix (fmax = sr / 2) hears
     * something else, so the comparison above can fail */
    vc_frontend_params old = vm->fp;
    old.fmax = 0.5f * (float)rate;
    vc_frontend *fo = NULL;
    CHECK(vc_frontend_init(&old, &fo) == VC_OK);
    CHECK(vcm_model_input(fo, m, in.x + in.b, len, 0, T, T, tm, xc) == VC_OK);
    CHECK(memcmp(xc, xb, sizeof(float) * (size_t)M * T) != 0);

    vc_frontend_free(fo);
    vc_frontend_free(fc);
    vc_frontend_free(fe);
    free(in.x);
    free(tm), free(xc), free(f0), free(pc), free(xb), free(xs), free(pb), free(lin);
    vct_scratch_free(&sc);
    vci_utt_features_free(&u);
}

static void test_rate(const char *root, int rate) {
    char corpus[1100], model[1100], name[64];
    snprintf(name, sizeof name, "corpus%d", rate);
    join(corpus, sizeof corpus, root, name);
    snprintf(name, sizeof name, "m%d.safetensors", rate);
    join(model, sizeof model, root, name);
    make_corpus(corpus, rate);
    CHECK(train_tiny(corpus, model, rate) == VC_OK);
    vc_model *vm = NULL;
    CHECK(vc_model_load(model, &vm) == VC_OK);
    if (!vm) return;
    vc_frontend_params fp = vc_model_frontend_params(vm);
    CHECK(fp.sample_rate == rate && fp.fmin == 0.0f && fp.fmax == 8000.0f);
    CHECK(fp.f0_min == 60.0f && fp.f0_max == 500.0f && fp.n_fft == 1024 && fp.hop == 256);

    size_t n = (size_t)(SECONDS * rate);
    float *x = malloc(sizeof(float) * n);
    if (!x) abort();
    synth(x, n, rate, 1, 2);
    int unit = make_unit_gain(x, n, rate);
    CHECK(unit);
    if (unit) check_same_input(vm, x, n, rate);

    /* and it converts: one corpus voice into the other's, at the model's rate */
    vc_audio src = {x, n, rate}, ref = {NULL, n, rate}, out = {0};
    ref.samples = malloc(sizeof(float) * n);
    if (!ref.samples) abort();
    synth(ref.samples, n, rate, 0, 1);
    vc_voice v;
    CHECK(vc_voice_from_audio(vm, &ref, 1, &v) == VC_OK);
    vc_convert_params cp = vc_convert_default_params();
    cp.vocoder.iters = 4;
    CHECK(vc_convert(vm, &src, &v, &cp, &out) == VC_OK);
    CHECK(out.sample_rate == rate && out.n_samples == n);
    int finite = out.samples != NULL;
    for (size_t i = 0; finite && i < out.n_samples; i++) finite = isfinite(out.samples[i]);
    CHECK(finite);
    vc_audio_free(&out);
    vc_voice_free(&v);
    free(ref.samples);
    free(x);
    vc_model_free(vm);
}

/* Every front-end field survives save and load; a file without the ranges gets its training's. */
static void test_round_trip(const char *root) {
    vcm_config c;
    CHECK(vcm_config_preset("tiny", &c) == VC_OK);
    c.sample_rate = 24000, c.n_fft = 512, c.n_bins = 257, c.hop = 128, c.n_mels = 64;
    c.fmin = 55.5f, c.fmax = 11000.25f, c.f0_min = 70.125f, c.f0_max = 410.5f;
    vcm_model m;
    CHECK(vcm_model_init(&m, &c, 0) == VC_OK);
    char path[1100];
    join(path, sizeof path, root, "rt.safetensors");
    CHECK(vcm_model_save(path, &m, NULL, 0, 0) == VC_OK);
    vcm_model_free(&m);
    vc_model *vm = NULL;
    CHECK(vc_model_load(path, &vm) == VC_OK);
    if (vm) {
        vc_frontend_params fp = vc_model_frontend_params(vm);
        CHECK(fp.sample_rate == 24000 && fp.n_fft == 512 && fp.hop == 128 && fp.n_mels == 64);
        CHECK(fp.fmin == 55.5f && fp.fmax == 11000.25f);
        CHECK(fp.f0_min == 70.125f && fp.f0_max == 410.5f);
        vc_model_free(vm);
    }
    /* an older file: the required keys only */
    static const int rates[3] = {16000, 22050, 8000};
    static const float fmax[3] = {8000.0f, 8000.0f, 4000.0f};
    for (int r = 0; r < 3; r++) {
        CHECK(vcm_config_preset("tiny", &c) == VC_OK);
        c.sample_rate = rates[r];
        vcm_config_meta cm;
        vcm_config_to_meta(&c, &cm);
        const char *kv[2 * VCM_CONFIG_META_MAX];
        int n = 0;
        for (int i = 0; i < cm.n; i++) {
            const char *k = cm.kv[2 * i];
            if (!strcmp(k, "vconv.fmin") || !strcmp(k, "vconv.fmax") ||
                !strcmp(k, "vconv.f0_min") || !strcmp(k, "vconv.f0_max"))
                continue;
            kv[2 * n] = k, kv[2 * n + 1] = cm.kv[2 * i + 1], n++;
        }
        CHECK(n == cm.n - 4);
        float z = 0.0f;
        st_tensor_out t = {"x", 1, {1}, &z};
        CHECK(vci_safetensors_write(path, &t, 1, kv, n, ST_F32) == VC_OK);
        st_file f;
        CHECK(vci_safetensors_load(path, &f) == VC_OK);
        vcm_config back;
        CHECK(vcm_config_from_meta(&f, path, &back) == VC_OK);
        CHECK(back.fmin == 0.0f && back.fmax == fmax[r]);
        CHECK(back.f0_min == 60.0f && back.f0_max == 500.0f);
        vci_safetensors_free(&f);
    }
}

/* Training configs: fmax follows the rate unless given; ranges outside the rate are refused. */
static void test_config_json(void) {
    vcm_config c;
    CHECK(vcm_config_from_json("{\"preset\": \"tiny\", \"sample_rate\": 24000}", &c) == VC_OK);
    CHECK(c.fmin == 0.0f && c.fmax == 8000.0f && c.f0_min == 60.0f && c.f0_max == 500.0f);
    CHECK(vcm_config_from_json("{\"preset\": \"tiny\", \"sample_rate\": 8000}", &c) == VC_OK);
    CHECK(c.fmax == 4000.0f);
    CHECK(vcm_config_from_json("{\"sample_rate\": 24000, \"fmax\": 12000, \"fmin\": 40}", &c) ==
          VC_OK);
    CHECK(c.fmax == 12000.0f && c.fmin == 40.0f);
    CHECK(vcm_config_from_json("{\"fmax\": 9000}", &c) == VC_ERR_ARG);
    CHECK(vcm_config_from_json("{\"fmin\": 8000}", &c) == VC_ERR_ARG);
    CHECK(vcm_config_from_json("{\"f0_min\": 600}", &c) == VC_ERR_ARG);
    CHECK(vcm_config_from_json("{\"fmax\": \"8000\"}", &c) == VC_ERR_FORMAT);
}

int main(void) {
    vc_log_set(quiet_log, NULL);
    char root[] = "/tmp/vconv_test_contract_XXXXXX";
    if (!mkdtemp(root)) return 1;
    test_config_json();
    test_round_trip(root);
    test_rate(root, 22050);
    test_rate(root, 24000);
    remove_tree(root);
    return test_finish();
}
