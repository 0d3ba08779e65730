/* Speaker augmentation; see augment.h. */
#include "train/augment.h"

#include <string.h>

vc_status vct_augment_init(vct_augment *a, const vci_run *run, int M, int sample_rate, int n_fft,
                           int T) {
    memset(a, 0, sizeof *a);
    (void)run, (void)M, (void)sample_rate, (void)n_fft, (void)T;
    return VC_OK;
}

void vct_augment_free(vct_augment *a) {
    if (a) memset(a, 0, sizeof *a);
}

void vct_augment_batch(vct_augment *a, vc_rng *rng, const float *x, float *xc, int B, int T) {
    (void)rng, (void)x, (void)xc, (void)B, (void)T;
    if (!a->on) return;
}
