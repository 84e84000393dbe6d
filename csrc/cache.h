/*
 * cache.h: the data caches of this machine, read at run time, and the matrix product's
 * cache blocks derived from them (internal).
 */
#ifndef FASTMLP_CACHE_H
#define FASTMLP_CACHE_H

#include <stddef.h>

/* Where the numbers of one cache level came from. */
typedef enum fm_cache_source {
    FM_CACHE_DEFAULT = 0, /* neither source answered: FM_CACHE_DEFAULT_* below */
    FM_CACHE_SYSFS = 1,   /* Linux: /sys/devices/system/cpu/cpu0/cache/index* */
    FM_CACHE_CPUID = 2    /* x86: CPUID leaf 4 (Intel) or 0x8000001D (AMD) */
} fm_cache_source;

/* Sizes assumed for a level that no source reports. */
#define FM_CACHE_DEFAULT_L1D (32 * 1024)
#define FM_CACHE_DEFAULT_L2 (512 * 1024)
#define FM_CACHE_DEFAULT_L3 (8 * 1024 * 1024)
#define FM_CACHE_DEFAULT_WAYS 8
#define FM_CACHE_DEFAULT_LINE 64

/* One level of data (or unified) cache. */
typedef struct fm_cache_level {
    long long bytes; /* capacity, of the whole cache (all the CPUs sharing it) */
    int ways;        /* associativity: lines per set */
    int line;        /* bytes per line */
    int sharing;     /* logical CPUs sharing this cache, >= 1 */
    int source;      /* an fm_cache_source */
} fm_cache_level;

typedef struct fm_cache_info {
    fm_cache_level l1d, l2, l3;
} fm_cache_info;

/* The caches of this machine, read once per process (thread-safe); never NULL. */
const fm_cache_info *fm_cache(void);

/*
 * Read the caches now: each level from the sysfs folder `sysfs` (holding index0, index1,
 * ...; NULL skips it), else from CPUID when `cpuid` is not 0 (and the CPU is x86), else
 * the defaults.  fm_cache() is fm_cache_read("/sys/devices/system/cpu/cpu0/cache", 1, .).
 */
void fm_cache_read(const char *sysfs, int cpuid, fm_cache_info *out);

/* The blocking of the matrix product (gemm.template.h): C in blocks of mc rows (a
   multiple of MR) by nc columns (a multiple of NR), K in blocks of at most kc. */
typedef struct fm_gemm_blocks {
    ptrdiff_t mc, nc, kc;
} fm_gemm_blocks;

/* The blocks for caches c, elements of `elem` bytes and an mr x nr register tile, by the
   analytical model written out in cache.c; kc is at most FM_GEMM_KC. */
fm_gemm_blocks fm_gemm_blocks_for(const fm_cache_info *c, size_t elem, ptrdiff_t mr, ptrdiff_t nr);

#endif
