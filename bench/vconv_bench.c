/* Benchmarks of the front end and the vocoder, run by scripts/bench (never by the tests).
 *
 *   vconv_bench speed FILE [RUNS]     log-mel, F0 and resynthesis timings, median of RUNS
 *   vconv_bench quality [--save DIR] FILE...
 *                                     spectral convergence of resynthesis per file; with --save,
 *                                     the outputs as DIR/<i>.<setting>.wav (i = the file's index)
 *
 * Prints one JSON object per line on stdout. Uses only the public API. */
#define _POSIX_C_SOURCE 200809L
#include "bench.h"
#include "vconv/vconv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LOG_MEL_REPS 20 /* also in scripts/bench's PyTorch timing */

static void die(const char *what, vc_status st) {
    fprintf(stderr, "vconv_bench: %s: %s\n", what, vc_strerror(st));
    exit(1);
}

typedef struct scratch {
    float *log_mel, *f0, *voicing, *out; /* (T, M), (T), (T), (n) */
} scratch;

static void scratch_init(scratch *s, int T, int M, size_t n) {
    s->log_mel = malloc((size_t)T * (size_t)M * sizeof(float));
    s->f0 = malloc((size_t)T * sizeof(float));
    s->voicing = malloc((size_t)T * sizeof(float));
    s->out = malloc(n * sizeof(float));
    if (!s->log_mel || !s->f0 || !s->voicing || !s->out) die("scratch", VC_ERR_NOMEM);
}

static void scratch_free(scratch *s) {
    free(s->log_mel);
    free(s->f0);
    free(s->voicing);
    free(s->out);
}

/* Resynthesis as `vconv resynth` does it (vc_resynthesize); returns the spectral convergence. */
static double resynth(vc_frontend *fe, const vc_audio *a, scratch *s, vc_resynth_source from,
                      int iters) {
    vc_vocoder_params vp = vc_vocoder_default_params();
    vp.iters = iters;
    double sc = 0;
    vc_status st = vc_resynthesize(fe, a->samples, a->n_samples, from, &vp, s->out, &sc);
    if (st != VC_OK) die("resynth", st);
    return sc;
}

/* The settings compared: Griffin-Lim from the exact linear magnitude and from the log-mel, at
 * 32 and 64 iterations, and the source-filter vocoder (analysis and rendering, no iterations). */
static const struct {
    const char *name;
    vc_resynth_source from;
    int iters;
} settings[] = {
    {"linear_32", VC_RESYNTH_LINEAR, 32}, {"linear_64", VC_RESYNTH_LINEAR, 64},
    {"mel_32", VC_RESYNTH_MEL, 32},       {"mel_64", VC_RESYNTH_MEL, 64},
    {"world", VC_RESYNTH_WORLD, 0},
};
enum { N_SETTINGS = sizeof settings / sizeof settings[0] };

