/* libFuzzer target for vconv convert's pairs file (src/cli/convert_plan.c): any bytes through
 * convert_plan_parse. What it accepts must be a consistent plan: every pair's source and
 * reference in range, pairs grouped by source as source_start says, names non-empty. Must never
 * crash, leak or trip a sanitizer. */
#include "cli/convert.h"

#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) abort();                                                                      \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    convert_plan p;
    char err[512];
    if (convert_plan_parse(&p, (const char *)data, size, err, sizeof err) != 0) {
        CHECK(err[0] && !p.pair_source && !p.storage);
        return 0;
    }
    CHECK(p.n_pairs > 0 && p.n_sources > 0 && p.n_refs > 0 && p.source_start[0] == 0);
    CHECK(p.source_start[p.n_sources] == p.n_pairs);
    for (int i = 0; i < p.n_sources; i++) {
        CHECK(p.sources[i][0] && p.source_start[i] < p.source_start[i + 1]);
        for (int k = p.source_start[i]; k < p.source_start[i + 1]; k++)
            CHECK(p.pair_source[k] == i);
    }
    for (int k = 0; k < p.n_pairs; k++) CHECK(p.pair_ref[k] >= 0 && p.pair_ref[k] < p.n_refs);
    for (int v = 0; v < p.n_refs; v++) CHECK(p.refs[v][0] && !strchr(p.refs[v], '\n'));
    convert_plan_free(&p);
    return 0;
}
