/* Training checkpoints; layout in checkpoint.h and docs/checkpoint.md. */
#include "io/checkpoint.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define N_TENSORS 9
#define N_DISC_TENSORS 3
#define VAL_CAP 32

typedef enum { K_U64, K_INT, K_LONG, K_FLOAT } setting_kind;

/* The run settings, one row each: the file key, its presence bit, where it lives in vci_run. */
static const struct {
    const char *key;
    unsigned bit;
    setting_kind kind;
    size_t off;
} settings[] = {
    {"vconv.seed", VCI_RUN_SEED, K_U64, offsetof(vci_run, seed)},
    {"vconv.batch", VCI_RUN_BATCH, K_INT, offsetof(vci_run, batch)},
    {"vconv.segment_frames", VCI_RUN_SEGMENT, K_INT, offsetof(vci_run, segment_frames)},
    {"vconv.val_share", VCI_RUN_VAL_SHARE, K_FLOAT, offsetof(vci_run, val_share)},
    {"vconv.steps", VCI_RUN_STEPS, K_LONG, offsetof(vci_run, steps)},
    {"vconv.lr", VCI_RUN_LR, K_FLOAT, offsetof(vci_run, lr)},
    {"vconv.warmup", VCI_RUN_WARMUP, K_INT, offsetof(vci_run, warmup)},
    {"vconv.clip", VCI_RUN_CLIP, K_FLOAT, offsetof(vci_run, clip)},
    {"vconv.val_every", VCI_RUN_VAL_EVERY, K_INT, offsetof(vci_run, val_every)},
    {"vconv.checkpoint_every", VCI_RUN_CKPT_EVERY, K_INT, offsetof(vci_run, checkpoint_every)},
    {"vconv.log_every", VCI_RUN_LOG_EVERY, K_INT, offsetof(vci_run, log_every)},
    {"vconv.speaker_utterance", VCI_RUN_SPK_UTT, K_INT, offsetof(vci_run, speaker_utterance)},
    {"vconv.augment_warp", VCI_RUN_AUG_WARP, K_FLOAT, offsetof(vci_run, augment_warp)},
    {"vconv.augment_pitch", VCI_RUN_AUG_PITCH, K_FLOAT, offsetof(vci_run, augment_pitch)},
    {"vconv.augment_eq_db", VCI_RUN_AUG_EQ, K_FLOAT, offsetof(vci_run, augment_eq_db)},
    {"vconv.denoise", VCI_RUN_DENOISE, K_FLOAT, offsetof(vci_run, denoise)},
    {"vconv.continuous_content", VCI_RUN_CONTINUOUS, K_FLOAT,
     offsetof(vci_run, continuous_content)},
    {"vconv.cycle_content", VCI_RUN_CYCLE_CONTENT, K_FLOAT, offsetof(vci_run, cycle_content)},
    {"vconv.cycle_speaker", VCI_RUN_CYCLE_SPEAKER, K_FLOAT, offsetof(vci_run, cycle_speaker)},
    {"vconv.adversarial", VCI_RUN_ADVERSARIAL, K_FLOAT, offsetof(vci_run, adversarial)},
    {"vconv.phone_loss", VCI_RUN_PHONE_LOSS, K_FLOAT, offsetof(vci_run, phone_loss)},
};
#define N_SETTINGS ((int)(sizeof settings / sizeof settings[0]))

static void format_setting(int i, const vci_run *r, char *buf) {
    const char *p = (const char *)r + settings[i].off;
    switch (settings[i].kind) {
    case K_U64:
        snprintf(buf, VAL_CAP, "%" PRIu64, *(const uint64_t *)(const void *)p);
        break;
    case K_INT:
        snprintf(buf, VAL_CAP, "%d", *(const int *)(const void *)p);
        break;
    case K_LONG:
        snprintf(buf, VAL_CAP, "%ld", *(const long *)(const void *)p);
        break;
    case K_FLOAT:
        snprintf(buf, VAL_CAP, "%.9g", (double)*(const float *)(const void *)p);
        break;
    }
}

static int parse_u64(const char *s, uint64_t *out) {
    if (!s || !*s || *s == '-' || *s == '+' || *s == ' ') return 0;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end) return 0;
    *out = (uint64_t)v;
    return 1;
}