static int bench_speed(const char *path, int runs) {
    vc_frontend_params fp = vc_frontend_default_params();
    vc_frontend *fe;
    vc_audio a;
    vc_status st = vc_audio_load(path, fp.sample_rate, &a, NULL);
    if (st != VC_OK) die(path, st);
    if ((st = vc_frontend_init(&fp, &fe)) != VC_OK) die("front end", st);
    int T = vc_frontend_n_frames(fe, a.n_samples);
    scratch s;
    scratch_init(&s, T, fp.n_mels, a.n_samples);
    double seconds = (double)a.n_samples / a.sample_rate;
    double *t = malloc((size_t)runs * sizeof *t);
    if (!t) die("alloc", VC_ERR_NOMEM);

    /* One extraction takes milliseconds: time LOG_MEL_REPS of them per run so the clock's and
     * the scheduler's noise stay small against it, and report the time of one. */
    for (int r = 0; r < runs; r++) {
        double t0 = bench_now();
        for (int k = 0; k < LOG_MEL_REPS; k++)
            if (vc_frontend_log_mel(fe, a.samples, a.n_samples, s.log_mel) != VC_OK) die("mel", st);
        t[r] = (bench_now() - t0) / LOG_MEL_REPS;
    }
    double m = bench_median(t, runs);
    printf(
        "{\"bench\": \"log_mel\", \"audio_s\": %.3f, \"median_s\": %.6f, \"x_realtime\": %.1f}\n",
        seconds, m, seconds / m);
    for (int r = 0; r < runs; r++) {
        double t0 = bench_now();
        if (vc_frontend_f0(fe, a.samples, a.n_samples, s.f0, s.voicing) != VC_OK) die("f0", st);
        t[r] = bench_now() - t0;
    }
    m = bench_median(t, runs);
    printf("{\"bench\": \"f0\", \"audio_s\": %.3f, \"median_s\": %.6f, \"x_realtime\": %.1f}\n",
           seconds, m, seconds / m);
    /* Settings interleaved run by run, so a change of the machine's load during the benchmark
     * weighs on every setting alike (the machine is shared). */
    double *ts = malloc((size_t)runs * N_SETTINGS * sizeof *ts), sc[N_SETTINGS] = {0};
    if (!ts) die("alloc", VC_ERR_NOMEM);
    for (int r = 0; r < runs; r++)
        for (int k = 0; k < N_SETTINGS; k++) {
            double t0 = bench_now();
            sc[k] = resynth(fe, &a, &s, settings[k].from, settings[k].iters);
            ts[k * runs + r] = bench_now() - t0;
        }
    for (int k = 0; k < N_SETTINGS; k++) {
        m = bench_median(ts + k * runs, runs);
        printf("{\"bench\": \"resynth\", \"setting\": \"%s\", \"iters\": %d, \"audio_s\": %.3f, "
               "\"median_s\": %.6f, \"rtf\": %.4f, \"x_realtime\": %.1f, \"sc_db\": %.2f}\n",
               settings[k].name, settings[k].iters, seconds, m, m / seconds, seconds / m, sc[k]);
    }
    free(ts);
    free(t);
    scratch_free(&s);
    vc_audio_free(&a);
    vc_frontend_free(fe);
    return 0;
}

static int bench_quality(int n_files, char **paths, const char *save_dir) {
    vc_frontend_params fp = vc_frontend_default_params();
    vc_frontend *fe;
    vc_status st = vc_frontend_init(&fp, &fe);
    if (st != VC_OK) die("front end", st);
    for (int i = 0; i < n_files; i++) {
        vc_audio a;
        if ((st = vc_audio_load(paths[i], fp.sample_rate, &a, NULL)) != VC_OK) die(paths[i], st);
        int T = vc_frontend_n_frames(fe, a.n_samples);
        scratch s;
        scratch_init(&s, T, fp.n_mels, a.n_samples);
        printf("{\"bench\": \"quality\", \"file\": \"%s\", \"audio_s\": %.3f", paths[i],
               (double)a.n_samples / a.sample_rate);
        for (int k = 0; k < N_SETTINGS; k++) {
            printf(", \"sc_%s\": %.3f", settings[k].name,
                   resynth(fe, &a, &s, settings[k].from, settings[k].iters));
            if (!save_dir) continue;
            char path[4096];
            snprintf(path, sizeof path, "%s/%d.%s.wav", save_dir, i, settings[k].name);
            vc_audio out = {
                .samples = s.out, .n_samples = a.n_samples, .sample_rate = a.sample_rate};
            if ((st = vc_audio_save(path, &out, VC_AUDIO_FLOAT)) != VC_OK) die(path, st);
        }
        printf("}\n");
        fflush(stdout);
        scratch_free(&s);
        vc_audio_free(&a);
    }
    vc_frontend_free(fe);
    return 0;
}

int main(int argc, char **argv) {
    vc_set_num_threads(1);
    if (argc >= 3 && !strcmp(argv[1], "speed"))
        return bench_speed(argv[2], argc > 3 ? atoi(argv[3]) > 0 ? atoi(argv[3]) : 7 : 7);
    if (argc >= 5 && !strcmp(argv[1], "quality") && !strcmp(argv[2], "--save"))
        return bench_quality(argc - 4, argv + 4, argv[3]);
    if (argc >= 3 && !strcmp(argv[1], "quality")) return bench_quality(argc - 2, argv + 2, NULL);
    fprintf(stderr, "usage: vconv_bench speed FILE [RUNS] | quality [--save DIR] FILE...\n");
    return 2;
}
