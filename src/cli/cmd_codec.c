/* vconv encode / vconv decode: the .vcq speech codec (docs/codec.md). */
#include "cli.h"
#include "output.h"

#include <stdlib.h>
#include <string.h>

#define MAX_REFERENCES 32

/* One line on stderr (or a JSON object on stdout) with the stream's bits per second by part. */
static void report_rates(const cli_common *common, const char *out_name, const vc_codec_stats *s,
                         int json) {
    double sec = s->seconds > 0.0 ? s->seconds : 1.0;
    double codes = 8.0 * s->codes_bytes / sec, pitch = 8.0 * s->pitch_bytes / sec;
    double spk = 8.0 * s->speaker_bytes / sec, hdr = 8.0 * s->header_bytes / sec;
    double total = 8.0 * s->bytes / sec;
    if (json) {
        printf("{\"output\": ");
        cli_json_string(stdout, out_name);
        printf(", \"seconds\": %.3f, \"codes\": %d, \"bytes\": %zu, \"bits_per_second\": "
               "{\"codes\": %.1f, \"pitch\": %.1f, \"speaker\": %.1f, \"header\": %.1f, "
               "\"total\": %.1f}}\n",
               s->seconds, s->n_codes, s->bytes, codes, pitch, spk, hdr, total);
        return;
    }
    cli_info(common,
             "wrote %s: %.2f s in %zu bytes, %.0f bit/s (codes %.0f, pitch %.0f, speaker %.0f, "
             "header %.0f)",
             out_name, s->seconds, s->bytes, total, codes, pitch, spk, hdr);
}

int cmd_encode(int argc, char **argv) {
    const char *out_path = NULL, *model_path = NULL;
    int json = 0;
    float chunk = 10.0f;
    const cli_option opts[] = {
        {"output", 'o', OPT_STRING, &out_path, 0, 0, NULL, "OUT.vcq", "stream to write"},
        {"model", 'm', OPT_STRING, &model_path, 0, 0, NULL, "MODEL",
         "model file (default: the bundled model, or $VCONV_MODEL); decoding needs the same"},
        {"chunk", 0, OPT_FLOAT, &chunk, 1, 600, NULL, "SECONDS",
         "speech encoded per chunk, as vconv convert (default 10)"},
        {"json", 0, OPT_FLAG, &json, 0, 0, NULL, NULL,
         "print the stream's size and bits per second by part as JSON on stdout"},
    };
    const cli_command cmd = {
        .name = "encode",
        .synopsis = "IN -o OUT.vcq [--model MODEL] [--json]",
        .description = "Compress speech to a .vcq stream: the model's content codes and a coarse\n"
                       "F0 track, range-coded, and the speaker embedding at 8 bits per value.\n"
                       "Prints the bits per second of each part. vconv decode plays it back.",
        CLI_OPTIONS(opts),
        .min_positional = 1,
        .max_positional = 1,
    };
    cli_common common;
    char *pos[1];
    int n;
    if (!cli_begin(&cmd, argc, argv, &common, pos, &n)) return common.exit_code;
    if (!out_path) {
        fprintf(stderr, "vconv encode: -o OUT.vcq is required\n");
        return EXIT_USAGE;
    }
    if (json && strcmp(out_path, "-") == 0) {
        fprintf(stderr, "vconv encode: --json prints on stdout: write the stream to a file\n");
        return EXIT_USAGE;
    }
    char model_buf[4096];
    if (!model_path) model_path = cli_default_model(model_buf, sizeof model_buf);
    vc_model *m = NULL;
    vc_audio a = {0};
    uint8_t *bytes = NULL;
    size_t nb = 0;
    vc_codec_stats stats;
    cli_output output;
    const char *inputs[1] = {pos[0]};
    int rc = cli_output_open(&output, cmd.name, out_path, inputs, 1, 0);
    if (rc == EXIT_OK) rc = cli_load_model(&common, cmd.name, model_path, &m);
    if (rc == EXIT_OK)
        rc = cli_load_audible(&common, cmd.name, pos[0], vc_model_sample_rate(m), &a, NULL);
    if (rc == EXIT_OK) {
        vc_status st = vc_codec_encode(m, &a, chunk, &bytes, &nb, &stats);
        if (st == VC_OK) st = vc_codec_save(cli_output_path(&output), bytes, nb);
        rc = st == VC_OK ? cli_output_commit(&output, cmd.name)
                         : cli_output_fail(&common, cmd.name, &output, st);
    }
    if (rc == EXIT_OK) report_rates(&common, out_path, &stats, json);
    cli_output_discard(&output);
    free(bytes);
    vc_audio_free(&a);
    vc_model_free(m);
    return rc;
}

