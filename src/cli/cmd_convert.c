/* vconv convert: SOURCE's words in the voice of REFERENCE (one or more files of one speaker);
 * with --to or --pairs, a batch of many files (convert_batch.c). */
#include "convert.h"
#include "output.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REFERENCES 32
/* Sources of one batch (--to) at most. */
#define MAX_SOURCES 10000

static const char *const vocoder_choices[] = {"harmonic", "spectrum", "world", NULL};
static const char *const space_choices[] = {"z", "hidden", NULL};

void convert_output_name(char *buf, size_t size, const char *source, const char *reference) {
    char ref[512], suffix[600];
    cli_derive_output(ref, sizeof ref, reference, "");
    snprintf(suffix, sizeof suffix, "_as_%s.wav", ref);
    cli_derive_output(buf, size, source, suffix);
}

/* One conversion, its inputs named and its output opened (checked) already. */
typedef struct convert_job {
    const convert_settings *s;
    char **pos; /* (n_pos) the source, then the references ("-": standard input) */
    int n_pos;
    cli_output *output;
    const char *out_name;
} convert_job;

void convert_report_voice(const cli_common *common, const char *label, const vc_voice *voice,
                          const vc_convert_params *cp) {
    if (!cp->auto_pitch)
        cli_info(common, "%s: %.1f s of reference speech; pitch: the source's, %+.1f semitones",
                 label, voice->seconds, cp->pitch_shift);
    else if (voice->voiced_frames > 0)
        cli_info(common,
                 "%s: %.1f s of reference speech, pitch around %.0f Hz (the output takes its key)",
                 label, voice->seconds, exp(voice->logf0_mean));
    else
        cli_info(common,
                 "%s: %.1f s of reference speech, no voiced frame found (no pitch to take): "
                 "the output keeps the source's pitch",
                 label, voice->seconds);
}

/* Loads the model and the audio, converts, writes. EXIT_OK or the one-line error. */
static int convert_run(cli_common *common, const convert_job *job) {
    const char *cmd = "convert";
    double t0 = cli_now_seconds();
    int n_refs = job->n_pos - 1, rc;
    vc_model *model = NULL;
    vc_audio src = {0}, out = {0}, refs[MAX_REFERENCES];
    vc_voice voice = {0};
    memset(refs, 0, sizeof refs);
    const convert_settings *s = job->s;
    vc_convert_params cp = s->cp;
    if ((rc = cli_load_model(common, cmd, s->model_path, &model)) != EXIT_OK) goto done;
    int rate = vc_model_sample_rate(model), out_rate = s->out_rate ? s->out_rate : rate;
    if ((rc = cli_output_check_audio(common, cmd, job->output, s->enc, out_rate))) goto done;
    for (int i = 0; i < job->n_pos; i++)
        if ((rc = cli_load_audible(common, cmd, job->pos[i], rate, i ? &refs[i - 1] : &src, NULL)))
            goto done;
    vc_status st = vc_voice_from_audio(model, refs, n_refs, &voice);
    if (st != VC_OK) {
        rc = cli_fail(common, cmd, n_refs == 1 ? job->pos[1] : "references", st);
        goto done;
    }
    double seconds = (double)src.n_samples / rate;
    cli_progress progress;
    cli_progress_init(&progress, common, "convert", seconds >= 60.0);
    cp.progress = cli_progress_update;
    cp.progress_user = &progress;
    st = vc_convert(model, &src, &voice, &cp, &out);
    cli_progress_done(&progress);
    if (st != VC_OK) {
        rc = cli_fail(common, cmd, job->pos[0], st);
        goto done;
    }
    rc = cli_output_write_audio(common, cmd, job->output, &out, s->enc, out_rate);
    if (rc != EXIT_OK) goto done;
    double elapsed = cli_now_seconds() - t0;
    convert_report_voice(common, "voice", &voice, &cp);
    cli_info(common, "wrote %s: %.2f s, %.2f s compute (real-time factor %.3f)", job->out_name,
             seconds, elapsed, seconds > 0 ? elapsed / seconds : 0.0);
done:
    vc_voice_free(&voice);
    vc_audio_free(&out);
    vc_audio_free(&src);
    for (int i = 0; i < n_refs; i++) vc_audio_free(&refs[i]);
    vc_model_free(model);
    return rc;
}

