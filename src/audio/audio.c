/* Audio file reading through libsndfile: load any readable format to mono float (write.c
 * writes). With write.c, the only files in vconv that include <sndfile.h>. Every input is treated
 * as hostile: sizes are checked before allocating, the number of frames actually read is what
 * counts, and a failure leaves the caller's struct untouched. */
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

/* Audio after a WAV's declared data that is not a chunk: at least this long, the header's size
 * is wrong and the file is refused; shorter, it is stray bytes and ignored with a warning. */
#define VCA_UNDECLARED_SECONDS 0.1

/* Downmix cancellation: a mix energy this far below what uncorrelated channels would give
 * (30 dB), when the loudest channel is above VCA_CANCEL_FLOOR_MS (-100 dBFS mean square). */
#define VCA_CANCEL_RATIO 1e-3
#define VCA_CANCEL_FLOOR_MS 1e-10

/* A burst: the 20 ms blocks within 60 dB of the peak last at most VCA_BURST_SECONDS. */
#define VCA_BURST_RANGE 1e-3
#define VCA_BURST_SECONDS 0.2

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

/* The bytes libsndfile decodes, for the checks that read the container itself: an open file
 * (fd >= 0, read with pread so libsndfile's position is untouched) or a memory image. */
typedef struct vca_source {
    int fd;
    const unsigned char *data; // (size) when fd < 0
    int64_t size;
} vca_source;

/* 1 when all n bytes at off were read. */
static int vca_read_at(const vca_source *s, int64_t off, unsigned char *buf, size_t n) {
    if (off < 0 || off > s->size || (int64_t)n > s->size - off) return 0;
    if (s->fd < 0) {
        memcpy(buf, s->data + off, n);
        return 1;
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(s->fd, buf + got, n - got, (off_t)(off + (int64_t)got));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return 0;
        got += (size_t)r;
    }
    return 1;
}

static uint32_t le32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static unsigned le16(const unsigned char *p) {
    return (unsigned)p[0] | (unsigned)p[1] << 8;
}

/* What a RIFF WAVE file's own chunks say: the fmt fields and the declared data chunk. */
typedef struct vca_riff {
    int have_fmt, have_data;
    unsigned tag; /* format tag, WAVE_FORMAT_EXTENSIBLE resolved to its sub-format */
    unsigned channels, block_align, bits;
    uint32_t rate;
    int64_t data_off, data_size; /* where the samples start; the size the header declares */
} vca_riff;

#define RIFF_MAX_CHUNKS 4096 /* a walk gives up after this many chunks (hostile files) */

/* A chunk header at off: a printable four-letter id and a size that fits in the file. */
static int vca_chunk_at(const vca_source *s, int64_t off, unsigned char id[4], int64_t *size) {
    unsigned char h[8];
    if (!vca_read_at(s, off, h, 8)) return 0;
    for (int i = 0; i < 4; i++)
        if (h[i] < 0x20 || h[i] > 0x7e) return 0;
    memcpy(id, h, 4);
    *size = le32(h + 4);
    return *size <= s->size - off - 8;
}

/* 1 when the bytes from off to the end of the file are whole chunks (metadata after the
 * samples, e.g. LIST or id3), allowing a missing final pad byte. */
static int vca_chunks_to_end(const vca_source *s, int64_t off) {
    for (int k = 0; k < RIFF_MAX_CHUNKS; k++) {
        if (s->size - off < 8) return s->size - off <= 1;
        unsigned char id[4];
        int64_t size;
        if (!vca_chunk_at(s, off, id, &size)) return 0;
        off += 8 + size + (size & 1);
    }
    return 0;
}

static void vca_riff_fmt(const vca_source *s, int64_t off, int64_t size, vca_riff *r) {
    unsigned char f[40];
    if (size < 16 || !vca_read_at(s, off, f, size < 40 ? 16 : 40)) return;
    r->have_fmt = 1;
    r->tag = le16(f);
    r->channels = le16(f + 2);
    r->rate = le32(f + 4);
    r->block_align = le16(f + 12);
    r->bits = le16(f + 14);
    if (r->tag == 0xFFFE && size >= 40) r->tag = le16(f + 24); /* the sub-format GUID's tag */
}

