/* conv1d: im2col + SGEMM; see conv1d.h.
 *
 * Layout. The im2col matrix spans the whole batch, col (C K, B T_out), so each pass is one large
 * GEMM (N = B T_out) rather than B thin ones: OpenBLAS runs one 256 x 2048 x 1280 product at
 * ~97% of its square-GEMM peak against ~93% for 16 of 256 x 128 x 1280 (bench/bench_nn.c), and
 * dw needs no accumulation loop over the batch (one GEMM with K = B T_out sums it).
 * The price is a staging tensor (OC, B T_out) between the GEMM's (OC, B, T_out) order and the
 * (B, OC, T_out) activations, a copy that costs one pass over the output (fused with the bias).
 * With B == 1 the two orders coincide and the GEMM reads and writes the activations directly.
 *
 * A pointwise layer (K 1, stride 1, pad 0) needs no im2col: each item of inp already is its col
 * matrix, so it runs one GEMM per item with no scratch.
 *
 * Threads: OpenBLAS threads the GEMMs and OpenMP the copy loops around them (im2col, col2im,
 * staging, bias), each iteration owning disjoint output rows with a fixed order inside, so
 * results are deterministic for a thread count. This relies on the OpenMP build of OpenBLAS
 * (one thread pool, see CMakeLists.txt): with the pthread build the two pools spin-waited
 * against each other on 2 cores and OpenMP copies halved the layer's speed.
 */
#include "nn/conv1d.h"

#include <cblas.h>
#include <string.h>

int vcn_conv1d_out_len(const conv1d *l, int T) {
    int span = T + 2 * l->pad - l->dil * (l->K - 1) - 1;
    return span < 0 ? 0 : span / l->stride + 1; /* C division truncates toward 0, so test first */
}

static int is_pointwise(const conv1d *l) {
    return l->K == 1 && l->stride == 1 && l->pad == 0;
}

size_t vcn_conv1d_scratch_size(const conv1d *l, int B, int T) {
    if (is_pointwise(l)) return 0;
    size_t N = (size_t)B * (size_t)vcn_conv1d_out_len(l, T);
    return ((size_t)l->C * (size_t)l->K + (size_t)l->OC) * N;
}

static void check_args(const conv1d *l, int B, int T) {
    VC_ASSERT(l && l->w && l->C > 0 && l->OC > 0 && l->K > 0);
    VC_ASSERT(l->stride > 0 && l->dil > 0 && l->pad >= 0 && B > 0 && T > 0);
    VC_ASSERT(vcn_conv1d_out_len(l, T) > 0);
}

/* Output positions t in [*t0, *t1) whose input index t * stride + off lies inside [0, T). */
static void valid_range(int off, int stride, int T, int T_out, int *t0, int *t1) {
    int lo = off >= 0 ? 0 : (-off + stride - 1) / stride;
    int hi = T - off <= 0 ? 0 : (T - off + stride - 1) / stride;
    if (hi > T_out) hi = T_out;
    if (lo > hi) lo = hi;
    *t0 = lo;
    *t1 = hi;
}

/* col (C K, B T_out): row c K + k, column b T_out + t holds inp[b, c, t stride + k dil - pad],
 * zero where that index falls in the padding. inp (B, C, T). */
static void im2col(const conv1d *l, float *col, const float *inp, int B, int T, int T_out) {
    const int CK = l->C * l->K;
    const size_t N = (size_t)B * (size_t)T_out;
#pragma omp parallel for schedule(static)
    for (int r = 0; r < CK; r++) {
        const int c = r / l->K, off = (r % l->K) * l->dil - l->pad;
        int t0, t1;
        valid_range(off, l->stride, T, T_out, &t0, &t1);
        for (int b = 0; b < B; b++) {
            float *dst = col + (size_t)r * N + (size_t)b * (size_t)T_out;
            const float *src = inp + ((size_t)b * (size_t)l->C + (size_t)c) * (size_t)T;
            for (int t = 0; t < t0; t++) dst[t] = 0.0f;
            if (t1 > t0 && l->stride == 1)
                memcpy(dst + t0, src + t0 + off, (size_t)(t1 - t0) * sizeof(float));
            else
                for (int t = t0; t < t1; t++) dst[t] = src[t * l->stride + off];
            for (int t = t1; t < T_out; t++) dst[t] = 0.0f;
        }
    }
}

