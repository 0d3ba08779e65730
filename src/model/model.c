/* Model construction (table, binding), workspace layout, save and load; see model.h.
 * The forward and backward passes are in model_forward.c. */
#include "model/model.h"

#include "io/params_file.h"

#include <errno.h>
#include <math.h>
#include <string.h>

/* ---- parameter table ---------------------------------------------------------------------- */

/* Rows are appended together with the layer fields they bind to, so the table and the wiring
 * come from one walk and cannot drift apart. */
typedef struct table_builder {
    vcm_model *m;
    int cap;
} table_builder;

static void add_row(table_builder *tb, const char *prefix, const char *suffix, int ndim,
                    const int *shape, vc_init_kind init, float scale, int fan_in, float **data,
                    float **grad) {
    vcm_model *m = tb->m;
    VC_ASSERT(m->n_spec < tb->cap);
    vc_param_spec *s = &m->spec[m->n_spec];
    memset(s, 0, sizeof *s);
    int len = snprintf(s->name, sizeof s->name, "%s%s", prefix, suffix);
    VC_ASSERT(len > 0 && len < (int)sizeof s->name);
    s->ndim = ndim;
    for (int d = 0; d < ndim; d++) s->shape[d] = shape[d];
    s->init = init;
    s->scale = scale;
    s->fan_in = fan_in;
    s->trainable = grad != NULL; /* a row without a gradient is owned by something else */
    m->bind[m->n_spec] = (vcm_binding){.data = data, .grad = grad};
    m->n_spec++;
}

static void add_conv_init(table_builder *tb, conv1d *l, const char *name, int C, int OC, int K,
                          int stride, int pad, vc_init_kind w_init) {
    *l = (conv1d){.C = C, .OC = OC, .K = K, .stride = stride, .dil = 1, .pad = pad};
    add_row(tb, name, ".w", 3, (const int[]){OC, C, K}, w_init, 1.0f, C * K, &l->w, &l->dw);
    add_row(tb, name, ".b", 1, (const int[]){OC}, VC_INIT_ZEROS, 0.0f, 0, &l->b, &l->db);
}

static void add_conv(table_builder *tb, conv1d *l, const char *name, int C, int OC, int K,
                     int stride, int pad) {
    add_conv_init(tb, l, name, C, OC, K, stride, pad, VC_INIT_UNIFORM);
}

static void add_linear(table_builder *tb, linear *l, const char *name, int C, int OC,
                       vc_init_kind bias_init) {
    *l = (linear){.C = C, .OC = OC};
    add_row(tb, name, ".w", 2, (const int[]){OC, C}, VC_INIT_UNIFORM, 1.0f, C, &l->w, &l->dw);
    add_row(tb, name, ".b", 1, (const int[]){OC}, bias_init, 0.0f, 0, &l->b, &l->db);
}

