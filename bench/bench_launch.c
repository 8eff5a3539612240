/**
 * bench_launch.c - run one benchmark process and time it from fork to exit.
 *
 *   bench_launch [-C DIR] [-o FILE] [NAME=VALUE ...] -- PROGRAM [ARGS ...]
 *
 * The NAME=VALUE pairs are set in the child only (so LD_PRELOAD applies to the
 * benchmark, not to the launcher).  -C: the child runs in DIR; -o: the child's
 * stdout goes to FILE (truncated), e.g. /dev/null for a real program's output.
 * After the child exits, one line is printed on the launcher's stdout:
 *
 *   LAUNCH wall=<s> status=<exit code or 128+signal> maxrss_kb=<n> minflt=<n>
 *          utime=<s> stime=<s>
 *
 * maxrss_kb is the largest of the child and the descendants it waited for, minflt,
 * utime and stime their sums (wait4's rusage).
 *
 * wall covers fork, exec, dynamic loading, allocator start-up, the run and process
 * teardown - the "process start + first touch" cost the short runs are about.
 * Exit status: the child's.  Bad arguments: usage on stderr, exit 2.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define USAGE "[-C DIR] [-o FILE] [NAME=VALUE ...] -- PROGRAM [ARGS ...]"

static void usage(const char *prog, const char *why) {
    if (why) fprintf(stderr, "%s: %s\n", prog, why);
    fprintf(stderr, "usage: %s " USAGE "\n", prog);
    exit(2);
}

int main(int argc, char **argv) {
    int sep = -1, first = 1;
    const char *dir = NULL, *outf = NULL;
    while (first < argc && (!strcmp(argv[first], "-C") || !strcmp(argv[first], "-o"))) {
        if (first + 1 >= argc || !argv[first + 1][0]) usage(argv[0], "-C and -o need an argument");
        if (argv[first][1] == 'C') dir = argv[first + 1]; else outf = argv[first + 1];
        first += 2;
    }
    for (int i = first; i < argc; i++) {
        if (!strcmp(argv[i], "--")) { sep = i; break; }
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: %s " USAGE "\n", argv[0]);
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
        if (dir && chdir(dir)) { perror(dir); _exit(127); }
        if (outf) {
            int fd = open(outf, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd < 0 || dup2(fd, 1) < 0) { perror(outf); _exit(127); }
            if (fd != 1) close(fd);
        }
        for (int i = first; i < sep; i++) putenv(argv[i]);
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
    printf("LAUNCH wall=%.6f status=%d maxrss_kb=%ld minflt=%ld utime=%.6f stime=%.6f\n",
           (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9, code, ru.ru_maxrss,
           ru.ru_minflt, ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6,
           ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6);
    return code;
}
