/* vconv: the command-line entry point. Dispatches through a table of subcommands. */
#include "cli.h"

#include <string.h>

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} commands[] = {
    {"convert", cmd_convert, "say a source's words in a reference's voice"},
    {"encode", cmd_encode, "compress speech to a very-low-bitrate .vcq stream"},
    {"decode", cmd_decode, "play a .vcq stream back, in its own or another voice"},
    {"resynth", cmd_resynth, "analysis + Griffin-Lim round trip, no model"},
    {"analyze", cmd_analyze, "duration, rate, loudness, F0 range and voiced share of a file"},
    {"train", cmd_train, "train a model on folders of speech (no labels, no parallel data)"},
    {"codebook", cmd_codebook, "how a model's codebook is used on speech, and by whom"},
    {"score", cmd_score, "anomaly score: files the model reconstructs badly, worst first"},
    {"info", cmd_info, "what a model file holds: architecture, size, provenance"},
    {"export", cmd_export, "rewrite a model in F16 and/or with metadata set"},
};
#define N_COMMANDS ((int)(sizeof commands / sizeof commands[0]))

static void usage(FILE *f) {
    fprintf(f, "usage: vconv COMMAND [OPTIONS] [ARGS]\n\n"
               "Voice conversion in C. Commands:\n");
    for (int i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\n'vconv COMMAND --help' or 'vconv help COMMAND' describes a command's options.\n"
               "  -h, --help     show this help\n"
               "      --version  print the version\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *name = argv[1];
    if (!strcmp(name, "help") && argc > 2) { /* "vconv help CMD" is "vconv CMD --help" */
        char help_flag[] = "--help", *args[] = {argv[2], help_flag, NULL};
        for (int i = 0; i < N_COMMANDS; i++)
            if (!strcmp(argv[2], commands[i].name)) return commands[i].run(2, args);
        fprintf(stderr, "vconv: unknown command '%s' (try 'vconv --help')\n", argv[2]);
        return EXIT_USAGE;
    }
    if (!strcmp(name, "-h") || !strcmp(name, "--help") || !strcmp(name, "help")) {
        usage(stdout);
        return EXIT_OK;
    }
    if (!strcmp(name, "--version")) {
        printf("vconv %s\n", vc_version());
        return EXIT_OK;
    }
    for (int i = 0; i < N_COMMANDS; i++)
        if (!strcmp(name, commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "vconv: unknown command '%s' (try 'vconv --help')\n", name);
    return EXIT_USAGE;
}