/* The voice of the --voice references, or none (the stream's own). EXIT_OK or the error. */
static int load_voice(cli_common *common, const vc_model *m, const cli_strings *refs,
                      vc_voice *voice) {
    vc_audio audio[MAX_REFERENCES];
    memset(audio, 0, sizeof audio);
    int rc = EXIT_OK, rate = vc_model_sample_rate(m);
    if (refs->n > MAX_REFERENCES) {
        fprintf(stderr, "vconv decode: at most %d --voice references\n", MAX_REFERENCES);
        return EXIT_USAGE;
    }
    for (int i = 0; rc == EXIT_OK && i < refs->n; i++)
        rc = cli_load_audible(common, "decode", refs->items[i], rate, &audio[i], NULL);
    if (rc == EXIT_OK && refs->n > 0) {
        vc_status st = vc_voice_from_audio(m, audio, refs->n, voice);
        if (st != VC_OK) rc = cli_fail(common, "decode", "references", st);
    }
    for (int i = 0; i < refs->n; i++) vc_audio_free(&audio[i]);
    return rc;
}

/* Checks the stream against the model, then decodes it with the voice. EXIT_OK or the error. */
static int decode_run(cli_common *common, const char *in, const vc_model *m,
                      const cli_strings *refs, cli_output *output) {
    uint8_t *bytes = NULL;
    size_t nb = 0;
    vc_voice voice = {0};
    vc_audio out = {0};
    vc_convert_params cp = vc_convert_default_params();
    int rc = EXIT_OK, rate = vc_model_sample_rate(m);
    vc_status st = vc_codec_load(in, &bytes, &nb);
    if (st == VC_OK) st = vc_codec_check(m, bytes, nb, NULL); /* before any reference is read */
    if (st != VC_OK) rc = cli_fail(common, "decode", in, st);
    if (rc == EXIT_OK) rc = load_voice(common, m, refs, &voice);
    if (rc == EXIT_OK) {
        st = vc_codec_decode(m, bytes, nb, refs->n ? &voice : NULL, &cp, &out);
        if (st != VC_OK) rc = cli_fail(common, "decode", in, st);
    }
    if (rc == EXIT_OK)
        rc = cli_output_write_audio(common, "decode", output, &out, VC_AUDIO_PCM16, rate);
    if (rc == EXIT_OK)
        cli_info(common, "wrote %s: %.2f s", output->name, (double)out.n_samples / rate);
    vc_audio_free(&out);
    vc_voice_free(&voice);
    free(bytes);
    return rc;
}

int cmd_decode(int argc, char **argv) {
    const char *out_path = NULL, *model_path = NULL;
    cli_strings refs = {0};
    const cli_option opts[] = {
        {"output", 'o', OPT_STRING, &out_path, 0, 0, NULL, "OUT",
         "audio file to write, its container from the extension (none: WAV), '-' for stdout"},
        {"voice", 0, OPT_STRINGS, &refs, 0, 0, NULL, "REF",
         "speak in this reference's voice instead of the stream's (repeatable: one speaker)"},
        {"model", 'm', OPT_STRING, &model_path, 0, 0, NULL, "MODEL",
         "model file (default: the bundled model, or $VCONV_MODEL): the one that encoded IN"},
    };
    const cli_command cmd = {
        .name = "decode",
        .synopsis = "IN.vcq -o OUT [--voice REF ...] [--model MODEL]",
        .description = "Play a .vcq stream back: its content codes and pitch decoded by the model\n"
                       "in the stream's own voice, or in the voice of --voice. A stream made with\n"
                       "another model is refused.",
        CLI_OPTIONS(opts),
        .min_positional = 1,
        .max_positional = 1,
    };
    cli_common common;
    char *pos[1];
    int n;
    if (!cli_begin(&cmd, argc, argv, &common, pos, &n)) return common.exit_code;
    if (!out_path) {
        fprintf(stderr, "vconv decode: -o OUT is required\n");
        return EXIT_USAGE;
    }
    char model_buf[4096];
    if (!model_path) model_path = cli_default_model(model_buf, sizeof model_buf);
    vc_model *m = NULL;
    cli_output output;
    const char *inputs[1 + MAX_REFERENCES] = {pos[0]};
    for (int i = 0; i < refs.n && i < MAX_REFERENCES; i++) inputs[1 + i] = refs.items[i];
    int rc = cli_output_open(&output, cmd.name, out_path, inputs, 1 + refs.n, CLI_OUT_AUDIO);
    if (rc == EXIT_OK) rc = cli_load_model(&common, cmd.name, model_path, &m);
    if (rc == EXIT_OK)
        rc = cli_output_check_audio(&common, cmd.name, &output, VC_AUDIO_PCM16,
                                    vc_model_sample_rate(m));
    if (rc == EXIT_OK) rc = decode_run(&common, pos[0], m, &refs, &output);
    cli_output_discard(&output);
    vc_model_free(m);
    return rc;
}
