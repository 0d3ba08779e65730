/* vconv export: rewrite a model file, in F16 (half the size) and/or with metadata set. */
#include "cli.h"
#include "output.h"

#include <stdlib.h>
#include <string.h>

int cmd_export(int argc, char **argv) {
    const char *out_path = NULL;
    int f16 = 0;
    cli_strings sets = {0};
    const cli_option opts[] = {
        {"output", 'o', OPT_STRING, &out_path, 0, 0, NULL, "OUT",
         "model file to write ('-' for standard output; never the input itself)"},
        {"f16", 0, OPT_FLAG, &f16, 0, 0, NULL, NULL, "store the parameters as 16-bit floats"},
        {"set", 0, OPT_STRINGS, &sets, 0, 0, NULL, "KEY=VALUE",
         "set a metadata entry, e.g. vconv.train_corpus=... (repeatable)"},
    };
    const cli_command cmd = {
        .name = "export",
        .synopsis = "MODEL -o OUT [--f16] [--set KEY=VALUE ...]",
        .description = "Write MODEL again as OUT: parameters in F16 with --f16, metadata entries\n"
                       "replaced or added with --set. The config and normalisation statistics\n"
                       "are kept as they are.",
        CLI_OPTIONS(opts),
        .min_positional = 1,
        .max_positional = 1,
    };
    cli_common common;
    char *pos[1];
    int n;
    if (!cli_begin(&cmd, argc, argv, &common, pos, &n)) return common.exit_code;
    if (!out_path) {
        fprintf(stderr, "vconv export: -o OUT is required\n");
        return EXIT_USAGE;
    }
    /* KEY=VALUE -> key, value pairs (the strings are copied: argv stays untouched) */
    char *copies[CLI_MAX_REPEAT] = {0};
    const char *kv[2 * CLI_MAX_REPEAT];
    for (int i = 0; i < sets.n; i++) {
        const char *eq = strchr(sets.items[i], '=');
        if (!eq || eq == sets.items[i]) {
            fprintf(stderr, "vconv export: --set wants KEY=VALUE, got '%s'\n", sets.items[i]);
            for (int j = 0; j < i; j++) free(copies[j]);
            return EXIT_USAGE;
        }
        size_t len = strlen(sets.items[i]) + 1;
        copies[i] = malloc(len);
        if (!copies[i]) abort();
        memcpy(copies[i], sets.items[i], len);
        copies[i][eq - sets.items[i]] = '\0';
        kv[2 * i] = copies[i];
        kv[2 * i + 1] = copies[i] + (eq - sets.items[i]) + 1;
    }
    vc_model *m = NULL;
    cli_output output;
    const char *inputs[1] = {pos[0]};
    int rc = cli_output_open(&output, cmd.name, out_path, inputs, 1, 0);
    if (rc == EXIT_OK) rc = cli_load_model(&common, cmd.name, pos[0], &m);
    if (rc == EXIT_OK) {
        vc_status st = vc_model_save(m, cli_output_path(&output), f16, kv, sets.n);
        rc = st == VC_OK ? cli_output_commit(&output, cmd.name)
                         : cli_output_fail(&common, cmd.name, &output, st);
    }
    if (rc == EXIT_OK) cli_info(&common, "wrote %s (%s)", out_path, f16 ? "F16" : "F32");
    cli_output_discard(&output);
    vc_model_free(m);
    for (int i = 0; i < sets.n; i++) free(copies[i]);
    return rc;
}