static void build_table(vcm_model *m, table_builder *tb) {
    const vcm_config *c = &m->cfg;
    int M = c->n_mels, F = c->n_bins, C = c->channels, D = c->code_dim, N = c->codebook_size;
    int Cs = c->spk_channels, S = c->spk_dim, P = c->postnet_channels;
    char name[VC_PARAM_NAME_MAX];

    add_conv(tb, &m->c_in, "content.conv_in", M, C, 5, 1, 2);
    for (int i = 0; i < c->res_blocks; i++) {
        snprintf(name, sizeof name, "content.res%d", i);
        add_conv(tb, &m->c_res[i], name, C, C, 5, 1, 2);
    }
    add_conv(tb, &m->c_down, "content.down", C, C, 4, 2, 1); /* T -> T/2 for even T */
    add_conv(tb, &m->c_out, "content.conv_out", C, D, 1, 1, 0);
    /* No gradient: the codebook follows the EMA of its assigned frames. */
    add_row(tb, "vq.codebook", "", 2, (const int[]){N, D}, VC_INIT_NORMAL, 1.0f, 0, &m->vq.codebook,
            NULL);

    for (int k = 0; k < VCM_SPK_CONVS; k++) {
        snprintf(name, sizeof name, "speaker.conv%d", k);
        add_conv(tb, &m->s_conv[k], name, k ? Cs : M, Cs, 5, 1, 2);
    }
    add_linear(tb, &m->s_proj, "speaker.proj", 2 * Cs, S, VC_INIT_ZEROS);

    add_conv(tb, &m->d_in, "decoder.conv_in", D + 2, C, 5, 1, 2);
    if (c->retrieval) /* zero: see model.h */
        add_conv_init(tb, &m->d_ret, "decoder.retrieval", M + 1, C, 5, 1, 2, VC_INIT_ZEROS);
    for (int i = 0; i < c->dec_blocks; i++) {
        vcm_dec_block *b = &m->d_block[i];
        snprintf(name, sizeof name, "decoder.block%d.conv", i);
        add_conv(tb, &b->conv, name, C, C, 5, 1, 2);
        snprintf(name, sizeof name, "decoder.block%d.gamma", i);
        add_linear(tb, &b->gamma, name, S, C, VC_INIT_ONES); /* gamma starts near 1 */
        snprintf(name, sizeof name, "decoder.block%d.beta", i);
        add_linear(tb, &b->beta, name, S, C, VC_INIT_ZEROS);
    }
    add_conv(tb, &m->d_mel, "decoder.mel_out", C, M, 1, 1, 0);
    add_conv(tb, &m->post0, "postnet.conv0", C, P, 5, 1, 2);
    add_conv(tb, &m->post1, "postnet.conv1", P, F, 1, 1, 0);
    if (c->phone_head) add_conv(tb, &m->phone, "phone.classifier", D, VCM_PHONES, 1, 1, 0);
}

static int table_rows(const vcm_config *c) {
    return 2 * (3 + c->res_blocks) + 1 + 2 * (VCM_SPK_CONVS + 1) + 2 * (1 + 3 * c->dec_blocks) +
           2 * 3 + 2 * !!c->retrieval + 2 * !!c->phone_head;
}

vc_status vcm_model_init(vcm_model *m, const vcm_config *cfg, int with_grad) {
    if (!m || !cfg) return VC_ERR_ARG;
    memset(m, 0, sizeof *m);
    vc_status st = vcm_config_validate(cfg);
    if (st != VC_OK) return st;
    m->cfg = *cfg;
    const vcm_config *c = &m->cfg;
    int rows = table_rows(c);
    size_t M = (size_t)c->n_mels, F = (size_t)c->n_bins;
    size_t N = (size_t)c->codebook_size, D = (size_t)c->code_dim;
    m->spec = calloc((size_t)rows, sizeof *m->spec);
    m->bind = calloc((size_t)rows, sizeof *m->bind);
    /* calloc(0) may return NULL: allocate at least one block */
    m->c_res = calloc((size_t)c->res_blocks + 1, sizeof *m->c_res);
    m->d_block = calloc((size_t)c->dec_blocks + 1, sizeof *m->d_block);
    m->ema_count = calloc(N, sizeof(float));
    m->ema_sum = calloc(N * D, sizeof(float));
    m->mel_mean = calloc(M, sizeof(float));
    m->mel_std = malloc(M * sizeof(float));
    m->lin_mean = calloc(F, sizeof(float));
    m->lin_std = malloc(F * sizeof(float));
    if (!m->spec || !m->bind || !m->c_res || !m->d_block || !m->ema_count || !m->ema_sum ||
        !m->mel_mean || !m->mel_std || !m->lin_mean || !m->lin_std) {
        vcm_model_free(m);
        return VC_ERR_NOMEM;
    }
    for (size_t i = 0; i < M; i++) m->mel_std[i] = 1.0f;
    for (size_t i = 0; i < F; i++) m->lin_std[i] = 1.0f;

    table_builder tb = {.m = m, .cap = rows};
    build_table(m, &tb);
    VC_ASSERT(m->n_spec == rows);
    if ((st = vcn_params_init(&m->params, m->spec, m->n_spec, with_grad)) != VC_OK) {
        vcm_model_free(m);
        return st;
    }
    for (int i = 0; i < m->n_spec; i++) {
        *m->bind[i].data = vcn_params_data(&m->params, i);
        if (m->bind[i].grad) *m->bind[i].grad = vcn_params_grad(&m->params, i);
    }
    m->inorm = (instnorm){.C = c->channels, .eps = VCM_NORM_EPS};
    m->vq.N = c->codebook_size;
    m->vq.D = c->code_dim;
    m->vq.ema_count = m->ema_count;
    m->vq.ema_sum = m->ema_sum;
    m->vq.decay = c->ema_decay;
    m->vq.eps = 1e-5f;
    m->vq.beta = c->beta;
    return VC_OK;
}

