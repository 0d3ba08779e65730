/* Phone labels in code time (vconv.h, vc_phone_labels_at_codes): the one place where a label's
 * seconds meet the model's code frames. */
#include "common.h"

vc_status vc_phone_labels_at_codes(const vc_model *m, const vc_phone_labels *l, int first_frame,
                                   int n_codes, int *seg) {
    if (!m || !l || (l->n && !l->segments) || n_codes < 0 || (n_codes && !seg) || first_frame < 0)
        return VC_ERR_ARG;
    /* Code k stands for frames first + 2k and first + 2k + 1 of the model's hop; frame t is
     * centred on sample t * hop, so the code's centre is at frame first + 2k + 0.5. */
    const double frame_seconds = 1.0 / (2.0 * vc_model_codes_per_second(m));
    int j = 0; /* segments are sorted by start and code times increase: one walk */
    for (int k = 0; k < n_codes; k++) {
        double t = ((double)first_frame + 2.0 * k + 0.5) * frame_seconds;
        while (j < l->n && l->segments[j].end <= t) j++;
        /* a later segment may still cover t when segments overlap: look ahead while they
         * start at or before t */
        seg[k] = -1;
        for (int i = j; i < l->n && l->segments[i].start <= t; i++)
            if (l->segments[i].end > t) {
                seg[k] = i;
                break;
            }
    }
    return VC_OK;
}
