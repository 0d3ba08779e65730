/* The log sink every fuzz target installs: the library's log lines for rejected inputs would
 * flood the fuzzer's output. */
#ifndef VC_FUZZ_QUIET_LOG_H
#define VC_FUZZ_QUIET_LOG_H

static void quiet_log(int level, const char *msg, void *user) {
    (void)level;
    (void)msg;
    (void)user;
}

#endif
