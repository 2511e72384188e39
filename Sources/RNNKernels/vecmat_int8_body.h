// ---- bytes times bytes (int8 sampling) ----
//
// Included by kernels_body.h after gemm_body.h. B's weights are signed bytes (±127), laid out
// by `k_int8_pack` in groups of four rows; each row of x is rounded to signed bytes (its
// largest magnitude to ±127), and the products are summed exactly in 32-bit integers.
// Integer sums do not depend on their order: any tile of rows, any split of columns, every
// path (AVX-512 with or without VNNI, AVX2, SSE2, plain C) gives the same sums, hence the
// same floats, so a seeded sample's text does not depend on what else is in its batch.
//
// Where the CPU has AVX-512 VNNI, `vpdpbusd` multiplies 64 pairs of bytes per instruction
// (unsigned times signed: B's bytes are stored plus 128, unsigned, and 128·Σx̂ comes off
// each row's sums); elsewhere the bytes are widened to 16 bits and summed by `pmaddwd`
// (vecmat_int8_products.h, compiled once per variant).

/// The largest finite float.
#define I8_FINITE 3.40282347e38f

/// The largest magnitude a row of x is rounded to.
#define I8_LIMIT 127

/// Rows of B padded to a multiple of 8 (whole groups of four; the padding's bytes mean 0).
static long i8_padded_rows(long k) { return (k + 7) / 8 * 8; }

/// Columns of one block of B's layout: a register tile's (two AVX-512 vectors), so that
/// what a tile reads is contiguous.
#define I8_BLOCK 32

/// Where column `j` of group `g` (rows 4g to 4g+3) of B lies, for `kp` padded rows: blocks of
/// I8_BLOCK columns one after another, each `kp / 4` groups of I8_BLOCK elements. Column
/// `j` (a multiple of I8_BLOCK) of a matrix starts at `k_int8_packed_size(k, j)`.
#define I8_AT(kp, g, j) (((j) / I8_BLOCK) * ((kp) / 4) * I8_BLOCK + (g) * I8_BLOCK + (j) % I8_BLOCK)

/// 32-bit elements of B laid out by `k_int8_pack` for a `k x n` matrix: one per column
/// (`n` rounded up to a whole block) per group of four rows.
static long k_int8_packed_size(long k, long n) {
    return i8_padded_rows(k) / 4 * ((n + I8_BLOCK - 1) / I8_BLOCK * I8_BLOCK);
}

/// Lays out the signed bytes of B (`k x n`, leading dimension `ldb`, each within ±127: the
/// sums' bound assumes it) for `k_vecmat_many_int8`: rows in groups of four, each 32-bit
/// element holding one column's four bytes (row 4i's lowest), each byte stored plus 128 as
/// an unsigned byte, in blocks of I8_BLOCK columns (`I8_AT`); zero rows pad `k` to a
/// multiple of 8, zero columns the last block. Tiles of 8 rows read 16 x 512 x 2048 in 72 us
/// this way, 102 us from groups `n` elements apart (8 KB strides defeat the prefetchers).
static void k_int8_pack(long k, long n, const int8_t *b, long ldb, uint32_t *out) {
    long kp = i8_padded_rows(k), np = (n + I8_BLOCK - 1) / I8_BLOCK * I8_BLOCK;
    for (long i = 0; i < kp; i += 4)
        for (long j = 0; j < np; j++) {
            uint32_t quad = 0;
            for (int u = 0; u < 4; u++) {
                int value = i + u < k && j < n ? b[(i + u) * ldb + j] : 0;
                quad |= (uint32_t)(uint8_t)(value + 128) << (8 * u);
            }
            out[I8_AT(kp, i / 4, j)] = quad;
        }
}