/* Walks the chunks of a RIFF WAVE image up to its data chunk. */
static void vca_riff_read(const vca_source *s, vca_riff *r) {
    memset(r, 0, sizeof *r);
    unsigned char h[12];
    if (!vca_read_at(s, 0, h, 12) || memcmp(h, "RIFF", 4) != 0 || memcmp(h + 8, "WAVE", 4) != 0)
        return;
    int64_t off = 12;
    for (int k = 0; k < RIFF_MAX_CHUNKS && !r->have_data; k++) {
        unsigned char id[4];
        int64_t size;
        if (s->size - off < 8) return;
        if (!vca_chunk_at(s, off, id, &size)) {
            /* A data chunk may declare more than the file holds (truncated): still the data. */
            if (vca_read_at(s, off, id, 4) && memcmp(id, "data", 4) == 0) {
                r->have_data = 1;
                r->data_off = off + 8;
                r->data_size = s->size - off - 8;
            }
            return;
        }
        if (memcmp(id, "fmt ", 4) == 0) vca_riff_fmt(s, off + 8, size, r);
        if (memcmp(id, "data", 4) == 0) {
            r->have_data = 1;
            r->data_off = off + 8;
            r->data_size = size;
        }
        off += 8 + size + (size & 1);
    }
}

/* A WAV's own header against itself: the frame size its sample format implies, and the audio
 * that follows the data chunk beyond what the header declares. libsndfile trusts the bit
 * width over the frame size (a 7-bit header over 16-bit frames decodes garbage as 8-bit
 * audio) and stops at the declared size (the rest of a recording whose header was never
 * finished is silently dropped), so both are checked here. */
static vc_status vca_check_riff(const vca_source *s, const char *name) {
    vca_riff r;
    vca_riff_read(s, &r);
    if (!r.have_fmt || !r.have_data) return VC_OK;
    if ((r.tag == 1 || r.tag == 3) && r.bits > 0 && r.channels > 0) {
        unsigned frame = r.channels * ((r.bits + 7) / 8);
        if (r.block_align != frame) {
            vcu_log(
                VC_LOG_ERROR,
                "%s: the header declares %u-bit samples in %u channel%s (%u byte%s a frame) but "
                "%u-byte frames; the samples would be misread",
                name, r.bits, r.channels, r.channels == 1 ? "" : "s", frame, frame == 1 ? "" : "s",
                r.block_align);
            return VC_ERR_FORMAT;
        }
    }
    if (r.block_align == 0 || r.rate == 0) return VC_OK;
    const int64_t end = r.data_off + r.data_size;
    if (end >= s->size) return VC_OK;
    if (vca_chunks_to_end(s, end + (r.data_size & 1)) ||
        ((r.data_size & 1) && vca_chunks_to_end(s, end)))
        return VC_OK;
    const double bytes_per_s = (double)r.block_align * r.rate;
    const double declared = (double)r.data_size / bytes_per_s;
    const double follow = (double)(s->size - r.data_off) / bytes_per_s;
    if ((double)(s->size - end) / bytes_per_s < VCA_UNDECLARED_SECONDS) {
        vcu_log(VC_LOG_WARN, "%s: %lld bytes after the audio are not a chunk; ignored", name,
                (long long)(s->size - end));
        return VC_OK;
    }
    vcu_log(VC_LOG_ERROR,
            "%s: the header declares %.2f s of audio but %.2f s follow; its size field is wrong "
            "(a recording that was never finished?): `sox --ignore-length %s OUT.wav` repairs it",
            name, declared, follow, name);
    return VC_ERR_FORMAT;
}

