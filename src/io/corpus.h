/* Corpus scanning and the train/validation split.
 *
 * A corpus is one or more folders (DIRs) of audio files. Each DIR is scanned recursively in
 * sorted (strcmp) order, so the result never depends on the file system's listing order.
 *   - Audio is recognised by extension, case-insensitively: .wav .flac .ogg .oga .aiff .aif
 *     .au .mp3 .opus. Other files (README.txt, *.tsv) are ignored.
 *   - Names starting with '.' (hidden files and folders) are skipped.
 *   - Directory symlinks are never followed (no loops possible); file symlinks are.
 *   - Speaker = the first folder level under DIR ("DIR/spk/any/depth/x.wav" -> spk); a file
 *     directly inside DIR is a speaker of its own (named by the file name). Speaker names are
 *     keyed "<basename of DIR>/<speaker>" so that equal folder names in different DIRs never
 *     merge; when two DIRs share a basename, the later one's speakers are keyed by its full path.
 *   - Utterance id: FNV-1a 64 of "<basename of DIR>/<path relative to DIR>", so it survives
 *     moving the corpus and does not depend on scan order.
 * Errors: a DIR that is missing, not a folder or unreadable is VC_ERR_IO (path in the log); a
 * scan that finds no audio at all is VC_ERR_AUDIO ("nothing usable"), as for a silent file.
 */
#ifndef VC_IO_CORPUS_H
#define VC_IO_CORPUS_H

#include "common.h"

typedef struct vc_utterance {
    char *path;  /* as opened: DIR joined with the relative path, owned */
    int speaker; /* index into vc_corpus.spk */
    uint64_t id; /* stable id, see above */
} vc_utterance;

typedef struct vc_speaker {
    char *name; /* "<dir basename>/<speaker>", owned */
    int n_utt;
    int *utt; // (n_utt) utterance indices, ascending
} vc_speaker;

typedef struct vc_corpus {
    int n_utt;
    vc_utterance *utt; // (n_utt) in scan order: DIRs as given, then sorted paths
    int n_spk;
    vc_speaker *spk; // (n_spk) in order of first utterance
} vc_corpus;

/* Scan n_dirs folders into *out (zeroed first; on failure it is left empty, nothing to free). */
VC_WARN_UNUSED vc_status vci_corpus_scan(const char *const *dirs, int n_dirs, vc_corpus *out);
void vci_corpus_free(vc_corpus *c); /* NULL or zeroed: no-op; zeroes the struct */

/* Deterministic split by utterance: is_val[i] = 1 when utterance i is held out for validation.
 * Decided per utterance from hash(id, seed) < val_share, so it is independent of scan order,
 * DIR order and thread count. With n_utt >= 2 and 0 < val_share < 1 at least one utterance is
 * in each part (the one with the smallest / largest hash is moved if needed). val_share must
 * be in [0, 1]; is_val is (n_utt). Returns the number of validation utterances, or a negative
 * status for bad arguments. */
int vci_corpus_split(const vc_corpus *c, float val_share, uint64_t seed, unsigned char *is_val);

/* FNV-1a 64 of n bytes continuing from h (start with VC_FNV_OFFSET). */
#define VC_FNV_OFFSET 0xcbf29ce484222325ull
uint64_t vci_fnv1a64(uint64_t h, const void *data, size_t n);

#endif
