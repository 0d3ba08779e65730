/* vconv resynth: analysis then Griffin-Lim, no model. With --from mel the spectrum goes through
 * the 80-band log-mel and back, which is what the model's output will sound like. */
#include "cli.h"
#include "output.h"

#include <stdlib.h>

enum { FROM_LINEAR = 0, FROM_MEL = 1 };
static const char *const from_choices[] = {"linear", "mel", NULL};
enum { VOCODER_GL = 0, VOCODER_WORLD = 1 };
static const char *const vocoder_choices[] = {"gl", "world", NULL};

/* Opens out_path as the audio output of in_name, checked before any work. EXIT_OK, or the
 * one-line error with *o discarded. */
static int open_audio_output(cli_common *common, const char *cmd, cli_output *o,
                             const char *out_path, const char *in_name, vc_audio_encoding enc,
                             int rate) {
    const char *inputs[1] = {in_name};
    int rc = cli_output_open(o, cmd, out_path, inputs, 1, CLI_OUT_AUDIO);
    if (rc == EXIT_OK) rc = cli_output_check_audio(common, cmd, o, enc, rate);
    if (rc != EXIT_OK) cli_output_discard(o);
    return rc;
}

/* Analyses in and rebuilds it into *out (allocated here) with the chosen vocoder; *sc_db is the
 * spectral convergence. EXIT_OK, or the one-line error naming the input. */
static int resynth_run(cli_common *common, const char *in_name, vc_frontend *fe, const vc_audio *in,
                       vc_resynth_source source, vc_vocoder_params *vp, vc_audio *out,
                       double *sc_db) {
    out->samples = calloc(in->n_samples, sizeof *out->samples);
    out->n_samples = in->n_samples;
    out->sample_rate = in->sample_rate;
    if (!out->samples) return cli_fail(common, "resynth", in_name, VC_ERR_NOMEM);
    /* Progress only where the wait is noticeable: Griffin-Lim runs at about 50x real time. */
    cli_progress progress;
    cli_progress_init(&progress, common, "griffin-lim",
                      (double)in->n_samples / in->sample_rate >= 60.0);
    vp->progress = cli_progress_update;
    vp->progress_user = &progress;
    vc_status st = vc_resynthesize(fe, in->samples, in->n_samples, source, vp, out->samples, sc_db);
    cli_progress_done(&progress);
    return st == VC_OK ? EXIT_OK : cli_fail(common, "resynth", in_name, st);
}

int cmd_resynth(int argc, char **argv) {
    const char *out_path = NULL;
    vc_vocoder_params vp = vc_vocoder_default_params();
    int from = FROM_LINEAR, vocoder = VOCODER_GL, float_out = 0, seed = (int)vp.seed, out_rate = 0;
    const cli_option opts[] = {
        {"output", 'o', OPT_STRING, &out_path, 0, 0, NULL, "OUT",
         "output audio file, its container from the extension (.wav, .flac, .ogg, ...; none: "
         "WAV), '-' for standard output (default: <input name>.resynth.wav here)"},
        {"rate", 0, OPT_INT, &out_rate, 8000, 192000, NULL, "HZ",
         "output sample rate (default: the analysis rate, 16000)"},
        {"iters", 0, OPT_INT, &vp.iters, 0, 1000, NULL, "N", "Griffin-Lim iterations"},
        {"from", 0, OPT_CHOICE, &from, 0, 0, from_choices, "SPEC",
         "spectrum to invert: exact linear magnitude, or the log-mel mapped back"},
        {"vocoder", 0, OPT_CHOICE, &vocoder, 0, 0, vocoder_choices, "NAME",
         "gl: Griffin-Lim on the spectrum; world: F0, envelope and aperiodicity analysed and "
         "rendered by the source-filter vocoder (--iters, --from, --momentum unused)"},
        {"momentum", 0, OPT_FLOAT, &vp.momentum, 0, 0.999, NULL, "A",
         "fast Griffin-Lim momentum (0 = plain Griffin-Lim)"},
        {"seed", 0, OPT_INT, &seed, 0, 2147483647, NULL, "S", "initial phase seed"},
        {"float", 0, OPT_FLAG, &float_out, 0, 0, NULL, NULL,
         "write 32-bit float samples (WAV and the other containers that hold them)"},
    };
    const cli_command cmd = {
        .name = "resynth",
        .synopsis = "IN [-o OUT] [--vocoder gl|world] [--iters N] [--from linear|mel]",
        .description =
            "Analyse IN (any format, rate and channel count) at 16 kHz and rebuild it with the\n"
            "Griffin-Lim vocoder. Prints the spectral convergence of the result against the\n"
            "input's own magnitude spectrogram (lower is better). '-' as IN reads standard\n"
            "input.",
        CLI_OPTIONS(opts),
        .min_positional = 1,
        .max_positional = 1,
    };
    cli_common common;
    char *pos[1];
    int n;
    if (!cli_begin(&cmd, argc, argv, &common, pos, &n)) return common.exit_code;
    vp.seed = (uint64_t)seed;

    char derived[1024];
    if (!out_path) {
        cli_derive_output(derived, sizeof derived, pos[0], ".resynth.wav");
        out_path = derived;
    }

    vc_audio_encoding enc = float_out ? VC_AUDIO_FLOAT : VC_AUDIO_PCM16;
    if (!out_rate) out_rate = vc_frontend_default_params().sample_rate;
    cli_output output;
    int rc = open_audio_output(&common, cmd.name, &output, out_path, pos[0], enc, out_rate);
    if (rc != EXIT_OK) return rc;

    double t0 = cli_now_seconds();
    vc_frontend *fe;
    vc_audio in, out = {0};
    if ((rc = cli_load_input(&common, cmd.name, pos[0], &in, NULL, &fe)) != EXIT_OK) {
        cli_output_discard(&output);
        return rc;
    }
    double sc_db = 0.0;
    vc_resynth_source source = from == FROM_MEL ? VC_RESYNTH_MEL : VC_RESYNTH_LINEAR;
    if (vocoder == VOCODER_WORLD) source = VC_RESYNTH_WORLD;
    rc = resynth_run(&common, pos[0], fe, &in, source, &vp, &out, &sc_db);
    if (rc == EXIT_OK) rc = cli_output_write_audio(&common, cmd.name, &output, &out, enc, out_rate);
    if (rc == EXIT_OK) {
        double seconds = (double)in.n_samples / in.sample_rate, elapsed = cli_now_seconds() - t0;
        cli_info(&common,
                 "wrote %s: %.2f s from %s, %d iterations, spectral convergence %.2f dB, "
                 "%.2f s compute (%.1fx real time)",
                 out_path, seconds,
                 vocoder == VOCODER_WORLD ? "world analysis" : from_choices[from],
                 vocoder == VOCODER_WORLD ? 0 : vp.iters, sc_db, elapsed,
                 elapsed > 0 ? seconds / elapsed : 0.0);
    }
    cli_output_discard(&output);
    vc_audio_free(&in);
    vc_audio_free(&out);
    vc_frontend_free(fe);
    return rc;
}