void vcm_model_free(vcm_model *m) {
    if (!m) return;
    vcn_params_free(&m->params);
    free(m->spec);
    free(m->bind);
    free(m->c_res);
    free(m->d_block);
    free(m->ema_count);
    free(m->ema_sum);
    free(m->mel_mean);
    free(m->mel_std);
    free(m->lin_mean);
    free(m->lin_std);
    for (int i = 0; i < 2 * m->n_meta; i++) free(m->meta_kv[i]);
    free(m->meta_kv);
    memset(m, 0, sizeof *m);
}

void vcm_model_randomize(vcm_model *m, vc_rng *rng) {
    vcn_params_randomize(&m->params, rng);
    memset(m->ema_count, 0, sizeof(float) * (size_t)m->cfg.codebook_size);
    memset(m->ema_sum, 0, sizeof(float) * (size_t)m->cfg.codebook_size * (size_t)m->cfg.code_dim);
}

size_t vcm_model_n_params(const vcm_model *m) {
    size_t n = 0;
    for (int i = 0; i < m->n_spec; i++) n += vcn_param_numel(&m->spec[i]);
    return n;
}

static int conv_unbound(const conv1d *l) {
    return !l->w + !l->b;
}
static int linear_unbound(const linear *l) {
    return !l->w + !l->b;
}

int vcm_model_unbound(const vcm_model *m) {
    int bad = 0;
    for (int i = 0; i < m->n_spec; i++)
        if (!m->bind[i].data || *m->bind[i].data != vcn_params_data(&m->params, i) ||
            (m->params.grad && m->bind[i].grad &&
             *m->bind[i].grad != vcn_params_grad(&m->params, i)))
            bad++;
    /* Every layer field the forward reads, checked from the layer side. */
    bad += conv_unbound(&m->c_in) + conv_unbound(&m->c_down) + conv_unbound(&m->c_out);
    for (int i = 0; i < m->cfg.res_blocks; i++) bad += conv_unbound(&m->c_res[i]);
    bad += !m->vq.codebook + !m->vq.ema_count + !m->vq.ema_sum;
    for (int k = 0; k < VCM_SPK_CONVS; k++) bad += conv_unbound(&m->s_conv[k]);
    bad += linear_unbound(&m->s_proj) + conv_unbound(&m->d_in) + conv_unbound(&m->d_mel);
    for (int i = 0; i < m->cfg.dec_blocks; i++)
        bad += conv_unbound(&m->d_block[i].conv) + linear_unbound(&m->d_block[i].gamma) +
               linear_unbound(&m->d_block[i].beta);
    bad += conv_unbound(&m->post0) + conv_unbound(&m->post1);
    if (m->cfg.retrieval) bad += conv_unbound(&m->d_ret);
    if (m->cfg.phone_head) bad += conv_unbound(&m->phone);
    return bad;
}

/* ---- workspace ---------------------------------------------------------------------------- */

typedef struct arena {
    float *base; /* NULL while counting */
    size_t used;
} arena;

static float *take(arena *a, size_t n) {
    size_t o = a->used;
    a->used += (n + 15) & ~(size_t)15; /* 64-byte aligned starts, as the parameter slab */
    return a->base ? a->base + o : NULL;
}

static void act(arena *v, arena *d, int grad, vcm_act *x, size_t n) {
    x->v = take(v, n);
    x->d = grad ? take(d, n) : NULL;
}

