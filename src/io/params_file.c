/* Table-driven model file I/O on top of safetensors; see params_file.h. */
#include "io/params_file.h"

#include <string.h>

vc_status vci_params_save(const char *path, const vc_params *p, const char *const *meta_kv,
                          int n_meta, int f16) {
    if (!path || !p || !p->data || p->n < 1 || n_meta < 0 || (n_meta > 0 && !meta_kv)) {
        vcu_log(VC_LOG_ERROR, "vci_params_save: invalid arguments");
        return VC_ERR_ARG;
    }
    for (int i = 0; i < n_meta; i++) {
        if (meta_kv[2 * i] && !strcmp(meta_kv[2 * i], VC_META_FORMAT_VERSION)) {
            vcu_log(VC_LOG_ERROR, "vci_params_save: %s is set by vci_params_save itself",
                    VC_META_FORMAT_VERSION);
            return VC_ERR_ARG;
        }
    }
    st_tensor_out *t = calloc((size_t)p->n, sizeof *t);
    const char **kv = malloc(sizeof *kv * (size_t)(2 * n_meta + 2));
    if (!t || !kv) {
        free(t);
        free(kv);
        return VC_ERR_NOMEM;
    }
    for (int i = 0; i < p->n; i++) {
        const vc_param_spec *s = &p->spec[i];
        t[i].name = s->name;
        t[i].ndim = s->ndim;
        for (int d = 0; d < s->ndim; d++) t[i].shape[d] = s->shape[d];
        t[i].data = vcn_params_data(p, i);
    }
    kv[0] = VC_META_FORMAT_VERSION;
    kv[1] = VC_FORMAT_VERSION;
    if (n_meta > 0) memcpy(kv + 2, meta_kv, sizeof *kv * (size_t)(2 * n_meta));
    vc_status st = vci_safetensors_write(path, t, p->n, kv, n_meta + 1, f16 ? ST_F16 : ST_F32);
    free(t);
    free(kv);
    return st;
}

static vc_status check_version(const st_file *f, const char *what) {
    const char *v = vci_safetensors_meta(f, VC_META_FORMAT_VERSION);
    if (!v) {
        vcu_log(VC_LOG_ERROR, "%s: no %s in __metadata__", what, VC_META_FORMAT_VERSION);
        vcu_log(VC_LOG_ERROR,
                "HINT: this safetensors file was not written by vconv "
                "(vci_params_save); export the model with vconv, or add "
                "\"%s\": \"%s\" to its metadata if its tensors match",
                VC_META_FORMAT_VERSION, VC_FORMAT_VERSION);
        return VC_ERR_VERSION;
    }
    if (strcmp(v, VC_FORMAT_VERSION) != 0) {
        char *end;
        long n = strtol(v, &end, 10), ours = strtol(VC_FORMAT_VERSION, NULL, 10);
        int numeric = end != v && *end == '\0';
        vcu_log(VC_LOG_ERROR, "%s: model format version \"%.32s\", this vconv reads \"%s\"", what,
                v, VC_FORMAT_VERSION);
        if (numeric && n > ours)
            vcu_log(VC_LOG_ERROR, "HINT: this file was written by a newer vconv; update vconv to "
                                  "read it");
        else if (numeric)
            vcu_log(VC_LOG_ERROR, "HINT: this file was written by an older vconv; retrain the "
                                  "model or convert it with the vconv version that wrote it");
        else
            vcu_log(VC_LOG_ERROR, "HINT: the version is not a number: the file is corrupt or was "
                                  "not written by vconv");
        return VC_ERR_VERSION;
    }
    return VC_OK;
}

/* "(64, 80, 5)" into buf. */
static const char *shape_str(char *buf, size_t cap, int ndim, const int64_t *shape) {
    size_t len = (size_t)snprintf(buf, cap, "(");
    for (int d = 0; d < ndim && len < cap; d++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%lld", d ? ", " : "", (long long)shape[d]);
    if (len < cap) snprintf(buf + len, cap - len, ")");
    return buf;
}

vc_status vci_params_read(const st_file *f, const char *what, vc_params *p) {
    if (!f || !p || !p->data || !p->spec) return VC_ERR_ARG;
    if (!what) what = "<model>";
    vc_status st = check_version(f, what);
    if (st != VC_OK) return st;
    for (int i = 0; i < f->n_tensors; i++) {
        if (vcn_params_find(p, f->tensors[i].name) < 0) {
            vcu_log(VC_LOG_ERROR, "%s: unknown tensor \"%s\" (not in the model's parameter table)",
                    what, f->tensors[i].name);
            return VC_ERR_SHAPE;
        }
    }
    int *index = malloc(sizeof *index * (size_t)p->n);
    if (!index) return VC_ERR_NOMEM;
    for (int i = 0; i < p->n && st == VC_OK; i++) {
        const vc_param_spec *s = &p->spec[i];
        int j = index[i] = vci_safetensors_find(f, s->name);
        if (j < 0) {
            vcu_log(VC_LOG_ERROR, "%s: tensor \"%s\" is missing", what, s->name);
            st = VC_ERR_SHAPE;
            break;
        }
        const st_tensor *t = &f->tensors[j];
        int same = t->ndim == s->ndim;
        for (int d = 0; same && d < s->ndim; d++) same = t->shape[d] == s->shape[d];
        if (!same) {
            char want[96], got[96];
            int64_t ws[VC_PARAM_MAX_DIMS];
            for (int d = 0; d < s->ndim; d++) ws[d] = s->shape[d];
            vcu_log(VC_LOG_ERROR, "%s: tensor \"%s\" has shape %s, the model expects %s", what,
                    s->name, shape_str(got, sizeof got, t->ndim, t->shape),
                    shape_str(want, sizeof want, s->ndim, ws));
            st = VC_ERR_SHAPE;
        }
    }
    /* Read everything into a scratch slab, so a bad value leaves p untouched. */
    float *tmp = st == VC_OK ? malloc(sizeof *tmp * (p->total ? p->total : 1)) : NULL;
    if (st == VC_OK && !tmp) st = VC_ERR_NOMEM;
    for (int i = 0; i < p->n && st == VC_OK; i++) {
        st =
            vci_safetensors_read_f32(f, index[i], tmp + p->offset[i], vcn_param_numel(&p->spec[i]));
        if (st != VC_OK)
            vcu_log(VC_LOG_ERROR, "%s: cannot load tensor \"%s\"", what, p->spec[i].name);
    }
    for (int i = 0; i < p->n && st == VC_OK; i++)
        memcpy(vcn_params_data(p, i), tmp + p->offset[i],
               sizeof *tmp * vcn_param_numel(&p->spec[i]));
    free(tmp);
    free(index);
    return st;
}