/* What the header claims, before anything is read or allocated. */
static vc_status vca_check_header(const SF_INFO *fi, const char *name) {
    if (fi->samplerate < VC_AUDIO_MIN_RATE || fi->samplerate > VC_AUDIO_MAX_RATE) {
        vcu_log(VC_LOG_ERROR, "%s: sample rate %d Hz out of range (%d..%d)", name, fi->samplerate,
                VC_AUDIO_MIN_RATE, VC_AUDIO_MAX_RATE);
        return VC_ERR_AUDIO;
    }
    if (fi->channels <= 0 || fi->channels > VC_AUDIO_MAX_CHANNELS) {
        vcu_log(VC_LOG_ERROR, "%s: %d channels out of range (1..%d)", name, fi->channels,
                VC_AUDIO_MAX_CHANNELS);
        return VC_ERR_AUDIO;
    }
    if (fi->frames > (sf_count_t)(VC_AUDIO_MAX_SECONDS * fi->samplerate)) {
        vcu_log(VC_LOG_ERROR,
                "%s: header claims %lld frames (%.0f s at %d Hz), over the %.0f s limit", name,
                (long long)fi->frames, (double)fi->frames / fi->samplerate, fi->samplerate,
                VC_AUDIO_MAX_SECONDS);
        return VC_ERR_AUDIO;
    }
    return VC_OK;
}

/* What one read of the file measured. */
typedef struct vca_stats {
    vca_level_acc level;                     /* of the downmix */
    double ch_energy[VC_AUDIO_MAX_CHANNELS]; /* sum of squares per channel */
} vca_stats;

/* The downmix being stored: exactly sized (second read) or grown with what is decoded. */
typedef struct vca_store {
    float *x; // (cap)
    size_t cap, n;
    int fixed; /* a read that decodes more than cap is an error, not a reason to grow */
} vca_store;

static vc_status vca_store_append(vca_store *s, const float *mix, size_t got, const char *name) {
    if (s->n + got > s->cap) {
        size_t cap = s->cap * 2 > s->n + got ? s->cap * 2 : s->n + got;
        float *grown = s->fixed ? NULL : realloc(s->x, sizeof(float) * cap);
        if (!grown) {
            vcu_log(VC_LOG_ERROR, "%s: %s", name,
                    s->fixed ? "the second read decoded more than the first" : "out of memory");
            return s->fixed ? VC_ERR_FORMAT : VC_ERR_NOMEM;
        }
        s->x = grown;
        s->cap = cap;
    }
    memcpy(s->x + s->n, mix, sizeof(float) * got);
    s->n += got;
    return VC_OK;
}

/* Reads the file from where it stands to its end in blocks: rejects non-finite samples and more
 * than VC_AUDIO_MAX_SECONDS, downmixes, and feeds stats and/or store (either may be NULL).
 * *n_read: frames decoded. */
static vc_status vca_read_pass(SNDFILE *sf, const SF_INFO *fi, const char *name, vca_stats *stats,
                               vca_store *store, size_t *n_read) {
    const int C = fi->channels;
    const size_t max_frames = (size_t)(VC_AUDIO_MAX_SECONDS * fi->samplerate);
    float *block = malloc(sizeof(float) * AUDIO_BLOCK * (size_t)C); // (AUDIO_BLOCK, C)
    float *mix = malloc(sizeof(float) * AUDIO_BLOCK);               // (AUDIO_BLOCK)
    vc_status st = VC_OK;
    size_t n = 0;
    if (!block || !mix) {
        vcu_log(VC_LOG_ERROR, "%s: out of memory", name);
        st = VC_ERR_NOMEM;
    }
    while (st == VC_OK) {
        sf_count_t got = sf_readf_float(sf, block, AUDIO_BLOCK);
        if (got <= 0) break;
        if (n + (size_t)got > max_frames) {
            vcu_log(VC_LOG_ERROR, "%s: more than %.0f s of audio decoded, refusing", name,
                    VC_AUDIO_MAX_SECONDS);
            st = VC_ERR_AUDIO;
            break;
        }
        for (sf_count_t t = 0; t < got && st == VC_OK; t++) {
            const float *frame = block + t * C;
            double sum = 0.0;
            for (int c = 0; c < C; c++) {
                if (!isfinite(frame[c])) {
                    vcu_log(VC_LOG_ERROR, "%s: non-finite sample (%g) at frame %lld, channel %d",
                            name, (double)frame[c], (long long)(n + (size_t)t), c);
                    st = VC_ERR_AUDIO;
                    break;
                }
                sum += frame[c];
                if (stats) stats->ch_energy[c] += (double)frame[c] * frame[c];
            }
            /* The mean of finite floats is within float range, so the cast cannot overflow. */
            mix[t] = (float)(sum / C);
        }
        if (st == VC_OK && stats) st = vca_level_push(&stats->level, mix, (size_t)got);
        if (st == VC_ERR_NOMEM) vcu_log(VC_LOG_ERROR, "%s: out of memory", name);
        if (st == VC_OK && store) st = vca_store_append(store, mix, (size_t)got, name);
        n += (size_t)got;
    }
    free(block);
    free(mix);
    *n_read = n;
    return st;
}

