/* Conversion speed through the public API, one JSON line per measurement:
 *
 *   bench_convert MODEL SOURCE REFERENCE [RUNS]
 *
 * Times, as medians of RUNS (default 5): the voice (reference analysis and speaker embedding),
 * the conversion without vocoder iterations (analysis, F0, content codes, decoder, one inverse
 * STFT: "model"), and the full conversion with 32 Griffin-Lim iterations; the vocoder's share
 * is the difference. Then the WORLD vocoder (no iterations), without and with frame matching at
 * full strength (voice included: it analyses the reference's WORLD frames and content features
 * either way). The real-time factor is seconds of compute per second of source. Threads
 * come from OPENBLAS_NUM_THREADS / OMP_NUM_THREADS as set by the caller. */
#include "bench.h"
#include "vconv/vconv.h"

#include <stdio.h>

static double time_params(const vc_model *m, const vc_audio *src, const vc_voice *v,
                          const vc_convert_params *p, int runs) {
    double t[64];
    for (int r = 0; r < runs; r++) {
        vc_audio out = {0};
        double t0 = bench_now();
        if (vc_convert(m, src, v, p, &out) != VC_OK) exit(1);
        t[r] = bench_now() - t0;
        vc_audio_free(&out);
    }
    return bench_median(t, runs);
}

static double time_convert(const vc_model *m, const vc_audio *src, const vc_voice *v, int iters,
                           int runs) {
    vc_convert_params p = vc_convert_default_params();
    p.vocoder.iters = iters;
    p.world_vocoder =
        0; /* the harmonic Griffin-Lim vocoder: "model" is the run without iterations */
    p.harmonic = 1;
    p.match = 0.0f;
    return time_params(m, src, v, &p, runs);
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: bench_convert MODEL SOURCE REFERENCE [RUNS]\n");
        return 2;
    }
    int runs = argc > 4 ? atoi(argv[4]) : 5;
    if (runs < 1 || runs > 64) runs = 5;
    vc_model *m = NULL;
    vc_audio src = {0}, ref = {0};
    if (vc_model_load(argv[1], &m) != VC_OK) return 1;
    int rate = vc_model_sample_rate(m);
    if (vc_audio_load(argv[2], rate, &src, NULL) != VC_OK) return 1;
    if (vc_audio_load(argv[3], rate, &ref, NULL) != VC_OK) return 1;
    double seconds = (double)src.n_samples / rate, t[64];
    vc_voice v = {0};
    for (int r = 0; r < runs; r++) {
        vc_voice_free(&v);
        double t0 = bench_now();
        if (vc_voice_from_audio(m, &ref, 1, &v) != VC_OK) return 1;
        t[r] = bench_now() - t0;
    }
    double voice = bench_median(t, runs);
    double model = time_convert(m, &src, &v, 0, runs);
    double full = time_convert(m, &src, &v, 32, runs);
    printf("{\"bench\": \"convert\", \"source_s\": %.3f, \"reference_s\": %.3f, \"runs\": %d, "
           "\"voice_s\": %.4f, \"model_s\": %.4f, \"vocoder_s\": %.4f, \"total_s\": %.4f, "
           "\"rtf_model\": %.4f, \"rtf_vocoder\": %.4f, \"rtf_total\": %.4f}\n",
           seconds, (double)ref.n_samples / rate, runs, voice, model, full - model, full + voice,
           model / seconds, (full - model) / seconds, (full + voice) / seconds);
    for (int match = 0; match <= 1; match++) {
        vc_convert_params p = vc_convert_default_params();
        p.world_vocoder = 1;
        p.match = (float)match;
        double w = time_params(m, &src, &v, &p, runs);
        printf("{\"bench\": \"convert_world\", \"match\": %d, \"source_s\": %.3f, \"runs\": %d, "
               "\"convert_s\": %.4f, \"total_s\": %.4f, \"rtf_total\": %.4f}\n",
               match, seconds, runs, w, w + voice, (w + voice) / seconds);
    }
    vc_voice_free(&v);
    vc_audio_free(&src);
    vc_audio_free(&ref);
    vc_model_free(m);
    return 0;
}
