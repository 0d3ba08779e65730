/* Conversion and threads:
 * - a reusable conversion state (vc_converter) gives vc_convert's bytes, run after run;
 * - one conversion with 1 and 2 compute threads (vc_set_num_threads, what --threads sets; ctest
 *   runs this test with 2 OpenMP and OpenBLAS threads available) gives the same audio: the
 *   same bytes with OpenBLAS's SkylakeX kernels, but its Haswell kernels (what Debian's
 *   OpenBLAS 0.3.21 picks on CPUs it does not know) sum a GEMM's tails in an order that
 *   depends on how the work is split, so there it differs in the last bits, which the
 *   harmonic vocoder's phase carries further (measured: -61 dB, -97 dB and the same bytes for
 *   the three jobs): the check is the difference's energy, at least 50 dB below the signal's.
 *   The same thread count gives the same bytes on every kernel (the checks below);
 * - two threads converting different files at once with one loaded model give the same bytes as
 *   the same conversions one after the other (the model is only read; every conversion makes its
 *   own plans and scratch, FFTW's planner under one lock).
 * Three jobs: the harmonic vocoder, the spectrum vocoder, and the WORLD vocoder with frame
 * matching (whose per-conversion matcher and the voice's WORLD analysis plan FFTW too). */
#include "test.h"

#include "vconv/vconv.h"

#include <pthread.h>
#include <string.h>

#define ROUNDS 3

typedef struct job {
    const vc_model *m;
    const char *src, *ref;
    int harmonic, world;
    float match;
    vc_audio out;
    vc_status st;
} job;

/* The file at path, at rate, twice over: longer than the shortest chunk length (256 frames,
 * 4.1 s), so the vocoder's continuation across chunks runs too. */
static vc_status load_long(const char *path, int rate, vc_audio *out) {
    vc_audio a = {0};
    vc_status st = vc_audio_load(path, rate, &a, NULL);
    if (st != VC_OK) return st;
    out->samples = malloc(2 * a.n_samples * sizeof(float));
    if (!out->samples) abort();
    for (int i = 0; i < 2; i++)
        memcpy(out->samples + i * a.n_samples, a.samples, a.n_samples * sizeof(float));
    out->n_samples = 2 * a.n_samples;
    out->sample_rate = a.sample_rate;
    vc_audio_free(&a);
    return VC_OK;
}

static void *run(void *arg) {
    job *j = arg;
    vc_audio src = {0}, ref = {0};
    vc_voice v;
    memset(&v, 0, sizeof v);
    int rate = vc_model_sample_rate(j->m);
    j->st = load_long(j->src, rate, &src);
    if (j->st == VC_OK) j->st = vc_audio_load(j->ref, rate, &ref, NULL);
    if (j->st == VC_OK) j->st = vc_voice_from_audio(j->m, &ref, 1, &v);
    vc_convert_params p = vc_convert_default_params();
    p.harmonic = j->harmonic;
    p.world_vocoder = j->world;
    p.match = j->match;
    p.chunk_seconds = 1.0; /* the shortest chunks (4.1 s): two per source */
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

/* The energy of a - b relative to a's, in dB (-inf when equal); +inf when shapes differ. */
static double diff_db(const vc_audio *a, const vc_audio *b) {
    if (a->n_samples != b->n_samples || a->sample_rate != b->sample_rate || !a->samples ||
        !b->samples)
        return INFINITY;
    double e = 0.0, s = 0.0;
    for (size_t i = 0; i < a->n_samples; i++) {
        double d = (double)a->samples[i] - (double)b->samples[i];
        e += d * d, s += (double)a->samples[i] * (double)a->samples[i];
    }
    return 10.0 * log10(e / (s > 0 ? s : 1e-30));
}

/* A reusable state (vc_converter), made once and run on both jobs' sources with the first
 * job's parameters, twice: each run gives vc_convert's bytes. */
static void test_converter(const job *a, const job *b) {
    vc_convert_params p = vc_convert_default_params();
    p.harmonic = a->harmonic;
    p.world_vocoder = a->world;
    p.match = a->match;
    p.chunk_seconds = 1.0;
    p.vocoder.iters = 8;
    vc_converter *cv = NULL;
    CHECK(vc_converter_init(a->m, &p, &cv) == VC_OK);
    const job *jobs[3] = {a, b, a};
    for (int i = 0; cv && i < 3; i++) {
        int rate = vc_model_sample_rate(a->m);
        vc_audio src = {0}, ref = {0}, out = {0}, want = {0};
        vc_voice v;
        memset(&v, 0, sizeof v);
        CHECK(load_long(jobs[i]->src, rate, &src) == VC_OK);
        CHECK(vc_audio_load(jobs[i]->ref, rate, &ref, NULL) == VC_OK);
        CHECK(vc_voice_from_audio(a->m, &ref, 1, &v) == VC_OK);
        CHECK(vc_converter_run(cv, &src, &v, &out) == VC_OK);
        if (jobs[i] == a) {
            CHECK(same(&out, &a->out));
        } else { /* b with a's parameters: against vc_convert with them */
            CHECK(vc_convert(a->m, &src, &v, &p, &want) == VC_OK);
            CHECK(same(&out, &want));
        }
        vc_audio_free(&want);
        vc_audio_free(&out);
        vc_voice_free(&v);
        vc_audio_free(&src);
        vc_audio_free(&ref);
    }
    vc_converter_free(cv);
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
    job one[3] = {{m, a, b, 1, 0, 0.0f, {0}, VC_OK},
                  {m, k, a, 0, 0, 0.0f, {0}, VC_OK},
                  {m, b, k, 0, 1, 1.0f, {0}, VC_OK}};
    vc_set_num_threads(1);
    for (int i = 0; i < 3; i++) { /* one after the other */
        run(&one[i]);
        CHECK(one[i].st == VC_OK);
    }
    vc_set_num_threads(2);
    for (int i = 0; i < 3; i++) { /* the same with two compute threads */
        job again = one[i];
        memset(&again.out, 0, sizeof again.out);
        run(&again);
        CHECK(again.st == VC_OK);
        double db = diff_db(&again.out, &one[i].out);
        fprintf(stderr, "job %d, 2 compute threads against 1: difference %.1f dB%s\n", i, db,
                same(&again.out, &one[i].out) ? " (the same bytes)" : "");
        CHECK(db < -50.0);
        vc_audio_free(&again.out);
    }
    vc_set_num_threads(1);
    test_converter(&one[0], &one[1]);
    test_converter(&one[2], &one[0]);
    for (int r = 0; r < ROUNDS; r++) { /* at once */
        job two[3] = {one[0], one[1], one[2]};
        pthread_t th[3];
        for (int i = 0; i < 3; i++) {
            memset(&two[i].out, 0, sizeof two[i].out);
            CHECK(pthread_create(&th[i], NULL, run, &two[i]) == 0);
        }
        for (int i = 0; i < 3; i++) {
            CHECK(pthread_join(th[i], NULL) == 0);
            CHECK(two[i].st == VC_OK);
            CHECK(same(&two[i].out, &one[i].out));
            vc_audio_free(&two[i].out);
        }
    }
    for (int i = 0; i < 3; i++) vc_audio_free(&one[i].out);
    vc_model_free(m);
    return test_finish();
}