/* Channels that cancel in the downmix (one polarity-inverted copy of the other): the mono mix
 * is then silent or nearly so although the channels are not. Uncorrelated channels give a mix
 * energy of sum/C^2; a mix VCA_CANCEL_RATIO below that is cancellation. */
static vc_status vca_check_downmix(const vca_stats *s, int C, size_t n, const char *name) {
    if (C < 2) return VC_OK;
    double loud = 0.0, sum = 0.0;
    for (int c = 0; c < C; c++) {
        sum += s->ch_energy[c];
        if (s->ch_energy[c] > loud) loud = s->ch_energy[c];
    }
    const double mix = s->level.sum2;
    if (loud / (double)n <= VCA_CANCEL_FLOOR_MS || mix > sum / ((double)C * C) * VCA_CANCEL_RATIO)
        return VC_OK;
    char how[64];
    if (mix > 0.0)
        snprintf(how, sizeof how, "%.0f dB below the louder channel", 10.0 * log10(loud / mix));
    else
        snprintf(how, sizeof how, "exactly 0");
    if (C == 2)
        vcu_log(VC_LOG_ERROR,
                "%s: the two channels cancel when mixed to mono (left = -right: the mono mix is "
                "%s); use one channel, e.g. `sox %s OUT.wav remix 1`",
                name, how, name);
    else
        vcu_log(VC_LOG_ERROR,
                "%s: the %d channels cancel when mixed to mono (the mono mix is %s); pick "
                "channels, e.g. `sox %s OUT.wav remix 1`",
                name, C, how, name);
    return VC_ERR_AUDIO;
}

/* Float samples far above full scale. A burst (the blocks within VCA_BURST_RANGE of the peak
 * last at most VCA_BURST_SECONDS and a tenth of the file) is damage: scaling the file down to
 * it would bury the rest, clipping it would keep a click at full scale; refused, naming the
 * time. Anything else is a file on another scale (e.g. int16 units in a float file): scaled to
 * a 0 dBFS peak with a warning. *gain receives the factor to apply. */
static vc_status vca_check_scale(const vca_level_acc *lv, int rate, const char *name,
                                 double *gain) {
    *gain = 1.0;
    if (!(lv->peak > VCA_SCALE_LIMIT)) return VC_OK;
    const double hot = lv->peak * VCA_BURST_RANGE;
    size_t n_hot = 0;
    double rest = 0.0;
    for (size_t k = 0; k < lv->n_blocks; k++) {
        if (lv->block_peak[k] > hot)
            n_hot++;
        else if (lv->block_peak[k] > rest)
            rest = lv->block_peak[k];
    }
    const double hot_s = (double)n_hot * (double)lv->block / rate;
    const double over_db = 20.0 * log10(lv->peak);
    if (hot_s <= VCA_BURST_SECONDS && n_hot * 10 <= lv->n_blocks) {
        char rest_s[64];
        if (rest > 0.0)
            snprintf(rest_s, sizeof rest_s, "%.0f dB above the rest of the file (peak %.3g)",
                     20.0 * log10(lv->peak / rest), rest);
        else
            snprintf(rest_s, sizeof rest_s, "and the rest of the file is silent");
        vcu_log(VC_LOG_ERROR,
                "%s: a burst of samples up to %.3g (%.0f dB above full scale) at %.3f s, %s; the "
                "file is damaged there: cut that part out",
                name, lv->peak, over_db, (double)lv->peak_at / rate, rest_s);
        return VC_ERR_AUDIO;
    }
    *gain = 1.0 / lv->peak;
    vcu_log(VC_LOG_WARN,
            "%s: samples reach %.3g, %.0f dB above full scale, over %.1f s of the file; scaled "
            "down by %.0f dB to a 0 dBFS peak",
            name, lv->peak, over_db, hot_s, over_db);
    return VC_OK;
}

