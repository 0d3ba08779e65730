/* Audio I/O: format round trips through libsndfile, downmix, resampling, save -> load, every
 * kind of bad input, and levels. Files go to a mkdtemp folder under /tmp, removed at the end. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, opendir, truncate */

#include "audio/audio.h"
#include "test.h"
#include "tempdir.h"

#include <sndfile.h>

#include <dirent.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PI 3.14159265358979323846
#define SINE_HZ 440.0
#define SINE_AMP 0.5

/* ------------------------------------------------------------ helpers */

/* Keeps the last log line so tests can check that failures name the file and the reason. */
typedef struct log_capture {
    char last[1024];
    int n;
} log_capture;

static void capture_log(int level, const char *msg, void *user) {
    log_capture *lc = user;
    snprintf(lc->last, sizeof lc->last, "%s", msg);
    lc->n++;
    fprintf(stderr, "    log[%d]: %s\n", level, msg);
}

static int is_zeroed(const vc_audio *a) {
    return a->samples == NULL && a->n_samples == 0 && a->sample_rate == 0;
}

/* Writes interleaved float frames with libsndfile; returns 0 if the format is unsupported. */
static int write_sf(const char *path, int format, int rate, int channels, const float *x,
                    sf_count_t frames) {
    SF_INFO fi = {.samplerate = rate, .channels = channels, .format = format};
    if (!sf_format_check(&fi)) return 0;
    SNDFILE *sf = sf_open(path, SFM_WRITE, &fi);
    if (!sf) {
        fprintf(stderr, "cannot write %s: %s\n", path, sf_strerror(NULL));
        return 0;
    }
    sf_count_t wrote = frames ? sf_writef_float(sf, x, frames) : 0;
    sf_close(sf);
    return wrote == frames;
}

static int write_bytes(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    size_t w = n ? fwrite(data, 1, n, f) : 0;
    return fclose(f) == 0 && w == n;
}

/* Reads a whole file; caller frees. */
static unsigned char *read_bytes(const char *path, size_t *n) {
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) return NULL; /* fopen opens folders */
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc(len > 0 ? (size_t)len : 1);
    if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *n = (size_t)len;
    return buf;
}

/* Offset of a RIFF chunk id in a WAV image, or -1. */
static long find_chunk(const unsigned char *b, size_t n, const char *id) {
    for (size_t i = 12; i + 4 <= n; i++)
        if (memcmp(b + i, id, 4) == 0) return (long)i;
    return -1;
}

static void put_u16(unsigned char *p, unsigned v) {
    p[0] = (unsigned char)(v & 0xff);
    p[1] = (unsigned char)(v >> 8);
}

static void put_u32(unsigned char *p, unsigned long v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)((v >> (8 * i)) & 0xff);
}

static double rms(const float *x, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)x[i] * x[i];
    return n ? sqrt(s / (double)n) : 0.0;
}

/* Frequency from the span between the first and last rising zero crossings (interpolated). */
static double zero_cross_hz(const float *x, size_t n, int rate) {
    double first = -1, last = -1;
    int count = 0;
    for (size_t i = 1; i < n; i++) {
        if (x[i - 1] < 0 && x[i] >= 0) {
            double t = (double)(i - 1) + x[i - 1] / (x[i - 1] - x[i]);
            if (first < 0) first = t;
            last = t;
            count++;
        }
    }
    return count > 1 ? (count - 1) * rate / (last - first) : 0.0;
}

/* ----------------------------------------------------- format round trips */

typedef struct fmt_case {
    const char *name, *ext;
    int format;
    double snr_db; /* SNR floor of the 16 kHz result against the ideal sine */
} fmt_case;

