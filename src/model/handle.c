/* The public model handle: vc_model load, save and metadata (see vconv.h, docs/model.md). */
#include "model/handle.h"

#include "model/audio_contract.h"

#include <string.h>

vc_status vc_model_load(const char *path, vc_model **out) {
    if (!path || !out) return VC_ERR_ARG;
    *out = NULL;
    vc_model *vm = calloc(1, sizeof *vm);
    if (!vm) return VC_ERR_NOMEM;
    vc_status st = vcm_model_load(path, &vm->m, 0);
    if (st != VC_OK) {
        free(vm);
        return st;
    }
    vm->fp = vcm_frontend_params(&vm->m.cfg);
    *out = vm;
    return VC_OK;
}

void vc_model_free(vc_model *m) {
    if (!m) return;
    vcm_model_free(&m->m);
    free(m);
}

int vc_model_sample_rate(const vc_model *m) {
    return m ? m->m.cfg.sample_rate : 0;
}

vc_frontend_params vc_model_frontend_params(const vc_model *m) {
    if (!m) {
        vc_frontend_params zero;
        memset(&zero, 0, sizeof zero);
        return zero;
    }
    return m->fp;
}

int vc_model_speaker_dim(const vc_model *m) {
    return m ? m->m.cfg.spk_dim : 0;
}

const vcm_model *vcm_model_internal(const vc_model *m) {
    return &m->m;
}

int vc_model_codebook_size(const vc_model *m) {
    return m ? m->m.cfg.codebook_size : 0;
}

double vc_model_codes_per_second(const vc_model *m) {
    return m ? (double)m->fp.sample_rate / (2.0 * m->fp.hop) : 0.0;
}

size_t vc_model_n_params(const vc_model *m) {
    return m ? vcm_model_n_params(&m->m) : 0;
}

vc_status vc_model_config_json(const vc_model *m, char **out) {
    if (!m || !out) return VC_ERR_ARG;
    return vcm_config_to_json(&m->m.cfg, out);
}

int vc_model_meta_count(const vc_model *m) {
    return m ? m->m.n_meta : 0;
}

const char *vc_model_meta_key(const vc_model *m, int i) {
    return m && i >= 0 && i < m->m.n_meta ? m->m.meta_kv[2 * i] : NULL;
}

const char *vc_model_meta_value(const vc_model *m, int i) {
    return m && i >= 0 && i < m->m.n_meta ? m->m.meta_kv[2 * i + 1] : NULL;
}

const char *vc_model_meta(const vc_model *m, const char *key) {
    for (int i = 0; key && i < vc_model_meta_count(m); i++)
        if (!strcmp(m->m.meta_kv[2 * i], key)) return m->m.meta_kv[2 * i + 1];
    return NULL;
}

vc_status vc_model_save(const vc_model *m, const char *path, int f16, const char *const *set_kv,
                        int n_set) {
    if (!m || !path || n_set < 0 || (n_set && !set_kv)) return VC_ERR_ARG;
    int n_meta = m->m.n_meta, n = 0;
    const char **kv = malloc(sizeof *kv * 2 * (size_t)(n_meta + n_set + 1));
    if (!kv) return VC_ERR_NOMEM;
    for (int i = 0; i < n_meta; i++) { /* kept unless set_kv replaces it */
        int replaced = 0;
        for (int j = 0; j < n_set && !replaced; j++)
            replaced = !strcmp(set_kv[2 * j], m->m.meta_kv[2 * i]);
        if (!replaced)
            kv[2 * n] = m->m.meta_kv[2 * i], kv[2 * n + 1] = m->m.meta_kv[2 * i + 1], n++;
    }
    for (int j = 0; j < n_set; j++)
        kv[2 * n] = set_kv[2 * j], kv[2 * n + 1] = set_kv[2 * j + 1], n++;
    vc_status st = vcm_model_save(path, &m->m, kv, n, f16);
    if (st == VC_ERR_ARG)
        vcu_log(VC_LOG_ERROR,
                "%s: not written (a key that is not the caller's, a repeated key, or "
                "a value F16 cannot hold)",
                path);
    free(kv);
    return st;
}
