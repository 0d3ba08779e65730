/* The training loop: vc_train (include/vconv/vconv.h).
 *
 * Decisions (the numbers are the defines below):
 * - Batches: a speaker is drawn uniformly among the speakers that have a usable training
 *   utterance, then one of its utterances uniformly, so every speaker counts equally however
 *   much audio it has. Utterances shorter than the segment T are not used (count in the log).
 *   The speaker segment has Ts = T frames and its own random start, in another utterance of
 *   the same speaker with speaker_utterance (where the speaker has one), else in the same
 *   utterance, where it may overlap the content segment (batch.h). With augmentation on, the
 *   content encoder reads an augmented copy of the mel target (augment.h); with denoising, both
 *   encoders' inputs are then corrupted by noise (denoise.h); validation never. The codebook's
 *   k-means initialisation reads augmented, never noisy, inputs.
 * - Randomness: the training stream (batches, augmentation, k-means++ seeding, dead-code
 *   re-seeding) comes
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
 * - Retrieval (models with cfg.retrieval, train/retrieve.h): every other item of each batch
 *   (alternating with the step, so each item position sees both) reads frames retrieved from
 *   its speaker segment; the others read none. Validation retrieves for every item, as
 *   conversion does.
 * - Continuous content (run.continuous_content): with that probability an item's decoder reads
 *   its content between its codes and the encoder's continuous output (a uniform blend), so it
 *   learns to render what conversion's content blend gives it, while augmentation keeps the
 *   continuous output's timbre useless to it. The commitment loss and the codebook's EMA read
 *   the codes as before; validation reads codes only.
 * - Adversarial training (run.adversarial, model/disc.h): a discriminator reads each item's
 *   target log-magnitude and the decoded one; its LSGAN loss trains it (AdamW with shorter
 *   moments, the model's learning rate and clip, a step after the model's), and the decoder's
 *   gradient gets the weighted adversarial and feature-matching terms beside the L1 losses.
 *   Its parameters start from a stream of their own and live in the checkpoint; they are not
 *   part of the model file (conversion never runs it).
 * - Phone loss (run.phone_loss, train/phones.h): the model's phone head reads each item's z and
 *   learns the phones of its content segment's labels; its gradient reaches the content
 *   encoder through z. Items without labels add nothing. Validation does not read it.
 * - Validation: up to VCT_VAL_SEGMENTS segments (a multiple of B) from the validation
 *   utterances, drawn once; mean mel + lin L1 with quantization on. Also at step 0 of a fresh
 *   run, as the baseline (reported like the others). It changes no state.
 * - Checkpoint: io/checkpoint.h (layout in docs/checkpoint.md). Written every
 *   checkpoint_every steps, at the end and when stopped; resuming restores all of it and, with
 *   the same thread count, continues the run bit for bit. Report windows (means, perplexity)
 *   restart on resume; they are not training state.
 * - Stop (*p.stop): after the current step the checkpoint is written; the model file only with
 *   save_on_interrupt, so the model's name never holds a run that did not finish unasked.
 * - Batch assembly is sequential (one front end): it is cheap next to the model, and order
 *   fixes the results.
 * - Data parallelism (dist.h, docs/cluster.md): under an MPI launcher B is the global batch;
 *   every rank draws all of it from the same stream and computes its slice [b0, b0 + Bl); the
 *   losses, the gradient slab and the codebook statistics are summed over ranks before they
 *   are used, so every rank makes the update one process would make (up to summation order).
 *   Rank 0 alone reports and writes files. In one process every sum is a no-op.
 */
#define _POSIX_C_SOURCE 200809L
#include "train/trainer.h"

#include "io/corpus.h"
#include "io/safetensors.h"
#include "model/audio_contract.h"
#include "nn/vq.h"

#include <math.h>
#include <string.h>
#include <time.h>

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
    p.speaker_utterance = -1; /* the preset's */
    p.augment_warp = p.augment_pitch = p.augment_eq_db = -1.0f;
    p.denoise = p.continuous_content = -1.0f;
    p.cycle_content = p.cycle_speaker = p.adversarial = p.phone_loss = -1.0f;
    return p;
}