/* Lays every buffer out in the two arenas; run once to count (bases NULL), once to assign. */
static void layout(vcm_workspace *ws, const vcm_config *c, arena *v, arena *d, int g) {
    size_t B = (size_t)ws->B, T = (size_t)ws->T, T2 = T / 2, Ts = (size_t)ws->Ts;
    size_t M = (size_t)c->n_mels, F = (size_t)c->n_bins, C = (size_t)c->channels;
    size_t D = (size_t)c->code_dim, Cs = (size_t)c->spk_channels, S = (size_t)c->spk_dim;
    size_t P = (size_t)c->postnet_channels;
    ws->dx = g ? take(d, B * M * T) : NULL;
    ws->dp = g ? take(d, B * 2 * T) : NULL;
    ws->dxs = g ? take(d, B * M * Ts) : NULL;
    act(v, d, g, &ws->c_a, B * C * T);
    act(v, d, g, &ws->c_n, B * C * T);
    act(v, d, g, &ws->c_h, B * C * T);
    ws->c_mean = take(v, B * C);
    ws->c_rstd = take(v, B * C);
    for (int i = 0; i < c->res_blocks; i++) {
        vcm_res_ws *r = &ws->res[i];
        act(v, d, g, &r->a, B * C * T);
        act(v, d, g, &r->n, B * C * T);
        act(v, d, g, &r->r, B * C * T);
        act(v, d, g, &r->h, B * C * T);
        r->mean = take(v, B * C);
        r->rstd = take(v, B * C);
    }
    act(v, d, g, &ws->dn_a, B * C * T2);
    act(v, d, g, &ws->dn_n, B * C * T2);
    act(v, d, g, &ws->dn_h, B * C * T2);
    ws->dn_mean = take(v, B * C);
    ws->dn_rstd = take(v, B * C);
    act(v, d, g, &ws->z, B * D * T2);
    act(v, d, g, &ws->zq, B * D * T2);
    ws->zmix = take(v, B * D * T2);
    for (int k = 0; k < VCM_SPK_CONVS; k++) {
        act(v, d, g, &ws->s_a[k], B * Cs * Ts);
        act(v, d, g, &ws->s_h[k], B * Cs * Ts);
    }
    act(v, d, g, &ws->pool, B * 2 * Cs);
    act(v, d, g, &ws->spk, B * S);
    act(v, d, g, &ws->up, B * D * T);
    act(v, d, g, &ws->cat, B * (D + 2) * T);
    act(v, d, g, &ws->d_h0, B * C * T);
    if (c->retrieval)
        act(v, d, 0, &ws->ret, B * C * T); /* added into d_h0: no gradient of its own */
    for (int i = 0; i < c->dec_blocks; i++) {
        vcm_dec_ws *b = &ws->blk[i];
        act(v, d, g, &b->a, B * C * T);
        act(v, d, g, &b->b, B * C * T);
        act(v, d, g, &b->r, B * C * T);
        act(v, d, g, &b->h, B * C * T);
        act(v, d, g, &b->g, B * C);
        act(v, d, g, &b->be, B * C);
        b->mean = take(v, B * C);
        b->rstd = take(v, B * C);
    }
    act(v, d, g, &ws->mel, B * M * T);
    act(v, d, g, &ws->pa, B * P * T);
    act(v, d, g, &ws->pr, B * P * T);
    act(v, d, g, &ws->lin, B * F * T);
    if (c->phone_head) act(v, d, g, &ws->ph, B * VCM_PHONES * T2);
}

static size_t max_sz(size_t a, size_t b) {
    return a > b ? a : b;
}