/* The adjoint of im2col: adds dcol (C K, B T_out) into dinp (B, C, T). Iterations own disjoint
 * rows (b, c) of dinp and add their K taps in order: deterministic, no atomics. */
static void col2im_add(const conv1d *l, float *dinp, const float *dcol, int B, int T, int T_out) {
    const int BC = B * l->C;
    const size_t N = (size_t)B * (size_t)T_out;
#pragma omp parallel for schedule(static)
    for (int bc = 0; bc < BC; bc++) {
        const int b = bc / l->C, c = bc % l->C;
        float *dst = dinp + (size_t)bc * (size_t)T;
        for (int k = 0; k < l->K; k++) {
            const int off = k * l->dil - l->pad;
            const float *src = dcol + (size_t)(c * l->K + k) * N + (size_t)b * (size_t)T_out;
            int t0, t1;
            valid_range(off, l->stride, T, T_out, &t0, &t1);
            if (l->stride == 1) /* the common case, kept apart so that it vectorises */
                for (int t = t0; t < t1; t++) dst[t + off] += src[t];
            else
                for (int t = t0; t < t1; t++) dst[t * l->stride + off] += src[t];
        }
    }
}

/* out (B, OC, T_out) = stage (OC, B T_out) reordered, plus bias (OC) if non-NULL. */
static void unstage(float *out, const float *stage, const float *bias, int B, int OC, int T_out) {
    const int BO = B * OC;
    const size_t N = (size_t)B * (size_t)T_out;
#pragma omp parallel for schedule(static)
    for (int bo = 0; bo < BO; bo++) {
        const int b = bo / OC, o = bo % OC;
        const float *src = stage + (size_t)o * N + (size_t)b * (size_t)T_out;
        float *dst = out + (size_t)bo * (size_t)T_out;
        const float bv = bias ? bias[o] : 0.0f;
        for (int t = 0; t < T_out; t++) dst[t] = src[t] + bv;
    }
}

/* stage (OC, B T_out) = dout (B, OC, T_out) reordered. */
static void stage_dout(float *stage, const float *dout, int B, int OC, int T_out) {
    const int BO = B * OC;
    const size_t N = (size_t)B * (size_t)T_out;
#pragma omp parallel for schedule(static)
    for (int bo = 0; bo < BO; bo++) {
        const int b = bo / OC, o = bo % OC;
        memcpy(stage + (size_t)o * N + (size_t)b * (size_t)T_out, dout + (size_t)bo * (size_t)T_out,
               (size_t)T_out * sizeof(float));
    }
}

/* x (B, OC, T) += bias (OC) broadcast. */
static void add_bias(float *x, const float *bias, int B, int OC, int T) {
    const int BO = B * OC;
#pragma omp parallel for schedule(static)
    for (int bo = 0; bo < BO; bo++) {
        float *row = x + (size_t)bo * (size_t)T;
        const float bv = bias[bo % OC];
        for (int t = 0; t < T; t++) row[t] += bv;
    }
}

/* db (OC) += dout (B, OC, T) summed over b and t, in double, in a fixed order. */
static void add_dbias(float *db, const float *dout, int B, int OC, int T) {
#pragma omp parallel for schedule(static)
    for (int o = 0; o < OC; o++) {
        double s = 0.0;
        for (int b = 0; b < B; b++) {
            const float *row = dout + ((size_t)b * (size_t)OC + (size_t)o) * (size_t)T;
            for (int t = 0; t < T; t++) s += (double)row[t];
        }
        db[o] += (float)s;
    }
}

