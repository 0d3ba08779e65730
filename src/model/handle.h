/* The public model handle (vc_model: load, save, metadata) and its library-internal parts. */
#ifndef VC_MODEL_HANDLE_H
#define VC_MODEL_HANDLE_H

#include "model/model.h"

/* A loaded model and the front end it hears through (vcm_frontend_params of its config). */
struct vc_model {
    vcm_model m;
    vc_frontend_params fp;
};

/* The model behind a vc_model (read-only). */
const vcm_model *vcm_model_internal(const vc_model *m);

#endif
