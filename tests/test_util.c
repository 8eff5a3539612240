/**
 * test_util.c - shared helpers: pattern fill, death-test runner, scenario
 * re-exec, temp dirs, external-program runner, RSS.
 */
#define HAK_TEST_NO_WRAP
#include "test_util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef HAK_TEST_PREFIXED
/* Sanitizer / valgrind builds: the library exports only hak_*, the process's
 * malloc is the tool's, and the suites' allocations go to hakmem by name. */
#include "hakmem.h"
#define HAK_FN(name) hak_##name
#else
#define HAK_FN(name) name
#endif
void *(*volatile t_malloc)(size_t) = HAK_FN(malloc);
void (*volatile t_free)(void *) = HAK_FN(free);
void *(*volatile t_calloc)(size_t, size_t) = HAK_FN(calloc);
void *(*volatile t_realloc)(void *, size_t) = HAK_FN(realloc);
void *(*volatile t_reallocarray)(void *, size_t, size_t) = HAK_FN(reallocarray);
int (*volatile t_posix_memalign)(void **, size_t, size_t) = HAK_FN(posix_memalign);
void *(*volatile t_aligned_alloc)(size_t, size_t) = HAK_FN(aligned_alloc);
void *(*volatile t_memalign)(size_t, size_t) = HAK_FN(memalign);
void *(*volatile t_valloc)(size_t) = HAK_FN(valloc);
void *(*volatile t_pvalloc)(size_t) = HAK_FN(pvalloc);
size_t (*volatile t_malloc_usable_size)(void *) = HAK_FN(malloc_usable_size);

char g_test_exe[4096];

int smallmid_on(void) {
    const char *e = getenv("HAKMEM_SMALLMID_ENABLE");
    return e && strcmp(e, "1") == 0;
}

static inline uint64_t mix64(uint64_t x) {
    x ^= x >> 33; x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static uint64_t pattern_key(const void *p, size_t n, uint32_t seed) {
    return mix64((uint64_t)(uintptr_t)p ^ ((uint64_t)n << 20) ^ ((uint64_t)seed << 44) ^ 0x5bd1e995u);
}

void pattern_fill(void *p, size_t n, uint32_t seed) {
    uint64_t k = pattern_key(p, n, seed);
    unsigned char *b = p;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t v = k + i * 0x9e3779b97f4a7c15ULL;
        memcpy(b + i, &v, 8);
    }
    uint64_t v = k + i * 0x9e3779b97f4a7c15ULL;
    for (size_t j = 0; i + j < n; j++) b[i + j] = (unsigned char)(v >> (8 * j));
}

size_t pattern_check(const void *p, size_t n, uint32_t seed) {
    uint64_t k = pattern_key(p, n, seed);
    const unsigned char *b = p;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t v = k + i * 0x9e3779b97f4a7c15ULL, got;
        memcpy(&got, b + i, 8);
        if (got != v) {
            for (size_t j = 0; j < 8; j++)
                if (b[i + j] != (unsigned char)(v >> (8 * j))) return i + j;
        }
    }
    uint64_t v = k + i * 0x9e3779b97f4a7c15ULL;
    for (size_t j = 0; i + j < n; j++)
        if (b[i + j] != (unsigned char)(v >> (8 * j))) return i + j;
    return PATTERN_OK;
}

/* ---- death tests ---------------------------------------------------------- */

static void read_all_fd(int fd, char *out, size_t outsz) {
    size_t got = 0;
    for (;;) {
        char tmp[512];
        ssize_t r = read(fd, tmp, sizeof tmp);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        size_t take = (size_t)r;
        if (got + take > outsz - 1) take = outsz - 1 - got;
        memcpy(out + got, tmp, take);
        got += take;
    }
    out[got] = 0;
}

static int wait_status(pid_t pid) {
    int st = 0;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR) return -1;
    }
    return st;
}

int death_run(void (*fn)(void *), void *arg, char *out, size_t outsz, unsigned timeout_s) {
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], 2);
        close(fds[1]);
        alarm(timeout_s);
        fn(arg);
        _exit(99);                 /* the bad operation did not abort */
    }
    close(fds[1]);
    read_all_fd(fds[0], out, outsz);
    close(fds[0]);
    return wait_status(pid);
}

