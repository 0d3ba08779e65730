/* The training loop: vc_train (include/vconv/vconv.h).
 *
 * Decisions (the numbers are the defines below):
 * - Batches: a speaker is drawn uniformly among the speakers that have a usable training
 *   utterance, then one of its utterances uniformly, so every speaker counts equally however
 *   much audio it has. Utterances shorter than the segment T are not used (count in the log).
 *   The speaker segment has Ts = T frames and its own random start in the same utterance: it
 *   may overlap the content segment (batch.h).
 * - Randomness: the training stream (batches, k-means++ seeding, dead-code re-seeding) comes
 *   from one vc_rng seeded from params.seed and saved in the checkpoint. Parameter init, the
 *   log-magnitude statistics sample and the validation set use streams of their own derived
 *   from the seed, so they never shift the training stream.
 * - Codebook: initialised at step 0 by k-means++ (VCT_KMEANS_ITERS Lloyd iterations) on the
 *   encoder outputs of VCT_INIT_BATCHES batches; quantized from the first step. EMA updates
 *   every step; every VCT_RESEED_EVERY steps codes whose EMA count fell below VCT_RESEED_SHARE
 *   of the uniform share (B T/2 / N frames) are moved onto batch frames.
 * - Optimiser: AdamW (0.9, 0.999, 1e-8), cosine schedule with linear warm-up to 0 at `steps`,
 *   weight decay 0 (the model is small and instance-normalised; decay brought nothing in our
 *   runs and would have to skip biases and norms). The codebook row is not updated by Adam
 *   (the EMA owns it). A step whose gradient norm is not finite is skipped with a warning (it
 *   still counts as a step, so the schedule and the stream stay aligned).
 * - Validation: up to VCT_VAL_SEGMENTS segments (a multiple of B) from the validation
 *   utterances, drawn once; mean mel + lin L1 with quantization on. Also at step 0 of a fresh
 *   run, as the baseline (reported like the others). It changes no state.
 * - Checkpoint (one safetensors file, F32, written atomically): tensors "params", "adam.m",
 *   "adam.v" (whole slabs, padding included), "vq.ema_count" (N), "vq.ema_sum" (N, D),
 *   "norm.mel_mean", "norm.mel_std" (M), "norm.lin_mean", "norm.lin_std" (F); metadata: the
 *   config (vconv.<field>), vconv.ckpt_version, vconv.step, vconv.adam_step, vconv.rng (the
 *   stream state, decimal), vconv.seed, vconv.batch, vconv.segment_frames, vconv.val_share.
 *   Resuming restores all of it; with the same thread count the run continues bit for bit.
 *   Report windows (means, perplexity) restart on resume; they are not training state.
 * - Batch assembly is sequential (one front end): it is cheap next to the model, and order
 *   fixes the results.
 */
#define _POSIX_C_SOURCE 200809L
#include "train/batch.h"

#include "io/corpus.h"
#include "io/features.h"
#include "io/params_file.h"
#include "io/safetensors.h"
#include "model/audio_contract.h"
#include "model/model.h"
#include "nn/adam.h"
#include "nn/vq.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>
#include <time.h>

#define VCT_CKPT_VERSION "1"
#define VCT_VAL_SEGMENTS 64
#define VCT_LIN_STAT_SEGMENTS 200
#define VCT_INIT_BATCHES 4
#define VCT_KMEANS_ITERS 10
#define VCT_RESEED_EVERY 100
#define VCT_RESEED_SHARE 0.05f
#define VCT_WEIGHT_DECAY 0.0f
#define VCT_COLLAPSE_PERPLEXITY 2.0
#define VCT_COLLAPSE_USED 0.05
#define VCT_COLLAPSE_REPORTS 3
/* derived streams: seed XOR a constant (ASCII tags), so each is independent of the others */
#define VCT_SEED_INIT 0x696e6974ull /* "init" */
#define VCT_SEED_VAL 0x76616c00ull  /* "val" */
#define VCT_SEED_LIN 0x6c696e00ull  /* "lin" */

vc_train_params vc_train_default_params(void) {
    vc_train_params p;
    memset(&p, 0, sizeof p);
    p.steps = 20000;
    p.batch = 16;
    p.segment_frames = 128;
    p.lr = 3e-4f;
    p.warmup = 1000;
    p.clip = 1.0f;
    p.val_share = 0.05f;
    p.val_every = 500;
    p.checkpoint_every = 1000;
    p.log_every = 50;
    p.seed = 1;
    return p;
}

