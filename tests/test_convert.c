/* Conversion (vc_model_load, vc_voice_from_audio, vc_convert) on a tiny random model: output
 * length, placement and loudness, chunked against whole conversion of a 30 s input,
 * determinism, other input rates, and bad input. What the conversion sounds like is measured
 * by scripts/evaluate on a trained model, not here. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include "io/features.h"
#include "model/audio_contract.h"
#include "tempdir.h"
#include "test.h"

#include <string.h>

#define RATE 16000

/* Speech-like test signal: syllables of 120-300 ms, each a harmonic glide (F0 in [f_lo, f_hi])
 * with a smooth envelope and a little noise, separated by short pauses; 0.5 s of silence at
 * each end. */
static float *speechlike(size_t n, float f_lo, float f_hi, uint64_t seed) {
    float *x = calloc(n, sizeof *x);
    if (!x) abort();
    vc_rng r;
    vcu_rng_seed(&r, seed);
    size_t pos = RATE / 2, end = n - RATE / 2;
    double phase = 0.0;
    while (pos < end) {
        size_t len = (size_t)((0.12 + 0.18 * vcu_rng_uniform(&r)) * RATE);
        if (pos + len > end) len = end - pos;
        float f0a = f_lo + (f_hi - f_lo) * vcu_rng_uniform(&r);
        float f0b = f_lo + (f_hi - f_lo) * vcu_rng_uniform(&r);
        float bright = 0.5f + 0.5f * vcu_rng_uniform(&r); /* per-syllable spectral tilt */
        for (size_t i = 0; i < len; i++) {
            double u = (double)i / (double)len, f0 = f0a + (f0b - f0a) * u;
            phase += VC_TWO_PI * f0 / RATE;
            double env = sin(3.14159265358979 * u), s = 0.0;
            for (int h = 1; h * f0 < 7000.0; h++) s += pow(bright, h) * sin(h * phase) / h;
            x[pos + i] = (float)(0.25 * env * s + 0.003 * vcu_rng_normal(&r));
        }
        pos += len + (size_t)(0.05 * RATE * vcu_rng_uniform(&r));
    }
    return x;
}

/* A random tiny model saved to path with plausible normalisation statistics. */
static void make_model(const char *path) {
    vcm_config c;
    CHECK(vcm_config_preset("tiny", &c) == VC_OK);
    vcm_model m;
    CHECK(vcm_model_init(&m, &c, 0) == VC_OK);
    vc_rng r;
    vcu_rng_seed(&r, 7);
    vcm_model_randomize(&m, &r);
    for (int i = 0; i < c.n_mels; i++) m.mel_mean[i] = -6.0f, m.mel_std[i] = 2.5f;
    for (int i = 0; i < c.n_bins; i++)
        m.lin_mean[i] = -5.0f - 3.0f * i / c.n_bins, m.lin_std[i] = 2.0f;
    CHECK(vcm_model_save(path, &m, NULL, 0, 0) == VC_OK);
    vcm_model_free(&m);
}

/* Spectral distortion per frame between a and b (same length) into d (T): the RMS over mel
 * bands of the log-mel difference in dB. Returns its mean over frames where either is above the
 * floor (speech). About 1 dB is the classic threshold of transparent spectral distortion in
 * speech coding (Paliwal & Atal 1993). */
static double spectral_distortion(vc_frontend *fe, const vc_audio *a, const vc_audio *b, double *d,
                                  int *T_out) {
    int T = vc_frontend_n_frames(fe, a->n_samples), M = 80;
    float *la = malloc(sizeof(float) * T * M), *lb = malloc(sizeof(float) * T * M);
    if (!la || !lb) abort();
    CHECK(vc_frontend_log_mel(fe, a->samples, a->n_samples, la) == VC_OK);
    CHECK(vc_frontend_log_mel(fe, b->samples, b->n_samples, lb) == VC_OK);
    const double db = 20.0 / log(10.0); /* log-mel is the natural log of a magnitude */
    double sum = 0.0;
    int used = 0;
    for (int t = 0; t < T; t++) {
        double s = 0.0, peak = -100.0;
        for (int m = 0; m < M; m++) {
            double diff = la[t * M + m] - lb[t * M + m];
            s += diff * diff;
            peak = fmax(peak, fmax(la[t * M + m], lb[t * M + m]));
        }
        d[t] = db * sqrt(s / M);
        if (peak > -6.0) sum += d[t], used++;
    }
    free(la);
    free(lb);
    *T_out = T;
    return used ? sum / used : 0.0;
}