/* One setting from its text; 0 when malformed or out of range. */
static int parse_setting(int i, const char *s, vci_run *r) {
    char *p = (char *)r + settings[i].off;
    uint64_t u;
    switch (settings[i].kind) {
    case K_U64:
        return parse_u64(s, (uint64_t *)(void *)p);
    case K_INT:
        if (!parse_u64(s, &u) || u > INT32_MAX) return 0;
        *(int *)(void *)p = (int)u;
        return 1;
    case K_LONG:
        if (!parse_u64(s, &u) || u > INT64_MAX / 2) return 0;
        *(long *)(void *)p = (long)u;
        return 1;
    case K_FLOAT: {
        if (!s || !*s) return 0;
        char *end;
        errno = 0;
        float v = strtof(s, &end);
        if (errno || *end || !isfinite(v)) return 0;
        *(float *)(void *)p = v;
        return 1;
    }
    }
    return 0;
}

vc_status vci_checkpoint_write(const char *path, const vcm_model *m, const adamw *opt,
                               const vc_params *disc, const adamw *disc_opt,
                               const vci_ckpt_state *s) {
    int N = m->cfg.codebook_size, D = m->cfg.code_dim, M = m->cfg.n_mels, F = m->cfg.n_bins;
    int64_t tot = (int64_t)m->params.total;
    VC_ASSERT(opt->n == m->params.total);
    st_tensor_out ts[N_TENSORS + N_DISC_TENSORS] = {
        {"params", 1, {tot}, m->params.data},  {"adam.m", 1, {tot}, opt->m},
        {"adam.v", 1, {tot}, opt->v},          {"vq.ema_count", 1, {N}, m->ema_count},
        {"vq.ema_sum", 2, {N, D}, m->ema_sum}, {"norm.mel_mean", 1, {M}, m->mel_mean},
        {"norm.mel_std", 1, {M}, m->mel_std},  {"norm.lin_mean", 1, {F}, m->lin_mean},
        {"norm.lin_std", 1, {F}, m->lin_std},
    };
    int n_ts = N_TENSORS;
    if (disc) {
        int64_t dtot = (int64_t)disc->total;
        VC_ASSERT(disc_opt && disc_opt->n == disc->total);
        st_tensor_out dts[N_DISC_TENSORS] = {{"disc.params", 1, {dtot}, disc->data},
                                             {"disc.adam.m", 1, {dtot}, disc_opt->m},
                                             {"disc.adam.v", 1, {dtot}, disc_opt->v}};
        memcpy(ts + n_ts, dts, sizeof dts);
        n_ts += N_DISC_TENSORS;
    }
    vcm_config_meta cm;
    vcm_config_to_meta(&m->cfg, &cm);
    char state[3][VAL_CAP], vals[N_SETTINGS][VAL_CAP];
    snprintf(state[0], VAL_CAP, "%ld", s->step);
    snprintf(state[1], VAL_CAP, "%ld", s->adam_step);
    snprintf(state[2], VAL_CAP, "%" PRIu64, s->rng);
    const char *kv[2 * (VCM_CONFIG_META_MAX + 4 + N_SETTINGS)];
    int n = cm.n;
    memcpy(kv, cm.kv, sizeof(char *) * 2 * (size_t)cm.n);
    const char *fixed[] = {"vconv.ckpt_version", VCI_CKPT_VERSION, "vconv.step", state[0],
                           "vconv.adam_step",    state[1],         "vconv.rng",  state[2]};
    memcpy(kv + 2 * n, fixed, sizeof fixed);
    n += 4;
    for (int i = 0; i < N_SETTINGS; i++) {
        format_setting(i, &s->run, vals[i]);
        kv[2 * n] = settings[i].key;
        kv[2 * n + 1] = vals[i];
        n++;
    }
    vc_status st = vci_safetensors_write(path, ts, n_ts, kv, n, ST_F32);
    if (st != VC_OK) vcu_log(VC_LOG_ERROR, "train: cannot write checkpoint %s", path);
    return st;
}

vc_status vci_checkpoint_open(const char *path, st_file *f, vcm_config *cfg) {
    vc_status st = vci_safetensors_load(path, f);
    if (st != VC_OK) return st;
    const char *ver = vci_safetensors_meta(f, "vconv.ckpt_version");
    if (!ver) /* one line: the command line shows the last error alone */
        vcu_log(VC_LOG_ERROR,
                "train: %s is not a checkpoint (no vconv.ckpt_version: a model file?); resume from "
                "the MODEL.ckpt that training wrote",
                path);
    else if (strcmp(ver, VCI_CKPT_VERSION) != 0)
        vcu_log(VC_LOG_ERROR,
                "train: %s: checkpoint version %s, this build reads %s; resume with the vconv "
                "version that wrote it, or start over",
                path, ver, VCI_CKPT_VERSION);
    if (!ver || strcmp(ver, VCI_CKPT_VERSION) != 0) {
        vci_safetensors_free(f);
        return VC_ERR_VERSION;
    }
    st = vcm_config_from_meta(f, path, cfg);
    if (st != VC_OK) vci_safetensors_free(f);
    return st;
}

