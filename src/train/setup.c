/* Everything before the first step: configuration, the corpus and its features, the training
 * and validation sets, the data statistics, the codebook's initialisation, and a resume's
 * checks and state (see trainer.h). */
#define _POSIX_C_SOURCE 200809L
#include "train/trainer.h"

#include "model/audio_contract.h"
#include "nn/vq.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

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
 * instead; naming two different presets is an error. The preset used goes to used (cap 16). */
static vc_status make_config(const char *preset, const char *json, vcm_config *c, char *used) {
    const char *name = preset ? preset : "default";
    snprintf(used, 16, "%s", name);
    if (!json) return vcm_config_preset(name, c);
    cJSON *root = cJSON_Parse(json);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return vcm_config_from_json(json, c); /* reports the syntax error */
    }
    cJSON *jp = cJSON_GetObjectItemCaseSensitive(root, "preset");
    vc_status st = VC_OK;
    if (jp) {
        if (cJSON_IsString(jp)) snprintf(used, 16, "%s", jp->valuestring);
        if (preset && cJSON_IsString(jp) && strcmp(jp->valuestring, preset) != 0) {
            vcu_log(VC_LOG_ERROR, "train: preset \"%s\" given and the config names preset \"%s\"",
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
/* Groups the usable training utterances by speaker; draws the validation segments. */
static vc_status build_sets(trainer *t) {
    int nspk = t->corpus.n_spk, nu = t->fs.n, skipped = 0, n_train = 0;
    vct_speakers *sp = &t->spk;
    sp->start = calloc((size_t)nspk + 1, sizeof(int));
    sp->utt = malloc(sizeof(int) * (size_t)(nu > 0 ? nu : 1));
    int *val_u = malloc(sizeof(int) * (size_t)(nu > 0 ? nu : 1));
    if (!sp->start || !sp->utt || !val_u) {
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
            sp->utt[n_train++] = i;
        }
        if (n_train > before) sp->start[++sp->n] = n_train;
    }
    for (int i = 0; i < nu; i++) {
        if (!t->is_val[t->fs.u[i].utt]) continue;
        if (t->fs.u[i].T < t->T)
            val_short++;
        else
            val_u[n_val_u++] = i;
    }
    if (skipped || val_short)
        vcu_log(VC_LOG_INFO,
                "train: %d training and %d validation utterances shorter than the segment (%d "
                "frames) are not used",
                skipped, val_short, t->T);
    if (n_train == 0) {
        free(val_u);
        vcu_log(VC_LOG_ERROR,
                "train: no training utterance has the %d frames a segment needs (%.2f s); use "
                "longer recordings or a shorter segment",
                t->T, (double)t->T * t->m.cfg.hop / t->m.cfg.sample_rate);
        return VC_ERR_AUDIO;
    }
    vcu_log(VC_LOG_INFO, "train: %d training utterances of %d speakers, %d for validation", n_train,
            sp->n, n_val_u);
    if (n_val_u > 0) {
        int per = VCT_VAL_SEGMENTS / t->B;
        t->n_val = t->B * (per > 0 ? per : 1);
        t->val = malloc(sizeof(vct_item) * (size_t)t->n_val);
        if (!t->val) {
            free(val_u);
            return VC_ERR_NOMEM;
        }
        vc_rng r;
        vcu_rng_seed(&r, t->seed ^ VCT_SEED_VAL);
        for (int k = 0; k < t->n_val; k++) { /* round robin over the validation utterances */
            vct_item *it = &t->val[k];
            it->u = it->us = val_u[k % n_val_u];
            vc_status st = vci_features_sample_segment(&t->fs, it->u, t->T, &r, &it->t);
            if (st == VC_OK) st = vci_features_sample_segment(&t->fs, it->u, t->Ts, &r, &it->ts);
            VC_ASSERT(st == VC_OK);
        }
    } else {
        vcu_log(VC_LOG_WARN, "train: no usable validation utterance: validation is skipped");
    }
    free(val_u);
    return VC_OK;
}

static vc_status lin_stats(trainer *t) {
    int n = VCT_LIN_STAT_SEGMENTS;
    vct_item *items = malloc(sizeof *items * (size_t)n);
    if (!items) return VC_ERR_NOMEM;
    vc_rng r;
    vcu_rng_seed(&r, t->seed ^ VCT_SEED_LIN);
    for (int i = 0; i < n; i++) vct_draw_item(&t->fs, &t->spk, t->T, t->Ts, 0, &r, &items[i]);
    vc_status st = vct_lin_stats(t->fe, &t->fs, items, n, t->T, t->m.cfg.envelope, &t->sc,
                                 t->m.lin_mean, t->m.lin_std);
    free(items);
    return st;
}

/* k-means++ codebook from the encoder outputs of a few batches (quantization off). Each rank
 * encodes its slices; rank 0 gathers the frames, runs k-means and broadcasts the result. */
static vc_status init_codebook(trainer *t) {
    int NB = VCT_INIT_BATCHES, D = t->m.cfg.code_dim;
    size_t per_item = (size_t)D * (size_t)t->T2, per = (size_t)t->B * per_item;
    float *z = malloc(sizeof(float) * per * (size_t)NB); // (NB B, D, T/2)
    int *idx = malloc(sizeof(int) * (size_t)NB * (size_t)t->B * (size_t)t->T2);
    vc_status st = (z && idx) ? VC_OK : VC_ERR_NOMEM;
    for (int k = 0; k < NB; k++) { /* every rank runs every iteration: they meet in the gather */
        for (int b = 0; b < t->B; b++)
            vct_draw_item(&t->fs, &t->spk, t->T, t->Ts, t->run.speaker_utterance, &t->rng,
                          &t->items[b]);
        if (st == VC_OK) st = vct_fill_batch(t, t->items);
        if (st == VC_OK) {
            vct_encoder_inputs(t, 0); /* the codes start from speech without noise */
            vcm_forward_train(&t->m, &t->ws, t->xc, t->pp, t->xs, NULL, t->x, t->lin, 0, NULL,
                              NULL);
        }
        st = vct_dist_agree(&t->dist, st);
        if (st != VC_OK) break;
        st = vct_dist_gather_floats(&t->dist, z + (size_t)k * per, t->ws.z.v, t->B, per_item);
    }
    if (st == VC_OK && t->dist.rank == 0)
        vcn_vq_init_from_data(&t->m.vq, VC_VQ_INIT_KMEANS, VCT_KMEANS_ITERS, z, NB * t->B, t->T2,
                              &t->rng, idx, t->vq_scratch);
    if (st == VC_OK) st = vct_bcast_codebook(t);
    free(z);
    free(idx);
    return st;
}

/* Rank 0's parameters and data statistics to every rank (they are computed alike on every
 * rank; rank 0's copy makes it so even where machines round differently). */
static vc_status bcast_model(trainer *t) {
    vcm_model *m = &t->m;
    size_t M = (size_t)m->cfg.n_mels, F = (size_t)m->cfg.n_bins;
    vc_status st = vct_dist_bcast(&t->dist, m->params.data, sizeof(float) * m->params.total);
    if (st == VC_OK) st = vct_dist_bcast(&t->dist, m->mel_mean, sizeof(float) * M);
    if (st == VC_OK) st = vct_dist_bcast(&t->dist, m->mel_std, sizeof(float) * M);
    if (st == VC_OK) st = vct_dist_bcast(&t->dist, m->lin_mean, sizeof(float) * F);
    if (st == VC_OK) st = vct_dist_bcast(&t->dist, m->lin_std, sizeof(float) * F);
    return st;
}

/* Warm start: every tensor of the model file into the fresh model by name (same shape), its
 * data statistics and codebook; tensors the file lacks keep their initialisation. The codebook's
 * EMA state starts as if each code had held its share of a batch's frames, so the first EMA
 * updates move it no faster than in a long run. Each rank reads the file itself. */
static vc_status warm_start(trainer *t) {
    const char *path = t->p.init_model;
    vcm_model f;
    vc_status st = vcm_model_load(path, &f, 0);
    if (st != VC_OK) return st;
    vcm_model *m = &t->m;
    const vcm_config *a = &m->cfg, *b = &f.cfg;
    if (a->sample_rate != b->sample_rate || a->n_fft != b->n_fft || a->hop != b->hop ||
        a->n_mels != b->n_mels || a->fmin != b->fmin || a->fmax != b->fmax ||
        a->f0_min != b->f0_min || a->f0_max != b->f0_max) {
        vcu_log(VC_LOG_ERROR,
                "train: --init %s hears differently (front end) from this run's config", path);
        st = VC_ERR_ARG;
    }
    int copied = 0;
    for (int i = 0; st == VC_OK && i < f.n_spec; i++) {
        int j = 0;
        while (j < m->n_spec && strcmp(m->spec[j].name, f.spec[i].name) != 0) j++;
        size_t n = vcn_param_numel(&f.spec[i]);
        if (j == m->n_spec || vcn_param_numel(&m->spec[j]) != n ||
            memcmp(m->spec[j].shape, f.spec[i].shape, sizeof f.spec[i].shape) != 0) {
            vcu_log(VC_LOG_ERROR,
                    "train: --init %s: tensor %s has no place of its shape in this "
                    "run's model (a different config?)",
                    path, f.spec[i].name);
            st = VC_ERR_SHAPE;
            break;
        }
        memcpy(vcn_params_data(&m->params, j), vcn_params_data(&f.params, i), sizeof(float) * n);
        copied++;
    }
    if (st == VC_OK) {
        size_t M = (size_t)a->n_mels, F = (size_t)a->n_bins, N = (size_t)a->codebook_size;
        memcpy(m->mel_mean, f.mel_mean, sizeof(float) * M);
        memcpy(m->mel_std, f.mel_std, sizeof(float) * M);
        memcpy(m->lin_mean, f.lin_mean, sizeof(float) * F);
        memcpy(m->lin_std, f.lin_std, sizeof(float) * F);
        float share = (float)t->B * (float)t->T2 / (float)N;
        for (size_t k = 0; k < N; k++) {
            m->ema_count[k] = share;
            for (int d = 0; d < a->code_dim; d++)
                m->ema_sum[k * a->code_dim + d] = share * m->vq.codebook[k * a->code_dim + d];
        }
        vcu_log(VC_LOG_INFO, "train: warm start from %s: %d of %d tensors, the rest initialised",
                path, copied, m->n_spec);
    }
    vcm_model_free(&f);
    return st;
}

/* A fresh run's data statistics and codebook (collective: every rank calls it). */
static vc_status fresh_init(trainer *t) {
    if (t->p.init_model) return vct_dist_agree(&t->dist, warm_start(t)); /* not on resume */
    vc_status st = vci_features_mel_stats(&t->fs, t->is_val, t->m.mel_mean, t->m.mel_std);
    if (st == VC_OK) st = lin_stats(t);
    st = vct_dist_agree(&t->dist, st);
    if (st == VC_OK) st = bcast_model(t);
    if (st == VC_OK) st = init_codebook(t);
    return st;
}
/* ------------------------------------------------------------------ settings */

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
    else if (p->speaker_utterance > 1)
        bad = "speaker_utterance (0, 1, or < 0 for the preset's)";
    else if (!(p->augment_warp < 0.5f) || !(p->augment_pitch <= 12.0f) ||
             !(p->augment_eq_db <= 24.0f))
        bad = "augment_warp (< 0.5), augment_pitch (<= 12), augment_eq_db (<= 24)";
    else if (!(p->denoise <= 1.0f))
        bad = "denoise (a probability in [0, 1], or < 0 for off)";
    else if (!(p->continuous_content <= 1.0f))
        bad = "continuous_content (a probability in [0, 1], or < 0 for off)";
    else if (!(p->cycle_content <= VCT_CYCLE_MAX) || !(p->cycle_speaker <= VCT_CYCLE_MAX))
        bad = "cycle_content, cycle_speaker (weights in [0, 100], or < 0 for off)";
    else if (!(p->adversarial <= VCT_ADV_MAX))
        bad = "adversarial (a weight in [0, 10], or < 0 for off)";
    else if (!(p->phone_loss <= VCT_PHONE_MAX))
        bad = "phone_loss (a weight in [0, 10], or < 0 for off)";
    for (int i = 0; !bad && i < p->n_data_dirs; i++)
        if (!p->data_dirs[i]) bad = "data_dirs";
    if (bad) vcu_log(VC_LOG_ERROR, "train: invalid parameter: %s", bad);
    return bad ? VC_ERR_ARG : VC_OK;
}

/* The preset's training-data defaults: on for the default preset, off otherwise (the tiny
 * preset exists for tests and quick runs, whose goldens predate them). */
#define VCT_DEFAULT_WARP 0.15f
#define VCT_DEFAULT_PITCH 2.0f
#define VCT_DEFAULT_EQ_DB 6.0f

static vci_run run_of(const vc_train_params *p, const char *preset) {
    int on = strcmp(preset, "default") == 0;
    vci_run r = {p->seed,
                 p->batch,
                 p->segment_frames,
                 p->val_share,
                 p->steps,
                 p->lr,
                 p->warmup,
                 p->clip,
                 p->val_every,
                 p->checkpoint_every,
                 p->log_every,
                 p->speaker_utterance,
                 p->augment_warp,
                 p->augment_pitch,
                 p->augment_eq_db,
                 p->denoise,
                 p->continuous_content,
                 p->cycle_content,
                 p->cycle_speaker,
                 p->adversarial,
                 p->phone_loss};
    if (r.speaker_utterance < 0) r.speaker_utterance = on;
    if (r.augment_warp < 0) r.augment_warp = on ? VCT_DEFAULT_WARP : 0.0f;
    if (r.augment_pitch < 0) r.augment_pitch = on ? VCT_DEFAULT_PITCH : 0.0f;
    if (r.augment_eq_db < 0) r.augment_eq_db = on ? VCT_DEFAULT_EQ_DB : 0.0f;
    if (r.denoise < 0) r.denoise = 0.0f; /* off unless asked for, whatever the preset */
    if (r.continuous_content < 0) r.continuous_content = 0.0f;
    if (r.cycle_content < 0) r.cycle_content = 0.0f;
    if (r.cycle_speaker < 0) r.cycle_speaker = 0.0f;
    if (r.adversarial < 0) r.adversarial = 0.0f;
    if (r.phone_loss < 0) r.phone_loss = 0.0f;
    return r;
}

/* A run setting the caller gave (mine) against the checkpoint's (theirs); -1 in a
 * training-data option means "the preset's", which never conflicts. */
static int conflict(const char *ckpt, const char *what, double mine, double theirs, int any) {
    if (mine == theirs || (any && mine < 0)) return 0;
    vcu_log(VC_LOG_ERROR,
            "train: checkpoint %s was trained with %s %.9g; asked for %.9g (leave the option out: "
            "a resume takes the run settings from the checkpoint)",
            ckpt, what, theirs, mine);
    return 1;
}

/* Every run setting the checkpoint records must equal the caller's (steps may move). The
 * training-data options absent from older checkpoints were off. */
static vc_status check_resume(const vc_train_params *p, const char *ck, const vci_ckpt_state *s) {
    const vci_run *r = &s->run;
    unsigned h = s->have;
    int bad = conflict(ck, "seed", (double)p->seed, (double)r->seed, 0);
    bad += conflict(ck, "batch", p->batch, r->batch, 0);
    bad += conflict(ck, "segment", p->segment_frames, r->segment_frames, 0);
    bad += conflict(ck, "val_share", p->val_share, r->val_share, 0);
    if (h & VCI_RUN_LR) bad += conflict(ck, "lr", p->lr, r->lr, 0);
    if (h & VCI_RUN_WARMUP) bad += conflict(ck, "warmup", p->warmup, r->warmup, 0);
    if (h & VCI_RUN_CLIP) bad += conflict(ck, "clip", p->clip, r->clip, 0);
    if (h & VCI_RUN_VAL_EVERY) bad += conflict(ck, "val-every", p->val_every, r->val_every, 0);
    if (h & VCI_RUN_CKPT_EVERY)
        bad += conflict(ck, "checkpoint-every", p->checkpoint_every, r->checkpoint_every, 0);
    if (h & VCI_RUN_LOG_EVERY) bad += conflict(ck, "log-every", p->log_every, r->log_every, 0);
    bad += conflict(ck, "speaker-utterance", p->speaker_utterance,
                    h & VCI_RUN_SPK_UTT ? r->speaker_utterance : 0, 1);
    bad += conflict(ck, "augment-warp", p->augment_warp, h & VCI_RUN_AUG_WARP ? r->augment_warp : 0,
                    1);
    bad += conflict(ck, "augment-pitch", p->augment_pitch,
                    h & VCI_RUN_AUG_PITCH ? r->augment_pitch : 0, 1);
    bad +=
        conflict(ck, "augment-eq", p->augment_eq_db, h & VCI_RUN_AUG_EQ ? r->augment_eq_db : 0, 1);
    bad += conflict(ck, "denoise", p->denoise, h & VCI_RUN_DENOISE ? r->denoise : 0, 1);
    bad += conflict(ck, "continuous-content", p->continuous_content,
                    h & VCI_RUN_CONTINUOUS ? r->continuous_content : 0, 1);
    bad += conflict(ck, "cycle-content", p->cycle_content,
                    h & VCI_RUN_CYCLE_CONTENT ? r->cycle_content : 0, 1);
    bad += conflict(ck, "cycle-speaker", p->cycle_speaker,
                    h & VCI_RUN_CYCLE_SPEAKER ? r->cycle_speaker : 0, 1);
    bad += conflict(ck, "adversarial", p->adversarial, h & VCI_RUN_ADVERSARIAL ? r->adversarial : 0,
                    1);
    bad += conflict(ck, "phone-loss", p->phone_loss, h & VCI_RUN_PHONE_LOSS ? r->phone_loss : 0, 1);
    return bad ? VC_ERR_ARG : VC_OK;
}

char *vc_train_checkpoint_path(const vc_train_params *p) {
    if (!p || (!p->checkpoint && !p->out_model)) return NULL;
    return p->checkpoint ? concat(p->checkpoint, "") : concat(p->out_model, ".ckpt");
}

/* The run settings a checkpoint holds, over p's; the training-data options it lacks were off. */
static void apply_checkpoint_run(const vci_ckpt_state *s, vc_train_params *p) {
    const vci_run *r = &s->run;
    unsigned h = s->have;
    p->seed = r->seed;
    p->batch = r->batch;
    p->segment_frames = r->segment_frames;
    p->val_share = r->val_share;
    if (h & VCI_RUN_STEPS) p->steps = r->steps;
    if (h & VCI_RUN_LR) p->lr = r->lr;
    if (h & VCI_RUN_WARMUP) p->warmup = r->warmup;
    if (h & VCI_RUN_CLIP) p->clip = r->clip;
    if (h & VCI_RUN_VAL_EVERY) p->val_every = r->val_every;
    if (h & VCI_RUN_CKPT_EVERY) p->checkpoint_every = r->checkpoint_every;
    if (h & VCI_RUN_LOG_EVERY) p->log_every = r->log_every;
    p->speaker_utterance = h & VCI_RUN_SPK_UTT ? r->speaker_utterance : 0;
    p->augment_warp = h & VCI_RUN_AUG_WARP ? r->augment_warp : 0.0f;
    p->augment_pitch = h & VCI_RUN_AUG_PITCH ? r->augment_pitch : 0.0f;
    p->augment_eq_db = h & VCI_RUN_AUG_EQ ? r->augment_eq_db : 0.0f;
    p->denoise = h & VCI_RUN_DENOISE ? r->denoise : 0.0f;
    p->continuous_content = h & VCI_RUN_CONTINUOUS ? r->continuous_content : 0.0f;
    p->cycle_content = h & VCI_RUN_CYCLE_CONTENT ? r->cycle_content : 0.0f;
    p->cycle_speaker = h & VCI_RUN_CYCLE_SPEAKER ? r->cycle_speaker : 0.0f;
    p->adversarial = h & VCI_RUN_ADVERSARIAL ? r->adversarial : 0.0f;
    p->phone_loss = h & VCI_RUN_PHONE_LOSS ? r->phone_loss : 0.0f;
}

vc_status vc_train_resume_params(const char *ckpt, vc_train_params *p) {
    if (!ckpt || !p) return VC_ERR_ARG;
    st_file f;
    vcm_config cfg;
    vc_status st = vci_checkpoint_open(ckpt, &f, &cfg);
    if (st != VC_OK) return st;
    vci_ckpt_state s;
    memset(&s, 0, sizeof s);
    st = vci_checkpoint_read_state(&f, ckpt, &s);
    vci_safetensors_free(&f);
    if (st == VC_OK) apply_checkpoint_run(&s, p);
    return st;
}

/* The config (from the checkpoint on resume: an explicit one must be the same) and the run
 * settings; on resume also the training state, restored after the model is built. */
static vc_status resolve_run(trainer *t, st_file *ck, vci_ckpt_state *s, vcm_config *cfg) {
    const vc_train_params *p = &t->p;
    char preset[16];
    if (!p->resume) {
        vc_status st = make_config(p->preset, p->config_json, cfg, preset);
        if (st == VC_OK) t->run = run_of(p, preset);
        return st;
    }
    vcm_config ccfg;
    vc_status st = vci_checkpoint_open(p->resume, ck, &ccfg);
    if (st != VC_OK) return st;
    *cfg = ccfg;
    if (p->preset || p->config_json) { /* an explicit config must be the checkpoint's */
        st = make_config(p->preset, p->config_json, cfg, preset);
        if (st != VC_OK) return st;
        cfg->phone_head = ccfg.phone_head; /* the run's phone loss added it (phone_head_of) */
        vcm_config_meta a, b;
        vcm_config_to_meta(cfg, &a);
        vcm_config_to_meta(&ccfg, &b);
        for (int i = 0; i < a.n; i++)
            if (strcmp(a.value[i], b.value[i]) != 0) {
                vcu_log(VC_LOG_ERROR,
                        "train: checkpoint %s has %s = %s, the config asks for %s; resume "
                        "with the checkpoint's config",
                        p->resume, b.key[i], b.value[i], a.value[i]);
                return VC_ERR_ARG;
            }
    }
    st = vci_checkpoint_read_state(ck, p->resume, s);
    if (st == VC_OK) st = check_resume(p, p->resume, s);
    if (st != VC_OK) return st;
    vc_train_params q = *p; /* equal to the checkpoint's where it has them (checked above) */
    apply_checkpoint_run(s, &q);
    q.steps = p->steps;          /* the one setting a resume may move */
    t->run = run_of(&q, "tiny"); /* no preset default is left to apply */
    t->seed = s->run.seed;       /* the split and the validation set follow the original run */
    return VC_OK;
}

/* The phone loss needs labels and the model's phone head: a fresh run adds the head to its
 * config (a resumed one has it from the checkpoint, whose run had the loss). */
static vc_status phone_head_of(trainer *t, vcm_config *cfg) {
    if (t->run.phone_loss <= 0) return VC_OK;
    if (!t->p.phone_labels) {
        vcu_log(VC_LOG_ERROR,
                "train: the phone loss (weight %g) needs its labels: give --phones "
                "DIR (on a resume too)",
                (double)t->run.phone_loss);
        return VC_ERR_ARG;
    }
    cfg->phone_head = 1;
    return VC_OK;
}

/* ------------------------------------------------------------------ setup */

void vct_trainer_free(trainer *t) {
    free(t->ckpt_path);
    free(t->cache_dir);
    free(t->log_path);
    vcm_workspace_free(&t->ws);
    vcm_workspace_free(&t->cyc_ws);
    vcm_model_free(&t->m);
    vcn_adamw_free(&t->opt);
    vci_feature_set_free(&t->fs);
    vci_corpus_free(&t->corpus);
    free(t->is_val);
    vc_frontend_free(t->fe);
    vct_scratch_free(&t->sc);
    free(t->spk.start);
    free(t->spk.utt);
    free(t->val);
    free(t->x);
    if (t->xc != t->x) free(t->xc);
    free(t->pp);
    free(t->xs);
    free(t->lin);
    free(t->items);
    free(t->vq_scratch);
    free(t->win_counts);
    vct_augment_free(&t->aug);
    vct_denoise_free(&t->den);
    vct_retriever_free(&t->ret);
    free(t->r);
    free(t->use);
    free(t->blend);
    free(t->cyc_spk);
    vcm_disc_ws_free(&t->disc_real);
    vcm_disc_ws_free(&t->disc_fake);
    vcm_disc_free(&t->disc);
    vcn_adamw_free(&t->disc_opt);
    free(t->dlin);
    vct_phones_free(&t->phones);
    free(t->ph_labels);
    free(t->zall);
    if (t->log) fclose(t->log);
    vct_dist_free(&t->dist); /* last: it may finalise MPI */
}

/* With several ranks, this rank's share of the feature cache (utterance i goes to rank
 * i % size), so no rank writes a cache file another is reading; the features themselves are
 * dropped, every rank reads them all back from the cache afterwards. */
static vc_status build_share(trainer *t, const vc_frontend_params *fp) {
    const vc_train_params *p = &t->p;
    int R = t->dist.size, r = t->dist.rank;
    vc_corpus share;
    memset(&share, 0, sizeof share);
    share.utt = malloc(sizeof(vc_utterance) * (size_t)(t->corpus.n_utt / R + 1));
    if (!share.utt) return VC_ERR_NOMEM;
    for (int i = r; i < t->corpus.n_utt; i += R) share.utt[share.n_utt++] = t->corpus.utt[i];
    vc_feature_set fs;
    vc_feature_stats fst;
    vc_status st = VC_OK;
    if (share.n_utt > 0)
        st = vci_features_build(&share, t->cache_dir, fp, 0, r == 0 ? p->progress : NULL,
                                p->progress_user, &fs, &fst);
    if (share.n_utt > 0 && st == VC_OK) {
        vcu_log(VC_LOG_INFO, "train: features of rank 0's share: %d cached, %d computed", fst.hits,
                fst.misses);
        vci_feature_set_free(&fs);
    }
    free(share.utt); /* the entries are the corpus's own */
    return st == VC_ERR_AUDIO ? VC_OK
                              : st; /* a share with nothing usable is the full build's call */
}

/* The front end, the corpus, and with several ranks this rank's share of the feature cache. */
static vc_status load_corpus(trainer *t, const vcm_config *c) {
    vcm_config cfg = *c;
    vc_frontend_params fp = vcm_frontend_params(&cfg);
    vc_status st = vc_frontend_init(&fp, &t->fe);
    if (st == VC_OK) st = vci_corpus_scan(t->p.data_dirs, t->p.n_data_dirs, &t->corpus);
    if (st == VC_OK && t->dist.size > 1) st = build_share(t, &fp);
    return st;
}

/* Every utterance's features (from the cache, after the shares), the split and the sets. */
static vc_status load_data(trainer *t, const vcm_config *c) {
    const vc_train_params *p = &t->p;
    vcm_config cfg = *c;
    vc_frontend_params fp = vcm_frontend_params(&cfg);
    vc_feature_stats fst;
    int one = t->dist.size == 1; /* with shares the progress was shown for them */
    vc_status st = vci_features_build(&t->corpus, t->cache_dir, &fp, 0, one ? p->progress : NULL,
                                      p->progress_user, &t->fs, &fst);
    if (st != VC_OK) return st;
    vcu_log(VC_LOG_INFO, "train: features: %d cached, %d computed, %d skipped", fst.hits,
            fst.misses, fst.skipped);
    t->is_val = calloc((size_t)t->corpus.n_utt, 1);
    if (!t->is_val) return VC_ERR_NOMEM;
    if (vci_corpus_split(&t->corpus, t->run.val_share, t->seed, t->is_val) < 0) return VC_ERR_ARG;
    st = build_sets(t);
    if (st == VC_OK && t->run.phone_loss > 0)
        st = vct_phones_load(&t->phones, p->phone_labels, &t->corpus, &t->fs, t->is_val);
    return st;
}

/* Scratch, workspace, optimiser and batch buffers. */
static vc_status alloc_buffers(trainer *t) {
    const vcm_config *c = &t->m.cfg;
    /* batch buffers hold this rank's items; the VQ scratch the whole batch (rank 0 re-seeds
     * and initialises the codebook from it) */
    int B = t->Bl, T = t->T, M = c->n_mels, F = c->n_bins, N = c->codebook_size;
    const vc_frontend_params *fp = vc_frontend_params_of(t->fe);
    vc_status st = vct_scratch_init(&t->sc, &t->fs, fp, c->envelope);
    if (st == VC_OK) st = vcm_workspace_init(&t->ws, &t->m, B, T, t->Ts);
    if (st == VC_OK) st = vcn_adamw_init(&t->opt, t->m.params.total, 0.9f, 0.999f, 1e-8f);
    if (st == VC_OK) st = vct_augment_init(&t->aug, &t->run, M, fp->fmin, fp->fmax, T);
    if (st == VC_OK) /* babble from the training utterances */
        st = vct_denoise_init(&t->den, &t->run, fp, T > t->Ts ? T : t->Ts, &t->fs, t->spk.utt,
                              t->spk.start[t->spk.n]);
    if (st == VC_OK && c->retrieval) st = vct_retriever_init(&t->ret, &t->m, B, T, t->Ts);
    if (st != VC_OK) return st;
    if (c->retrieval) {
        t->r = malloc(sizeof(float) * (size_t)B * (M + 1) * T);
        t->use = malloc((size_t)B);
        if (!t->r || !t->use) return VC_ERR_NOMEM;
    }
    size_t ns = vcn_vq_scratch_size(&t->m.vq, VCT_INIT_BATCHES * t->B, t->T2);
    size_t ns1 = vcn_vq_scratch_size(&t->m.vq, t->B, t->T2);
    t->vq_scratch = malloc(sizeof(float) * (ns > ns1 ? ns : ns1));
    t->x = malloc(sizeof(float) * (size_t)B * M * T);
    /* the content input is the target itself unless it is augmented or corrupted */
    t->xc = t->aug.on || t->den.on ? malloc(sizeof(float) * (size_t)B * M * T) : t->x;
    t->pp = malloc(sizeof(float) * (size_t)B * 2 * T);
    t->xs = malloc(sizeof(float) * (size_t)B * M * t->Ts);
    t->lin = malloc(sizeof(float) * (size_t)B * F * T);
    t->items = malloc(sizeof(vct_item) * (size_t)t->B);
    t->win_counts = calloc((size_t)N, sizeof(float));
    if (t->run.continuous_content > 0 && !(t->blend = malloc(sizeof(float) * (size_t)t->B)))
        return VC_ERR_NOMEM;
    if (t->run.cycle_content > 0 || t->run.cycle_speaker > 0) { /* Ts = T: it reads T frames */
        if ((st = vcm_workspace_init(&t->cyc_ws, &t->m, B, T, T)) != VC_OK) return st;
        if (!(t->cyc_spk = malloc(sizeof(float) * (size_t)B * (size_t)c->spk_dim)))
            return VC_ERR_NOMEM;
    }
    if (t->run.adversarial > 0) { /* the discriminator, from a stream of its own */
        if ((st = vcm_disc_init(&t->disc, F, VCM_DISC_CHANNELS, 1)) != VC_OK ||
            (st = vcm_disc_ws_init(&t->disc_real, &t->disc, B, T)) != VC_OK ||
            (st = vcm_disc_ws_init(&t->disc_fake, &t->disc, B, T)) != VC_OK ||
            (st = vcn_adamw_init(&t->disc_opt, t->disc.params.total, VCM_DISC_BETA1, VCM_DISC_BETA2,
                                 1e-8f)) != VC_OK)
            return st;
        vc_rng drng;
        vcu_rng_seed(&drng, t->seed ^ VCT_SEED_DISC);
        vcm_disc_randomize(&t->disc, &drng);
        if (!(t->dlin = malloc(sizeof(float) * (size_t)B * F * T))) return VC_ERR_NOMEM;
    }
    if (t->run.phone_loss > 0 && !(t->ph_labels = malloc(sizeof(int) * (size_t)B * t->T2)))
        return VC_ERR_NOMEM;
    if (t->dist.size > 1 && t->dist.rank == 0)
        t->zall = malloc(sizeof(float) * (size_t)t->B * (size_t)c->code_dim * (size_t)t->T2);
    if (!t->vq_scratch || !t->x || !t->xc || !t->pp || !t->xs || !t->lin || !t->items ||
        !t->win_counts || (t->dist.size > 1 && t->dist.rank == 0 && !t->zall))
        return VC_ERR_NOMEM;
    return VC_OK;
}

/* The checks before anything is read: the parameters, and a batch every rank has a share of. */
static vc_status check_setup(trainer *t) {
    vc_status st = check_params(&t->p);
    if (st == VC_OK && t->B < t->dist.size) {
        vcu_log(VC_LOG_ERROR,
                "train: batch %d is smaller than the %d ranks: every rank needs at least one "
                "segment of each batch",
                t->B, t->dist.size);
        st = VC_ERR_ARG;
    }
    vct_dist_slice(&t->dist, t->B, &t->b0, &t->Bl);
    return st;
}

/* Every rank runs the same sequence of collectives whatever its status, so a failure on one
 * rank is shared (vct_dist_agree) before the next collective instead of leaving the others
 * waiting in it. */
vc_status vct_setup(trainer *t) {
    const vc_train_params *p = &t->p;
    vc_status st = vct_dist_init(&t->dist);
    if (st != VC_OK) return st;
    st = check_setup(t);
    if (st != VC_OK) return st; /* the same on every rank */
    t->ckpt_path = vc_train_checkpoint_path(p);
    t->cache_dir = p->cache_dir ? concat(p->cache_dir, "") : default_cache_dir(p->out_model);
    t->log_path = p->log_path ? concat(p->log_path, "") : concat(p->out_model, ".log.jsonl");
    if (!t->ckpt_path || !t->cache_dir || !t->log_path) st = VC_ERR_NOMEM;
    st_file ck;
    memset(&ck, 0, sizeof ck);
    vci_ckpt_state s;
    memset(&s, 0, sizeof s);
    vcm_config cfg;
    if (st == VC_OK) st = resolve_run(t, &ck, &s, &cfg); /* before the corpus: errors at once */
    if (st == VC_OK) st = phone_head_of(t, &cfg);
    if (st == VC_OK) st = vcm_model_init(&t->m, &cfg, 1);
    if (st == VC_OK) {
        vc_rng init;
        vcu_rng_seed(&init, t->seed ^ VCT_SEED_INIT);
        vcm_model_randomize(&t->m, &init);
        vcu_rng_seed(&t->rng, t->seed);
        st = load_corpus(t, &cfg);
    }
    st = vct_dist_agree(&t->dist, st); /* every share of the feature cache is written */
    if (st == VC_OK) st = load_data(t, &cfg);
    if (st == VC_OK) st = alloc_buffers(t);
    if (st == VC_OK && p->resume) {
        int adv = t->run.adversarial > 0;
        st = vci_checkpoint_restore(&ck, p->resume, &t->m, &t->opt, adv ? &t->disc.params : NULL,
                                    adv ? &t->disc_opt : NULL);
        t->step = s.step;
        t->opt.step = t->disc_opt.step = s.adam_step;
        t->rng.s = s.rng;
        if (st == VC_OK)
            vcu_log(VC_LOG_INFO, "train: resumed from %s at step %ld", p->resume, t->step);
    }
    st = vct_dist_agree(&t->dist, st);
    if (st == VC_OK && !p->resume) st = fresh_init(t);
    if (st == VC_OK) st = vct_check_same(t);
    vci_safetensors_free(&ck);
    if (st == VC_OK) st = vct_log_open(t);
    return vct_dist_agree(&t->dist, st);
}