/// Rounds `v = x·s` (`k` floats, elementwise; `x` itself when `s` is NULL) to signed bytes
/// in `q` (`kp`, zero past `k`) at `I8_LIMIT / max|v|`, their sum in `*total`, and returns
/// what the sums of products are worth per unit: `max|v| / I8_LIMIT`; 0 when v is all zero,
/// NaN (with `q` zero) when an element is not finite, so that the product is NaN as a float
/// one would be.
static float i8_quantize(long k, long kp, const float *x, const float *s, int8_t *q, int32_t *total) {
    // NaN fails `<=` (and `max` passes it over): `bad` catches what `largest` would not.
    const vf finiteLimit = splat(I8_FINITE);
    vf most = splat(0);
    vi bad = (vi){0};
    long i = 0;
    for (; i + W <= k; i += W) {
        vf a = __builtin_elementwise_abs(s ? ld(x + i) * ld(s + i) : ld(x + i));
        bad |= ~(vi)(a <= finiteLimit);
        most = __builtin_elementwise_max(most, a);
    }
    float largest = 0;
    int finite = 1;
    for (int lane = 0; lane < W; lane++) {
        finite &= bad[lane] == 0;
        largest = most[lane] > largest ? most[lane] : largest;
    }
    for (; i < k; i++) {
        float a = __builtin_fabsf(s ? x[i] * s[i] : x[i]);
        finite &= a <= I8_FINITE;
        largest = a > largest ? a : largest;
    }
    *total = 0;
    memset(q, 0, (size_t)kp);
    if (!finite || largest == 0) return finite ? 0 : __builtin_nanf("");
    float inverse = (float)I8_LIMIT / largest;
    // Below about 4e-37 the factor overflows; inputs that small contribute nothing a float
    // sum would keep either, and rounding infinities to integers is undefined.
    if (!(inverse <= I8_FINITE)) return 0;
    // Vectors, then the tail one at a time: the same product and rounding (to nearest, ties
    // to even, whatever the rounding mode) for every element.
    vi sums = (vi){0};
    for (i = 0; i + W <= k; i += W) {
        vf v = s ? ld(x + i) * ld(s + i) * inverse : ld(x + i) * inverse;
        typedef int8_t vb __attribute__((vector_size(W)));
        vi rounded = __builtin_convertvector(__builtin_elementwise_roundeven(v), vi);
        sums += rounded;
        vb narrow = __builtin_convertvector(rounded, vb);
        memcpy(q + i, &narrow, sizeof narrow);
    }
    int32_t sum = 0;
    for (int lane = 0; lane < W; lane++) sum += sums[lane];
    for (; i < k; i++) {
        q[i] = (int8_t)__builtin_roundevenf(s ? x[i] * s[i] * inverse : x[i] * inverse);
        sum += q[i];
    }
    *total = sum;
    return largest / (float)I8_LIMIT;
}

/// `y = scale·sums + beta·y` for one column, one rounding per operation (never fused).
static inline float i8_finish(int32_t sum, float scale, float beta, float y) {
#pragma clang fp contract(off)
    float t = scale * (float)sum;
    return beta == 0 ? t : beta == 1 ? y + t : beta * y + t;
}

/// `i8_finish` for the W columns of a vector of sums at `y`: each lane the same operations,
/// so the same bits whichever columns are vectors.
static inline void i8_finish_lanes(vi sums, float scale, float beta, float *y) {
#pragma clang fp contract(off)
    vf t = splat(scale) * __builtin_convertvector(sums, vf);
    if (beta != 0) t = beta == 1 ? ld(y) + t : splat(beta) * ld(y) + t;
    st(y, t);
}

/// Rows of x that go through B together: the weights loaded once serve them all.
#if W == 16
#define I8_RB 8
#else
#define I8_RB 4
#endif

/// `switch (rb)` over every row count of a tile, 1 to I8_RB, each case `CALL(count)`: the
/// tile functions inline with their row count a constant.
#if I8_RB == 8
#define I8_SWITCH_ROWS(rb, CALL)                                                              \
    switch (rb) {                                                                             \
    case 1: CALL(1); break;                                                                   \
    case 2: CALL(2); break;                                                                   \
    case 3: CALL(3); break;                                                                   \
    case 4: CALL(4); break;                                                                   \
    case 5: CALL(5); break;                                                                   \
    case 6: CALL(6); break;                                                                   \
    case 7: CALL(7); break;                                                                   \
    default: CALL(8); break;                                                                  \
    }
#else
#define I8_SWITCH_ROWS(rb, CALL)                                                              \
    switch (rb) {                                                                             \
    case 1: CALL(1); break;                                                                   \
    case 2: CALL(2); break;                                                                   \
    case 3: CALL(3); break;                                                                   \
    default: CALL(4); break;                                                                  \
    }
#endif

/// 2W 16-bit integers: the bytes of W/2 columns' groups widened, or x's four bytes repeated.
typedef int16_t vw __attribute__((vector_size(W * 4)));
/// W/2 64-bit lanes, to repeat four 16-bit integers.
typedef int64_t vl __attribute__((vector_size(W * 4)));

/// The groups of W columns at `p` (4W bytes, each stored plus 128) widened to 16 bits as
/// they are stored: the first W/2 columns' four bytes each in `lo`, the last W/2's in `hi`.
static inline void i8_widen_quads(const uint32_t *p, vw *lo, vw *hi) {
#if W == 16 && defined(RK_MASKED_AVX512)
    __m512i v = _mm512_loadu_si512(p);
    *lo = (vw)_mm512_cvtepu8_epi16(_mm512_castsi512_si256(v));
    *hi = (vw)_mm512_cvtepu8_epi16(_mm512_extracti64x4_epi64(v, 1));
#elif W == 8 && defined(RK_MASKED_AVX2)
    *lo = (vw)_mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)p));
    *hi = (vw)_mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(p + 4)));
