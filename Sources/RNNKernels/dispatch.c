// Chooses the kernels once, from cpuid (or RNND_KERNELS), for the life of the process.
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "RNNKernels.h"

#if defined(__x86_64__)
#include <cpuid.h>
extern const rk_kernels rk_kernels_avx2;
extern const rk_kernels rk_kernels_avx512;
#endif
extern const rk_kernels rk_kernels_portable;

static _Atomic(const rk_kernels *) active;
static _Atomic rk_path active_path;
static char reason[160];
static char cpu_name[96];

#if defined(__x86_64__)
/// XCR0: which register states the OS saves (AVX needs bits 1-2, AVX-512 also 5-7).
static unsigned long long xgetbv0(void) {
    unsigned int lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}
#endif

int rk_supported(rk_path path) {
    if (path == RK_PATH_PORTABLE) return 1;
#if defined(__x86_64__)
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    // F16C (half-float conversions) came with or before AVX2 on every Intel and AMD core.
    int osxsave = (c >> 27) & 1, fma = (c >> 12) & 1, avx = (c >> 28) & 1, f16c = (c >> 29) & 1;
    if (!osxsave || !avx || !fma || !f16c) return 0;
    unsigned long long xcr0 = xgetbv0();
    if ((xcr0 & 0x6) != 0x6) return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    int avx2 = (b >> 5) & 1, bmi2 = (b >> 8) & 1;
    if (path == RK_PATH_AVX2) return avx2 && bmi2;
    int f = (b >> 16) & 1, dq = (b >> 17) & 1, bw = (b >> 30) & 1, vl = (b >> 31) & 1;
    if (path == RK_PATH_AVX512) return avx2 && bmi2 && f && dq && bw && vl && (xcr0 & 0xE0) == 0xE0;
#endif
    return 0;
}

static const rk_kernels *table(rk_path path) {
#if defined(__x86_64__)
    if (path == RK_PATH_AVX512) return &rk_kernels_avx512;
    if (path == RK_PATH_AVX2) return &rk_kernels_avx2;
#endif
    return &rk_kernels_portable;
}

const rk_kernels *rk_table_for(rk_path path) { return rk_supported(path) ? table(path) : NULL; }

const char *rk_path_name(rk_path path) {
    switch (path) {
    case RK_PATH_AVX512: return "avx512";
    case RK_PATH_AVX2: return "avx2";
    default: return "portable";
    }
}

int rk_select(rk_path path) {
    if (!rk_supported(path)) return -1;
    atomic_store(&active_path, path);
    atomic_store(&active, table(path));
    return 0;
}

static void choose(void) {
    rk_path best = rk_supported(RK_PATH_AVX512) ? RK_PATH_AVX512
                   : rk_supported(RK_PATH_AVX2) ? RK_PATH_AVX2
                                                : RK_PATH_PORTABLE;
    const char *forced = getenv("RNND_KERNELS");
    if (forced && *forced) {
        rk_path wanted = RK_PATH_PORTABLE;
        int known = 1;
        if (strcmp(forced, "avx512") == 0) wanted = RK_PATH_AVX512;
        else if (strcmp(forced, "avx2") == 0) wanted = RK_PATH_AVX2;
        else if (strcmp(forced, "portable") != 0) known = 0;
        if (known && rk_supported(wanted)) {
            snprintf(reason, sizeof reason, "RNND_KERNELS=%s", forced);
            best = wanted;
        } else {
            snprintf(reason, sizeof reason, "cpuid (RNND_KERNELS=%s %s; use portable, avx2 or avx512)",
                     forced, known ? "is not supported by this CPU" : "is not a kernel path");
        }
    } else {
        snprintf(reason, sizeof reason, "cpuid");
    }
    rk_select(best);
}

const rk_kernels *rk_active(void) {
    const rk_kernels *k = atomic_load_explicit(&active, memory_order_acquire);
    if (k) return k;
    // Racing first calls choose the same path; the stores are idempotent.
    choose();
    return atomic_load(&active);
}

rk_path rk_active_path(void) {
    rk_active();
    return atomic_load(&active_path);
}

const char *rk_selection_reason(void) {
    rk_active();
    return reason;
}

/// Whether the CPU has AVX-512 VNNI (and the OS saves the AVX-512 state).
static int cpu_has_avx512_vnni(void) {
#if defined(__x86_64__)
    unsigned int a, b, c, d;
    if (!rk_supported(RK_PATH_AVX512) || !__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return (c >> 11) & 1;
#else
    return 0;
#endif
}

/// -1 until first asked; then 0 or 1.
static _Atomic int int8_vnni = -1;

int rk_int8_vnni(void) {
    int on = atomic_load(&int8_vnni);
    if (on >= 0) return on;
    const char *wanted = getenv("RNND_INT8_VNNI");
    int off = wanted && (strcasecmp(wanted, "off") == 0 || strcmp(wanted, "0") == 0 || strcasecmp(wanted, "false") == 0 ||
                         strcasecmp(wanted, "no") == 0);
    int unset = -1;
    // A concurrent rk_set_int8_vnni wins over the first look at the environment.
    atomic_compare_exchange_strong(&int8_vnni, &unset, cpu_has_avx512_vnni() && !off);
    return atomic_load(&int8_vnni);
}

int rk_set_int8_vnni(int on) {
    atomic_store(&int8_vnni, on && cpu_has_avx512_vnni());
    return rk_int8_vnni();
}

size_t rk_l2_bytes(void) {
    static _Atomic size_t cached;
    size_t bytes = atomic_load(&cached);
    if (bytes) return bytes;
    long reported = sysconf(_SC_LEVEL2_CACHE_SIZE);
    bytes = reported > 0 ? (size_t)reported : 256 * 1024;
    atomic_store(&cached, bytes);
    return bytes;
}

const char *rk_cpu_name(void) {
    if (cpu_name[0]) return cpu_name;
#if defined(__x86_64__)
    unsigned int regs[12];
    unsigned int max = __get_cpuid_max(0x80000000, NULL);
    if (max >= 0x80000004) {
        for (unsigned int i = 0; i < 3; i++)
            __get_cpuid(0x80000002 + i, &regs[4 * i], &regs[4 * i + 1], &regs[4 * i + 2], &regs[4 * i + 3]);
        char name[49];
        memcpy(name, regs, 48);
        name[48] = 0;
        const char *start = name;
        while (*start == ' ') start++;
        unsigned int a, b, c, d;
        __get_cpuid(1, &a, &b, &c, &d);
        unsigned int family = (a >> 8) & 0xF, model = (a >> 4) & 0xF;
        if (family == 0xF) family += (a >> 20) & 0xFF;
        if (family == 0x6 || family >= 0xF) model |= ((a >> 16) & 0xF) << 4;
        snprintf(cpu_name, sizeof cpu_name, "%s (family %u model %u)", start, family, model);
        return cpu_name;
    }
#endif
    snprintf(cpu_name, sizeof cpu_name, "unknown CPU");
    return cpu_name;
}
