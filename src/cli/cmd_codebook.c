/* vconv codebook: what the codes of a model do on speech: usage, perplexity, entropy, dead
 * codes, and how much the code depends on the speaker. The arguments and the work are here; what
 * is printed is codebook_report.c, the HTML report codebook_html.c. */
#include "cli.h"
#include "codebook_html.h"
#include "codebook_report.h"
#include "output.h"

#include <stdlib.h>
#include <string.h>

/* Seconds of audio encoded at a time (bounds memory on long files). */
#define ENCODE_CHUNK_SECONDS 10.0

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

/* The files to encode: the audio arguments, then the files of the speaker folders. */
typedef struct codebook_inputs {
    char **audio; /* (n_audio) given as arguments */
    int n_audio;
    vc_file_list list; /* from --data */
} codebook_inputs;

static int n_inputs(const codebook_inputs *in) {
    return in->n_audio + in->list.n;
}

static const char *input_path(const codebook_inputs *in, int i) {
    return i < in->n_audio ? in->audio[i] : in->list.paths[i - in->n_audio];
}

/* Encodes every input into enc (n_inputs entries); unreadable or silent files are skipped (the
 * library logged why). EXIT_OK, or the one-line error. */
static int encode_all(cli_common *common, const vc_model *model, const codebook_inputs *in,
                      codebook_file *enc, int *n_enc, int *skipped) {
    int n = n_inputs(in), rate = vc_model_sample_rate(model);
    cli_progress progress;
    cli_progress_init(&progress, common, "encode", n >= 20);
    *n_enc = *skipped = 0;
    for (int i = 0; i < n; i++) {
        const char *path = input_path(in, i);
        vc_audio a;
        vc_status st = vc_audio_load(path, rate, &a, NULL);
        if (st == VC_OK) {
            codebook_file *e = &enc[*n_enc];
            st = vc_encode(model, &a, ENCODE_CHUNK_SECONDS, &e->codes, &e->n, &e->first_frame);
            vc_audio_free(&a);
            if (st == VC_OK) {
                e->path = path;
                e->speaker = i < in->n_audio ? -1 : in->list.speaker[i - in->n_audio];
                (*n_enc)++;
            }
        }
        if (st == VC_ERR_NOMEM) {
            cli_progress_done(&progress);
            return cli_fail(common, "codebook", path, st);
        }
        if (st != VC_OK) (*skipped)++;
        cli_progress_update((double)(i + 1) / n, &progress);
    }
    cli_progress_done(&progress);
    if (*n_enc == 0) {
        fprintf(stderr, "vconv codebook: none of the %d files could be encoded\n", n);
        return EXIT_RUNTIME;
    }
    return EXIT_OK;
}

/* Code counts and statistics over the encoded files; speakers only when every file came from a
 * speaker folder and there are several. counts (N) is filled. */
static vc_status usage_stats(const codebook_file *enc, int n_enc, int n_speakers, int N,
                             long *counts, vc_code_stats *cs, int *with_speakers) {
    const int **codes = malloc(sizeof *codes * (size_t)n_enc);
    int *lens = malloc(sizeof *lens * (size_t)n_enc), *spk = malloc(sizeof *spk * (size_t)n_enc);
    vc_status st = VC_ERR_NOMEM;
    *with_speakers = n_speakers > 1;
    if (codes && lens && spk) {
        for (int i = 0; i < n_enc; i++) {
            codes[i] = enc[i].codes, lens[i] = enc[i].n, spk[i] = enc[i].speaker;
            *with_speakers &= enc[i].speaker >= 0;
            for (int k = 0; k < enc[i].n; k++) counts[enc[i].codes[k]]++;
        }
        st = vc_code_stats_compute(codes, lens, *with_speakers ? spk : NULL, n_enc, N, 1, cs);
    }
    free(codes), free(lens), free(spk);
    return st;
}

