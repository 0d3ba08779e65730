/* Atomic file writes; see atomic_file.h. */
#define _POSIX_C_SOURCE 200809L /* mkstemp, fsync, fchmod */

#include "core/atomic_file.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

vc_status vc_atomic_open(vc_atomic_file *f, const char *path) {
    f->fd = -1;
    f->path = path;
    size_t len = strlen(path) + 48; /* room for ".tmp.<pid>.XXXXXX" */
    f->tmp = malloc(len);
    if (!f->tmp) return VC_ERR_NOMEM;
    snprintf(f->tmp, len, "%s.tmp.%ld.XXXXXX", path, (long)getpid());
    f->fd = mkstemp(f->tmp);
    if (f->fd < 0) {
        vc_log(VC_LOG_ERROR, "%s: cannot create temp file: %s", path, strerror(errno));
        free(f->tmp);
        f->tmp = NULL;
        return VC_ERR_IO;
    }
    /* mkstemp makes 0600; an output file is meant to be shared like any other. */
    (void)fchmod(f->fd, 0644);
    return VC_OK;
}

vc_status vc_atomic_finish(vc_atomic_file *f, vc_status st) {
    if (st == VC_OK && fsync(f->fd) != 0) {
        vc_log(VC_LOG_ERROR, "%s: fsync failed: %s", f->path, strerror(errno));
        st = VC_ERR_IO;
    }
    if (close(f->fd) != 0 && st == VC_OK) {
        vc_log(VC_LOG_ERROR, "%s: close failed: %s", f->path, strerror(errno));
        st = VC_ERR_IO;
    }
    if (st == VC_OK && rename(f->tmp, f->path) != 0) {
        vc_log(VC_LOG_ERROR, "%s: cannot rename temp file into place: %s", f->path,
               strerror(errno));
        st = VC_ERR_IO;
    }
    if (st != VC_OK) unlink(f->tmp);
    free(f->tmp);
    f->tmp = NULL;
    f->fd = -1;
    return st;
}
