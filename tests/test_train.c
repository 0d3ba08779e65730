/* Training loop: a synthetic multi-speaker corpus trains (validation loss falls), the model
 * file loads, a stopped run resumes bit for bit, bad corpora fail cleanly, the feature cache
 * is reused, and segment magnitudes equal the whole-utterance STFT. */
#define _POSIX_C_SOURCE 200809L
#include "test.h"
#include "tempdir.h"

#include "io/features.h"
#include "io/safetensors.h"
#include "dsp/mel.h"
#include "model/audio_contract.h"
#include "model/model.h"
#include "train/augment.h"
#include "train/batch.h"
#include "train/dist.h"

#include <math.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define SR 16000
#define N_SPK 4
#define N_UTT 4

static void quiet_log(int level, const char *msg, void *user) {
    (void)user;
    if (level <= VC_LOG_WARN) fprintf(stderr, "vconv: %s\n", msg);
}

/* A harmonic "voice": speaker-specific F0 range and spectral tilt / formant, utterance-specific
 * pitch contour and syllable-like amplitude bursts. */
static void synth(float *x, size_t n, int spk, int utt, vc_rng *r) {
    static const double f0s[N_SPK] = {95, 140, 200, 270};
    static const double formant[N_SPK] = {500, 900, 1400, 2200};
    double tilt = 0.6 + 0.3 * spk, f0b = f0s[spk], rate = 2.0 + utt + vcu_rng_uniform(r);
    double syl = 3.0 + 1.5 * vcu_rng_uniform(r), phase = 0, ph0 = VC_TWO_PI * vcu_rng_uniform(r);
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / SR;
        double f0 = f0b * (1.0 + 0.12 * sin(VC_TWO_PI * rate * 0.3 * t + ph0));
        phase += VC_TWO_PI * f0 / SR;
        double env = sin(VC_TWO_PI * syl * 0.5 * t);
        env = env * env * (0.3 + 0.7 * fabs(sin(VC_TWO_PI * 0.7 * t + utt)));
        double s = 0;
        for (int k = 1; k * f0 < 7000; k++) {
            double fk = k * f0, d = (fk - formant[spk]) / 300.0;
            s += (pow(k, -tilt) + 0.5 * exp(-d * d)) * sin(k * phase);
        }
        x[i] = (float)(0.15 * env * s + 0.002 * (vcu_rng_uniform(r) - 0.5));
    }
}

static void make_corpus(const char *dir) {
    vc_rng r;
    vcu_rng_seed(&r, 7);
    char path[1024], name[64];
    mkdir(dir, 0755);
    for (int s = 0; s < N_SPK; s++) {
        snprintf(name, sizeof name, "spk%d", s);
        join(path, sizeof path, dir, name);
        mkdir(path, 0755);
        for (int u = 0; u < N_UTT; u++) {
            size_t n = (size_t)(SR * (1.5 + 1.0 * vcu_rng_uniform(&r)));
            float *x = malloc(sizeof(float) * n);
            synth(x, n, s, u, &r);
            char file[1100];
            snprintf(name, sizeof name, "spk%d/u%d.wav", s, u);
            join(file, sizeof file, dir, name);
            vc_audio a = {x, n, SR};
            CHECK(vc_audio_save(file, &a, VC_AUDIO_PCM16) == VC_OK);
            free(x);
        }
    }
}

typedef struct run_log {
    double first_val, last_val, last_loss;
    int n_val, n_reports;
    int n_cycle; /* training reports with conversion consistency losses > 0 */
    int n_adv;   /* training reports with adversarial losses > 0 */
    int n_phone; /* training reports with a phone loss > 0 over labelled positions */
    long stop_at;
    volatile int *stop;
} run_log;

static void on_report(const vc_train_report *r, void *user) {
    run_log *l = user;
    l->n_reports++;
    if (r->is_validation) {
        if (l->n_val++ == 0) l->first_val = r->val_loss;
        l->last_val = r->val_loss;
    } else {
        l->last_loss = r->loss;
        l->n_cycle += r->cycle && r->cycle_content > 0 && r->cycle_speaker > 0 &&
                      isfinite(r->cycle_content + r->cycle_speaker);
        l->n_adv += r->adversarial && r->gen_adv > 0 && r->gen_fm > 0 && r->disc_real > 0 &&
                    r->disc_fake > 0 &&
                    isfinite(r->gen_adv + r->gen_fm + r->disc_real + r->disc_fake);
        l->n_phone += r->phone_loss && r->phone_xent > 0 && r->phone_labelled > 0 &&
                      r->phone_accuracy >= 0 && r->phone_accuracy <= 1;
    }
    if (l->stop && r->step >= l->stop_at) *l->stop = 1;
}

static const char *TINY = "{\"channels\":16,\"codebook_size\":16,\"spk_channels\":16,"
                          "\"postnet_channels\":16}";

