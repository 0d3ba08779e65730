/* Atomic file writes; see atomic_file.h. */
#define _POSIX_C_SOURCE 200809L /* mkstemp, fsync, fchmod, kill, opendir */

#include "core/atomic_file.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Removes "<path>.tmp.<pid>.*" files left by writers of path that were killed (their pid no
 * longer exists), so a training run killed while checkpointing does not leave a checkpoint-sized
 * temp file behind for every kill. Temp files of live processes are left alone. */
static void remove_stale_temps(const char *path) {
    const char *slash = strrchr(path, '/');
    char dir[4096];
    const char *base = slash ? slash + 1 : path;
    size_t dlen = slash ? (size_t)(slash - path) : 1;
    if (dlen == 0) dlen = 1; /* "/name": the root folder */
    if (dlen >= sizeof dir) return;
    memcpy(dir, slash ? path : ".", dlen);
    dir[dlen] = '\0';
    DIR *d = opendir(dir);
    if (!d) return;
    size_t blen = strlen(base);
    for (struct dirent *e; (e = readdir(d));) {
        const char *n = e->d_name;
        if (strncmp(n, base, blen) != 0 || strncmp(n + blen, ".tmp.", 5) != 0) continue;
        char *end;
        long pid = strtol(n + blen + 5, &end, 10);
        if (end == n + blen + 5 || *end != '.' || pid <= 0 || pid == (long)getpid()) continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue; /* alive, or not ours to judge */
        char full[8192];
        if (snprintf(full, sizeof full, "%s/%s", dir, n) < (int)sizeof full) unlink(full);
    }
    closedir(d);
}

vc_status vcu_atomic_open(vc_atomic_file *f, const char *path) {
    f->fd = -1;
    f->path = path;
    size_t len = strlen(path) + 48; /* room for ".tmp.<pid>.XXXXXX" */
    f->tmp = malloc(len);
    if (!f->tmp) return VC_ERR_NOMEM;
    snprintf(f->tmp, len, "%s.tmp.%ld.XXXXXX", path, (long)getpid());
    f->fd = mkstemp(f->tmp);
    if (f->fd < 0) {
        vcu_log(VC_LOG_ERROR, "%s: cannot create temp file: %s", path, strerror(errno));
        free(f->tmp);
        f->tmp = NULL;
        return VC_ERR_IO;
    }
    /* mkstemp makes 0600; an output file is meant to be shared like any other. */
    (void)fchmod(f->fd, 0644);
    return VC_OK;
}

vc_status vcu_atomic_finish(vc_atomic_file *f, vc_status st) {
    if (st == VC_OK && fsync(f->fd) != 0) {
        vcu_log(VC_LOG_ERROR, "%s: fsync failed: %s", f->path, strerror(errno));
        st = VC_ERR_IO;
    }
    if (close(f->fd) != 0 && st == VC_OK) {
        vcu_log(VC_LOG_ERROR, "%s: close failed: %s", f->path, strerror(errno));
        st = VC_ERR_IO;
    }
    if (st == VC_OK && rename(f->tmp, f->path) != 0) {
        vcu_log(VC_LOG_ERROR, "%s: cannot rename temp file into place: %s", f->path,
                strerror(errno));
        st = VC_ERR_IO;
    }
    if (st != VC_OK) unlink(f->tmp);
    if (st == VC_OK) remove_stale_temps(f->path);
    free(f->tmp);
    f->tmp = NULL;
    f->fd = -1;
    return st;
}
