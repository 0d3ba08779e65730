/* The voice-conversion model (src/model/): config presets, JSON and metadata round trips; the
 * parameter table (count, unique names, every tensor bound); shapes and finiteness of a
 * forward; a whole-model finite-difference gradient check (every parameter tensor and the
 * inputs x, xs, p) with the VQ bypassed; the straight-through path with it on; inference entry
 * points against the training forward; save -> load bit-exact; bad files rejected;
 * determinism. Files go to a mkdtemp folder under /tmp, removed at the end. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include "test.h"

#include "gradcheck.h"
#include "io/params_file.h"
#include "model/model.h"
#include "tempdir.h"

#include <string.h>

static int config_equal(const vcm_config *a, const vcm_config *b) {
    return a->sample_rate == b->sample_rate && a->n_fft == b->n_fft && a->hop == b->hop &&
           a->n_mels == b->n_mels && a->n_bins == b->n_bins && a->channels == b->channels &&
           a->res_blocks == b->res_blocks && a->code_dim == b->code_dim &&
           a->codebook_size == b->codebook_size && a->spk_channels == b->spk_channels &&
           a->spk_dim == b->spk_dim && a->dec_blocks == b->dec_blocks &&
           a->postnet_channels == b->postnet_channels && a->beta == b->beta &&
           a->ema_decay == b->ema_decay && a->fmin == b->fmin && a->fmax == b->fmax &&
           a->f0_min == b->f0_min && a->f0_max == b->f0_max && a->retrieval == b->retrieval &&
           a->phone_head == b->phone_head && a->envelope == b->envelope;
}

/* The gradient-check config: tiny's structure at a fraction of its width, with a small front
 * end (n_fft 32: F 17; M 6) so every tensor can be sampled densely, and GELU in place of ReLU:
 * a weight moves hundreds of ReLU inputs, so with ReLU most finite differences cross a kink
 * (up to 88% of a tensor's coordinates, measured) and could only be skipped. The wiring is
 * the same code for both activations; ReLU's own backward is checked in test_act.c. */
static vcm_config small_config(void) {
    vcm_config c;
    if (vcm_config_preset("tiny", &c) != VC_OK) abort();
    c.n_fft = 32, c.n_bins = 17, c.n_mels = 6;
    c.channels = 8, c.code_dim = 4, c.codebook_size = 8, c.spk_channels = 8, c.spk_dim = 4;
    c.postnet_channels = 8;
    c.activation = VCM_ACT_GELU;
    return c;
}

/* Random inputs for (B, T, Ts). */
typedef struct batch {
    int B, T, Ts;
    float *x, *p, *xs, *mel_t, *lin_t; // (B,M,T) (B,2,T) (B,M,Ts) (B,M,T) (B,F,T)
    float *r;                          // (B,M+1,T) retrieval input, or NULL
} batch;

static void batch_init(batch *b, const vcm_config *c, int B, int T, int Ts, vc_rng *rng) {
    size_t M = (size_t)c->n_mels, F = (size_t)c->n_bins;
    b->B = B, b->T = T, b->Ts = Ts;
    b->x = malloc(sizeof(float) * B * M * T);
    b->p = malloc(sizeof(float) * B * 2 * T);
    b->xs = malloc(sizeof(float) * B * M * Ts);
    b->mel_t = malloc(sizeof(float) * B * M * T);
    b->lin_t = malloc(sizeof(float) * B * F * T);
    if (!b->x || !b->p || !b->xs || !b->mel_t || !b->lin_t) abort();
    gc_randn(b->x, B * M * T, 1.0f, rng);
    gc_randn(b->p, B * 2 * T, 1.0f, rng);
    gc_randn(b->xs, B * M * Ts, 1.0f, rng);
    gc_randn(b->mel_t, B * M * T, 1.0f, rng);
    gc_randn(b->lin_t, B * F * T, 1.0f, rng);
    b->r = NULL;
    if (c->retrieval) {
        b->r = malloc(sizeof(float) * B * (M + 1) * T);
        if (!b->r) abort();
        gc_randn(b->r, B * (M + 1) * T, 1.0f, rng);
    }
}

static void batch_free(batch *b) {
    free(b->x), free(b->p), free(b->xs), free(b->mel_t), free(b->lin_t), free(b->r);
}

