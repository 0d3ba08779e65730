/* Audio regression: figures that say what vconv sounds like, compared with the goldens in
 * tests/regression/golden.json with tolerances that mean something for audio, not bytes (BLAS,
 * FFT and libm rounding differ across machines):
 *
 *   resynth   spectral convergence of `vconv resynth --from mel` (32 iterations) of each sample;
 *             tolerance: the larger of 0.05 dB and the difference another vocoder seed makes
 *             (measured here, each run): a change the vocoder's own randomness could make is
 *             not a regression
 *   training  the tiny preset's first 20 training losses on the samples (seed 1, batch 4 x 32
 *             frames, one thread); relative tolerance 1e-3: one against two threads (another
 *             summation order in BLAS) differ by about 1e-8 relative after 20 steps (printed
 *             each run), so 1e-3 leaves room for other CPUs' kernels, while a changed layer,
 *             loss or optimiser moves these losses by 1e-2 or more
 *   forward   the tiny preset with seed-1 parameters (and set normalisation statistics) on a
 *             fixed 32-frame input: its codes must match exactly and its log-mel output (80 x 32)
 *             within 1e-4 absolute: float32 GEMMs blocked differently round differently, near
 *             1e-6 here; a changed layer moves outputs by 1e-2 or more
 *   convert   the bundled model converting the samples into each other's voices: the output's
 *             time-averaged log-mel spectrum (80 bands); tolerance 0.5 dB spectral distortion,
 *             half the 1 dB threshold of audible spectral change (the average over time does
 *             not depend on the vocoder's phase, so rounding alone moves it by far less)
 *
 * REGEN=1 writes golden.json anew (tests/regression/regen); every run prints a before/after
 * table of every figure. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include "model/model.h"
#include "tempdir.h"
#include "test.h"
#include "vconv/vconv.h"

#include <cjson/cJSON.h>
#include <string.h>

#define N_SAMPLES 3
#define N_LOSSES 20
#define M 80
#define FWD_T 32

static const char *const samples[N_SAMPLES] = {"bdl_arctic_a0310.wav", "slt_arctic_a0318.wav",
                                               "kathleen_arctic_a0300.wav"};
/* conversions: source index, reference index */
static const int pairs[N_SAMPLES][2] = {{0, 1}, {1, 0}, {2, 0}};

typedef struct figures {
    double sc_db[N_SAMPLES], sc_seed_spread[N_SAMPLES];
    double loss[N_LOSSES];
    double spectrum[N_SAMPLES][M]; /* mean log-mel of each conversion */
    int codes[FWD_T / 2];
    double mel[M * FWD_T]; /* the tiny model's normalised log-mel output */
} figures;

/* The tiny preset, seed-1 parameters, on a fixed input: codes and log-mel output. */
static void forward(figures *f) {
    vcm_config c;
    CHECK(vcm_config_preset("tiny", &c) == VC_OK);
    vcm_model m;
    CHECK(vcm_model_init(&m, &c, 0) == VC_OK);
    vc_rng r;
    vcu_rng_seed(&r, 1);
    vcm_model_randomize(&m, &r);
    vcm_workspace ws;
    CHECK(vcm_workspace_init(&ws, &m, 1, FWD_T, FWD_T) == VC_OK);
    float x[M * FWD_T], p[2 * FWD_T], spk[64], mel[M * FWD_T];
    float *lin = malloc(sizeof(float) * (size_t)c.n_bins * FWD_T);
    for (int b = 0; b < M; b++)
        for (int t = 0; t < FWD_T; t++)
            x[b * FWD_T + t] = (float)(sin(0.3 * t + 0.1 * b) + 0.5 * cos(0.05 * b * t));
    for (int t = 0; t < FWD_T; t++) p[t] = (float)sin(0.2 * t), p[FWD_T + t] = t % 5 ? 1.0f : 0.0f;
    CHECK(c.spk_dim <= 64);
    CHECK(vcm_encode_content(&m, &ws, x, FWD_T, f->codes) == VC_OK);
    CHECK(vcm_encode_speaker(&m, &ws, x, FWD_T, spk) == VC_OK);
    CHECK(vcm_decode(&m, &ws, f->codes, NULL, 0.0f, FWD_T / 2, spk, p, NULL, mel, lin) == VC_OK);
    for (int i = 0; i < M * FWD_T; i++) f->mel[i] = mel[i];
    free(lin);
    vcm_workspace_free(&ws);
    vcm_model_free(&m);
}

static void sample_path(char *buf, size_t n, const char *name) {
    snprintf(buf, n, "%s/%s", VC_SAMPLES_DIR, name);
}