/* The largest scratch any conv or the VQ asks for at these sizes. */
static size_t scratch_floats(const vcm_model *m, int B, int T, int Ts) {
    size_t n = vcn_conv1d_scratch_size(&m->c_in, B, T);
    for (int i = 0; i < m->cfg.res_blocks; i++)
        n = max_sz(n, vcn_conv1d_scratch_size(&m->c_res[i], B, T));
    n = max_sz(n, vcn_conv1d_scratch_size(&m->c_down, B, T));
    n = max_sz(n, vcn_conv1d_scratch_size(&m->c_out, B, T / 2));
    n = max_sz(n, vcn_vq_scratch_size(&m->vq, B, T / 2));
    for (int k = 0; k < VCM_SPK_CONVS; k++)
        n = max_sz(n, vcn_conv1d_scratch_size(&m->s_conv[k], B, Ts));
    n = max_sz(n, vcn_conv1d_scratch_size(&m->d_in, B, T));
    if (m->cfg.retrieval) n = max_sz(n, vcn_conv1d_scratch_size(&m->d_ret, B, T));
    for (int i = 0; i < m->cfg.dec_blocks; i++)
        n = max_sz(n, vcn_conv1d_scratch_size(&m->d_block[i].conv, B, T));
    n = max_sz(n, vcn_conv1d_scratch_size(&m->d_mel, B, T));
    n = max_sz(n, vcn_conv1d_scratch_size(&m->post0, B, T));
    n = max_sz(n, vcn_conv1d_scratch_size(&m->post1, B, T));
    return n;
}

vc_status vcm_workspace_init(vcm_workspace *ws, const vcm_model *m, int B, int T, int Ts) {
    if (!ws || !m || !m->spec) return VC_ERR_ARG;
    memset(ws, 0, sizeof *ws);
    if (B < 1 || T < 2 || T % 2 || Ts < 1) {
        vcu_log(VC_LOG_ERROR,
                "vcm_workspace_init: need B >= 1, even T >= 2, Ts >= 1 (got %d %d %d)", B, T, Ts);
        return VC_ERR_ARG;
    }
    ws->B = ws->Bc = B, ws->T = ws->Tc = T, ws->Ts = ws->Tsc = Ts;
    int g = m->params.grad != NULL;
    ws->res = calloc((size_t)m->cfg.res_blocks + 1, sizeof *ws->res);
    ws->blk = calloc((size_t)m->cfg.dec_blocks + 1, sizeof *ws->blk);
    ws->idx = malloc(sizeof(int) * (size_t)B * (size_t)(T / 2));
    if (!ws->res || !ws->blk || !ws->idx) {
        vcm_workspace_free(ws);
        return VC_ERR_NOMEM;
    }
    arena v = {0}, d = {0};
    layout(ws, &m->cfg, &v, &d, g);
    ws->vn = v.used, ws->dn = d.used;
    ws->n_scratch = scratch_floats(m, B, T, Ts);
    ws->vslab = calloc(ws->vn, sizeof(float));
    ws->dslab = g ? calloc(ws->dn, sizeof(float)) : NULL;
    ws->scratch = malloc(sizeof(float) * (ws->n_scratch + 1));
    ws->norm_scratch = malloc(sizeof(double) * 2 * ((size_t)T + 1));
    if (!ws->vslab || (g && !ws->dslab) || !ws->scratch || !ws->norm_scratch) {
        vcm_workspace_free(ws);
        return VC_ERR_NOMEM;
    }
    v = (arena){.base = ws->vslab};
    d = (arena){.base = ws->dslab};
    layout(ws, &m->cfg, &v, &d, g);
    VC_ASSERT(v.used == ws->vn && d.used == ws->dn);
    return VC_OK;
}

void vcm_workspace_free(vcm_workspace *ws) {
    if (!ws) return;
    free(ws->vslab);
    free(ws->dslab);
    free(ws->scratch);
    free(ws->norm_scratch);
    free(ws->res);
    free(ws->blk);
    free(ws->idx);
    memset(ws, 0, sizeof *ws);
}

/* ---- save / load -------------------------------------------------------------------------- */

#define META_NORM_MEL_MEAN "vconv.norm_mean"
#define META_NORM_MEL_STD "vconv.norm_std"
#define META_NORM_LIN_MEAN "vconv.norm_lin_mean"
#define META_NORM_LIN_STD "vconv.norm_lin_std"

