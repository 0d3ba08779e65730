/* linear: one SGEMM per pass; see linear.h. OpenBLAS threads the GEMMs; the bias loops are
 * short (B x OC) and stay serial, in a fixed order, so results are deterministic. */
#include "nn/linear.h"

#include <cblas.h>

static void check_args(const linear *l, int B) {
    VC_ASSERT(l && l->w && l->C > 0 && l->OC > 0 && B > 0);
}

void vcn_linear_forward(const linear *l, float *out, const float *inp, int B) {
    check_args(l, B);
    VC_ASSERT(out && inp);
    const int C = l->C, OC = l->OC;
    /* out (B, OC) = inp (B, C) w^T (C, OC) */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, OC, C, 1.0f, inp, C, l->w, C, 0.0f, out,
                OC);
    if (l->b)
        for (int i = 0; i < B; i++)
            for (int o = 0; o < OC; o++) out[(size_t)i * (size_t)OC + (size_t)o] += l->b[o];
}

void vcn_linear_backward(const linear *l, float *dinp, const float *dout, const float *inp, int B) {
    check_args(l, B);
    VC_ASSERT(dout && inp);
    const int C = l->C, OC = l->OC;
    if (l->db)
        for (int o = 0; o < OC; o++) {
            double s = 0.0; /* fixed order over the batch, in double */
            for (int i = 0; i < B; i++) s += (double)dout[(size_t)i * (size_t)OC + (size_t)o];
            l->db[o] += (float)s;
        }
    if (l->dw) /* dw (OC, C) += dout^T (OC, B) inp (B, C) */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, C, B, 1.0f, dout, OC, inp, C, 1.0f,
                    l->dw, C);
    if (dinp) /* dinp (B, C) += dout (B, OC) w (OC, C) */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, C, OC, 1.0f, dout, OC, l->w, C,
                    1.0f, dinp, C);
}
