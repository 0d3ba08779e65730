/* libFuzzer target for the model loader: any bytes parsed as safetensors, then read as a model
 * (config from the metadata, parameter table, tensors, normalisation statistics, provenance).
 * Must never crash, leak or trip a sanitizer; a model that loads must be usable (its parameter
 * count matches its table and every statistic is finite). */
#include "io/safetensors.h"
#include "model/model.h"

#include <math.h>
#include <stdint.h>

#include "quiet_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    vc_log_set(quiet_log, NULL);
    const void *bytes = data ? (const void *)data : (const void *)"";
    st_file f;
    if (vci_safetensors_parse(bytes, size, &f) != VC_OK) return 0;
    vcm_model m;
    if (vcm_model_read(&f, "fuzz", &m, 0) == VC_OK) {
        VC_ASSERT(vcm_model_unbound(&m) == 0);
        for (int i = 0; i < m.cfg.n_mels; i++)
            VC_ASSERT(isfinite(m.mel_mean[i]) && m.mel_std[i] > 0.0f);
        for (int i = 0; i < m.cfg.n_bins; i++)
            VC_ASSERT(isfinite(m.lin_mean[i]) && m.lin_std[i] > 0.0f);
        vcm_model_free(&m);
    }
    vci_safetensors_free(&f);
    return 0;
}
