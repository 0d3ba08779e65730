/* Audio file reading through libsndfile: load any readable format to mono float (write.c
 * writes). With write.c, the only files in vconv that include <sndfile.h>. Every input is treated as hostile: sizes
 * are checked before allocating, the number of frames actually read is what counts, and a
 * failure leaves the caller's struct untouched. */
#define _POSIX_C_SOURCE 200809L /* stat, open, mkstemp, fsync */

#include "audio.h"
#include "core/atomic_file.h"

#include <sndfile.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Frames per sf_readf/sf_write call: bounds the interleaved scratch buffer to 1 MB at 64 ch. */
#define AUDIO_BLOCK 4096

/* ------------------------------------------------------------------ load */

/* A file image in memory, read through libsndfile's virtual I/O. */
typedef struct mem_file {
    const unsigned char *data; // (size)
    sf_count_t size;
    sf_count_t pos;
} mem_file;

static sf_count_t mem_get_filelen(void *user) {
    return ((const mem_file *)user)->size;
}

static sf_count_t mem_seek(sf_count_t offset, int whence, void *user) {
    mem_file *m = user;
    sf_count_t base = whence == SEEK_CUR ? m->pos : whence == SEEK_END ? m->size : 0;
    /* Hostile headers produce wild offsets: clamp instead of overflowing or leaving the image. */
    if (offset > m->size - base) {
        m->pos = m->size;
    } else if (offset < -base) {
        m->pos = 0;
    } else {
        m->pos = base + offset;
    }
    return m->pos;
}

static sf_count_t mem_read(void *ptr, sf_count_t count, void *user) {
    mem_file *m = user;
    sf_count_t left = m->size - m->pos;
    if (count <= 0) return 0;
    if (count > left) count = left;
    memcpy(ptr, m->data + m->pos, (size_t)count);
    m->pos += count;
    return count;
}

static sf_count_t mem_tell(void *user) {
    return ((const mem_file *)user)->pos;
}

/* "WAV Signed 16 bit PCM": the major format's extension and the subtype's name. */
static void format_name(SNDFILE *sf, int format, char *buf, size_t size) {
    SF_FORMAT_INFO major = {.format = format & SF_FORMAT_TYPEMASK};
    SF_FORMAT_INFO sub = {.format = format & SF_FORMAT_SUBMASK};
    const char *ext = "?", *sub_name = "?";
    char ext_up[16] = "";
    if (sf_command(sf, SFC_GET_FORMAT_INFO, &major, sizeof major) == 0 && major.extension)
        ext = major.extension;
    if (sf_command(sf, SFC_GET_FORMAT_INFO, &sub, sizeof sub) == 0 && sub.name) sub_name = sub.name;
    size_t i = 0;
    for (; ext[i] && i + 1 < sizeof ext_up; i++) ext_up[i] = (char)toupper((unsigned char)ext[i]);
    ext_up[i] = '\0';
    snprintf(buf, size, "%s %s", ext_up, sub_name);
}

/* Shared by the path and memory loaders: validate what the header claims, read in blocks,
 * downmix, reject non-finite samples, resample. Does not close sf. */
