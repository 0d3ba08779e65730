/* vconv encode / vconv decode: the .vcq speech codec (docs/codec.md). */
#include "cli.h"
#include "output.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
        printf(", \"seconds\": %.3f, \"codes\": %d, \"bytes\": %zu, \"code_prior\": %s, "
               "\"bits_per_second\": {\"codes\": %.1f, \"pitch\": %.1f, \"speaker\": %.1f, "
               "\"header\": %.1f, \"total\": %.1f}}\n",
               s->seconds, s->n_codes, s->bytes, s->prior ? "true" : "false", codes, pitch, spk,
               hdr, total);
        return;
    }
    cli_info(common,
             "wrote %s: %.2f s in %zu bytes, %.0f bit/s (codes %.0f, pitch %.0f, speaker %.0f, "
             "header %.0f)",
             out_name, s->seconds, s->bytes, total, codes, pitch, spk, hdr);
}

/* --learn-prior: counts every code of the audio in dirs, writes the model with them as its code
 * prior to the output. EXIT_OK or the error. */
static int learn_prior(cli_common *common, const vc_model *m, const cli_strings *dirs, double chunk,
                       cli_output *output) {
    vc_file_list list = {0};
    vc_status st = vc_list_audio((const char *const *)dirs->items, dirs->n, &list);
    if (st != VC_OK) return cli_fail(common, "encode", "--learn-prior", st);
    const int K = vc_model_codebook_size(m);
    uint64_t *counts = calloc((size_t)K, sizeof *counts), total = 0;
    int used = 0, skipped = 0;
    for (int i = 0; counts && i < list.n; i++) {
        vc_audio a = {0};
        int *codes = NULL, n = 0;
        if (vc_audio_load_audible(list.paths[i], vc_model_sample_rate(m), &a, NULL) == VC_OK &&
            vc_encode(m, &a, chunk, &codes, &n, NULL) == VC_OK) {
            for (int k = 0; k < n; k++) counts[codes[k]]++;
            total += (uint64_t)n, used++;
        } else
            skipped++; /* unreadable or silent: the library said why */
        free(codes);
        vc_audio_free(&a);
    }
    vc_file_list_free(&list);
    st = !counts ? VC_ERR_NOMEM : total == 0 ? VC_ERR_AUDIO : VC_OK;
    if (st == VC_OK) st = vc_codec_save_with_prior(m, cli_output_path(output), counts);
    int rc = st == VC_OK ? cli_output_commit(output, "encode")
                         : cli_output_fail(common, "encode", output, st);
    if (rc == EXIT_OK) {
        double h = 0.0;
        for (int k = 0; k < K; k++)
            if (counts[k]) h -= (double)counts[k] / total * log2((double)counts[k] / total);
        cli_info(common,
                 "wrote %s: code prior from %d files (%d skipped), %llu codes, %.2f bits per "
                 "code (the prior's entropy)",
                 output->name, used, skipped, (unsigned long long)total, h);
    }
    free(counts);
    return rc;
}

/* The stream at in ("-": standard input, read once) into *bytes. EXIT_OK or the error. */
static int read_stream(cli_common *common, const char *in, uint8_t **bytes, size_t *n) {
    if (strcmp(in, "-") != 0) {
        vc_status st = vc_codec_load(in, bytes, n);
        return st == VC_OK ? EXIT_OK : cli_fail(common, "decode", in, st);
    }
    if (isatty(STDIN_FILENO)) {
        fprintf(stderr, "vconv decode: standard input is a terminal; pipe a .vcq stream into it\n");
        return EXIT_RUNTIME;
    }
    common->stdin_used = 1;
    vc_status st = vc_codec_read(STDIN_FILENO, "- (standard input)", bytes, n);
    return st == VC_OK ? EXIT_OK : cli_fail(common, "decode", "- (standard input)", st);
}

int cmd_encode(int argc, char **argv) {
    const char *out_path = NULL, *model_path = NULL;
    int json = 0;
    float chunk = 10.0f;
    cli_strings prior_dirs = {0};
    const cli_option opts[] = {
        {"output", 'o', OPT_STRING, &out_path, 0, 0, NULL, "OUT.vcq",
         "stream to write, '-' for stdout (with --learn-prior: the model to write)"},
        {"model", 'm', OPT_STRING, &model_path, 0, 0, NULL, "MODEL",
         "model file (default: the bundled model, or $VCONV_MODEL); decoding needs the same"},
        {"chunk", 0, OPT_FLOAT, &chunk, 1, 600, NULL, "SECONDS",
         "speech encoded per chunk, as vconv convert (default 10)"},
        {"json", 0, OPT_FLAG, &json, 0, 0, NULL, NULL,
         "print the stream's size and bits per second by part as JSON on stdout"},
        {"learn-prior", 0, OPT_STRINGS, &prior_dirs, 0, 0, NULL, "DIR",
         "instead of encoding: count the model's codes over the audio in DIR (repeatable) and "
         "write the model with them as its code prior to -o"},
    };
    const cli_command cmd = {
        .name = "encode",
        .synopsis = "IN -o OUT.vcq [--model MODEL] [--json] | --learn-prior DIR -o OUT_MODEL",
        .description =
            "Compress speech to a .vcq stream: the model's content codes (from its code prior\n"
            "when it has one), a coarse F0 track and the speaker embedding, range-coded. IN '-'\n"
            "reads standard input. Prints the bits per second of each part. vconv decode plays\n"
            "it back. --learn-prior DIR writes a copy of the model with a code prior learned\n"
            "from DIR's audio (use the training corpus); its streams are smaller, and only that\n"
            "model decodes them.",
        CLI_OPTIONS(opts),
        .min_positional = 0,
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
    if ((n == 0) != (prior_dirs.n > 0)) {
        fprintf(stderr, "vconv encode: give one input file, or --learn-prior DIR (not both)\n");
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
    const char *inputs[1] = {n ? pos[0] : model_path};
    int rc = cli_output_open(&output, cmd.name, out_path, inputs, 1, 0);
    if (rc == EXIT_OK) rc = cli_load_model(&common, cmd.name, model_path, &m);
    if (rc == EXIT_OK && prior_dirs.n) {
        rc = learn_prior(&common, m, &prior_dirs, chunk, &output);
        vc_model_free(m);
        return rc;
    }
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
    vc_status st = VC_OK;
    rc = read_stream(common, in, &bytes, &nb);
    if (rc == EXIT_OK && (st = vc_codec_check(m, bytes, nb, NULL)) != VC_OK) /* before the refs */
        rc = cli_fail(common, "decode", in, st);
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
                       "in the stream's own voice, or in the voice of --voice. IN '-' reads\n"
                       "standard input. A stream made with another model is refused.",
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