typedef struct trainer {
    vc_train_params p;
    char *ckpt_path, *cache_dir, *log_path; /* resolved, owned */
    vcm_model m;
    vcm_workspace ws;
    adamw opt;
    vc_corpus corpus;
    vc_feature_set fs;
    unsigned char *is_val; // (corpus n_utt)
    vc_frontend *fe;
    vct_scratch sc;
    int B, T, Ts, T2;
    int n_spk;      /* speakers with a usable training utterance */
    int *spk_start; // (n_spk + 1) into spk_utt
    int *spk_utt;   // training utterances (fs indices) grouped by speaker
    vct_item *val;  // (n_val)
    int n_val;
    float *x, *pp, *xs, *lin; // (B,M,T) (B,2,T) (B,M,Ts) (B,F,T)
    vct_item *items;          // (B)
    float *vq_scratch;
    float *counts, *win_counts; // (N) batch counts, counts over the report window
    vc_rng rng;
    long step;
    uint64_t seed;
    FILE *log;
    /* report window */
    double w_loss, w_mel, w_lin, w_commit, w_t0, val_loss;
    long w_steps;
    int collapse_streak;
} trainer;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static char *concat(const char *a, const char *b) {
    size_t na = strlen(a), nb = strlen(b);
    char *s = malloc(na + nb + 1);
    if (!s) return NULL;
    memcpy(s, a, na);
    memcpy(s + na, b, nb + 1);
    return s;
}

/* dirname(path) + "/.vconv-cache" */
static char *default_cache_dir(const char *out_model) {
    const char *slash = strrchr(out_model, '/');
    if (!slash) return concat(".", "/.vconv-cache");
    size_t n = (size_t)(slash - out_model);
    char *dir = malloc(n + 2);
    if (!dir) return NULL;
    memcpy(dir, out_model, n);
    dir[n] = 0;
    if (n == 0) strcpy(dir, "/"); /* a model in the root folder */
    char *r = concat(dir, n == 0 ? ".vconv-cache" : "/.vconv-cache");
    free(dir);
    return r;
}

/* Preset, then config_json on top of it. The JSON's own "preset" key may name the start
 * instead; naming two different presets is an error. */
static vc_status make_config(const char *preset, const char *json, vcm_config *c) {
    const char *name = preset ? preset : "default";
    if (!json) return vcm_config_preset(name, c);
    cJSON *root = cJSON_Parse(json);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return vcm_config_from_json(json, c); /* reports the syntax error */
    }
    cJSON *jp = cJSON_GetObjectItemCaseSensitive(root, "preset");
    vc_status st = VC_OK;
    if (jp) {
        if (preset && cJSON_IsString(jp) && strcmp(jp->valuestring, preset) != 0) {
            vc_log(VC_LOG_ERROR, "train: preset \"%s\" given and the config names preset \"%s\"",
                   preset, jp->valuestring);
            st = VC_ERR_ARG;
        }
    } else if (!cJSON_AddStringToObject(root, "preset", name)) {
        st = VC_ERR_NOMEM;
    }
    char *text = st == VC_OK ? cJSON_PrintUnformatted(root) : NULL;
    if (st == VC_OK && !text) st = VC_ERR_NOMEM;
    if (st == VC_OK) st = vcm_config_from_json(text, c);
    free(text);
    cJSON_Delete(root);
    return st;
}

/* A speaker uniformly, then one of its utterances, then the two segment starts. */
static void draw_item(const trainer *t, vc_rng *rng, vct_item *it) {
    int s = (int)(vc_rng_u32(rng) % (uint32_t)t->n_spk);
    int n = t->spk_start[s + 1] - t->spk_start[s];
    it->u = t->spk_utt[t->spk_start[s] + (int)(vc_rng_u32(rng) % (uint32_t)n)];
    /* usable utterances are >= T frames, so these cannot fail */
    vc_status st = vc_features_sample_segment(&t->fs, it->u, t->T, rng, &it->t);
    VC_ASSERT(st == VC_OK);
    st = vc_features_sample_segment(&t->fs, it->u, t->Ts, rng, &it->ts);
    VC_ASSERT(st == VC_OK);
}

static vc_status fill_batch(trainer *t, const vct_item *items) {
    for (int b = 0; b < t->B; b++) {
        vc_status st = vct_fill_item(t->fe, &t->fs, &t->m, &items[b], b, t->B, t->T, t->Ts, &t->sc,
                                     t->x, t->pp, t->xs, t->lin);
        if (st != VC_OK) return st;
    }
    return VC_OK;
}

