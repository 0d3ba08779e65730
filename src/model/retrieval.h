/* The decoder's retrieval input (cfg.retrieval, model.h): for each output frame, the reference
 * frames nearest in content, as the decoder reads them.
 *
 * Content space: the content encoder's last frame-rate hidden state, normalised per channel
 * (over the sliding window the encoder's own instance norms use at inference, or over the
 * whole segment in training, as the encoder itself does) and L2-normalised per frame: the
 * hidden space of frame matching (convert/match.h), which measured best there. Training
 * retrieves from another utterance of the same speaker (train/retrieve.h), conversion from the
 * voice's pooled reference frames (convert.c), both through these functions.
 */
#ifndef VC_MODEL_RETRIEVAL_H
#define VC_MODEL_RETRIEVAL_H

#include "model/model.h"

#define VCM_RETRIEVAL_K 4 /* neighbours per frame in training (conversion: --match-k) */

/* Channels of the retrieval input: M + 1 with retrieval, else 0. */
int vcm_retrieval_channels(const vcm_config *c);

/* Hidden-state features of frames [0, T) of batch item b, from a workspace whose last content
 * forward ran on Tf frames (T <= Tf): out (T, C), each row L2-normalised. The per-channel
 * normalisation uses ws->norm_window frames (0: all Tf). hwork: (C, Tf) floats; scratch:
 * 2 (Tf + 1) doubles. */
void vcm_hidden_features(const vcm_model *m, const vcm_workspace *ws, int b, int T, int Tf,
                         float *out, float *hwork, double *scratch);

/* Column t of r (M + 1 rows of `stride` floats), t < T: the mean of the k rows idx[t k ..] of
 * mel (N, M) (normalised log-mel, frame-major), and 1 in the flag row. */
void vcm_retrieval_gather(int M, const float *mel, const int *idx, int T, int k, float *r,
                          int stride);

#endif