static void resynth(figures *f) {
    vc_frontend_params p = vc_frontend_default_params();
    vc_frontend *fe = NULL;
    CHECK(vc_frontend_init(&p, &fe) == VC_OK);
    for (int i = 0; i < N_SAMPLES; i++) {
        char path[1024];
        sample_path(path, sizeof path, samples[i]);
        vc_audio a;
        CHECK(vc_audio_load(path, p.sample_rate, &a, NULL) == VC_OK);
        float *y = malloc(sizeof(float) * a.n_samples);
        vc_vocoder_params vp = vc_vocoder_default_params();
        double sc2 = 0.0;
        CHECK(vc_resynthesize(fe, a.samples, a.n_samples, VC_RESYNTH_MEL, &vp, y, &f->sc_db[i]) ==
              VC_OK);
        vp.seed = 2;
        CHECK(vc_resynthesize(fe, a.samples, a.n_samples, VC_RESYNTH_MEL, &vp, y, &sc2) == VC_OK);
        f->sc_seed_spread[i] = fabs(sc2 - f->sc_db[i]);
        free(y);
        vc_audio_free(&a);
    }
    vc_frontend_free(fe);
}

typedef struct loss_log {
    double *loss;
    int n;
} loss_log;

static void record(const vc_train_report *r, void *user) {
    loss_log *l = user;
    if (!r->is_validation && l->n < N_LOSSES) l->loss[l->n++] = r->loss;
}

static void training(figures *f, int threads) {
    char dir[] = "/tmp/vconv_regression_XXXXXX", model[1024], cache[1024];
    if (!mkdtemp(dir)) abort();
    join(model, sizeof model, dir, "m.safetensors");
    join(cache, sizeof cache, dir, "cache");
    const char *data[1] = {VC_SAMPLES_DIR};
    vc_train_params p = vc_train_default_params();
    loss_log l = {f->loss, 0};
    p.data_dirs = data;
    p.n_data_dirs = 1;
    p.out_model = model;
    p.cache_dir = cache;
    p.log_path = "";
    p.preset = "tiny";
    p.steps = N_LOSSES;
    p.batch = 4;
    p.segment_frames = 32;
    p.val_every = 1000;
    p.checkpoint_every = 1000;
    p.log_every = 1;
    p.seed = 1;
    p.report = record;
    p.report_user = &l;
    vc_set_num_threads(threads);
    CHECK(vc_train(&p) == VC_OK);
    vc_set_num_threads(1);
    CHECK(l.n == N_LOSSES);
    remove_tree(dir);
}

static void conversions(figures *f) {
    char path[1024];
    sample_path(path, sizeof path, "vconv-default.safetensors");
    vc_model *m = NULL;
    CHECK(vc_model_load(path, &m) == VC_OK);
    if (!m) return;
    int rate = vc_model_sample_rate(m);
    vc_frontend_params fp = vc_frontend_default_params();
    vc_frontend *fe = NULL;
    CHECK(vc_frontend_init(&fp, &fe) == VC_OK);
    for (int k = 0; k < N_SAMPLES; k++) {
        vc_audio src, ref, out = {0};
        vc_voice v = {0};
        sample_path(path, sizeof path, samples[pairs[k][0]]);
        CHECK(vc_audio_load(path, rate, &src, NULL) == VC_OK);
        sample_path(path, sizeof path, samples[pairs[k][1]]);
        CHECK(vc_audio_load(path, rate, &ref, NULL) == VC_OK);
        CHECK(vc_voice_from_audio(m, &ref, 1, &v) == VC_OK);
        vc_convert_params cp = vc_convert_default_params();
        CHECK(vc_convert(m, &src, &v, &cp, &out) == VC_OK);
        int T = vc_frontend_n_frames(fe, out.n_samples), used = 0;
        float *lm = malloc(sizeof(float) * (size_t)T * M);
        CHECK(vc_frontend_log_mel(fe, out.samples, out.n_samples, lm) == VC_OK);
        for (int b = 0; b < M; b++) f->spectrum[k][b] = 0.0;
        for (int t = 0; t < T; t++) {
            double peak = -100.0;
            for (int b = 0; b < M; b++) peak = fmax(peak, lm[t * M + b]);
            if (peak < -6.0) continue; /* speech frames only: the silence around is exact 0 */
            for (int b = 0; b < M; b++) f->spectrum[k][b] += lm[t * M + b];
            used++;
        }
        for (int b = 0; b < M; b++) f->spectrum[k][b] /= used > 0 ? used : 1;
        free(lm);
        vc_audio_free(&out);
        vc_voice_free(&v);
        vc_audio_free(&src);
        vc_audio_free(&ref);
    }
    vc_frontend_free(fe);
    vc_model_free(m);
}

/* RMS over bands of the difference of two mean log-mel spectra, in dB. */
static double spectrum_db(const double *a, const double *b) {
    double s = 0.0;
    for (int i = 0; i < M; i++) s += (a[i] - b[i]) * (a[i] - b[i]);
    return 20.0 / log(10.0) * sqrt(s / M);
}

static double num(const cJSON *o, const char *key, int i) {
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key);
    const cJSON *x = cJSON_IsArray(a) ? cJSON_GetArrayItem(a, i) : NULL;
    return cJSON_IsNumber(x) ? x->valuedouble : NAN;
}

