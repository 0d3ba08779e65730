/* Training-step benchmark of the whole model, run by scripts/bench_train (never by tests).
 *
 *   bench_train [THREADS [RUNS [PRESET]]]     default 1 thread, 7 runs, preset "default"
 *
 * Prints one JSON object per line on stdout:
 *   openblas    which OpenBLAS build ran;
 *   sgemm       square cblas_sgemm at n = 1024 and 2048; the faster is the peak;
 *   train_step  one optimiser step at B = 16, T = 128, Ts = 128, as src/train/train.c takes it:
 *               vcn_params_zero_grad, vcm_forward_train (quantize 1), vcm_backward,
 *               vcn_grad_clip_norm (1.0), vcn_adamw_begin_step, vcn_adamw_update per tensor (every
 * tensor but the codebook, which belongs to the EMA; weight decay 0) and vcn_vq_ema_update. Not
 * included: batch assembly, dead-code re-seeding, code counts. fwd_ms is vcm_forward_train alone.
 * GFLOP/s count, for every conv1d and linear, 2 B T_out OC C K for the forward and twice that for
 * the backward (dinp and dw), plus the VQ distance GEMM 2 B (T/2) N D; elementwise layers, norms
 * and the optimiser are not counted. Every time is the median of RUNS timed runs after warm-up.
 *   train_step_cycle  the same step with conversion consistency on (vconv train --cycle-content,
 *               --cycle-speaker): vcm_forward_cycle and vcm_backward_cycle over the batch with
 *               the voices of the partner items, between the forward and vcm_backward as in
 *               train.c; timed alternately with the plain step, ratio = its median / the plain
 *               step's median of the same rounds.
 *   train_step_adv  the same step with adversarial training on (vconv train --adversarial):
 *               vcm_disc_pass over the targets and the decoded log-magnitude (discriminator of
 *               VCM_DISC_CHANNELS channels), vcm_backward_with its gradient, and the
 *               discriminator's clip and AdamW step; timed in the same rounds, ratio likewise.
 *   train_step_phone  the same step with the phone loss on (vconv train --phone-loss): a model
 *               with the phone head (its own copy, so the plain step's model is the preset's),
 *               vcm_forward_phones with labels on every position, its gradient in vcm_backward;
 *               timed in the same rounds, ratio likewise.
 *   batch_targets  the postnet's targets of one batch (BT_B segments of BT_T frames of a
 *               synthetic 10 s voiced utterance, vct_lin_target), which batch assembly computes
 *               on the fly: the STFT log-magnitude against the WORLD envelope of an envelope
 *               model, alternately; ratio = envelope / STFT, and the envelope's extra time as a
 *               share of the plain step above (the time a step with it gains).
 * THREADS sets both OpenBLAS and OpenMP. */
#define _POSIX_C_SOURCE 200809L
#include "bench.h"
#include "bench_blas.h"
#include "model/disc.h"
#include "model/model.h"
#include "nn/adam.h"
#include "train/batch.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { BT_B = 16, BT_T = 128, BT_TS = 128, BT_WARMUP = 2 };

static void check(vc_status st, const char *what) {
    if (st != VC_OK) {
        fprintf(stderr, "bench_train: %s failed (status %d)\n", what, (int)st);
        exit(1);
    }
}

/* Square SGEMM peak in GFLOP/s: the better of n = 1024 and 2048, each the median of runs. */
/* Forward FLOPs of one conv (or a linear: K = 1, T_out = 1). */
static double conv_flops(const conv1d *l, int B, int T) {
    return 2.0 * B * vcn_conv1d_out_len(l, T) * (double)l->OC * l->C * l->K;
}
static double linear_flops(const linear *l, int B) {
    return 2.0 * B * (double)l->OC * l->C;
}

/* FLOPs of one training step: forward + backward (2x) of every conv and linear, plus the VQ
 * distance GEMM. */
static double step_flops(const vcm_model *m, int B, int T, int Ts) {
    const vcm_config *c = &m->cfg;
    double f = conv_flops(&m->c_in, B, T);
    for (int i = 0; i < c->res_blocks; i++) f += conv_flops(&m->c_res[i], B, T);
    f += conv_flops(&m->c_down, B, T) + conv_flops(&m->c_out, B, T / 2);
    for (int k = 0; k < VCM_SPK_CONVS; k++) f += conv_flops(&m->s_conv[k], B, Ts);
    f += linear_flops(&m->s_proj, B) + conv_flops(&m->d_in, B, T);
    for (int i = 0; i < c->dec_blocks; i++)
        f += conv_flops(&m->d_block[i].conv, B, T) + linear_flops(&m->d_block[i].gamma, B) +
             linear_flops(&m->d_block[i].beta, B);
    f += conv_flops(&m->d_mel, B, T) + conv_flops(&m->post0, B, T) + conv_flops(&m->post1, B, T);
    return 3.0 * f + 2.0 * B * (T / 2) * (double)c->codebook_size * c->code_dim;
}