static vc_train_params base_params(const char *const *dirs, const char *out, run_log *l) {
    vc_train_params p = vc_train_default_params();
    p.data_dirs = dirs;
    p.n_data_dirs = 1;
    p.out_model = out;
    p.preset = "tiny";
    p.config_json = TINY;
    p.batch = 8;
    p.segment_frames = 32;
    p.lr = 3e-3f;
    p.warmup = 20;
    p.val_share = 0.2f;
    p.log_every = 10;
    p.val_every = 50;
    p.checkpoint_every = 25;
    p.seed = 3;
    p.report = on_report;
    p.report_user = l;
    return p;
}

static int file_exists(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0;
}

/* inode + mtime of every cache file, summed into a fingerprint */
static unsigned long long cache_fingerprint(const char *dir, int *n) {
    DIR *d = opendir(dir);
    unsigned long long h = 0;
    *n = 0;
    if (!d) return 0;
    char path[1200];
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        join(path, sizeof path, dir, e->d_name);
        struct stat sb;
        if (stat(path, &sb) != 0) continue;
        h += (unsigned long long)sb.st_ino * 1000003ull + (unsigned long long)sb.st_mtim.tv_sec +
             (unsigned long long)sb.st_mtim.tv_nsec * 7ull;
        (*n)++;
    }
    closedir(d);
    return h;
}

static int count_lines(const char *path) {
    FILE *f = fopen(path, "r");
    int lines = 0;
    if (!f) return -1;
    for (int c; (c = fgetc(f)) != EOF;) lines += c == '\n';
    fclose(f);
    return lines;
}