/* The HTML report into the opened output; its code clips in the voice of voice_path. */
static int write_html(cli_common *common, cli_output *out, const vc_model *model,
                      const char *model_path, const vc_codebook_geometry *geo,
                      const codebook_usage *u, const char *voice_path) {
    vc_voice voice = {0};
    int ok = 0;
    if (u) {
        vc_audio va = {0};
        ok = vc_audio_load(voice_path, vc_model_sample_rate(model), &va, NULL) == VC_OK &&
             vc_voice_from_audio(model, &va, 1, &voice) == VC_OK;
        vc_audio_free(&va);
        if (!ok)
            fprintf(stderr, "vconv codebook: no voice from %s; the report has no clips\n",
                    voice_path);
    }
    int w = codebook_html_write(cli_output_path(out), model, model_path, geo, u ? u->stats : NULL,
                                u ? u->counts : NULL, u ? u->files : NULL, u ? u->n_files : 0,
                                ok ? &voice : NULL, u ? voice_path : "", u ? u->phones : NULL);
    vc_voice_free(&voice);
    if (w != 0) {
        fprintf(stderr, "vconv codebook: could not write %s\n", out->name);
        cli_output_discard(out);
        return EXIT_RUNTIME;
    }
    const char *name = out->name;
    int rc = cli_output_commit(out, "codebook");
    if (rc == EXIT_OK) cli_info(common, "wrote %s", name);
    return rc;
}

/* With audio: encode, count, print, and the HTML report if asked; phones_dir: the labels'
 * folder, or NULL. */
static int report_usage(cli_common *common, const vc_model *model, const char *model_path,
                        const vc_codebook_geometry *geo, codebook_inputs *in, int json,
                        int with_codes, cli_output *html, const char *voice_path,
                        const char *phones_dir) {
    int n = n_inputs(in), N = vc_model_codebook_size(model), n_enc = 0, skipped = 0;
    codebook_file *enc = calloc((size_t)n, sizeof *enc);
    long *counts = calloc((size_t)N, sizeof *counts);
    int rc = enc && counts ? EXIT_OK : cli_fail(common, "codebook", "encoding", VC_ERR_NOMEM);
    if (rc == EXIT_OK) rc = encode_all(common, model, in, enc, &n_enc, &skipped);
    vc_code_stats cs;
    codebook_usage u = {.files = enc,
                        .n_files = n_enc,
                        .skipped = skipped,
                        .list = &in->list,
                        .stats = &cs,
                        .counts = counts,
                        .N = N,
                        .codes_per_second = vc_model_codes_per_second(model),
                        .with_codes = with_codes};
    if (rc == EXIT_OK) {
        vc_status st =
            usage_stats(enc, n_enc, in->list.n_speakers, N, counts, &cs, &u.with_speakers);
        if (st != VC_OK) rc = cli_fail(common, "codebook", "statistics", st);
    }
    codebook_phones phones = {0};
    if (rc == EXIT_OK && phones_dir) {
        rc = codebook_phones_compute(common, model, phones_dir, enc, n_enc, &phones);
        u.phones = &phones;
    }
    if (rc == EXIT_OK) {
        codebook_print_geometry(geo, model_path, json, 0);
        codebook_print_usage(&u, json);
    }
    if (rc == EXIT_OK && html->name)
        rc = write_html(common, html, model, model_path, geo, &u,
                        voice_path ? voice_path : enc[0].path);
    codebook_phones_free(&phones);
    for (int i = 0; enc && i < n_enc; i++) free(enc[i].codes);
    free(enc);
    free(counts);
    return rc;
}

