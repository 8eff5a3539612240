/**
 * test_realprog.c - real programs run with LD_PRELOAD=HAK_TEST_SO must produce
 * exactly what they produce without it.  HAKMEM_SMALLMID_ENABLE is inherited
 * from the environment (both modes); HAKMEM_STATS is unset in every run.
 */
#include "test_util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void path_join(char *out, size_t sz, const char *dir, const char *name) {
    snprintf(out, sz, "%s/%s", dir, name);
}

static void assert_same(const char *dir, const char *a, const char *b) {
    char pa[512], pb[512];
    path_join(pa, sizeof pa, dir, a);
    path_join(pb, sizeof pb, dir, b);
    size_t la = 0, lb = 0;
    char *da = read_file_all(pa, &la), *db = read_file_all(pb, &lb);
    ck_assert_msg(da != NULL && db != NULL, "missing output %s or %s", pa, pb);
    ck_assert_msg(la > 0, "empty output %s", pa);
    ck_assert_msg(la == lb && memcmp(da, db, la) == 0,
                  "%s (%zu bytes) differs from %s (%zu bytes)", pa, la, pb, lb);
    free(da);
    free(db);
}

static void gen_text(const char *path, size_t bytes, uint64_t seed) {
    static const char *words[] = { "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta",
                                   "theta", "iota", "kappa", "lambda", "mu", "nu", "xi",
                                   "omicron", "pi", "rho", "sigma", "tau", "upsilon" };
    char *buf = malloc(bytes + 256);
    ck_assert_ptr_nonnull(buf);
    size_t n = 0;
    uint64_t rs = seed;
    while (n < bytes) {
        int nw = 1 + (int)(rng_next(&rs) % 8);
        for (int w = 0; w < nw; w++) {
            const char *s = words[rng_next(&rs) % 20];
            n += (size_t)sprintf(buf + n, "%s%s%llu", w ? " " : "", s,
                                 (unsigned long long)(rng_next(&rs) % 100000));
        }
        buf[n++] = '\n';
    }
    ck_assert_int_eq(write_file_all(path, buf, n), 0);
    free(buf);
}

START_TEST(test_preload_used) {
    char *dir = make_tmpdir("used");
    int rc = run_sh(dir, 1, "HAKMEM_STATS=1 python3 -c 'print(sum(len(str(i)) for i in range(10000)))' > out 2> err");
    ck_assert_int_eq(rc, 0);
    char p[512];
    path_join(p, sizeof p, dir, "err");
    ck_assert_msg(file_contains(p, "=== hakmem statistics"),
                  "python3 under LD_PRELOAD did not print the hakmem report");
    path_join(p, sizeof p, dir, "out");
    ck_assert(file_contains(p, "38890"));
    remove_tree(dir);
    free(dir);
}
END_TEST

static const char k_py[] =
    "import json, hashlib, random\n"
    "random.seed(12345)\n"
    "d = {}\n"
    "for i in range(60000):\n"
    "    k = 'key%d_%s' % (i, 'x' * (i % 37))\n"
    "    d[k] = [random.randint(0, 10**9) for _ in range(i % 11)]\n"
    "lst = sorted(d.items(), key=lambda kv: (sum(kv[1]), kv[0]))\n"
    "s = ''.join(k[:3] for k, _ in lst[:5000])\n"
    "words = [('w%d' % random.randint(0, 5000)) * random.randint(1, 40) for _ in range(40000)]\n"
    "words.sort()\n"
    "big = {'d': d, 'words': words[:20000], 'nested': [{'i': i, 's': str(i) * (i % 300)} for i in range(3000)]}\n"
    "text = json.dumps(big, sort_keys=True)\n"
    "back = json.loads(text)\n"
    "assert back == big\n"
    "del d['key0_']\n"
    "parts = text.split(',')\n"
    "joined = '|'.join(reversed(parts))\n"
    "h = hashlib.sha256()\n"
    "h.update(text.encode()); h.update(joined.encode()); h.update(s.encode())\n"
    "print(len(d), len(lst), len(words), len(text), len(parts))\n"
    "print(h.hexdigest())\n";

START_TEST(test_python) {
    char *dir = make_tmpdir("py");
    char p[512];
    path_join(p, sizeof p, dir, "work.py");
    ck_assert_int_eq(write_file_all(p, k_py, strlen(k_py)), 0);
    for (int pre = 0; pre <= 1; pre++)
        ck_assert_int_eq(run_sh(dir, pre, "PYTHONHASHSEED=0 python3 work.py > out%d 2> err%d", pre, pre), 0);
    assert_same(dir, "out0", "out1");
    remove_tree(dir);
    free(dir);
}
END_TEST

