/* The parameter table: layout (aligned, disjoint, in table order), validation, lookup by name,
 * initialisation as each row says, deterministic for a seed. */
#include "test.h"

#include "nn/params.h"

#include <string.h>

int main(void) {
    vc_rng rng;
    vcu_rng_seed(&rng, test_seed(1));
    const vc_param_spec table[] = {
        {"enc.conv.w", 3, {8, 3, 5}, VC_INIT_UNIFORM, 1.0f, 15, 1},
        {"enc.conv.b", 1, {8}, VC_INIT_ZEROS, 0.0f, 0, 1},
        {"norm.gamma", 1, {7}, VC_INIT_ONES, 0.0f, 0, 1},
        {"codebook", 2, {16, 4}, VC_INIT_NORMAL, 0.5f, 0, 0},
    };
    vc_params p;
    CHECK(vcn_params_init(&p, table, 4, 1) == VC_OK);
    /* the trainable flag travels with the table: the optimiser skips the codebook by it */
    CHECK(vcn_params_trainable(&p, 0) && vcn_params_trainable(&p, 2) &&
          !vcn_params_trainable(&p, 3));
    CHECK(p.n == 4);
    size_t end = 0;
    for (int i = 0; i < p.n; i++) {
        CHECK(p.offset[i] % 16 == 0); /* 64-byte aligned starts */
        CHECK(p.offset[i] >= end);    /* disjoint, in table order */
        end = p.offset[i] + vcn_param_numel(&p.spec[i]);
    }
    CHECK(end <= p.total);
    CHECK(vcn_param_numel(&table[0]) == 120);
    CHECK(vcn_params_find(&p, "norm.gamma") == 2);
    CHECK(vcn_params_find(&p, "nope") == -1);
    CHECK(vcn_params_grad(&p, 1) == p.grad + p.offset[1]);

    vcn_params_randomize(&p, &rng);
    const float *w = vcn_params_data(&p, 0), *g = vcn_params_data(&p, 2),
                *cb = vcn_params_data(&p, 3);
    float bound = 1.0f / sqrtf(15.0f), wmax = 0.0f;
    for (int i = 0; i < 120; i++) wmax = fmaxf(wmax, fabsf(w[i]));
    CHECK(wmax <= bound && wmax > 0.5f * bound); /* 120 draws fill most of the range */
    for (int i = 0; i < 8; i++) CHECK(vcn_params_data(&p, 1)[i] == 0.0f);
    for (int i = 0; i < 7; i++) CHECK(g[i] == 1.0f);
    double var = 0.0;
    for (int i = 0; i < 64; i++) var += (double)cb[i] * cb[i] / 64.0;
    CHECK(var > 0.25 * 0.25 && var < 0.25 * 4.0); /* N(0, 0.5^2): loose bounds for 64 draws */

    /* Same seed, same values. */
    vc_params q;
    CHECK(vcn_params_init(&q, table, 4, 0) == VC_OK);
    CHECK(q.grad == NULL);
    vcu_rng_seed(&rng, 1234);
    vcn_params_randomize(&p, &rng);
    vcu_rng_seed(&rng, 1234);
    vcn_params_randomize(&q, &rng);
    CHECK(!memcmp(p.data, q.data, p.total * sizeof(float)));
    p.grad[3] = 5.0f;
    vcn_params_zero_grad(&p);
    CHECK(p.grad[3] == 0.0f);
    vcn_params_free(&q);
    vcn_params_free(&p);
    vcn_params_free(NULL);

    /* Bad tables are refused. */
    vc_param_spec bad[2] = {table[0], table[0]};
    CHECK(vcn_params_init(&p, bad, 2, 1) == VC_ERR_ARG); /* duplicate name */
    bad[1] = table[1];
    bad[1].shape[0] = 0;
    CHECK(vcn_params_init(&p, bad, 2, 1) == VC_ERR_ARG); /* empty dimension */
    bad[1] = table[1];
    bad[1].ndim = 5;
    CHECK(vcn_params_init(&p, bad, 2, 1) == VC_ERR_ARG);
    bad[1] = table[1];
    bad[1].name[0] = '\0';
    CHECK(vcn_params_init(&p, bad, 2, 1) == VC_ERR_ARG);
    CHECK(vcn_params_init(&p, table, 0, 1) == VC_ERR_ARG);
    return test_finish();
}