int cmd_codebook(int argc, char **argv) {
    const char *model_path = NULL, *html_path = NULL, *voice_path = NULL, *phones_dir = NULL;
    int json = 0, with_codes = 0;
    cli_strings dirs = {0};
    const cli_option opts[] = {
        {"data", 'd', OPT_STRINGS, &dirs, 0, 0, NULL, "DIR",
         "folder of speech, speaker = first folder level (repeatable)"},
        {"model", 'm', OPT_STRING, &model_path, 0, 0, NULL, "MODEL",
         "model file (or give it first; default: the bundled model)"},
        {"json", 0, OPT_FLAG, &json, 0, 0, NULL, NULL, "print one JSON object (docs/codebook.md)"},
        {"codes", 0, OPT_FLAG, &with_codes, 0, 0, NULL, NULL,
         "print each file's code sequence, run-length encoded"},
        {"html", 0, OPT_STRING, &html_path, 0, 0, NULL, "REPORT.html",
         "also write a self-contained HTML report (plots, spectrograms, code clips)"},
        {"voice", 0, OPT_STRING, &voice_path, 0, 0, NULL, "REF",
         "voice of the report's code clips (default: the first audio file)"},
        {"phones", 0, OPT_STRING, &phones_dir, 0, 0, NULL, "LABELS",
         "folder of time-aligned phone labels of the audio (LABELS/<folder>/<name>.TextGrid, "
         ".lab or .txt with lines 'start end phone', or LABELS/<name>.*): phone purity of each "
         "code, normalised mutual information code-phone, each phone's top codes"},
    };
    const cli_command cmd = {
        .name = "codebook",
        .synopsis = "[MODEL] [AUDIO ...] [--data DIR ...] [--phones LABELS] [--json] [--codes]",
        .description =
            "Without audio: the codebook's geometry (norms, nearest-neighbour distances,\n"
            "near-duplicate codes, a 2-D PCA). With audio: encode it and report how the\n"
            "codebook is used: codes in use,\n"
            "perplexity, entropy (bits per code and per second), dead codes, and with speaker\n"
            "folders (--data) how much the code depends on the speaker: normalised mutual\n"
            "information, next to the same with speakers shuffled between utterances.\n"
            "With --phones: the same for phones (time-aligned labels of the audio), next to\n"
            "the same with each file's phones rotated in time, and each code's phone purity.\n"
            "At most 64 file arguments (give more as --data folders).",
        CLI_OPTIONS(opts),
        .min_positional = 0,
        .max_positional = CLI_MAX_REPEAT,
    };
    cli_common common;
    char *pos[CLI_MAX_REPEAT];
    int n_pos;
    if (!cli_begin(&cmd, argc, argv, &common, pos, &n_pos)) return common.exit_code;
    if (phones_dir && !n_pos && !dirs.n)
        return -cli_usage_error(&cmd, "%s", "--phones needs audio (files or --data folders)");
    codebook_inputs in = {.audio = pos, .n_audio = n_pos};
    if (n_pos > 0 && ends_with(pos[0], ".safetensors")) {
        if (!model_path) model_path = pos[0];
        in.audio++, in.n_audio--;
    }
    char model_buf[1200];
    if (!model_path) model_path = cli_default_model(model_buf, sizeof model_buf);

    /* Everything below is released at done; each starts empty so any exit frees cleanly. */
    vc_model *model = NULL;
    vc_codebook_geometry geo = {0};
    cli_output html = {0};
    int rc = EXIT_OK;
    if (html_path) {
        const char *inputs[CLI_MAX_REPEAT + 2];
        inputs[0] = model_path, inputs[1] = voice_path;
        for (int i = 0; i < in.n_audio; i++) inputs[2 + i] = in.audio[i];
        rc = cli_output_open(&html, cmd.name, html_path, inputs, 2 + in.n_audio, 0);
    }
    if (rc == EXIT_OK) rc = cli_load_model(&common, cmd.name, model_path, &model);
    vc_status st = VC_OK;
    if (rc == EXIT_OK && (st = vc_codebook_geometry_of(model, &geo)) != VC_OK)
        rc = cli_fail(&common, cmd.name, model_path, st);
    if (rc == EXIT_OK && dirs.n && (st = vc_list_audio(dirs.items, dirs.n, &in.list)) != VC_OK)
        rc = cli_fail(&common, cmd.name, dirs.items[0], st);
    if (rc != EXIT_OK) goto done;
    if (in.n_audio > 0 || dirs.n > 0) {
        rc = report_usage(&common, model, model_path, &geo, &in, json, with_codes, &html,
                          voice_path, phones_dir);
    } else {
        codebook_print_geometry(&geo, model_path, json, 1);
        if (html_path) rc = write_html(&common, &html, model, model_path, &geo, NULL, NULL);
    }
done:
    cli_output_discard(&html);
    vc_codebook_geometry_free(&geo);
    vc_file_list_free(&in.list);
    vc_model_free(model);
    return rc;
}
