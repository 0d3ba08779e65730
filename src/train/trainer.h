/* The trainer behind vc_train, shared by the files of src/train/ (not a public interface).
 *
 *   train.c   the loop: steps, validation, stop and end (vc_train)
 *   setup.c   config, corpus and features, sets, statistics, codebook init, resume
 *   report.c  progress reports and the JSON-lines log
 *   batch.c   batch items: drawing, assembly; augment.c, denoise.c: corruption of the inputs
 *   phones.c  the phone loss's labels by frame
 *   dist.c    data parallelism (MPI), a no-op in one process
 * The checkpoint file itself is io/checkpoint.h.
 */
#ifndef VC_TRAIN_TRAINER_H
#define VC_TRAIN_TRAINER_H

#include "io/checkpoint.h"
#include "io/corpus.h"
#include "io/features.h"
#include "model/disc.h"
#include "model/model.h"
#include "nn/adam.h"
#include "train/augment.h"
#include "train/batch.h"
#include "train/denoise.h"
#include "train/dist.h"
#include "train/phones.h"
#include "train/retrieve.h"

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
#define VCT_CYCLE_MAX 100.0f /* the largest conversion consistency weight accepted */
#define VCT_ADV_MAX 10.0f    /* the largest adversarial weight accepted */
#define VCT_PHONE_MAX 10.0f  /* the largest phone-loss weight accepted */
#define VCT_HASH_EVERY 200   /* steps between checks that every rank holds the same parameters */
/* derived streams: seed XOR a constant (ASCII tags), so each is independent of the others */
#define VCT_SEED_INIT 0x696e6974ull /* "init" */
#define VCT_SEED_VAL 0x76616c00ull  /* "val" */
#define VCT_SEED_LIN 0x6c696e00ull  /* "lin" */
#define VCT_SEED_DISC 0x64697363ull /* "disc" */

typedef struct trainer {
    vc_train_params p;
    vci_run run;                            /* the run's settings (the checkpoint's on resume) */
    char *ckpt_path, *cache_dir, *log_path; /* resolved, owned */
    vcm_model m;
    vcm_workspace ws;
    adamw opt;
    vc_corpus corpus;
    vc_feature_set fs;
    unsigned char *is_val; // (corpus n_utt)
    vc_frontend *fe;
    vct_scratch sc;
    vct_dist dist;
    int B, T, Ts, T2; /* B: the global batch, over all ranks */
    int b0, Bl;       /* this rank's items of every batch: b0 .. b0 + Bl - 1 */
    vct_speakers spk; /* training utterances grouped by speaker */
    vct_augment aug;  /* of the content input */
    vct_denoise den;  /* of both encoders' inputs */
    vct_item *val;    // (n_val)
    int n_val;
    /* this rank's items only (Bl of them): */
    float *x, *xc, *pp, *xs, *lin; // (Bl,M,T) target, content input, (Bl,2,T) (Bl,M,Ts) (Bl,F,T)
    vct_item *items;               // (B) the whole batch, drawn on every rank
    vct_retriever ret;             /* the decoder's retrieval input (cfg.retrieval) */
    float *r;                      // (Bl, M + 1, T) or NULL without retrieval
    unsigned char *use;            // (Bl) which items retrieve this step
    float *blend;                  // (B) the decoder's content blend per item (continuous_content)
    vcm_workspace cyc_ws;          /* conversion consistency's pass (run.cycle_*), (Bl, T, T) */
    float *cyc_spk;                // (Bl, S) the voice each item is decoded in there
    vcm_disc disc;                 /* adversarial training (run.adversarial): the discriminator */
    vcm_disc_ws disc_real, disc_fake; /* its passes over the targets and the decoded output */
    adamw disc_opt;
    float *dlin;       // (Bl, F, T) the adversarial loss's gradient on the decoded log-magnitude
    vct_phones phones; /* the phone loss's labels by frame (run.phone_loss) */
    int *ph_labels;    // (Bl, T/2) this step's code labels, or NULL without the phone loss
    float *vq_scratch; /* sized for the global batch (rank 0 re-seeds from it) */
    float *zall;       // (B, D, T/2) rank 0, several ranks: the batch's z, gathered
    float *win_counts; // (N) code counts over the report window (all ranks)
    vc_rng rng;
    long step;
    uint64_t seed;
    FILE *log;
    /* report window */
    double w_loss, w_mel, w_lin, w_commit, w_t0, val_loss;
    double w_cyc_content, w_cyc_speaker; /* conversion consistency losses (unweighted) */
    double w_disc_real, w_disc_fake, w_gen_adv, w_gen_fm; /* adversarial losses (unweighted) */
    double w_ph_xent, w_ph_right, w_ph_n; /* phone loss: sums over labelled positions, count */
    long w_steps;
    int collapse_streak;
} trainer;

double vct_now(void);

/* setup.c: everything before the first step (on resume: settings checked before the corpus
 * is read); trainer_free releases whatever setup made. Every rank returns the same status. */
VC_WARN_UNUSED vc_status vct_setup(trainer *t);
void vct_trainer_free(trainer *t);
/* This rank's items of the batch items (B) into x, pp, xs, lin. */
VC_WARN_UNUSED vc_status vct_fill_batch(trainer *t, const vct_item *items);
/* The encoders' inputs of the batch filled into x and xs: the content input xc from the
 * target x (augmented if augmentation is on), then, if noisy and denoising is on, xc and xs
 * corrupted by noise. Draws from the training stream in that order, each only when on. */
void vct_encoder_inputs(trainer *t, int noisy);
/* Codebook, its EMA state and the training stream from rank 0 to the others. */
VC_WARN_UNUSED vc_status vct_bcast_codebook(trainer *t);
/* Stops with an error unless every rank holds the same parameters, EMA state and stream. */
VC_WARN_UNUSED vc_status vct_check_same(trainer *t);

/* report.c */
void vct_emit_report(trainer *t, int is_validation);
/* Opens the log: truncated on a fresh run; on resume, cut back to the lines of steps up to
 * the checkpoint's (a killed run may have logged past it), then appended to. */
VC_WARN_UNUSED vc_status vct_log_open(trainer *t);

#endif
