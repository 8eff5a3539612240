/**
 * hak_options.h - the one table of HAKMEM_* environment variables.
 *
 * Read once, at the first allocation (hak_options_init, under the init lock),
 * with getenv + a hand-written parser (neither allocates).  Documented in README.md.
 */
#ifndef HAK_OPTIONS_H
#define HAK_OPTIONS_H

typedef enum hak_option_id {
    HAK_OPT_SMALLMID_ENABLE = 0,  /* HAKMEM_SMALLMID_ENABLE */
    HAK_OPT_STATS,                /* HAKMEM_STATS           */
    HAK_OPT_LARGE_CACHE,          /* HAKMEM_LARGE_CACHE     */
    HAK_OPT_SS_WARM,              /* HAKMEM_SS_WARM         */
    HAK_OPT_SS_PREWARM,           /* HAKMEM_SS_PREWARM      */
    HAK_OPT_SS_HUGEPAGE,          /* HAKMEM_SS_HUGEPAGE     */
    HAK_OPT_TINY_CACHE,           /* HAKMEM_TINY_CACHE      */
    HAK_OPT_MID_WARM,             /* HAKMEM_MID_WARM        */
    HAK_OPT_LARGE_PURGE_MS,       /* HAKMEM_LARGE_PURGE_MS  */
    HAK_OPT_COUNT
} hak_option_id;

typedef struct hak_option_desc {
    const char *name;
    long def, min, max;
    const char *doc;
} hak_option_desc;

extern const hak_option_desc hak_option_table[HAK_OPT_COUNT];
extern long g_hak_options[HAK_OPT_COUNT];

void hak_options_init(void);
static inline long hak_option(hak_option_id id) { return g_hak_options[id]; }

#endif /* HAK_OPTIONS_H */
