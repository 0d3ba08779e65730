/* Audio file writing through libsndfile: the container comes from the file name's extension,
 * the samples go through a temp file renamed into place (core/atomic_file.h). With audio.c
 * (reading), the only files in vconv that include <sndfile.h>. */
#define _POSIX_C_SOURCE 200809L

#include "audio.h"
#include "core/atomic_file.h"

#include <sndfile.h>

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

/* Frames per sf_write call. */
#define WRITE_BLOCK 4096

/* Names libsndfile does not list as a major format's extension, or lists under another one. */
static const struct {
    const char *ext;
    int major, sub; /* sub 0: the encoding asked for */
} aliases[] = {
    {"ogg", SF_FORMAT_OGG, SF_FORMAT_VORBIS},
    {"oga", SF_FORMAT_OGG, SF_FORMAT_VORBIS},
    {"opus", SF_FORMAT_OGG, SF_FORMAT_OPUS},
    {"aif", SF_FORMAT_AIFF, 0},
    {"aifc", SF_FORMAT_AIFF, 0},
    {"wave", SF_FORMAT_WAV, 0},
    {"mp3", SF_FORMAT_MPEG, SF_FORMAT_MPEG_LAYER_III},
};

/* The extension of path's last component without the dot, or "" when it has none. */
static const char *extension_of(const char *path) {
    const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
    const char *dot = strrchr(base, '.');
    return dot && dot != base ? dot + 1 : "";
}

/* libsndfile's first major format listing ext (WAV before NIST's and WAVEX's "wav"), or 0. */
static int major_of(const char *ext) {
    int n = 0;
    sf_command(NULL, SFC_GET_FORMAT_MAJOR_COUNT, &n, sizeof n);
    for (int i = 0; i < n; i++) {
        SF_FORMAT_INFO f = {.format = i};
        if (sf_command(NULL, SFC_GET_FORMAT_MAJOR, &f, sizeof f) == 0 && f.extension &&
            !strcasecmp(f.extension, ext))
            return f.format;
    }
    return 0;
}

/* The libsndfile format for path: major from the extension (none: WAV), subtype the encoding
 * asked for, or the container's own codec (Vorbis, Opus, MP3). Logs and returns VC_ERR_ARG when
 * libsndfile cannot write that combination at this rate. */
static vc_status format_for(const char *path, vc_audio_encoding enc, int rate, int *format) {
    const char *ext = extension_of(path);
    int major = *ext ? major_of(ext) : SF_FORMAT_WAV, sub = 0;
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (!strcasecmp(ext, aliases[i].ext)) major = aliases[i].major, sub = aliases[i].sub;
    if (!major) {
        vcu_log(VC_LOG_ERROR,
                "%s: cannot write audio as .%s (name it .wav, .flac, .ogg, .aiff, .au, .caf, "
                ".w64 or .rf64)",
                path, ext);
        return VC_ERR_ARG;
    }
    if (!sub) sub = enc == VC_AUDIO_FLOAT ? SF_FORMAT_FLOAT : SF_FORMAT_PCM_16;
    SF_INFO fi = {.samplerate = rate, .channels = 1, .format = major | sub};
    if ((sub == SF_FORMAT_VORBIS || sub == SF_FORMAT_OPUS || sub == SF_FORMAT_MPEG_LAYER_III) &&
        enc == VC_AUDIO_FLOAT) {
        vcu_log(VC_LOG_ERROR, "%s: .%s is a lossy codec and stores no 32-bit float samples", path,
                ext);
        return VC_ERR_ARG;
    }
    if (!sf_format_check(&fi)) {
        vcu_log(VC_LOG_ERROR, "%s: this libsndfile cannot write %s at %d Hz into .%s", path,
                enc == VC_AUDIO_FLOAT ? "32-bit float" : "16-bit samples", rate,
                *ext ? ext : "wav");
        return VC_ERR_ARG;
    }
    *format = major | sub;
    return VC_OK;
}

vc_status vc_audio_save_check(const char *path, vc_audio_encoding encoding, int sample_rate) {
    if (!path) {
        vcu_log(VC_LOG_ERROR, "vc_audio_save_check: NULL path");
        return VC_ERR_ARG;
    }
    if (encoding != VC_AUDIO_PCM16 && encoding != VC_AUDIO_FLOAT) {
        vcu_log(VC_LOG_ERROR, "%s: unknown encoding %d", path, (int)encoding);
        return VC_ERR_ARG;
    }
    if (sample_rate <= 0 || sample_rate > VC_AUDIO_MAX_RATE) {
        vcu_log(VC_LOG_ERROR, "%s: sample rate %d Hz out of range (1..%d)", path, sample_rate,
                VC_AUDIO_MAX_RATE);
        return VC_ERR_ARG;
    }
    int format;
    return format_for(path, encoding, sample_rate, &format);
}