/* No sound for vc_audio_load_audible: the active level, after any scaling, at or below
 * min_active_dbfs. */
static vc_status vca_check_audible(const vc_level *lv, double gain, size_t n, int rate,
                                   double min_active_dbfs, const char *name) {
    double active = lv->active_dbfs;
    if (active > VC_LEVEL_FLOOR_DB) active += 20.0 * log10(gain);
    if (active > min_active_dbfs) return VC_OK;
    if (lv->peak_dbfs <= VC_LEVEL_FLOOR_DB)
        vcu_log(VC_LOG_ERROR, "%s: silent (every sample is 0, %.1f s)", name, (double)n / rate);
    else
        vcu_log(VC_LOG_ERROR, "%s: silent (active level %.1f dBFS over %.1f s, at most %.0f)", name,
                active, (double)n / rate, min_active_dbfs);
    return VC_ERR_AUDIO;
}

/* After the first read: nothing decoded is an error, fewer frames than claimed a warning. */
static vc_status vca_check_count(SNDFILE *sf, const SF_INFO *fi, const char *name, size_t n) {
    if (n == 0) {
        if (sf_error(sf) != SF_ERR_NO_ERROR) {
            vcu_log(VC_LOG_ERROR, "%s: no samples could be decoded: %s", name, sf_strerror(sf));
            return VC_ERR_FORMAT;
        }
        vcu_log(VC_LOG_ERROR, "%s: no samples (header claims %lld frames, none present)", name,
                (long long)fi->frames);
        return VC_ERR_AUDIO;
    }
    if ((sf_count_t)n < fi->frames)
        vcu_log(VC_LOG_WARN, "%s: header claims %lld frames but only %zu are present; using those",
                name, (long long)fi->frames, n);
    return VC_OK;
}

/* The second read of a long file, into a store of exactly the n frames the first one found. */
static vc_status vca_reread(SNDFILE *sf, const SF_INFO *fi, const char *name, size_t n,
                            vca_store *store) {
    if (sf_seek(sf, 0, SEEK_SET) != 0) {
        vcu_log(VC_LOG_ERROR, "%s: cannot go back to the start to read it: %s", name,
                sf_strerror(sf));
        return VC_ERR_FORMAT;
    }
    store->x = malloc(sizeof(float) * n);
    store->cap = n;
    store->n = 0;
    store->fixed = 1;
    if (!store->x) {
        vcu_log(VC_LOG_ERROR, "%s: out of memory (%zu samples)", name, n);
        return VC_ERR_NOMEM;
    }
    size_t got = 0;
    vc_status st = vca_read_pass(sf, fi, name, NULL, store, &got);
    if (st == VC_OK && got != n) {
        vcu_log(VC_LOG_ERROR, "%s: a second read decoded %zu frames, the first %zu", name, got, n);
        st = VC_ERR_FORMAT;
    }
    return st;
}

/* Reads the file and runs every check on what it holds; on success store holds the downmix
 * (scaled when the file was out of scale). Files over VCA_TWO_PASS_FRAMES are checked on a read
 * that stores nothing, so refusing one costs little memory, and stored on a second. */
static vc_status vca_read_checked(SNDFILE *sf, const SF_INFO *fi, const char *name,
                                  const vca_load_opts *opts, vca_store *store) {
    vca_stats stats;
    memset(&stats, 0, sizeof stats);
    vc_status st = vca_level_init(&stats.level, fi->samplerate);
    const int two_pass = fi->seekable && fi->frames > (sf_count_t)opts->two_pass_frames;
    size_t n = 0;
    double gain = 1.0;
    vc_level lv;
    if (st == VC_OK) st = vca_read_pass(sf, fi, name, &stats, two_pass ? NULL : store, &n);
    if (st == VC_OK) st = vca_check_count(sf, fi, name, n);
    if (st == VC_OK && (st = vca_level_finish(&stats.level, &lv)) == VC_ERR_NOMEM)
        vcu_log(VC_LOG_ERROR, "%s: out of memory", name);
    if (st == VC_OK) st = vca_check_downmix(&stats, fi->channels, n, name);
    if (st == VC_OK) st = vca_check_scale(&stats.level, fi->samplerate, name, &gain);
    if (st == VC_OK)
        st = vca_check_audible(&lv, gain, n, fi->samplerate, opts->min_active_dbfs, name);
    vca_level_free(&stats.level);
    if (st == VC_OK && two_pass) st = vca_reread(sf, fi, name, n, store);
    if (st == VC_OK && gain != 1.0)
        for (size_t i = 0; i < store->n; i++) store->x[i] = (float)((double)store->x[i] * gain);
    return st;
}