static int compare_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double active_db(const vc_audio *a) {
    vc_level lv;
    CHECK(vc_audio_level(a->samples, a->n_samples, a->sample_rate, &lv) == VC_OK);
    return lv.active_dbfs;
}

/* Counts warnings (level 1) and errors (level 0). */
static int n_warn, n_err;
static void count_log(int level, const char *msg, void *user) {
    (void)user;
    n_warn += level == 1;
    n_err += level == 0;
    fprintf(stderr, "  (logged: %s)\n", msg);
}

/* Frame matching's bad input (issue 13): a reference without a voiced frame, one under 1 s,
 * one too short for the neighbours asked for, a voice without frames. A clear warning or
 * error, never a crash, never silence returned as a success. */
static void test_match_bad_input(const vc_model *model, const vc_audio *src,
                                 const vc_voice *voice) {
    vc_convert_params p = vc_convert_default_params();
    p.world_vocoder = 1;
    p.match = 1.0f;
    vc_audio out = {0};
    vc_voice v;
    vc_log_set(count_log, NULL);
    /* noise only: usable (its frames match unvoiced sounds), with a warning, output not silent */
    size_t nn = 2 * RATE;
    vc_audio noise = {calloc(nn, sizeof(float)), nn, RATE};
    vc_rng r;
    vcu_rng_seed(&r, 11);
    for (size_t i = 0; i < nn; i++) noise.samples[i] = 0.05f * (float)vcu_rng_normal(&r);
    n_warn = n_err = 0;
    CHECK(vc_voice_from_audio(model, &noise, 1, &v) == VC_OK);
    CHECK(v.voiced_frames == 0 && n_warn == 1 && v.n_frames > 100);
    CHECK(vc_convert(model, src, &v, &p, &out) == VC_OK);
    CHECK(out.samples && active_db(&out) > active_db(src) - 1.0);
    vc_audio_free(&out);
    vc_voice_free(&v);
    /* 0.8 s of speech: used, with a warning */
    size_t ns = RATE * 9 / 5; /* 0.5 s of silence each end */
    vc_audio shortr = {speechlike(ns, 150.0f, 200.0f, 12), ns, RATE};
    n_warn = n_err = 0;
    CHECK(vc_voice_from_audio(model, &shortr, 1, &v) == VC_OK);
    CHECK(n_warn >= 1 && v.seconds < 1.0 && v.seconds >= 0.5);
    CHECK(vc_convert(model, src, &v, &p, &out) == VC_OK && out.samples);
    vc_audio_free(&out);
    /* more neighbours than it has frames: an error saying so, nothing written */
    p.match_k = v.n_frames + 1;
    n_err = 0;
    CHECK(v.n_frames < 64 && vc_convert(model, src, &v, &p, &out) == VC_ERR_ARG && !out.samples);
    CHECK(n_err == 1);
    vc_voice_free(&v);
    p.match_k = 4;
    /* a voice without frames (made by hand) cannot be matched; without matching it converts */
    vc_voice bare = *voice;
    bare.frames = NULL;
    CHECK(vc_convert(model, src, &bare, &p, &out) == VC_ERR_ARG && !out.samples);
    p.match = 1.5f;
    CHECK(vc_convert(model, src, voice, &p, &out) == VC_ERR_ARG && !out.samples);
    p.match = 1.0f;
    p.match_decoded = -0.1f;
    CHECK(vc_convert(model, src, voice, &p, &out) == VC_ERR_ARG && !out.samples);
    p.match_decoded = 1.1f;
    CHECK(vc_convert(model, src, voice, &p, &out) == VC_ERR_ARG && !out.samples);
    /* neighbours chosen by content alone, and by the decoded output too: both convert, the
     * choice changes the output */
    vc_audio by_content = {0}, by_decoded = {0};
    p.match_decoded = 0.0f;
    CHECK(vc_convert(model, src, voice, &p, &by_content) == VC_OK);
    p.match_decoded = 1.0f;
    CHECK(vc_convert(model, src, voice, &p, &by_decoded) == VC_OK);
    CHECK(by_content.n_samples == by_decoded.n_samples &&
          memcmp(by_content.samples, by_decoded.samples, by_content.n_samples * sizeof(float)));
    vc_audio_free(&by_content);
    vc_audio_free(&by_decoded);
    vc_log_set(NULL, NULL);
    free(noise.samples);
    free(shortr.samples);
}

