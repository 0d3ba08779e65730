/* libFuzzer target for the model file reader: any bytes through vci_safetensors_parse, every tensor
 * read as F32, then the same bytes as a model file for a small parameter table
 * (vci_params_read). Must never crash, leak or trip a sanitizer. */
#include "io/params_file.h"
#include "io/safetensors.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "quiet_log.h"

/* The table of the seed model.safetensors, so mutations of it reach the table checks. */
static const vc_param_spec fuzz_table[] = {
    {"enc.w", 2, {3, 4}, VC_INIT_NORMAL, 1.0f, 0, 1},
    {"enc.b", 1, {3}, VC_INIT_ZEROS, 0.0f, 0, 1},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    vc_log_set(quiet_log, NULL);
    /* libFuzzer may pass data == NULL for the empty input. */
    const void *bytes = data ? (const void *)data : (const void *)"";
    st_file f;
    vc_status st = vci_safetensors_parse(bytes, size, &f);
    if (st == VC_OK) {
        for (int i = 0; i < f.n_tensors; i++) {
            const st_tensor *t = &f.tensors[i];
            VC_ASSERT(t->begin <= t->end && t->end <= f.data_size);
            /* A tensor's bytes lie in the input, so numel <= size / 2 bounds the buffer. */
            VC_ASSERT(t->numel <= size / 2);
            float *x = malloc(sizeof *x * (t->numel ? t->numel : 1));
            if (!x) continue;
            vc_status rs = vci_safetensors_read_f32(&f, i, x, t->numel);
            VC_ASSERT(rs == VC_OK || rs == VC_ERR_FORMAT);
            if (rs == VC_OK)
                for (size_t k = 0; k < t->numel; k++) VC_ASSERT(isfinite(x[k]));
            free(x);
        }
        for (int i = 0; i < f.n_meta; i++)
            VC_ASSERT(vci_safetensors_meta(&f, f.meta[i].key) != NULL);
    } else {
        VC_ASSERT(st == VC_ERR_FORMAT && f.n_tensors == 0 && f.tensors == NULL);
    }
    vc_params p;
    if (st == VC_OK && vcn_params_init(&p, fuzz_table, 2, 0) == VC_OK) {
        st = vci_params_read(&f, "<fuzz>", &p);
        VC_ASSERT(st == VC_OK || st == VC_ERR_FORMAT || st == VC_ERR_VERSION || st == VC_ERR_SHAPE);
        vcn_params_free(&p);
    }
    vci_safetensors_free(&f);
    return 0;
}