/* Groups the usable training utterances by speaker; draws the validation segments. */
static vc_status build_sets(trainer *t) {
    int nspk = t->corpus.n_spk, nu = t->fs.n, skipped = 0, n_train = 0;
    t->spk_start = calloc((size_t)nspk + 1, sizeof(int));
    t->spk_utt = malloc(sizeof(int) * (size_t)(nu > 0 ? nu : 1));
    int *val_u = malloc(sizeof(int) * (size_t)(nu > 0 ? nu : 1));
    if (!t->spk_start || !t->spk_utt || !val_u) {
        free(val_u);
        return VC_ERR_NOMEM;
    }
    int n_val_u = 0, val_short = 0;
    for (int s = 0; s < nspk; s++) {
        int before = n_train;
        for (int i = 0; i < nu; i++) {
            const vc_utt_features *u = &t->fs.u[i];
            if (u->speaker != s || t->is_val[u->utt]) continue;
            if (u->T < t->T) {
                skipped++;
                continue;
            }
            t->spk_utt[n_train++] = i;
        }
        if (n_train > before) t->spk_start[++t->n_spk] = n_train;
    }
    for (int i = 0; i < nu; i++) {
        if (!t->is_val[t->fs.u[i].utt]) continue;
        if (t->fs.u[i].T < t->T)
            val_short++;
        else
            val_u[n_val_u++] = i;
    }
    if (skipped || val_short)
        vc_log(VC_LOG_INFO,
               "train: %d training and %d validation utterances shorter than the segment (%d "
               "frames) are not used",
               skipped, val_short, t->T);
    if (n_train == 0) {
        free(val_u);
        vc_log(VC_LOG_ERROR,
               "train: no training utterance has the %d frames a segment needs (%.2f s); use "
               "longer recordings or a shorter segment",
               t->T, (double)t->T * t->m.cfg.hop / t->m.cfg.sample_rate);
        return VC_ERR_AUDIO;
    }
    vc_log(VC_LOG_INFO, "train: %d training utterances of %d speakers, %d for validation", n_train,
           t->n_spk, n_val_u);
    if (n_val_u > 0) {
        int per = VCT_VAL_SEGMENTS / t->B;
        t->n_val = t->B * (per > 0 ? per : 1);
        t->val = malloc(sizeof(vct_item) * (size_t)t->n_val);
        if (!t->val) {
            free(val_u);
            return VC_ERR_NOMEM;
        }
        vc_rng r;
        vc_rng_seed(&r, t->seed ^ VCT_SEED_VAL);
        for (int k = 0; k < t->n_val; k++) { /* round robin over the validation utterances */
            vct_item *it = &t->val[k];
            it->u = val_u[k % n_val_u];
            vc_status st = vc_features_sample_segment(&t->fs, it->u, t->T, &r, &it->t);
            if (st == VC_OK) st = vc_features_sample_segment(&t->fs, it->u, t->Ts, &r, &it->ts);
            VC_ASSERT(st == VC_OK);
        }
    } else {
        vc_log(VC_LOG_WARN, "train: no usable validation utterance: validation is skipped");
    }
    free(val_u);
    return VC_OK;
}

static vc_status lin_stats(trainer *t) {
    int n = VCT_LIN_STAT_SEGMENTS;
    vct_item *items = malloc(sizeof *items * (size_t)n);
    if (!items) return VC_ERR_NOMEM;
    vc_rng r;
    vc_rng_seed(&r, t->seed ^ VCT_SEED_LIN);
    for (int i = 0; i < n; i++) draw_item(t, &r, &items[i]);
    vc_status st =
        vct_lin_stats(t->fe, &t->fs, items, n, t->T, &t->sc, t->m.lin_mean, t->m.lin_std);
    free(items);
    return st;
}

/* k-means++ codebook from the encoder outputs of a few batches (quantization off). */
static vc_status init_codebook(trainer *t) {
    int NB = VCT_INIT_BATCHES, D = t->m.cfg.code_dim;
    size_t per = (size_t)t->B * (size_t)D * (size_t)t->T2;
    float *z = malloc(sizeof(float) * per * (size_t)NB); // (NB B, D, T/2)
    int *idx = malloc(sizeof(int) * (size_t)NB * (size_t)t->B * (size_t)t->T2);
    vc_status st = (z && idx) ? VC_OK : VC_ERR_NOMEM;
    for (int k = 0; k < NB && st == VC_OK; k++) {
        for (int b = 0; b < t->B; b++) draw_item(t, &t->rng, &t->items[b]);
        st = fill_batch(t, t->items);
        if (st != VC_OK) break;
        vcm_forward_train(&t->m, &t->ws, t->x, t->pp, t->xs, t->x, t->lin, 0, NULL);
        memcpy(z + (size_t)k * per, t->ws.z.v, sizeof(float) * per);
    }
    if (st == VC_OK)
        vq_init_from_data(&t->m.vq, VC_VQ_INIT_KMEANS, VCT_KMEANS_ITERS, z, NB * t->B, t->T2,
                          &t->rng, idx, t->vq_scratch);
    free(z);
    free(idx);
    return st;
}

/* Mean mel + lin L1 over the validation segments, quantized; -1 without any. Runs at step 0
 * of a fresh run (the baseline), every val_every steps and at the end. */
static vc_status validate(trainer *t, double *out) {
    *out = -1.0;
    if (t->n_val == 0) return VC_OK;
    double sum = 0, t0 = now_s();
    int nb = t->n_val / t->B;
    for (int k = 0; k < nb; k++) {
        vc_status st = fill_batch(t, t->val + (size_t)k * t->B);
        if (st != VC_OK) return st;
        vcm_losses L;
        vcm_forward_train(&t->m, &t->ws, t->x, t->pp, t->xs, t->x, t->lin, 1, &L);
        sum += L.mel + L.lin;
    }
    *out = sum / nb;
    t->w_t0 += now_s() - t0; /* s_per_step counts training steps only */
    return VC_OK;
}

