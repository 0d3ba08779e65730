/* The phone loss's labels (run.phone_loss, model.h "phone head"): for every utterance of the
 * feature set, the phone class (model/phones.h) at each frame, read once from its label file.
 *
 * Label times are seconds of the audio file; the features start where the silence trim began
 * (vc_utt_features.trim_start), and code k of a segment starting at frame t stands for frames
 * t + 2k and t + 2k + 1, centred half a hop after frame t + 2k (vc_phone_labels_at_codes says
 * the same for whole files). So frame j's entry is the class of the segment covering sample
 * trim_start + (j + 1/2) hop, and a segment's code k reads entry t + 2k: -1 where no segment
 * covers it, the name is outside the phone set, or the utterance has no label file. */
#ifndef VC_TRAIN_PHONES_H
#define VC_TRAIN_PHONES_H

#include "io/corpus.h"
#include "io/features.h"

typedef struct vct_phones {
    signed char **track; // (fs n) per utterance (T frames) or NULL: no labels
    int n_utt;
} vct_phones;

/* Reads the label file of each utterance of fs (vc_phone_labels_find in dir) and lays it out
 * by frame. A label file that fails to parse is VC_ERR_FORMAT (its line is logged); no label
 * file for any training utterance (is_val NULL: all) is VC_ERR_ARG, since the loss would never
 * act. Logs how many utterances and frames are labelled and the names outside the phone set. */
VC_WARN_UNUSED vc_status vct_phones_load(vct_phones *ph, const char *dir, const vc_corpus *c,
                                         const vc_feature_set *fs, const unsigned char *is_val);
void vct_phones_free(vct_phones *ph);

/* Labels of T2 codes of utterance u from frame t into out (T2): -1 where none. */
void vct_phones_codes(const vct_phones *ph, int u, int t, int T2, int *out);

#endif