double vct_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

vc_status vct_fill_batch(trainer *t, const vct_item *items) {
    for (int b = 0; b < t->Bl; b++) {
        vc_status st = vct_fill_item(t->fe, &t->fs, &t->m, &items[t->b0 + b], b, t->Bl, t->T, t->Ts,
                                     &t->sc, t->x, t->pp, t->xs, t->lin);
        if (st != VC_OK) return st;
    }
    return VC_OK;
}

/* The rank's share of the global batch: its losses (means over its own items) times this are
 * the global batch means once summed over ranks. 1 in one process. */
static double share(const trainer *t) {
    return (double)t->Bl / (double)t->B;
}

/* Sums v (n values already scaled by share) over ranks, with a failure flag: a rank whose
 * st failed makes every rank return an error here rather than wait in a later collective. */
static vc_status sum_with_status(trainer *t, double *v, int n, vc_status st) {
    double buf[16];
    VC_ASSERT(n < 16);
    memcpy(buf, v, sizeof(double) * (size_t)n);
    buf[n] = st != VC_OK;
    vc_status c = vct_dist_sum_doubles(&t->dist, buf, n + 1);
    if (c != VC_OK) return c;
    memcpy(v, buf, sizeof(double) * (size_t)n);
    if (st != VC_OK) return st;
    if (buf[n] > 0) {
        vcu_log(VC_LOG_ERROR, "train: another rank failed (its message is above)");
        return VC_ERR_INTERNAL;
    }
    return VC_OK;
}

/* Mean mel + lin L1 over the validation segments, quantized; -1 without any. Runs at step 0
 * of a fresh run (the baseline), every val_every steps and at the end. Each rank evaluates
 * its slice of every validation batch. */
static vc_status validate(trainer *t, double *out) {
    *out = -1.0;
    if (t->n_val == 0) return VC_OK;
    double sum = 0, t0 = vct_now();
    int nb = t->n_val / t->B;
    vc_status st = VC_OK;
    for (int k = 0; k < nb && st == VC_OK; k++) {
        st = vct_fill_batch(t, t->val + (size_t)k * t->B);
        if (st != VC_OK) break;
        vcm_losses L;
        if (t->r) vct_retrieve(&t->ret, &t->m, t->x, t->xs, t->Bl, NULL, t->r);
        vcm_forward_train(&t->m, &t->ws, t->x, t->pp, t->xs, t->r, t->x, t->lin, 1, NULL, &L);
        sum += share(t) * (L.mel + L.lin);
    }
    st = sum_with_status(t, &sum, 1, st);
    if (st != VC_OK) return st;
    *out = sum / nb;
    t->w_t0 += vct_now() - t0; /* s_per_step counts training steps only */
    return VC_OK;
}

/* The losses, gradient and codebook statistics of the global batch from every rank's share;
 * the gradient slab in one call. The phone loss's means become the whole batch's, over its
 * labelled positions. */
static vc_status sum_over_ranks(trainer *t, vcm_losses *L, vcm_cycle_losses *C, vcm_adv_losses *A,
                                vcm_phone_losses *P, vc_status st) {
    double w = share(t);
    double v[10] = {L->mel * w,     L->lin * w,    L->commit * w, L->total * w, C->content * w,
                    C->speaker * w, A->d_real * w, A->d_fake * w, A->g_adv * w, A->g_fm * w};
    st = sum_with_status(t, v, 10, st); /* after it every rank has the same status */
    if (st == VC_OK && t->ph_labels && t->dist.size > 1) { /* the phone loss's, as counts */
        double ph[3] = {P->xent * (double)P->labelled, P->accuracy * (double)P->labelled,
                        (double)P->labelled};
        st = vct_dist_sum_doubles(&t->dist, ph, 3);
        P->labelled = (long)ph[2];
        P->xent = ph[2] > 0 ? ph[0] / ph[2] : 0.0;
        P->accuracy = ph[2] > 0 ? ph[1] / ph[2] : 0.0;
    }
    if (st != VC_OK || t->dist.size == 1) return st;
    L->mel = v[0], L->lin = v[1], L->commit = v[2], L->total = v[3];
    C->content = v[4], C->speaker = v[5];
    A->d_real = v[6], A->d_fake = v[7], A->g_adv = v[8], A->g_fm = v[9];
    vc_params *S[2] = {&t->m.params, t->dlin ? &t->disc.params : NULL};
    float wf = (float)w;
    for (int k = 0; k < 2 && st == VC_OK; k++) {
        if (!S[k]) continue;
        if (wf != 1.0f)
            for (size_t i = 0; i < S[k]->total; i++) S[k]->grad[i] *= wf;
        st = vct_dist_sum_floats(&t->dist, S[k]->grad, S[k]->total);
    }
    return st;
}