/* One optimiser step; the losses into *L (skipped: *skipped = 1). */
static vc_status train_step(trainer *t, vcm_losses *L, int *skipped) {
    *skipped = 0;
    for (int b = 0; b < t->B; b++) draw_item(t, &t->rng, &t->items[b]);
    vc_status st = fill_batch(t, t->items);
    if (st != VC_OK) return st;
    vc_params *P = &t->m.params;
    vc_params_zero_grad(P);
    vcm_forward_train(&t->m, &t->ws, t->x, t->pp, t->xs, t->x, t->lin, 1, L);
    vcm_backward(&t->m, &t->ws);
    double norm = grad_clip_norm(P->grad, P->total, t->p.clip);
    if (!isfinite(norm) || !isfinite(L->total)) {
        vc_log(VC_LOG_WARN, "train: step %ld: gradient norm %g, loss %g: step skipped", t->step + 1,
               norm, L->total);
        *skipped = 1;
        return VC_OK;
    }
    float lr = lr_schedule(t->step, t->p.lr, t->p.warmup, t->p.steps, VC_LR_COSINE);
    adamw_begin_step(&t->opt);
    for (int i = 0; i < P->n; i++) {
        if (P->offset[i] == (size_t)(t->m.vq.codebook - P->data)) continue; /* EMA's, not Adam's */
        adamw_update(&t->opt, P->data, P->grad, P->offset[i], vc_param_numel(&P->spec[i]), lr,
                     VCT_WEIGHT_DECAY);
    }
    vq_ema_update(&t->m.vq, t->ws.z.v, t->ws.idx, t->B, t->T2, t->vq_scratch);
    if ((t->step + 1) % VCT_RESEED_EVERY == 0) {
        float thr = VCT_RESEED_SHARE * (float)t->B * (float)t->T2 / (float)t->m.cfg.codebook_size;
        int n = vq_reseed_dead(&t->m.vq, t->ws.z.v, t->B, t->T2, thr, &t->rng);
        if (n > 0) vc_log(VC_LOG_DEBUG, "train: step %ld: %d dead codes re-seeded", t->step + 1, n);
    }
    vq_counts(&t->m.vq, t->counts, t->ws.idx, t->B, t->T2);
    for (int i = 0; i < t->m.cfg.codebook_size; i++) t->win_counts[i] += t->counts[i];
    return VC_OK;
}

static void json_num(FILE *f, const char *key, double v, int last) {
    if (isfinite(v))
        fprintf(f, "\"%s\":%.9g%s", key, v, last ? "" : ",");
    else
        fprintf(f, "\"%s\":null%s", key, last ? "" : ",");
}

static void emit_report(trainer *t, int is_validation) {
    vc_train_report r;
    memset(&r, 0, sizeof r);
    double n = t->w_steps > 0 ? (double)t->w_steps : 1.0, el = now_s() - t->w_t0;
    vq_health h = vq_health_from_counts(t->win_counts, t->m.cfg.codebook_size);
    r.step = t->step;
    r.steps = t->p.steps;
    r.loss = t->w_loss / n;
    r.mel = t->w_mel / n;
    r.lin = t->w_lin / n;
    r.commit = t->w_commit / n;
    r.val_loss = t->val_loss;
    r.perplexity = h.perplexity;
    r.codes_used = h.used;
    r.codebook_size = t->m.cfg.codebook_size;
    long s = t->step > 0 ? t->step - 1 : 0;
    r.lr = lr_schedule(s, t->p.lr, t->p.warmup, t->p.steps, VC_LR_COSINE);
    r.seconds_per_step = t->w_steps > 0 ? el / n : 0.0;
    r.frames_per_second = r.seconds_per_step > 0 ? (double)t->B * t->T / r.seconds_per_step : 0.0;
    r.is_validation = is_validation;
    if (t->w_steps > 0 && !is_validation) {
        if (h.perplexity < VCT_COLLAPSE_PERPLEXITY || h.used_share < VCT_COLLAPSE_USED) {
            if (++t->collapse_streak == VCT_COLLAPSE_REPORTS)
                vc_log(VC_LOG_WARN,
                       "train: step %ld: codebook collapse? perplexity %.2f, %d of %d codes used "
                       "for %d reports in a row",
                       t->step, h.perplexity, h.used, r.codebook_size, VCT_COLLAPSE_REPORTS);
        } else {
            t->collapse_streak = 0;
        }
    }
    if (t->log) {
        fprintf(t->log, "{\"step\":%ld,", r.step);
        json_num(t->log, "loss", r.loss, 0);
        json_num(t->log, "mel", r.mel, 0);
        json_num(t->log, "lin", r.lin, 0);
        json_num(t->log, "commit", r.commit, 0);
        json_num(t->log, "val_loss", r.val_loss >= 0 ? r.val_loss : NAN, 0);
        json_num(t->log, "perplexity", r.perplexity, 0);
        fprintf(t->log, "\"codes_used\":%d,", r.codes_used);
        json_num(t->log, "lr", r.lr, 0);
        json_num(t->log, "s_per_step", r.seconds_per_step, 0);
        json_num(t->log, "frames_per_s", r.frames_per_second, 0);
        fprintf(t->log, "\"validation\":%d}\n", is_validation);
        fflush(t->log);
    }
    if (t->p.report) t->p.report(&r, t->p.report_user);
    if (!is_validation) { /* a new window */
        t->w_loss = t->w_mel = t->w_lin = t->w_commit = 0;
        t->w_steps = 0;
        t->w_t0 = now_s();
        memset(t->win_counts, 0, sizeof(float) * (size_t)t->m.cfg.codebook_size);
    }
}

