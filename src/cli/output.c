/* Outputs checked before the work, written without destroying anything; "-" for standard input
 * and output. See output.h. */
#define _DEFAULT_SOURCE /* mkstemps, readlink, lstat */
#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Links followed before giving up (the kernel's own limit). */
#define MAX_LINK_HOPS 40
/* Standard input copied at most: a bigger stream is refused before it fills the disk. */
#define MAX_STDIN_BYTES ((long long)4 << 30)

static int refuse(const char *cmd, const char *name, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "vconv %s: %s: ", cmd, name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return EXIT_RUNTIME;
}

static char *copy_string(const char *s) {
    size_t n = strlen(s) + 1;
    char *c = malloc(n);
    if (!c) abort();
    memcpy(c, s, n);
    return c;
}

/* path's folder ("." for a bare name, "/" for "/x") into buf. */
static void folder_of(const char *path, char *buf, size_t size) {
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(buf, size, ".");
    else if (slash == path)
        snprintf(buf, size, "/");
    else
        snprintf(buf, size, "%.*s", (int)(slash - path), path);
}

/* name with every symlink of its last component followed (a dangling link gives the path it
 * points to), malloc'd; NULL with errno ELOOP when the links go round. */
static char *follow_links(const char *name) {
    char *path = copy_string(name);
    for (int hops = 0; hops < MAX_LINK_HOPS; hops++) {
        struct stat sb;
        char link[4096];
        if (lstat(path, &sb) != 0 || !S_ISLNK(sb.st_mode)) return path;
        ssize_t n = readlink(path, link, sizeof link - 1);
        if (n < 0) return path;
        link[n] = '\0';
        char dir[4096];
        folder_of(path, dir, sizeof dir);
        size_t len = strlen(dir) + (size_t)n + 2;
        char *next = malloc(len);
        if (!next) abort();
        if (link[0] == '/')
            snprintf(next, len, "%s", link);
        else
            snprintf(next, len, "%s/%s", dir, link);
        free(path);
        path = next;
    }
    free(path);
    errno = ELOOP;
    return NULL;
}

/* Index of the input that is the file described by out (same device and inode), or -1. */
static int same_as_input(const struct stat *out, const char *const *inputs, int n) {
    for (int i = 0; i < n; i++) {
        struct stat sb;
        if (!inputs[i]) continue;
        int r = strcmp(inputs[i], "-") ? stat(inputs[i], &sb) : fstat(STDIN_FILENO, &sb);
        if (r == 0 && sb.st_dev == out->st_dev && sb.st_ino == out->st_ino) return i;
    }
    return -1;
}

/* The temp file's suffix: the extension of name (which decides the container), or ".wav" for an
 * audio output without one. */
static const char *suffix_of(const char *name, int flags) {
    const char *slash = strrchr(name, '/'), *base = slash ? slash + 1 : name;
    const char *dot = strrchr(base, '.');
    if (dot && dot != base && dot[1]) return dot;
    return flags & CLI_OUT_AUDIO ? ".wav" : "";
}

/* A regular target: a file is made and removed in its folder, which proves this process can
 * create one there (permissions, read-only mounts, root included) before the work. The writer
 * later writes the target itself through its own temp file and rename (core/atomic_file.h),
 * which also cleans up after killed writers; holding a temp file here during the work would
 * leave one behind each time a run is killed. */
static int probe_folder(cli_output *o, const char *cmd) {
    char dir[4096];
    folder_of(o->target, dir, sizeof dir);
    size_t len = strlen(o->target) + 64;
    char *probe = malloc(len);
    if (!probe) abort();
    snprintf(probe, len, "%s.tmp.%ld.XXXXXX", o->target, (long)getpid());
    int fd = mkstemp(probe);
    int e = errno;
    if (fd >= 0) close(fd), unlink(probe);
    free(probe);
    return fd >= 0 ? EXIT_OK
                   : refuse(cmd, o->name, "cannot create a file in %s: %s", dir, strerror(e));
}