int main(void) {
    char dir[] = "/tmp/vconv_test_convert_XXXXXX", path[1024];
    if (!mkdtemp(dir)) return 1;
    join(path, sizeof path, dir, "tiny.safetensors");
    make_model(path);
    vc_model *model = NULL;
    CHECK(vc_model_load(path, &model) == VC_OK);
    if (!model) return 1;
    CHECK(vc_model_sample_rate(model) == RATE);

    /* the voice: a 3 s reference, higher than the source */
    vc_audio ref = {speechlike(3 * RATE, 180.0f, 260.0f, 2), 3 * RATE, RATE};
    vc_voice voice;
    CHECK(vc_voice_from_audio(model, &ref, 1, &voice) == VC_OK);
    CHECK(voice.dim == vc_model_speaker_dim(model) && voice.voiced_frames > 50);
    CHECK(exp(voice.logf0_mean) > 180.0 && exp(voice.logf0_mean) < 260.0);
    CHECK(voice.seconds > 1.8 && voice.seconds < 3.0); /* the silent ends trimmed */

    /* a 30 s source, converted whole and in 4 s chunks */
    size_t n = 30 * RATE;
    vc_audio src = {speechlike(n, 90.0f, 150.0f, 1), n, RATE};
    for (size_t i = 0; i < n; i++) src.samples[i] *= 0.5f; /* 6 dB quieter than the reference */
    vc_convert_params whole = vc_convert_default_params(), chunked = whole, seed2 = whole,
                      fine = whole;
    whole.chunk_seconds = 60.0;
    seed2.chunk_seconds = 60.0;
    seed2.vocoder.seed = 2;
    fine.chunk_seconds = 4.5; /* many junctions, to look at them (and above the 4.1 s minimum) */
    CHECK(chunked.chunk_seconds == 10.0);
    vc_audio yw = {0}, yc = {0}, yf = {0}, yc2 = {0};
    CHECK(vc_convert(model, &src, &voice, &whole, &yw) == VC_OK);
    CHECK(vc_convert(model, &src, &voice, &chunked, &yc) == VC_OK);
    CHECK(vc_convert(model, &src, &voice, &fine, &yf) == VC_OK);
    CHECK(vc_convert(model, &src, &voice, &chunked, &yc2) == VC_OK);
    CHECK(yw.n_samples == n && yc.n_samples == n && yf.n_samples == n && yw.sample_rate == RATE);
    CHECK(yc2.n_samples == n && memcmp(yc.samples, yc2.samples, n * sizeof(float)) == 0);
    /* the trimmed lead-in stays silent; the level is the source's (the active-level measure is
     * over 20 ms blocks, so a tenth of a dB is its resolution here, not a tolerance for error) */
    double lead = 0.0;
    for (size_t i = 0; i < RATE / 4; i++) lead = fmax(lead, fabs(yw.samples[i]));
    CHECK(lead == 0.0);
    CHECK_NEAR(active_db(&yw), active_db(&src), 0.3, 0);
    CHECK_NEAR(active_db(&yc), active_db(&src), 0.3, 0);

    vc_frontend_params fp = vc_frontend_default_params();
    vc_frontend *fe = NULL;
    CHECK(vc_frontend_init(&fp, &fe) == VC_OK);
    int T;
    size_t n_frames = n / 256 + 2;
    double *d_chunk = malloc(sizeof(double) * n_frames),
           *d_seed = malloc(sizeof(double) * n_frames);
    if (!d_chunk || !d_seed) abort();
    /* Whole against the default 10 s chunks: chunking changes the instance-norm statistics (over a
     * chunk window rather than the utterance) and the vocoder's phase. Another vocoder seed
     * alone moves the output by some distortion; what chunking adds on top of that (the two
     * taken as independent, adding in quadrature) must stay within transparent spectral
     * distortion, 1 dB. The three vocoders, the WORLD one with frame matching at full strength
     * (whose matched frames come from content features that chunking also changes a little),
     * which must also give the same bytes twice. */
    static const char *const kinds[] = {"spectrum", "harmonic", "world + match 1"};
    /* Content from the codes alone here: this untrained model's continuous content lies far from
     * its random codebook, so blending it in gives the decoder inputs it never saw, which follow
     * every change of the normalisation window. With the bundled model, chunking a 35 s source
     * moves the default output as much with the blend as without it (docs/convert.md, "Long
     * sources: chunks"). */
    whole.content_blend = chunked.content_blend = seed2.content_blend = 0.0f;
    for (int kind = 2; kind >= 0; kind--) {
        whole.harmonic = chunked.harmonic = seed2.harmonic = kind == 1;
        whole.world_vocoder = chunked.world_vocoder = seed2.world_vocoder = kind == 2;
        whole.match = chunked.match = seed2.match = kind == 2 ? 1.0f : 0.0f;
        vc_audio a = {0}, bw = {0}, sw = {0}, a2 = {0};
        CHECK(vc_convert(model, &src, &voice, &whole, &bw) == VC_OK);
        CHECK(vc_convert(model, &src, &voice, &chunked, &a) == VC_OK);
        CHECK(vc_convert(model, &src, &voice, &seed2, &sw) == VC_OK);
        if (kind == 2) {
            CHECK(vc_convert(model, &src, &voice, &chunked, &a2) == VC_OK);
            CHECK(a2.n_samples == n && !memcmp(a.samples, a2.samples, n * sizeof(float)));
            CHECK_NEAR(active_db(&a), active_db(&src), 0.3, 0);
            vc_audio_free(&a2);
        }
        double seed_vs_seed = spectral_distortion(fe, &sw, &bw, d_seed, &T);
        double chunk_vs_whole = spectral_distortion(fe, &a, &bw, d_chunk, &T);
        double excess =
            sqrt(fmax(0.0, chunk_vs_whole * chunk_vs_whole - seed_vs_seed * seed_vs_seed));
        fprintf(stderr,
                "%s vocoder: spectral distortion to the whole conversion: 10 s chunks "
                "%.3f dB, another seed %.3f dB, chunking's own %.3f dB\n",
                kinds[kind], chunk_vs_whole, seed_vs_seed, excess);
        CHECK(seed_vs_seed > 0.0);
        CHECK(excess <= 1.0);
        vc_audio_free(&a);
        vc_audio_free(&bw);
        vc_audio_free(&sw);
    }
    whole.harmonic = chunked.harmonic = seed2.harmonic = 1;
    whole.world_vocoder = chunked.world_vocoder = seed2.world_vocoder = 0;
    whole.match = chunked.match = seed2.match = 0.0f;

    /* No seams: with 4.5 s chunks, no junction stands out from the rest of the file. The worst
     * 5-frame stretch of distortion (to the whole conversion) at a junction is compared with the
     * distribution of 5-frame stretches away from junctions. Were junctions like any other
     * place, the worst of their ~12 effectively independent stretches (6 junctions, 5
     * overlapping positions each) would exceed the q-quantile with probability 1 - q^12; the
     * 99.5th percentile keeps that near 6%, while a click or a jump of level or timbre at the
     * junctions exceeds it every time. Junctions fall every L frames from the first frame of
     * the trimmed speech. */
    double fine_vs_whole = spectral_distortion(fe, &yf, &yw, d_chunk, &T);
    size_t b, e;
    CHECK(vcm_trim_span(src.samples, n, &fp, &b, &e) == VC_OK);
    int t_speech = (int)(b / 256), t_end = (int)(e / 256), L = 2 * (int)(4.5 * RATE / 256 / 2.0);
    double worst_junction = 0.0, *away = malloc(sizeof(double) * n_frames);
    int n_away = 0, n_junctions = 0;
    if (!away) abort();
    for (int t = t_speech + 2; t < t_end - 2; t++) {
        double s5 =
            (d_chunk[t - 2] + d_chunk[t - 1] + d_chunk[t] + d_chunk[t + 1] + d_chunk[t + 2]) / 5;
        int r = (t - t_speech) % L, dist = r < L - r ? r : L - r;
        if (dist <= 2 && t > t_speech + L / 2) {
            worst_junction = fmax(worst_junction, s5);
            n_junctions += r == 0;
        } else if (dist >= 16) {
            away[n_away++] = s5;
        }
    }
    qsort(away, (size_t)n_away, sizeof *away, compare_double);
    double q995 = away[(int)(0.995 * (n_away - 1))];
    fprintf(stderr,
            "4.5 s chunks: %.3f dB overall; worst 5 frames at the %d junctions %.3f dB; away "
            "from them: median %.3f dB, 99.5th percentile %.3f dB, worst %.3f dB\n",
            fine_vs_whole, n_junctions, worst_junction, away[n_away / 2], q995, away[n_away - 1]);
    CHECK(n_junctions >= 6);
    CHECK(worst_junction <= q995);
    free(away);

    /* and the output changes over time (against itself 0.4 s later) by far more than those
     * distances: the model is not ignoring its input */
    size_t lag = 25 * 256;
    vc_audio early = {yw.samples, n - lag, RATE}, late = {yw.samples + lag, n - lag, RATE};
    double over_time = spectral_distortion(fe, &early, &late, d_seed, &T);
    fprintf(stderr, "spectral distortion of the output to itself 0.4 s later: %.3f dB\n",
            over_time);
    CHECK(over_time > 4.0);

    /* content codes: in range, one per two speech frames, and chunking changes few of them
     * (only through the instance-norm statistics of the chunk windows) */
    int *cw = NULL, *cc = NULL, nw = 0, nc = 0;
    CHECK(vc_encode(model, &src, 60.0, &cw, &nw, NULL) == VC_OK);
    CHECK(vc_encode(model, &src, 4.0, &cc, &nc, NULL) == VC_OK);
    CHECK(nw == nc && nw == (t_end - t_speech) / 2 + 1);
    int in_range = 1, same = 0;
    for (int i = 0; i < nw && i < nc; i++) {
        in_range &= cw[i] >= 0 && cw[i] < vc_model_codebook_size(model);
        same += cw[i] == cc[i];
    }
    fprintf(stderr, "codes: %d, %.1f%% the same with 4 s chunks\n", nw, 100.0 * same / nw);
    CHECK(in_range);
    CHECK(same >= 0.8 * nw);
    free(cw);
    free(cc);
    CHECK(vc_encode(model, &src, 0.0, &cw, &nw, NULL) == VC_ERR_ARG);

    /* a source at 44.1 kHz, stereo-free but resampled: the output is at the model's rate */
    size_t n44 = 2 * 44100;
    vc_audio s44 = {speechlike(n44, 100.0f, 140.0f, 3), n44, 44100}, y44 = {0};
    CHECK(vc_convert(model, &s44, &voice, &whole, &y44) == VC_OK);
    CHECK(y44.sample_rate == RATE && llabs((long long)y44.n_samples - 2 * RATE) <= 1);

    /* bad input */
    vc_audio silent = {calloc(RATE, sizeof(float)), RATE, RATE}, out = {0};
    CHECK(vc_convert(model, &silent, &voice, &whole, &out) == VC_ERR_AUDIO && !out.samples);
    vc_voice v2;
    CHECK(vc_voice_from_audio(model, &silent, 1, &v2) == VC_ERR_AUDIO);
    vc_audio blip = {speechlike(RATE + RATE / 3, 150.0f, 160.0f, 4), RATE + RATE / 3, RATE};
    CHECK(vc_voice_from_audio(model, &blip, 1, &v2) == VC_ERR_AUDIO); /* 0.33 s of speech */
    vc_audio two[2] = {ref, blip};
    CHECK(vc_voice_from_audio(model, two, 2, &v2) == VC_ERR_AUDIO);
    vc_voice bad = voice;
    bad.dim = voice.dim + 1;
    CHECK(vc_convert(model, &src, &bad, &whole, &out) == VC_ERR_ARG && !out.samples);
    vc_convert_params neg = whole;
    neg.chunk_seconds = 0.0;
    CHECK(vc_convert(model, &src, &voice, &neg, &out) == VC_ERR_ARG);
    CHECK(vc_voice_from_audio(model, &ref, 0, &v2) == VC_ERR_ARG);
    test_match_bad_input(model, &src, &voice);

    /* two references: the pitch range pools both */
    vc_audio pair[2] = {ref, {speechlike(3 * RATE, 100.0f, 120.0f, 5), 3 * RATE, RATE}};
    CHECK(vc_voice_from_audio(model, pair, 2, &v2) == VC_OK);
    CHECK(exp(v2.logf0_mean) > 110.0 && exp(v2.logf0_mean) < 220.0 && v2.seconds > 3.6);
    vc_voice_free(&v2);
    free(pair[1].samples);

    free(d_chunk);
    free(d_seed);
    vc_frontend_free(fe);
    free(blip.samples);
    free(silent.samples);
    vc_audio_free(&y44);
    free(s44.samples);
    vc_audio_free(&yw);
    vc_audio_free(&yc);
    vc_audio_free(&yc2);
    vc_audio_free(&yf);
    free(src.samples);
    vc_voice_free(&voice);
    free(ref.samples);
    vc_model_free(model);
    remove_tree(dir);
    return test_finish();
}
