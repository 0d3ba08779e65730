/* Conversion internals shared with the tests (the public API is vconv.h). */
#ifndef VC_CONVERT_CONVERT_H
#define VC_CONVERT_CONVERT_H

#include "model/handle.h"

/* An input brought to the model: resampled to its rate, levelled to VCM_LEVEL_DBFS, its speech
 * span [b, e) found by vcm_trim_span. x (n) is owned; level_db is the input's own active
 * level. */
typedef struct vcc_input {
    float *x;
    size_t n, b, e;
    double level_db;
} vcc_input;

/* VC_ERR_AUDIO (logged, naming `what`) for no audio, silence or no speech; *out is empty on
 * failure. Free with free(out->x). */
VC_WARN_UNUSED vc_status vcc_prepare(const vc_model *vm, const vc_audio *a, const char *what,
                                     vcc_input *out);

#endif
