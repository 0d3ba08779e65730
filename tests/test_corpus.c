/* Corpus scanning and the train/validation split: speakers from folders, hidden and non-audio
 * files skipped, deterministic order and split, errors for missing and empty folders. */
#define _POSIX_C_SOURCE 200809L
#include "io/corpus.h"

#include "tempdir.h"
#include "test.h"

#include <sndfile.h>
#include <string.h>

static void make_dir(const char *base, const char *rel) {
    char p[1024];
    join(p, sizeof p, base, rel);
    if (mkdir(p, 0755) != 0) abort();
}

/* 16 kHz tone of dur seconds at path (WAV through the library, FLAC through libsndfile). */
static void make_audio(const char *base, const char *rel, double dur, double hz) {
    char p[1024];
    join(p, sizeof p, base, rel);
    size_t n = (size_t)(dur * 16000);
    float *x = malloc(n * sizeof *x);
    if (!x) abort();
    for (size_t i = 0; i < n; i++) x[i] = 0.3f * (float)sin(VC_TWO_PI * hz * (double)i / 16000);
    if (strstr(rel, ".flac")) {
        SF_INFO info = {
            .samplerate = 16000, .channels = 1, .format = SF_FORMAT_FLAC | SF_FORMAT_PCM_16};
        SNDFILE *sf = sf_open(p, SFM_WRITE, &info);
        if (!sf || sf_writef_float(sf, x, (sf_count_t)n) != (sf_count_t)n) abort();
        sf_close(sf);
    } else {
        vc_audio a = {x, n, 16000};
        if (vc_audio_save(p, &a, VC_AUDIO_PCM16) != VC_OK) abort();
    }
    free(x);
}

static void write_text(const char *base, const char *rel) {
    char p[1024];
    join(p, sizeof p, base, rel);
    FILE *f = fopen(p, "w");
    if (!f) abort();
    fputs("not audio\n", f);
    fclose(f);
}

static int find_speaker(const vc_corpus *c, const char *name) {
    for (int i = 0; i < c->n_spk; i++)
        if (!strcmp(c->spk[i].name, name)) return i;
    return -1;
}

static const char *tail(const char *path, int levels) { /* last `levels` components */
    const char *p = path + strlen(path);
    while (p > path && levels > 0)
        if (*--p == '/') levels--;
    return *p == '/' ? p + 1 : p;
}