/* Every VCT_RESEED_EVERY steps: dead codes re-seeded on rank 0 from the whole batch's frames,
 * then broadcast (the draws move rank 0's stream, so the stream goes too). */
static vc_status reseed(trainer *t) {
    size_t per = (size_t)t->m.cfg.code_dim * (size_t)t->T2;
    float *z = t->zall ? t->zall : t->ws.z.v;
    vc_status st = vct_dist_gather_floats(&t->dist, z, t->ws.z.v, t->B, per);
    if (st != VC_OK) return st;
    if (t->dist.rank == 0) {
        float thr = VCT_RESEED_SHARE * (float)t->B * (float)t->T2 / (float)t->m.cfg.codebook_size;
        int n = vcn_vq_reseed_dead(&t->m.vq, z, t->B, t->T2, thr, &t->rng);
        if (n > 0)
            vcu_log(VC_LOG_DEBUG, "train: step %ld: %d dead codes re-seeded", t->step + 1, n);
    }
    return vct_bcast_codebook(t);
}

vc_status vct_bcast_codebook(trainer *t) {
    const vq *q = &t->m.vq;
    size_t nd = sizeof(float) * (size_t)q->N * (size_t)q->D;
    vc_status st = vct_dist_bcast(&t->dist, q->codebook, nd);
    if (st == VC_OK) st = vct_dist_bcast(&t->dist, q->ema_sum, nd);
    if (st == VC_OK) st = vct_dist_bcast(&t->dist, q->ema_count, sizeof(float) * (size_t)q->N);
    if (st == VC_OK) st = vct_dist_bcast(&t->dist, &t->rng.s, sizeof t->rng.s);
    return st;
}

vc_status vct_check_same(trainer *t) {
    if (t->dist.size == 1) return VC_OK; /* nothing to compare, no hash to compute */
    const vq *q = &t->m.vq;
    uint64_t h = vci_fnv1a64(VC_FNV_OFFSET, t->m.params.data, sizeof(float) * t->m.params.total);
    h = vci_fnv1a64(h, q->ema_count, sizeof(float) * (size_t)q->N);
    h = vci_fnv1a64(h, q->ema_sum, sizeof(float) * (size_t)q->N * (size_t)q->D);
    h = vci_fnv1a64(h, &t->rng.s, sizeof t->rng.s);
    int same;
    vc_status st = vct_dist_same_u64(&t->dist, h, &same);
    if (st == VC_OK && !same) {
        vcu_log(VC_LOG_ERROR,
                "train: step %ld: the %d ranks no longer hold the same parameters (hash of rank "
                "%d: %016llx); stopping. Resume from the last checkpoint; if it recurs, the "
                "ranks' machines compute differently (mixed CPUs or libraries)",
                t->step, t->dist.size, t->dist.rank, (unsigned long long)h);
        st = VC_ERR_INTERNAL;
    }
    return st;
}

void vct_encoder_inputs(trainer *t, int noisy) {
    size_t n = (size_t)t->Bl * (size_t)t->m.cfg.n_mels * (size_t)t->T;
    if (t->aug.on)
        vct_augment_batch(&t->aug, &t->rng, t->m.mel_mean, t->m.mel_std, t->x, t->xc, t->B, t->b0,
                          t->Bl, t->T);
    else if (t->xc != t->x)
        memcpy(t->xc, t->x, sizeof(float) * n); /* its own array for the noise (setup.c) */
    if (noisy)
        vct_denoise_batch(&t->den, &t->rng, t->m.mel_mean, t->m.mel_std, t->xc, t->T, t->xs, t->Ts,
                          t->B, t->b0, t->Bl);
}

