/* Where the bundled data (the default model, the sample clips) is found: one answer for the
 * command line, the library's users and the Python package. */
#define _GNU_SOURCE /* dladdr */
#include "common.h"

#include <dlfcn.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_MODEL_NAME "vconv-default.safetensors"

/* CMakeLists.txt sets these from the install layout; a build without it (fuzz/build.sh) gets
 * CMake's default one. */
#ifndef VC_INSTALL_DATA_DIR
#define VC_INSTALL_DATA_DIR "/usr/local/share/vconv"
#define VC_LIB_TO_DATA "../share/vconv"
#define VC_BIN_TO_DATA "../share/vconv"
#endif

/* The folder of the file holding this code: the shared library, or a program linked with the
 * static one. */
static const char module_anchor; /* an address inside that file (ISO C has no function's) */

static int module_dir(char *buf, size_t size) {
    Dl_info info;
    if (!dladdr(&module_anchor, &info) || !info.dli_fname) return 0;
    char path[1024];
    const char *name = info.dli_fname;
    /* A program's own name may come back bare; /proc says where it is. */
    if (!strchr(name, '/')) {
        ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
        if (n <= 0) return 0;
        path[n] = '\0';
        name = path;
    }
    const char *slash = strrchr(name, '/');
    if (!slash || (size_t)(slash - name) >= size) return 0;
    memcpy(buf, name, (size_t)(slash - name));
    buf[slash - name] = '\0';
    return 1;
}

/* dir/rel into buf when it is a folder we can read, without its ".." (a library found as
 * /lib/x86_64-linux-gnu/libvconv.so.0 names /usr/share/vconv, not /lib/.../../../share/vconv). */
static int try_dir(char *buf, size_t size, const char *dir, const char *rel) {
    char joined[PATH_MAX], resolved[PATH_MAX];
    int n = snprintf(joined, sizeof joined, "%s%s%s", dir, rel[0] ? "/" : "", rel);
    if (n <= 0 || (size_t)n >= sizeof joined || access(joined, R_OK | X_OK) != 0) return 0;
    const char *path = realpath(joined, resolved) ? resolved : joined;
    n = snprintf(buf, size, "%s", path);
    return n > 0 && (size_t)n < size;
}

vc_status vc_data_dir(char *buf, size_t size) {
    if (!buf || size == 0) return VC_ERR_ARG;
    char dir[1024];
    /* Installed: PREFIX/share/vconv beside the library (PREFIX/LIBDIR) or the program
     * (PREFIX/bin), wherever the prefix was moved to. */
    if (module_dir(dir, sizeof dir) &&
        (try_dir(buf, size, dir, VC_LIB_TO_DATA) || try_dir(buf, size, dir, VC_BIN_TO_DATA)))
        return VC_OK;
#ifdef VC_SOURCE_DATA_DIR
    /* A build used in place: the source tree's samples/. */
    if (try_dir(buf, size, VC_SOURCE_DATA_DIR, "")) return VC_OK;
#endif
    /* A program linked with the static library, in another folder than the install's. */
    if (try_dir(buf, size, VC_INSTALL_DATA_DIR, "")) return VC_OK;
    snprintf(buf, size, "%s", VC_INSTALL_DATA_DIR);
    return VC_ERR_IO;
}

vc_status vc_default_model_path(char *buf, size_t size) {
    if (!buf || size == 0) return VC_ERR_ARG;
    const char *env = getenv("VCONV_MODEL");
    char dir[1024];
    int n;
    if (env && *env) {
        n = snprintf(buf, size, "%s", env);
    } else {
        /* Without a data folder the path still names where the model was looked for. */
        vc_status found = vc_data_dir(dir, sizeof dir);
        (void)found;
        n = snprintf(buf, size, "%s/%s", dir, DEFAULT_MODEL_NAME);
    }
    if (n <= 0 || (size_t)n >= size) return VC_ERR_ARG;
    return access(buf, R_OK) == 0 ? VC_OK : VC_ERR_IO;
}