int main(void) {
    char tmpl[] = "/tmp/vc_test_corpus.XXXXXX";
    char *root = mkdtemp(tmpl);
    if (!root) return 1;
    /* root/data: spk1/a.wav spk1/sub/b.wav spk2/c.flac loose.wav .hidden/x.wav README.txt
     * root/more/data and root/other: another "spk1" that must stay a separate speaker */
    const char *dirs_rel[] = {"data",         "data/spk1", "data/spk1/sub", "data/spk2",
                              "data/.hidden", "other",     "other/spk1",    "empty",
                              "more",         "more/data", "more/data/spk1"};
    for (size_t i = 0; i < sizeof dirs_rel / sizeof *dirs_rel; i++) make_dir(root, dirs_rel[i]);
    make_audio(root, "data/spk1/a.wav", 0.5, 200);
    make_audio(root, "data/spk1/sub/b.wav", 1.0, 300);
    make_audio(root, "data/spk2/c.flac", 1.5, 250);
    make_audio(root, "data/loose.wav", 0.7, 400);
    make_audio(root, "data/.hidden/x.wav", 0.5, 100);
    make_audio(root, "data/spk2/.y.WAV", 0.5, 100);
    write_text(root, "data/README.txt");
    write_text(root, "data/spk1/notes.tsv");
    make_audio(root, "other/spk1/d.WAV", 0.5, 150);
    make_audio(root, "more/data/spk1/e.wav", 0.5, 150);
    char data[1024], other[1024], empty[1024], missing[1024], more[1024], link[1024];
    join(data, sizeof data, root, "data");
    join(other, sizeof other, root, "other");
    join(empty, sizeof empty, root, "empty");
    join(missing, sizeof missing, root, "missing");
    join(more, sizeof more, root, "more/data");
    join(link, sizeof link, data, "spk2/loop");
    if (symlink(data, link) != 0) abort(); /* a directory symlink loop: must not be followed */

    fprintf(stderr, "scan of one folder: speakers, order, hidden/non-audio/symlink skipped\n");
    vc_corpus c;
    const char *d1[] = {data};
    CHECK(vci_corpus_scan(d1, 1, &c) == VC_OK);
    CHECK(c.n_utt == 4);
    CHECK(c.n_spk == 3);
    if (c.n_utt == 4 && c.n_spk == 3) {
        /* sorted: loose.wav < spk1/a.wav < spk1/sub/b.wav < spk2/c.flac */
        CHECK(!strcmp(tail(c.utt[0].path, 2), "data/loose.wav"));
        CHECK(!strcmp(tail(c.utt[1].path, 2), "spk1/a.wav"));
        CHECK(!strcmp(tail(c.utt[2].path, 3), "spk1/sub/b.wav"));
        CHECK(!strcmp(tail(c.utt[3].path, 2), "spk2/c.flac"));
        CHECK(!strcmp(c.spk[0].name, "data/loose.wav"));
        CHECK(!strcmp(c.spk[1].name, "data/spk1"));
        CHECK(!strcmp(c.spk[2].name, "data/spk2"));
        CHECK(c.utt[1].speaker == 1 && c.utt[2].speaker == 1 && c.utt[3].speaker == 2);
        CHECK(c.spk[1].n_utt == 2 && c.spk[1].utt[0] == 1 && c.spk[1].utt[1] == 2);
        CHECK(c.spk[0].n_utt == 1 && c.spk[2].n_utt == 1);
        for (int i = 0; i < c.n_utt; i++)
            for (int j = i + 1; j < c.n_utt; j++) CHECK(c.utt[i].id != c.utt[j].id);
    }

    fprintf(stderr, "two folders: same speaker folder name stays two speakers; ids stable\n");
    vc_corpus c2, c3;
    const char *d2[] = {data, other}, *d3[] = {other, data};
    CHECK(vci_corpus_scan(d2, 2, &c2) == VC_OK);
    CHECK(vci_corpus_scan(d3, 2, &c3) == VC_OK);
    CHECK(c2.n_utt == 5 && c2.n_spk == 4 && c3.n_utt == 5 && c3.n_spk == 4);
    CHECK(find_speaker(&c2, "data/spk1") >= 0 && find_speaker(&c2, "other/spk1") >= 0);
    if (c2.n_utt == 5 && c.n_utt == 4)
        for (int i = 0; i < 4; i++) CHECK(c2.utt[i].id == c.utt[i].id); /* independent of DIRs */

    fprintf(stderr, "two folders with the same basename: still separate speakers\n");
    vc_corpus c4;
    const char *d4[] = {data, more};
    CHECK(vci_corpus_scan(d4, 2, &c4) == VC_OK);
    CHECK(c4.n_utt == 5 && c4.n_spk == 4);
    if (c4.n_utt == 5) CHECK(c4.utt[4].speaker != c4.utt[1].speaker);
    vci_corpus_free(&c4);

    fprintf(stderr, "split: deterministic, same for either DIR order, >= 1 val utterance\n");
    unsigned char v2[5], v2b[5], v3[5];
    int n2 = vci_corpus_split(&c2, 0.2f, 7, v2);
    CHECK(n2 >= 1 && n2 <= 4); /* at least one in each part */
    CHECK(vci_corpus_split(&c2, 0.2f, 7, v2b) == n2 && !memcmp(v2, v2b, 5));
    CHECK(vci_corpus_split(&c3, 0.2f, 7, v3) == n2);
    for (int i = 0; i < c2.n_utt && c3.n_utt == c2.n_utt; i++)
        for (int j = 0; j < c3.n_utt; j++)
            if (c3.utt[j].id == c2.utt[i].id) CHECK(v3[j] == v2[i]);
    CHECK(vci_corpus_split(&c2, 0.0f, 7, v2) == 0);
    CHECK(vci_corpus_split(&c2, 1.5f, 7, v2) == VC_ERR_ARG);
    vci_corpus_free(&c2);
    vci_corpus_free(&c3);

    fprintf(stderr, "split on 200 fake utterances: share roughly respected, seed matters\n");
    vc_utterance fake[200];
    for (int i = 0; i < 200; i++) {
        char name[32];
        snprintf(name, sizeof name, "spk/%03d.wav", i);
        fake[i] = (vc_utterance){NULL, 0, vci_fnv1a64(VC_FNV_OFFSET, name, strlen(name))};
    }
    vc_corpus fc = {200, fake, 0, NULL};
    unsigned char fa[200], fb[200];
    int na = vci_corpus_split(&fc, 0.1f, 1, fa);
    int nb = vci_corpus_split(&fc, 0.1f, 2, fb);
    fprintf(stderr, "  val share 0.1: %d and %d of 200 (seeds 1, 2)\n", na, nb);
    /* binomial(200, 0.1): sd 4.2; 8..32 is beyond 2.8 sd either side */
    CHECK(na >= 8 && na <= 32 && nb >= 8 && nb <= 32);
    CHECK(memcmp(fa, fb, 200) != 0);
    int n50 = vci_corpus_split(&fc, 0.5f, 1, fa);
    CHECK(n50 >= 70 && n50 <= 130); /* sd 7.1 */
    vc_corpus one = {1, fake, 0, NULL};
    CHECK(vci_corpus_split(&one, 0.5f, 1, fa) <= 1); /* a single utterance: nothing forced */
    vc_corpus two = {2, fake, 0, NULL};
    CHECK(vci_corpus_split(&two, 0.01f, 1, fa) == 1);
    CHECK(vci_corpus_split(&two, 0.99f, 1, fa) == 1);

    fprintf(stderr, "errors: missing folder -> IO, folder without audio -> AUDIO, a file -> IO\n");
    vc_corpus e;
    const char *dm[] = {missing}, *de[] = {empty}, *dd[] = {data, missing};
    char file[1024];
    join(file, sizeof file, data, "README.txt");
    const char *df[] = {file};
    CHECK(vci_corpus_scan(dm, 1, &e) == VC_ERR_IO && e.n_utt == 0);
    CHECK(vci_corpus_scan(dd, 2, &e) == VC_ERR_IO && e.n_utt == 0);
    CHECK(vci_corpus_scan(de, 1, &e) == VC_ERR_AUDIO && e.n_utt == 0);
    CHECK(vci_corpus_scan(df, 1, &e) == VC_ERR_IO);
    CHECK(vci_corpus_scan(NULL, 1, &e) == VC_ERR_ARG);
    CHECK(vci_corpus_scan(dm, 0, &e) == VC_ERR_ARG);
    vci_corpus_free(&e);
    vci_corpus_free(NULL);
    vci_corpus_free(&c);

    remove_tree(root);
    return test_finish();
}