/* Continuous content (run.continuous_content = P): each item of the global batch reads
 * code + a (z - code) with probability P, a uniform in [0, 1], else its codes. Two draws per
 * item from the training stream, on every rank, after the encoder inputs' draws; none when off,
 * so runs without it keep their stream. */
static void draw_blends(trainer *t) {
    for (int b = 0; b < t->B; b++) {
        float u_on = vcu_rng_uniform(&t->rng), a = vcu_rng_uniform(&t->rng);
        t->blend[b] = u_on < t->run.continuous_content ? a : 0.0f;
    }
}

/* Conversion consistency (run.cycle_content, run.cycle_speaker): after the training forward,
 * each item's content (what its decoder read) is decoded again in the voice of its partner
 * (vcm_cycle_voices) and read back through both encoders (model.h, vcm_forward_cycle); its
 * gradient goes to the decoder alone. Pairs lie within a rank's slice: with slices of even size
 * they are those of one process. No draws from the stream. Losses (unweighted) into *C. */
static void cycle_pass(trainer *t, vcm_cycle_losses *C) {
    vcm_cycle_voices(t->ws.spk.v, t->Bl, t->m.cfg.spk_dim, t->cyc_spk);
    vcm_forward_cycle(&t->m, &t->cyc_ws, t->ws.zin, t->cyc_spk, t->pp, t->ws.z.v,
                      t->run.cycle_content, t->run.cycle_speaker, C);
    vcm_backward_cycle(&t->m, &t->cyc_ws);
}

/* Adversarial training (run.adversarial, model/disc.h): the discriminator reads the targets'
 * and the decoded log-magnitudes; the decoder's gradient from it (fool it, match its features)
 * into t->dlin, the discriminator's own (tell them apart) into its gradient slab. No draws from
 * the stream. Losses (unweighted) into *A. */
static void adversarial_pass(trainer *t, vcm_adv_losses *A) {
    size_t n = (size_t)t->Bl * (size_t)t->m.cfg.n_bins * (size_t)t->T;
    memset(t->dlin, 0, sizeof(float) * n);
    vcm_disc_pass(&t->disc, &t->disc_real, &t->disc_fake, t->lin, t->ws.lin.v, t->Bl, t->T,
                  t->run.adversarial, t->dlin, A);
}

/* The discriminator's step, after the model's, with the same learning rate and clip. */
static void disc_update(trainer *t, float lr) {
    vc_params *D = &t->disc.params;
    double norm = vcn_grad_clip_norm(D->grad, D->total, t->run.clip);
    vcn_adamw_begin_step(&t->disc_opt);
    if (!isfinite(norm)) return; /* counted like the model's, so both keep one step count */
    for (int i = 0; i < D->n; i++)
        vcn_adamw_update(&t->disc_opt, D->data, D->grad, D->offset[i], vcn_param_numel(&D->spec[i]),
                         lr, VCT_WEIGHT_DECAY);
}

/* The phone loss (run.phone_loss, model.h): each item's code labels from its content segment,
 * then the head's pass over z, whose gradient vcm_backward adds. No draws from the stream. */
static void phone_pass(trainer *t, vcm_phone_losses *P) {
    for (int b = 0; b < t->Bl; b++) {
        const vct_item *it = &t->items[t->b0 + b];
        vct_phones_codes(&t->phones, it->u, it->t, t->T2, t->ph_labels + (size_t)b * t->T2);
    }
    vcm_forward_phones(&t->m, &t->ws, t->ph_labels, t->run.phone_loss, P);
}

/* One optimiser step; the losses into *L, *C, *A and *Ph (skipped: *skipped = 1). Every rank
 * draws the whole batch and computes its slice; the sums over ranks follow. */
