/* vconv info: what a model file holds (architecture, size, training provenance). */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

int cmd_info(int argc, char **argv) {
    int json = 0;
    const cli_option opts[] = {
        {"json", 0, OPT_FLAG, &json, 0, 0, NULL, NULL, "print one JSON object"},
    };
    const cli_command cmd = {
        .name = "info",
        .synopsis = "MODEL [--json]",
        .description = "Print what a model file holds: its architecture (the config fields of\n"
                       "docs/model.md), parameter count and training provenance.",
        CLI_OPTIONS(opts),
        .min_positional = 1,
        .max_positional = 1,
    };
    cli_common common;
    char *pos[1];
    int n;
    if (!cli_begin(&cmd, argc, argv, &common, pos, &n)) return common.exit_code;
    vc_model *m = NULL;
    char *config = NULL;
    if (cli_load_model(&common, cmd.name, pos[0], &m) != EXIT_OK) return EXIT_RUNTIME;
    vc_status st = vc_model_config_json(m, &config);
    if (st != VC_OK) {
        vc_model_free(m);
        return cli_fail(&common, cmd.name, pos[0], st);
    }
    if (json) {
        printf("{\"file\": ");
        cli_json_string(stdout, pos[0]);
        printf(", \"parameters\": %zu, \"config\": %s, \"metadata\": {", vc_model_n_params(m),
               config);
        for (int i = 0; i < vc_model_meta_count(m); i++) {
            printf(i ? ", " : "");
            cli_json_string(stdout, vc_model_meta_key(m, i));
            printf(": ");
            cli_json_string(stdout, vc_model_meta_value(m, i));
        }
        printf("}}\n");
    } else {
        printf("file        %s\nparameters  %zu\nconfig      %s\n", pos[0], vc_model_n_params(m),
               config);
        for (int i = 0; i < vc_model_meta_count(m); i++) {
            /* a long value (the codec's code prior: one count per code) is cut to a line; --json
             * gives it whole */
            const char *v = vc_model_meta_value(m, i);
            int len = (int)strlen(v), cut = len > 100;
            printf("%-11s %.*s%s\n",
                   vc_model_meta_key(m, i) +
                       (strncmp(vc_model_meta_key(m, i), "vconv.", 6) ? 0 : 6),
                   cut ? 100 : len, v, cut ? " ... (--json shows it whole)" : "");
        }
    }
    free(config);
    vc_model_free(m);
    return EXIT_OK;
}