static double secs(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A few hundred steps on the tiny model: the validation loss falls well below its first value
 * (the step-0 baseline), and the model file carries config and statistics. */
static void test_learns(const char *root, const char *const *dirs) {
    char out[1024], cache[1024];
    join(out, sizeof out, root, "learn.safetensors");
    join(cache, sizeof cache, root, ".vconv-cache");
    run_log l = {0};
    vc_train_params p = base_params(dirs, out, &l);
    p.steps = 300;
    p.checkpoint_every = 1000;
    double t0 = secs();
    CHECK(vc_train(&p) == VC_OK);
    double el = secs() - t0;
    fprintf(stderr, "learns: %ld steps in %.2f s, val %.4f -> %.4f (%d validations), loss %.4f\n",
            p.steps, el, l.first_val, l.last_val, l.n_val, l.last_loss);
    /* measured on this corpus: 1.91 -> 1.06 (0.55x); 0.7x leaves room for BLAS and compiler
     * differences while still failing a loop that does not learn */
    CHECK(l.n_val >= 2);
    CHECK(l.last_val < 0.7 * l.first_val);
    CHECK(file_exists(cache));
    vcm_model m;
    CHECK(vcm_model_load(out, &m, 0) == VC_OK);
    CHECK(m.cfg.channels == 16 && m.cfg.codebook_size == 16 && m.cfg.code_dim == 16);
    int stats_set = 0;
    for (int i = 0; i < m.cfg.n_mels; i++) stats_set += m.mel_std[i] != 1.0f && m.mel_mean[i] != 0;
    CHECK(stats_set == m.cfg.n_mels);
    stats_set = 0;
    for (int i = 0; i < m.cfg.n_bins; i++) stats_set += m.lin_std[i] != 1.0f && m.lin_mean[i] != 0;
    CHECK(stats_set == m.cfg.n_bins);
    vcm_model_free(&m);
    char logp[1100];
    snprintf(logp, sizeof logp, "%s.log.jsonl", out);
    CHECK(count_lines(logp) == l.n_reports);
}

/* A checkpoint as the first version wrote it: the same tensors and only the metadata keys
 * it knew (config, version, step, adam_step, rng, seed, batch, segment_frames, val_share). */
static void write_old_checkpoint(const char *from, const char *to) {
    static const char *old_keys[] = {
        "vconv.ckpt_version", "vconv.step",  "vconv.adam_step",      "vconv.rng",
        "vconv.seed",         "vconv.batch", "vconv.segment_frames", "vconv.val_share"};
    st_file f;
    CHECK(vci_safetensors_load(from, &f) == VC_OK);
    st_tensor_out t[16];
    float *buf[16];
    int nt = f.n_tensors;
    CHECK(nt == 9);
    for (int i = 0; i < nt; i++) {
        buf[i] = malloc(sizeof(float) * f.tensors[i].numel);
        CHECK(vci_safetensors_read_f32(&f, i, buf[i], f.tensors[i].numel) == VC_OK);
        t[i].name = f.tensors[i].name;
        t[i].ndim = f.tensors[i].ndim;
        memcpy(t[i].shape, f.tensors[i].shape, sizeof t[i].shape);
        t[i].data = buf[i];
    }
    const char *kv[128];
    int n = 0, new_keys = 0;
    for (int i = 0; i < f.n_meta; i++) {
        int keep = strncmp(f.meta[i].key, "vconv.", 6) == 0; /* the config ... */
        int known = 0;
        for (size_t k = 0; k < sizeof old_keys / sizeof *old_keys; k++)
            known |= !strcmp(f.meta[i].key, old_keys[k]);
        static const char *run_keys[] = {"vconv.steps",
                                         "vconv.lr",
                                         "vconv.warmup",
                                         "vconv.clip",
                                         "vconv.val_every",
                                         "vconv.checkpoint_every",
                                         "vconv.log_every",
                                         "vconv.speaker_utterance",
                                         "vconv.augment_warp",
                                         "vconv.augment_pitch",
                                         "vconv.augment_eq_db",
                                         "vconv.denoise",
                                         "vconv.continuous_content",
                                         "vconv.cycle_content",
                                         "vconv.cycle_speaker",
                                         "vconv.adversarial"};
        for (size_t k = 0; k < sizeof run_keys / sizeof *run_keys; k++)
            if (!strcmp(f.meta[i].key, run_keys[k])) keep = 0, new_keys++;
        if (!keep && !known) continue;
        kv[2 * n] = f.meta[i].key;
        kv[2 * n + 1] = f.meta[i].value;
        n++;
    }
    CHECK(new_keys == 16); /* the new writer records every run setting */
    CHECK(vci_safetensors_write(to, t, nt, kv, n, ST_F32) == VC_OK);
    for (int i = 0; i < nt; i++) free(buf[i]);
    vci_safetensors_free(&f);
}

static int same_params(const char *a, const char *b) {
    vcm_model ma, mb;
    CHECK(vcm_model_load(a, &ma, 0) == VC_OK);
    CHECK(vcm_model_load(b, &mb, 0) == VC_OK);
    int same = ma.params.total == mb.params.total &&
               memcmp(ma.params.data, mb.params.data, sizeof(float) * ma.params.total) == 0 &&
               memcmp(ma.mel_mean, mb.mel_mean, sizeof(float) * (size_t)ma.cfg.n_mels) == 0 &&
               memcmp(ma.lin_std, mb.lin_std, sizeof(float) * (size_t)ma.cfg.n_bins) == 0;
    vcm_model_free(&ma);
    vcm_model_free(&mb);
    return same;
}

/* Every line's (step, validation) pair is new, and steps never go back within a kind. */
static int log_unique(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char line[4096];
    long last[2] = {-1, -1};
    int ok = 1;
    while (fgets(line, sizeof line, f)) {
        long step;
        const char *v = strstr(line, "\"validation\":");
        if (sscanf(line, "{\"step\":%ld,", &step) != 1 || !v) {
            ok = 0;
            continue;
        }
        int k = v[13] == '1';
        if (step <= last[k]) ok = 0;
        last[k] = step;
    }
    fclose(f);
    return ok;
}

/* N steps straight == stop at k (checkpoint) + resume: the same parameters, bit for bit. A stop
 * writes no model unless asked; a checkpoint in the first version's layout resumes the same;
 * the log is cut back to the checkpoint's step. */
static void test_resume(const char *root, const char *const *dirs) {
    char a[1024], b[1024], c[1024], ck[1100], ckc[1100], ckold[1100];
    join(a, sizeof a, root, "straight.safetensors");
    join(b, sizeof b, root, "resumed.safetensors");
    join(c, sizeof c, root, "oldckpt.safetensors");
    snprintf(ck, sizeof ck, "%s.ckpt", b);
    snprintf(ckc, sizeof ckc, "%s.ckpt", c);
    snprintf(ckold, sizeof ckold, "%s.v1.ckpt", c);
    const long N = 60;
    int nc0, nc1;
    char cache[1024];
    join(cache, sizeof cache, root, ".vconv-cache");
    unsigned long long fp0 = cache_fingerprint(cache, &nc0);

    run_log la = {0};
    vc_train_params p = base_params(dirs, a, &la);
    p.steps = N;
    CHECK(vc_train(&p) == VC_OK);
    unsigned long long fp1 = cache_fingerprint(cache, &nc1);
    CHECK(nc0 == N_SPK * N_UTT && nc1 == nc0 && fp1 == fp0); /* cache reused, not rewritten */

    volatile int stop = 0;
    int stopped = 0;
    run_log lb = {0};
    lb.stop = &stop;
    lb.stop_at = 30; /* not a multiple of checkpoint_every: the stop path writes it */
    p = base_params(dirs, b, &lb);
    p.steps = N;
    p.stop = &stop;
    p.stopped = &stopped;
    CHECK(vc_train(&p) == VC_OK);
    CHECK(stopped == 1 && !file_exists(b) && file_exists(ck)); /* no partial model */

    /* the same stop with save_on_interrupt: the model of step 30 under its name */
    stop = 0;
    run_log lb2 = {0};
    lb2.stop = &stop;
    lb2.stop_at = 30;
    p = base_params(dirs, c, &lb2);
    p.steps = N;
    p.stop = &stop;
    p.stopped = &stopped;
    p.save_on_interrupt = 1;
    CHECK(vc_train(&p) == VC_OK);
    CHECK(stopped == 1 && file_exists(c) && file_exists(ckc));
    st_file sf;
    CHECK(vci_safetensors_load(c, &sf) == VC_OK);
    const char *ts = vci_safetensors_meta(&sf, "vconv.train_steps");
    CHECK(ts && !strcmp(ts, "30")); /* stopped between steps 30 and 31 */
    CHECK(vci_safetensors_meta(&sf, "vconv.train_date") &&
          vci_safetensors_meta(&sf, "vconv.version"));
    vci_safetensors_free(&sf);
    write_old_checkpoint(ckc, ckold);

    /* a killed run logs past its checkpoint: those lines (and a half line) must go */
    char logp[1100];
    snprintf(logp, sizeof logp, "%s.log.jsonl", b);
    FILE *lf = fopen(logp, "a");
    CHECK(lf != NULL);
    if (lf) {
        fputs("{\"step\":40,\"loss\":1,\"validation\":0}\n{\"step\":50,\"lo", lf);
        fclose(lf);
    }
    run_log lc = {0};
    p = base_params(dirs, b, &lc);
    p.steps = N;
    p.resume = ck;
    p.stopped = &stopped;
    CHECK(vc_train(&p) == VC_OK);
    CHECK(stopped == 0);
    CHECK(count_lines(logp) == lb.n_reports + lc.n_reports); /* cut back, then appended */
    CHECK(log_unique(logp));
    CHECK(count_matching(root, ".tmp.") == 0); /* no temp file left behind */
    CHECK(same_params(a, b));
    CHECK(la.last_val == lc.last_val && la.n_val >= 1);
    fprintf(stderr, "resume: final val %.6f straight, %.6f resumed\n", la.last_val, lc.last_val);

    /* the first version's checkpoint layout resumes to the same parameters */
    run_log le = {0};
    p = base_params(dirs, c, &le);
    p.steps = N;
    p.resume = ckold;
    CHECK(vc_train(&p) == VC_OK);
    CHECK(same_params(a, c));

    /* another config, another run setting, or a file that is not a checkpoint: clear errors,
     * before the corpus is read (a missing corpus folder would be another error) */
    const char *nowhere[] = {"/nonexistent-vconv-corpus"};
    run_log ld = {0};
    p = base_params(nowhere, b, &ld);
    p.steps = N + 10;
    p.resume = ck;
    p.config_json = "{\"channels\":8}";
    CHECK(vc_train(&p) == VC_ERR_ARG);
    p.config_json = TINY;
    p.batch = 4;
    CHECK(vc_train(&p) == VC_ERR_ARG);
    p.batch = 8;
    p.lr = 1e-3f;
    CHECK(vc_train(&p) == VC_ERR_ARG);
    vc_train_params q = vc_train_default_params();
    CHECK(vc_train_resume_params(ck, &q) == VC_OK);
    CHECK(q.batch == 8 && q.segment_frames == 32 && q.lr == 3e-3f && q.warmup == 20 &&
          q.steps == N && q.seed == 3 && q.val_every == 50 && q.val_share == 0.2f &&
          q.speaker_utterance == 0 && q.augment_warp == 0.0f && q.denoise == 0.0f &&
          q.continuous_content == 0.0f);
    p.lr = 3e-3f;
    p.resume = a; /* a model file */
    CHECK(vc_train(&p) == VC_ERR_VERSION);
}

/* The speaker segment comes from another utterance of the same speaker where there is one,
 * never from another speaker; with the option off the draws are the first version's. */
static void test_draw_items(void) {
    enum { NU = 6 };
    vc_utt_features u[NU];
    memset(u, 0, sizeof u);
    const int spk[NU] = {0, 0, 0, 1, 2, 2}; /* speaker 1 has a single utterance */
    for (int i = 0; i < NU; i++) u[i].speaker = spk[i], u[i].T = 40 + 3 * i, u[i].utt = i;
    vc_feature_set fs = {80, 256, 16000, NU, u};
    int start[4] = {0, 3, 4, 6}, utt[NU] = {0, 1, 2, 3, 4, 5};
    vct_speakers sp = {3, start, utt};
    vc_rng r, r0;
    vcu_rng_seed(&r, test_seed(21));
    int seen[NU][NU];
    memset(seen, 0, sizeof seen);
    int wrong = 0;
    for (int k = 0; k < 3000; k++) {
        vct_item it;
        vct_draw_item(&fs, &sp, 32, 32, 1, &r, &it);
        seen[it.u][it.us]++;
        wrong += u[it.us].speaker != u[it.u].speaker;              /* never another speaker */
        wrong += it.us == it.u && it.u != 3;                       /* another one when there is */
        wrong += it.t + 32 > u[it.u].T || it.ts + 32 > u[it.us].T; /* segments inside */
    }
    CHECK(wrong == 0);
    CHECK(seen[3][3] > 0); /* the single-utterance speaker falls back to its own */
    for (int a = 0; a < NU; a++)
        for (int b = 0; b < NU; b++)
            if (a != b && spk[a] == spk[b]) CHECK(seen[a][b] > 0); /* every other one is drawn */
    /* off: the first version's stream (speaker, utterance, content start, speaker start) */
    vcu_rng_seed(&r, 5);
    vcu_rng_seed(&r0, 5);
    int same = 1;
    for (int k = 0; k < 200; k++) {
        vct_item it;
        vct_draw_item(&fs, &sp, 32, 32, 0, &r, &it);
        int s = (int)(vcu_rng_u32(&r0) % 3u), n = start[s + 1] - start[s];
        int uu = utt[start[s] + (int)(vcu_rng_u32(&r0) % (uint32_t)n)], t, ts;
        CHECK(vci_features_sample_segment(&fs, uu, 32, &r0, &t) == VC_OK);
        CHECK(vci_features_sample_segment(&fs, uu, 32, &r0, &ts) == VC_OK);
        same &= it.u == uu && it.us == uu && it.t == t && it.ts == ts;
    }
    CHECK(same && r.s == r0.s);
}

/* Centre of band m of M over 0..8000 Hz, and the band whose centre is nearest hz. */
static double centre_hz(int m, int M) {
    double lo = vcd_mel_from_hz(0), step = (vcd_mel_from_hz(8000) - lo) / (M + 1);
    return vcd_hz_from_mel(lo + (m + 1) * step);
}

static int band_of(double hz, int M) {
    double lo = vcd_mel_from_hz(0), step = (vcd_mel_from_hz(8000) - lo) / (M + 1), best = 1e30;
    int b = 0;
    for (int m = 0; m < M; m++) {
        double d = fabs(vcd_hz_from_mel(lo + (m + 1) * step) - hz);
        if (d < best) best = d, b = m;
    }
    return b;
}

static int argmax_band(const float *x, int M, int T, int t) {
    int b = 0;
    for (int m = 1; m < M; m++)
        if (x[(size_t)m * T + t] > x[(size_t)b * T + t]) b = m;
    return b;
}

/* Identity at factor 1 without EQ; a spectral peak warped to the expected band; the fine
 * structure alone moved by the pitch ratio; EQ gains in range; off means untouched. */
static void test_augment(void) {
    enum { M = 80, T = 8 };
    vci_run run;
    memset(&run, 0, sizeof run);
    run.augment_warp = 0.15f, run.augment_pitch = 2.0f, run.augment_eq_db = 6.0f;
    vct_augment a;
    CHECK(vct_augment_init(&a, &run, M, 0.0f, 8000.0f, T) == VC_OK);
    float in[M * T], out[M * T], eq[VCT_AUG_EQ_TERMS] = {0, 0, 0, 0};
    vc_rng r;
    vcu_rng_seed(&r, test_seed(4));
    for (int i = 0; i < M * T; i++) in[i] = -8.0f + 9.0f * vcu_rng_uniform(&r);
    double err = 0;
    vct_augment_log_mel(&a, 1.0f, 1.0f, NULL, in, out, T);
    for (int i = 0; i < M * T; i++) err = fmax(err, fabs(out[i] - in[i]));
    vct_augment_log_mel(&a, 1.0f, 1.0f, eq, in, out, T);
    for (int i = 0; i < M * T; i++) err = fmax(err, fabs(out[i] - in[i]));
    CHECK(err < 1e-5);
    /* a broad peak at band p0 (centre near 1500 Hz), warped by the ratio of two band centres,
     * lands on that band: 3 bands up, or 2 down */
    int p0 = band_of(1500, M);
    for (int m = 0; m < M; m++)
        for (int t = 0; t < T; t++)
            in[m * T + t] = (float)(-4.0 + 3.0 * exp(-0.5 * (m - p0) * (m - p0) / 9.0));
    float up = (float)(centre_hz(p0 + 3, M) / centre_hz(p0, M));
    float down = (float)(centre_hz(p0 - 2, M) / centre_hz(p0, M));
    CHECK(up > 1.1f && up < 1.15f && down > 0.9f && down < 0.95f);
    vct_augment_log_mel(&a, up, 1.0f, NULL, in, out, T);
    CHECK(argmax_band(in, M, T, 0) == p0 && argmax_band(out, M, T, 3) == p0 + 3);
    vct_augment_log_mel(&a, down, 1.0f, NULL, in, out, T);
    CHECK(argmax_band(out, M, T, 5) == p0 - 2);
    /* a one-band spike (fine structure) on a flat floor moves with the pitch ratio alone */
    int q0 = band_of(1000, M);
    for (int i = 0; i < M * T; i++) in[i] = -5.0f;
    for (int t = 0; t < T; t++) in[q0 * T + t] = 0.0f;
    float ratio = powf(2.0f, 2.0f / 12.0f);
    vct_augment_log_mel(&a, 1.0f, ratio, NULL, in, out, T);
    CHECK(argmax_band(out, M, T, 0) == band_of(1000 * ratio, M) && band_of(1000 * ratio, M) != q0);
    /* EQ: +6 dB of amplitude at the lowest band when every coefficient is at its maximum */
    for (int k = 0; k < VCT_AUG_EQ_TERMS; k++) eq[k] = 6.0f;
    for (int i = 0; i < M * T; i++) in[i] = -3.0f;
    vct_augment_log_mel(&a, 1.0f, 1.0f, eq, in, out, T);
    CHECK(fabs(out[0] - in[0] - 6.0 * log(10.0) / 20.0) < 1e-5);
    /* a batch: the content input changes, the normalised target does not, and the same seed
     * gives the same bytes */
    float mean[M], std[M], x[2 * M * T], xc[2 * M * T], xc2[2 * M * T], x0[2 * M * T];
    for (int m = 0; m < M; m++) mean[m] = -4.0f + 0.01f * m, std[m] = 1.5f;
    for (int i = 0; i < 2 * M * T; i++) x[i] = x0[i] = vcu_rng_normal(&r);
    vcu_rng_seed(&r, 9);
    vct_augment_batch(&a, &r, mean, std, x, xc, 2, 0, 2, T);
    vcu_rng_seed(&r, 9);
    vct_augment_batch(&a, &r, mean, std, x, xc2, 2, 0, 2, T);
    CHECK(memcmp(x, x0, sizeof x) == 0 && memcmp(xc, xc2, sizeof xc) == 0);
    CHECK(memcmp(xc, x, sizeof xc) != 0);
    /* a data-parallel slice: item 1 alone gets the bytes it gets in the whole batch, and the
     * stream moves as far (every rank draws for every item) */
    uint64_t after = r.s;
    float xs1[M * T];
    vcu_rng_seed(&r, 9);
    vct_augment_batch(&a, &r, mean, std, x + M * T, xs1, 2, 1, 1, T);
    CHECK(memcmp(xs1, xc + M * T, sizeof xs1) == 0 && r.s == after);
    vct_augment_free(&a);
    run.augment_warp = run.augment_pitch = run.augment_eq_db = 0.0f;
    CHECK(vct_augment_init(&a, &run, M, 0.0f, 8000.0f, T) == VC_OK && !a.on);
    uint64_t before = r.s;
    vct_augment_batch(&a, &r, mean, std, x, xc, 2, 0, 2, T); /* off: no draw */
    CHECK(r.s == before);
    vct_augment_free(&a);
}

/* With the speaker branch on other utterances and every augmentation on, a stopped and
 * resumed run still ends bit for bit where a straight one does, and differs from a run
 * without them. */
/* A probability option of the run (the float at offset field of vc_train_params): at 0 a
 * 40-step run gives the parameters of off (the same run without it) bit for bit, at 0.5 other
 * ones, and bad (out of its range) is refused. */
static void check_option(const char *root, const char *const *dirs, const char *off,
                         const char *name, size_t field, float bad) {
    static const float values[2] = {0.0f, 0.5f};
    for (int i = 0; i < 2; i++) {
        char file[64], path[1024];
        snprintf(file, sizeof file, "%s_%d.safetensors", name, i);
        join(path, sizeof path, root, file);
        run_log l = {0};
        vc_train_params q = base_params(dirs, path, &l);
        q.steps = 40;
        float *option = (float *)((char *)&q + field);
        *option = values[i];
        CHECK(vc_train(&q) == VC_OK);
        CHECK(same_params(off, path) == (i == 0));
        if (i == 0) continue;
        *option = bad;
        CHECK(vc_train(&q) == VC_ERR_ARG);
    }
}

/* Phone labels for make_corpus's files in dir/spkS/uU.txt: a few phones in turn, one stressed. */
static void make_labels(const char *dir) {
    static const char *const names[] = {"AA", "IY1", "S", "SIL"};
    char path[1100], name[64];
    mkdir(dir, 0755);
    for (int s = 0; s < N_SPK; s++) {
        snprintf(name, sizeof name, "spk%d", s);
        join(path, sizeof path, dir, name);
        mkdir(path, 0755);
        for (int u = 0; u < N_UTT; u++) {
            snprintf(name, sizeof name, "spk%d/u%d.txt", s, u);
            join(path, sizeof path, dir, name);
            FILE *f = fopen(path, "w");
            if (!f) abort();
            for (int i = 0; i < 30; i++)
                fprintf(f, "%.2f %.2f %s\n", 0.1 * i, 0.1 * (i + 1), names[(i + s + u) % 4]);
            fclose(f);
        }
    }
}

static void test_resume_augmented(const char *root, const char *const *dirs) {
    char a[1024], b[1024], c[1024], ck[1100], labels[1024];
    join(labels, sizeof labels, root, "labels");
    make_labels(labels);
    join(a, sizeof a, root, "aug_straight.safetensors");
    join(b, sizeof b, root, "aug_resumed.safetensors");
    join(c, sizeof c, root, "aug_off.safetensors");
    snprintf(ck, sizeof ck, "%s.ckpt", b);
    run_log la = {0}, lb = {0}, lc = {0}, ld = {0};
    vc_train_params p = base_params(dirs, a, &la);
    p.steps = 40;
    p.speaker_utterance = 1;
    p.augment_warp = 0.15f, p.augment_pitch = 2.0f, p.augment_eq_db = 6.0f;
    p.denoise = 0.5f;
    p.continuous_content = 0.5f;
    p.cycle_content = 1.0f, p.cycle_speaker = 2.0f;
    p.adversarial = 0.5f;
    p.phone_loss = 1.0f, p.phone_labels = labels;
    CHECK(vc_train(&p) == VC_OK);
    CHECK(la.n_cycle > 0 && la.n_adv > 0 && la.n_phone > 0); /* reported, positive and finite */
    volatile int stop = 0;
    lb.stop = &stop;
    lb.stop_at = 20;
    vc_train_params q = p;
    q.out_model = b, q.report_user = &lb, q.stop = &stop, q.save_on_interrupt = 0;
    CHECK(vc_train(&q) == VC_OK);
    vc_train_params rp = vc_train_default_params();
    CHECK(vc_train_resume_params(ck, &rp) == VC_OK);
    CHECK(rp.speaker_utterance == 1 && rp.augment_warp == 0.15f && rp.augment_pitch == 2.0f &&
          rp.augment_eq_db == 6.0f && rp.denoise == 0.5f && rp.continuous_content == 0.5f &&
          rp.cycle_content == 1.0f && rp.cycle_speaker == 2.0f && rp.adversarial == 0.5f &&
          rp.phone_loss == 1.0f);
    q = p; /* another denoising probability is refused, before the corpus is read */
    q.out_model = b, q.report_user = &lc, q.resume = ck, q.denoise = 0.25f;
    CHECK(vc_train(&q) == VC_ERR_ARG);
    q = p; /* so is another continuous-content probability */
    q.out_model = b, q.report_user = &lc, q.resume = ck, q.continuous_content = 0.0f;
    CHECK(vc_train(&q) == VC_ERR_ARG);
    q = p; /* and another conversion consistency weight */
    q.out_model = b, q.report_user = &lc, q.resume = ck, q.cycle_speaker = 1.0f;
    CHECK(vc_train(&q) == VC_ERR_ARG);
    q = p; /* and another adversarial weight */
    q.out_model = b, q.report_user = &lc, q.resume = ck, q.adversarial = 0.0f;
    CHECK(vc_train(&q) == VC_ERR_ARG);
    q = p; /* and another phone-loss weight, or the loss without its labels */
    q.out_model = b, q.report_user = &lc, q.resume = ck, q.phone_loss = 0.5f;
    CHECK(vc_train(&q) == VC_ERR_ARG);
    q.phone_loss = 1.0f, q.phone_labels = NULL;
    CHECK(vc_train(&q) == VC_ERR_ARG);
    q = p;
    q.out_model = b, q.report_user = &lc, q.resume = ck;
    CHECK(vc_train(&q) == VC_OK);
    CHECK(same_params(a, b));
    q = base_params(dirs, c, &ld);
    q.steps = 40;
    CHECK(vc_train(&q) == VC_OK);
    CHECK(!same_params(a, c));
    /* 0 is the run without the option, bit for bit; on, it changes the run */
    check_option(root, dirs, c, "denoise", offsetof(vc_train_params, denoise), 1.5f);
    check_option(root, dirs, c, "continuous", offsetof(vc_train_params, continuous_content), 1.5f);
    check_option(root, dirs, c, "cycle_content", offsetof(vc_train_params, cycle_content), 101.0f);
    check_option(root, dirs, c, "cycle_speaker", offsetof(vc_train_params, cycle_speaker), 101.0f);
    check_option(root, dirs, c, "adversarial", offsetof(vc_train_params, adversarial), 11.0f);
    /* the phone loss with its labels changes the run; with weight 0 they are not read */
    q = base_params(dirs, b, &ld);
    q.steps = 40;
    q.phone_labels = labels;
    CHECK(vc_train(&q) == VC_OK);
    CHECK(same_params(b, c));
    q.phone_loss = 0.5f;
    CHECK(vc_train(&q) == VC_OK);
    CHECK(!same_params(b, c));
    q.phone_loss = 11.0f;
    CHECK(vc_train(&q) == VC_ERR_ARG);
}

static void test_bad_corpora(const char *root) {
    char empty[1024], corrupt[1024], path[1200], out[1200];
    join(empty, sizeof empty, root, "empty");
    join(corrupt, sizeof corrupt, root, "corrupt");
    mkdir(empty, 0755);
    mkdir(corrupt, 0755);
    join(path, sizeof path, corrupt, "spk0");
    mkdir(path, 0755);
    for (int i = 0; i < 3; i++) {
        char f[1300];
        snprintf(f, sizeof f, "%s/bad%d.wav", path, i);
        FILE *fp = fopen(f, "wb");
        if (fp) {
            fputs("RIFF\x10\0\0\0WAVEjunkjunkjunk", fp);
            fclose(fp);
        }
    }
    join(out, sizeof out, root, "bad.safetensors");
    run_log l = {0};
    const char *d1[] = {empty};
    vc_train_params p = base_params(d1, out, &l);
    p.steps = 5;
    vc_status st = vc_train(&p);
    CHECK(st != VC_OK);
    CHECK(!file_exists(out));
    const char *d2[] = {corrupt};
    p.data_dirs = d2;
    st = vc_train(&p);
    CHECK(st == VC_ERR_AUDIO);
    CHECK(!file_exists(out));
}

/* Segment log-magnitudes and WORLD envelopes (the postnet's two targets) equal the whole
 * utterance's frames exactly (start, middle, end). */
static void test_segment_stft(void) {
    vc_frontend_params fp = vc_frontend_default_params();
    vc_frontend *fe;
    CHECK(vc_frontend_init(&fp, &fe) == VC_OK);
    vc_rng r;
    vcu_rng_seed(&r, 11);
    size_t n = SR * 2;
    float *x = malloc(sizeof(float) * n);
    synth(x, n, 1, 2, &r);
    vc_utt_features u;
    CHECK(vci_features_compute(fe, x, n, &u) == VC_OK);
    vc_feature_set fs = {fp.n_mels, fp.hop, fp.sample_rate, 1, &u};
    int F = vc_frontend_n_bins(fe), T = 32;
    vct_scratch sc;
    CHECK(vct_scratch_init(&sc, &fs, &fp, 1) == VC_OK);
    float *whole = malloc(sizeof(float) * (size_t)u.T * F);
    float *env = malloc(sizeof(float) * (size_t)u.T * F);
    float *af = malloc(sizeof(float) * u.n_samples);
    float *seg = malloc(sizeof(float) * (size_t)T * F);
    for (size_t i = 0; i < u.n_samples; i++) af[i] = (float)u.audio[i] / 32767.0f;
    CHECK(vc_frontend_magnitude(fe, af, u.n_samples, whole) == VC_OK);
    vcm_log_magnitude(whole, (size_t)u.T * F);
    int starts[4] = {0, 1, u.T / 2, u.T - T};
    for (int k = 0; k < 4; k++) {
        CHECK(vct_log_magnitude(fe, &u, starts[k], T, &sc, seg) == VC_OK);
        CHECK(memcmp(seg, whole + (size_t)starts[k] * F, sizeof(float) * (size_t)T * F) == 0);
    }
    CHECK(vcd_world_analyze(&sc.wa, af, u.n_samples, u.f0, u.voicing, u.T, env, NULL) == VC_OK);
    int voiced = 0;
    for (int t = 0; t < u.T; t++) voiced += u.f0[t] > 0.0f;
    CHECK(voiced > u.T / 4); /* the envelope is analysed at real periods, not only as noise */
    for (int k = 0; k < 4; k++) {
        CHECK(vct_lin_target(fe, &u, starts[k], T, 1, &sc, seg) == VC_OK);
        CHECK(memcmp(seg, env + (size_t)starts[k] * F, sizeof(float) * (size_t)T * F) == 0);
        CHECK(vct_lin_target(fe, &u, starts[k], T, 0, &sc, seg) == VC_OK);
        CHECK(memcmp(seg, whole + (size_t)starts[k] * F, sizeof(float) * (size_t)T * F) == 0);
    }
    vct_scratch_free(&sc); /* made without the analysis, an envelope is refused */
    CHECK(vct_scratch_init(&sc, &fs, &fp, 0) == VC_OK);
    CHECK(vct_world_envelope(fe, &u, 0, T, &sc, seg) == VC_ERR_ARG);
    free(env);
    free(whole);
    free(af);
    free(seg);
    free(x);
    vct_scratch_free(&sc);
    vci_utt_features_free(&u);
    vc_frontend_free(fe);
}

/* The data-parallel split (train/dist.h): every rank's slice is contiguous, they cover the
 * batch in rank order, and sizes differ by at most one. */
static void test_dist_slice(void) {
    for (int B = 1; B <= 20; B++)
        for (int R = 1; R <= B; R++) {
            int next = 0;
            for (int r = 0; r < R; r++) {
                vct_dist d = {r, R, 0, 0};
                int b0, nb;
                vct_dist_slice(&d, B, &b0, &nb);
                CHECK(b0 == next && (nb == B / R || nb == B / R + 1));
                next = b0 + nb;
            }
            CHECK(next == B);
        }
    vct_dist one; /* a single process: rank 0 of 1, the whole batch */
    CHECK(vct_dist_init(&one) == VC_OK && one.rank == 0 && one.size == 1);
    int b0, nb;
    vct_dist_slice(&one, 7, &b0, &nb);
    CHECK(b0 == 0 && nb == 7 && vct_dist_agree(&one, VC_ERR_IO) == VC_ERR_IO);
    vct_dist_free(&one);
}

int main(void) {
    vc_log_set(quiet_log, NULL);
    char root[] = "/tmp/vconv_test_train_XXXXXX";
    if (!mkdtemp(root)) return 1;
    char corpus[1024];
    join(corpus, sizeof corpus, root, "corpus");
    make_corpus(corpus);
    const char *dirs[] = {corpus};
    double t0 = secs();
    test_segment_stft();
    test_draw_items();
    test_augment();
    test_dist_slice();
    test_learns(root, dirs);
    test_resume(root, dirs);
    test_resume_augmented(root, dirs);
    test_bad_corpora(root);
    fprintf(stderr, "total %.2f s\n", secs() - t0);
    remove_tree(root);
    return test_finish();
}