/* ------------------------------------------------------------------ checkpoint */

static void u64_str(char *buf, size_t cap, uint64_t v) {
    snprintf(buf, cap, "%" PRIu64, v);
}

static vc_status save_checkpoint(const trainer *t) {
    const vcm_model *m = &t->m;
    int N = m->cfg.codebook_size, D = m->cfg.code_dim, M = m->cfg.n_mels, F = m->cfg.n_bins;
    int64_t tot = (int64_t)m->params.total;
    st_tensor_out ts[9] = {
        {"params", 1, {tot}, m->params.data},  {"adam.m", 1, {tot}, t->opt.m},
        {"adam.v", 1, {tot}, t->opt.v},        {"vq.ema_count", 1, {N}, m->ema_count},
        {"vq.ema_sum", 2, {N, D}, m->ema_sum}, {"norm.mel_mean", 1, {M}, m->mel_mean},
        {"norm.mel_std", 1, {M}, m->mel_std},  {"norm.lin_mean", 1, {F}, m->lin_mean},
        {"norm.lin_std", 1, {F}, m->lin_std},
    };
    vcm_config_meta cm;
    vcm_config_to_meta(&m->cfg, &cm);
    char step[32], astep[32], rng[32], seed[32], batch[32], seg[32], vs[32];
    u64_str(step, sizeof step, (uint64_t)t->step);
    u64_str(astep, sizeof astep, (uint64_t)t->opt.step);
    u64_str(rng, sizeof rng, t->rng.s);
    u64_str(seed, sizeof seed, t->seed);
    snprintf(batch, sizeof batch, "%d", t->B);
    snprintf(seg, sizeof seg, "%d", t->T);
    snprintf(vs, sizeof vs, "%.9g", (double)t->p.val_share);
    const char *kv[2 * VCM_CONFIG_META_MAX + 16];
    int n = cm.n;
    memcpy(kv, cm.kv, sizeof(char *) * 2 * (size_t)cm.n);
    const char *extra[] = {"vconv.ckpt_version",
                           VCT_CKPT_VERSION,
                           "vconv.step",
                           step,
                           "vconv.adam_step",
                           astep,
                           "vconv.rng",
                           rng,
                           "vconv.seed",
                           seed,
                           "vconv.batch",
                           batch,
                           "vconv.segment_frames",
                           seg,
                           "vconv.val_share",
                           vs};
    memcpy(kv + 2 * n, extra, sizeof extra);
    n += (int)(sizeof extra / sizeof extra[0] / 2);
    vc_status st = safetensors_write(t->ckpt_path, ts, 9, kv, n, ST_F32);
    if (st != VC_OK) vc_log(VC_LOG_ERROR, "train: cannot write checkpoint %s", t->ckpt_path);
    return st;
}

static int parse_u64(const char *s, uint64_t *out) {
    if (!s || !*s || *s == '-') return 0;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end) return 0;
    *out = (uint64_t)v;
    return 1;
}

static vc_status read_tensor(const st_file *f, const char *path, const char *name, float *dst,
                             size_t n) {
    int i = safetensors_find(f, name);
    if (i < 0) {
        vc_log(VC_LOG_ERROR, "train: checkpoint %s has no tensor \"%s\"", path, name);
        return VC_ERR_SHAPE;
    }
    vc_status st = safetensors_read_f32(f, i, dst, n);
    if (st == VC_ERR_SHAPE)
        vc_log(VC_LOG_ERROR, "train: checkpoint %s: tensor \"%s\" does not fit the model", path,
               name);
    return st;
}

