/* libFuzzer target for the model config parser (JSON, --config FILE): any bytes as text through
 * vcm_config_from_json; an accepted config must validate and survive a JSON round trip. */
#include "model/config.h"

#include <stdint.h>
#include <string.h>

#include "quiet_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    vc_log_set(quiet_log, NULL);
    char *text = malloc(size + 1);
    if (!text) return 0;
    if (size) memcpy(text, data, size);
    text[size] = '\0';
    vcm_config c, back;
    if (vcm_config_from_json(text, &c) == VC_OK) {
        VC_ASSERT(vcm_config_validate(&c) == VC_OK);
        char *json = NULL;
        VC_ASSERT(vcm_config_to_json(&c, &json) == VC_OK);
        VC_ASSERT(vcm_config_from_json(json, &back) == VC_OK);
        VC_ASSERT(back.channels == c.channels && back.codebook_size == c.codebook_size &&
                  back.n_bins == c.n_bins);
        free(json);
    }
    free(text);
    return 0;
}