static int all_finite(const float *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

static void test_config(const char *dir) {
    vcm_config tiny, def, c;
    CHECK(vcm_config_preset("tiny", &tiny) == VC_OK && vcm_config_validate(&tiny) == VC_OK);
    CHECK(vcm_config_preset("default", &def) == VC_OK && vcm_config_validate(&def) == VC_OK);
    CHECK(def.n_mels == 80 && def.n_bins == 513 && def.channels == 256 && tiny.channels == 32);
    CHECK(vcm_config_preset("huge", &c) == VC_ERR_ARG);
    c = tiny, c.n_bins = 100;
    CHECK(vcm_config_validate(&c) == VC_ERR_ARG);
    c = tiny, c.ema_decay = 1.0f;
    CHECK(vcm_config_validate(&c) == VC_ERR_ARG);

    /* JSON: write, read back, compare every field; an odd float survives */
    c = tiny, c.beta = 0.123456789f, c.channels = 48, c.retrieval = 1;
    char *json = NULL;
    CHECK(vcm_config_to_json(&c, &json) == VC_OK && json);
    vcm_config back;
    CHECK(vcm_config_from_json(json, &back) == VC_OK && config_equal(&c, &back));
    free(json);
    CHECK(vcm_config_from_json("{\"preset\": \"tiny\", \"channels\": 40, \"n_fft\": 512}", &back) ==
          VC_OK);
    CHECK(back.channels == 40 && back.n_bins == 257 && back.code_dim == tiny.code_dim);
    CHECK(vcm_config_from_json("{}", &back) == VC_OK && config_equal(&back, &def));
    fprintf(stderr, "expect 5 config errors:\n");
    CHECK(vcm_config_from_json("{\"preset\": \"tiny\", \"chanels\": 40}", &back) == VC_ERR_FORMAT);
    CHECK(vcm_config_from_json("{\"channels\": 40.5}", &back) == VC_ERR_FORMAT);
    CHECK(vcm_config_from_json("[1]", &back) == VC_ERR_FORMAT);
    CHECK(vcm_config_from_json("{\"preset\": \"nope\"}", &back) == VC_ERR_ARG);
    CHECK(vcm_config_from_json("{\"channels\": 0}", &back) == VC_ERR_ARG);

    /* metadata: through a real file, as the model loader sees it */
    vcm_config_meta cm;
    vcm_config_to_meta(&c, &cm);
    char path[512];
    join(path, sizeof path, dir, "meta.safetensors");
    float one = 1.0f;
    st_tensor_out t = {.name = "x", .ndim = 1, .shape = {1}, .data = &one};
    CHECK(vci_safetensors_write(path, &t, 1, cm.kv, cm.n, ST_F32) == VC_OK);
    st_file f;
    CHECK(vci_safetensors_load(path, &f) == VC_OK);
    CHECK(vcm_config_from_meta(&f, path, &back) == VC_OK && config_equal(&c, &back));
    vci_safetensors_free(&f);
    fprintf(stderr, "config: presets, JSON and metadata round trips ok (%d meta keys)\n", cm.n);
}

static void test_table(void) {
    const char *names[] = {"tiny", "default"};
    for (int k = 0; k < 2; k++) {
        vcm_config c;
        vcm_model m;
        CHECK(vcm_config_preset(names[k], &c) == VC_OK);
        CHECK(vcm_model_init(&m, &c, k == 0) == VC_OK);
        int dup = 0;
        for (int i = 0; i < m.n_spec; i++)
            for (int j = i + 1; j < m.n_spec; j++) dup += !strcmp(m.spec[i].name, m.spec[j].name);
        CHECK(dup == 0);
        CHECK(vcm_model_unbound(&m) == 0);
        CHECK(m.params.n == m.n_spec);
        int frozen = 0; /* the optimiser skips exactly the codebook, which its EMA owns */
        for (int i = 0; i < m.params.n; i++)
            if (!vcn_params_trainable(&m.params, i))
                frozen += 1 + 100 * (strcmp(m.params.spec[i].name, "vq.codebook") != 0);
        CHECK(frozen == 1);
        fprintf(stderr, "preset %-7s: %d tensors, %zu parameters (%.2f M)\n", names[k], m.n_spec,
                vcm_model_n_params(&m), vcm_model_n_params(&m) / 1e6);
        vcm_model_free(&m);
    }
    /* the retrieval input adds one conv, bound, whose weights start at zero (model.h) */
    vcm_config c;
    vcm_model m, m0;
    CHECK(vcm_config_preset("tiny", &c) == VC_OK && vcm_model_init(&m0, &c, 0) == VC_OK);
    c.retrieval = 1;
    CHECK(vcm_model_init(&m, &c, 1) == VC_OK);
    CHECK(vcm_model_unbound(&m) == 0 && m.n_spec == m0.n_spec + 2);
    vc_rng rng;
    vcu_rng_seed(&rng, 3);
    vcm_model_randomize(&m, &rng);
    int nonzero = 0;
    for (int i = 0; i < m.d_ret.OC * m.d_ret.C * m.d_ret.K; i++) nonzero += m.d_ret.w[i] != 0.0f;
    CHECK(nonzero == 0 && m.d_ret.C == c.n_mels + 1 && m.d_ret.OC == c.channels);
    vcm_model_free(&m);
    vcm_model_free(&m0);
}

/* Forward shapes and values; the inference entry points against the training forward. */
static void test_shapes(vc_rng *rng) {
    vcm_config c;
    CHECK(vcm_config_preset("tiny", &c) == VC_OK);
    vcm_model m;
    vcm_workspace ws;
    CHECK(vcm_model_init(&m, &c, 1) == VC_OK);
    vcm_model_randomize(&m, rng);
    int B = 2, T = 32, Ts = 24, M = c.n_mels, F = c.n_bins;
    CHECK(vcm_workspace_init(&ws, &m, B, T, Ts) == VC_OK);
    batch b;
    batch_init(&b, &c, B, T, Ts, rng);
    vcm_losses L;
    vcm_forward_train(&m, &ws, b.x, b.p, b.xs, NULL, b.mel_t, b.lin_t, 1, NULL, &L);
    CHECK(all_finite(ws.mel.v, (size_t)B * M * T) && all_finite(ws.lin.v, (size_t)B * F * T));
    CHECK(all_finite(ws.z.v, (size_t)B * c.code_dim * T / 2) &&
          all_finite(ws.spk.v, (size_t)B * c.spk_dim));
    int codes_ok = 1;
    for (int i = 0; i < B * T / 2; i++) codes_ok &= ws.idx[i] >= 0 && ws.idx[i] < c.codebook_size;
    CHECK(codes_ok);
    CHECK(isfinite(L.total) && L.mel > 0 && L.lin > 0 && L.commit > 0);
    CHECK_NEAR(L.total, L.mel + L.lin + L.commit, 1e-12, 1e-12);
    fprintf(stderr,
            "tiny forward B %d T %d Ts %d: mel (%d,%d,%d) lin (%d,%d,%d) loss mel %.4f lin %.4f "
            "commit %.4f\n",
            B, T, Ts, B, M, T, B, F, T, L.mel, L.lin, L.commit);
    vcn_params_zero_grad(&m.params);
    vcm_backward(&m, &ws);
    CHECK(all_finite(m.params.grad, m.params.total) && all_finite(ws.dx, (size_t)B * M * T));

    /* Batch item 1 through encode_content / encode_speaker / decode must give the training
     * forward's outputs exactly (same ops in the same order; B = 1 GEMMs differ in shape, so
     * allow float rounding). */
    vcm_workspace wi;
    CHECK(vcm_workspace_init(&wi, &m, 1, T, Ts) == VC_OK);
    int *codes = malloc(sizeof(int) * T / 2);
    float *spk = malloc(sizeof(float) * c.spk_dim);
    float *mel = malloc(sizeof(float) * M * T), *lin = malloc(sizeof(float) * F * T);
    CHECK(vcm_encode_content(&m, &wi, b.x + (size_t)M * T, T, codes) == VC_OK);
    CHECK(memcmp(codes, ws.idx + T / 2, sizeof(int) * T / 2) == 0);
    CHECK(vcm_encode_speaker(&m, &wi, b.xs + (size_t)M * Ts, Ts, spk) == VC_OK);
    CHECK(vcm_decode(&m, &wi, codes, NULL, 0.0f, T / 2, spk, b.p + 2 * T, NULL, mel, lin) == VC_OK);
    /* 1e-5: outputs are O(1); batched and single GEMMs may sum in another order */
    CHECK(check_tensor("decode mel", mel, ws.mel.v + (size_t)M * T, (size_t)M * T, 1e-5, 1e-5));
    CHECK(check_tensor("decode lin", lin, ws.lin.v + (size_t)F * T, (size_t)F * T, 1e-5, 1e-5));
    /* The continuous content: blend 0 is the codes exactly; blend 1 reads the encoder's output
     * before quantisation, as the training forward without the codebook does. */
    size_t nz = (size_t)c.code_dim * T / 2;
    float *z = malloc(sizeof(float) * nz), *mel2 = malloc(sizeof(float) * M * T);
    memcpy(z, wi.z.v, sizeof(float) * nz);
    CHECK(vcm_decode(&m, &wi, codes, z, 0.0f, T / 2, spk, b.p + 2 * T, NULL, mel2, lin) == VC_OK);
    CHECK(memcmp(mel, mel2, sizeof(float) * M * T) == 0);
    CHECK(vcm_decode(&m, &wi, codes, z, 1.0f, T / 2, spk, b.p + 2 * T, NULL, mel2, lin) == VC_OK);
    CHECK(memcmp(mel, mel2, sizeof(float) * M * T) != 0);
    vcm_forward_train(&m, &ws, b.x, b.p, b.xs, NULL, b.mel_t, b.lin_t, 0, NULL, &L);
    CHECK(check_tensor("decode mel, continuous", mel2, ws.mel.v + (size_t)M * T, (size_t)M * T,
                       1e-5, 1e-5));
    CHECK(check_tensor("decode lin, continuous", lin, ws.lin.v + (size_t)F * T, (size_t)F * T, 1e-5,
                       1e-5));
    /* Training on blended content (vc_train_params.continuous_content): item b's decoder reads
     * code + blend[b] (z - code), what vcm_decode gives it at that blend; the commitment loss
     * still measures z against the codes. */
    vcm_losses Lb;
    vcm_forward_train(&m, &ws, b.x, b.p, b.xs, NULL, b.mel_t, b.lin_t, 1, NULL, &L);
    float *mel_codes = malloc(sizeof(float) * (size_t)B * M * T);
    memcpy(mel_codes, ws.mel.v, sizeof(float) * (size_t)B * M * T);
    const float blend[2] = {0.0f, 0.37f};
    vcm_forward_train(&m, &ws, b.x, b.p, b.xs, NULL, b.mel_t, b.lin_t, 1, blend, &Lb);
    CHECK(Lb.commit == L.commit && Lb.mel != L.mel);
    CHECK(check_tensor("blend 0 item", ws.mel.v, mel_codes, (size_t)M * T, 1e-6, 1e-6));
    memcpy(z, ws.z.v + nz, sizeof(float) * nz);
    CHECK(vcm_decode(&m, &wi, codes, z, blend[1], T / 2, spk, b.p + 2 * T, NULL, mel2, lin) ==
          VC_OK);
    CHECK(check_tensor("decode mel, blend 0.37", mel2, ws.mel.v + (size_t)M * T, (size_t)M * T,
                       1e-5, 1e-5));
    free(mel_codes);
    free(z), free(mel2);
    /* shorter input through the same workspace */
    CHECK(vcm_encode_content(&m, &wi, b.x, T / 2, codes) == VC_OK);
    fprintf(stderr, "expect 3 argument errors:\n");
    CHECK(vcm_encode_content(&m, &wi, b.x, T + 2, codes) == VC_ERR_ARG);
    CHECK(vcm_encode_content(&m, &wi, b.x, 7, codes) == VC_ERR_ARG);
    codes[0] = c.codebook_size;
    CHECK(vcm_decode(&m, &wi, codes, NULL, 0.0f, T / 2, spk, b.p, NULL, mel, lin) == VC_ERR_ARG);
    free(codes), free(spk), free(mel), free(lin);
    vcm_workspace_free(&wi);
    batch_free(&b);
    vcm_workspace_free(&ws);
    vcm_model_free(&m);
}

/* Gradient check contexts: the outputs (mel, lin) as one vector for the projection, or the
 * total loss minus its value at the start (so the float holds the difference precisely). */
typedef struct gc_ctx {
    const vcm_model *m;
    vcm_workspace *ws;
    batch *b;
    size_t n_mel, n_lin;
    double base; /* loss at the unperturbed point (loss mode) */
} gc_ctx;

static void fwd_outputs(void *ctx, float *out) {
    gc_ctx *g = ctx;
    vcm_forward_train(g->m, g->ws, g->b->x, g->b->p, g->b->xs, g->b->r, g->b->mel_t, g->b->lin_t, 0,
                      NULL, NULL);
    memcpy(out, g->ws->mel.v, g->n_mel * sizeof(float));
    memcpy(out + g->n_mel, g->ws->lin.v, g->n_lin * sizeof(float));
}

static void fwd_loss(void *ctx, float *out) {
    gc_ctx *g = ctx;
    vcm_losses L;
    vcm_forward_train(g->m, g->ws, g->b->x, g->b->p, g->b->xs, g->b->r, g->b->mel_t, g->b->lin_t, 0,
                      NULL, &L);
    out[0] = (float)(L.total - g->base);
}

/* Exact kink detection for the whole model: the sign of every ReLU input (with ReLU as the
 * activation) and, for the loss check, of every L1 residual pred - target, is recorded at the
 * base point; a coordinate whose +-eps forwards change any of them crosses a kink and is
 * skipped. Between kinks the model is smooth (convs, instance norms, AdaIN, pooling, GELU), so
 * every other coordinate must agree. The harness's own detector (one-sided slopes that fail to
 * converge) misses crossings here: a weight moves dozens of kink inputs, and one crossing
 * changes the slope by a few percent only, less than its test notices, yet more than rtol. */
typedef struct sign_rec {
    int n;
    const float *ptr[64]; /* ReLU inputs in the workspace */
    const float *ref[64]; /* compared against (L1 targets), or NULL for 0 */
    size_t len[64];
    unsigned char *base; /* signs at the base point, concatenated */
    size_t total;
} sign_rec;

static void sign_rec_init(sign_rec *s, const vcm_model *m, const vcm_workspace *ws, int B, int T,
                          int Ts) {
    const vcm_config *c = &m->cfg;
    size_t nC = (size_t)B * c->channels * T, nS = (size_t)B * c->spk_channels * Ts;
    s->n = 0;
#define ADD(p, l) (s->ptr[s->n] = (p), s->ref[s->n] = NULL, s->len[s->n++] = (l))
    if (c->activation != VCM_ACT_RELU) nC = nS = 0; /* GELU: no kinks; empty entries */
    ADD(ws->c_n.v, nC);
    for (int i = 0; i < c->res_blocks; i++) ADD(ws->res[i].n.v, nC);
    ADD(ws->dn_n.v, nC / 2);
    for (int k = 0; k < VCM_SPK_CONVS; k++) ADD(ws->s_a[k].v, nS);
    for (int i = 0; i < c->dec_blocks; i++) ADD(ws->blk[i].b.v, nC);
    ADD(ws->pa.v, c->activation == VCM_ACT_RELU ? (size_t)B * c->postnet_channels * T : 0);
#undef ADD
    VC_ASSERT(s->n <= 64);
    s->total = 0;
    for (int i = 0; i < s->n; i++) s->total += s->len[i];
    s->base = malloc(s->total);
    if (!s->base) abort();
}

/* Records (store != 0) or compares the current signs; returns how many differ. */
static size_t sign_rec_diff(sign_rec *s, int store) {
    size_t k = 0, diff = 0;
    for (int i = 0; i < s->n; i++)
        for (size_t j = 0; j < s->len[i]; j++, k++) {
            unsigned char sg = s->ptr[i][j] > (s->ref[i] ? s->ref[i][j] : 0.0f);
            if (store)
                s->base[k] = sg;
            else
                diff += sg != s->base[k];
        }
    return diff;
}

/* The harness's comparison with exact kink detection: central differences at up to
 * o->max_coords coordinates of x (n) against grad; coordinates crossing a ReLU kink skipped
 * and counted (at most o->max_kink_share of them). */
static int gradcheck_signs(const char *name, const gc_loss *L, sign_rec *s, float *x,
                           const float *grad, size_t n, const gc_opts *o, vc_rng *rng) {
    int coords = (size_t)o->max_coords < n ? o->max_coords : (int)n, kinks = 0, bad = 0;
    double worst_abs = 0.0, worst_rel = 0.0, wfd = 0.0, wan = 0.0;
    gc_eval(L);
    sign_rec_diff(s, 1);
    for (int c = 0; c < coords; c++) {
        size_t i = coords == (int)n ? (size_t)c : (size_t)(vcu_rng_u32(rng) % (uint32_t)n);
        float saved = x[i];
        x[i] = saved + (float)o->eps;
        double hp = (double)x[i] - saved, Lp = gc_eval(L);
        size_t flips = sign_rec_diff(s, 0);
        x[i] = saved - (float)o->eps;
        double hm = saved - (double)x[i], Lm = gc_eval(L);
        flips += sign_rec_diff(s, 0);
        x[i] = saved;
        if (flips) {
            kinks++;
            continue;
        }
        double fd = (Lp - Lm) / (hp + hm), an = grad[i], err = fabs(fd - an);
        double big = fmax(fabs(fd), fabs(an));
        if (err > o->atol + o->rtol * big) {
            if (!bad || err > fabs(wfd - wan)) wfd = fd, wan = an;
            bad++;
        }
        worst_abs = fmax(worst_abs, err);
        if (big > o->atol) worst_rel = fmax(worst_rel, err / big);
    }
    gc_eval(L); /* leave the workspace at the base point */
    int ok = bad == 0 && kinks <= o->max_kink_share * coords;
    fprintf(stderr,
            "gradcheck %-36s %s: %d coords, %d kinks skipped, %d bad, max abs err %.2g, max rel "
            "err %.2g",
            name, ok ? "ok" : "FAILED", coords, kinks, bad, worst_abs, worst_rel);
    if (bad) fprintf(stderr, " (worst: fd %.6g analytic %.6g)", wfd, wan);
    fputc('\n', stderr);
    return ok;
}

/* Checks every parameter tensor and the three inputs against L; grads copied before the
 * harness re-runs forwards. Returns the number of failed checks. */
static int check_all(const char *tag, const vcm_model *m, vcm_workspace *ws, batch *b,
                     const gc_loss *L, const gc_opts *o, sign_rec *s, vc_rng *rng) {
    int failed = 0;
    const vcm_config *c = &m->cfg;
    for (int i = 0; i < m->params.n; i++) {
        size_t n = vcn_param_numel(&m->params.spec[i]);
        float *g = copy_of(vcn_params_grad(&m->params, i), n);
        char name[96];
        snprintf(name, sizeof name, "%s %s", tag, m->params.spec[i].name);
        failed += !gradcheck_signs(name, L, s, vcn_params_data(&m->params, i), g, n, o, rng);
        free(g);
    }
    size_t nx = (size_t)b->B * c->n_mels * b->T, np = (size_t)b->B * 2 * b->T;
    size_t nxs = (size_t)b->B * c->n_mels * b->Ts;
    float *dx = copy_of(ws->dx, nx), *dp = copy_of(ws->dp, np), *dxs = copy_of(ws->dxs, nxs);
    char name[96];
    snprintf(name, sizeof name, "%s input x", tag);
    failed += !gradcheck_signs(name, L, s, b->x, dx, nx, o, rng);
    snprintf(name, sizeof name, "%s input p", tag);
    failed += !gradcheck_signs(name, L, s, b->p, dp, np, o, rng);
    snprintf(name, sizeof name, "%s input xs", tag);
    failed += !gradcheck_signs(name, L, s, b->xs, dxs, nxs, o, rng);
    free(dx), free(dp), free(dxs);
    return failed;
}

/* The gradient checks' model: small_config with the retrieval input, whose conv (zero at
 * initialisation) gets random weights so that the checks see it act. */
static vcm_config retrieval_model(vcm_model *m, vc_rng *rng) {
    vcm_config c = small_config();
    c.retrieval = 1;
    CHECK(vcm_model_init(m, &c, 1) == VC_OK);
    vcm_model_randomize(m, rng);
    gc_randn(m->d_ret.w, (size_t)m->d_ret.OC * m->d_ret.C * m->d_ret.K, 0.3f, rng);
    gc_randn(m->d_ret.b, (size_t)m->d_ret.OC, 0.3f, rng);
    return c;
}

/* With the retrieval input: the projection check reads retrieved frames r, the loss check none
 * (r NULL: the conv's bias alone), so both paths of the retrieval input are checked. */
static void test_gradcheck(vc_rng *rng) {
    vcm_model m;
    vcm_workspace ws;
    vcm_config c = retrieval_model(&m, rng);
    int B = 2, T = 8, Ts = 8;
    CHECK(vcm_workspace_init(&ws, &m, B, T, Ts) == VC_OK);
    batch b;
    batch_init(&b, &c, B, T, Ts, rng);
    gc_ctx g = {.m = &m, .ws = &ws, .b = &b};
    g.n_mel = (size_t)B * c.n_mels * T, g.n_lin = (size_t)B * c.n_bins * T;
    size_t n_out = g.n_mel + g.n_lin;
    sign_rec sr;
    sign_rec_init(&sr, &m, &ws, B, T, Ts);

    /* 1. Projection of the outputs: smooth apart from the ReLUs. */
    float *r = malloc(n_out * sizeof(float)), *out = malloc(n_out * sizeof(float));
    gc_randn(r, n_out, 1.0f, rng);
    fwd_outputs(&g, out);
    vcn_params_zero_grad(&m.params);
    vcm_backward_from_outputs(&m, &ws, r, r + g.n_mel);
    /* eps 1e-3 and rtol 2e-2 as in test_composite (instance norms over 8 and 4 frames make the
     * outputs strongly nonlinear; float rounding / 2 eps stays near 1e-3 absolute, hence
     * atol). The network is smooth (GELU), so no coordinate may be skipped: every sampled one
     * must agree. atol 3e-3: a bias feeding an instance norm has true gradient 0 and rounding
     * alone gives |fd| up to 2e-3. */
    gc_opts o = {.eps = 1e-3, .atol = 3e-3, .rtol = 2e-2, .max_coords = 60, .max_kink_share = 0.0};
    gc_loss L = {.forward = fwd_outputs, .ctx = &g, .out = out, .r = r, .n_out = n_out};
    int failed = check_all("proj", &m, &ws, &b, &L, &o, &sr, rng);
    CHECK(failed == 0);

    /* 2. The full loss (L1 mel + L1 lin; commitment 0 with the VQ bypassed) once, for the
     * loss wiring: every output is a kink point of an L1 loss and a weight moves all of them,
     * so most coordinates cross one and are skipped (exactly detected); L1's own gradient is
     * checked in test_loss.c. atol is smaller since L1 means give gradients of order 1e-2. */
    vcm_losses l0;
    float *r_saved = b.r;
    b.r = NULL;
    vcm_forward_train(&m, &ws, b.x, b.p, b.xs, b.r, b.mel_t, b.lin_t, 0, NULL, &l0);
    g.base = l0.total;
    vcn_params_zero_grad(&m.params);
    vcm_backward(&m, &ws);
    float one = 1.0f, lout;
    gc_opts o2 = {.eps = 1e-3, .atol = 2e-4, .rtol = 3e-2, .max_coords = 20, .max_kink_share = 0.9};
    gc_loss L2 = {.forward = fwd_loss, .ctx = &g, .out = &lout, .r = &one, .n_out = 1};
    /* the L1 kinks too: pred - target changing sign */
    sr.ptr[sr.n] = ws.mel.v, sr.ref[sr.n] = b.mel_t, sr.len[sr.n++] = g.n_mel;
    sr.ptr[sr.n] = ws.lin.v, sr.ref[sr.n] = b.lin_t, sr.len[sr.n++] = g.n_lin;
    free(sr.base);
    sr.total += g.n_mel + g.n_lin;
    sr.base = malloc(sr.total);
    if (!sr.base) abort();
    failed = check_all("loss", &m, &ws, &b, &L2, &o2, &sr, rng);
    CHECK(failed == 0);
    b.r = r_saved;

    free(r), free(out), free(sr.base);
    batch_free(&b);
    vcm_workspace_free(&ws);
    vcm_model_free(&m);
}

/* With the VQ on: the gradient reaching z is the decoder's gradient at zq (straight through)
 * plus the commitment term 2 beta / (B T2 D) (z - zq), and the commitment loss is its mean. */
static void test_straight_through(vc_rng *rng) {
    vcm_config c = small_config();
    c.beta = 0.7f; /* not 1, not the default: a wrong factor shows */
    vcm_model m;
    vcm_workspace ws;
    CHECK(vcm_model_init(&m, &c, 1) == VC_OK);
    vcm_model_randomize(&m, rng);
    int B = 2, T = 12, Ts = 10, D = c.code_dim, T2 = T / 2;
    CHECK(vcm_workspace_init(&ws, &m, B, T, Ts) == VC_OK);
    batch b;
    batch_init(&b, &c, B, T, Ts, rng);
    vcm_losses L;
    vcm_forward_train(&m, &ws, b.x, b.p, b.xs, NULL, b.mel_t, b.lin_t, 1, NULL, &L);
    vcn_params_zero_grad(&m.params);
    vcm_backward(&m, &ws);
    size_t n = (size_t)B * D * T2;
    float *want = malloc(n * sizeof(float));
    double commit = 0.0, dzq2 = 0.0, diff2 = 0.0;
    double k = 2.0 * c.beta / (double)n;
    for (size_t i = 0; i < n; i++) {
        double d = (double)ws.z.v[i] - ws.zq.v[i];
        commit += d * d, dzq2 += (double)ws.zq.d[i] * ws.zq.d[i], diff2 += d * d;
        want[i] = (float)(ws.zq.d[i] + k * d);
    }
    commit *= c.beta / (double)n;
    CHECK(dzq2 > 0 && diff2 > 0); /* both terms present, so the check means something */
    /* 1e-7 relative: one float multiply-add apart */
    CHECK(check_tensor("dz = dzq + commit", ws.z.d, want, n, 1e-9, 1e-6));
    CHECK_NEAR(L.commit, commit, 1e-12, 1e-6);
    /* every zq frame is a codebook row */
    int rows_ok = 1;
    for (int bb = 0; bb < B; bb++)
        for (int t = 0; t < T2; t++)
            for (int d = 0; d < D; d++)
                rows_ok &= ws.zq.v[((size_t)bb * D + d) * T2 + t] ==
                           m.vq.codebook[(size_t)ws.idx[bb * T2 + t] * D + d];
    CHECK(rows_ok);
    fprintf(stderr, "straight-through: |dzq| %.3g, commit %.4g (beta %.2f)\n", sqrt(dzq2), commit,
            (double)c.beta);
    free(want);
    batch_free(&b);
    vcm_workspace_free(&ws);
    vcm_model_free(&m);
}

/* Conversion consistency (vcm_forward_cycle): the weighted content and speaker losses of a
 * decode in given voices, read back through both encoders. Every decoder tensor (with a
 * retrieval conv, whose bias alone acts since the pass reads no frames) against central
 * differences; the encoders are only read, so their gradients must stay exactly 0 although
 * the loss depends on them. */
/* A loss that reaches only some of the model's tensors: those whose names start with one of
 * prefixes (NULL-terminated) are checked against finite differences, every other trainable one
 * must have a gradient of exactly 0. Returns the number of failures; *checked counts the rows
 * checked. */
static int check_rows_only(const char *tag, vcm_model *m, const gc_loss *L, sign_rec *sr,
                           const gc_opts *o, const char *const *prefixes, int *checked,
                           vc_rng *rng) {
    int failed = 0;
    for (int i = 0; i < m->params.n; i++) {
        const char *name = m->params.spec[i].name;
        size_t n = vcn_param_numel(&m->params.spec[i]);
        float *grad = vcn_params_grad(&m->params, i);
        int reached = 0;
        for (int k = 0; prefixes[k]; k++)
            reached |= !strncmp(name, prefixes[k], strlen(prefixes[k]));
        if (reached) {
            float *gcopy = copy_of(grad, n);
            char what[96];
            snprintf(what, sizeof what, "%s %s", tag, name);
            failed +=
                !gradcheck_signs(what, L, sr, vcn_params_data(&m->params, i), gcopy, n, o, rng);
            free(gcopy);
            (*checked)++;
        } else if (grad) {
            int zero = 1;
            for (size_t j = 0; j < n; j++) zero &= grad[j] == 0.0f;
            if (!zero)
                fprintf(stderr, "%s: %s has a gradient (the loss does not reach it)\n", tag, name);
            failed += !zero;
        }
    }
    return failed;
}

typedef struct cycle_ctx {
    const vcm_model *m;
    vcm_workspace *ws;
    const float *zin, *spk, *p, *z_t;
    double base;
} cycle_ctx;

static void fwd_cycle(void *ctx, float *out) {
    cycle_ctx *g = ctx;
    vcm_cycle_losses L;
    vcm_forward_cycle(g->m, g->ws, g->zin, g->spk, g->p, g->z_t, 0.7f, 1.3f, &L);
    out[0] = (float)(L.total - g->base);
}

static void test_cycle(vc_rng *rng) {
    vcm_model m;
    vcm_workspace ws;
    vcm_config c = retrieval_model(&m, rng);
    int B = 2, T = 8, T2 = T / 2, D = c.code_dim, S = c.spk_dim;
    CHECK(vcm_workspace_init(&ws, &m, B, T, T) == VC_OK);
    float *zin = malloc(sizeof(float) * B * D * T2), *z_t = malloc(sizeof(float) * B * D * T2);
    float *spk = malloc(sizeof(float) * B * S), *p = malloc(sizeof(float) * B * 2 * T);
    if (!zin || !z_t || !spk || !p) abort();
    gc_randn(zin, (size_t)B * D * T2, 1.0f, rng);
    gc_randn(z_t, (size_t)B * D * T2, 0.3f, rng);
    gc_randn(spk, (size_t)B * S, 1.0f, rng);
    gc_randn(p, (size_t)B * 2 * T, 1.0f, rng);
    cycle_ctx g = {.m = &m, .ws = &ws, .zin = zin, .spk = spk, .p = p, .z_t = z_t};
    vcm_cycle_losses L0;
    vcm_forward_cycle(&m, &ws, zin, spk, p, z_t, 0.7f, 1.3f, &L0);
    CHECK(L0.content > 0 && L0.speaker > 0);
    CHECK_NEAR(L0.total, 0.7 * L0.content + 1.3 * L0.speaker, 1e-12, 1e-6);
    g.base = L0.total;
    vcn_params_zero_grad(&m.params);
    vcm_backward_cycle(&m, &ws);
    sign_rec sr;
    sign_rec_init(&sr, &m, &ws, B, T, T); /* GELU: no kinks to record */
    float one = 1.0f, lout;
    gc_loss L = {.forward = fwd_cycle, .ctx = &g, .out = &lout, .r = &one, .n_out = 1};
    gc_opts o = {.eps = 1e-3, .atol = 2e-4, .rtol = 3e-2, .max_coords = 30, .max_kink_share = 0.0};
    static const char *const decoder_rows[] = {"decoder.", "postnet.", NULL};
    int checked = 0,
        failed = check_rows_only("cycle", &m, &L, &sr, &o, decoder_rows, &checked, rng);
    CHECK(checked > 0 && failed == 0);
    free(sr.base), free(zin), free(z_t), free(spk), free(p);
    vcm_workspace_free(&ws);
    vcm_model_free(&m);
}

/* The phone loss alone (vcm_backward_from_outputs with zero output gradients, the VQ
 * bypassed): the head's and the content encoder's gradients and x's against finite
 * differences, every other row untouched, unlabelled positions left out. */
typedef struct phone_ctx {
    const vcm_model *m;
    vcm_workspace *ws;
    batch *b;
    const int *labels;
    double base;
} phone_ctx;

static void fwd_phones(void *ctx, float *out) {
    phone_ctx *g = ctx;
    vcm_phone_losses P;
    vcm_forward_train(g->m, g->ws, g->b->x, g->b->p, g->b->xs, g->b->r, g->b->mel_t, g->b->lin_t, 0,
                      NULL, NULL);
    vcm_forward_phones(g->m, g->ws, g->labels, 0.8f, &P);
    out[0] = (float)(P.loss - g->base);
}

static void test_phones(vc_rng *rng) {
    vcm_model m;
    vcm_workspace ws;
    vcm_config c = small_config();
    c.phone_head = 1;
    CHECK(vcm_model_init(&m, &c, 1) == VC_OK);
    CHECK(vcm_model_unbound(&m) == 0);
    vcm_model_randomize(&m, rng);
    int B = 2, T = 8, T2 = T / 2;
    CHECK(vcm_workspace_init(&ws, &m, B, T, T) == VC_OK);
    batch b;
    batch_init(&b, &c, B, T, T, rng);
    int labels[2 * 4];
    for (int i = 0; i < B * T2; i++) labels[i] = i == 1 || i == 6 ? -1 : (i * 7) % VCM_PHONES;
    phone_ctx g = {.m = &m, .ws = &ws, .b = &b, .labels = labels};
    vcm_phone_losses P0;
    vcm_forward_train(&m, &ws, b.x, b.p, b.xs, b.r, b.mel_t, b.lin_t, 0, NULL, NULL);
    vcm_forward_phones(&m, &ws, labels, 0.8f, &P0);
    CHECK(P0.labelled == 6 && P0.xent > 0 && P0.accuracy >= 0 && P0.accuracy <= 1);
    CHECK_NEAR(P0.loss, (double)0.8f * P0.xent * 6 / 8, 1e-12, 1e-9);
    g.base = P0.loss;
    size_t n_mel = (size_t)B * c.n_mels * T, n_lin = (size_t)B * c.n_bins * T;
    float *zero = calloc(n_mel + n_lin, sizeof(float));
    if (!zero) abort();
    vcn_params_zero_grad(&m.params);
    vcm_backward_from_outputs(&m, &ws, zero, zero + n_mel);
    sign_rec sr;
    sign_rec_init(&sr, &m, &ws, B, T, T); /* GELU: no kinks to record */
    float one = 1.0f, lout;
    gc_loss L = {.forward = fwd_phones, .ctx = &g, .out = &lout, .r = &one, .n_out = 1};
    gc_opts o = {.eps = 1e-3, .atol = 2e-4, .rtol = 3e-2, .max_coords = 30, .max_kink_share = 0.0};
    static const char *const phone_rows[] = {"phone.", "content.", NULL};
    int checked = 0, failed = check_rows_only("phones", &m, &L, &sr, &o, phone_rows, &checked, rng);
    size_t nx = (size_t)B * c.n_mels * T;
    float *dx = copy_of(ws.dx, nx);
    failed += !gradcheck_signs("phones input x", &L, &sr, b.x, dx, nx, &o, rng);
    CHECK(checked == 2 + 2 * (3 + c.res_blocks) && failed == 0);
    /* a forward without vcm_forward_phones carries no phone loss into the backward */
    vcm_forward_train(&m, &ws, b.x, b.p, b.xs, b.r, b.mel_t, b.lin_t, 0, NULL, NULL);
    vcn_params_zero_grad(&m.params);
    vcm_backward_from_outputs(&m, &ws, zero, zero + n_mel);
    float *gw = vcn_params_grad(&m.params, m.params.n - 2);
    int none = 1;
    for (size_t j = 0; j < vcn_param_numel(&m.params.spec[m.params.n - 2]); j++)
        none &= gw[j] == 0.0f;
    CHECK(none && !strcmp(m.params.spec[m.params.n - 2].name, "phone.classifier.w"));
    free(dx), free(zero), free(sr.base);
    batch_free(&b);
    vcm_workspace_free(&ws);
    vcm_model_free(&m);
}

/* Outputs of a forward into fresh copies. */
static void run_forward(const vcm_model *m, batch *b, float **mel, float **lin) {
    vcm_workspace ws;
    CHECK(vcm_workspace_init(&ws, m, b->B, b->T, b->Ts) == VC_OK);
    vcm_forward_train(m, &ws, b->x, b->p, b->xs, NULL, b->mel_t, b->lin_t, 1, NULL, NULL);
    *mel = copy_of(ws.mel.v, (size_t)b->B * m->cfg.n_mels * b->T);
    *lin = copy_of(ws.lin.v, (size_t)b->B * m->cfg.n_bins * b->T);
    vcm_workspace_free(&ws);
}

static void test_save_load(const char *dir, vc_rng *rng) {
    vcm_config c;
    CHECK(vcm_config_preset("tiny", &c) == VC_OK);
    c.beta = 0.3f;
    vcm_model m, l;
    CHECK(vcm_model_init(&m, &c, 0) == VC_OK);
    vcm_model_randomize(&m, rng);
    for (int i = 0; i < c.n_mels; i++) m.mel_mean[i] = vcu_rng_normal(rng), m.mel_std[i] = 0.5f + i;
    for (int i = 0; i < c.n_bins; i++) m.lin_mean[i] = -1.0f / (i + 3), m.lin_std[i] = 2.0f;
    char path[512];
    join(path, sizeof path, dir, "model.safetensors");
    const char *extra[] = {"vconv.train_steps", "17"};
    CHECK(vcm_model_save(path, &m, extra, 1, 0) == VC_OK);
    CHECK(vcm_model_load(path, &l, 0) == VC_OK);
    CHECK(config_equal(&m.cfg, &l.cfg));
    /* the other metadata is kept, and only it */
    CHECK(l.n_meta == 1 && !strcmp(l.meta_kv[0], "vconv.train_steps") &&
          !strcmp(l.meta_kv[1], "17"));
    CHECK(l.params.total == m.params.total &&
          memcmp(l.params.data, m.params.data, m.params.total * sizeof(float)) == 0);
    CHECK(memcmp(l.mel_mean, m.mel_mean, sizeof(float) * c.n_mels) == 0 &&
          memcmp(l.mel_std, m.mel_std, sizeof(float) * c.n_mels) == 0 &&
          memcmp(l.lin_mean, m.lin_mean, sizeof(float) * c.n_bins) == 0 &&
          memcmp(l.lin_std, m.lin_std, sizeof(float) * c.n_bins) == 0);
    batch b;
    batch_init(&b, &c, 2, 16, 12, rng);
    float *mel0, *lin0, *mel1, *lin1;
    run_forward(&m, &b, &mel0, &lin0);
    run_forward(&l, &b, &mel1, &lin1);
    CHECK(memcmp(mel0, mel1, sizeof(float) * 2 * c.n_mels * 16) == 0);
    CHECK(memcmp(lin0, lin1, sizeof(float) * 2 * c.n_bins * 16) == 0);
    free(mel0), free(lin0), free(mel1), free(lin1);
    vcm_model_free(&l);

    /* F16: every parameter within half a unit in the last place of binary16 (relative 2^-11),
     * statistics exact (they are text) */
    CHECK(vcm_model_save(path, &m, extra, 1, 1) == VC_OK);
    CHECK(vcm_model_load(path, &l, 0) == VC_OK);
    double worst = 0.0;
    for (size_t i = 0; i < m.params.total; i++) {
        float a = m.params.data[i], q = l.params.data[i];
        if (fabsf(a) >= 6.1e-5f) worst = fmax(worst, fabs((double)q - a) / fabs((double)a));
    }
    CHECK(worst <= 1.0 / 2048.0);
    CHECK(memcmp(l.lin_std, m.lin_std, sizeof(float) * c.n_bins) == 0);
    vcm_model_free(&l);

    /* a file with one config key missing: FORMAT; a config that does not fit the tensors:
     * SHAPE; a bad statistic: FORMAT */
    vcm_config_meta cm;
    vcm_config_to_meta(&c, &cm);
    fprintf(stderr, "expect 3 load errors:\n");
    CHECK(vci_params_save(path, &m.params, cm.kv + 2, cm.n - 1, 0) == VC_OK); /* no sample_rate */
    CHECK(vcm_model_load(path, &l, 0) == VC_ERR_FORMAT && l.spec == NULL);
    vcm_config wide = c;
    wide.channels = 40;
    vcm_config_to_meta(&wide, &cm);
    CHECK(vci_params_save(path, &m.params, cm.kv, cm.n, 0) == VC_OK);
    CHECK(vcm_model_load(path, &l, 0) == VC_ERR_SHAPE);
    vcm_config_to_meta(&c, &cm);
    const char *kv[2 * (VCM_CONFIG_META_MAX + 1)];
    memcpy(kv, cm.kv, sizeof(char *) * 2 * cm.n);
    kv[2 * cm.n] = "vconv.norm_std", kv[2 * cm.n + 1] = "1,2,3";
    CHECK(vci_params_save(path, &m.params, kv, cm.n + 1, 0) == VC_OK);
    CHECK(vcm_model_load(path, &l, 0) == VC_ERR_FORMAT);
    batch_free(&b);
    vcm_model_free(&m);
    fprintf(stderr, "save/load: parameters, statistics and outputs bit-exact\n");
}

static void test_determinism(void) {
    vcm_config c;
    CHECK(vcm_config_preset("tiny", &c) == VC_OK);
    vcm_model m[2];
    float *mel[2], *lin[2];
    for (int k = 0; k < 2; k++) {
        vc_rng rng;
        vcu_rng_seed(&rng, 99);
        CHECK(vcm_model_init(&m[k], &c, 0) == VC_OK);
        vcm_model_randomize(&m[k], &rng);
        batch b;
        batch_init(&b, &c, 2, 16, 10, &rng);
        run_forward(&m[k], &b, &mel[k], &lin[k]);
        batch_free(&b);
    }
    CHECK(memcmp(m[0].params.data, m[1].params.data, m[0].params.total * sizeof(float)) == 0);
    CHECK(memcmp(mel[0], mel[1], sizeof(float) * 2 * c.n_mels * 16) == 0);
    CHECK(memcmp(lin[0], lin[1], sizeof(float) * 2 * c.n_bins * 16) == 0);
    for (int k = 0; k < 2; k++) free(mel[k]), free(lin[k]), vcm_model_free(&m[k]);
}

int main(void) {
    vc_rng rng;
    vcu_rng_seed(&rng, test_seed(5));
    char dir[] = "/tmp/vconv_test_model_XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_config(dir);
    test_table();
    test_shapes(&rng);
    test_gradcheck(&rng);
    test_straight_through(&rng);
    test_cycle(&rng);
    test_phones(&rng);
    test_save_load(dir, &rng);
    test_determinism();
    CHECK(count_matching(dir, ".tmp") == 0);
    remove_tree(dir);
    return test_finish();
}
