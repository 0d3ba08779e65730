/* Activations and shape ops; see act.h. */
#include "nn/act.h"

#include "nn/norm.h"

#include <math.h>
#include <string.h>

/* Below this many elements a thread team costs more than the loop. */
#define ACT_PAR_MIN 32768

void vcn_relu_forward(float *out, const float *inp, size_t n) {
#pragma omp parallel for if (n >= ACT_PAR_MIN)
    for (size_t i = 0; i < n; i++) out[i] = inp[i] > 0.0f ? inp[i] : 0.0f;
}

void vcn_relu_backward(float *dinp, const float *dout, const float *inp, size_t n) {
#pragma omp parallel for if (n >= ACT_PAR_MIN)
    for (size_t i = 0; i < n; i++)
        if (inp[i] > 0.0f) dinp[i] += dout[i];
}

void vcn_lrelu_forward(float *out, const float *inp, size_t n, float slope) {
#pragma omp parallel for if (n >= ACT_PAR_MIN)
    for (size_t i = 0; i < n; i++) out[i] = inp[i] > 0.0f ? inp[i] : slope * inp[i];
}

void vcn_lrelu_backward(float *dinp, const float *dout, const float *inp, size_t n, float slope) {
#pragma omp parallel for if (n >= ACT_PAR_MIN)
    for (size_t i = 0; i < n; i++) dinp[i] += inp[i] > 0.0f ? dout[i] : slope * dout[i];
}

#define GELU_SCALE 0.7978845608028654f /* sqrt(2 / pi) */
#define GELU_CUBE 0.044715f

void vcn_gelu_forward(float *out, const float *inp, size_t n) {
#pragma omp parallel for if (n >= ACT_PAR_MIN)
    for (size_t i = 0; i < n; i++) {
        float x = inp[i];
        out[i] = 0.5f * x * (1.0f + tanhf(GELU_SCALE * (x + GELU_CUBE * x * x * x)));
    }
}

void vcn_gelu_backward(float *dinp, const float *dout, const float *inp, size_t n) {
#pragma omp parallel for if (n >= ACT_PAR_MIN)
    for (size_t i = 0; i < n; i++) {
        float x = inp[i];
        float th = tanhf(GELU_SCALE * (x + GELU_CUBE * x * x * x));
        /* sech^2 = 1 - tanh^2: llm.c's 1 / cosh^2 overflows cosh for |x| > ~10. */
        float sech2 = 1.0f - th * th;
        float local =
            0.5f * (1.0f + th) + 0.5f * x * sech2 * GELU_SCALE * (1.0f + 3.0f * GELU_CUBE * x * x);
        dinp[i] += local * dout[i];
    }
}

void vcn_add_forward(float *out, const float *a, const float *b, size_t n) {
#pragma omp parallel for if (n >= ACT_PAR_MIN)
    for (size_t i = 0; i < n; i++) out[i] = a[i] + b[i];
}

void vcn_add_backward(float *da, float *db, const float *dout, size_t n) {
#pragma omp parallel for if (n >= ACT_PAR_MIN)
    for (size_t i = 0; i < n; i++) {
        if (da) da[i] += dout[i];
        if (db) db[i] += dout[i];
    }
}

void vcn_upsample_forward(float *out, const float *inp, int B, int C, int T, int r) {
    VC_ASSERT(B > 0 && C > 0 && T > 0 && r > 0);
#pragma omp parallel for
    for (int bc = 0; bc < B * C; bc++) {
        const float *x = inp + (size_t)bc * T; // (T)
        float *y = out + (size_t)bc * T * r;   // (T * r)
        for (int t = 0; t < T; t++)
            for (int k = 0; k < r; k++) y[t * r + k] = x[t];
    }
}

void vcn_upsample_backward(float *dinp, const float *dout, int B, int C, int T, int r) {
#pragma omp parallel for
    for (int bc = 0; bc < B * C; bc++) {
        const float *dy = dout + (size_t)bc * T * r; // (T * r)
        float *dx = dinp + (size_t)bc * T;           // (T)
        for (int t = 0; t < T; t++) {
            float s = 0.0f; /* r is a small factor: float is exact enough */
            for (int k = 0; k < r; k++) s += dy[t * r + k];
            dx[t] += s;
        }
    }
}

void vcn_pool_forward(float *out, const float *inp, int B, int C, int T, float eps) {
    VC_ASSERT(B > 0 && C > 0 && T > 0 && eps > 0.0f);
#pragma omp parallel for
    for (int bc = 0; bc < B * C; bc++) {
        int b = bc / C, c = bc % C;
        double m, v;
        vcn_norm_moments(inp + (size_t)bc * T, T, &m, &v);
        out[(size_t)b * 2 * C + c] = (float)m;
        out[(size_t)b * 2 * C + C + c] = (float)sqrt(v + eps);
    }
}

/* d mean / dx_t = 1 / T; d std / dx_t = (x_t - mean) / (T std) (the mean's own dependence on
 * x_t cancels because the deviations sum to 0). */
void vcn_pool_backward(float *dinp, const float *dout, const float *inp, int B, int C, int T,
                       float eps) {
#pragma omp parallel for
    for (int bc = 0; bc < B * C; bc++) {
        int b = bc / C, c = bc % C;
        const float *x = inp + (size_t)bc * T; // (T)
        float *dx = dinp + (size_t)bc * T;     // (T)
        double m, v;
        vcn_norm_moments(x, T, &m, &v);
        double dm = dout[(size_t)b * 2 * C + c], ds = dout[(size_t)b * 2 * C + C + c];
        double k = ds / (T * sqrt(v + eps));
        for (int t = 0; t < T; t++) dx[t] += (float)(dm / T + (x[t] - m) * k);
    }
}

void vcn_concat_forward(float *out, const float *a, const float *b, int B, int C1, int C2, int T) {
    size_t na = (size_t)C1 * T, nb = (size_t)C2 * T;
    for (int i = 0; i < B; i++) {
        memcpy(out + i * (na + nb), a + i * na, na * sizeof(float));
        memcpy(out + i * (na + nb) + na, b + i * nb, nb * sizeof(float));
    }
}

void vcn_concat_backward(float *da, float *db, const float *dout, int B, int C1, int C2, int T) {
    size_t na = (size_t)C1 * T, nb = (size_t)C2 * T;
    for (int i = 0; i < B; i++) {
        const float *d = dout + i * (na + nb); // (C1 + C2, T)
        if (da) vcn_add_backward(da + i * na, NULL, d, na);
        if (db) vcn_add_backward(db + i * nb, NULL, d + na, nb);
    }
}
