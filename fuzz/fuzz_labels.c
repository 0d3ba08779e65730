/* libFuzzer target for the phone label parser (TextGrid and "start end phone" lines): any bytes
 * through vc_phone_labels_parse. What it accepts must hold what the API promises: segments
 * sorted by start, 0 <= start <= end, finite, names non-empty and NUL-terminated within
 * VC_PHONE_NAME_MAX. Must never crash, leak or trip a sanitizer. */
#include "common.h"

#include <math.h>
#include <string.h>

#include "quiet_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    vc_log_set(quiet_log, NULL);
    vc_phone_labels l;
    vc_status st = vc_phone_labels_parse((const char *)data, size, &l);
    VC_ASSERT(st == VC_OK || st == VC_ERR_FORMAT || st == VC_ERR_NOMEM);
    if (st != VC_OK) {
        VC_ASSERT(l.n == 0 && l.segments == NULL);
        return 0;
    }
    for (int i = 0; i < l.n; i++) {
        const vc_phone_segment *g = &l.segments[i];
        VC_ASSERT(isfinite(g->start) && isfinite(g->end) && 0.0 <= g->start && g->start <= g->end);
        VC_ASSERT(i == 0 || l.segments[i - 1].start <= g->start);
        const char *nul = memchr(g->phone, '\0', VC_PHONE_NAME_MAX);
        VC_ASSERT(nul && nul > g->phone);
    }
    vc_phone_labels_free(&l);
    return 0;
}
