/*
 * cache.c: the data caches of this machine (see cache.h), and the matrix product's cache
 * blocks derived from them.
 *
 * Each level comes from the first source that reports it: Linux's sysfs, then CPUID, then
 * a default.  (glibc's sysconf(_SC_LEVEL1_DCACHE_SIZE) is not asked: it is glibc's alone,
 * and often 0 or the whole package's size in a virtual machine.)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "internal.h"

#if FM_HAVE_X86_PATHS
#include <cpuid.h>
#endif

/* The level a cache of `type` ("Data", "Unified", ...) at `level` fills, or NULL. */
static fm_cache_level *slot_for(fm_cache_info *out, int level, int data, int unified)
{
    if (level == 1 && data) return &out->l1d;
    if (level == 2 && (data || unified)) return &out->l2;
    if (level == 3 && (data || unified)) return &out->l3;
    return NULL;
}

/* --- sysfs ------------------------------------------------------------------------------- */

/* The first line of <dir>/index<i>/<name> into buf (newline dropped); 0 when unreadable. */
static int read_entry(const char *dir, int i, const char *name, char *buf, int size)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/index%d/%s", dir, i, name) >= (int)sizeof path) return 0;
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int ok = fgets(buf, size, f) != NULL;
    fclose(f);
    if (ok) buf[strcspn(buf, "\r\n")] = '\0';
    return ok;
}

/* A number as sysfs writes it ("48K", "1024K", "64"), in units; -1 when unreadable. */
static long long read_number(const char *dir, int i, const char *name)
{
    char buf[64], *end;
    if (!read_entry(dir, i, name, buf, sizeof buf)) return -1;
    long long v = strtoll(buf, &end, 10);
    if (end == buf || v < 0) return -1;
    switch (*end) {
    case 'K': return v << 10;
    case 'M': return v << 20;
    case 'G': return v << 30;
    default: return v;
    }
}

/* How many CPUs a list such as "0-3,8,10-11" names (0 when it cannot be read). */
static int count_cpu_list(const char *s)
{
    int count = 0;
    while (*s) {
        char *end;
        long first = strtol(s, &end, 10), last = first;
        if (end == s) return 0;
        if (*end == '-') {
            s = end + 1;
            last = strtol(s, &end, 10);
            if (end == s || last < first) return 0;
        }
        count += (int)(last - first + 1);
        s = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') return 0;
    }
    return count;
}

static void from_sysfs(const char *dir, fm_cache_info *out)
{
    for (int i = 0; i < 32; i++) {
        char type[32], cpus[1024];
        long long level = read_number(dir, i, "level"), bytes = read_number(dir, i, "size");
        if (level < 0 || !read_entry(dir, i, "type", type, sizeof type)) break;
        fm_cache_level *c = slot_for(out, (int)level, strcmp(type, "Data") == 0,
                                     strcmp(type, "Unified") == 0);
        if (!c || c->bytes > 0 || bytes <= 0) continue;
        long long ways = read_number(dir, i, "ways_of_associativity");
        long long line = read_number(dir, i, "coherency_line_size");
        int sharing = read_entry(dir, i, "shared_cpu_list", cpus, sizeof cpus) ? count_cpu_list(cpus) : 0;
        *c = (fm_cache_level){.bytes = bytes, .ways = ways > 0 && ways < 1024 ? (int)ways : 0,
                              .line = line > 0 && line < 4096 ? (int)line : 0,
                              .sharing = sharing, .source = FM_CACHE_SYSFS};
    }
}

/* --- CPUID ------------------------------------------------------------------------------- */

#if FM_HAVE_X86_PATHS
/* The deterministic cache parameters: leaf 4 on Intel, 0x8000001D on AMD (each CPU
   answers the other's leaf with no caches).  Per subleaf: EAX[4:0] the type (1 data,
   3 unified, 0 no more), EAX[7:5] the level, EAX[25:14] + 1 the logical CPUs sharing it;
   EBX[31:22] + 1 ways, EBX[21:12] + 1 partitions, EBX[11:0] + 1 line bytes; ECX + 1 sets. */
static void from_cpuid(fm_cache_info *out)
{
    static const unsigned leaves[] = {4, 0x8000001D};
    for (int l = 0; l < 2; l++) {
        for (unsigned sub = 0; sub < 16; sub++) {
            unsigned a, b, c, d;
            if (!__get_cpuid_count(leaves[l], sub, &a, &b, &c, &d) || (a & 31) == 0) break;
            fm_cache_level *slot = slot_for(out, (a >> 5) & 7, (a & 31) == 1, (a & 31) == 3);
            if (!slot || slot->bytes > 0) continue;
            long long ways = (b >> 22) + 1, partitions = ((b >> 12) & 0x3ff) + 1,
                      line = (b & 0xfff) + 1, sets = (long long)c + 1;
            *slot = (fm_cache_level){.bytes = ways * partitions * line * sets, .ways = (int)ways,
                                     .line = (int)line, .sharing = (int)((a >> 14) & 0xfff) + 1,
                                     .source = FM_CACHE_CPUID};
        }
    }
}
#endif

