/* Audio writing (src/audio/write.c): the container follows the extension (case-insensitive, none
 * is WAV), PCM16 survives FLAC exactly as it does WAV, lossy codecs keep rate and length, and an
 * extension or encoding libsndfile cannot write is refused before any file is made. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */

#include "audio/audio.h"
#include "tempdir.h"
#include "test.h"

#include <math.h>
#include <string.h>

#define RATE 16000
#define N_SAMPLES 8000 /* 0.5 s */

static void log_to_stderr(int level, const char *msg, void *user) {
    (void)user;
    fprintf(stderr, "    log[%d]: %s\n", level, msg);
}

/* A 440 Hz sine at half scale, with an exact PCM16 value in every sample. */
static void make_sine(vc_audio *a, float *x) {
    for (int i = 0; i < N_SAMPLES; i++)
        x[i] = (float)lrint(16384.0 * sin(2.0 * 3.14159265358979 * 440.0 * i / RATE)) / 32768.0f;
    a->samples = x, a->n_samples = N_SAMPLES, a->sample_rate = RATE;
}

/* Saves a as dir/name and loads it back: the format it was read as, and the samples. */
static int save_load(const char *dir, const char *name, const vc_audio *a, vc_audio_encoding enc,
                     vc_audio *back, vc_audio_info *info) {
    char path[512];
    join(path, sizeof path, dir, name);
    if (vc_audio_save(path, a, enc) != VC_OK) return -1;
    return vc_audio_load(path, 0, back, info) == VC_OK ? 0 : -1;
}

static void test_lossless(const char *dir, const vc_audio *a) {
    const struct {
        const char *name, *format;
    } cases[] = {{"x.wav", "WAV"}, {"x.flac", "FLAC"}, {"X.FLAC", "FLAC"}, {"x.aiff", "AIFF"},
                 {"x.au", "AU"},   {"x.caf", "CAF"},   {"noext", "WAV"},   {"x.w64", "W64"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vc_audio back = {0};
        vc_audio_info info;
        fprintf(stderr, "%s: %s, PCM16 exact\n", cases[i].name, cases[i].format);
        CHECK(save_load(dir, cases[i].name, a, VC_AUDIO_PCM16, &back, &info) == 0);
        CHECK(!strncmp(info.format, cases[i].format, strlen(cases[i].format)));
        CHECK(strstr(info.format, "16") != NULL);
        CHECK(back.n_samples == N_SAMPLES && back.sample_rate == RATE);
        if (back.n_samples == N_SAMPLES)
            check_tensor(cases[i].name, back.samples, a->samples, N_SAMPLES, 0, 0);
        vc_audio_free(&back);
    }
}

static void test_lossy(const char *dir, const vc_audio *a) {
    vc_audio back = {0};
    vc_audio_info info;
    fprintf(stderr, "x.ogg: Ogg Vorbis, rate kept, length within a frame\n");
    CHECK(save_load(dir, "x.ogg", a, VC_AUDIO_PCM16, &back, &info) == 0);
    CHECK(strstr(info.format, "OGA") != NULL || strstr(info.format, "OGG") != NULL);
    CHECK(strstr(info.format, "Vorbis") != NULL);
    CHECK(back.sample_rate == RATE);
    /* Vorbis pads to its block size: 2048 samples at most. */
    CHECK(back.n_samples >= N_SAMPLES - 2048 && back.n_samples <= N_SAMPLES + 2048);
    vc_audio_free(&back);
}

static void test_refused(const char *dir, const vc_audio *a) {
    const struct {
        const char *name;
        vc_audio_encoding enc;
    } cases[] = {{"x.xyz", VC_AUDIO_PCM16}, {"x.flac", VC_AUDIO_FLOAT}, {"x.ogg", VC_AUDIO_FLOAT}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char sub[512], path[600];
        join(sub, sizeof sub, dir, "refused");
        mkdir(sub, 0755);
        join(path, sizeof path, sub, cases[i].name);
        fprintf(stderr, "%s (%s): refused, nothing written\n", cases[i].name,
                cases[i].enc == VC_AUDIO_FLOAT ? "float" : "PCM16");
        CHECK(vc_audio_save_check(path, cases[i].enc, RATE) == VC_ERR_ARG);
        CHECK(vc_audio_save(path, a, cases[i].enc) == VC_ERR_ARG);
        CHECK(count_matching(sub, "") == 0);
    }
    CHECK(vc_audio_save_check("x.wav", VC_AUDIO_FLOAT, RATE) == VC_OK);
    CHECK(vc_audio_save_check("x.wav", VC_AUDIO_PCM16, 0) == VC_ERR_ARG);
    CHECK(vc_audio_save_check(NULL, VC_AUDIO_PCM16, RATE) == VC_ERR_ARG);
}

int main(void) {
    vc_log_set(log_to_stderr, NULL);
    char dir[] = "/tmp/vc_test_audio_write_XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    static float x[N_SAMPLES];
    vc_audio a;
    make_sine(&a, x);
    test_lossless(dir, &a);
    test_lossy(dir, &a);
    test_refused(dir, &a);
    CHECK(count_matching(dir, ".tmp") == 0);
    remove_tree(dir);
    return test_finish();
}