static void gen_repo(const char *dir) {
    char p[512];
    uint64_t rs = 0xabcdef12345ULL;
    for (int d = 0; d < 10; d++) {
        snprintf(p, sizeof p, "%s/src/dir%02d", dir, d);
        ck_assert_int_eq(mkdir(p, 0755) == 0 || errno == EEXIST, 1);
        for (int f = 0; f < 30; f++) {
            snprintf(p, sizeof p, "%s/src/dir%02d/file%03d.txt", dir, d, f);
            size_t n = 200 + rng_next(&rs) % 6000;
            char *buf = malloc(n);
            for (size_t i = 0; i < n; i++) buf[i] = (i % 64 == 63) ? '\n' : (char)('a' + rng_next(&rs) % 26);
            ck_assert_int_eq(write_file_all(p, buf, n), 0);
            free(buf);
        }
    }
}

START_TEST(test_git) {
    char *dir = make_tmpdir("git");
    char p[512];
    snprintf(p, sizeof p, "%s/src", dir);
    ck_assert_int_eq(mkdir(p, 0755), 0);
    gen_repo(dir);
    for (int pre = 0; pre <= 1; pre++) {
        int rc = run_sh(dir, pre,
            "export HOME=\"$PWD\" GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_DATE='2020-01-02T03:04:05Z' "
            "GIT_COMMITTER_DATE='2020-01-02T03:04:05Z' LC_ALL=C\n"
            "G='git -c user.name=Tester -c user.email=t@example.com -c init.defaultBranch=main "
            "-c core.autocrlf=false -c gc.auto=0'\n"
            "set -e\n"
            "mkdir repo%d && cp -r src/. repo%d/ && cd repo%d\n"
            "$G init -q\n"
            "$G add -A\n"
            "$G commit -q -m first\n"
            "for i in 01 03 05 07; do echo change$i >> dir$i/file001.txt; rm dir$i/file002.txt; done\n"
            "mkdir newdir && echo new > newdir/a.txt\n"
            "$G add -A\n"
            "$G commit -q -m second\n"
            "$G tag v1\n"
            "$G log --format=%%H > ../log%d\n"
            "$G ls-files | wc -l > ../count%d\n"
            "$G diff --stat HEAD~1 HEAD > ../diff%d\n"
            "$G gc -q\n"
            "$G fsck --full --no-progress 2> ../fsck%d\n"
            "$G rev-parse HEAD^{tree} >> ../log%d\n",
            pre, pre, pre, pre, pre, pre, pre, pre);
        ck_assert_msg(rc == 0, "git script (preload=%d) exited %d", pre, rc);
    }
    assert_same(dir, "log0", "log1");
    assert_same(dir, "count0", "count1");
    assert_same(dir, "diff0", "diff1");
    snprintf(p, sizeof p, "%s/count1", dir);
    ck_assert(file_contains(p, "297"));       /* 300 - 4 removed + 1 new */
    remove_tree(dir);
    free(dir);
}
END_TEST

START_TEST(test_sort) {
    char *dir = make_tmpdir("sort");
    char p[512];
    path_join(p, sizeof p, dir, "in.txt");
    gen_text(p, 6u << 20, 777);
    for (int pre = 0; pre <= 1; pre++) {
        ck_assert_int_eq(run_sh(dir, pre,
            "export LC_ALL=C\n"
            "sort --parallel=2 -S 8M in.txt > sorted%d || exit 1\n"
            "sort -t ' ' -k2,2 -k1,1r in.txt | sort -u | wc -l > uniq%d\n"
            "awk '{ n[$2]++; w += NF } END { for (k in n) print k, n[k]; print \"words\", w }' in.txt"
            " | sort > awk%d\n", pre, pre, pre), 0);
    }
    assert_same(dir, "sorted0", "sorted1");
    assert_same(dir, "uniq0", "uniq1");
    assert_same(dir, "awk0", "awk1");
    remove_tree(dir);
    free(dir);
}
END_TEST

static const char k_ca[] =
    "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n#include \"h.h\"\n"
    "int main(void) {\n"
    "    struct node *root = NULL;\n"
    "    for (int i = 0; i < 20000; i++) root = tree_insert(root, (i * 7919) % 20011);\n"
    "    char *s = make_string(5000);\n"
    "    printf(\"%d %lu %zu\\n\", tree_height(root), tree_sum(root), strlen(s));\n"
    "    printf(\"%u\\n\", checksum(s, strlen(s)));\n"
    "    free(s); tree_free(root);\n"
    "    return 0;\n}\n";