void vcn_conv1d_forward(const conv1d *l, float *out, const float *inp, int B, int T,
                        float *scratch) {
    check_args(l, B, T);
    VC_ASSERT(out && inp);
    const int T_out = vcn_conv1d_out_len(l, T), C = l->C, OC = l->OC, CK = l->C * l->K;
    if (is_pointwise(l)) {
        for (int b = 0; b < B; b++) /* out_b (OC, T) = w (OC, C) inp_b (C, T) */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, OC, T, C, 1.0f, l->w, C,
                        inp + (size_t)b * (size_t)C * (size_t)T, T, 0.0f,
                        out + (size_t)b * (size_t)OC * (size_t)T, T);
        if (l->b) add_bias(out, l->b, B, OC, T);
        return;
    }
    VC_ASSERT(scratch);
    const int N = B * T_out;
    float *col = scratch;                            // (C K, B T_out)
    float *stage = scratch + (size_t)CK * (size_t)N; // (OC, B T_out)
    im2col(l, col, inp, B, T, T_out);
    if (B == 1) stage = out; /* (OC, 1 T_out) is already the activation layout */
    /* stage (OC, N) = w (OC, C K) col (C K, N) */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, OC, N, CK, 1.0f, l->w, CK, col, N, 0.0f,
                stage, N);
    if (B == 1) {
        if (l->b) add_bias(out, l->b, 1, OC, T_out);
    } else {
        unstage(out, stage, l->b, B, OC, T_out);
    }
}

void vcn_conv1d_backward(const conv1d *l, float *dinp, const float *dout, const float *inp, int B,
                         int T, float *scratch) {
    check_args(l, B, T);
    VC_ASSERT(dout && inp);
    const int T_out = vcn_conv1d_out_len(l, T), C = l->C, OC = l->OC, CK = l->C * l->K;
    if (l->db) add_dbias(l->db, dout, B, OC, T_out);
    if (is_pointwise(l)) {
        /* Items in order, each GEMM adding (beta 1): a fixed summation order for dw. */
        for (int b = 0; b < B; b++) {
            const float *x = inp + (size_t)b * (size_t)C * (size_t)T;   // (C, T)
            const float *g = dout + (size_t)b * (size_t)OC * (size_t)T; // (OC, T)
            if (l->dw) /* dw (OC, C) += g (OC, T) x^T (T, C) */
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, OC, C, T, 1.0f, g, T, x, T,
                            1.0f, l->dw, C);
            if (dinp) /* dinp_b (C, T) += w^T (C, OC) g (OC, T) */
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, C, T, OC, 1.0f, l->w, C, g, T,
                            1.0f, dinp + (size_t)b * (size_t)C * (size_t)T, T);
        }
        return;
    }
    if (!l->dw && !dinp) return;
    VC_ASSERT(scratch);
    const int N = B * T_out;
    float *col = scratch;       // (C K, B T_out): the input's columns, then their gradient
    const float *dstage = dout; // (OC, B T_out)
    if (B > 1) {
        float *stage = scratch + (size_t)CK * (size_t)N;
        stage_dout(stage, dout, B, OC, T_out);
        dstage = stage;
    }
    if (l->dw) {
        im2col(l, col, inp, B, T, T_out);
        /* dw (OC, C K) += dstage (OC, N) col^T (N, C K): one GEMM sums the batch */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, OC, CK, N, 1.0f, dstage, N, col, N,
                    1.0f, l->dw, CK);
    }
    if (dinp) {
        /* dcol (C K, N) = w^T (C K, OC) dstage (OC, N), overwriting col */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, CK, N, OC, 1.0f, l->w, CK, dstage, N,
                    0.0f, col, N);
        col2im_add(l, dinp, col, B, T, T_out);
    }
}