/* Reads the checkpoint's config (to build the model) and checks what must match. */
static vc_status ckpt_open(const char *path, st_file *f, vcm_config *cfg) {
    vc_status st = safetensors_load(path, f);
    if (st != VC_OK) return st;
    const char *ver = safetensors_meta(f, "vconv.ckpt_version");
    if (!ver || strcmp(ver, VCT_CKPT_VERSION) != 0) {
        vc_log(VC_LOG_ERROR, "train: %s: checkpoint version %s, this build reads %s", path,
               ver ? ver : "(none: not a checkpoint)", VCT_CKPT_VERSION);
        vc_log(VC_LOG_ERROR, "HINT: resume with the vconv version that wrote it, or start over");
        safetensors_free(f);
        return VC_ERR_VERSION;
    }
    st = vcm_config_from_meta(f, path, cfg);
    if (st != VC_OK) safetensors_free(f);
    return st;
}

static vc_status ckpt_restore(trainer *t, const st_file *f, const char *path) {
    vcm_model *m = &t->m;
    uint64_t step, astep, rng, seed, batch, seg;
    if (!parse_u64(safetensors_meta(f, "vconv.step"), &step) ||
        !parse_u64(safetensors_meta(f, "vconv.adam_step"), &astep) ||
        !parse_u64(safetensors_meta(f, "vconv.rng"), &rng) ||
        !parse_u64(safetensors_meta(f, "vconv.seed"), &seed) ||
        !parse_u64(safetensors_meta(f, "vconv.batch"), &batch) ||
        !parse_u64(safetensors_meta(f, "vconv.segment_frames"), &seg)) {
        vc_log(VC_LOG_ERROR, "train: checkpoint %s: missing or bad training state metadata", path);
        return VC_ERR_FORMAT;
    }
    if ((int)batch != t->B || (int)seg != t->T) {
        vc_log(VC_LOG_ERROR,
               "train: checkpoint %s was trained with batch %d, segment %d; asked for batch %d, "
               "segment %d",
               path, (int)batch, (int)seg, t->B, t->T);
        return VC_ERR_ARG;
    }
    int N = m->cfg.codebook_size, D = m->cfg.code_dim;
    size_t tot = m->params.total;
    vc_status st = read_tensor(f, path, "params", m->params.data, tot);
    if (st == VC_OK) st = read_tensor(f, path, "adam.m", t->opt.m, tot);
    if (st == VC_OK) st = read_tensor(f, path, "adam.v", t->opt.v, tot);
    if (st == VC_OK) st = read_tensor(f, path, "vq.ema_count", m->ema_count, (size_t)N);
    if (st == VC_OK) st = read_tensor(f, path, "vq.ema_sum", m->ema_sum, (size_t)N * D);
    if (st == VC_OK) st = read_tensor(f, path, "norm.mel_mean", m->mel_mean, (size_t)m->cfg.n_mels);
    if (st == VC_OK) st = read_tensor(f, path, "norm.mel_std", m->mel_std, (size_t)m->cfg.n_mels);
    if (st == VC_OK) st = read_tensor(f, path, "norm.lin_mean", m->lin_mean, (size_t)m->cfg.n_bins);
    if (st == VC_OK) st = read_tensor(f, path, "norm.lin_std", m->lin_std, (size_t)m->cfg.n_bins);
    if (st != VC_OK) return st;
    t->step = (long)step;
    t->opt.step = (long)astep;
    t->rng.s = rng;
    t->seed = seed;
    return VC_OK;
}

static vc_status save_model(const trainer *t) {
    char steps[32], date[32];
    snprintf(steps, sizeof steps, "%ld", t->step);
    time_t now = time(NULL);
    struct tm tm;
    if (!gmtime_r(&now, &tm) || !strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm))
        strcpy(date, "unknown");
    size_t len = 1;
    for (int i = 0; i < t->p.n_data_dirs; i++) len += strlen(t->p.data_dirs[i]) + 1;
    char *corpus = malloc(len);
    if (!corpus) return VC_ERR_NOMEM;
    corpus[0] = 0;
    for (int i = 0; i < t->p.n_data_dirs; i++) { /* folders joined by ';' */
        if (i) strcat(corpus, ";");
        strcat(corpus, t->p.data_dirs[i]);
    }
    const char *kv[] = {"vconv.train_steps",  steps,
                        "vconv.train_corpus", corpus,
                        "vconv.version",      VC_VERSION_STRING,
                        "vconv.train_date",   date};
    vc_status st = vcm_model_save(t->p.out_model, &t->m, kv, 4, 0);
    if (st != VC_OK) vc_log(VC_LOG_ERROR, "train: cannot write model %s", t->p.out_model);
    free(corpus);
    return st;
}

static vc_status save_all(const trainer *t) {
    vc_status st = save_checkpoint(t);
    return st != VC_OK ? st : save_model(t);
}

/* ------------------------------------------------------------------ setup */

