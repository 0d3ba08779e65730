/* Conversion and threads:
 * - one conversion gives the same bytes with 1 and 2 compute threads (vc_set_num_threads, what
 *   --threads sets; ctest runs this test with 2 OpenMP and OpenBLAS threads available);
 * - two threads converting different files at once with one loaded model give the same bytes as
 *   the same conversions one after the other (the model is only read; every conversion makes its
 *   own plans and scratch, FFTW's planner under one lock). */
#include "test.h"

#include "vconv/vconv.h"

#include <pthread.h>
#include <string.h>

#define ROUNDS 8

typedef struct job {
    const vc_model *m;
    const char *src, *ref;
    int harmonic;
    vc_audio out;
    vc_status st;
} job;

static void *run(void *arg) {
    job *j = arg;
    vc_audio src = {0}, ref = {0};
    vc_voice v;
    memset(&v, 0, sizeof v);
    int rate = vc_model_sample_rate(j->m);
    j->st = vc_audio_load(j->src, rate, &src, NULL);
    if (j->st == VC_OK) j->st = vc_audio_load(j->ref, rate, &ref, NULL);
    if (j->st == VC_OK) j->st = vc_voice_from_audio(j->m, &ref, 1, &v);
    vc_convert_params p = vc_convert_default_params();
    p.harmonic = j->harmonic;
    p.chunk_seconds = 1.0; /* several chunks: the vocoder's continuation runs too */
    p.vocoder.iters = 8;
    if (j->st == VC_OK) j->st = vc_convert(j->m, &src, &v, &p, &j->out);
    vc_voice_free(&v);
    vc_audio_free(&src);
    vc_audio_free(&ref);
    return NULL;
}

static int same(const vc_audio *a, const vc_audio *b) {
    return a->n_samples == b->n_samples && a->sample_rate == b->sample_rate && a->samples &&
           b->samples && !memcmp(a->samples, b->samples, a->n_samples * sizeof(float));
}

/* errors only (level 0): the limiter warnings of these samples are expected */
static void quiet_log(int level, const char *msg, void *user) {
    (void)user;
    if (level == 0) fprintf(stderr, "vconv: %s\n", msg);
}

int main(void) {
    vc_log_set(quiet_log, NULL);
    char path[1024];
    snprintf(path, sizeof path, "%s/vconv-default.safetensors", VC_SAMPLES_DIR);
    vc_model *m = NULL;
    if (vc_model_load(path, &m) != VC_OK) {
        fprintf(stderr, "no bundled model at %s: skipped\n", path);
        return 77;
    }
    char a[1024], b[1024], k[1024];
    snprintf(a, sizeof a, "%s/bdl_arctic_a0310.wav", VC_SAMPLES_DIR);
    snprintf(b, sizeof b, "%s/slt_arctic_a0318.wav", VC_SAMPLES_DIR);
    snprintf(k, sizeof k, "%s/kathleen_arctic_a0300.wav", VC_SAMPLES_DIR);
    job one[2] = {{m, a, b, 1, {0}, VC_OK}, {m, k, a, 0, {0}, VC_OK}};
    vc_set_num_threads(1);
    for (int i = 0; i < 2; i++) { /* one after the other */
        run(&one[i]);
        CHECK(one[i].st == VC_OK);
    }
    vc_set_num_threads(2);
    for (int i = 0; i < 2; i++) { /* the same with two compute threads */
        job again = one[i];
        memset(&again.out, 0, sizeof again.out);
        run(&again);
        CHECK(again.st == VC_OK);
        CHECK(same(&again.out, &one[i].out));
        vc_audio_free(&again.out);
    }
    vc_set_num_threads(1);
    for (int r = 0; r < ROUNDS; r++) { /* at once */
        job two[2] = {one[0], one[1]};
        pthread_t th[2];
        for (int i = 0; i < 2; i++) {
            memset(&two[i].out, 0, sizeof two[i].out);
            CHECK(pthread_create(&th[i], NULL, run, &two[i]) == 0);
        }
        for (int i = 0; i < 2; i++) {
            CHECK(pthread_join(th[i], NULL) == 0);
            CHECK(two[i].st == VC_OK);
            CHECK(same(&two[i].out, &one[i].out));
            vc_audio_free(&two[i].out);
        }
    }
    for (int i = 0; i < 2; i++) vc_audio_free(&one[i].out);
    vc_model_free(m);
    return test_finish();
}