vc_status vci_checkpoint_read_state(const st_file *f, const char *path, vci_ckpt_state *s) {
    uint64_t step, astep;
    if (!parse_u64(vci_safetensors_meta(f, "vconv.step"), &step) ||
        !parse_u64(vci_safetensors_meta(f, "vconv.adam_step"), &astep) ||
        !parse_u64(vci_safetensors_meta(f, "vconv.rng"), &s->rng) || step > INT64_MAX / 2 ||
        astep > INT64_MAX / 2) {
        vcu_log(VC_LOG_ERROR, "train: checkpoint %s: missing or bad training state metadata", path);
        return VC_ERR_FORMAT;
    }
    s->step = (long)step;
    s->adam_step = (long)astep;
    s->have = 0;
    for (int i = 0; i < N_SETTINGS; i++) {
        const char *v = vci_safetensors_meta(f, settings[i].key);
        if (!v) continue;
        if (!parse_setting(i, v, &s->run)) {
            vcu_log(VC_LOG_ERROR, "train: checkpoint %s: bad value \"%s\" for %s", path, v,
                    settings[i].key);
            return VC_ERR_FORMAT;
        }
        s->have |= settings[i].bit;
    }
    if ((s->have & VCI_RUN_REQUIRED) != VCI_RUN_REQUIRED) {
        vcu_log(VC_LOG_ERROR, "train: checkpoint %s: missing or bad training state metadata", path);
        return VC_ERR_FORMAT;
    }
    return VC_OK;
}

static vc_status read_tensor(const st_file *f, const char *path, const char *name, float *dst,
                             size_t n) {
    int i = vci_safetensors_find(f, name);
    if (i < 0) {
        vcu_log(VC_LOG_ERROR, "train: checkpoint %s has no tensor \"%s\"", path, name);
        return VC_ERR_SHAPE;
    }
    vc_status st = vci_safetensors_read_f32(f, i, dst, n);
    if (st == VC_ERR_SHAPE)
        vcu_log(VC_LOG_ERROR, "train: checkpoint %s: tensor \"%s\" does not fit the model", path,
                name);
    return st;
}

vc_status vci_checkpoint_restore(const st_file *f, const char *path, vcm_model *m, adamw *opt,
                                 vc_params *disc, adamw *disc_opt) {
    size_t N = (size_t)m->cfg.codebook_size, D = (size_t)m->cfg.code_dim;
    size_t M = (size_t)m->cfg.n_mels, F = (size_t)m->cfg.n_bins, tot = m->params.total;
    VC_ASSERT(opt->n == tot);
    vc_status st = read_tensor(f, path, "params", m->params.data, tot);
    if (st == VC_OK) st = read_tensor(f, path, "adam.m", opt->m, tot);
    if (st == VC_OK) st = read_tensor(f, path, "adam.v", opt->v, tot);
    if (st == VC_OK) st = read_tensor(f, path, "vq.ema_count", m->ema_count, N);
    if (st == VC_OK) st = read_tensor(f, path, "vq.ema_sum", m->ema_sum, N * D);
    if (st == VC_OK) st = read_tensor(f, path, "norm.mel_mean", m->mel_mean, M);
    if (st == VC_OK) st = read_tensor(f, path, "norm.mel_std", m->mel_std, M);
    if (st == VC_OK) st = read_tensor(f, path, "norm.lin_mean", m->lin_mean, F);
    if (st == VC_OK) st = read_tensor(f, path, "norm.lin_std", m->lin_std, F);
    if (st != VC_OK || !disc) return st;
    VC_ASSERT(disc_opt && disc_opt->n == disc->total);
    st = read_tensor(f, path, "disc.params", disc->data, disc->total);
    if (st == VC_OK) st = read_tensor(f, path, "disc.adam.m", disc_opt->m, disc->total);
    if (st == VC_OK) st = read_tensor(f, path, "disc.adam.v", disc_opt->v, disc->total);
    return st;
}