/* Writes all samples to an open SNDFILE; PCM16 is quantised here (round, clip) so that
 * load(save(x)) == x within 1/32768 with libsndfile's 1/32768 read scaling. Other encodings
 * get floats (libsndfile clips them for integer and lossy codecs). */
static vc_status write_samples(SNDFILE *sf, const vc_audio *a, int pcm16, const char *path) {
    short pcm[WRITE_BLOCK]; // (WRITE_BLOCK)
    for (size_t i = 0; i < a->n_samples; i += WRITE_BLOCK) {
        size_t len = a->n_samples - i < WRITE_BLOCK ? a->n_samples - i : WRITE_BLOCK;
        sf_count_t wrote;
        if (!pcm16) {
            wrote = sf_writef_float(sf, a->samples + i, (sf_count_t)len);
        } else {
            for (size_t j = 0; j < len; j++) {
                double v = round((double)a->samples[i + j] * 32768.0);
                pcm[j] = (short)(v > 32767.0 ? 32767.0 : v < -32768.0 ? -32768.0 : v);
            }
            wrote = sf_writef_short(sf, pcm, (sf_count_t)len);
        }
        if (wrote != (sf_count_t)len) {
            vcu_log(VC_LOG_ERROR, "%s: write failed: %s", path, sf_strerror(sf));
            return VC_ERR_IO;
        }
    }
    return VC_OK;
}

/* Arguments and samples acceptable for writing. */
static vc_status check_audio(const char *path, const vc_audio *a, vc_audio_encoding encoding) {
    if (!path || !a || (!a->samples && a->n_samples > 0)) {
        vcu_log(VC_LOG_ERROR, "vc_audio_save: NULL %s", !path ? "path" : "audio");
        return VC_ERR_ARG;
    }
    if (encoding != VC_AUDIO_PCM16 && encoding != VC_AUDIO_FLOAT) {
        vcu_log(VC_LOG_ERROR, "%s: unknown encoding %d", path, (int)encoding);
        return VC_ERR_ARG;
    }
    if (a->n_samples == 0) {
        vcu_log(VC_LOG_ERROR, "%s: refusing to write no samples", path);
        return VC_ERR_AUDIO;
    }
    for (size_t i = 0; i < a->n_samples; i++) {
        if (!isfinite(a->samples[i])) {
            vcu_log(VC_LOG_ERROR, "%s: refusing to write non-finite sample at %zu", path, i);
            return VC_ERR_AUDIO;
        }
    }
    return VC_OK;
}

vc_status vc_audio_save(const char *path, const vc_audio *a, vc_audio_encoding encoding) {
    vc_status st = check_audio(path, a, encoding);
    if (st != VC_OK) return st;
    if ((st = vc_audio_save_check(path, encoding, a->sample_rate)) != VC_OK) return st;
    int format = 0;
    (void)format_for(path, encoding, a->sample_rate, &format);
    /* RIFF and AIFF sizes are 32-bit. */
    const size_t bytes = encoding == VC_AUDIO_FLOAT ? 4 : 2;
    int major = format & SF_FORMAT_TYPEMASK;
    if ((major == SF_FORMAT_WAV || major == SF_FORMAT_AIFF) &&
        a->n_samples > (UINT32_MAX - 1024) / bytes) {
        vcu_log(VC_LOG_ERROR, "%s: %zu samples do not fit in this container (use .w64 or .rf64)",
                path, a->n_samples);
        return VC_ERR_AUDIO;
    }

    vc_atomic_file out;
    if ((st = vcu_atomic_open(&out, path)) != VC_OK) return st;
    SF_INFO fi = {.samplerate = a->sample_rate, .channels = 1, .format = format};
    SNDFILE *sf = sf_open_fd(out.fd, SFM_WRITE, &fi, SF_FALSE);
    if (!sf) {
        vcu_log(VC_LOG_ERROR, "%s: cannot write audio: %s", path, sf_strerror(NULL));
        st = VC_ERR_IO;
    } else {
        int sub = format & SF_FORMAT_SUBMASK;
        st = write_samples(sf, a, sub == SF_FORMAT_PCM_16, path);
        /* sf_close writes the final header sizes, so its result matters too. */
        int err = sf_close(sf);
        if (st == VC_OK && err != 0) {
            vcu_log(VC_LOG_ERROR, "%s: closing the audio file failed: %s", path,
                    sf_error_number(err));
            st = VC_ERR_IO;
        }
    }
    return vcu_atomic_finish(&out, st);
}