#elif W == 4 && defined(__SSE2__)
    __m128i v = _mm_loadu_si128((const __m128i *)p), zero = _mm_setzero_si128();
    *lo = (vw)_mm_unpacklo_epi8(v, zero);
    *hi = (vw)_mm_unpackhi_epi8(v, zero);
#else
    uint8_t bytes[4 * W];
    memcpy(bytes, p, sizeof bytes);
    for (int i = 0; i < 2 * W; i++) {
        (*lo)[i] = bytes[i];
        (*hi)[i] = bytes[2 * W + i];
    }
#endif
}

/// Per lane, the sum of the products of the lane's two 16-bit halves of `a` and `b`.
static inline vi i8_madd(vw a, vw b) {
#if W == 16 && defined(RK_MASKED_AVX512)
    return (vi)_mm512_madd_epi16((__m512i)a, (__m512i)b);
#elif W == 8 && defined(RK_MASKED_AVX2)
    return (vi)_mm256_madd_epi16((__m256i)a, (__m256i)b);
#elif W == 4 && defined(__SSE2__)
    return (vi)_mm_madd_epi16((__m128i)a, (__m128i)b);
#else
    vi out;
    for (int i = 0; i < W; i++) out[i] = (int32_t)a[2 * i] * b[2 * i] + (int32_t)a[2 * i + 1] * b[2 * i + 1];
    return out;
#endif
}

/// x's four 16-bit integers at `q` (one group's inputs) repeated W/2 times, as `i8_madd`
/// multiplies them with the widened groups of W/2 columns.
static inline vw i8_quad_pattern(const int16_t *q) {
    int64_t four;
    memcpy(&four, q, sizeof four);
    return (vw)((vl){0} + four);
}

#define I8_VARIANT(name) name##_widened
#include "vecmat_int8_products.h"
#undef I8_VARIANT

#if defined(RK_MASKED_AVX512)
/// The same sums by AVX-512 VNNI: `i8_products_vnni`, which kernels_avx512.c compiles under a
/// target of its own after this file (a tentative definition here, a pointer because a
/// declaration of the function itself would take this file's target).
static void (*i8_products_by_vnni)(int rb, long kp, long n, const void *q, const int32_t *totals,
                                   const float *scale, const uint32_t *b, float beta, float *y, long ldy);
#endif

/// `y_r = alpha·q_r·(x̂_r·B) + beta·y_r` for `m` rows of x (`ldx` apart; y's `ldy` apart),
/// B the bytes of a `k x n` matrix laid out by `k_int8_pack` (the first `n` of its columns;
/// a later column `j`, a multiple of I8_BLOCK, at `b + k_int8_packed_size(k, j)`), x̂_r row r of x times `scales` (B's rows' scales, or none)
/// rounded to signed bytes with `q_r` their unit: the exact integer sums, rounded to floats
/// once. `k` must stay below 66,000 (no sum leaves 32 bits).
static void k_vecmat_many_int8(long m, long k, long n, float alpha, const float *x, long ldx, const float *scales,
                               const uint32_t *b, float beta, float *y, long ldy) {
    long kp = i8_padded_rows(k);
    long rows = m < I8_RB ? m : I8_RB;
    // The rows' bytes and (widened) their 16-bit copies, in this thread's scratch (no GEMM,
    // its other user, is running on this thread while this does).
    size_t words = (size_t)rows * ((size_t)kp / 4 + (size_t)kp / 2);
    int8_t *q = (int8_t *)rk_scratch(0, words);
    int16_t *wide = (int16_t *)(q + rows * kp);
#if defined(RK_MASKED_AVX512)
    int vnni = rk_int8_vnni();
#else
    const int vnni = 0;
#endif
    for (long r0 = 0; r0 < m; r0 += I8_RB) {
        int rb = m - r0 < I8_RB ? (int)(m - r0) : I8_RB;
        float scale[I8_RB];
        int32_t totals[I8_RB];
        for (int r = 0; r < rb; r++)
            scale[r] = alpha * i8_quantize(k, kp, x + (r0 + r) * ldx, scales, q + r * kp, totals + r);
        float *yr = y + r0 * ldy;
        if (vnni) {
#if defined(RK_MASKED_AVX512)
            i8_products_by_vnni(rb, kp, n, q, totals, scale, b, beta, yr, ldy);
#endif
        } else {
            for (long i = 0; i < rb * kp; i++) wide[i] = q[i];
            i8_products_widened(rb, kp, n, wide, totals, scale, b, beta, yr, ldy);
        }
    }
}
