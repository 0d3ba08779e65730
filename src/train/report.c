/* Progress reports and the JSON-lines training log; see trainer.h. */
#define _POSIX_C_SOURCE 200809L
#include "train/trainer.h"

#include "core/atomic_file.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void json_num(FILE *f, const char *key, double v, int last) {
    if (isfinite(v))
        fprintf(f, "\"%s\":%.9g%s", key, v, last ? "" : ",");
    else
        fprintf(f, "\"%s\":null%s", key, last ? "" : ",");
}

static void log_line(FILE *f, const vc_train_report *r) {
    fprintf(f, "{\"step\":%ld,", r->step);
    json_num(f, "loss", r->loss, 0);
    json_num(f, "mel", r->mel, 0);
    json_num(f, "lin", r->lin, 0);
    json_num(f, "commit", r->commit, 0);
    if (r->cycle) {
        json_num(f, "cycle_content", r->cycle_content, 0);
        json_num(f, "cycle_speaker", r->cycle_speaker, 0);
    }
    if (r->adversarial) {
        json_num(f, "gen_adv", r->gen_adv, 0);
        json_num(f, "gen_fm", r->gen_fm, 0);
        json_num(f, "disc_real", r->disc_real, 0);
        json_num(f, "disc_fake", r->disc_fake, 0);
    }
    if (r->phone_loss) {
        json_num(f, "phone_xent", r->phone_xent, 0);
        json_num(f, "phone_accuracy", r->phone_accuracy, 0);
        json_num(f, "phone_labelled", r->phone_labelled, 0);
    }
    json_num(f, "val_loss", r->val_loss >= 0 ? r->val_loss : NAN, 0);
    json_num(f, "perplexity", r->perplexity, 0);
    fprintf(f, "\"codes_used\":%d,", r->codes_used);
    json_num(f, "lr", r->lr, 0);
    json_num(f, "s_per_step", r->seconds_per_step, 0);
    json_num(f, "frames_per_s", r->frames_per_second, 0);
    fprintf(f, "\"validation\":%d}\n", r->is_validation);
    fflush(f);
}

void vct_emit_report(trainer *t, int is_validation) {
    vc_train_report r;
    memset(&r, 0, sizeof r);
    double n = t->w_steps > 0 ? (double)t->w_steps : 1.0, el = vct_now() - t->w_t0;
    vq_health h = vcn_vq_health_from_counts(t->win_counts, t->m.cfg.codebook_size);
    r.step = t->step;
    r.steps = t->p.steps;
    r.loss = t->w_loss / n;
    r.mel = t->w_mel / n;
    r.lin = t->w_lin / n;
    r.commit = t->w_commit / n;
    r.cycle = t->cyc_spk != NULL;
    r.cycle_content = t->w_cyc_content / n;
    r.cycle_speaker = t->w_cyc_speaker / n;
    r.adversarial = t->dlin != NULL;
    r.disc_real = t->w_disc_real / n;
    r.disc_fake = t->w_disc_fake / n;
    r.gen_adv = t->w_gen_adv / n;
    r.gen_fm = t->w_gen_fm / n;
    r.phone_loss = t->ph_labels != NULL;
    r.phone_xent = t->w_ph_n > 0 ? t->w_ph_xent / t->w_ph_n : 0.0;
    r.phone_accuracy = t->w_ph_n > 0 ? t->w_ph_right / t->w_ph_n : 0.0;
    r.phone_labelled = t->w_ph_n / (n * (double)t->B * (double)t->T2); /* of all positions */
    r.val_loss = t->val_loss;
    r.perplexity = h.perplexity;
    r.codes_used = h.used;
    r.codebook_size = t->m.cfg.codebook_size;
    long s = t->step > 0 ? t->step - 1 : 0;
    r.lr = vcn_lr_schedule(s, t->p.lr, t->p.warmup, t->p.steps, VC_LR_COSINE);
    r.seconds_per_step = t->w_steps > 0 ? el / n : 0.0;
    r.frames_per_second = r.seconds_per_step > 0 ? (double)t->B * t->T / r.seconds_per_step : 0.0;
    r.is_validation = is_validation;
    if (t->w_steps > 0 && !is_validation) {
        if (h.perplexity < VCT_COLLAPSE_PERPLEXITY || h.used_share < VCT_COLLAPSE_USED) {
            if (++t->collapse_streak == VCT_COLLAPSE_REPORTS)
                vcu_log(VC_LOG_WARN,
                        "train: step %ld: codebook collapse? perplexity %.2f, %d of %d codes used "
                        "for %d reports in a row",
                        t->step, h.perplexity, h.used, r.codebook_size, VCT_COLLAPSE_REPORTS);
        } else {
            t->collapse_streak = 0;
        }
    }
    if (t->log) log_line(t->log, &r);
    if (t->p.report && t->dist.rank == 0) t->p.report(&r, t->p.report_user); /* rank 0 speaks */
    if (!is_validation) {                                                    /* a new window */
        t->w_loss = t->w_mel = t->w_lin = t->w_commit = 0;
        t->w_cyc_content = t->w_cyc_speaker = 0;
        t->w_disc_real = t->w_disc_fake = t->w_gen_adv = t->w_gen_fm = 0;
        t->w_ph_xent = t->w_ph_right = t->w_ph_n = 0;
        t->w_steps = 0;
        t->w_t0 = vct_now();
        memset(t->win_counts, 0, sizeof(float) * (size_t)t->m.cfg.codebook_size);
    }
}