typedef struct ctx {
    vcm_model m;
    vcm_workspace ws;
    adamw opt;
    float *x, *p, *xs, *mel_t, *lin_t;
    float *vq_scratch;
    vcm_losses loss;
    vcm_workspace cyc_ws; /* conversion consistency's pass */
    float *cyc_spk;       // (B, S)
    int cycle;            /* train_step runs the consistency pass */
    vcm_disc disc;        /* adversarial training's discriminator */
    vcm_disc_ws d_real, d_fake;
    adamw d_opt;
    float *dlin; // (B, F, T)
    int adv;     /* train_step runs the adversarial pass */
    int *phones; // (B, T/2) labels of the phone loss, or NULL: none (a model without the head)
} ctx;

/* The consistency pass as train.c's cycle_pass runs it. */
static void cycle_pass(ctx *c) {
    vcm_cycle_voices(c->ws.spk.v, BT_B, c->m.cfg.spk_dim, c->cyc_spk);
    vcm_forward_cycle(&c->m, &c->cyc_ws, c->ws.zin, c->cyc_spk, c->p, c->ws.z.v, 1.0f, 5.0f, NULL);
    vcm_backward_cycle(&c->m, &c->cyc_ws);
}

static void train_step(ctx *c) {
    vc_params *P = &c->m.params;
    vcn_params_zero_grad(P);
    vcm_forward_train(&c->m, &c->ws, c->x, c->p, c->xs, NULL, c->mel_t, c->lin_t, 1, NULL,
                      &c->loss);
    if (c->cycle) cycle_pass(c);
    if (c->phones) vcm_forward_phones(&c->m, &c->ws, c->phones, 1.0f, NULL);
    vcm_adv_losses al;
    if (c->adv) {
        memset(c->dlin, 0, sizeof(float) * BT_B * (size_t)c->m.cfg.n_bins * BT_T);
        vcm_disc_pass(&c->disc, &c->d_real, &c->d_fake, c->lin_t, c->ws.lin.v, BT_B, BT_T, 0.5f,
                      c->dlin, &al);
    }
    vcm_backward_with(&c->m, &c->ws, c->adv ? c->dlin : NULL);
    (void)vcn_grad_clip_norm(P->grad, P->total, 1.0f);
    vcn_adamw_begin_step(&c->opt);
    size_t cb = (size_t)(c->m.vq.codebook - P->data);
    for (int i = 0; i < P->n; i++) {
        if (P->offset[i] == cb) continue; /* the codebook follows its EMA, as in train.c */
        vcn_adamw_update(&c->opt, P->data, P->grad, P->offset[i], vcn_param_numel(&P->spec[i]),
                         2e-4f, 0.0f);
    }
    if (c->adv) { /* the discriminator's step, as train.c's disc_update */
        vc_params *D = &c->disc.params;
        (void)vcn_grad_clip_norm(D->grad, D->total, 1.0f);
        vcn_adamw_begin_step(&c->d_opt);
        for (int i = 0; i < D->n; i++)
            vcn_adamw_update(&c->d_opt, D->data, D->grad, D->offset[i],
                             vcn_param_numel(&D->spec[i]), 2e-4f, 0.0f);
    }
    vcn_vq_ema_update(&c->m.vq, c->ws.z.v, c->ws.idx, BT_B, BT_T / 2, c->vq_scratch);
}

/* The model (randomised from rng), its workspace and optimiser. */
static void model_init(ctx *c, const vcm_config *cfg, vc_rng *rng) {
    check(vcm_model_init(&c->m, cfg, 1), "vcm_model_init");
    vcm_model_randomize(&c->m, rng);
    check(vcm_workspace_init(&c->ws, &c->m, BT_B, BT_T, BT_TS), "vcm_workspace_init");
    check(vcn_adamw_init(&c->opt, c->m.params.total, 0.9f, 0.999f, 1e-8f), "vcn_adamw_init");
}

static void model_free(ctx *c) {
    vcn_adamw_free(&c->opt);
    vcm_workspace_free(&c->ws);
    vcm_model_free(&c->m);
}

static void forward_only(ctx *c) {
    vcm_forward_train(&c->m, &c->ws, c->x, c->p, c->xs, NULL, c->mel_t, c->lin_t, 1, NULL,
                      &c->loss);
}