/* A batch: its plan from --to and the sources, or from the pairs file. */
static int run_batch(cli_common *common, const convert_settings *settings, const cli_strings *to,
                     const char *pairs_path, char *const *sources, int n_sources, const char *dir) {
    convert_plan plan;
    char err[512];
    if (!pairs_path) {
        if (convert_plan_cross(&plan, to->items, to->n, (const char *const *)sources, n_sources) !=
            0) {
            fprintf(stderr, "vconv convert: more than 100000 outputs in one batch\n");
            return EXIT_USAGE;
        }
    } else if (convert_plan_read(&plan, pairs_path, err, sizeof err) != 0) {
        fprintf(stderr, "vconv convert: %s: %s\n", pairs_path, err);
        return EXIT_RUNTIME;
    }
    int rc = convert_batch(common, settings, &plan, dir);
    convert_plan_free(&plan);
    return rc;
}

int cmd_convert(int argc, char **argv) {
    const char *out_path = NULL, *model_path = NULL;
    vc_convert_params cp = vc_convert_default_params();
    float pitch_shift = NAN, chunk = (float)cp.chunk_seconds;
    int float_out = 0, seed = (int)cp.vocoder.seed, keep_dynamics = 0, out_rate = 0;
    int no_retrieval = !cp.retrieval;
    int vocoder = cp.world_vocoder ? 2 : cp.harmonic ? 0 : 1; /* the library's defaults */
    int space = cp.match_space == VC_MATCH_HIDDEN;
    cli_strings to = {{0}, 0};
    const char *pairs_path = NULL;
    const cli_option opts[] = {
        {"output", 'o', OPT_STRING, &out_path, 0, 0, NULL, "OUT",
         "output audio file, its container from the extension (.wav, .flac, .ogg, ...; none: "
         "WAV), '-' for standard output (default: <source>_as_<reference>.wav here); with --to or "
         "--pairs, the folder the outputs go into"},
        {"to", 0, OPT_STRINGS, &to, 0, 0, NULL, "REFERENCE",
         "a batch: every SOURCE in this reference's voice, written as "
         "<source>_as_<reference>.wav in the folder -o names"},
        {"pairs", 0, OPT_STRING, &pairs_path, 0, 0, NULL, "FILE",
         "a batch of the pairs FILE lists, one a line: SOURCE<TAB>REFERENCE (or separated by "
         "blanks when neither name holds one; '#' comment lines), written as with --to"},
        {"rate", 0, OPT_INT, &out_rate, 8000, 192000, NULL, "HZ",
         "output sample rate (default: the model's)"},
        {"model", 'm', OPT_STRING, &model_path, 0, 0, NULL, "MODEL",
         "model file (default: the bundled model, or $VCONV_MODEL)"},
        {"pitch-shift", 0, OPT_FLOAT, &pitch_shift, -24, 24, NULL, "SEMITONES",
         "keep the source's own pitch, moved by this much (default: the reference's key)"},
        {"vocoder", 0, OPT_CHOICE, &vocoder, 0, 0, vocoder_choices, "KIND",
         "harmonic: the model's spectral envelope with harmonics drawn at the output F0; "
         "spectrum: the model's spectrum as it is; world: the model's envelope rendered by the "
         "WORLD-style source-filter vocoder (band aperiodicity from the voicing or the matched "
         "frames)"},
        {"match", 0, OPT_FLOAT, &cp.match, 0, 1, NULL, "STRENGTH",
         "take each frame's envelope (and aperiodicity) from the reference frames nearest in "
         "content, blended with the model's by this strength (0: off)"},
        {"match-k", 0, OPT_INT, &cp.match_k, 1, 64, NULL, "K", "reference frames averaged"},
        {"match-space", 0, OPT_CHOICE, &space, 0, 0, space_choices, "SPACE",
         "content features frames are matched in: z (the content encoder's output before "
         "quantisation) or hidden (its last frame-rate hidden state, instance-normalised)"},
        {"match-decoded", 0, OPT_FLOAT, &cp.match_decoded, 0, 1, NULL, "W",
         "how much the model's own output for a frame, rather than its content features, "
         "chooses the reference frames it is matched with (0: content alone)"},
        {"match-residual", 0, OPT_FLOAT, &cp.match_residual, 0, 1, NULL, "R",
         "how much of the model's own rendering of the matched reference frames is taken off "
         "them, so that they correct the model's voice rather than replace its frame (0: they "
         "replace it)"},
        {"no-retrieval", 0, OPT_FLAG, &no_retrieval, 0, 0, NULL, NULL,
         "a model trained with a retrieval input decodes without the reference frames nearest "
         "in content (an ablation; default: with them)"},
        {"content-blend", 0, OPT_FLOAT, &cp.content_blend, 0, 1, NULL, "A",
         "what the decoder reads as content: 0 the codebook's codes, 1 the content encoder's "
         "continuous output before quantisation, between a blend"},
        {"model-dynamics", 0, OPT_FLAG, &keep_dynamics, 0, 0, NULL, NULL,
         "keep the model's spectral dynamics (default: stretch them to the reference's)"},
        {"iters", 0, OPT_INT, &cp.vocoder.iters, 0, 1000, NULL, "N", "Griffin-Lim iterations"},
        {"seed", 0, OPT_INT, &seed, 0, 2147483647, NULL, "S", "vocoder phase seed"},
        {"chunk", 0, OPT_FLOAT, &chunk, 1, 600, NULL, "SECONDS",
         "speech converted at a time (bounds memory on long sources)"},
        {"float", 0, OPT_FLAG, &float_out, 0, 0, NULL, NULL,
         "write 32-bit float samples (WAV and the other containers that hold them)"},
    };
    const cli_command cmd = {
        .name = "convert",
        .synopsis = "SOURCE REFERENCE [REFERENCE ...] [-o OUT] [--model MODEL]\n"
                    "       vconv convert --to REFERENCE [--to REFERENCE ...] SOURCE... -o DIR\n"
                    "       vconv convert --pairs FILE -o DIR",
        .description =
            "Say SOURCE's words in REFERENCE's voice. REFERENCE need not have been heard in\n"
            "training; several references of one speaker are averaged. Inputs may be any\n"
            "format, rate and channel count; silence is trimmed and loudness levelled before\n"
            "analysis. The output has the source's duration and loudness, at the model's rate.\n"
            "At most 32 references. '-' as SOURCE or a REFERENCE reads standard input.\n"
            "With --to (a batch): each SOURCE (at most 10000) in the voice of each --to (at\n"
            "most 64), or with --pairs the pairs a file lists (at most 100000), one model\n"
            "load, each voice made once, the files spread over --threads workers; a file that\n"
            "fails stops no other and leaves no output; a summary lists each failure. Exit\n"
            "status 1 when any failed, 130 after Ctrl-C (the files under way are finished).",
        CLI_OPTIONS(opts),
        .min_positional = 0,
        .max_positional = MAX_SOURCES,
    };
    cli_common common;
    char *pos[MAX_SOURCES];
    int n_pos;
    if (!cli_begin(&cmd, argc, argv, &common, pos, &n_pos)) return common.exit_code;
    /* The limits of each form, checked here: the table allows a batch's sources. */
    int batch = to.n || pairs_path;
    if (pairs_path && (to.n || n_pos))
        return -cli_usage_error(&cmd, "%s", "--pairs takes no --to and no file arguments");
    if (!batch && n_pos < 2) return -cli_usage_error(&cmd, "%s", "missing argument");
    if (to.n && !n_pos) return -cli_usage_error(&cmd, "%s", "--to needs SOURCE files");
    if (!batch && n_pos > 1 + MAX_REFERENCES)
        return -cli_usage_error(&cmd, "at most %s file arguments", "33");
    if (batch && !out_path)
        return -cli_usage_error(&cmd, "%s", to.n ? "--to needs -o DIR" : "--pairs needs -o DIR");
    cp.vocoder.seed = (uint64_t)seed;
    cp.chunk_seconds = chunk;
    cp.harmonic = vocoder == 0;
    cp.world_vocoder = vocoder == 2;
    cp.match_space = space == 1 ? VC_MATCH_HIDDEN : VC_MATCH_Z;
    cp.match_dynamics = !keep_dynamics;
    cp.retrieval = !no_retrieval;
    if (!isnan(pitch_shift)) {
        cp.auto_pitch = 0;
        cp.pitch_shift = pitch_shift;
    }
    char derived[1024], model_buf[1200];
    if (!model_path) model_path = cli_default_model(model_buf, sizeof model_buf);
    convert_settings settings = {model_path, cp, float_out ? VC_AUDIO_FLOAT : VC_AUDIO_PCM16,
                                 out_rate};
    if (batch) return run_batch(&common, &settings, &to, pairs_path, pos, n_pos, out_path);
    if (!out_path) {
        convert_output_name(derived, sizeof derived, pos[0], pos[1]);
        out_path = derived;
    }

    /* The output is checked against every input before anything is loaded. */
    const char *inputs[2 + MAX_REFERENCES];
    for (int i = 0; i < n_pos; i++) inputs[i] = pos[i];
    inputs[n_pos] = model_path;
    cli_output output;
    if (cli_output_open(&output, cmd.name, out_path, inputs, n_pos + 1, CLI_OUT_AUDIO) != EXIT_OK) {
        cli_output_discard(&output);
        return EXIT_RUNTIME;
    }

    convert_job job = {&settings, pos, n_pos, &output, out_path};
    int rc = convert_run(&common, &job);
    cli_output_discard(&output);
    return rc;
}