static vc_status train_step(trainer *t, vcm_losses *L, vcm_cycle_losses *C, vcm_adv_losses *A,
                            vcm_phone_losses *Ph, int *skipped) {
    *skipped = 0;
    for (int b = 0; b < t->B; b++)
        vct_draw_item(&t->fs, &t->spk, t->T, t->Ts, t->run.speaker_utterance, &t->rng,
                      &t->items[b]);
    vc_params *P = &t->m.params;
    vc_status st = vct_fill_batch(t, t->items);
    if (st == VC_OK) {
        vct_encoder_inputs(t, 1);
        if (t->r) { /* every other item of the global batch, alternating by step */
            for (int b = 0; b < t->Bl; b++) t->use[b] = (t->step + t->b0 + b) % 2 == 0;
            vct_retrieve(&t->ret, &t->m, t->xc, t->xs, t->Bl, t->use, t->r);
        }
        if (t->blend) draw_blends(t);
        vcn_params_zero_grad(P);
        vcm_forward_train(&t->m, &t->ws, t->xc, t->pp, t->xs, t->r, t->x, t->lin, 1,
                          t->blend ? t->blend + t->b0 : NULL, L);
        if (t->ph_labels) phone_pass(t, Ph);
        if (t->cyc_spk) cycle_pass(t, C);
        if (t->dlin) adversarial_pass(t, A);
        vcm_backward_with(&t->m, &t->ws, t->dlin);
    }
    st = sum_over_ranks(t, L, C, A, Ph, st);
    if (st != VC_OK) return st;
    double norm = vcn_grad_clip_norm(P->grad, P->total, t->run.clip);
    if (!isfinite(norm) || !isfinite(L->total) || !isfinite(C->content + C->speaker) ||
        !isfinite(A->g_adv + A->g_fm) || !isfinite(Ph->loss)) {
        vcu_log(VC_LOG_WARN, "train: step %ld: gradient norm %g, loss %g: step skipped",
                t->step + 1, norm, L->total);
        *skipped = 1;
        return VC_OK;
    }
    float lr = vcn_lr_schedule(t->step, t->run.lr, t->run.warmup, t->p.steps, VC_LR_COSINE);
    vcn_adamw_begin_step(&t->opt);
    for (int i = 0; i < P->n; i++) {
        if (!vcn_params_trainable(P, i)) continue; /* the codebook: its EMA owns it */
        vcn_adamw_update(&t->opt, P->data, P->grad, P->offset[i], vcn_param_numel(&P->spec[i]), lr,
                         VCT_WEIGHT_DECAY);
    }
    if (t->dlin) disc_update(t, lr);
    vq *q = &t->m.vq;
    float *stats = t->vq_scratch, *counts = stats + (size_t)q->D * q->N;
    vcn_vq_ema_stats(q, stats, t->ws.z.v, t->ws.idx, t->Bl, t->T2);
    st = vct_dist_sum_floats(&t->dist, stats, vcn_vq_ema_stats_size(q));
    if (st != VC_OK) return st;
    vcn_vq_ema_apply(q, stats);
    for (int i = 0; i < q->N; i++) t->win_counts[i] += counts[i]; /* before the scratch is reused */
    if ((t->step + 1) % VCT_RESEED_EVERY == 0) st = reseed(t);
    return st;
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
                        "vconv.train_date",   date,
                        "vconv.train_init",   t->p.init_model ? t->p.init_model : ""};
    vc_status st = vcm_model_save(t->p.out_model, &t->m, kv, t->p.init_model ? 5 : 4, 0);
    if (st != VC_OK) vcu_log(VC_LOG_ERROR, "train: cannot write model %s", t->p.out_model);
    free(corpus);
    return st;
}

/* Rank 0 writes; every rank returns its status. */
static vc_status write_checkpoint(trainer *t) {
    vc_status st = VC_OK;
    if (t->dist.rank == 0) {
        vci_ckpt_state s = {t->step, t->opt.step, t->rng.s, t->run, 0};
        s.run.steps = t->p.steps;
        int adv = t->run.adversarial > 0;
        st = vci_checkpoint_write(t->ckpt_path, &t->m, &t->opt, adv ? &t->disc.params : NULL,
                                  adv ? &t->disc_opt : NULL, &s);
    }
    return vct_dist_agree(&t->dist, st);
}

