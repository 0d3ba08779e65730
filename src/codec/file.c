/* .vcq files: read whole (bounded), written through a temp file and a rename. */
#include "codec/stream.h"

#include "common.h"
#include "core/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define VCQ_MAX_FILE_BYTES ((size_t)256 << 20) /* far above any stream VCQ_MAX_CODES allows */

vc_status vc_codec_save(const char *path, const uint8_t *bytes, size_t n) {
    if (!path || !bytes) return VC_ERR_ARG;
    vc_atomic_file f;
    vc_status st = vcu_atomic_open(&f, path);
    if (st != VC_OK) return st;
    for (size_t at = 0; st == VC_OK && at < n;) {
        ssize_t w = write(f.fd, bytes + at, n - at);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            vcu_log(VC_LOG_ERROR, "%s: %s", path, strerror(errno));
            st = VC_ERR_IO;
        } else
            at += (size_t)w;
    }
    return vcu_atomic_finish(&f, st);
}

vc_status vc_codec_read(int fd, const char *name, uint8_t **bytes, size_t *n) {
    if (fd < 0 || !name || !bytes || !n) return VC_ERR_ARG;
    *bytes = NULL, *n = 0;
    size_t cap = 1 << 16, len = 0;
    uint8_t *b = malloc(cap);
    vc_status st = b ? VC_OK : VC_ERR_NOMEM;
    while (st == VC_OK) {
        if (len == cap) {
            uint8_t *nb = cap < VCQ_MAX_FILE_BYTES ? realloc(b, 2 * cap) : NULL;
            if (!nb) {
                vcu_log(VC_LOG_ERROR, "%s: too large for a .vcq stream", name);
                st = cap < VCQ_MAX_FILE_BYTES ? VC_ERR_NOMEM : VC_ERR_FORMAT;
                break;
            }
            b = nb, cap *= 2;
        }
        ssize_t r = read(fd, b + len, cap - len);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            vcu_log(VC_LOG_ERROR, "%s: %s", name, strerror(errno));
            st = VC_ERR_IO;
        }
        if (r <= 0) break;
        len += (size_t)r;
    }
    if (st != VC_OK) {
        free(b);
        return st;
    }
    *bytes = b, *n = len;
    return VC_OK;
}

vc_status vc_codec_load(const char *path, uint8_t **bytes, size_t *n) {
    if (!path || !bytes || !n) return VC_ERR_ARG;
    *bytes = NULL, *n = 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        vcu_log(VC_LOG_ERROR, "%s: %s", path, strerror(errno));
        return VC_ERR_IO;
    }
    vc_status st = vc_codec_read(fd, path, bytes, n);
    close(fd);
    return st;
}
