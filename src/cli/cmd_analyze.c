/* vconv analyze: what a file holds, as seen by the front end: duration, rate, loudness, F0
 * range and voiced share; --f0 adds the per-frame track; --json makes it machine readable. */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct f0_summary {
    int voiced_frames, frames;
    double median_hz, p05_hz, p95_hz;
} f0_summary;

static int compare_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Percentiles of the voiced frames' F0 (nearest rank on the sorted values). */
static int summarise_f0(f0_summary *s, const float *f0, int T) {
    float *voiced = malloc((size_t)T * sizeof *voiced); /* (T) */
    if (!voiced) return -1;
    int n = 0;
    for (int t = 0; t < T; t++)
        if (f0[t] > 0.0f) voiced[n++] = f0[t];
    s->frames = T;
    s->voiced_frames = n;
    s->median_hz = s->p05_hz = s->p95_hz = 0.0;
    if (n > 0) {
        qsort(voiced, (size_t)n, sizeof *voiced, compare_float);
        s->p05_hz = voiced[(int)(0.05 * (n - 1) + 0.5)];
        s->median_hz = voiced[(int)(0.50 * (n - 1) + 0.5)];
        s->p95_hz = voiced[(int)(0.95 * (n - 1) + 0.5)];
    }
    free(voiced);
    return 0;
}

static void print_json(const char *path, const vc_audio_info *info, const vc_audio *a,
                       const vc_level *lv, const f0_summary *fs, int hop, const float *f0,
                       const float *voicing, int with_track) {
    FILE *f = stdout;
    fprintf(f, "{\"file\": ");
    cli_json_string(f, path);
    fprintf(f, ", \"format\": ");
    cli_json_string(f, info->format);
    fprintf(f,
            ", \"file_rate\": %d, \"channels\": %d, \"duration_s\": %.4f, "
            "\"analysis_rate\": %d,\n \"level\": {\"rms_dbfs\": %.2f, \"peak_dbfs\": %.2f, "
            "\"active_dbfs\": %.2f, \"active_share\": %.4f},\n",
            info->file_rate, info->channels, (double)a->n_samples / a->sample_rate, a->sample_rate,
            lv->rms_dbfs, lv->peak_dbfs, lv->active_dbfs, lv->active_share);
    fprintf(f, " \"f0\": {\"frames\": %d, \"hop_s\": %.6f, \"voiced_share\": %.4f", fs->frames,
            (double)hop / a->sample_rate,
            fs->frames ? (double)fs->voiced_frames / fs->frames : 0.0);
    if (fs->voiced_frames)
        fprintf(f, ", \"median_hz\": %.2f, \"p05_hz\": %.2f, \"p95_hz\": %.2f", fs->median_hz,
                fs->p05_hz, fs->p95_hz);
    else
        fprintf(f, ", \"median_hz\": null, \"p05_hz\": null, \"p95_hz\": null");
    fprintf(f, "}");
    if (with_track) {
        fprintf(f, ",\n \"f0_track\": {\"f0_hz\": [");
        for (int t = 0; t < fs->frames; t++) fprintf(f, "%s%.2f", t ? ", " : "", (double)f0[t]);
        fprintf(f, "],\n  \"voicing\": [");
        for (int t = 0; t < fs->frames; t++)
            fprintf(f, "%s%.3f", t ? ", " : "", (double)voicing[t]);
        fprintf(f, "]}");
    }
    fprintf(f, "}\n");
}

static void print_text(const char *path, const vc_audio_info *info, const vc_audio *a,
                       const vc_level *lv, const f0_summary *fs, int hop, const float *f0,
                       const float *voicing, int with_track) {
    printf("file        %s\n", path);
    printf("format      %s, %d Hz, %d channel%s\n", info->format, info->file_rate, info->channels,
           info->channels == 1 ? "" : "s");
    printf("duration    %.3f s\n", (double)a->n_samples / a->sample_rate);
    printf("level       rms %.1f dBFS, peak %.1f dBFS, active %.1f dBFS (%.0f%% of 20 ms "
           "blocks active)\n",
           lv->rms_dbfs, lv->peak_dbfs, lv->active_dbfs, 100.0 * lv->active_share);
    double share = fs->frames ? 100.0 * fs->voiced_frames / fs->frames : 0.0;
    if (fs->voiced_frames)
        printf("f0          median %.1f Hz, range %.1f-%.1f Hz (5th-95th percentile), "
               "voiced %.0f%% of frames\n",
               fs->median_hz, fs->p05_hz, fs->p95_hz, share);
    else
        printf("f0          no voiced frames\n");
    if (with_track) {
        printf("\n# time_s  f0_hz  voicing\n");
        for (int t = 0; t < fs->frames; t++)
            printf("%.4f %.2f %.3f\n", (double)t * hop / a->sample_rate, (double)f0[t],
                   (double)voicing[t]);
    }
}

int cmd_analyze(int argc, char **argv) {
    int with_track = 0, json = 0;
    const cli_option opts[] = {
        {"f0", 0, OPT_FLAG, &with_track, 0, 0, NULL, NULL,
         "also print the F0 track (Hz, 0 = unvoiced) and voicing per frame"},
        {"json", 0, OPT_FLAG, &json, 0, 0, NULL, NULL, "print one JSON object instead of text"},
    };
    const cli_command cmd = {
        .name = "analyze",
        .synopsis = "IN [--f0] [--json]",
        .description =
            "Describe an audio file as the front end sees it (mono, resampled to 16 kHz):\n"
            "duration, the file's rate and channels, loudness, and F0 range and voiced share.\n"
            "'-' as IN reads standard input.",
        CLI_OPTIONS(opts),
        .min_positional = 1,
        .max_positional = 1,
    };
    cli_common common;
    char *pos[1];
    int n;
    if (!cli_begin(&cmd, argc, argv, &common, pos, &n)) return common.exit_code;

    vc_frontend *fe;
    vc_audio a;
    vc_audio_info info;
    int rc = cli_load_input(&common, cmd.name, pos[0], &a, &info, &fe);
    if (rc != EXIT_OK) return rc;
    const vc_frontend_params *fp = vc_frontend_params_of(fe);
    float *f0 = NULL, *voicing = NULL; /* (T), (T) */
    vc_status st = VC_OK;
    rc = EXIT_RUNTIME;
    int T = vc_frontend_n_frames(fe, a.n_samples);
    f0 = malloc((size_t)T * sizeof *f0);
    voicing = malloc((size_t)T * sizeof *voicing);
    vc_level lv;
    f0_summary fs;
    if (!f0 || !voicing) st = VC_ERR_NOMEM;
    if (st == VC_OK) st = vc_audio_level(a.samples, a.n_samples, a.sample_rate, &lv);
    if (st == VC_OK) st = vc_frontend_f0(fe, a.samples, a.n_samples, f0, voicing);
    if (st == VC_OK && summarise_f0(&fs, f0, T)) st = VC_ERR_NOMEM;
    if (st != VC_OK) {
        rc = cli_fail(&common, cmd.name, pos[0], st);
        goto done;
    }
    if (json)
        print_json(pos[0], &info, &a, &lv, &fs, fp->hop, f0, voicing, with_track);
    else
        print_text(pos[0], &info, &a, &lv, &fs, fp->hop, f0, voicing, with_track);
    rc = EXIT_OK;
done:
    free(f0);
    free(voicing);
    vc_audio_free(&a);
    vc_frontend_free(fe);
    return rc;
}
