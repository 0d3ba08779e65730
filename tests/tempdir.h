/* Temp folders for tests that write files: make one, count what is left in it (temp files
 * that should have been renamed or removed), remove it with everything inside. The including
 * file defines _POSIX_C_SOURCE 200809L before any include. */
#ifndef VC_TEMPDIR_H
#define VC_TEMPDIR_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* out = dir/name; a path too long for out is a bug in the test: abort. */
static inline void join(char *out, size_t cap, const char *dir, const char *name) {
    int r = snprintf(out, cap, "%s/%s", dir, name);
    if (r < 0 || (size_t)r >= cap) abort();
}

/* Entries of dir whose name contains part ("" counts all); -1 if dir cannot be read. */
static inline int count_matching(const char *dir, const char *part) {
    DIR *d = opendir(dir);
    int n = 0;
    if (!d) return -1;
    for (struct dirent *e; (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strstr(e->d_name, part)) n++;
    closedir(d);
    return n;
}

static inline void remove_tree(const char *dir) {
    DIR *d = opendir(dir);
    char path[1024];
    if (!d) return;
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        join(path, sizeof path, dir, e->d_name);
        struct stat sb;
        if (lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
            remove_tree(path);
        else
            unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

#endif
