/* Model config: presets, validation, JSON and metadata; see config.h. */
#include "model/config.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

/* The field table drives JSON, metadata and their round trips: adding a field is one row. */
typedef struct field {
    const char *name;
    size_t offset;
    int is_float;
    int optional; /* may be absent from a model file (added later; defaults in fill_defaults) */
} field;

#define INT_FIELD(f)                                                                               \
    { #f, offsetof(vcm_config, f), 0, 0 }
#define FLOAT_FIELD(f)                                                                             \
    { #f, offsetof(vcm_config, f), 1, 0 }
#define LATER_INT_FIELD(f)                                                                         \
    { #f, offsetof(vcm_config, f), 0, 1 }
#define LATER_FLOAT_FIELD(f)                                                                       \
    { #f, offsetof(vcm_config, f), 1, 1 }
static const field fields[] = {
    INT_FIELD(sample_rate),      INT_FIELD(n_fft),          INT_FIELD(hop),
    INT_FIELD(n_mels),           INT_FIELD(n_bins),         INT_FIELD(channels),
    INT_FIELD(res_blocks),       INT_FIELD(code_dim),       INT_FIELD(codebook_size),
    INT_FIELD(spk_channels),     INT_FIELD(spk_dim),        INT_FIELD(dec_blocks),
    INT_FIELD(postnet_channels), INT_FIELD(activation),     FLOAT_FIELD(beta),
    FLOAT_FIELD(ema_decay),      LATER_FLOAT_FIELD(fmin),   LATER_FLOAT_FIELD(fmax),
    LATER_FLOAT_FIELD(f0_min),   LATER_FLOAT_FIELD(f0_max), LATER_INT_FIELD(retrieval),
    LATER_INT_FIELD(phone_head), LATER_INT_FIELD(envelope),
};
#define N_FIELDS ((int)(sizeof fields / sizeof fields[0]))

static int *int_at(vcm_config *c, const field *f) {
    return (int *)((char *)c + f->offset);
}
static float *float_at(vcm_config *c, const field *f) {
    return (float *)((char *)c + f->offset);
}
static const field *find_field(const char *name) {
    for (int i = 0; i < N_FIELDS; i++)
        if (!strcmp(fields[i].name, name)) return &fields[i];
    return NULL;
}

float vcm_default_fmax(int sample_rate) {
    float fmax = vc_frontend_default_params().fmax, nyquist = 0.5f * (float)sample_rate;
    return fmax < nyquist ? fmax : nyquist;
}

/* The front-end ranges of a file that does not store them: what its training used. */
static void fill_defaults(vcm_config *c) {
    vc_frontend_params fe = vc_frontend_default_params();
    c->fmin = fe.fmin;
    c->fmax = vcm_default_fmax(c->sample_rate);
    c->f0_min = fe.f0_min;
    c->f0_max = fe.f0_max;
    c->retrieval = 0;
    c->phone_head = 0;
    c->envelope = 0;
}

vc_status vcm_config_preset(const char *name, vcm_config *c) {
    if (!name || !c) return VC_ERR_ARG;
    vc_frontend_params fe = vc_frontend_default_params();
    vcm_config base = {.sample_rate = fe.sample_rate,
                       .n_fft = fe.n_fft,
                       .hop = fe.hop,
                       .n_mels = fe.n_mels,
                       .fmin = fe.fmin,
                       .fmax = fe.fmax,
                       .f0_min = fe.f0_min,
                       .f0_max = fe.f0_max,
                       .n_bins = fe.n_fft / 2 + 1,
                       .beta = 0.25f,
                       .ema_decay = 0.99f,
                       .activation = VCM_ACT_RELU};
    if (!strcmp(name, "tiny")) {
        base.channels = 32, base.res_blocks = 1, base.code_dim = 16, base.codebook_size = 32;
        base.spk_channels = 32, base.spk_dim = 16, base.dec_blocks = 2;
        base.postnet_channels = 32;
    } else if (!strcmp(name, "default")) {
        base.channels = 256, base.res_blocks = 2, base.code_dim = 64, base.codebook_size = 512;
        base.spk_channels = 256, base.spk_dim = 128, base.dec_blocks = 4;
        base.postnet_channels = 256;
    } else {
        vcu_log(VC_LOG_ERROR, "model config: unknown preset \"%.64s\" (known: tiny, default)",
                name);
        return VC_ERR_ARG;
    }
    *c = base;
    return VC_OK;
}

vc_status vcm_config_validate(const vcm_config *c) {
    if (!c) return VC_ERR_ARG;
    /* Bounds keep every tensor size and product of sizes well inside int and size_t. */
    static const struct {
        const char *name;
        size_t offset;
        int lo, hi;
    } ranges[] = {
        {"sample_rate", offsetof(vcm_config, sample_rate), 1000, 384000},
        {"n_fft", offsetof(vcm_config, n_fft), 4, 65536},
        {"hop", offsetof(vcm_config, hop), 1, 65536},
        {"n_mels", offsetof(vcm_config, n_mels), 1, 4096},
        {"n_bins", offsetof(vcm_config, n_bins), 3, 32769},
        {"channels", offsetof(vcm_config, channels), 1, 8192},
        {"res_blocks", offsetof(vcm_config, res_blocks), 0, 64},
        {"code_dim", offsetof(vcm_config, code_dim), 1, 8192},
        {"codebook_size", offsetof(vcm_config, codebook_size), 1, 1 << 20},
        {"spk_channels", offsetof(vcm_config, spk_channels), 1, 8192},
        {"spk_dim", offsetof(vcm_config, spk_dim), 1, 8192},
        {"dec_blocks", offsetof(vcm_config, dec_blocks), 0, 64},
        {"postnet_channels", offsetof(vcm_config, postnet_channels), 1, 8192},
        {"retrieval", offsetof(vcm_config, retrieval), 0, 1},
        {"phone_head", offsetof(vcm_config, phone_head), 0, 1},
        {"envelope", offsetof(vcm_config, envelope), 0, 1},
    };
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
        int v = *(const int *)((const char *)c + ranges[i].offset);
        if (v < ranges[i].lo || v > ranges[i].hi) {
            vcu_log(VC_LOG_ERROR, "model config: %s = %d outside [%d, %d]", ranges[i].name, v,
                    ranges[i].lo, ranges[i].hi);
            return VC_ERR_ARG;
        }
    }
    if (c->n_bins != c->n_fft / 2 + 1) {
        vcu_log(VC_LOG_ERROR, "model config: n_bins = %d, but n_fft %d gives %d", c->n_bins,
                c->n_fft, c->n_fft / 2 + 1);
        return VC_ERR_ARG;
    }
    float nyquist = 0.5f * (float)c->sample_rate;
    if (!(c->fmin >= 0.0f && c->fmin < c->fmax && c->fmax <= nyquist)) {
        vcu_log(VC_LOG_ERROR, "model config: mel range fmin %g .. fmax %g Hz outside [0, %g]",
                (double)c->fmin, (double)c->fmax, (double)nyquist);
        return VC_ERR_ARG;
    }
    if (!(c->f0_min > 0.0f && c->f0_min < c->f0_max && c->f0_max < nyquist)) {
        vcu_log(VC_LOG_ERROR, "model config: F0 range %g .. %g Hz outside (0, %g)",
                (double)c->f0_min, (double)c->f0_max, (double)nyquist);
        return VC_ERR_ARG;
    }
    if (!(c->beta >= 0.0f && c->beta <= 100.0f)) {
        vcu_log(VC_LOG_ERROR, "model config: beta = %g outside [0, 100]", (double)c->beta);
        return VC_ERR_ARG;
    }
    if (c->activation != VCM_ACT_RELU && c->activation != VCM_ACT_GELU) {
        vcu_log(VC_LOG_ERROR, "model config: activation = %d (0 relu, 1 gelu)", c->activation);
        return VC_ERR_ARG;
    }
    if (!(c->ema_decay >= 0.0f && c->ema_decay < 1.0f)) {
        vcu_log(VC_LOG_ERROR, "model config: ema_decay = %g outside [0, 1)", (double)c->ema_decay);
        return VC_ERR_ARG;
    }
    return VC_OK;
}

vc_status vcm_config_from_json(const char *text, vcm_config *out) {
    if (!text || !out) return VC_ERR_ARG;
    cJSON *root = cJSON_Parse(text);
    if (!root || !cJSON_IsObject(root)) {
        vcu_log(VC_LOG_ERROR, "model config: not a JSON object");
        cJSON_Delete(root);
        return VC_ERR_FORMAT;
    }
    vcm_config c;
    const cJSON *preset = cJSON_GetObjectItemCaseSensitive(root, "preset");
    if (preset && !cJSON_IsString(preset)) {
        vcu_log(VC_LOG_ERROR, "model config: \"preset\" must be a string");
        cJSON_Delete(root);
        return VC_ERR_FORMAT;
    }
    vc_status st = vcm_config_preset(preset ? preset->valuestring : "default", &c);
    if (st != VC_OK) {
        cJSON_Delete(root);
        return st;
    }
    int bins_given = 0, fmax_given = 0;
    for (const cJSON *it = root->child; it; it = it->next) {
        if (!strcmp(it->string, "preset")) continue;
        const field *f = find_field(it->string);
        if (!f) {
            vcu_log(VC_LOG_ERROR, "model config: unknown key \"%.64s\"", it->string);
            cJSON_Delete(root);
            return VC_ERR_FORMAT;
        }
        double v = it->valuedouble;
        if (!cJSON_IsNumber(it) || !isfinite(v) ||
            (!f->is_float && (v != floor(v) || fabs(v) > 2e9))) {
            vcu_log(VC_LOG_ERROR, "model config: \"%s\" must be %s", f->name,
                    f->is_float ? "a number" : "an integer");
            cJSON_Delete(root);
            return VC_ERR_FORMAT;
        }
        if (f->is_float)
            *float_at(&c, f) = (float)v;
        else
            *int_at(&c, f) = (int)v;
        bins_given |= !strcmp(f->name, "n_bins");
        fmax_given |= !strcmp(f->name, "fmax");
    }
    cJSON_Delete(root);
    if (!bins_given) c.n_bins = c.n_fft / 2 + 1;
    if (!fmax_given) c.fmax = vcm_default_fmax(c.sample_rate);
    if ((st = vcm_config_validate(&c)) != VC_OK) return st;
    *out = c;
    return VC_OK;
}

/* The double nearest the shortest decimal that reads back as f (0.99f -> 0.99, not
 * 0.990000009536743), so JSON shows what the user wrote. */
static double shortest_double(float f) {
    char buf[32];
    for (int digits = 6; digits <= 9; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, (double)f);
        if (strtof(buf, NULL) == f) break;
    }
    return strtod(buf, NULL);
}

vc_status vcm_config_to_json(const vcm_config *c, char **out) {
    if (!c || !out) return VC_ERR_ARG;
    *out = NULL;
    cJSON *root = cJSON_CreateObject();
    if (!root) return VC_ERR_NOMEM;
    vcm_config tmp = *c;
    for (int i = 0; i < N_FIELDS; i++) {
        double v = fields[i].is_float ? shortest_double(*float_at(&tmp, &fields[i]))
                                      : (double)*int_at(&tmp, &fields[i]);
        if (!cJSON_AddNumberToObject(root, fields[i].name, v)) {
            cJSON_Delete(root);
            return VC_ERR_NOMEM;
        }
    }
    *out = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return *out ? VC_OK : VC_ERR_NOMEM;
}

void vcm_config_to_meta(const vcm_config *c, vcm_config_meta *out) {
    VC_ASSERT(N_FIELDS <= VCM_CONFIG_META_MAX);
    vcm_config tmp = *c;
    out->n = N_FIELDS;
    for (int i = 0; i < N_FIELDS; i++) {
        snprintf(out->key[i], sizeof out->key[i], "vconv.%s", fields[i].name);
        if (fields[i].is_float) /* %.9g: a float survives the decimal round trip exactly */
            snprintf(out->value[i], sizeof out->value[i], "%.9g",
                     (double)*float_at(&tmp, &fields[i]));
        else
            snprintf(out->value[i], sizeof out->value[i], "%d", *int_at(&tmp, &fields[i]));
        out->kv[2 * i] = out->key[i];
        out->kv[2 * i + 1] = out->value[i];
    }
}

/* Field fd of the file's metadata into *c; *value is the text found (NULL when absent: *c
 * untouched). VC_ERR_FORMAT with a log line when present but not a complete number. */
static vc_status read_field(const st_file *f, const char *what, const field *fd, vcm_config *c,
                            const char **value) {
    char key[40];
    snprintf(key, sizeof key, "vconv.%s", fd->name);
    const char *v = *value = vci_safetensors_meta(f, key);
    if (!v) return VC_OK;
    char *end;
    errno = 0;
    if (fd->is_float) {
        float x = strtof(v, &end);
        if (end != v && !*end && !errno && isfinite(x)) {
            *float_at(c, fd) = x;
            return VC_OK;
        }
    } else {
        long x = strtol(v, &end, 10);
        if (end != v && !*end && !errno && x >= -2000000000L && x <= 2000000000L) {
            *int_at(c, fd) = (int)x;
            return VC_OK;
        }
    }
    vcu_log(VC_LOG_ERROR, "%s: config key %s = \"%.32s\" is not a %s", what, key, v,
            fd->is_float ? "number" : "decimal integer");
    return VC_ERR_FORMAT;
}

vc_status vcm_config_from_meta(const st_file *f, const char *what, vcm_config *out) {
    if (!f || !out) return VC_ERR_ARG;
    if (!what) what = "model file";
    vcm_config c;
    memset(&c, 0, sizeof c);
    for (int i = 0; i < N_FIELDS; i++) { /* the required fields first: defaults follow the rate */
        if (fields[i].optional) continue;
        const char *v = NULL;
        if (read_field(f, what, &fields[i], &c, &v) != VC_OK) return VC_ERR_FORMAT;
        if (!v) {
            vcu_log(VC_LOG_ERROR, "%s: config key vconv.%s missing from __metadata__", what,
                    fields[i].name);
            return VC_ERR_FORMAT;
        }
    }
    fill_defaults(&c);
    for (int i = 0; i < N_FIELDS; i++) {
        const char *v;
        if (fields[i].optional && read_field(f, what, &fields[i], &c, &v) != VC_OK)
            return VC_ERR_FORMAT;
    }
    if (vcm_config_validate(&c) != VC_OK) {
        vcu_log(VC_LOG_ERROR, "%s: invalid model config in __metadata__", what);
        return VC_ERR_FORMAT;
    }
    *out = c;
    return VC_OK;
}
