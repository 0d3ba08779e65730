/* Atomic file writes: write to a temp file beside the destination, fsync, rename into place.
 * A reader never sees a partial file, and a failed or interrupted write leaves whatever was at
 * the destination before. Used by every writer (WAV output, model files, checkpoints). */
#ifndef VC_CORE_ATOMIC_FILE_H
#define VC_CORE_ATOMIC_FILE_H

#include "common.h"

typedef struct vc_atomic_file {
    int fd;           /* write here */
    char *tmp;        /* "<path>.tmp.<pid>.XXXXXX", owned */
    const char *path; /* the destination, borrowed */
} vc_atomic_file;

/* Creates the temp file in path's folder (so the rename stays on one file system), mode 0644.
 * VC_ERR_IO with a log line naming path if it cannot. */
VC_WARN_UNUSED vc_status vcu_atomic_open(vc_atomic_file *f, const char *path);

/* Ends the write. If st is VC_OK: fsync, close and rename into place, then remove temp files
 * of path left by writers that were killed (their process is gone); if st is an error, or any
 * of those steps fails: close and remove the temp file. Returns the final status. */
VC_WARN_UNUSED vc_status vcu_atomic_finish(vc_atomic_file *f, vc_status st);

#endif