static vc_status decode(SNDFILE *sf, const SF_INFO *fi, const char *name, int sample_rate,
                        vc_audio *out, vc_audio_info *info) {
    if (fi->samplerate <= 0 || fi->samplerate > VC_AUDIO_MAX_RATE) {
        vc_log(VC_LOG_ERROR, "%s: sample rate %d Hz out of range (1..%d)", name, fi->samplerate,
               VC_AUDIO_MAX_RATE);
        return VC_ERR_AUDIO;
    }
    if (fi->channels <= 0 || fi->channels > VC_AUDIO_MAX_CHANNELS) {
        vc_log(VC_LOG_ERROR, "%s: %d channels out of range (1..%d)", name, fi->channels,
               VC_AUDIO_MAX_CHANNELS);
        return VC_ERR_AUDIO;
    }
    if (fi->frames <= 0) {
        vc_log(VC_LOG_ERROR, "%s: no samples (the file holds 0 frames)", name);
        return VC_ERR_AUDIO;
    }
    const sf_count_t max_frames = (sf_count_t)(VC_AUDIO_MAX_SECONDS * fi->samplerate);
    if (fi->frames > max_frames) {
        vc_log(VC_LOG_ERROR,
               "%s: header claims %lld frames (%.0f s at %d Hz), over the %.0f s limit", name,
               (long long)fi->frames, (double)fi->frames / fi->samplerate, fi->samplerate,
               VC_AUDIO_MAX_SECONDS);
        return VC_ERR_AUDIO;
    }

    const int C = fi->channels;
    /* Grow with what is actually decoded, never trust the claimed length for the allocation. */
    size_t cap = fi->frames < 16 * AUDIO_BLOCK ? (size_t)fi->frames : 16 * AUDIO_BLOCK;
    size_t n = 0;
    float *block = malloc(sizeof(float) * AUDIO_BLOCK * (size_t)C); // (AUDIO_BLOCK, C)
    float *mono = malloc(sizeof(float) * cap);                      // (cap)
    vc_status st = VC_OK;
    if (!block || !mono) {
        vc_log(VC_LOG_ERROR, "%s: out of memory", name);
        st = VC_ERR_NOMEM;
        goto done;
    }
    for (;;) {
        sf_count_t got = sf_readf_float(sf, block, AUDIO_BLOCK);
        if (got <= 0) break;
        if ((sf_count_t)n + got > max_frames) {
            vc_log(VC_LOG_ERROR, "%s: more than %.0f s of audio decoded, refusing", name,
                   VC_AUDIO_MAX_SECONDS);
            st = VC_ERR_AUDIO;
            goto done;
        }
        if (n + (size_t)got > cap) {
            size_t new_cap = cap * 2 > n + (size_t)got ? cap * 2 : n + (size_t)got;
            float *grown = realloc(mono, sizeof(float) * new_cap);
            if (!grown) {
                vc_log(VC_LOG_ERROR, "%s: out of memory", name);
                st = VC_ERR_NOMEM;
                goto done;
            }
            mono = grown;
            cap = new_cap;
        }
        for (sf_count_t t = 0; t < got; t++) {
            const float *frame = block + t * C;
            double sum = 0.0;
            for (int c = 0; c < C; c++) {
                if (!isfinite(frame[c])) {
                    vc_log(VC_LOG_ERROR, "%s: non-finite sample (%g) at frame %lld, channel %d",
                           name, (double)frame[c], (long long)(n + (size_t)t), c);
                    st = VC_ERR_AUDIO;
                    goto done;
                }
                sum += frame[c];
            }
            /* The mean of finite floats is within float range, so the cast cannot overflow. */
            mono[n + (size_t)t] = (float)(sum / C);
        }
        n += (size_t)got;
    }
    if (n == 0) {
        if (sf_error(sf) != SF_ERR_NO_ERROR) {
            vc_log(VC_LOG_ERROR, "%s: no samples could be decoded: %s", name, sf_strerror(sf));
            st = VC_ERR_FORMAT;
        } else {
            vc_log(VC_LOG_ERROR, "%s: no samples (header claims %lld frames, none present)", name,
                   (long long)fi->frames);
            st = VC_ERR_AUDIO;
        }
        goto done;
    }
    if ((sf_count_t)n < fi->frames)
        vc_log(VC_LOG_WARN, "%s: header claims %lld frames but only %zu are present; using those",
               name, (long long)fi->frames, n);

    int rate = fi->samplerate;
    if (sample_rate != 0 && sample_rate != rate) {
        float *res = NULL;
        size_t n_res = 0;
        st = vc_audio_resample(mono, n, rate, sample_rate, &res, &n_res);
        if (st != VC_OK) goto done;
        free(mono);
        mono = res;
        n = n_res;
        rate = sample_rate;
        if (n == 0) {
            vc_log(VC_LOG_ERROR, "%s: no samples left after resampling to %d Hz", name, rate);
            st = VC_ERR_AUDIO;
            goto done;
        }
        /* Float files may hold huge finite values that the filter sums past FLT_MAX. */
        for (size_t i = 0; i < n; i++) {
            if (!isfinite(mono[i])) {
                vc_log(VC_LOG_ERROR, "%s: non-finite sample after resampling (values too large)",
                       name);
                st = VC_ERR_AUDIO;
                goto done;
            }
        }
    }

    out->samples = mono;
    out->n_samples = n;
    out->sample_rate = rate;
    mono = NULL;
    if (info) {
        info->file_rate = fi->samplerate;
        info->channels = fi->channels;
        info->file_frames = fi->frames;
        format_name(sf, fi->format, info->format, sizeof info->format);
    }
done:
    free(block);
    free(mono);
    return st;
}

