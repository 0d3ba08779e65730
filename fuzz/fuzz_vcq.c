/* libFuzzer target for the .vcq codec stream parser: any bytes through vcq_parse, without a code
 * prior and with one (of 512 codes, the bundled model's codebook); a stream it accepts is written
 * again and must parse to the same fields and bytes (the writer and parser agree). Must never
 * crash, leak or trip a sanitizer. */
#include "codec/stream.h"

#include "common.h"

#include <string.h>

#include "quiet_log.h"

#define PRIOR_CODES 512

/* Parses bytes; an accepted stream must survive a write and a parse unchanged. */
static void check(const uint8_t *bytes, size_t size, const uint16_t *prior) {
    vcq_stream s;
    if (vcq_parse(bytes, size, prior, prior ? PRIOR_CODES : 0, &s, NULL) != VC_OK) return;
    const uint16_t *used = s.flags & VCQ_FLAG_PRIOR ? prior : NULL;
    uint8_t *again = NULL;
    size_t n = 0;
    vc_status st = vcq_write(&s, used, &again, &n, NULL);
    VC_ASSERT(st == VC_OK || st == VC_ERR_NOMEM);
    if (st == VC_OK) {
        vcq_stream t;
        VC_ASSERT(vcq_parse(again, n, used, used ? PRIOR_CODES : 0, &t, NULL) == VC_OK);
        VC_ASSERT(t.n_codes == s.n_codes && t.spk_dim == s.spk_dim);
        VC_ASSERT(memcmp(t.codes, s.codes, sizeof *s.codes * (size_t)s.n_codes) == 0);
        VC_ASSERT(memcmp(t.f0q, s.f0q, sizeof *s.f0q * (size_t)s.n_codes) == 0);
        VC_ASSERT(memcmp(t.spk, s.spk, (size_t)s.spk_dim) == 0 && t.spk_step == s.spk_step);
        vcq_stream_free(&t);
    }
    free(again);
    vcq_stream_free(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Both checks of one input: without a prior and with a skewed one. */
static void check_both(const uint8_t *bytes, size_t size) {
    static uint16_t prior[PRIOR_CODES];
    if (!prior[0]) {
        uint32_t raw[PRIOR_CODES];
        for (int i = 0; i < PRIOR_CODES; i++) raw[i] = (uint32_t)(i * 37 % 101);
        vcq_prior_counts(raw, PRIOR_CODES, prior);
    }
    check(bytes, size, NULL);
    check(bytes, size, prior);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    vc_log_set(quiet_log, NULL);
    check_both(data ? data : (const uint8_t *)"", size);
    /* The CRC rejects almost every mutation before the range decoders see it: fuzz them too
     * with the checksum made right. */
    if (size < 8) return 0;
    uint8_t *fixed = malloc(size);
    if (!fixed) return 0;
    memcpy(fixed, data, size);
    uint32_t c = vcq_crc32(fixed, size - 4);
    for (int i = 0; i < 4; i++) fixed[size - 4 + i] = (uint8_t)(c >> (8 * i));
    check_both(fixed, size);
    free(fixed);
    return 0;
}
