/* Public API misuse: NULL and out-of-range arguments return VC_ERR_ARG (never crash), every
 * status has its own message, _free(NULL) is a no-op, and the log sink receives messages. */
#define _POSIX_C_SOURCE 200809L /* setenv, access */
#include "test.h"
#include "vconv/vconv.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int log_calls = 0;
static void count_log(int level, const char *msg, void *user) {
    (void)level;
    (void)msg;
    *(int *)user += 1;
}

int main(void) {
    /* Every status has a distinct message, and unknown codes are answered too. */
    const int codes[] = {VC_OK,          VC_ERR_ARG,   VC_ERR_NOMEM, VC_ERR_IO,      VC_ERR_FORMAT,
                         VC_ERR_VERSION, VC_ERR_SHAPE, VC_ERR_AUDIO, VC_ERR_INTERNAL};
    const int n_codes = (int)(sizeof codes / sizeof codes[0]);
    for (int i = 0; i < n_codes; i++) {
        CHECK(vc_strerror(codes[i]) != NULL);
        CHECK(strcmp(vc_strerror(codes[i]), "unknown status") != 0);
        for (int j = 0; j < i; j++) CHECK(strcmp(vc_strerror(codes[i]), vc_strerror(codes[j])));
    }
    CHECK(!strcmp(vc_strerror(12345), "unknown status"));
    CHECK(vc_version() && vc_version()[0]);

    vc_log_set(count_log, &log_calls);

    /* The bundled data: $VCONV_MODEL first, then the data folder's model; paths that do not fit
     * are refused rather than cut. */
    char path[1024];
    CHECK(vc_data_dir(NULL, sizeof path) == VC_ERR_ARG);
    CHECK(vc_data_dir(path, 0) == VC_ERR_ARG);
    CHECK(vc_default_model_path(NULL, sizeof path) == VC_ERR_ARG);
    CHECK(setenv("VCONV_MODEL", "/nonexistent/model.safetensors", 1) == 0);
    CHECK(vc_default_model_path(path, sizeof path) == VC_ERR_IO);
    CHECK(!strcmp(path, "/nonexistent/model.safetensors"));
    CHECK(vc_default_model_path(path, 8) == VC_ERR_ARG);
    CHECK(setenv("VCONV_MODEL", VC_SAMPLES_DIR "/vconv-default.safetensors", 1) == 0);
    CHECK(vc_default_model_path(path, sizeof path) ==
          (access(VC_SAMPLES_DIR "/vconv-default.safetensors", R_OK) == 0 ? VC_OK : VC_ERR_IO));
    CHECK(unsetenv("VCONV_MODEL") == 0);
    if (access(VC_SAMPLES_DIR "/vconv-default.safetensors", R_OK) == 0) {
        /* A build used in place (nothing installed beside it) finds the source tree's model. */
        CHECK(vc_default_model_path(path, sizeof path) == VC_OK);
        CHECK(strstr(path, "/vconv-default.safetensors") != NULL);
        CHECK(vc_data_dir(path, sizeof path) == VC_OK);
    }

    /* Audio. */
    vc_audio a = {0};
    float x[16] = {0};
    CHECK(vc_audio_load(NULL, 16000, &a, NULL) == VC_ERR_ARG);
    CHECK(vc_audio_load("x.wav", 16000, NULL, NULL) == VC_ERR_ARG);
    CHECK(vc_audio_load("x.wav", -5, &a, NULL) == VC_ERR_ARG);
    CHECK(a.samples == NULL);
    CHECK(vc_audio_save(NULL, &a, VC_AUDIO_PCM16) == VC_ERR_ARG);
    CHECK(vc_audio_save("x.wav", NULL, VC_AUDIO_PCM16) == VC_ERR_ARG);
    CHECK(vc_audio_save_check(NULL, VC_AUDIO_PCM16, 16000) == VC_ERR_ARG);
    CHECK(vc_audio_save_check("x.wav", (vc_audio_encoding)7, 16000) == VC_ERR_ARG);
    CHECK(vc_audio_save_check("x.wav", VC_AUDIO_PCM16, -1) == VC_ERR_ARG);
    vc_audio_free(NULL);
    vc_audio_free(&a);
    float *y = NULL;
    size_t ny = 0;
    CHECK(vc_audio_resample(NULL, 16, 16000, 8000, &y, &ny) == VC_ERR_ARG);
    CHECK(vc_audio_resample(x, 16, 0, 8000, &y, &ny) == VC_ERR_ARG);
    CHECK(vc_audio_resample(x, 16, 16000, 8000, NULL, &ny) == VC_ERR_ARG);
    vc_level lv;
    CHECK(vc_audio_level(NULL, 16, 16000, &lv) == VC_ERR_ARG);
    CHECK(vc_audio_level(x, 16, 16000, NULL) == VC_ERR_ARG);

    /* Front end: bad parameters are refused one by one. */
    vc_frontend *fe = NULL;
    CHECK(vc_frontend_init(NULL, &fe) == VC_ERR_ARG);
    vc_frontend_params p = vc_frontend_default_params();
    CHECK(vc_frontend_init(&p, NULL) == VC_ERR_ARG);
    vc_frontend_params bad[8];
    for (int i = 0; i < 8; i++) bad[i] = p;
    bad[0].sample_rate = 0;
    bad[1].n_fft = 1023; /* odd */
    bad[2].hop = 0;
    bad[3].hop = 1000; /* overlap-add needs hop <= n_fft/2 */
    bad[4].n_mels = 0;
    bad[5].fmax = 9000.0f;  /* above Nyquist */
    bad[6].f0_min = 600.0f; /* above f0_max */
    bad[7].fmin = -1.0f;
    for (int i = 0; i < 8; i++) {
        CHECK(vc_frontend_init(&bad[i], &fe) == VC_ERR_ARG);
        CHECK(fe == NULL);
    }
    vc_frontend_free(NULL);
    CHECK(vc_frontend_init(&p, &fe) == VC_OK);
    CHECK(vc_frontend_n_frames(fe, 16000) == 1 + 16000 / 256);
    CHECK(vc_frontend_n_bins(fe) == 513);
    CHECK(vc_frontend_n_frames(NULL, 16000) == 0);
    float mag[513], mel[80], f0[1], v[1];
    CHECK(vc_frontend_magnitude(NULL, x, 16, mag) == VC_ERR_ARG);
    CHECK(vc_frontend_magnitude(fe, NULL, 16, mag) == VC_ERR_ARG);
    CHECK(vc_frontend_magnitude(fe, x, 0, mag) == VC_ERR_ARG);
    CHECK(vc_frontend_log_mel(fe, x, 16, NULL) == VC_ERR_ARG);
    CHECK(vc_frontend_log_mel_from_magnitude(fe, mag, 0, mel) == VC_ERR_ARG);
    CHECK(vc_frontend_mel_to_magnitude(fe, NULL, 1, mag) == VC_ERR_ARG);
    CHECK(vc_frontend_f0(fe, x, 16, NULL, v) == VC_ERR_ARG);
    CHECK(vc_frontend_f0(fe, x, 16, f0, NULL) == VC_ERR_ARG);

    /* Vocoder: T must match the output length; parameters in range. */
    vc_vocoder_params vp = vc_vocoder_default_params();
    float out[16];
    for (int i = 0; i < 513; i++) mag[i] = 1.0f;
    CHECK(vc_vocoder_griffin_lim(fe, mag, 2, &vp, out, 16) == VC_ERR_SHAPE);
    CHECK(vc_vocoder_griffin_lim(fe, mag, 1, NULL, out, 16) == VC_ERR_ARG);
    vp.momentum = 1.5f;
    CHECK(vc_vocoder_griffin_lim(fe, mag, 1, &vp, out, 16) == VC_ERR_ARG);
    vp = vc_vocoder_default_params();
    vp.iters = -1;
    CHECK(vc_vocoder_griffin_lim(fe, mag, 1, &vp, out, 16) == VC_ERR_ARG);
    double sc;
    vp = vc_vocoder_default_params();
    CHECK(vc_resynthesize(NULL, x, 16, VC_RESYNTH_LINEAR, &vp, out, &sc) == VC_ERR_ARG);
    CHECK(vc_resynthesize(fe, x, 0, VC_RESYNTH_LINEAR, &vp, out, &sc) == VC_ERR_ARG);
    CHECK(vc_resynthesize(fe, x, 16, (vc_resynth_source)7, &vp, out, &sc) == VC_ERR_ARG);
    CHECK(vc_resynthesize(fe, x, 16, VC_RESYNTH_MEL, &vp, NULL, &sc) == VC_ERR_ARG);
    CHECK(vc_resynthesize(fe, x, 16, VC_RESYNTH_MEL, &vp, out, NULL) == VC_OK); /* sc optional */
    CHECK(vc_spectral_convergence(fe, mag, 3, x, 16, &sc) == VC_ERR_SHAPE);
    CHECK(vc_spectral_convergence(fe, mag, 1, x, 16, NULL) == VC_ERR_ARG);
    vc_frontend_free(fe);

    CHECK(log_calls > 0); /* the bad front-end parameters were logged through our sink */
    vc_log_set(NULL, NULL);
    return test_finish();
}