/* "%.9g" values joined by commas (exact float round trip); malloc'd. */
static char *join_floats(const float *x, int n) {
    size_t cap = (size_t)n * 18 + 1;
    char *s = malloc(cap), *p = s;
    if (!s) return NULL;
    *p = '\0';
    for (int i = 0; i < n; i++) {
        int w = snprintf(p, cap - (size_t)(p - s), "%s%.9g", i ? "," : "", (double)x[i]);
        VC_ASSERT(w > 0 && (size_t)w < cap - (size_t)(p - s));
        p += w;
    }
    return s;
}

/* Exactly n comma-separated finite numbers (positive when positive != 0). */
static vc_status parse_floats(const char *s, float *out, int n, int positive, const char *what,
                              const char *key) {
    const char *p = s;
    for (int i = 0; i < n; i++) {
        char *end;
        errno = 0;
        float x = strtof(p, &end);
        if (end == p || errno || !isfinite(x) || (positive && !(x > 0.0f))) {
            vcu_log(VC_LOG_ERROR, "%s: %s: value %d is not a %s number", what, key, i,
                    positive ? "positive" : "finite");
            return VC_ERR_FORMAT;
        }
        out[i] = x;
        p = end;
        if (i + 1 < n) {
            if (*p != ',') {
                vcu_log(VC_LOG_ERROR, "%s: %s holds %d values, expected %d", what, key, i + 1, n);
                return VC_ERR_FORMAT;
            }
            p++;
        }
    }
    if (*p) {
        vcu_log(VC_LOG_ERROR, "%s: %s holds more than %d values", what, key, n);
        return VC_ERR_FORMAT;
    }
    return VC_OK;
}

vc_status vcm_model_save(const char *path, const vcm_model *m, const char *const *meta_kv,
                         int n_meta, int f16) {
    if (!path || !m || !m->spec || n_meta < 0 || (n_meta > 0 && !meta_kv)) return VC_ERR_ARG;
    vcm_config_meta cm;
    vcm_config_to_meta(&m->cfg, &cm);
    int n = cm.n + 4 + n_meta;
    const char **kv = malloc(sizeof *kv * (size_t)(2 * n));
    char *norm[4] = {
        join_floats(m->mel_mean, m->cfg.n_mels), join_floats(m->mel_std, m->cfg.n_mels),
        join_floats(m->lin_mean, m->cfg.n_bins), join_floats(m->lin_std, m->cfg.n_bins)};
    vc_status st = VC_ERR_NOMEM;
    if (kv && norm[0] && norm[1] && norm[2] && norm[3]) {
        memcpy(kv, cm.kv, sizeof *kv * (size_t)(2 * cm.n));
        const char *keys[4] = {META_NORM_MEL_MEAN, META_NORM_MEL_STD, META_NORM_LIN_MEAN,
                               META_NORM_LIN_STD};
        for (int i = 0; i < 4; i++) kv[2 * (cm.n + i)] = keys[i], kv[2 * (cm.n + i) + 1] = norm[i];
        if (n_meta > 0) memcpy(kv + 2 * (cm.n + 4), meta_kv, sizeof *kv * (size_t)(2 * n_meta));
        /* a caller key equal to one of ours makes vci_safetensors_write refuse (duplicate key) */
        st = vci_params_save(path, &m->params, kv, n, f16);
    }
    free(kv);
    for (int i = 0; i < 4; i++) free(norm[i]);
    return st;
}

static vc_status read_norm(vcm_model *m, const st_file *f, const char *what) {
    const struct {
        const char *key;
        float *dst;
        int n, positive;
    } keys[4] = {{META_NORM_MEL_MEAN, m->mel_mean, m->cfg.n_mels, 0},
                 {META_NORM_MEL_STD, m->mel_std, m->cfg.n_mels, 1},
                 {META_NORM_LIN_MEAN, m->lin_mean, m->cfg.n_bins, 0},
                 {META_NORM_LIN_STD, m->lin_std, m->cfg.n_bins, 1}};
    for (int i = 0; i < 4; i++) {
        const char *v = vci_safetensors_meta(f, keys[i].key);
        if (!v) continue; /* absent: the 0 / 1 defaults stay */
        vc_status st = parse_floats(v, keys[i].dst, keys[i].n, keys[i].positive, what, keys[i].key);
        if (st != VC_OK) return st;
    }
    return VC_OK;
}