int scenario_run(const char *name, const char *env_assign, char *out, size_t outsz,
                 unsigned timeout_s) {
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], 2);
        close(fds[1]);
        if (env_assign) {                  /* "A=1 B=2": each assignment */
            char *copy = strdup(env_assign), *save = NULL;
            for (char *a = strtok_r(copy, " ", &save); a; a = strtok_r(NULL, " ", &save)) putenv(a);
        }
        alarm(timeout_s);          /* survives execve */
        /* The binary by its own path: under valgrind /proc/self/exe is the tool. */
        execl(g_test_exe[0] ? g_test_exe : "/proc/self/exe", "hak_tests", "--hak-scenario",
              name, (char *)NULL);
        _exit(98);
    }
    close(fds[1]);
    read_all_fd(fds[0], out, outsz);
    close(fds[0]);
    return wait_status(pid);
}

void assert_abort_msg_at(const char *file, int line, int status, const char *text,
                         const char *api, const char *reason, const void *p) {
    char want[512], ptr[64];
    snprintf(ptr, sizeof ptr, "%p", p);
    snprintf(want, sizeof want, "hakmem: %s(): %s %s\n", api, reason, ptr);
    if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT)) {
        ck_abort_msg("%s:%d: expected death by SIGABRT, got status 0x%x (%s %d); stderr: [%s]",
                     file, line, status, WIFSIGNALED(status) ? "signal" : "exit",
                     WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), text);
    }
    if (!strstr(text, want))
        ck_abort_msg("%s:%d: stderr lacks [%.*s]; got [%s]", file, line,
                     (int)strlen(want) - 1, want, text);
}

/* ---- temp dirs and external programs -------------------------------------- */

char *make_tmpdir(const char *tag) {
    char *path = t_malloc(256);
    ck_assert_ptr_nonnull(path);
    snprintf(path, 256, "/tmp/hak_test_%s_XXXXXX", tag);
    ck_assert_msg(mkdtemp(path) != NULL, "mkdtemp: %s", strerror(errno));
    return path;
}

void remove_tree(const char *dir) {
    if (!dir || strncmp(dir, "/tmp/hak_test_", 14) != 0) return;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) { /* best effort */ }
}

int run_sh(const char *dir, int preload, const char *fmt, ...) {
    char body[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    size_t len = strlen(body) + strlen(dir) + 512;
    char *cmd = t_malloc(len);
    ck_assert_ptr_nonnull(cmd);
    snprintf(cmd, len, "unset HAKMEM_STATS; %s cd '%s' || exit 97\n%s\n",
             preload ? "LD_PRELOAD='" HAK_TEST_SO "'; export LD_PRELOAD;" : "unset LD_PRELOAD;",
             dir, body);
    int st = system(cmd);
    t_free(cmd);
    if (st == -1) return -1;
    if (WIFEXITED(st)) return WEXITSTATUS(st);
    if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
    return -1;
}

char *read_file_all(const char *path, size_t *len) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = t_malloc(cap + 1);
    for (;;) {
        if (n == cap) { cap *= 2; buf = t_realloc(buf, cap + 1); }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

int write_file_all(const char *path, const void *data, size_t len) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return -1;
    const char *p = data;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) { close(fd); return -1; }
        p += w; len -= (size_t)w;
    }
    return close(fd);
}

int files_equal(const char *a, const char *b) {
    size_t la, lb;
    char *da = read_file_all(a, &la), *db = read_file_all(b, &lb);
    int eq = da && db && la == lb && memcmp(da, db, la) == 0;
    t_free(da);
    t_free(db);
    return eq;
}

int file_contains(const char *path, const char *needle) {
    char *d = read_file_all(path, NULL);
    int r = d && strstr(d, needle) != NULL;
    t_free(d);
    return r;
}

size_t rss_bytes(void) {
    char *s = read_file_all("/proc/self/statm", NULL);
    ck_assert_ptr_nonnull(s);
    unsigned long size = 0, res = 0;
    ck_assert_int_eq(sscanf(s, "%lu %lu", &size, &res), 2);
    t_free(s);
    return (size_t)res * (size_t)sysconf(_SC_PAGESIZE);
}
