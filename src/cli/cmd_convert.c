/* vconv convert: SOURCE's words in the voice of REFERENCE (one or more files of one speaker). */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REFERENCES 32

static const char *const vocoder_choices[] = {"harmonic", "spectrum", NULL};
/* "dir/a.flac" + "dir/b.wav" -> "a_as_b.wav" in the current directory. */
static void derive_name(char *buf, size_t size, const char *source, const char *reference) {
    char ref[512], suffix[600];
    cli_derive_output(ref, sizeof ref, reference, "");
    snprintf(suffix, sizeof suffix, "_as_%s.wav", ref);
    cli_derive_output(buf, size, source, suffix);
}

int cmd_convert(int argc, char **argv) {
    const char *out_path = NULL, *model_path = NULL;
    vc_convert_params cp = vc_convert_default_params();
    float pitch_shift = NAN, chunk = (float)cp.chunk_seconds;
    int float_out = 0, seed = (int)cp.vocoder.seed, vocoder = 0, keep_dynamics = 0;
    const cli_option opts[] = {
        {"output", 'o', OPT_STRING, &out_path, 0, 0, NULL, "OUT.wav",
         "output WAV (default: <source>_as_<reference>.wav here)"},
        {"model", 'm', OPT_STRING, &model_path, 0, 0, NULL, "MODEL",
         "model file (default: the bundled model, or $VCONV_MODEL)"},
        {"pitch-shift", 0, OPT_FLOAT, &pitch_shift, -24, 24, NULL, "SEMITONES",
         "keep the source's own pitch, moved by this much (default: the reference's key)"},
        {"vocoder", 0, OPT_CHOICE, &vocoder, 0, 0, vocoder_choices, "KIND",
         "harmonic: the model's spectral envelope with harmonics drawn at the output F0; "
         "spectrum: the model's spectrum as it is"},
        {"model-dynamics", 0, OPT_FLAG, &keep_dynamics, 0, 0, NULL, NULL,
         "keep the model's spectral dynamics (default: stretch them to the reference's)"},
        {"iters", 0, OPT_INT, &cp.vocoder.iters, 0, 1000, NULL, "N", "Griffin-Lim iterations"},
        {"seed", 0, OPT_INT, &seed, 0, 2147483647, NULL, "S", "vocoder phase seed"},
        {"chunk", 0, OPT_FLOAT, &chunk, 1, 600, NULL, "SECONDS",
         "speech converted at a time (bounds memory on long sources)"},
        {"float", 0, OPT_FLAG, &float_out, 0, 0, NULL, NULL, "write 32-bit float WAV"},
    };
    const cli_command cmd = {
        .name = "convert",
        .synopsis = "SOURCE REFERENCE [REFERENCE ...] [-o OUT.wav] [--model MODEL]",
        .description =
            "Say SOURCE's words in REFERENCE's voice. REFERENCE need not have been heard in\n"
            "training; several references of one speaker are averaged. Inputs may be any\n"
            "format, rate and channel count; silence is trimmed and loudness levelled before\n"
            "analysis. The output has the source's duration and loudness, at the model's rate.",
        .opts = opts,
        .n_opts = (int)(sizeof opts / sizeof opts[0]),
        .min_positional = 2,
        .max_positional = 1 + MAX_REFERENCES,
    };
    cli_common common;
    char *pos[1 + MAX_REFERENCES];
    int n_pos = cli_parse(&cmd, argc, argv, &common, pos);
    if (n_pos == CLI_HELP_SHOWN) return EXIT_OK;
    if (n_pos < 0) return -n_pos;
    cp.vocoder.seed = (uint64_t)seed;
    cp.chunk_seconds = chunk;
    cp.harmonic = vocoder == 0;
    cp.match_dynamics = !keep_dynamics;
    if (!isnan(pitch_shift)) {
        cp.auto_pitch = 0;
        cp.pitch_shift = pitch_shift;
    }
    char derived[1024], model_buf[1200];
    if (!out_path) {
        derive_name(derived, sizeof derived, pos[0], pos[1]);
        out_path = derived;
    }
    if (!model_path) model_path = cli_default_model(model_buf, sizeof model_buf);

    double t0 = cli_now_seconds();
    int n_refs = n_pos - 1, rc = EXIT_RUNTIME;
    vc_model *model = NULL;
    vc_audio src = {0}, out = {0}, refs[MAX_REFERENCES];
    vc_voice voice = {0};
    memset(refs, 0, sizeof refs);
    vc_status st = vc_model_load(model_path, &model);
    if (st != VC_OK) {
        rc = cli_fail(&common, cmd.name, model_path, st);
        goto done;
    }
    int rate = vc_model_sample_rate(model);
    for (int i = 0; i < n_pos; i++) {
        st = vc_audio_load_audible(pos[i], rate, i ? &refs[i - 1] : &src, NULL);
        if (st != VC_OK) {
            rc = cli_fail(&common, cmd.name, pos[i], st);
            goto done;
        }
    }
    if ((st = vc_voice_from_audio(model, refs, n_refs, &voice)) != VC_OK) {
        rc = cli_fail(&common, cmd.name, n_refs == 1 ? pos[1] : "references", st);
        goto done;
    }
    double seconds = (double)src.n_samples / rate;
    cli_progress progress;
    cli_progress_init(&progress, &common, "convert", seconds >= 60.0);
    cp.progress = cli_progress_update;
    cp.progress_user = &progress;
    st = vc_convert(model, &src, &voice, &cp, &out);
    cli_progress_done(&progress);
    if (st != VC_OK) {
        rc = cli_fail(&common, cmd.name, pos[0], st);
        goto done;
    }
    if ((st = vc_audio_save(out_path, &out, float_out ? VC_AUDIO_FLOAT : VC_AUDIO_PCM16)) !=
        VC_OK) {
        rc = cli_fail(&common, cmd.name, out_path, st);
        goto done;
    }
    double elapsed = cli_now_seconds() - t0;
    if (cp.auto_pitch && voice.voiced_frames > 0)
        cli_info(
            &common,
            "voice: %.1f s of reference speech, pitch around %.0f Hz (the output takes its key)",
            voice.seconds, exp(voice.logf0_mean));
    else if (cp.auto_pitch) /* whisper, noise or unvoiced sounds only: no key to take */
        cli_info(&common,
                 "voice: %.1f s of reference speech, no voiced frame found (no pitch to take): "
                 "the output keeps the source's pitch",
                 voice.seconds);
    else
        cli_info(&common, "voice: %.1f s of reference speech; pitch: the source's, %+.1f semitones",
                 voice.seconds, cp.pitch_shift);
    cli_info(&common, "wrote %s: %.2f s, %.2f s compute (real-time factor %.3f)", out_path, seconds,
             elapsed, seconds > 0 ? elapsed / seconds : 0.0);
    rc = EXIT_OK;
done:
    vc_voice_free(&voice);
    vc_audio_free(&out);
    vc_audio_free(&src);
    for (int i = 0; i < n_refs; i++) vc_audio_free(&refs[i]);
    vc_model_free(model);
    return rc;
}