/* A stream's temp file in $TMPDIR, whole before it is copied into the stream; its name ends in
 * the output's extension so that a writer choosing the container by name chooses right. */
static int make_stream_temp(cli_output *o, const char *cmd, int flags) {
    const char *suffix = suffix_of(cli_output_format_name(o), flags);
    const char *tmpdir = getenv("TMPDIR");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", tmpdir && *tmpdir ? tmpdir : "/tmp");
    size_t len = strlen(dir) + strlen(suffix) + 64;
    o->tmp = malloc(len);
    if (!o->tmp) abort();
    snprintf(o->tmp, len, "%s/vconv-out.tmp.%ld.XXXXXX%s", dir, (long)getpid(), suffix);
    int fd = mkstemps(o->tmp, (int)strlen(suffix));
    if (fd < 0) {
        int e = errno;
        free(o->tmp);
        o->tmp = NULL;
        return refuse(cmd, o->name, "cannot create a temp file in %s: %s", dir, strerror(e));
    }
    close(fd);
    return EXIT_OK;
}

/* Standard output as the output: not a terminal, not an input. */
static int open_stdout(cli_output *o, const char *cmd, const char *const *inputs, int n_inputs,
                       int flags) {
    struct stat sb;
    if (flags & CLI_OUT_FILE_ONLY)
        return refuse(cmd, "-", "this command writes its output file repeatedly; give a file name");
    if (isatty(STDOUT_FILENO))
        return refuse(cmd, "-", "standard output is a terminal; redirect it or give a file name");
    int i = fstat(STDOUT_FILENO, &sb) == 0 ? same_as_input(&sb, inputs, n_inputs) : -1;
    if (i >= 0)
        return refuse(cmd, "-", "standard output is the input %s; refusing to overwrite it",
                      inputs[i]);
    o->stream = 1;
    return make_stream_temp(o, cmd, flags);
}

/* An existing target: what kind of file it is decides how it is written. */
static int check_existing(cli_output *o, const char *cmd, const struct stat *sb,
                          const char *const *inputs, int n_inputs, int flags) {
    if (S_ISDIR(sb->st_mode)) return refuse(cmd, o->name, "is a folder; give a file name");
    int i = same_as_input(sb, inputs, n_inputs);
    if (i >= 0)
        return refuse(cmd, o->name, "is the same file as the input %s; refusing to overwrite it",
                      inputs[i]);
    if (S_ISREG(sb->st_mode)) return EXIT_OK;
    if (!S_ISCHR(sb->st_mode) && !S_ISFIFO(sb->st_mode))
        return refuse(cmd, o->name, "is not a regular file, a character device or a FIFO");
    if (flags & CLI_OUT_FILE_ONLY)
        return refuse(cmd, o->name,
                      "is a device or a FIFO, and this command writes its output file "
                      "repeatedly; give a regular file");
    if (access(o->target, W_OK) != 0)
        return refuse(cmd, o->name, "cannot write: %s", strerror(errno));
    o->stream = 1;
    return EXIT_OK;
}

int cli_output_open(cli_output *o, const char *cmd, const char *name, const char *const *inputs,
                    int n_inputs, int flags) {
    memset(o, 0, sizeof *o);
    o->name = name;
    if (!strcmp(name, "-")) return open_stdout(o, cmd, inputs, n_inputs, flags);
    if (!*name) return refuse(cmd, "''", "an empty output name");
    if (!(o->target = follow_links(name)))
        return refuse(cmd, name, "cannot follow the link: %s", strerror(errno));
    struct stat sb;
    if (stat(o->target, &sb) == 0) {
        int rc = check_existing(o, cmd, &sb, inputs, n_inputs, flags);
        if (rc != EXIT_OK) return rc;
    } else if (errno != ENOENT) {
        return refuse(cmd, name, "%s", strerror(errno));
    } else {
        char dir[4096];
        folder_of(o->target, dir, sizeof dir);
        if (stat(dir, &sb) != 0) return refuse(cmd, name, "folder %s: %s", dir, strerror(errno));
        if (!S_ISDIR(sb.st_mode)) return refuse(cmd, name, "%s is not a folder", dir);
    }
    return o->stream ? make_stream_temp(o, cmd, flags) : probe_folder(o, cmd);
}