static char *copy_string(const char *s) {
    size_t n = strlen(s) + 1;
    char *c = malloc(n);
    if (c) memcpy(c, s, n);
    return c;
}

/* Copies the metadata pairs that are not the version, the config or the statistics. */
static vc_status keep_other_meta(vcm_model *m, const st_file *f) {
    vcm_config_meta cm;
    vcm_config_to_meta(&m->cfg, &cm);
    const char *ours[] = {VC_META_FORMAT_VERSION, META_NORM_MEL_MEAN, META_NORM_MEL_STD,
                          META_NORM_LIN_MEAN, META_NORM_LIN_STD};
    m->meta_kv = calloc(2 * (size_t)f->n_meta + 1, sizeof *m->meta_kv);
    if (!m->meta_kv) return VC_ERR_NOMEM;
    for (int i = 0; i < f->n_meta; i++) {
        const char *key = f->meta[i].key;
        int skip = 0;
        for (int j = 0; j < 5 && !skip; j++) skip = !strcmp(key, ours[j]);
        for (int j = 0; j < cm.n && !skip; j++) skip = !strcmp(key, cm.kv[2 * j]);
        if (skip) continue;
        char *k = copy_string(key), *v = copy_string(f->meta[i].value);
        if (!k || !v) {
            free(k);
            free(v);
            return VC_ERR_NOMEM;
        }
        m->meta_kv[2 * m->n_meta] = k;
        m->meta_kv[2 * m->n_meta + 1] = v;
        m->n_meta++;
    }
    return VC_OK;
}

vc_status vcm_model_load(const char *path, vcm_model *m, int with_grad) {
    if (!path || !m) return VC_ERR_ARG;
    memset(m, 0, sizeof *m);
    st_file f;
    vc_status st = vci_safetensors_load(path, &f);
    if (st != VC_OK) return st;
    st = vcm_model_read(&f, path, m, with_grad);
    vci_safetensors_free(&f);
    return st;
}

vc_status vcm_model_read(const st_file *f, const char *what, vcm_model *m, int with_grad) {
    if (!f || !what || !m) return VC_ERR_ARG;
    memset(m, 0, sizeof *m);
    /* The version first: another version may keep its config under other keys. */
    const char *ver = vci_safetensors_meta(f, VC_META_FORMAT_VERSION);
    if (!ver && vci_safetensors_meta(f, "vconv.ckpt_version")) {
        vcu_log(VC_LOG_ERROR, "%s: a training checkpoint, not a model file", what);
        vcu_log(VC_LOG_ERROR, "HINT: give the model file the run wrote (the checkpoint's name "
                              "without .ckpt), or resume training from it with --resume");
        return VC_ERR_FORMAT;
    }
    if (!ver) {
        vcu_log(VC_LOG_ERROR,
                "%s: a safetensors file without \"%s\" in its metadata: not written "
                "by vconv",
                what, VC_META_FORMAT_VERSION);
        vcu_log(VC_LOG_ERROR, "HINT: vconv reads only the model files it writes (vconv train, "
                              "vconv export)");
        return VC_ERR_FORMAT;
    }
    if (strcmp(ver, VC_FORMAT_VERSION) != 0) {
        vcu_log(VC_LOG_ERROR, "%s: model format version \"%.32s\", this vconv reads \"%s\"", what,
                ver, VC_FORMAT_VERSION);
        vcu_log(VC_LOG_ERROR, "HINT: re-export or retrain the model with this vconv version");
        return VC_ERR_VERSION;
    }
    vcm_config cfg;
    vc_status st;
    if ((st = vcm_config_from_meta(f, what, &cfg)) == VC_OK &&
        (st = vcm_model_init(m, &cfg, with_grad)) == VC_OK &&
        (st = vci_params_read(f, what, &m->params)) == VC_OK &&
        (st = read_norm(m, f, what)) == VC_OK)
        st = keep_other_meta(m, f);
    if (st != VC_OK) vcm_model_free(m);
    return st;
}