/* The end of the run, or a stop: final validation (not when stopped), checkpoint, model. */
static vc_status finish(trainer *t, int stopped) {
    vc_status st = vct_check_same(t);
    if (st == VC_OK && !stopped) {
        st = validate(t, &t->val_loss);
        if (st == VC_OK) vct_emit_report(t, t->n_val > 0);
    }
    if (st == VC_OK) st = write_checkpoint(t);
    if (st == VC_OK && (!stopped || t->p.save_on_interrupt) && t->dist.rank == 0)
        st = save_model(t);
    st = vct_dist_agree(&t->dist, st);
    if (st == VC_OK && stopped)
        vcu_log(VC_LOG_INFO, "train: stopped at step %ld; checkpoint %s%s", t->step, t->ckpt_path,
                t->p.save_on_interrupt ? "; model written" : "; no model written");
    return st;
}

/* One step and what follows it: report, validation, checkpoint. */
static vc_status step_and_upkeep(trainer *t) {
    vcm_losses L;
    vcm_cycle_losses C = {0};
    vcm_adv_losses A = {0};
    vcm_phone_losses P = {0};
    int skipped;
    vc_status st = train_step(t, &L, &C, &A, &P, &skipped);
    if (st != VC_OK) return st;
    t->step++;
    if (!skipped) {
        t->w_cyc_content += C.content;
        t->w_cyc_speaker += C.speaker;
        t->w_disc_real += A.d_real;
        t->w_disc_fake += A.d_fake;
        t->w_gen_adv += A.g_adv;
        t->w_gen_fm += A.g_fm;
        t->w_ph_xent += P.xent * (double)P.labelled;
        t->w_ph_right += P.accuracy * (double)P.labelled;
        t->w_ph_n += (double)P.labelled;
        t->w_loss += L.total;
        t->w_mel += L.mel;
        t->w_lin += L.lin;
        t->w_commit += L.commit;
        t->w_steps++;
    }
    if (t->step % t->run.log_every == 0) vct_emit_report(t, 0);
    if (t->step == t->p.steps) return VC_OK; /* the end does the rest */
    if (t->step % t->run.val_every == 0) {
        st = validate(t, &t->val_loss);
        if (st == VC_OK && t->n_val > 0) vct_emit_report(t, 1);
    }
    if (st == VC_OK && t->step % VCT_HASH_EVERY == 0) st = vct_check_same(t);
    if (st == VC_OK && t->step % t->run.checkpoint_every == 0) st = write_checkpoint(t);
    return st;
}

vc_status vc_train(const vc_train_params *params) {
    if (!params) return VC_ERR_ARG;
    if (params->stopped) *params->stopped = 0;
    trainer t;
    memset(&t, 0, sizeof t);
    t.p = *params;
    t.B = params->batch;
    t.T = params->segment_frames;
    t.Ts = t.T;
    t.T2 = t.T / 2;
    t.seed = params->seed;
    t.val_loss = -1.0;
    vc_status st = vct_setup(&t);
    int stopped = 0;
    if (st == VC_OK && !t.p.resume && t.n_val > 0) { /* the baseline of a fresh run, step 0 */
        st = validate(&t, &t.val_loss);
        if (st == VC_OK) vct_emit_report(&t, 1);
    }
    t.w_t0 = vct_now();
    while (st == VC_OK && t.step < t.p.steps) {
        if (vct_dist_any(&t.dist, t.p.stop && *t.p.stop)) { /* a stop on any rank stops all */
            stopped = 1;
            break;
        }
        st = step_and_upkeep(&t);
    }
    if (st == VC_OK) st = finish(&t, stopped);
    if (st == VC_OK && stopped && params->stopped) *params->stopped = 1;
    if (params->rank) *params->rank = t.dist.rank;
    vct_trainer_free(&t);
    return st;
}