const char *cli_output_path(const cli_output *o) {
    return o->stream ? o->tmp : o->target;
}

const char *cli_output_format_name(const cli_output *o) {
    return o->target ? o->target : "-";
}

/* Copies the file at from into fd (a stream: written in order, never seeked). */
static int copy_into(const char *from, int fd) {
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0) return -1;
    char buf[1 << 16];
    ssize_t n;
    int rc = 0;
    while (rc == 0 && (n = read(in, buf, sizeof buf)) != 0) {
        if (n < 0) {
            if (errno == EINTR) continue;
            rc = -1;
            break;
        }
        for (ssize_t done = 0; done < n;) {
            ssize_t w = write(fd, buf + done, (size_t)(n - done));
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) {
                rc = -1;
                break;
            }
            done += w;
        }
    }
    int e = errno;
    close(in);
    errno = e;
    return rc;
}

int cli_output_commit(cli_output *o, const char *cmd) {
    int rc = EXIT_OK;
    if (o->tmp) { /* a regular target was written in place (atomically) by the writer */
        /* Opened only now: a FIFO's open waits for its reader. No O_TRUNC, no O_CREAT: a device
         * or FIFO is written, never replaced. */
        int fd = o->target ? open(o->target, O_WRONLY | O_CLOEXEC | O_NOCTTY) : STDOUT_FILENO;
        if (fd < 0 || copy_into(o->tmp, fd) != 0)
            rc = refuse(cmd, o->name, "write failed: %s", strerror(errno));
        if (fd >= 0 && o->target && close(fd) != 0 && rc == EXIT_OK)
            rc = refuse(cmd, o->name, "write failed: %s", strerror(errno));
    }
    cli_output_discard(o);
    return rc;
}

void cli_output_discard(cli_output *o) {
    if (o->tmp) unlink(o->tmp);
    free(o->tmp);
    free(o->target);
    o->tmp = o->target = NULL;
}

/* A log line of the library that names path is about what the user calls name. */
static void rename_in_error(cli_common *common, const char *path, const char *name) {
    if (!path) return;
    size_t len = strlen(path);
    if (strncmp(common->last_error, path, len) != 0) return;
    char rest[sizeof common->last_error];
    snprintf(rest, sizeof rest, "%s", common->last_error + len);
    /* Cut to fit: the line stays one line, whatever the name's length. */
    size_t n =
        strlen(name) < sizeof common->last_error - 1 ? strlen(name) : sizeof common->last_error - 1;
    memcpy(common->last_error, name, n);
    size_t room = sizeof common->last_error - n,
           r = strlen(rest) < room - 1 ? strlen(rest) : room - 1;
    memcpy(common->last_error + n, rest, r);
    common->last_error[n + r] = '\0';
}

int cli_output_check_audio(cli_common *common, const char *cmd, const cli_output *o,
                           vc_audio_encoding enc, int rate) {
    vc_status st = vc_audio_save_check(cli_output_format_name(o), enc, rate);
    return st == VC_OK ? EXIT_OK : cli_fail(common, cmd, o->name, st);
}

vc_status cli_output_save_audio(const cli_output *o, const vc_audio *a, vc_audio_encoding enc,
                                int rate) {
    vc_audio res = *a;
    vc_status st = VC_OK;
    if (rate != a->sample_rate) {
        res.samples = NULL;
        res.sample_rate = rate;
        st = vc_audio_resample(a->samples, a->n_samples, a->sample_rate, rate, &res.samples,
                               &res.n_samples);
    }
    if (st == VC_OK) st = vc_audio_save(cli_output_path(o), &res, enc);
    if (res.samples != a->samples) free(res.samples);
    return st;
}