/* --- reading ----------------------------------------------------------------------------- */

/* A level nobody reported gets the default size; unknown details get defaults too. */
static void complete(fm_cache_level *c, long long default_bytes)
{
    if (c->bytes <= 0) *c = (fm_cache_level){.bytes = default_bytes, .source = FM_CACHE_DEFAULT};
    if (c->ways <= 0) c->ways = FM_CACHE_DEFAULT_WAYS;
    if (c->line <= 0) c->line = FM_CACHE_DEFAULT_LINE;
    if (c->sharing <= 0) c->sharing = 1;
}

void fm_cache_read(const char *sysfs, int cpuid, fm_cache_info *out)
{
    memset(out, 0, sizeof *out);
    if (sysfs) from_sysfs(sysfs, out);
#if FM_HAVE_X86_PATHS
    if (cpuid) from_cpuid(out);
#else
    (void)cpuid;
#endif
    complete(&out->l1d, FM_CACHE_DEFAULT_L1D);
    complete(&out->l2, FM_CACHE_DEFAULT_L2);
    complete(&out->l3, FM_CACHE_DEFAULT_L3);
}

static fm_cache_info machine;
static pthread_once_t machine_once = PTHREAD_ONCE_INIT;

static void read_machine(void) { fm_cache_read("/sys/devices/system/cpu/cpu0/cache", 1, &machine); }

const fm_cache_info *fm_cache(void)
{
    pthread_once(&machine_once, read_machine);
    return &machine;
}

/* --- blocks ------------------------------------------------------------------------------ */

/* The largest block of B any product packs, whatever the L3: a packing buffer per thread. */
#define FM_GEMM_B_BYTES_MAX ((long long)8 << 20)
/* A K block shorter than this would spend its time loading and storing C's tile. */
#define FM_GEMM_KC_MIN 16

/*
 * The analytical model of BLIS (T. M. Low, F. D. Igual, T. M. Smith, E. S. Quintana-Orti,
 * "Analytical modeling is enough for high-performance BLIS", ACM TOMS 43(2), 2016): the
 * micro-kernel keeps an mr x nr tile of C in registers and multiplies an mr x kc
 * micro-panel of A by a kc x nr micro-panel of B.
 *   kc: B's micro-panel stays in L1 while A's micro-panels stream through it.  With W
 *       ways of w bytes each, A's panel takes ceil(kc mr e / w) ways and B's
 *       ceil(kc nr e / w), and one way of every set stays free for C's tile, so that a
 *       line of A, the least recently used, is what the cache evicts: the largest kc with
 *       ways(A) + ways(B) <= W - 1.  (The paper fixes ways(A) at floor((W - 1) /
 *       (1 + nr / mr)), which for a wide nr leaves ways unused.)
 *   mc: the mc x kc block of A, read once per micro-panel of B, fills half of L2 (the
 *       other half: B's micro-panels and C's tiles passing through).
 *   nc: the kc x nc block of B fills half of this CPU's share of L3 (at most
 *       FM_GEMM_B_BYTES_MAX, the largest packing buffer worth holding per thread).
 */
fm_gemm_blocks fm_gemm_blocks_for(const fm_cache_info *c, size_t elem, ptrdiff_t mr, ptrdiff_t nr)
{
    const long long ways = c->l1d.ways, way_bytes = c->l1d.bytes / ways;
    const long long a_per_k = mr * (long long)elem, b_per_k = nr * (long long)elem;
    long long kc = 0;
    for (long long a_ways = 1; a_ways <= ways - 2; a_ways++) {
        const long long b_ways = ways - 1 - a_ways;
        const long long by_a = a_ways * way_bytes / a_per_k, by_b = b_ways * way_bytes / b_per_k;
        const long long k = by_a < by_b ? by_a : by_b;
        if (k > kc) kc = k;
    }
    if (kc == 0) kc = c->l1d.bytes / 2 / (a_per_k + b_per_k); /* fewer than 3 ways */
    kc = kc > FM_GEMM_KC ? FM_GEMM_KC : kc < FM_GEMM_KC_MIN ? FM_GEMM_KC_MIN : kc;

    const long long column_bytes = kc * (long long)elem; /* one row of A's block, one column of B's */
    long long mc = c->l2.bytes / 2 / column_bytes / mr * mr;
    long long b_bytes = c->l3.bytes / c->l3.sharing / 2;
    if (b_bytes > FM_GEMM_B_BYTES_MAX) b_bytes = FM_GEMM_B_BYTES_MAX;
    long long nc = b_bytes / column_bytes / nr * nr;
    return (fm_gemm_blocks){.mc = mc > mr ? (ptrdiff_t)mc : mr, .nc = nc > nr ? (ptrdiff_t)nc : nr,
                            .kc = (ptrdiff_t)kc};
}
