/**
 * bench_launch.c - run one benchmark process and time it from fork to exit.
 *
 *   bench_launch [NAME=VALUE ...] -- PROGRAM [ARGS ...]
 *
 * The NAME=VALUE pairs are set in the child only (so LD_PRELOAD applies to the
 * benchmark, not to the launcher).  After the child exits, one line is printed:
 *
 *   LAUNCH wall=<s> status=<exit code or 128+signal> maxrss_kb=<n> minflt=<n>
 *
 * wall covers fork, exec, dynamic loading, allocator start-up, the run and process
 * teardown - the "process start + first touch" cost the short runs are about.
 * Exit status: the child's.  Bad arguments: usage on stderr, exit 2.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void usage(const char *prog, const char *why) {
    if (why) fprintf(stderr, "%s: %s\n", prog, why);
    fprintf(stderr, "usage: %s [NAME=VALUE ...] -- PROGRAM [ARGS ...]\n", prog);
    exit(2);
}

int main(int argc, char **argv) {
    int sep = -1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--")) { sep = i; break; }
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: %s [NAME=VALUE ...] -- PROGRAM [ARGS ...]\n", argv[0]);
            return 0;
        }
        const char *eq = strchr(argv[i], '=');
        if (!eq || eq == argv[i] || argv[i][0] == '-') {
            char msg[200];
            snprintf(msg, sizeof msg, "expected NAME=VALUE or --, got '%s'", argv[i]);
            usage(argv[0], msg);
        }
    }
    if (sep < 0) usage(argv[0], "missing --");
    if (sep + 1 >= argc) usage(argv[0], "missing PROGRAM");

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); return 1; }
    if (pid == 0) {
        for (int i = 1; i < sep; i++) putenv(argv[i]);
        execvp(argv[sep + 1], &argv[sep + 1]);
        perror(argv[sep + 1]);
        _exit(127);
    }
    int st;
    struct rusage ru;
    if (wait4(pid, &st, 0, &ru) < 0) { perror("wait4"); return 1; }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    fflush(stdout);
    printf("LAUNCH wall=%.6f status=%d maxrss_kb=%ld minflt=%ld\n",
           (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9, code, ru.ru_maxrss,
           ru.ru_minflt);
    return code;
}