/* Shared by the path and memory loaders: the header's claims, the container's own chunks, the
 * checked read, resampling. Does not close sf. */
static vc_status decode(SNDFILE *sf, const SF_INFO *fi, const vca_source *src, const char *name,
                        int sample_rate, const vca_load_opts *opts, vc_audio *out,
                        vc_audio_info *info) {
    vc_status st = vca_check_header(fi, name);
    const int major = fi->format & SF_FORMAT_TYPEMASK;
    if (st == VC_OK && (major == SF_FORMAT_WAV || major == SF_FORMAT_WAVEX))
        st = vca_check_riff(src, name);
    if (st != VC_OK) return st;
    if (fi->frames <= 0) {
        vcu_log(VC_LOG_ERROR, "%s: no samples (the file holds 0 frames)", name);
        return VC_ERR_AUDIO;
    }
    vca_store store = {0};
    st = vca_read_checked(sf, fi, name, opts, &store);
    float *mono = store.x;
    size_t n = store.n;
    int rate = fi->samplerate;
    if (st == VC_OK && sample_rate != 0 && sample_rate != rate) {
        float *res = NULL;
        size_t n_res = 0;
        st = vc_audio_resample(mono, n, rate, sample_rate, &res, &n_res);
        if (st == VC_OK) {
            free(mono);
            mono = res;
            n = n_res;
            rate = sample_rate;
        }
        if (st == VC_OK && n == 0) {
            vcu_log(VC_LOG_ERROR, "%s: no samples left after resampling to %d Hz", name, rate);
            st = VC_ERR_AUDIO;
        }
        /* Scaled into range above, so this is a guard, not a policy. */
        for (size_t i = 0; st == VC_OK && i < n; i++) {
            if (!isfinite(mono[i])) {
                vcu_log(VC_LOG_ERROR, "%s: non-finite sample after resampling", name);
                st = VC_ERR_AUDIO;
            }
        }
    }
    if (st != VC_OK) {
        free(mono);
        return st;
    }
    out->samples = mono;
    out->n_samples = n;
    out->sample_rate = rate;
    if (info) {
        info->file_rate = fi->samplerate;
        info->channels = fi->channels;
        info->file_frames = fi->frames;
        format_name(sf, fi->format, info->format, sizeof info->format);
    }
    return VC_OK;
}

static int rate_arg_ok(int sample_rate) {
    return sample_rate >= 0 && sample_rate <= VC_AUDIO_MAX_RATE;
}

vca_load_opts vca_load_default_opts(void) {
    vca_load_opts o = {.min_active_dbfs = -INFINITY, .two_pass_frames = VCA_TWO_PASS_FRAMES};
    return o;
}

