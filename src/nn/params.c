/* The parameter slab built from a table; see params.h. */
#include "nn/params.h"

#include <math.h>
#include <string.h>

/* 16 floats = 64 bytes: every tensor starts on a cache line and an AVX-512 vector. */
#define PARAM_ALIGN 16

size_t vcn_param_numel(const vc_param_spec *s) {
    size_t n = 1;
    for (int d = 0; d < s->ndim; d++) n *= (size_t)s->shape[d];
    return n;
}

static int spec_valid(const vc_param_spec *s) {
    if (s->name[0] == '\0' || memchr(s->name, '\0', VC_PARAM_NAME_MAX) == NULL) return 0;
    if (s->ndim < 1 || s->ndim > VC_PARAM_MAX_DIMS) return 0;
    for (int d = 0; d < s->ndim; d++)
        if (s->shape[d] < 1 || s->shape[d] > (1 << 24)) return 0;
    if (s->init == VC_INIT_UNIFORM && s->fan_in < 1) return 0;
    if (s->trainable != 0 && s->trainable != 1) return 0;
    return s->init >= VC_INIT_ZEROS && s->init <= VC_INIT_NORMAL;
}

vc_status vcn_params_init(vc_params *p, const vc_param_spec *spec, int n, int with_grad) {
    if (!p || !spec || n < 1) return VC_ERR_ARG;
    memset(p, 0, sizeof *p);
    for (int i = 0; i < n; i++) {
        if (!spec_valid(&spec[i])) {
            vcu_log(VC_LOG_ERROR, "parameter table: row %d (%.*s) is invalid", i, VC_PARAM_NAME_MAX,
                    spec[i].name);
            return VC_ERR_ARG;
        }
        for (int j = 0; j < i; j++)
            if (!strcmp(spec[i].name, spec[j].name)) {
                vcu_log(VC_LOG_ERROR, "parameter table: name %s appears twice", spec[i].name);
                return VC_ERR_ARG;
            }
    }
    p->n = n;
    p->spec = malloc(sizeof *p->spec * (size_t)n);
    p->offset = malloc(sizeof *p->offset * (size_t)n);
    if (!p->spec || !p->offset) {
        vcn_params_free(p);
        return VC_ERR_NOMEM;
    }
    memcpy(p->spec, spec, sizeof *p->spec * (size_t)n);
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        p->offset[i] = total;
        total += (vcn_param_numel(&spec[i]) + PARAM_ALIGN - 1) / PARAM_ALIGN * PARAM_ALIGN;
    }
    p->total = total;
    p->data = calloc(total, sizeof(float));
    p->grad = with_grad ? calloc(total, sizeof(float)) : NULL;
    if (!p->data || (with_grad && !p->grad)) {
        vcn_params_free(p);
        return VC_ERR_NOMEM;
    }
    return VC_OK;
}

void vcn_params_free(vc_params *p) {
    if (!p) return;
    free(p->spec);
    free(p->offset);
    free(p->data);
    free(p->grad);
    memset(p, 0, sizeof *p);
}

int vcn_params_find(const vc_params *p, const char *name) {
    for (int i = 0; i < p->n; i++)
        if (!strcmp(p->spec[i].name, name)) return i;
    return -1;
}

float *vcn_params_data(const vc_params *p, int i) {
    VC_ASSERT(i >= 0 && i < p->n);
    return p->data + p->offset[i];
}

float *vcn_params_grad(const vc_params *p, int i) {
    VC_ASSERT(i >= 0 && i < p->n);
    return p->grad ? p->grad + p->offset[i] : NULL;
}

int vcn_params_trainable(const vc_params *p, int i) {
    VC_ASSERT(i >= 0 && i < p->n);
    return p->spec[i].trainable != 0;
}

void vcn_params_randomize(vc_params *p, vc_rng *rng) {
    for (int i = 0; i < p->n; i++) {
        const vc_param_spec *s = &p->spec[i];
        float *w = vcn_params_data(p, i);
        size_t count = vcn_param_numel(s);
        float a = s->init == VC_INIT_UNIFORM ? s->scale / sqrtf((float)s->fan_in) : s->scale;
        for (size_t k = 0; k < count; k++) {
            switch (s->init) {
            case VC_INIT_ZEROS:
                w[k] = 0.0f;
                break;
            case VC_INIT_ONES:
                w[k] = 1.0f;
                break;
            case VC_INIT_UNIFORM:
                w[k] = a * (2.0f * vcu_rng_uniform(rng) - 1.0f);
                break;
            case VC_INIT_NORMAL:
                w[k] = a * vcu_rng_normal(rng);
                break;
            }
        }
    }
}

void vcn_params_zero_grad(vc_params *p) {
    if (p->grad) memset(p->grad, 0, p->total * sizeof *p->grad);
}