static void test_formats(const char *dir, log_capture *lc) {
    /* SNR floors: 8-bit PCM quantisation noise sits ~44 dB under this sine; Vorbis is lossy;
     * everything else is limited by the resampler's stop band and 16-bit-ish rounding. */
    static const fmt_case fmts[] = {
        {"WAV PCM_U8", "wav", SF_FORMAT_WAV | SF_FORMAT_PCM_U8, 35},
        {"WAV PCM_16", "wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 60},
        {"WAV PCM_24", "wav", SF_FORMAT_WAV | SF_FORMAT_PCM_24, 60},
        {"WAV PCM_32", "wav", SF_FORMAT_WAV | SF_FORMAT_PCM_32, 60},
        {"WAV FLOAT", "wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 60},
        {"FLAC 16", "flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 60},
        {"FLAC 24", "flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_24, 60},
        {"OGG VORBIS", "ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS, 20},
    };
    static const int rates[] = {8000, 22050, 44100, 48000};
    const int target = 16000;
    fprintf(stderr, "formats: 440 Hz sine, 0.5 s, 1/2/3 channels, loaded at 16 kHz: length, "
                    "RMS (0.1 dB), frequency, SNR, memory loader identical\n");
    for (size_t f = 0; f < sizeof fmts / sizeof fmts[0]; f++) {
        for (size_t r = 0; r < sizeof rates / sizeof rates[0]; r++) {
            for (int C = 1; C <= 3; C++) {
                const int rate = rates[r];
                const sf_count_t frames = rate / 2;
                float *x = malloc(sizeof(float) * (size_t)(frames * C)); // (frames, C)
                for (sf_count_t t = 0; t < frames; t++)
                    for (int c = 0; c < C; c++)
                        x[t * C + c] = (float)(SINE_AMP * sin(2 * PI * SINE_HZ * t / rate));
                char name[64], path[1024];
                snprintf(name, sizeof name, "fmt%zu_%d_%d.%s", f, rate, C, fmts[f].ext);
                join(path, sizeof path, dir, name);
                if (!write_sf(path, fmts[f].format, rate, C, x, frames)) {
                    if (r == 0 && C == 1)
                        fprintf(stderr, "  skip %s: not supported by this libsndfile\n",
                                fmts[f].name);
                    free(x);
                    continue;
                }
                vc_audio a = {0};
                vc_audio_info info = {0};
                vc_status st = vc_audio_load(path, target, &a, &info);
                CHECK(st == VC_OK);
                if (st != VC_OK) {
                    fprintf(stderr, "  %s %d Hz %d ch: %s (%s)\n", fmts[f].name, rate, C,
                            vc_strerror(st), lc->last);
                    free(x);
                    continue;
                }
                const double want_n = floor((double)frames * target / rate + 0.5);
                CHECK(fabs((double)a.n_samples - want_n) <= 1.0);
                CHECK(a.sample_rate == target);
                CHECK(info.file_rate == rate && info.channels == C);
                CHECK(info.file_frames == frames);
                CHECK(info.format[0] != '\0');

                /* Away from the edges (filter ramp, Vorbis pre-roll): 50 ms each side. */
                size_t edge = (size_t)(0.05 * target), mid = a.n_samples - 2 * edge;
                const float *m = a.samples + edge;
                double got_rms = 20 * log10(rms(m, mid) / (SINE_AMP / sqrt(2.0)));
                double hz = zero_cross_hz(m, mid, target);
                double err2 = 0, ref2 = 0;
                for (size_t i = 0; i < mid; i++) {
                    double want = SINE_AMP * sin(2 * PI * SINE_HZ * (double)(i + edge) / target);
                    err2 += (m[i] - want) * (m[i] - want);
                    ref2 += want * want;
                }
                double snr = 10 * log10(ref2 / (err2 > 0 ? err2 : 1e-30));
                /* 0.1 dB is the brief's bound; 0.1 Hz is far finer than any rate error. */
                CHECK_NEAR(got_rms, 0.0, 0.1, 0);
                CHECK_NEAR(hz, SINE_HZ, 0.1, 0);
                CHECK(snr >= fmts[f].snr_db);
                if (C == 2)
                    fprintf(stderr,
                            "  %-10s %5d Hz: n %zu (want %.0f), rms %+.4f dB, %.3f Hz, "
                            "SNR %.1f dB, \"%s\"\n",
                            fmts[f].name, rate, a.n_samples, want_n, got_rms, hz, snr, info.format);

                /* The memory loader shares the decoder: identical samples. */
                size_t nb = 0;
                unsigned char *bytes = read_bytes(path, &nb);
                vc_audio b = {0};
                CHECK(bytes && vca_audio_load_memory(bytes, nb, target, &b, NULL) == VC_OK);
                CHECK(b.n_samples == a.n_samples);
                if (b.n_samples == a.n_samples)
                    check_tensor("memory vs path", b.samples, a.samples, a.n_samples, 0, 0);
                free(bytes);
                vc_audio_free(&b);
                vc_audio_free(&a);
                CHECK(is_zeroed(&a));
                free(x);
            }
        }
    }
}

/* Downmix is the channel mean: L=R=x gives x, (x, x, -x) gives x/3; L=x R=-x cancels and is
 * refused (test_input_checks has the message). */
static void test_downmix(const char *dir) {
    fprintf(stderr, "downmix: L=R=x -> x, L=x R=-x refused, (x,x,-x) -> x/3 (float WAV, no "
                    "resampling: exact)\n");
    const int rate = 16000, frames = 1600;
    static const float signs[3][3] = {{1, 1, 0}, {1, -1, 0}, {1, 1, -1}};
    static const int chans[3] = {2, 2, 3};
    static const double scale[3] = {1.0, 0.0, 1.0 / 3.0};
    for (int k = 0; k < 3; k++) {
        const int C = chans[k];
        float *x = malloc(sizeof(float) * (size_t)(frames * C)); // (frames, C)
        float *want = malloc(sizeof(float) * frames);            // (frames)
        for (int t = 0; t < frames; t++) {
            float v = (float)(0.7 * sin(2 * PI * 300.0 * t / rate));
            double sum = 0;
            for (int c = 0; c < C; c++) {
                x[t * C + c] = signs[k][c] * v;
                sum += x[t * C + c];
            }
            want[t] = (float)(sum / C);
            CHECK_NEAR(want[t], scale[k] * v, 1e-7, 0); /* float rounding of v/3 */
        }
        char path[1024];
        join(path, sizeof path, dir, "downmix.wav");
        CHECK(write_sf(path, SF_FORMAT_WAV | SF_FORMAT_FLOAT, rate, C, x, frames));
        vc_audio a = {0};
        if (k == 1) {
            /* Cancelled: refused with the reason, not loaded as silence. */
            CHECK(vc_audio_load(path, 0, &a, NULL) == VC_ERR_AUDIO && is_zeroed(&a));
            CHECK(vc_audio_load(path, 44100, &a, NULL) == VC_ERR_AUDIO && is_zeroed(&a));
            free(x);
            free(want);
            continue;
        }
        CHECK(vc_audio_load(path, 0, &a, NULL) == VC_OK);
        CHECK(a.n_samples == (size_t)frames && a.sample_rate == rate);
        if (a.n_samples == (size_t)frames) check_tensor("downmix", a.samples, want, frames, 0, 0);
        vc_audio_free(&a);
        free(x);
        free(want);
    }
}

/* save -> load: exact for float (values beyond +-1 kept), within PCM16 quantisation. */
static void test_save_load(const char *dir, vc_rng *rng) {
    fprintf(stderr, "save -> load: float exact (incl. |x| > 1), PCM16 within 1/32768 "
                    "(clipped outside [-1, 1]), no temp files left\n");
    const size_t n = 20000;
    float *x = malloc(sizeof(float) * n);    // (n)
    float *want = malloc(sizeof(float) * n); // (n)
    for (size_t i = 0; i < n; i++) x[i] = 2.0f * vcu_rng_uniform(rng) - 1.0f;
    x[0] = 1.0f;
    x[1] = -1.0f;
    x[2] = 1.5f;
    x[3] = -3.0f;
    x[4] = 0.0f;
    vc_audio a = {.samples = x, .n_samples = n, .sample_rate = 22050};
    char path[1024];
    join(path, sizeof path, dir, "saved_float.wav");
    CHECK(vc_audio_save(path, &a, VC_AUDIO_FLOAT) == VC_OK);
    vc_audio b = {0};
    vc_audio_info info = {0};
    CHECK(vc_audio_load(path, 0, &b, &info) == VC_OK);
    CHECK(b.n_samples == n && b.sample_rate == 22050 && info.channels == 1);
    if (b.n_samples == n) check_tensor("float save/load", b.samples, x, n, 0, 0);
    vc_audio_free(&b);
    /* Overwriting an existing file works (rename replaces it). */
    CHECK(vc_audio_save(path, &a, VC_AUDIO_FLOAT) == VC_OK);

    join(path, sizeof path, dir, "saved_pcm16.wav");
    CHECK(vc_audio_save(path, &a, VC_AUDIO_PCM16) == VC_OK);
    CHECK(vc_audio_load(path, 0, &b, &info) == VC_OK);
    CHECK(strstr(info.format, "16") != NULL);
    for (size_t i = 0; i < n; i++) want[i] = x[i] > 1 ? 1.0f : x[i] < -1 ? -1.0f : x[i];
    /* 1/32768: +1.0 becomes 32767/32768; everything else rounds to within half a step. */
    if (b.n_samples == n) check_tensor("pcm16 save/load", b.samples, want, n, 1.0 / 32768, 0);
    CHECK(b.n_samples == n);
    vc_audio_free(&b);
    CHECK(count_matching(dir, ".tmp.") == 0);
    free(x);
    free(want);
}

static void test_save_errors(const char *dir, log_capture *lc) {
    fprintf(stderr, "save errors: missing folder -> IO, NaN -> AUDIO, empty -> AUDIO, "
                    "rate 0 -> ARG, onto a folder -> IO; nothing left behind\n");
    float x[4] = {0.1f, 0.2f, 0.3f, 0.4f}; // (4)
    vc_audio a = {.samples = x, .n_samples = 4, .sample_rate = 16000};
    char path[1024];
    join(path, sizeof path, dir, "no_such_dir/out.wav");
    CHECK(vc_audio_save(path, &a, VC_AUDIO_PCM16) == VC_ERR_IO);
    CHECK(strstr(lc->last, path) != NULL);
    CHECK(access(path, F_OK) != 0);

    join(path, sizeof path, dir, "nan_out.wav");
    x[2] = NAN;
    CHECK(vc_audio_save(path, &a, VC_AUDIO_FLOAT) == VC_ERR_AUDIO);
    x[2] = INFINITY;
    CHECK(vc_audio_save(path, &a, VC_AUDIO_PCM16) == VC_ERR_AUDIO);
    CHECK(access(path, F_OK) != 0);
    x[2] = 0.3f;

    vc_audio empty = {.samples = x, .n_samples = 0, .sample_rate = 16000};
    CHECK(vc_audio_save(path, &empty, VC_AUDIO_PCM16) == VC_ERR_AUDIO);
    vc_audio norate = {.samples = x, .n_samples = 4, .sample_rate = 0};
    CHECK(vc_audio_save(path, &norate, VC_AUDIO_PCM16) == VC_ERR_ARG);
    CHECK(vc_audio_save(path, &a, (vc_audio_encoding)7) == VC_ERR_ARG);
    CHECK(vc_audio_save(NULL, &a, VC_AUDIO_PCM16) == VC_ERR_ARG);
    CHECK(vc_audio_save(path, NULL, VC_AUDIO_PCM16) == VC_ERR_ARG);
    CHECK(access(path, F_OK) != 0);

    /* rename() onto a folder fails after the temp file was written: it must be removed. */
    join(path, sizeof path, dir, "a_folder");
    CHECK(mkdir(path, 0755) == 0);
    CHECK(vc_audio_save(path, &a, VC_AUDIO_PCM16) == VC_ERR_IO);
    CHECK(count_matching(dir, ".tmp.") == 0);
    rmdir(path);
}

/* ------------------------------------------------------------ bad input */

/* Loads path expecting status want; out must stay zeroed and the log must name the file. */
static void expect_load_fails(const char *what, const char *path, vc_status want, log_capture *lc) {
    vc_audio a = {0};
    vc_audio_info info = {0};
    int before = lc->n;
    vc_status st = vc_audio_load(path, 16000, &a, &info);
    fprintf(stderr, "  %-28s -> %s\n", what, vc_strerror(st));
    CHECK(st == want);
    CHECK(is_zeroed(&a));
    CHECK(info.file_rate == 0 && info.channels == 0);
    CHECK(lc->n > before && strstr(lc->last, path) != NULL);
    if (st == VC_OK) vc_audio_free(&a);
    /* Same bytes through the memory loader: same verdict (files that exist only). */
    size_t nb = 0;
    unsigned char *bytes = read_bytes(path, &nb);
    if (bytes && nb > 0) {
        vc_audio b = {0};
        vc_status mst = vca_audio_load_memory(bytes, nb, 16000, &b, NULL);
        CHECK(mst == want);
        CHECK(is_zeroed(&b));
        if (mst == VC_OK) vc_audio_free(&b);
    }
    free(bytes);
}

/* A valid 1 s 16 kHz PCM16 mono WAV image; caller frees. */
static unsigned char *valid_wav(const char *dir, size_t *n) {
    char path[1024];
    join(path, sizeof path, dir, "valid.wav");
    float *x = calloc(16000, sizeof(float)); // (16000)
    for (int i = 0; i < 16000; i++) x[i] = (float)(0.3 * sin(2 * PI * 200.0 * i / 16000));
    unsigned char *b = NULL;
    if (write_sf(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, x, 16000))
        b = read_bytes(path, n);
    free(x);
    return b;
}

static void test_bad_input(const char *dir, log_capture *lc, vc_rng *rng) {
    fprintf(stderr, "bad input: status, zeroed out, a log line naming the file\n");
    char path[1024];
    vc_audio a = {0};

    CHECK(vc_audio_load(NULL, 16000, &a, NULL) == VC_ERR_ARG);
    join(path, sizeof path, dir, "x.wav");
    CHECK(vc_audio_load(path, 16000, NULL, NULL) == VC_ERR_ARG);
    CHECK(vc_audio_load(path, -1, &a, NULL) == VC_ERR_ARG);
    CHECK(vc_audio_load(path, VC_AUDIO_MAX_RATE + 1, &a, NULL) == VC_ERR_ARG);
    CHECK(vca_audio_load_memory(NULL, 10, 16000, &a, NULL) == VC_ERR_ARG);
    CHECK(vca_audio_load_memory("RIFF", 0, 16000, &a, NULL) == VC_ERR_AUDIO);
    CHECK(is_zeroed(&a));

    join(path, sizeof path, dir, "missing.wav");
    expect_load_fails("missing file", path, VC_ERR_IO, lc);
    CHECK(strstr(lc->last, "No such file") != NULL);

    expect_load_fails("directory", dir, VC_ERR_IO, lc);
    CHECK(strstr(lc->last, "is a directory") != NULL);

    join(path, sizeof path, dir, "empty.wav");
    CHECK(write_bytes(path, "", 0));
    expect_load_fails("0-byte file", path, VC_ERR_AUDIO, lc);
    CHECK(strstr(lc->last, "no samples") != NULL);

    join(path, sizeof path, dir, "zero_frames.wav");
    CHECK(write_sf(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, NULL, 0));
    expect_load_fails("header-only WAV, 0 frames", path, VC_ERR_AUDIO, lc);
    CHECK(strstr(lc->last, "no samples") != NULL);

    size_t nb = 0;
    unsigned char *wav = valid_wav(dir, &nb);
    CHECK(wav != NULL);
    long data = wav ? find_chunk(wav, nb, "data") : -1;
    long fmt = wav ? find_chunk(wav, nb, "fmt ") : -1;
    CHECK(data > 0 && fmt > 0);
    if (data > 0 && fmt > 0) {
        /* Truncated: the header claims 1 s, only 10 data bytes (5 frames) remain. Policy: load
         * the frames that are present, with a warning. */
        join(path, sizeof path, dir, "truncated.wav");
        CHECK(write_bytes(path, wav, (size_t)data + 8 + 10));
        vc_audio t = {0};
        vc_audio_info info = {0};
        CHECK(vc_audio_load(path, 0, &t, &info) == VC_OK);
        fprintf(stderr, "  %-28s -> loads the %zu frames present (header said 16000)\n",
                "truncated WAV (10 B data)", t.n_samples);
        /* libsndfile itself shortens the WAV data length to what the file holds. */
        CHECK(t.n_samples == 5 && info.file_frames == 5);
        vc_audio_free(&t);
        /* Cut inside the header itself: not audio. */
        CHECK(write_bytes(path, wav, 20));
        expect_load_fails("truncated header (20 B)", path, VC_ERR_FORMAT, lc);

        /* fmt chunk body overwritten with 0xff (format tag, channels, rate, ...). */
        unsigned char *bad = malloc(nb);
        memcpy(bad, wav, nb);
        memset(bad + fmt + 8, 0xff, 16);
        join(path, sizeof path, dir, "corrupt_fmt.wav");
        CHECK(write_bytes(path, bad, nb));
        expect_load_fails("fmt chunk overwritten", path, VC_ERR_FORMAT, lc);

        /* Forged headers, otherwise consistent: 100 channels, then 10 MHz. */
        memcpy(bad, wav, nb);
        put_u16(bad + fmt + 10, 100);           /* channels */
        put_u32(bad + fmt + 16, 16000ul * 200); /* byte rate */
        put_u16(bad + fmt + 20, 200);           /* block align */
        join(path, sizeof path, dir, "100ch.wav");
        CHECK(write_bytes(path, bad, nb));
        expect_load_fails("forged 100 channels", path, VC_ERR_AUDIO, lc);
        CHECK(strstr(lc->last, "channels") != NULL);

        memcpy(bad, wav, nb);
        put_u32(bad + fmt + 12, 10000000ul);     /* sample rate */
        put_u32(bad + fmt + 16, 10000000ul * 2); /* byte rate */
        join(path, sizeof path, dir, "10mhz.wav");
        CHECK(write_bytes(path, bad, nb));
        expect_load_fails("forged 10 MHz rate", path, VC_ERR_AUDIO, lc);
        CHECK(strstr(lc->last, "sample rate") != NULL);

        /* 1 Hz (a fuzzer's find): resampled to 16 kHz, each byte would be a second of audio */
        memcpy(bad, wav, nb);
        put_u32(bad + fmt + 12, 1ul); /* sample rate */
        put_u32(bad + fmt + 16, 2ul); /* byte rate */
        join(path, sizeof path, dir, "1hz.wav");
        CHECK(write_bytes(path, bad, nb));
        expect_load_fails("forged 1 Hz rate", path, VC_ERR_AUDIO, lc);
        CHECK(strstr(lc->last, "sample rate") != NULL);
        free(bad);
    }
    free(wav);

    /* Truncated FLAC: STREAMINFO claims 1 s, the frames stop after about half of it. Policy:
     * keep what decodes, with a warning naming the shortfall. */
    float *sine = malloc(sizeof(float) * 16000); // (16000)
    for (int i = 0; i < 16000; i++) sine[i] = (float)(0.3 * sin(2 * PI * 200.0 * i / 16000));
    join(path, sizeof path, dir, "truncated.flac");
    if (write_sf(path, SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 16000, 1, sine, 16000)) {
        unsigned char *flac = read_bytes(path, &nb);
        CHECK(flac && write_bytes(path, flac, nb / 2));
        vc_audio t = {0};
        vc_audio_info info = {0};
        vc_status st = vc_audio_load(path, 0, &t, &info);
        fprintf(stderr, "  %-28s -> %s, %zu of %lld frames\n", "truncated FLAC (half)",
                vc_strerror(st), t.n_samples, (long long)info.file_frames);
        CHECK(st == VC_OK && t.n_samples > 0 && t.n_samples < 16000);
        CHECK(info.file_frames == 16000 && strstr(lc->last, "only") != NULL);
        vc_audio_free(&t);
        free(flac);
    }
    free(sine);

    unsigned char noise[2000]; // (2000)
    for (size_t i = 0; i < sizeof noise; i++) noise[i] = (unsigned char)(vcu_rng_u32(rng) >> 24);
    join(path, sizeof path, dir, "random.wav");
    CHECK(write_bytes(path, noise, sizeof noise));
    expect_load_fails("2000 random bytes", path, VC_ERR_FORMAT, lc);

    const char *text = "This is not audio.\nJust a text file with a .wav name.\n";
    join(path, sizeof path, dir, "text.wav");
    CHECK(write_bytes(path, text, strlen(text)));
    expect_load_fails("text file", path, VC_ERR_FORMAT, lc);

    /* Non-finite samples in a float WAV. */
    float x[64]; // (64)
    for (int i = 0; i < 64; i++) x[i] = 0.1f * (float)i / 64;
    x[40] = NAN;
    join(path, sizeof path, dir, "nan.wav");
    CHECK(write_sf(path, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 16000, 1, x, 64));
    expect_load_fails("float WAV with NaN", path, VC_ERR_AUDIO, lc);
    CHECK(strstr(lc->last, "non-finite") != NULL);
    x[40] = -INFINITY;
    join(path, sizeof path, dir, "inf.wav");
    CHECK(write_sf(path, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 16000, 2, x, 32));
    expect_load_fails("stereo float WAV with -Inf", path, VC_ERR_AUDIO, lc);

    /* Silence loads fine. */
    float zeros[800] = {0}; // (800)
    join(path, sizeof path, dir, "silence.wav");
    CHECK(write_sf(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, zeros, 800));
    CHECK(vc_audio_load(path, 16000, &a, NULL) == VC_OK);
    CHECK(a.n_samples == 1600 && rms(a.samples, a.n_samples) == 0.0);
    vc_audio_free(&a);
    fprintf(stderr, "  %-28s -> loads (1600 zeros)\n", "silence");
}

/* --------------------------------------- what a file holds against what it says */

/* A RIFF WAVE image into buf: a fmt chunk (tag, channels, rate, block align, bits), a data
 * chunk declaring `declared` bytes followed by the len bytes of data, then tail_len bytes of
 * tail. buf holds 44 + len + tail_len bytes; returns that size. */
static size_t forge_wav(unsigned char *buf, unsigned tag, unsigned ch, unsigned long rate,
                        unsigned align, unsigned bits, unsigned long declared, const void *data,
                        size_t len, const void *tail, size_t tail_len) {
    const size_t n = 44 + len + tail_len;
    memcpy(buf, "RIFF", 4);
    put_u32(buf + 4, (unsigned long)(n - 8));
    memcpy(buf + 8, "WAVEfmt ", 8);
    put_u32(buf + 16, 16);
    put_u16(buf + 20, tag);
    put_u16(buf + 22, ch);
    put_u32(buf + 24, rate);
    put_u32(buf + 28, rate * align);
    put_u16(buf + 32, align);
    put_u16(buf + 34, bits);
    memcpy(buf + 36, "data", 4);
    put_u32(buf + 40, declared);
    memcpy(buf + 44, data, len);
    if (tail_len) memcpy(buf + 44 + len, tail, tail_len);
    return n;
}

/* A WAV's header against the bytes that follow it: the declared data size, the frame size. */
static void test_header_checks(const char *dir, log_capture *lc) {
    fprintf(stderr, "WAV header against its data: declared size, frame size\n");
    enum { N = 16000 };
    short *pcm = malloc(sizeof(short) * N); // (N) 1 s of a 200 Hz tone at 16 kHz
    for (int i = 0; i < N; i++) pcm[i] = (short)lrint(9830.0 * sin(2 * PI * 200.0 * i / 16000));
    const size_t len = sizeof(short) * N;
    unsigned char *buf = malloc(44 + len + 64);
    char path[1024];
    join(path, sizeof path, dir, "forged.wav");
    vc_audio a = {0};

    /* The header declares 320 bytes (0.01 s), 1 s follows: a recording never finished. */
    CHECK(write_bytes(path, buf, forge_wav(buf, 1, 1, 16000, 2, 16, 320, pcm, len, NULL, 0)));
    expect_load_fails("declares 0.01 s, 1 s follows", path, VC_ERR_FORMAT, lc);
    CHECK(strstr(lc->last, "declares 0.01 s of audio but 1.00 s follow") != NULL);
    CHECK(strstr(lc->last, "--ignore-length") != NULL);
    CHECK(write_bytes(path, buf, forge_wav(buf, 1, 1, 16000, 2, 16, 0, pcm, len, NULL, 0)));
    expect_load_fails("declares 0 s, 1 s follows", path, VC_ERR_FORMAT, lc);
    CHECK(strstr(lc->last, "declares 0.00 s of audio but 1.00 s follow") != NULL);

    /* Metadata after the samples is chunks, not undeclared audio. */
    const unsigned char list[] = "LIST\x0c\x00\x00\x00INFOISFT\x00\x00\x00\x00";
    CHECK(write_bytes(path, buf,
                      forge_wav(buf, 1, 1, 16000, 2, 16, len, pcm, len, list, sizeof list - 1)));
    CHECK(vc_audio_load(path, 0, &a, NULL) == VC_OK && a.n_samples == N);
    vc_audio_free(&a);
    /* A few stray bytes (under VCA_UNDECLARED_SECONDS of audio): loaded, with a warning. */
    int before = lc->n;
    CHECK(write_bytes(path, buf, forge_wav(buf, 1, 1, 16000, 2, 16, len, pcm, len, "junk!!!", 7)));
    CHECK(vc_audio_load(path, 0, &a, NULL) == VC_OK && a.n_samples == N);
    CHECK(lc->n > before && strstr(lc->last, "7 bytes after the audio") != NULL);
    vc_audio_free(&a);

    /* 7-bit samples over 2-byte frames: libsndfile would read every byte as an 8-bit sample. */
    CHECK(write_bytes(path, buf, forge_wav(buf, 1, 1, 16000, 2, 7, len, pcm, len, NULL, 0)));
    expect_load_fails("7-bit samples, 2-byte frames", path, VC_ERR_FORMAT, lc);
    CHECK(strstr(lc->last, "7-bit samples in 1 channel (1 byte a frame) but 2-byte frames"));
    CHECK(write_bytes(path, buf, forge_wav(buf, 1, 1, 16000, 4, 16, len, pcm, len, NULL, 0)));
    expect_load_fails("16-bit mono, 4-byte frames", path, VC_ERR_FORMAT, lc);
    /* 12 bits in a 2-byte container is the standard layout: read as 16-bit, exactly. */
    CHECK(write_bytes(path, buf, forge_wav(buf, 1, 1, 16000, 2, 12, len, pcm, len, NULL, 0)));
    CHECK(vc_audio_load(path, 0, &a, NULL) == VC_OK && a.n_samples == N);
    int exact = a.n_samples == N;
    for (size_t i = 0; exact && i < N; i++) exact = a.samples[i] == pcm[i] / 32768.0f;
    CHECK(exact);
    vc_audio_free(&a);
    free(buf);
    free(pcm);
}

/* Writes a float WAV of x (frames, C) at 16 kHz to dir/name; path receives its path. */
static int float_wav(char *path, size_t cap, const char *dir, const char *name, int C,
                     const float *x, sf_count_t frames) {
    join(path, cap, dir, name);
    return write_sf(path, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 16000, C, x, frames);
}

/* Channels that cancel in the downmix, and samples far beyond full scale. */
static void test_content_checks(const char *dir, log_capture *lc) {
    fprintf(stderr, "content: cancelling channels, out-of-scale floats, bursts\n");
    enum { N = 16000 };
    float *x = malloc(sizeof(float) * N * 4); // (N, up to 4 channels)
    float *want = malloc(sizeof(float) * N);  // (N)
    char path[1024];
    vc_audio a = {0};

    /* Stereo, right = -left: refused with the reason. */
    for (int i = 0; i < N; i++) {
        x[2 * i] = (float)(0.3 * sin(2 * PI * 200.0 * i / 16000));
        x[2 * i + 1] = -x[2 * i];
    }
    CHECK(float_wav(path, sizeof path, dir, "cancel.wav", 2, x, N));
    expect_load_fails("stereo, right = -left", path, VC_ERR_AUDIO, lc);
    CHECK(strstr(lc->last, "the two channels cancel when mixed to mono (left = -right") != NULL);
    /* Partly opposed channels (mix a quarter of the left) and one active channel of four are
     * ordinary downmixes. */
    for (int i = 0; i < N; i++) x[2 * i + 1] = -0.5f * x[2 * i];
    CHECK(float_wav(path, sizeof path, dir, "opposed.wav", 2, x, N));
    CHECK(vc_audio_load(path, 0, &a, NULL) == VC_OK);
    vc_audio_free(&a);
    for (int i = 0; i < N; i++) {
        x[4 * i] = (float)(0.3 * sin(2 * PI * 200.0 * i / 16000));
        x[4 * i + 1] = x[4 * i + 2] = x[4 * i + 3] = 0.0f;
    }
    CHECK(float_wav(path, sizeof path, dir, "one_of_four.wav", 4, x, N));
    CHECK(vc_audio_load(path, 0, &a, NULL) == VC_OK);
    vc_audio_free(&a);

    /* A float file at 1e30 throughout: scaled to a 0 dBFS peak, the waveform kept. */
    double peak = 0.0;
    for (int i = 0; i < N; i++) {
        want[i] = (float)(0.45 * sin(2 * PI * 200.0 * i / 16000));
        x[i] = (float)(want[i] * 1e30);
        if (fabs(x[i]) > peak) peak = fabs(x[i]);
    }
    for (int i = 0; i < N; i++) want[i] = (float)(x[i] / peak);
    CHECK(float_wav(path, sizeof path, dir, "1e30.wav", 1, x, N));
    int before = lc->n;
    CHECK(vc_audio_load(path, 0, &a, NULL) == VC_OK && a.n_samples == N);
    CHECK(lc->n > before && strstr(lc->last, "scaled down by 593 dB to a 0 dBFS peak") != NULL);
    /* 1 float rounding of x * (1 / peak) computed in double: under 1e-7 of full scale. */
    if (a.n_samples == N) check_tensor("1e30 scaled", a.samples, want, N, 1e-7, 0);
    vc_audio_free(&a);
    /* Through the resampler too (before, the filter overflowed to Inf). */
    CHECK(vc_audio_load(path, 44100, &a, NULL) == VC_OK);
    vc_audio_free(&a);

    /* One burst of 1e38 (10 samples at 0.5 s) in a tone at 0.3: refused, naming the time. */
    for (int i = 0; i < N; i++) x[i] = (float)(0.3 * sin(2 * PI * 200.0 * i / 16000));
    for (int i = 8000; i < 8010; i++) x[i] = 1e38f;
    CHECK(float_wav(path, sizeof path, dir, "burst.wav", 1, x, N));
    expect_load_fails("burst of 1e38 at 0.5 s", path, VC_ERR_AUDIO, lc);
    CHECK(strstr(lc->last, "a burst of samples up to 1e+38") && strstr(lc->last, "at 0.500 s"));
    /* A lone spike in silence is a burst too. */
    for (int i = 0; i < N; i++) x[i] = i == 4000 ? 1e30f : 0.0f;
    CHECK(float_wav(path, sizeof path, dir, "spike.wav", 1, x, N));
    expect_load_fails("lone 1e30 spike in silence", path, VC_ERR_AUDIO, lc);
    CHECK(strstr(lc->last, "the rest of the file is silent") != NULL);
    /* Float headroom up to VCA_SCALE_LIMIT is kept as it is. */
    for (int i = 0; i < N; i++) x[i] = (float)(0.9 * VCA_SCALE_LIMIT * sin(2 * PI * i / 80.0));
    CHECK(float_wav(path, sizeof path, dir, "hot.wav", 1, x, N));
    CHECK(vc_audio_load(path, 0, &a, NULL) == VC_OK && a.n_samples == N);
    if (a.n_samples == N) check_tensor("headroom kept", a.samples, x, N, 0, 0);
    vc_audio_free(&a);
    free(x);
    free(want);
}

/* vc_audio_load_audible refuses silence while reading; long files take two reads that store
 * exactly what one read would. */
static void test_audible_two_pass(const char *dir, log_capture *lc) {
    fprintf(stderr, "vc_audio_load_audible, and the two-read path against the single read\n");
    enum { N = 22050 };
    float *x = malloc(sizeof(float) * N * 2); // (N, 2)
    char path[1024];
    vc_audio a = {0}, b = {0};
    for (int i = 0; i < 2 * N; i++) x[i] = 0.0f;
    CHECK(float_wav(path, sizeof path, dir, "zeros.wav", 1, x, N));
    CHECK(vc_audio_load(path, 16000, &a, NULL) == VC_OK); /* silence loads ... */
    vc_audio_free(&a);
    CHECK(vc_audio_load_audible(path, 16000, &a, NULL) == VC_ERR_AUDIO && is_zeroed(&a));
    CHECK(strstr(lc->last, "silent (every sample is 0") != NULL); /* ... unless sound is due */
    for (int i = 0; i < N; i++) x[i] = (float)(3e-4 * sin(2 * PI * 300.0 * i / 16000));
    CHECK(float_wav(path, sizeof path, dir, "quiet.wav", 1, x, N)); /* -73 dBFS RMS */
    CHECK(vc_audio_load_audible(path, 16000, &a, NULL) == VC_ERR_AUDIO);
    CHECK(strstr(lc->last, "silent (active level -73.5 dBFS") != NULL);

    /* Stereo, tone over 1e20 (scaled on load): one read or two, the same bytes. */
    for (int i = 0; i < N; i++) {
        x[2 * i] = (float)(1e20 * sin(2 * PI * 300.0 * i / 22050));
        x[2 * i + 1] = (float)(0.5e20 * sin(2 * PI * 500.0 * i / 22050));
    }
    join(path, sizeof path, dir, "two_pass.wav");
    CHECK(write_sf(path, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 22050, 2, x, N));
    size_t nb = 0;
    unsigned char *bytes = read_bytes(path, &nb);
    vca_load_opts two = vca_load_default_opts();
    two.two_pass_frames = 0;
    CHECK(bytes && vca_load_memory(bytes, nb, 16000, NULL, &a, NULL) == VC_OK);
    CHECK(bytes && vca_load_memory(bytes, nb, 16000, &two, &b, NULL) == VC_OK);
    CHECK(a.n_samples > 0 && a.n_samples == b.n_samples);
    CHECK(a.n_samples == b.n_samples &&
          memcmp(a.samples, b.samples, sizeof(float) * a.n_samples) == 0);
    vc_audio_free(&a);
    vc_audio_free(&b);
    two.min_active_dbfs = VC_AUDIO_SILENCE_DBFS;
    CHECK(bytes && vca_load_memory(bytes, nb, 16000, &two, &a, NULL) == VC_OK);
    vc_audio_free(&a);
    free(bytes);
    free(x);
}

/* ------------------------------------------------------------ resample, level */

static void test_resample(void) {
    fprintf(stderr, "resample: equal rates copy exactly, length round(n*out/in), bad rates\n");
    float x[1001]; // (1001)
    for (int i = 0; i < 1001; i++) x[i] = (float)sin(0.01 * i);
    float *y = NULL;
    size_t n = 0;
    CHECK(vc_audio_resample(x, 1001, 16000, 16000, &y, &n) == VC_OK);
    CHECK(n == 1001);
    if (n == 1001) check_tensor("copy", y, x, 1001, 0, 0);
    free(y);
    CHECK(vc_audio_resample(x, 1001, 44100, 16000, &y, &n) == VC_OK);
    CHECK(n == 363); /* 1001 * 16000 / 44100 = 363.18 */
    free(y);
    CHECK(vc_audio_resample(x, 1001, 8000, 22050, &y, &n) == VC_OK);
    CHECK(n == 2759); /* 2758.97 */
    free(y);
    CHECK(vc_audio_resample(x, 0, 8000, 16000, &y, &n) == VC_OK);
    CHECK(n == 0 && y == NULL);
    CHECK(vc_audio_resample(x, 10, 0, 16000, &y, &n) == VC_ERR_ARG);
    CHECK(vc_audio_resample(x, 10, 16000, -5, &y, &n) == VC_ERR_ARG);
    CHECK(vc_audio_resample(NULL, 10, 16000, 8000, &y, &n) == VC_ERR_ARG);
    CHECK(vc_audio_resample(x, 10, 16000, 8000, NULL, &n) == VC_ERR_ARG);
}

static void test_level(void) {
    fprintf(stderr, "level: silence -> floor, full-scale sine -> -3.01/0 dBFS, half silence -> "
                    "share 0.5\n");
    const int rate = 16000, n = 16000;
    float *x = calloc((size_t)n, sizeof(float)); // (n)
    vc_level lv;
    CHECK(vc_audio_level(x, (size_t)n, rate, &lv) == VC_OK);
    CHECK(lv.rms_dbfs == VC_LEVEL_FLOOR_DB && lv.peak_dbfs == VC_LEVEL_FLOOR_DB);
    CHECK(lv.active_dbfs == VC_LEVEL_FLOOR_DB && lv.active_share == 0.0);
    CHECK(vc_audio_level(x, 0, rate, &lv) == VC_OK && lv.rms_dbfs == VC_LEVEL_FLOOR_DB);

    /* 1000 Hz at 16 kHz: exactly 16 samples a period, so the sine's peak 1.0 is sampled. */
    for (int i = 0; i < n; i++) x[i] = (float)sin(2 * PI * 1000.0 * i / rate);
    CHECK(vc_audio_level(x, (size_t)n, rate, &lv) == VC_OK);
    fprintf(stderr, "  sine: rms %.4f peak %.4f active %.4f share %.3f\n", lv.rms_dbfs,
            lv.peak_dbfs, lv.active_dbfs, lv.active_share);
    CHECK_NEAR(lv.rms_dbfs, -3.0103, 1e-3, 0); /* 10 log10(1/2); float rounding ~1e-7 */
    CHECK_NEAR(lv.peak_dbfs, 0.0, 1e-5, 0);
    CHECK_NEAR(lv.active_dbfs, -3.0103, 1e-3, 0);
    CHECK_NEAR(lv.active_share, 1.0, 0, 0);

    for (int i = n / 2; i < n; i++) x[i] = 0.0f;
    CHECK(vc_audio_level(x, (size_t)n, rate, &lv) == VC_OK);
    fprintf(stderr, "  half silence: rms %.4f active %.4f share %.3f\n", lv.rms_dbfs,
            lv.active_dbfs, lv.active_share);
    CHECK_NEAR(lv.active_share, 0.5, 0.021, 0); /* one 20 ms block of 50 */
    CHECK_NEAR(lv.rms_dbfs, -6.0206, 1e-3, 0);  /* half the energy */
    CHECK_NEAR(lv.active_dbfs, -3.0103, 1e-3, 0);

    /* Quiet noise 60 dB down is not active; 30 dB down is. */
    for (int i = n / 2; i < n; i++) x[i] = 1e-3f * (i % 2 ? 1.0f : -1.0f);
    CHECK(vc_audio_level(x, (size_t)n, rate, &lv) == VC_OK && lv.active_share == 0.5);
    for (int i = n / 2; i < n; i++) x[i] = 0.03f * (i % 2 ? 1.0f : -1.0f);
    CHECK(vc_audio_level(x, (size_t)n, rate, &lv) == VC_OK && lv.active_share == 1.0);

    x[5] = NAN;
    CHECK(vc_audio_level(x, (size_t)n, rate, &lv) == VC_ERR_AUDIO);
    CHECK(vc_audio_level(x, (size_t)n, 0, &lv) == VC_ERR_ARG);
    CHECK(vc_audio_level(x, (size_t)n, rate, NULL) == VC_ERR_ARG);
    CHECK(vc_audio_level(NULL, 5, rate, &lv) == VC_ERR_ARG);
    free(x);
}

/* A real recording from the corpus, if present. Returns 0 if absent. */
static int test_corpus(void) {
    char path[1024];
    snprintf(path, sizeof path, "%s/arctic/bdl/arctic_a0001.flac", VC_CORPUS_DIR);
    if (access(path, R_OK) != 0) {
        fprintf(stderr, "corpus: %s absent, skipped\n", path);
        return 0;
    }
    vc_audio a = {0};
    vc_audio_info info = {0};
    CHECK(vc_audio_load(path, 16000, &a, &info) == VC_OK);
    vc_level lv = {0};
    CHECK(vc_audio_level(a.samples, a.n_samples, a.sample_rate, &lv) == VC_OK);
    fprintf(stderr,
            "corpus: %s: %s, %d Hz, %d ch, %lld frames -> %zu at 16 kHz; rms %.1f, peak "
            "%.1f, active %.1f dBFS over %.0f%%\n",
            path, info.format, info.file_rate, info.channels, (long long)info.file_frames,
            a.n_samples, lv.rms_dbfs, lv.peak_dbfs, lv.active_dbfs, 100 * lv.active_share);
    CHECK(a.n_samples > 16000); /* an utterance lasts seconds */
    CHECK(lv.peak_dbfs < 0.5 && lv.active_dbfs > -60 && lv.active_share > 0.2);
    vc_audio_free(&a);
    return 1;
}

int main(void) {
    vc_rng rng;
    vcu_rng_seed(&rng, test_seed(1));
    log_capture lc = {{0}, 0};
    vc_log_set(capture_log, &lc);
    char dir[] = "/tmp/vc_test_audio_XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    fprintf(stderr, "temp folder %s\n", dir);
    test_formats(dir, &lc);
    test_downmix(dir);
    test_save_load(dir, &rng);
    test_save_errors(dir, &lc);
    test_bad_input(dir, &lc, &rng);
    test_header_checks(dir, &lc);
    test_content_checks(dir, &lc);
    test_audible_two_pass(dir, &lc);
    test_resample();
    test_level();
    test_corpus();
    remove_tree(dir);
    vc_log_set(NULL, NULL);
    return test_finish();
}