static int rate_arg_ok(int sample_rate) {
    return sample_rate >= 0 && sample_rate <= VC_AUDIO_MAX_RATE;
}

vc_status vc_audio_load(const char *path, int sample_rate, vc_audio *out, vc_audio_info *info) {
    if (!path || !out) {
        vc_log(VC_LOG_ERROR, "vc_audio_load: NULL %s", !path ? "path" : "out");
        return VC_ERR_ARG;
    }
    if (!rate_arg_ok(sample_rate)) {
        vc_log(VC_LOG_ERROR, "vc_audio_load: target rate %d Hz out of range (0..%d)", sample_rate,
               VC_AUDIO_MAX_RATE);
        return VC_ERR_ARG;
    }
    /* stat first: libsndfile would report a directory or a missing file as a format error. */
    struct stat sb;
    if (stat(path, &sb) != 0) {
        vc_log(VC_LOG_ERROR, "%s: %s", path, strerror(errno));
        return VC_ERR_IO;
    }
    if (S_ISDIR(sb.st_mode)) {
        vc_log(VC_LOG_ERROR, "%s: is a directory", path);
        return VC_ERR_IO;
    }
    if (!S_ISREG(sb.st_mode)) {
        vc_log(VC_LOG_ERROR, "%s: not a regular file", path);
        return VC_ERR_IO;
    }
    if (sb.st_size == 0) {
        vc_log(VC_LOG_ERROR, "%s: no samples (empty file)", path);
        return VC_ERR_AUDIO;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        vc_log(VC_LOG_ERROR, "%s: %s", path, strerror(errno));
        return VC_ERR_IO;
    }
    SF_INFO fi;
    memset(&fi, 0, sizeof fi);
    /* close_desc false: we own fd on every path, including a failed open. */
    SNDFILE *sf = sf_open_fd(fd, SFM_READ, &fi, SF_FALSE);
    if (!sf) {
        vc_log(VC_LOG_ERROR, "%s: not a readable audio file: %s", path, sf_strerror(NULL));
        close(fd);
        return VC_ERR_FORMAT;
    }
    vc_status st = decode(sf, &fi, path, sample_rate, out, info);
    sf_close(sf);
    close(fd);
    return st;
}

vc_status audio_load_memory(const void *data, size_t size, int sample_rate, vc_audio *out,
                            vc_audio_info *info) {
    const char *name = "<memory>";
    if (!data || !out) {
        vc_log(VC_LOG_ERROR, "audio_load_memory: NULL %s", !data ? "data" : "out");
        return VC_ERR_ARG;
    }
    if (!rate_arg_ok(sample_rate)) {
        vc_log(VC_LOG_ERROR, "audio_load_memory: target rate %d Hz out of range (0..%d)",
               sample_rate, VC_AUDIO_MAX_RATE);
        return VC_ERR_ARG;
    }
    if (size == 0) {
        vc_log(VC_LOG_ERROR, "%s: no samples (empty file)", name);
        return VC_ERR_AUDIO;
    }
    if ((uint64_t)size > (uint64_t)INT64_MAX) {
        vc_log(VC_LOG_ERROR, "%s: image too large", name);
        return VC_ERR_ARG;
    }
    mem_file m = {.data = data, .size = (sf_count_t)size, .pos = 0};
    SF_VIRTUAL_IO vio = {.get_filelen = mem_get_filelen,
                         .seek = mem_seek,
                         .read = mem_read,
                         .write = NULL,
                         .tell = mem_tell};
    SF_INFO fi;
    memset(&fi, 0, sizeof fi);
    SNDFILE *sf = sf_open_virtual(&vio, SFM_READ, &fi, &m);
    if (!sf) {
        vc_log(VC_LOG_ERROR, "%s: not a readable audio file: %s", name, sf_strerror(NULL));
        return VC_ERR_FORMAT;
    }
    vc_status st = decode(sf, &fi, name, sample_rate, out, info);
    sf_close(sf);
    return st;
}

void vc_audio_free(vc_audio *a) {
    if (!a) return;
    free(a->samples);
    memset(a, 0, sizeof *a);
}