static vc_status check_params(const vc_train_params *p) {
    const char *bad = NULL;
    if (!p->data_dirs || p->n_data_dirs < 1)
        bad = "data_dirs";
    else if (!p->out_model || !*p->out_model)
        bad = "out_model";
    else if (p->steps < 0)
        bad = "steps";
    else if (p->batch < 1)
        bad = "batch";
    else if (p->segment_frames < 2 || p->segment_frames % 2)
        bad = "segment_frames (even, >= 2)";
    else if (!(p->lr > 0) || !isfinite(p->lr))
        bad = "lr";
    else if (p->warmup < 0)
        bad = "warmup";
    else if (!(p->clip >= 0))
        bad = "clip";
    else if (!(p->val_share >= 0 && p->val_share < 1))
        bad = "val_share";
    else if (p->val_every < 1 || p->checkpoint_every < 1 || p->log_every < 1)
        bad = "val_every, checkpoint_every, log_every";
    for (int i = 0; !bad && i < p->n_data_dirs; i++)
        if (!p->data_dirs[i]) bad = "data_dirs";
    if (bad) vc_log(VC_LOG_ERROR, "train: invalid parameter: %s", bad);
    return bad ? VC_ERR_ARG : VC_OK;
}

static void trainer_free(trainer *t) {
    free(t->ckpt_path);
    free(t->cache_dir);
    free(t->log_path);
    vcm_workspace_free(&t->ws);
    vcm_model_free(&t->m);
    adamw_free(&t->opt);
    vc_feature_set_free(&t->fs);
    vc_corpus_free(&t->corpus);
    free(t->is_val);
    vc_frontend_free(t->fe);
    vct_scratch_free(&t->sc);
    free(t->spk_start);
    free(t->spk_utt);
    free(t->val);
    free(t->x);
    free(t->pp);
    free(t->xs);
    free(t->lin);
    free(t->items);
    free(t->vq_scratch);
    free(t->counts);
    free(t->win_counts);
    if (t->log) fclose(t->log);
}

static vc_status setup(trainer *t, st_file *ck) {
    const vc_train_params *p = &t->p;
    vcm_config cfg;
    vc_status st = VC_OK;
    if (p->resume) {
        vcm_config ccfg;
        st = ckpt_open(p->resume, ck, &ccfg);
        if (st != VC_OK) return st;
        cfg = ccfg;
        if (p->preset || p->config_json) { /* an explicit config must be the checkpoint's */
            st = make_config(p->preset, p->config_json, &cfg);
            if (st != VC_OK) return st;
            vcm_config_meta a, b;
            vcm_config_to_meta(&cfg, &a);
            vcm_config_to_meta(&ccfg, &b);
            for (int i = 0; i < a.n; i++)
                if (strcmp(a.value[i], b.value[i]) != 0) {
                    vc_log(VC_LOG_ERROR,
                           "train: checkpoint %s has %s = %s, the config asks for %s; resume "
                           "with the checkpoint's config",
                           p->resume, b.key[i], b.value[i], a.value[i]);
                    return VC_ERR_ARG;
                }
        }
        uint64_t seed;
        if (!parse_u64(safetensors_meta(ck, "vconv.seed"), &seed)) {
            vc_log(VC_LOG_ERROR, "train: checkpoint %s has no vconv.seed", p->resume);
            return VC_ERR_FORMAT;
        }
        t->seed = seed; /* the split and the validation set follow the original run */
    } else {
        st = make_config(p->preset, p->config_json, &cfg);
        if (st != VC_OK) return st;
    }
    st = vcm_model_init(&t->m, &cfg, 1);
    if (st != VC_OK) return st;
    vc_rng init;
    vc_rng_seed(&init, t->seed ^ VCT_SEED_INIT);
    vcm_model_randomize(&t->m, &init);
    vc_rng_seed(&t->rng, t->seed);

    vc_frontend_params fp = vcm_frontend_params(&cfg);
    st = vc_frontend_init(&fp, &t->fe);
    if (st != VC_OK) return st;

    st = vc_corpus_scan(p->data_dirs, p->n_data_dirs, &t->corpus);
    if (st != VC_OK) return st;
    vc_feature_stats fst;
    st = vc_features_build(&t->corpus, t->cache_dir, &fp, 0, p->progress, p->progress_user, &t->fs,
                           &fst);
    if (st != VC_OK) return st;
    vc_log(VC_LOG_INFO, "train: features: %d cached, %d computed, %d skipped", fst.hits, fst.misses,
           fst.skipped);
    t->is_val = calloc((size_t)t->corpus.n_utt, 1);
    if (!t->is_val) return VC_ERR_NOMEM;
    if (vc_corpus_split(&t->corpus, p->val_share, t->seed, t->is_val) < 0) return VC_ERR_ARG;
    st = build_sets(t);
    if (st != VC_OK) return st;
    st = vct_scratch_init(&t->sc, &t->fs, cfg.n_fft, cfg.hop, cfg.n_bins);
    if (st != VC_OK) return st;

    int B = t->B, T = t->T, M = cfg.n_mels, F = cfg.n_bins, N = cfg.codebook_size;
    st = vcm_workspace_init(&t->ws, &t->m, B, T, t->Ts);
    if (st != VC_OK) return st;
    st = adamw_init(&t->opt, t->m.params.total, 0.9f, 0.999f, 1e-8f);
    if (st != VC_OK) return st;
    size_t ns = vq_scratch_size(&t->m.vq, VCT_INIT_BATCHES * B, t->T2);
    size_t ns1 = vq_scratch_size(&t->m.vq, B, t->T2);
    t->vq_scratch = malloc(sizeof(float) * (ns > ns1 ? ns : ns1));
    t->x = malloc(sizeof(float) * (size_t)B * M * T);
    t->pp = malloc(sizeof(float) * (size_t)B * 2 * T);
    t->xs = malloc(sizeof(float) * (size_t)B * M * t->Ts);
    t->lin = malloc(sizeof(float) * (size_t)B * F * T);
    t->items = malloc(sizeof(vct_item) * (size_t)B);
    t->counts = calloc((size_t)N, sizeof(float));
    t->win_counts = calloc((size_t)N, sizeof(float));
    if (!t->vq_scratch || !t->x || !t->pp || !t->xs || !t->lin || !t->items || !t->counts ||
        !t->win_counts)
        return VC_ERR_NOMEM;

    if (p->resume) {
        st = ckpt_restore(t, ck, p->resume);
        if (st != VC_OK) return st;
        vc_log(VC_LOG_INFO, "train: resumed from %s at step %ld", p->resume, t->step);
    } else {
        st = vc_features_mel_stats(&t->fs, t->is_val, t->m.mel_mean, t->m.mel_std);
        if (st == VC_OK) st = lin_stats(t);
        if (st == VC_OK) st = init_codebook(t);
        if (st != VC_OK) return st;
    }
    if (*t->log_path) {
        t->log = fopen(t->log_path, p->resume ? "a" : "w");
        if (!t->log) {
            vc_log(VC_LOG_ERROR, "train: cannot open log %s: %s", t->log_path, strerror(errno));
            return VC_ERR_IO;
        }
    }
    return VC_OK;
}