static cJSON *to_json(const figures *f) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "resynth_sc_db", cJSON_CreateDoubleArray(f->sc_db, N_SAMPLES));
    cJSON_AddItemToObject(o, "train_loss", cJSON_CreateDoubleArray(f->loss, N_LOSSES));
    cJSON_AddItemToObject(o, "forward_codes", cJSON_CreateIntArray(f->codes, FWD_T / 2));
    cJSON_AddItemToObject(o, "forward_mel", cJSON_CreateDoubleArray(f->mel, M * FWD_T));
    cJSON *sp = cJSON_AddArrayToObject(o, "convert_mean_log_mel");
    for (int k = 0; k < N_SAMPLES; k++)
        cJSON_AddItemToArray(sp, cJSON_CreateDoubleArray(f->spectrum[k], M));
    return o;
}

int main(void) {
    figures now, two_threads;
    memset(&now, 0, sizeof now);
    vc_set_num_threads(1);
    resynth(&now);
    training(&now, 1);
    training(&two_threads, 2);
    conversions(&now);
    forward(&now);
    char golden_path[1024];
    snprintf(golden_path, sizeof golden_path, "%s/golden.json", VC_REGRESSION_DIR);
    FILE *g = fopen(golden_path, "rb");
    char *text = NULL;
    if (g) {
        fseek(g, 0, SEEK_END);
        long n = ftell(g);
        fseek(g, 0, SEEK_SET);
        text = calloc((size_t)n + 1, 1);
        if (text && fread(text, 1, (size_t)n, g) != (size_t)n) text[0] = '\0';
        fclose(g);
    }
    cJSON *old = text ? cJSON_Parse(text) : NULL;
    free(text);
    int regen = getenv("REGEN") != NULL;
    if (!old && !regen) {
        fprintf(stderr, "no golden file at %s (tests/regression/regen writes it)\n", golden_path);
        CHECK(old != NULL);
        return test_finish();
    }
    printf("%-34s %12s %12s %10s %10s\n", "figure", "golden", "now", "change", "tolerance");
    for (int i = 0; i < N_SAMPLES; i++) {
        double want = old ? num(old, "resynth_sc_db", i) : NAN,
               tol = fmax(0.05, now.sc_seed_spread[i]);
        printf("resynth SC %-23s %12.4f %12.4f %10.4f %10.4f dB\n", samples[i], want, now.sc_db[i],
               now.sc_db[i] - want, tol);
        if (!regen) CHECK(fabs(now.sc_db[i] - want) <= tol);
    }
    double thread_rel = 0.0;
    for (int i = 0; i < N_LOSSES; i++) {
        double want = old ? num(old, "train_loss", i) : NAN;
        thread_rel = fmax(thread_rel, fabs(two_threads.loss[i] - now.loss[i]) / now.loss[i]);
        printf("training loss step %-15d %12.6f %12.6f %10.2e %10.0e rel\n", i + 1, want,
               now.loss[i], (now.loss[i] - want) / want, 1e-3);
        if (!regen) CHECK(fabs(now.loss[i] - want) <= 1e-3 * fabs(want));
    }
    printf("(one against two threads: %.1e relative at most)\n", thread_rel);
    int same_codes = 1;
    double worst = 0.0;
    for (int i = 0; i < FWD_T / 2; i++)
        same_codes &= old && (int)num(old, "forward_codes", i) == now.codes[i];
    for (int i = 0; i < M * FWD_T; i++) {
        double d = old ? fabs(num(old, "forward_mel", i) - now.mel[i]) : NAN;
        if (!(d <= worst)) worst = d; /* a missing golden value (NaN) sticks */
    }
    printf("%-34s %12s %12s %10s %10s\n", "forward codes (16)", "", "",
           same_codes ? "same" : "CHANGED", "exact");
    printf("%-34s %12s %12s %10.2e %10.0e abs\n", "forward log-mel (80 x 32), worst", "", "", worst,
           1e-4);
    if (!regen) {
        CHECK(same_codes);
        CHECK(worst <= 1e-4);
    }
    const cJSON *sp = old ? cJSON_GetObjectItemCaseSensitive(old, "convert_mean_log_mel") : NULL;
    for (int k = 0; k < N_SAMPLES; k++) {
        double want[M];
        const cJSON *row = sp ? cJSON_GetArrayItem(sp, k) : NULL;
        for (int b = 0; b < M; b++) {
            const cJSON *x = row ? cJSON_GetArrayItem(row, b) : NULL;
            want[b] = cJSON_IsNumber(x) ? x->valuedouble : NAN;
        }
        double d = spectrum_db(now.spectrum[k], want);
        printf("convert %-9s as %-14s %12s %12s %10.4f %10.2f dB\n", samples[pairs[k][0]],
               samples[pairs[k][1]], "spectrum", "spectrum", d, 0.5);
        if (!regen) CHECK(d <= 0.5);
    }
    if (regen) {
        cJSON *o = to_json(&now);
        char *out = cJSON_Print(o);
        FILE *w = fopen(golden_path, "wb");
        CHECK(w && out && fputs(out, w) >= 0 && fclose(w) == 0);
        printf("wrote %s\n", golden_path);
        free(out);
        cJSON_Delete(o);
    }
    cJSON_Delete(old);
    return test_finish();
}
