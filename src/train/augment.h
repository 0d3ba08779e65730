/* Speaker augmentation of the content encoder's input (see augment.c). */
#ifndef VC_TRAIN_AUGMENT_H
#define VC_TRAIN_AUGMENT_H

#include "io/checkpoint.h"

typedef struct vct_augment {
    int on; /* any augmentation enabled */
} vct_augment;

VC_WARN_UNUSED vc_status vct_augment_init(vct_augment *a, const vci_run *run, int M,
                                          int sample_rate, int n_fft, int T);
void vct_augment_free(vct_augment *a);

/* xc (B, M, T) = augmented x; nothing (and no draw) when off, where xc is x. */
void vct_augment_batch(vct_augment *a, vc_rng *rng, const float *x, float *xc, int B, int T);

#endif