int cli_output_write_audio(cli_common *common, const char *cmd, cli_output *o, const vc_audio *a,
                           vc_audio_encoding enc, int rate) {
    vc_status st = cli_output_save_audio(o, a, enc, rate);
    return st == VC_OK ? cli_output_commit(o, cmd) : cli_output_fail(common, cmd, o, st);
}

int cli_output_fail(cli_common *common, const char *cmd, cli_output *o, vc_status st) {
    rename_in_error(common, cli_output_path(o), o->name);
    cli_output_discard(o);
    return cli_fail(common, cmd, o->name, st);
}

/* Standard input copied into a temp file (libsndfile needs to seek); path into buf. */
static int stdin_to_file(const char *cmd, char *buf, size_t size) {
    const char *tmpdir = getenv("TMPDIR");
    snprintf(buf, size, "%s/vconv-in.%ld.XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp",
             (long)getpid());
    int fd = mkstemp(buf);
    if (fd < 0)
        return refuse(cmd, "-", "cannot make a temp file for standard input: %s", strerror(errno));
    char block[1 << 16];
    long long total = 0;
    ssize_t n;
    while ((n = read(STDIN_FILENO, block, sizeof block)) != 0) {
        if (n < 0 && errno == EINTR) continue;
        total += n;
        if (n < 0 || total > MAX_STDIN_BYTES || write(fd, block, (size_t)n) != n) {
            int e = errno;
            close(fd);
            unlink(buf);
            if (n >= 0 && total > MAX_STDIN_BYTES)
                return refuse(cmd, "-", "standard input holds more than %lld bytes, refusing",
                              MAX_STDIN_BYTES);
            return refuse(cmd, "-", "reading standard input: %s", strerror(e));
        }
    }
    if (close(fd) != 0) {
        unlink(buf);
        return refuse(cmd, "-", "reading standard input: %s", strerror(errno));
    }
    return EXIT_OK;
}

/* Either loader: vc_audio_load, or vc_audio_load_audible (silence refused while reading). */
static int load_audio(cli_common *common, const char *cmd, const char *name, int rate, vc_audio *a,
                      vc_audio_info *info, int audible) {
    vc_status (*load)(const char *, int, vc_audio *, vc_audio_info *) =
        audible ? vc_audio_load_audible : vc_audio_load;
    if (strcmp(name, "-")) {
        vc_status st = load(name, rate, a, info);
        return st == VC_OK ? EXIT_OK : cli_fail(common, cmd, name, st);
    }
    if (common->stdin_used) {
        fprintf(stderr, "vconv %s: '-' (standard input) given twice\n", cmd);
        return EXIT_USAGE;
    }
    common->stdin_used = 1;
    if (isatty(STDIN_FILENO))
        return refuse(cmd, "-", "standard input is a terminal; pipe audio into it");
    char path[4200];
    int rc = stdin_to_file(cmd, path, sizeof path);
    if (rc != EXIT_OK) return rc;
    vc_status st = load(path, rate, a, info);
    unlink(path);
    if (st == VC_OK) return EXIT_OK;
    /* The loader named the temp file; the user knows it as standard input. */
    rename_in_error(common, path, "- (standard input)");
    return cli_fail(common, cmd, "- (standard input)", st);
}

int cli_load_audio(cli_common *common, const char *cmd, const char *name, int rate, vc_audio *a,
                   vc_audio_info *info) {
    return load_audio(common, cmd, name, rate, a, info, 0);
}

int cli_load_audible(cli_common *common, const char *cmd, const char *name, int rate, vc_audio *a,
                     vc_audio_info *info) {
    return load_audio(common, cmd, name, rate, a, info, 1);
}
