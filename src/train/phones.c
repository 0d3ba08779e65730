/* Phone labels laid out by frame for the phone loss; see phones.h. */
#include "train/phones.h"

#include "model/phones.h"

#include <stdlib.h>
#include <string.h>

/* Names outside the phone set, counted for one log line. */
#define UNKNOWN_SHOWN 8
typedef struct unknown_names {
    char name[UNKNOWN_SHOWN][VC_PHONE_NAME_MAX];
    int n_names;
    long frames;
} unknown_names;

static void note_unknown(unknown_names *u, const char *name) {
    u->frames++;
    for (int i = 0; i < u->n_names; i++)
        if (!strcmp(u->name[i], name)) return;
    if (u->n_names < UNKNOWN_SHOWN) snprintf(u->name[u->n_names++], VC_PHONE_NAME_MAX, "%s", name);
}

/* Frame j of u is centred at sample trim_start + (j + 1/2) hop; segments are sorted by start,
 * so one walk (the look-ahead covers overlapping segments, as vc_phone_labels_at_codes does). */
static void lay_out(const vc_phone_labels *l, const vc_utt_features *u, int hop, int rate,
                    signed char *track, long *labelled, unknown_names *unk) {
    int j0 = 0;
    for (int j = 0; j < u->T; j++) {
        double t = ((double)u->trim_start + ((double)j + 0.5) * hop) / rate;
        while (j0 < l->n && l->segments[j0].end <= t) j0++;
        int cls = -1;
        for (int i = j0; i < l->n && l->segments[i].start <= t; i++)
            if (l->segments[i].end > t) {
                cls = vcm_phone_class(l->segments[i].phone);
                if (cls < 0) note_unknown(unk, l->segments[i].phone);
                break;
            }
        track[j] = (signed char)cls;
        *labelled += cls >= 0;
    }
}

vc_status vct_phones_load(vct_phones *ph, const char *dir, const vc_corpus *c,
                          const vc_feature_set *fs, const unsigned char *is_val) {
    memset(ph, 0, sizeof *ph);
    if (!dir || !c || !fs) return VC_ERR_ARG;
    ph->track = calloc((size_t)fs->n + 1, sizeof *ph->track);
    if (!ph->track) return VC_ERR_NOMEM;
    ph->n_utt = fs->n;
    unknown_names unk;
    memset(&unk, 0, sizeof unk);
    long frames = 0, labelled = 0;
    int files = 0, train_files = 0, train_utts = 0;
    char path[4096];
    vc_status st = VC_OK;
    for (int i = 0; i < fs->n && st == VC_OK; i++) {
        const vc_utt_features *u = &fs->u[i];
        int train = !is_val || !is_val[u->utt];
        train_utts += train;
        frames += u->T;
        if (!vc_phone_labels_find(dir, c->utt[u->utt].path, path, sizeof path)) continue;
        vc_phone_labels l;
        if ((st = vc_phone_labels_load(path, &l)) != VC_OK) break; /* the loader logged it */
        if (!(ph->track[i] = malloc((size_t)u->T))) st = VC_ERR_NOMEM;
        if (st == VC_OK) lay_out(&l, u, fs->hop, fs->sample_rate, ph->track[i], &labelled, &unk);
        vc_phone_labels_free(&l);
        files++;
        train_files += train;
    }
    if (st != VC_OK) {
        vct_phones_free(ph);
        return st;
    }
    vcu_log(VC_LOG_INFO,
            "train: phone labels for %d of %d utterances (%d of %d training ones) from %s: %.1f%% "
            "of all frames labelled",
            files, fs->n, train_files, train_utts, dir,
            frames ? 100.0 * (double)labelled / (double)frames : 0.0);
    if (unk.frames) {
        char list[UNKNOWN_SHOWN * (VC_PHONE_NAME_MAX + 1) + 1] = "";
        for (int i = 0; i < unk.n_names; i++) {
            strcat(list, i ? " " : "");
            strcat(list, unk.name[i]);
        }
        vcu_log(VC_LOG_WARN,
                "train: %ld labelled frames name a phone outside ARPAbet's 39 and silence (%s%s); "
                "they are left out of the phone loss",
                unk.frames, list, unk.n_names == UNKNOWN_SHOWN ? " ..." : "");
    }
    if (train_files == 0) {
        vcu_log(VC_LOG_ERROR,
                "train: no label file in %s for any training utterance (looked for "
                "DIR/<speaker folder>/<name>.TextGrid|lab|txt and DIR/<name>.*; "
                "scripts/phone_labels writes them)",
                dir);
        vct_phones_free(ph);
        return VC_ERR_ARG;
    }
    return VC_OK;
}

void vct_phones_free(vct_phones *ph) {
    if (!ph || !ph->track) return;
    for (int i = 0; i < ph->n_utt; i++) free(ph->track[i]);
    free(ph->track);
    memset(ph, 0, sizeof *ph);
}

void vct_phones_codes(const vct_phones *ph, int u, int t, int T2, int *out) {
    const signed char *tr = ph->track[u];
    for (int k = 0; k < T2; k++) out[k] = tr ? tr[t + 2 * k] : -1;
}