/* Median seconds of f over runs calls after BT_WARMUP untimed calls. */
static double time_median(void (*f)(ctx *), ctx *c, int runs) {
    double t[BENCH_MAX_RUNS];
    for (int r = -BT_WARMUP; r < runs; r++) {
        double t0 = bench_now();
        f(c);
        if (r >= 0) t[r] = bench_now() - t0;
    }
    return bench_median(t, runs);
}

/* batch_targets (above): prints its line. */
static void bench_targets(int runs, double plain_step, const char *preset, int threads) {
    vc_frontend_params fp = vc_frontend_default_params();
    vc_frontend *fe;
    check(vc_frontend_init(&fp, &fe), "vc_frontend_init");
    size_t n = (size_t)fp.sample_rate * 10;
    float *x = malloc(sizeof(float) * n);
    if (!x) check(VC_ERR_NOMEM, "malloc");
    for (size_t i = 0; i < n; i++) { /* a gliding voice, 110-170 Hz, with a few harmonics */
        double t = (double)i / fp.sample_rate,
               ph = 2.0 * 3.14159265358979 * (140.0 * t - 4.8 * cos(t));
        x[i] = (float)(0.2 * sin(ph) + 0.1 * sin(2.0 * ph) + 0.05 * sin(3.0 * ph));
    }
    vc_utt_features u;
    check(vci_features_compute(fe, x, n, &u), "vci_features_compute");
    vc_feature_set fs = {fp.n_mels, fp.hop, fp.sample_rate, 1, &u};
    vct_scratch sc;
    check(vct_scratch_init(&sc, &fs, &fp, 1), "vct_scratch_init");
    float *out = malloc(sizeof(float) * BT_T * (size_t)vc_frontend_n_bins(fe));
    if (!out) check(VC_ERR_NOMEM, "malloc");
    double t[2][BENCH_MAX_RUNS];
    for (int r = -BT_WARMUP; r < runs; r++)
        for (int env = 0; env < 2; env++) {
            double t0 = bench_now();
            for (int b = 0; b < BT_B; b++) /* segments spread over the utterance */
                check(vct_lin_target(fe, &u, b * (u.T - BT_T) / BT_B, BT_T, env, &sc, out),
                      "vct_lin_target");
            if (r >= 0) t[env][r] = bench_now() - t0;
        }
    double stft = bench_median(t[0], runs), envelope = bench_median(t[1], runs);
    printf("{\"bench\": \"batch_targets\", \"preset\": \"%s\", \"threads\": %d, "
           "\"stft_ms\": %.2f, \"envelope_ms\": %.2f, \"ratio\": %.3f, "
           "\"extra_share_of_step\": %.3f}\n",
           preset, threads, 1e3 * stft, 1e3 * envelope, envelope / stft,
           (envelope - stft) / plain_step);
    free(out);
    vct_scratch_free(&sc);
    vci_utt_features_free(&u);
    free(x);
    vc_frontend_free(fe);
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 1, runs = argc > 2 ? atoi(argv[2]) : 7;
    const char *preset = argc > 3 ? argv[3] : "default";
    if (threads < 1 || runs < 1) {
        fprintf(stderr, "usage: bench_train [THREADS [RUNS [PRESET]]]\n");
        return 2;
    }
    if (runs > BENCH_MAX_RUNS) runs = BENCH_MAX_RUNS;
    bench_set_threads(threads);
    vc_rng rng;
    vcu_rng_seed(&rng, 1);
    double peak = bench_sgemm_peak(threads, runs, &rng);

    ctx c = {0};
    vcm_config cfg;
    check(vcm_config_preset(preset, &cfg), "vcm_config_preset");
    vcu_rng_seed(&rng, 1);
    model_init(&c, &cfg, &rng);
    size_t M = (size_t)cfg.n_mels, F = (size_t)cfg.n_bins, B = BT_B;
    c.x = bench_alloc_rand(B * M * BT_T, &rng);
    c.p = bench_alloc_rand(B * 2 * BT_T, &rng);
    c.xs = bench_alloc_rand(B * M * BT_TS, &rng);
    c.mel_t = bench_alloc_rand(B * M * BT_T, &rng);
    c.lin_t = bench_alloc_rand(B * F * BT_T, &rng);
    c.vq_scratch = bench_alloc_rand(vcn_vq_scratch_size(&c.m.vq, BT_B, BT_T / 2) + 1, &rng);

    double fwd = time_median(forward_only, &c, runs);
    double step = time_median(train_step, &c, runs);
    double gf = step_flops(&c.m, BT_B, BT_T, BT_TS) / step * 1e-9;
    /* with and without the consistency pass, alternately, so load changes hit both alike */
    check(vcm_workspace_init(&c.cyc_ws, &c.m, BT_B, BT_T, BT_T), "vcm_workspace_init");
    c.cyc_spk = bench_alloc_rand(B * (size_t)cfg.spk_dim, &rng);
    check(vcm_disc_init(&c.disc, cfg.n_bins, VCM_DISC_CHANNELS, 1), "vcm_disc_init");
    vcm_disc_randomize(&c.disc, &rng);
    check(vcm_disc_ws_init(&c.d_real, &c.disc, BT_B, BT_T), "vcm_disc_ws_init");
    check(vcm_disc_ws_init(&c.d_fake, &c.disc, BT_B, BT_T), "vcm_disc_ws_init");
    check(vcn_adamw_init(&c.d_opt, c.disc.params.total, VCM_DISC_BETA1, VCM_DISC_BETA2, 1e-8f),
          "vcn_adamw_init");
    c.dlin = bench_alloc_rand(B * F * BT_T, &rng);
    ctx ph = c; /* the phone loss's model: the same inputs, its own model with the head */
    vcm_config pcfg = cfg;
    pcfg.phone_head = 1;
    model_init(&ph, &pcfg, &rng);
    ph.phones = malloc(sizeof(int) * B * (BT_T / 2));
    if (!ph.phones) check(VC_ERR_NOMEM, "malloc");
    for (size_t i = 0; i < B * (BT_T / 2); i++) ph.phones[i] = (int)(i % VCM_PHONES);
    /* plain, with the consistency pass, the adversarial pass, the phone loss: in turn, every
     * round */
    double t_step[4][BENCH_MAX_RUNS];
    for (int r = -BT_WARMUP; r < runs; r++)
        for (int k = 0; k < 4; k++) {
            c.cycle = k == 1;
            c.adv = k == 2;
            double t0 = bench_now();
            train_step(k == 3 ? &ph : &c);
            if (r >= 0) t_step[k][r] = bench_now() - t0;
        }
    c.cycle = c.adv = 0;
    double plain = bench_median(t_step[0], runs), cyc = bench_median(t_step[1], runs);
    double adv = bench_median(t_step[2], runs), phone = bench_median(t_step[3], runs);
    printf("{\"bench\": \"train_step\", \"preset\": \"%s\", \"threads\": %d, \"B\": %d, "
           "\"T\": %d, \"Ts\": %d, \"median_ms\": %.2f, \"fwd_ms\": %.2f, \"frames_per_s\": %.0f, "
           "\"gflop_per_step\": %.3f, \"gflops\": %.1f, \"pct_peak\": %.1f, \"params\": %zu, "
           "\"ema_update\": true, \"loss\": %.4f}\n",
           preset, threads, BT_B, BT_T, BT_TS, 1e3 * step, 1e3 * fwd, BT_B * BT_T / step,
           step_flops(&c.m, BT_B, BT_T, BT_TS) * 1e-9, gf, 100.0 * gf / peak,
           vcm_model_n_params(&c.m), c.loss.total);
    printf("{\"bench\": \"train_step_cycle\", \"preset\": \"%s\", \"threads\": %d, "
           "\"median_ms\": %.2f, \"plain_median_ms\": %.2f, \"ratio\": %.3f}\n",
           preset, threads, 1e3 * cyc, 1e3 * plain, cyc / plain);
    printf("{\"bench\": \"train_step_adv\", \"preset\": \"%s\", \"threads\": %d, "
           "\"median_ms\": %.2f, \"plain_median_ms\": %.2f, \"ratio\": %.3f}\n",
           preset, threads, 1e3 * adv, 1e3 * plain, adv / plain);
    printf("{\"bench\": \"train_step_phone\", \"preset\": \"%s\", \"threads\": %d, "
           "\"median_ms\": %.2f, \"plain_median_ms\": %.2f, \"ratio\": %.3f}\n",
           preset, threads, 1e3 * phone, 1e3 * plain, phone / plain);
    bench_targets(runs, plain, preset, threads);

    free(c.x);
    free(c.p);
    free(c.xs);
    free(c.mel_t);
    free(c.lin_t);
    free(c.vq_scratch);
    free(c.cyc_spk);
    free(c.dlin);
    vcm_disc_ws_free(&c.d_real);
    vcm_disc_ws_free(&c.d_fake);
    vcm_disc_free(&c.disc);
    vcn_adamw_free(&c.d_opt);
    vcm_workspace_free(&c.cyc_ws);
    free(ph.phones);
    model_free(&ph);
    model_free(&c);
    return 0;
}
