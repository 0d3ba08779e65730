/* Library-internal access to the public model handle. */
#ifndef VC_CONVERT_CONVERT_H
#define VC_CONVERT_CONVERT_H

#include "model/model.h"

/* The model behind a vc_model (read-only). */
const vcm_model *vc_model_internal(const vc_model *m);

#endif