/* The step of a log line written by log_line, or -1 for anything else (a line cut short by a
 * kill, say). */
static long line_step(const char *line, size_t n) {
    static const char head[] = "{\"step\":";
    if (n < sizeof head || memcmp(line, head, sizeof head - 1) != 0 || line[n - 1] != '\n')
        return -1;
    if (n < 2 || line[n - 2] != '}') return -1;
    char *end;
    errno = 0;
    long s = strtol(line + sizeof head - 1, &end, 10);
    return errno || end == line + sizeof head - 1 || *end != ',' || s < 0 ? -1 : s;
}

/* Rewrites the log (atomically) with the lines of steps <= step only. A missing log is fine. */
static vc_status log_cut(const char *path, long step) {
    FILE *in = fopen(path, "rb");
    if (!in) return errno == ENOENT ? VC_OK : VC_ERR_IO;
    vc_atomic_file af;
    vc_status st = vcu_atomic_open(&af, path);
    if (st != VC_OK) {
        fclose(in);
        return st;
    }
    int fd = dup(af.fd); /* the atomic writer keeps its own descriptor to fsync and close */
    FILE *out = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!out) {
        if (fd >= 0) close(fd);
        st = VC_ERR_IO;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long dropped = 0;
    while (st == VC_OK && (n = getline(&line, &cap, in)) > 0) {
        long s = line_step(line, (size_t)n);
        if (s < 0 || s > step)
            dropped++;
        else if (fwrite(line, 1, (size_t)n, out) != (size_t)n)
            st = VC_ERR_IO;
    }
    free(line);
    fclose(in);
    if (out && fclose(out) != 0) st = VC_ERR_IO;
    st = vcu_atomic_finish(&af, st);
    if (st == VC_OK && dropped)
        vcu_log(VC_LOG_INFO, "train: log %s cut back to step %ld (%ld later lines dropped)", path,
                step, dropped);
    return st;
}

vc_status vct_log_open(trainer *t) {
    if (!*t->log_path || t->dist.rank != 0) return VC_OK; /* rank 0 alone writes the log */
    if (t->p.resume && log_cut(t->log_path, t->step) != VC_OK) {
        vcu_log(VC_LOG_ERROR, "train: cannot rewrite log %s", t->log_path);
        return VC_ERR_IO;
    }
    t->log = fopen(t->log_path, t->p.resume ? "a" : "w");
    if (!t->log) {
        vcu_log(VC_LOG_ERROR, "train: cannot open log %s: %s", t->log_path, strerror(errno));
        return VC_ERR_IO;
    }
    return VC_OK;
}