vc_status vc_train(const vc_train_params *params) {
    if (!params) return VC_ERR_ARG;
    vc_status st = check_params(params);
    if (st != VC_OK) return st;
    trainer t;
    memset(&t, 0, sizeof t);
    t.p = *params;
    t.B = params->batch;
    t.T = params->segment_frames;
    t.Ts = t.T;
    t.T2 = t.T / 2;
    t.seed = params->seed;
    t.val_loss = -1.0;
    t.ckpt_path =
        params->checkpoint ? concat(params->checkpoint, "") : concat(params->out_model, ".ckpt");
    t.cache_dir =
        params->cache_dir ? concat(params->cache_dir, "") : default_cache_dir(params->out_model);
    t.log_path =
        params->log_path ? concat(params->log_path, "") : concat(params->out_model, ".log.jsonl");
    st_file ck;
    memset(&ck, 0, sizeof ck);
    if (!t.ckpt_path || !t.cache_dir || !t.log_path)
        st = VC_ERR_NOMEM;
    else
        st = setup(&t, &ck);
    safetensors_free(&ck);

    int stopped = 0;
    if (st == VC_OK && !t.p.resume && t.n_val > 0) { /* the baseline of a fresh run, step 0 */
        st = validate(&t, &t.val_loss);
        if (st == VC_OK) emit_report(&t, 1);
    }
    t.w_t0 = now_s();
    while (st == VC_OK && t.step < t.p.steps) {
        if (t.p.stop && *t.p.stop) {
            stopped = 1;
            break;
        }
        vcm_losses L;
        int skipped;
        st = train_step(&t, &L, &skipped);
        if (st != VC_OK) break;
        t.step++;
        if (!skipped) {
            t.w_loss += L.total;
            t.w_mel += L.mel;
            t.w_lin += L.lin;
            t.w_commit += L.commit;
            t.w_steps++;
        }
        if (t.step % t.p.log_every == 0) emit_report(&t, 0);
        if (t.step == t.p.steps) break; /* the end does the rest */
        if (t.step % t.p.val_every == 0) {
            st = validate(&t, &t.val_loss);
            if (st == VC_OK && t.n_val > 0) emit_report(&t, 1);
        }
        if (st == VC_OK && t.step % t.p.checkpoint_every == 0) st = save_all(&t);
    }
    if (st == VC_OK) {
        if (!stopped) {
            st = validate(&t, &t.val_loss);
            if (st == VC_OK) emit_report(&t, t.n_val > 0);
        }
        if (st == VC_OK) st = save_all(&t);
        if (st == VC_OK && stopped)
            vc_log(VC_LOG_INFO, "train: stopped at step %ld; resume from %s", t.step, t.ckpt_path);
    }
    trainer_free(&t);
    return st;
}