static vc_status vca_load_path(const char *path, int sample_rate, const vca_load_opts *opts,
                               vc_audio *out, vc_audio_info *info) {
    if (!path || !out) {
        vcu_log(VC_LOG_ERROR, "vc_audio_load: NULL %s", !path ? "path" : "out");
        return VC_ERR_ARG;
    }
    if (!rate_arg_ok(sample_rate)) {
        vcu_log(VC_LOG_ERROR, "vc_audio_load: target rate %d Hz out of range (0..%d)", sample_rate,
                VC_AUDIO_MAX_RATE);
        return VC_ERR_ARG;
    }
    /* stat first: libsndfile would report a directory or a missing file as a format error. */
    struct stat sb;
    if (stat(path, &sb) != 0) {
        vcu_log(VC_LOG_ERROR, "%s: %s", path, strerror(errno));
        return VC_ERR_IO;
    }
    if (S_ISDIR(sb.st_mode)) {
        vcu_log(VC_LOG_ERROR, "%s: is a directory", path);
        return VC_ERR_IO;
    }
    if (!S_ISREG(sb.st_mode)) {
        vcu_log(VC_LOG_ERROR, "%s: not a regular file", path);
        return VC_ERR_IO;
    }
    if (sb.st_size == 0) {
        vcu_log(VC_LOG_ERROR, "%s: no samples (empty file)", path);
        return VC_ERR_AUDIO;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        vcu_log(VC_LOG_ERROR, "%s: %s", path, strerror(errno));
        return VC_ERR_IO;
    }
    /* The size of what was opened, not of what was stat'ed a moment ago. */
    vca_source src = {.fd = fd, .data = NULL, .size = fstat(fd, &sb) == 0 ? sb.st_size : 0};
    SF_INFO fi;
    memset(&fi, 0, sizeof fi);
    /* close_desc false: we own fd on every path, including a failed open. */
    SNDFILE *sf = sf_open_fd(fd, SFM_READ, &fi, SF_FALSE);
    if (!sf) {
        vcu_log(VC_LOG_ERROR, "%s: not a readable audio file: %s", path, sf_strerror(NULL));
        close(fd);
        return VC_ERR_FORMAT;
    }
    vc_status st = decode(sf, &fi, &src, path, sample_rate, opts, out, info);
    sf_close(sf);
    close(fd);
    return st;
}

vc_status vc_audio_load(const char *path, int sample_rate, vc_audio *out, vc_audio_info *info) {
    vca_load_opts o = vca_load_default_opts();
    return vca_load_path(path, sample_rate, &o, out, info);
}

vc_status vc_audio_load_audible(const char *path, int sample_rate, vc_audio *out,
                                vc_audio_info *info) {
    vca_load_opts o = vca_load_default_opts();
    o.min_active_dbfs = VC_AUDIO_SILENCE_DBFS;
    return vca_load_path(path, sample_rate, &o, out, info);
}

vc_status vca_load_memory(const void *data, size_t size, int sample_rate, const vca_load_opts *opts,
                          vc_audio *out, vc_audio_info *info) {
    const char *name = "<memory>";
    const vca_load_opts defaults = vca_load_default_opts();
    if (!opts) opts = &defaults;
    if (!data || !out) {
        vcu_log(VC_LOG_ERROR, "vca_audio_load_memory: NULL %s", !data ? "data" : "out");
        return VC_ERR_ARG;
    }
    if (!rate_arg_ok(sample_rate)) {
        vcu_log(VC_LOG_ERROR, "vca_audio_load_memory: target rate %d Hz out of range (0..%d)",
                sample_rate, VC_AUDIO_MAX_RATE);
        return VC_ERR_ARG;
    }
    if (size == 0) {
        vcu_log(VC_LOG_ERROR, "%s: no samples (empty file)", name);
        return VC_ERR_AUDIO;
    }
    if ((uint64_t)size > (uint64_t)INT64_MAX) {
        vcu_log(VC_LOG_ERROR, "%s: image too large", name);
        return VC_ERR_ARG;
    }
    mem_file m = {.data = data, .size = (sf_count_t)size, .pos = 0};
    vca_source src = {.fd = -1, .data = data, .size = (int64_t)size};
    SF_VIRTUAL_IO vio = {.get_filelen = mem_get_filelen,
                         .seek = mem_seek,
                         .read = mem_read,
                         .write = NULL,
                         .tell = mem_tell};
    SF_INFO fi;
    memset(&fi, 0, sizeof fi);
    SNDFILE *sf = sf_open_virtual(&vio, SFM_READ, &fi, &m);
    if (!sf) {
        vcu_log(VC_LOG_ERROR, "%s: not a readable audio file: %s", name, sf_strerror(NULL));
        return VC_ERR_FORMAT;
    }
    vc_status st = decode(sf, &fi, &src, name, sample_rate, opts, out, info);
    sf_close(sf);
    return st;
}

vc_status vca_audio_load_memory(const void *data, size_t size, int sample_rate, vc_audio *out,
                                vc_audio_info *info) {
    return vca_load_memory(data, size, sample_rate, NULL, out, info);
}

void vc_audio_free(vc_audio *a) {
    if (!a) return;
    free(a->samples);
    memset(a, 0, sizeof *a);
}