static const char k_cb[] =
    "#include <stdlib.h>\n#include \"h.h\"\n"
    "struct node *tree_insert(struct node *t, int k) {\n"
    "    if (!t) { t = calloc(1, sizeof *t); t->key = k; return t; }\n"
    "    if (k < t->key) t->l = tree_insert(t->l, k); else t->r = tree_insert(t->r, k);\n"
    "    return t;\n}\n"
    "int tree_height(const struct node *t) { if (!t) return 0;\n"
    "    int a = tree_height(t->l), b = tree_height(t->r); return 1 + (a > b ? a : b); }\n"
    "unsigned long tree_sum(const struct node *t) { return t ? (unsigned long)t->key + tree_sum(t->l) + tree_sum(t->r) : 0; }\n"
    "void tree_free(struct node *t) { if (t) { tree_free(t->l); tree_free(t->r); free(t); } }\n";
static const char k_cc[] =
    "#include <stdlib.h>\n#include <string.h>\n#include \"h.h\"\n"
    "char *make_string(int n) {\n"
    "    char *s = malloc(1); s[0] = 0; size_t len = 0;\n"
    "    for (int i = 0; i < n; i++) { s = realloc(s, len + 4); s[len++] = (char)('a' + i % 26); s[len] = 0; }\n"
    "    return s;\n}\n"
    "unsigned checksum(const char *s, size_t n) { unsigned h = 2166136261u;\n"
    "    for (size_t i = 0; i < n; i++) { h ^= (unsigned char)s[i]; h *= 16777619u; } return h; }\n";
static const char k_h[] =
    "#include <stddef.h>\n"
    "struct node { int key; struct node *l, *r; };\n"
    "struct node *tree_insert(struct node *t, int k);\n"
    "int tree_height(const struct node *t);\n"
    "unsigned long tree_sum(const struct node *t);\n"
    "void tree_free(struct node *t);\n"
    "char *make_string(int n);\n"
    "unsigned checksum(const char *s, size_t n);\n";

START_TEST(test_gcc) {
    char *dir = make_tmpdir("gcc");
    char p[512];
    path_join(p, sizeof p, dir, "a.c"); ck_assert_int_eq(write_file_all(p, k_ca, strlen(k_ca)), 0);
    path_join(p, sizeof p, dir, "b.c"); ck_assert_int_eq(write_file_all(p, k_cb, strlen(k_cb)), 0);
    path_join(p, sizeof p, dir, "c.c"); ck_assert_int_eq(write_file_all(p, k_cc, strlen(k_cc)), 0);
    path_join(p, sizeof p, dir, "h.h"); ck_assert_int_eq(write_file_all(p, k_h, strlen(k_h)), 0);
    for (int pre = 0; pre <= 1; pre++) {
        ck_assert_int_eq(run_sh(dir, pre,
            "set -e\n"
            "gcc -O2 -Wall -o prog%d a.c b.c c.c\n"
            "gcc -O2 -S -o b%d.s b.c\n"
            "./prog%d > run%d\n", pre, pre, pre, pre), 0);
    }
    assert_same(dir, "run0", "run1");
    assert_same(dir, "b0.s", "b1.s");
    /* and each binary run the other way round */
    ck_assert_int_eq(run_sh(dir, 1, "./prog0 > run0p"), 0);
    ck_assert_int_eq(run_sh(dir, 0, "./prog1 > run1n"), 0);
    assert_same(dir, "run0", "run0p");
    assert_same(dir, "run0", "run1n");
    remove_tree(dir);
    free(dir);
}
END_TEST

START_TEST(test_xz) {
    char *dir = make_tmpdir("xz");
    char p[512];
    path_join(p, sizeof p, dir, "data");
    gen_text(p, 6u << 20, 4242);
    for (int pre = 0; pre <= 1; pre++) {
        ck_assert_int_eq(run_sh(dir, pre,
            "set -e\n"
            "xz -T2 --block-size=1MiB -6 -c data > data%d.xz\n"
            "xz -T2 -d -c data%d.xz > out%d\n", pre, pre, pre), 0);
    }
    assert_same(dir, "data", "out0");
    assert_same(dir, "data", "out1");
    /* cross: what the preloaded xz wrote, plain xz reads, and the reverse */
    ck_assert_int_eq(run_sh(dir, 0, "xz -d -c data1.xz > cross1"), 0);
    ck_assert_int_eq(run_sh(dir, 1, "xz -T2 -d -c data0.xz > cross0"), 0);
    assert_same(dir, "data", "cross1");
    assert_same(dir, "data", "cross0");
    assert_same(dir, "data0.xz", "data1.xz");
    remove_tree(dir);
    free(dir);
}
END_TEST

Suite *realprog_suite(void) {
    Suite *s = suite_create("realprog");
    TCase *tc = tcase_create("ld_preload");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_preload_used);
    tcase_add_test(tc, test_python);
    tcase_add_test(tc, test_git);
    tcase_add_test(tc, test_sort);
    tcase_add_test(tc, test_gcc);
    tcase_add_test(tc, test_xz);
    suite_add_tcase(s, tc);
    return s;
}
