// GEMM and one-row products, included by kernels_body.h (see there for W, MR, NR, KC, MC).
//
// The GEMM is BLIS's loop nest: for each KC-deep block of the shared dimension, B is packed
// into NR-wide column panels (contiguous, so no cache-set conflicts from power-of-two
// strides), A into MR-row micro-panels (or, for one block of rows, read where it lies: see
// `sgemm_blocks`), and an MR x NR micro-tile of C is held in registers while k runs. A's
// values are broadcast, B's loaded as vectors, so (BLIS's roles swapped) A's micro-panel is
// the one kept in L1 while NC columns of B panels stream past it from L2.

/// Steps of k between loading a row of B's panel and asking for it (`micro_tile`).
#define PREFETCH_STEPS 16

/// One MR x NR tile: `C[0..<mr, 0..<nvalid] = alpha·Σ_k A(r,k)·B(k,·) + beta·C`, with B's
/// values for step k at `bp[0..<NR]` (then `bp += NR`) and A's at `ap[0..<mr]` (then
/// `ap += MR`), or, `direct`, A read where it is stored: `ap[r·lda + k]`, no packing.
/// With `half`, only the first W columns count (nvalid <= W, the last panel of a narrow
/// product such as a decoder's 65 outputs): one vector per row, half the multiply-adds.
static inline __attribute__((always_inline)) void micro_tile(const int mr, const int half, const int direct, long kc,
                                                             const float *ap, long lda, const float *bp, float *c,
                                                             long ldc, long nvalid, float alpha, float beta) {
    vf acc0[MR], acc1[MR];
    const float *row[MR];
#pragma clang loop unroll(full)
    for (int r = 0; r < mr; r++) {
        acc0[r] = splat(0);
        acc1[r] = splat(0);
        if (direct) row[r] = ap + r * lda;
    }
    for (long k = 0; k < kc; k++) {
        // B's panel asked for PREFETCH_STEPS steps ahead: a thread's 16 rows of a 2x512
        // recurrent step read 4 MiB of packed weights from L3, which the hardware's
        // prefetchers did not keep up with (two threads at once: 16 x 2048 x 512 in 260-406
        // us, 245-255 with these; see RNNCore's README).
        __builtin_prefetch(bp + PREFETCH_STEPS * NR);
#if W > 8
        __builtin_prefetch(bp + PREFETCH_STEPS * NR + W);  // a second cache line per step
#endif
        vf b0 = ld(bp), b1 = half ? splat(0) : ld(bp + W);
#pragma clang loop unroll(full)
        for (int r = 0; r < mr; r++) {
            vf av = splat(direct ? row[r][k] : ap[r]);
            acc0[r] = av * b0 + acc0[r];
            if (!half) acc1[r] = av * b1 + acc1[r];
        }
        if (!direct) ap += MR;
        bp += NR;
    }
#pragma clang loop unroll(full)
    for (int r = 0; r < mr; r++) {
        float *cr = c + r * ldc;
        if (nvalid == NR) {
            vf v0 = alpha * acc0[r], v1 = alpha * acc1[r];
            if (beta != 0) {
                v0 = beta * ld(cr) + v0;
                v1 = beta * ld(cr + W) + v1;
            }
            st(cr, v0);
            st(cr + W, v1);
        } else {
            float t[NR];
            st(t, acc0[r]);
            st(t + W, acc1[r]);
            // beta = 0 must not read C: it may hold NaN from an earlier use of the buffer.
            for (long q = 0; q < nvalid; q++) cr[q] = alpha * t[q] + (beta == 0 ? 0 : beta * cr[q]);
        }
    }
}

#define TILE_CASE(rows, direct)                                                               \
    case rows:                                                                                \
        if (nvalid <= W) micro_tile(rows, 1, direct, kc, ap, lda, bp, c, ldc, nvalid, alpha, beta); \
        else micro_tile(rows, 0, direct, kc, ap, lda, bp, c, ldc, nvalid, alpha, beta);      \
        break;
#if MR > 12
#define TILE_CASES_PAST_12(direct) TILE_CASE(13, direct) TILE_CASE(14, direct)
#else
#define TILE_CASES_PAST_12(direct)
#endif
#if MR > 6
#define TILE_CASES_PAST_6(direct)                                                             \
    TILE_CASE(7, direct) TILE_CASE(8, direct) TILE_CASE(9, direct) TILE_CASE(10, direct)      \
    TILE_CASE(11, direct) TILE_CASE(12, direct) TILE_CASES_PAST_12(direct)
#else
#define TILE_CASES_PAST_6(direct)
#endif
/// `micro_tile` for `mr` rows: over A's packed micro-panel (`tile`, `lda` unused) or over A
/// where it is stored (`tile_direct`).
#define TILE_FUNCTION(NAME, direct)                                                           \
    static void NAME(int mr, long kc, const float *ap, long lda, const float *bp, float *c, long ldc, \
                     long nvalid, float alpha, float beta) {                                  \
        switch (mr) {                                                                         \
            TILE_CASE(1, direct) TILE_CASE(2, direct) TILE_CASE(3, direct)                    \
            TILE_CASE(4, direct) TILE_CASE(5, direct) TILE_CASE(6, direct)                    \
            TILE_CASES_PAST_6(direct)                                                         \
        }                                                                                     \
    }
TILE_FUNCTION(tile, 0)
TILE_FUNCTION(tile_direct, 1)

typedef float f4 __attribute__((vector_size(16)));

/// `dst[q·ldd + p] = src[p·lds + q]` for a 4 x 4 block: four rows in, four columns out.
static inline void transpose4(const float *src, long lds, float *dst, long ldd) {
    f4 r0, r1, r2, r3;
    __builtin_memcpy(&r0, src, 16);
    __builtin_memcpy(&r1, src + lds, 16);
    __builtin_memcpy(&r2, src + 2 * lds, 16);
    __builtin_memcpy(&r3, src + 3 * lds, 16);
    f4 t0 = __builtin_shufflevector(r0, r1, 0, 4, 1, 5), t1 = __builtin_shufflevector(r0, r1, 2, 6, 3, 7);
    f4 t2 = __builtin_shufflevector(r2, r3, 0, 4, 1, 5), t3 = __builtin_shufflevector(r2, r3, 2, 6, 3, 7);
    f4 c0 = __builtin_shufflevector(t0, t2, 0, 1, 4, 5), c1 = __builtin_shufflevector(t0, t2, 2, 3, 6, 7);
    f4 c2 = __builtin_shufflevector(t1, t3, 0, 1, 4, 5), c3 = __builtin_shufflevector(t1, t3, 2, 3, 6, 7);
    __builtin_memcpy(dst, &c0, 16);
    __builtin_memcpy(dst + ldd, &c1, 16);
    __builtin_memcpy(dst + 2 * ldd, &c2, 16);
    __builtin_memcpy(dst + 3 * ldd, &c3, 16);
}

/// Packs `op(B)[pc..<pc+kc, 0..<n]` into NR-wide panels, zero-padded: panel `p` holds
/// element `(k, j)` at `p·kc·NR + k·NR + (j − p·NR)`.
static void pack_panels(int transB, const float *b, long ldb, long pc, long kc, long n, float *out) {
    for (long jr = 0; jr < n; jr += NR) {
        long width = n - jr < NR ? n - jr : NR;
        float *panel = out + (jr / NR) * kc * NR;
        // A last panel of a few columns (a decoder's 65th) is mostly padding: zeroed at once,
        // then the real columns copied. Zeroed element by element, the seed decoder's 31
        // columns of padding had taken as long as its product.
        if (width < NR) memset(panel, 0, (size_t)kc * NR * sizeof(float));
        if (!transB) {
            const float *src = b + pc * ldb + jr;
            if (width == NR) {
                for (long k = 0; k < kc; k++) {
                    st(panel + k * NR, ld(src + k * ldb));
                    st(panel + k * NR + W, ld(src + k * ldb + W));
                }
            } else {
                for (long k = 0; k < kc; k++)
                    for (long j = 0; j < width; j++) panel[k * NR + j] = src[k * ldb + j];
            }
        } else {
            // B stored n x k: row j of the storage is column j of op(B); 4 x 4 blocks turned
            // in registers, the rest one by one (the compiler's own vectorization of this loop
            // became gathers and scatters, four times slower than scalar).
            const float *src = b + jr * ldb + pc;
            long j = 0;
            for (; j + 4 <= width; j += 4) {
                long k = 0;
                for (; k + 4 <= kc; k += 4) transpose4(src + j * ldb + k, ldb, panel + k * NR + j, NR);
                for (; k < kc; k++)
                    for (long q = 0; q < 4; q++) panel[k * NR + j + q] = src[(j + q) * ldb + k];
            }
            for (; j < width; j++) {
#pragma clang loop vectorize(disable)
                for (long k = 0; k < kc; k++) panel[k * NR + j] = src[j * ldb + k];
            }
        }
    }
}

/// Packs rows `ic..<ic+mc` of A (not transposed) into MR-row micro-panels: micro-panel `q`
/// holds element `(r, k)` at `q·MR·kc + k·MR + r`.
static void pack_rows(const float *a, long lda, long ic, long mc, long pc, long kc, float *out) {
    for (long ir = 0; ir < mc; ir += MR) {
        long rows = mc - ir < MR ? mc - ir : MR;
        float *panel = out + (ir / MR) * MR * kc;
        const float *src = a + (ic + ir) * lda + pc;
        if (rows == MR) {
            // 4 x 4 blocks turned in registers for the first rows of four, then k outer:
            // contiguous stores, streams of loads that the prefetcher follows.
            long k = 0;
            for (; k + 4 <= kc; k += 4) {
#pragma clang loop unroll(full)
                for (long r = 0; r + 4 <= MR; r += 4) transpose4(src + r * lda + k, lda, panel + k * MR + r, MR);
#pragma clang loop unroll(full) vectorize(disable)
                for (long r = MR & ~3L; r < MR; r++)
                    for (long q = 0; q < 4; q++) panel[(k + q) * MR + r] = src[r * lda + k + q];
            }
            for (; k < kc; k++) {
#pragma clang loop unroll(full) vectorize(disable)
                for (long r = 0; r < MR; r++) panel[k * MR + r] = src[r * lda + k];
            }
        } else {
            for (long k = 0; k < kc; k++) {
#pragma clang loop vectorize(disable)
                for (long r = 0; r < rows; r++) panel[k * MR + r] = src[r * lda + k];
            }
        }
    }
}

/// Packs rows `ic..<ic+mc` of op(A) = Aᵀ (A stored `k x m`) into MR-row micro-panels, laid
/// out as `pack_rows` lays them: each k's rows are contiguous in A already.
static void pack_rows_transposed(const float *a, long lda, long ic, long mc, long pc, long kc, float *out) {
    for (long ir = 0; ir < mc; ir += MR) {
        long rows = mc - ir < MR ? mc - ir : MR;
        float *panel = out + (ir / MR) * MR * kc;
        const float *src = a + pc * lda + ic + ir;
        if (rows == MR)  // a copy of constant size, which compiles to a few vector moves
            for (long k = 0; k < kc; k++) memcpy(panel + k * MR, src + k * lda, MR * sizeof(float));
        else
            for (long k = 0; k < kc; k++) memcpy(panel + k * MR, src + k * lda, (size_t)rows * sizeof(float));
    }
}

static void scale_rows(long m, long n, float beta, float *c, long ldc) {
    for (long i = 0; i < m; i++)
        for (long j = 0; j < n; j++) c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j];
}

/// The tile of `sgemm_blocks` at rows `ic + ir` and columns `jr` of C, in the KC-deep block
/// at `pc` (A's micro-panel from `apack`, or from A itself when `direct`).
static inline void block_tile(int direct, const float *a, long lda, const float *apack, long ic, long ir, long mc,
                              long pc, long kc, const float *block, long jr, long n, float *c, long ldc, float alpha,
                              float beta) {
    int mr = (int)(mc - ir < MR ? mc - ir : MR);
    long nvalid = n - jr < NR ? n - jr : NR;
    const float *ap = direct ? a + (ic + ir) * lda + pc : apack + (ir / MR) * MR * kc;
    const float *bp = block + (jr / NR) * kc * NR;
    if (direct) tile_direct(mr, kc, ap, lda, bp, c + (ic + ir) * ldc + jr, ldc, nvalid, alpha, beta);
    else tile(mr, kc, ap, 0, bp, c + (ic + ir) * ldc + jr, ldc, nvalid, alpha, beta);
}

/// The product over B packed ahead (`packed`, laid out by `k_pack`) or packed here per block.
static void sgemm_blocks(int transA, int transB, long m, long n, long k, float alpha, const float *a, long lda,
                         const float *b, long ldb, const float *packed, float beta, float *c, long ldc) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0 || alpha == 0) {
        scale_rows(m, n, beta, c, ldc);
        return;
    }
    long panels = (n + NR - 1) / NR;
    float *bpack = packed ? NULL : rk_scratch(1, (size_t)panels * NR * KC);
    // A of one block of rows (a recurrent step's) is read where it lies: packing its
    // micro-panels had taken a fifth of a 2x128 LSTM's backward step (25 x 128 x 512: 6.5 of
    // 35 us, most of it the 11 rows past the first micro-panel, copied one by one). Not when
    // its rows are a multiple of 4 KiB apart, which puts them all in one set of L1 (2x512's
    // backward, rows of 2048 floats).
    int direct = !transA && m <= MC && (lda * (long)sizeof(float)) % 4096 != 0;
    float *apack = direct ? NULL : rk_scratch(0, (size_t)MC * KC);
    for (long pc = 0; pc < k; pc += KC) {
        long kc = k - pc < KC ? k - pc : KC;
        float blockBeta = pc == 0 ? beta : 1.0f;
        const float *block = packed ? packed + pc * panels * NR : bpack;
        if (!packed) pack_panels(transB, b, ldb, pc, kc, n, bpack);
        // Per block of NC columns (its packed B stays in L2) and MC rows: one micro-panel of A
        // stays in L1 while the B panels stream past it.
        for (long jc = 0; jc < n; jc += NC) {
            long nc = n - jc < NC ? n - jc : NC;
            for (long ic = 0; ic < m; ic += MC) {
                long mc = m - ic < MC ? m - ic : MC;
                if (!direct) {
                    if (transA) pack_rows_transposed(a, lda, ic, mc, pc, kc, apack);
                    else pack_rows(a, lda, ic, mc, pc, kc, apack);
                }
                for (long ir = 0; ir < mc; ir += MR)
                    for (long jr = jc; jr < jc + nc; jr += NR)
                        block_tile(direct, a, lda, apack, ic, ir, mc, pc, kc, block, jr, n, c, ldc, alpha,
                                   blockBeta);
            }
        }
    }
}

static void sgemm_serial(int transA, int transB, long m, long n, long k, float alpha, const float *a, long lda,
                         const float *b, long ldb, float beta, float *c, long ldc) {
    sgemm_blocks(transA, transB, m, n, k, alpha, a, lda, b, ldb, NULL, beta, c, ldc);
}

/// Floats `k_pack` writes for an operand of `k x n`.
static long k_packed_size(long k, long n) { return (n + NR - 1) / NR * NR * k; }

/// Packs `op(B)` (`k x n`) once, for many products against it (the recurrent weights, used
/// at every time step of a batch).
static void k_pack(int transB, long k, long n, const float *b, long ldb, float *out) {
    long panels = (n + NR - 1) / NR;
    for (long pc = 0; pc < k; pc += KC) {
        long kc = k - pc < KC ? k - pc : KC;
        pack_panels(transB, b, ldb, pc, kc, n, out + pc * panels * NR);
    }
}

/// `C = alpha·op(A)·B + beta·C` with B packed by `k_pack`; on the calling thread only.
static void k_sgemm_packed(int transA, long m, long n, long k, float alpha, const float *a, long lda,
                           const float *packed, float beta, float *c, long ldc) {
    sgemm_blocks(transA, 0, m, n, k, alpha, a, lda, NULL, 0, packed, beta, c, ldc);
}

/// Products of at least this many multiply-adds are split across the pool's threads.
#define PARALLEL_GEMM (1L << 18)

typedef struct {
    int transA, transB;
    long m, n, k;
    float alpha, beta;
    const float *a, *b;
    float *c;
    long lda, ldb, ldc;
} gemm_job;

/// A part of a product: a range of rows, or of NR-aligned columns. Each part packs the whole
/// of the operand it does not split, so a product with more rows than columns splits its
/// rows (a 2500 x 512 input projection: each part packs B, not all 2500 rows of A), unless
/// a KC-deep block of the whole B would crowd L2 (2x512's 2048 columns), or there are too
/// few rows for every part.
static void gemm_part(void *context, int part, int parts) {
    const gemm_job *j = context;
    long panels = (j->n + NR - 1) / NR;
    int rows_suffice = j->m >= 2 * MR * parts, panels_suffice = panels >= 2 * parts;
    int by_rows = rows_suffice && j->m > j->n && (size_t)(KC * panels * NR) * sizeof(float) <= rk_l2_bytes() / 4;
    if (panels_suffice ? !by_rows : !rows_suffice) {
        long per = (panels + parts - 1) / parts * NR;
        long start = part * per, end = start + per < j->n ? start + per : j->n;
        if (start >= end) return;
        const float *b = j->transB ? j->b + start * j->ldb : j->b + start;
        sgemm_serial(j->transA, j->transB, j->m, end - start, j->k, j->alpha, j->a, j->lda, b, j->ldb, j->beta,
                     j->c + start, j->ldc);
    } else {
        long per = (j->m / MR + parts - 1) / parts * MR;
        long start = part * per, end = part == parts - 1 ? j->m : (start + per < j->m ? start + per : j->m);
        if (start >= end) return;
        const float *a = j->transA ? j->a + start : j->a + start * j->lda;
        sgemm_serial(j->transA, j->transB, end - start, j->n, j->k, j->alpha, a, j->lda, j->b, j->ldb, j->beta,
                     j->c + start * j->ldc, j->ldc);
    }
}

static void k_sgemm(int transA, int transB, long m, long n, long k, float alpha, const float *a, long lda,
                    const float *b, long ldb, float beta, float *c, long ldc) {
    if (m * n * k < PARALLEL_GEMM || rk_threads() < 2) {
        sgemm_serial(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    gemm_job job = {transA, transB, m, n, k, alpha, beta, a, b, c, lda, ldb, ldc};
    rk_parallel(gemm_part, &job);
}

// ---- one row (batch-1 sampling, the seed's RNN) ----

/// Defines `NAME(k, n, alpha, x, b, ldb, beta, y)`: `x·B` row after row, four rows at a
/// time, `y` updated in L1: B read in order, which is what memory streams best when B does
/// not stay in L2 between calls. `B`'s elements are of type `T`, read as floats W at a time
/// by `LOAD(p)` and one at a time by `AT(p, j)`: floats themselves, or half floats widened
/// exactly, so that both give the same bits for the same values.
#define VECMAT_ROWS(NAME, T, LOAD, AT)                                                        \
    static void NAME(long k, long n, float alpha, const float *x, const T *b, long ldb, float beta, float *y) { \
        if (beta == 0) memset(y, 0, (size_t)n * sizeof(float));                              \
        else if (beta != 1)                                                                   \
            for (long j = 0; j < n; j++) y[j] *= beta;                                        \
        long wide = n & ~(long)(W - 1);                                                       \
        long i = 0;                                                                           \
        for (; i + 4 <= k; i += 4) {                                                          \
            float s0 = alpha * x[i], s1 = alpha * x[i + 1], s2 = alpha * x[i + 2], s3 = alpha * x[i + 3]; \
            vf x0 = splat(s0), x1 = splat(s1), x2 = splat(s2), x3 = splat(s3);                \
            const T *r0 = b + i * ldb, *r1 = r0 + ldb, *r2 = r0 + 2 * ldb, *r3 = r0 + 3 * ldb; \
            long j = 0;                                                                       \
            for (; j < wide; j += W) {                                                        \
                vf acc = ld(y + j);                                                           \
                acc = x0 * LOAD(r0 + j) + acc;                                                \
                acc = x1 * LOAD(r1 + j) + acc;                                                \
                acc = x2 * LOAD(r2 + j) + acc;                                                \
                acc = x3 * LOAD(r3 + j) + acc;                                                \
                st(y + j, acc);                                                               \
            }                                                                                 \
            for (; j < n; j++) y[j] += s0 * AT(r0, j) + s1 * AT(r1, j) + s2 * AT(r2, j) + s3 * AT(r3, j); \
        }                                                                                     \
        for (; i < k; i++) {                                                                  \
            float s = alpha * x[i];                                                           \
            const T *row = b + i * ldb;                                                       \
            for (long j = 0; j < n; j++) y[j] += s * AT(row, j);                              \
        }                                                                                     \
    }
#define FLOAT_AT(p, j) ((p)[j])
VECMAT_ROWS(vecmat_rows, float, ld, FLOAT_AT)

#if defined(RK_HALF_AVX512) || defined(RK_HALF_F16C)
/// W half floats (IEEE binary16) widened to floats, exactly.
static inline vf ld_half(const uint16_t *p) {
#if defined(RK_HALF_AVX512)
    return (vf)_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p));
#else
    return (vf)_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
#endif
}
#define HALF_AT(p, j) _cvtsh_ss((p)[j])

/// `out[i]` = the half float `h[i]` widened, exactly.
static void k_from_half(long n, const uint16_t *h, float *out) {
    long i = 0;
    for (; i + W <= n; i += W) st(out + i, ld_half(h + i));
    for (; i < n; i++) out[i] = _cvtsh_ss(h[i]);
}

/// `out[i]` = `x[i]` rounded to the nearest half float (ties to even); 0, with `out`
/// unspecified, when an element is not finite or beyond ±65504 (rounding would make it
/// infinite), else 1.
static int k_to_half(long n, const float *x, uint16_t *out) {
    const vf limit = splat(65504.0f);
    vi bad = (vi){0};
    long i = 0;
    for (; i + W <= n; i += W) {
        vf v = ld(x + i);
        // NaN fails `<=` too.
        bad |= ~(vi)(__builtin_elementwise_abs(v) <= limit);
#if defined(RK_HALF_AVX512)
        _mm256_storeu_si256((__m256i *)(out + i), _mm512_cvtps_ph((__m512)v, _MM_FROUND_TO_NEAREST_INT));
#else
        _mm_storeu_si128((__m128i *)(out + i), _mm256_cvtps_ph((__m256)v, _MM_FROUND_TO_NEAREST_INT));
#endif
    }
    int ok = 1;
    for (int lane = 0; lane < W; lane++) ok &= bad[lane] == 0;
    for (; i < n; i++) {
        if (!(__builtin_fabsf(x[i]) <= 65504.0f)) ok = 0;
        out[i] = _cvtss_sh(x[i], _MM_FROUND_TO_NEAREST_INT);
    }
    return ok;
}
VECMAT_ROWS(vecmat_rows_half, uint16_t, ld_half, HALF_AT)

/// `k_vecmat_many` on its row path (for `k x n` that `k_vecmat_packs` rejects) with B's
/// elements stored as half floats: every element gets the operations it gets from
/// `k_vecmat_many` over B's values widened to floats, in the same order, so the results are
/// the same bits; the weights take half the bytes to stream. Row by row (each row reads B).
static void k_vecmat_many_half(long m, long k, long n, float alpha, const float *x, long ldx, const uint16_t *b,
                               long ldb, float beta, float *y, long ldy) {
    for (long r = 0; r < m; r++) vecmat_rows_half(k, n, alpha, x + r * ldx, b, ldb, beta, y + r * ldy);
}
#endif

// ---- many single rows at once (batched sampling) ----

// Rows of a register tile of `k_vecmat_many` (its columns are VM_CV vectors): as many as the
// vector registers hold beside the weights being shared.
#if W >= 16
#define VM_RB 8
#define VM_CV 3
#else
#define VM_RB 2
#define VM_CV 4
#endif
/// Vectors of a one- or two-row tile: enough independent accumulators to keep the FMA
/// units busy (a lone sample's step, which `vecmat_columns` runs eight vectors wide).
#define VM_CV_WIDE 8

/// Whether `k_vecmat_many` takes its column path for `k x n` (B small enough to stay in
/// L2; `k_vecmat` makes the same choice for one row) rather than its row path.
static int k_vecmat_packs(long k, long n) { return (size_t)(k * n) * sizeof(float) <= rk_l2_bytes() / 8; }

/// `rb` rows x `cv` vectors of `x·B`, each element with exactly the operations of one of
/// the one-row kernels: `vecmat_columns` (`from_y` 0: sums from zero, then
/// `alpha·sum + beta·y`) or `vecmat_rows` (`from_y` 1: `y` scaled by beta first, then one
/// fused multiply-add per row of B in order, with `alpha·x_i` as the multiplier). With
/// `partial`, the last vector holds only `last` (< W) columns: masked loads and stores, the
/// same operations on the lanes that count.
static inline __attribute__((always_inline)) void vm_tile(const int rb, const int cv, const int from_y,
                                                          const int partial, long last, long k, float alpha,
                                                          const float *x, long ldx, const float *b, long ldb,
                                                          float beta, float *y, long ldy) {
#define VM_LD(p, q) (partial && (q) == cv - 1 ? ld_n((p), last) : ld(p))
    vf acc[VM_RB][VM_CV_WIDE];
#pragma clang loop unroll(full)
    for (int r = 0; r < rb; r++)
#pragma clang loop unroll(full)
        for (int q = 0; q < cv; q++) {
            const float *out = y + r * ldy + q * W;
            acc[r][q] = !from_y || beta == 0 ? splat(0) : (beta != 1 ? VM_LD(out, q) * beta : VM_LD(out, q));
        }
    for (long i = 0; i < k; i++) {
        const float *row = b + i * ldb;
        vf bq[VM_CV_WIDE];
#pragma clang loop unroll(full)
        for (int q = 0; q < cv; q++) bq[q] = VM_LD(row + q * W, q);
#pragma clang loop unroll(full)
        for (int r = 0; r < rb; r++) {
            vf xi = from_y ? splat(alpha * x[r * ldx + i]) : splat(x[r * ldx + i]);
#pragma clang loop unroll(full)
            for (int q = 0; q < cv; q++) acc[r][q] = xi * bq[q] + acc[r][q];
        }
    }
#pragma clang loop unroll(full)
    for (int r = 0; r < rb; r++)
#pragma clang loop unroll(full)
        for (int q = 0; q < cv; q++) {
            float *out = y + r * ldy + q * W;
            vf v = from_y ? acc[r][q] : (beta == 0 ? alpha * acc[r][q] : alpha * acc[r][q] + beta * VM_LD(out, q));
            if (partial && q == cv - 1) st_n(out, v, last);
            else st(out, v);
        }
#undef VM_LD
}

static inline __attribute__((always_inline)) void vecmat_tile(const int rb, const int cv, long k, float alpha,
                                                              const float *x, long ldx, const float *b, long ldb,
                                                              float beta, float *y, long ldy) {
    vm_tile(rb, cv, 0, 0, W, k, alpha, x, ldx, b, ldb, beta, y, ldy);
}

static inline __attribute__((always_inline)) void vecmat_rows_tile(const int rb, const int cv, long k, float alpha,
                                                                   const float *x, long ldx, const float *b,
                                                                   long ldb, float beta, float *y, long ldy) {
    vm_tile(rb, cv, 1, 0, W, k, alpha, x, ldx, b, ldb, beta, y, ldy);
}

// `name(rb, cv, ...)` calls `tile` with its rows and vectors as constants, so that each
// shape's accumulators live in registers.
#undef TILE_CASE
#define TILE_CASE(tile, rows, cv)                                                             \
    case rows:                                                                                \
        tile(rows, cv, k, alpha, x, ldx, b, ldb, beta, y, ldy);                               \
        break;
#if VM_RB > 2
#define TILE_ROWS(tile, cv)                                                                   \
    TILE_CASE(tile, 1, cv) TILE_CASE(tile, 2, cv) TILE_CASE(tile, 3, cv) TILE_CASE(tile, 4, cv) \
    TILE_CASE(tile, 5, cv) TILE_CASE(tile, 6, cv) TILE_CASE(tile, 7, cv) TILE_CASE(tile, 8, cv)
#else
#define TILE_ROWS(tile, cv) TILE_CASE(tile, 1, cv) TILE_CASE(tile, 2, cv)
#endif
#define TILE_DISPATCH(name, tile)                                                             \
    static void name(int rb, int cv, long k, float alpha, const float *x, long ldx, const float *b, long ldb,  \
                     float beta, float *y, long ldy) {                                        \
        if (cv == VM_CV_WIDE) {                                                               \
            switch (rb) { TILE_CASE(tile, 1, VM_CV_WIDE) TILE_CASE(tile, 2, VM_CV_WIDE) }     \
        } else if (cv == VM_CV) {                                                             \
            switch (rb) { TILE_ROWS(tile, VM_CV) }                                            \
        } else {                                                                              \
            switch (rb) { TILE_ROWS(tile, 1) }                                                \
        }                                                                                     \
    }
TILE_DISPATCH(vecmat_tile_rows, vecmat_tile)
TILE_DISPATCH(vecmat_rows_tile_rows, vecmat_rows_tile)

typedef void (*vm_tiles)(int rb, int cv, long k, float alpha, const float *x, long ldx, const float *b, long ldb,
                         float beta, float *y, long ldy);

/// Runs `tiles` over the whole vectors of `y`'s `n` columns (blocks of VM_CV vectors, then
/// single vectors), the `m` rows dealt evenly into tiles of at most VM_RB (7 rows as 4 + 3,
/// not 6 + 1: a tile of one row loads a weight per multiply-add and costs nearly what a full
/// tile does). B's columns from `j` are at `*b + j` (leading dimension `ldb`), or with
/// `packed` in the next `k x width` panel at `*b`, which then ends past the panels. Returns
/// the first column it left (the last `n % W`, for the caller's scalar code).
static long vm_walk(vm_tiles tiles, long m, long k, long n, float alpha, const float *x, long ldx, const float **b,
                    long ldb, int packed, float beta, float *y, long ldy) {
    long count = (m + VM_RB - 1) / VM_RB, per = m / count, extra = m % count;
    long wide = n / W * W, j = 0;
    // One row (two with 32 vector registers), unpacked B only: the packed panels are VM_CV
    // vectors wide.
    int widest = !packed && (m == 1 || (m == 2 && W >= 16)) ? VM_CV_WIDE : VM_CV;
    while (j < wide) {
        int cv = j + widest * W <= wide ? widest : (j + VM_CV * W <= wide ? VM_CV : 1);
        long width = cv * W;
        const float *panel = packed ? *b : *b + j;
        for (long t = 0, r = 0; t < count; t++) {
            int rb = (int)(per + (t < extra));
            tiles(rb, cv, k, alpha, x + r * ldx, ldx, panel, packed ? width : ldb, beta, y + r * ldy + j, ldy);
            r += rb;
        }
        if (packed) *b += k * width;
        j += width;
    }
    return j;
}

/// One row's last `rest` (< VM_CV_WIDE·W) columns on the column path, as one tile of every
/// vector they need (the last one masked): independent sums enough to hide the latency of
/// each multiply-add, where vector after vector would wait on each.
static void vm_row_rest(long rest, long k, float alpha, const float *x, const float *b, long ldb, float beta,
                        float *y) {
    int cv = (int)((rest + W - 1) / W);
    long last = rest - (cv - 1) * W;
#define REST_CASE(n)                                                                          \
    case n:                                                                                   \
        if (last == W) vm_tile(1, n, 0, 0, W, k, alpha, x, 0, b, ldb, beta, y, 0);            \
        else vm_tile(1, n, 0, 1, last, k, alpha, x, 0, b, ldb, beta, y, 0);                   \
        break;
    switch (cv) {
        REST_CASE(1) REST_CASE(2) REST_CASE(3) REST_CASE(4) REST_CASE(5) REST_CASE(6) REST_CASE(7) REST_CASE(8)
    }
#undef REST_CASE
}

/// `x·B` by column blocks of eight vectors held in registers while the rows go by, the
/// rest in one block: each weight is loaded once and `y` is written once. Best while B stays
/// in L2 between calls.
static void vecmat_columns(long k, long n, float alpha, const float *x, const float *b, long ldb, float beta,
                           float *y) {
    long j = 0;
    for (; j + VM_CV_WIDE * W <= n; j += VM_CV_WIDE * W)
        vm_tile(1, VM_CV_WIDE, 0, 0, W, k, alpha, x, 0, b + j, ldb, beta, y + j, 0);
    if (j < n) vm_row_rest(n - j, k, alpha, x, b + j, ldb, beta, y + j);
}

/// Column blocks while B fits in an eighth of this CPU's L2 (a model's few matrices then
/// stay there between characters), rows otherwise: measured on Zen 3 (512 KiB L2), rows
/// made 2x128 sampling 45% faster; on Xeons with 2 MiB of L2, columns win.
static void k_vecmat(long k, long n, float alpha, const float *x, const float *b, long ldb, float beta, float *y) {
    if ((size_t)(k * n) * sizeof(float) <= rk_l2_bytes() / 8) vecmat_columns(k, n, alpha, x, b, ldb, beta, y);
    else vecmat_rows(k, n, alpha, x, b, ldb, beta, y);
}

/// The last `count` (< W) columns of the column path for `m` rows, in tiles of up to VM_RB
/// rows of one masked vector; B's columns at `b` with leading dimension `ldb`.
static void vm_columns_tail(long m, long k, long count, float alpha, const float *x, long ldx, const float *b,
                            long ldb, float beta, float *y, long ldy) {
    if (count == 0) return;
    long r = 0;
#define TAIL_CASE(n)                                                                          \
    case n:                                                                                   \
        vm_tile(n, 1, 0, 1, count, k, alpha, x + r * ldx, ldx, b, ldb, beta, y + r * ldy, ldy); \
        break;
    while (r < m) {
        long rb = m - r < VM_RB ? m - r : VM_RB;
        switch (rb) {
            TAIL_CASE(1) TAIL_CASE(2)
#if VM_RB > 2
            TAIL_CASE(3) TAIL_CASE(4) TAIL_CASE(5) TAIL_CASE(6) TAIL_CASE(7) TAIL_CASE(8)
#endif
        }
        r += rb;
    }
#undef TAIL_CASE
}

/// The last `count` (< W) columns of the row path for `m` rows, `vecmat_rows`'s scalar code
/// row by row; B's columns at `b` (leading dimension `ldb`), `y`'s at `y`.
static void vm_rows_tail(long m, long k, long count, float alpha, const float *x, long ldx, const float *b, long ldb,
                         float beta, float *y, long ldy) {
    for (long r = 0; r < m; r++) {
        const float *xr = x + r * ldx;
        float *yr = y + r * ldy;
        if (beta == 0) memset(yr, 0, (size_t)count * sizeof(float));
        else if (beta != 1)
            for (long c = 0; c < count; c++) yr[c] *= beta;
        long i = 0;
        for (; i + 4 <= k; i += 4) {
            float s0 = alpha * xr[i], s1 = alpha * xr[i + 1], s2 = alpha * xr[i + 2], s3 = alpha * xr[i + 3];
            const float *r0 = b + i * ldb, *r1 = r0 + ldb, *r2 = r0 + 2 * ldb, *r3 = r0 + 3 * ldb;
            for (long c = 0; c < count; c++) yr[c] += s0 * r0[c] + s1 * r1[c] + s2 * r2[c] + s3 * r3[c];
        }
        for (; i < k; i++) {
            float s = alpha * xr[i];
            const float *row = b + i * ldb;
            for (long c = 0; c < count; c++) yr[c] += s * row[c];
        }
    }
}

/// `vecmat_rows` for `m` rows at once: register tiles share each weight loaded among
/// their rows; the last `n % W` columns repeat `vecmat_rows`'s scalar code row by row.
static void vecmat_rows_many(long m, long k, long n, float alpha, const float *x, long ldx, const float *b, long ldb,
                             float beta, float *y, long ldy) {
    const float *panel = b;
    long j = vm_walk(vecmat_rows_tile_rows, m, k, n, alpha, x, ldx, &panel, ldb, 0, beta, y, ldy);
    if (j < n) vm_rows_tail(m, k, n - j, alpha, x, ldx, b + j, ldb, beta, y + j, ldy);
}

/// `y_r = alpha·(x_r·B) + beta·y_r` for `m` rows (`x` rows `ldx` apart, `y` rows `ldy`
/// apart), every row with exactly the arithmetic `k_vecmat` gives it alone: the same path
/// (chosen from the whole `k x n`), and per element the same operations in the same order.
/// A row's result so never depends on the rows beside it, and batched sampling draws the
/// text that sampling alone draws. What batching gains: on either path each weight loaded
/// serves a register tile of up to VM_RB rows.
static void k_vecmat_many(long m, long k, long n, float alpha, const float *x, long ldx, const float *b, long ldb,
                          float beta, float *y, long ldy) {
    // One row is the one-row kernel itself: its tiles are wider (one of all the last
    // columns, not blocks of VM_CV vectors and a masked tail), the arithmetic the same.
    if (m == 1) {
        k_vecmat(k, n, alpha, x, b, ldb, beta, y);
        return;
    }
    if (!k_vecmat_packs(k, n)) {
        vecmat_rows_many(m, k, n, alpha, x, ldx, b, ldb, beta, y, ldy);
        return;
    }
    const float *panel = b;
    long j = vm_walk(vecmat_tile_rows, m, k, n, alpha, x, ldx, &panel, ldb, 0, beta, y, ldy);
    vm_columns_tail(m, k, n - j, alpha, x, ldx, b + j, ldb, beta, y + j, ldy);
}

/// Lays B (`k x n`) out for `k_vecmat_many_packed`: each block of VM_CV vectors of columns
/// as `k` contiguous rows of that block, then each remaining vector's columns likewise, then
/// the last `n % W` columns; `k·n` floats in all. Streams of contiguous weights, instead of
/// rows 4·n bytes apart, are what the prefetchers follow and what L1 holds without set
/// conflicts.
static void k_vecmat_pack(long k, long n, const float *b, long ldb, float *out) {
    long wide = n / W * W, j = 0;
    for (; j + VM_CV * W <= wide; j += VM_CV * W)
        for (long i = 0; i < k; i++, out += VM_CV * W) memcpy(out, b + i * ldb + j, VM_CV * W * sizeof(float));
    for (; j < wide; j += W)
        for (long i = 0; i < k; i++, out += W) memcpy(out, b + i * ldb + j, W * sizeof(float));
    if (j < n)
        for (long i = 0; i < k; i++, out += n - j) memcpy(out, b + i * ldb + j, (size_t)(n - j) * sizeof(float));
}

/// `k_vecmat_many` with B laid out by `k_vecmat_pack`, on the path it takes for `k x n`:
/// per element the same operations in the same order, so every row is still exactly its
/// one-row product. The weights stream from contiguous panels instead of rows 4·n bytes
/// apart, which on the row path (B past an eighth of L2) the prefetchers could not follow.
static void k_vecmat_many_packed(long m, long k, long n, float alpha, const float *x, long ldx, const float *packed,
                                 float beta, float *y, long ldy) {
    int columns = k_vecmat_packs(k, n);
    long j = vm_walk(columns ? vecmat_tile_rows : vecmat_rows_tile_rows, m, k, n, alpha, x, ldx, &packed, 0, 1, beta,
                     y, ldy);
    if (columns) vm_columns_tail(m, k, n - j, alpha, x, ldx, packed, n - j, beta, y + j, ldy);
    else if (j < n) vm_rows_tail(m, k, n - j, alpha, x, ldx, packed, n - j, beta, y + j, ldy);
}

/// A vector whose first four lanes are the sums of `a`, `b`, `c` and `d`'s lanes: halves
/// folded onto each other, pairs of vectors at a time (a tree, not a chain of W additions).
static inline vf sum4(vf a, vf b, vf c, vf d) {
#if W == 16
    vf ab = __builtin_shufflevector(a, b, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23) +
            __builtin_shufflevector(a, b, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
    vf cd = __builtin_shufflevector(c, d, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23) +
            __builtin_shufflevector(c, d, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
    vf s = __builtin_shufflevector(ab, cd, 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27) +
           __builtin_shufflevector(ab, cd, 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31);
    vf t = __builtin_shufflevector(s, s, 0, 1, 4, 5, 8, 9, 12, 13, 0, 1, 4, 5, 8, 9, 12, 13) +
           __builtin_shufflevector(s, s, 2, 3, 6, 7, 10, 11, 14, 15, 2, 3, 6, 7, 10, 11, 14, 15);
    return __builtin_shufflevector(t, t, 0, 2, 4, 6, 0, 2, 4, 6, 0, 2, 4, 6, 0, 2, 4, 6) +
           __builtin_shufflevector(t, t, 1, 3, 5, 7, 1, 3, 5, 7, 1, 3, 5, 7, 1, 3, 5, 7);
#elif W == 8
    vf ab = __builtin_shufflevector(a, b, 0, 1, 2, 3, 8, 9, 10, 11) +
            __builtin_shufflevector(a, b, 4, 5, 6, 7, 12, 13, 14, 15);
    vf cd = __builtin_shufflevector(c, d, 0, 1, 2, 3, 8, 9, 10, 11) +
            __builtin_shufflevector(c, d, 4, 5, 6, 7, 12, 13, 14, 15);
    vf s = __builtin_shufflevector(ab, cd, 0, 1, 4, 5, 8, 9, 12, 13) +
           __builtin_shufflevector(ab, cd, 2, 3, 6, 7, 10, 11, 14, 15);
    return __builtin_shufflevector(s, s, 0, 2, 4, 6, 0, 2, 4, 6) + __builtin_shufflevector(s, s, 1, 3, 5, 7, 1, 3, 5, 7);
#else
    vf ab = __builtin_shufflevector(a, b, 0, 1, 4, 5) + __builtin_shufflevector(a, b, 2, 3, 6, 7);
    vf cd = __builtin_shufflevector(c, d, 0, 1, 4, 5) + __builtin_shufflevector(c, d, 2, 3, 6, 7);
    return __builtin_shufflevector(ab, cd, 0, 2, 4, 6) + __builtin_shufflevector(ab, cd, 1, 3, 5, 7);
#endif
}

/// One step of `mv_tile` over `k` columns `i ..< i+n` (n <= W; fewer in masked lanes, which
/// add 0·0): each weight vector loaded serves every `x_t`.
static inline __attribute__((always_inline)) void mv_step(const int xr, const int rt, const float *const *rows,
                                                          long i, long n, const float *x, long ldx,
                                                          vf acc[4][8]) {
    vf bq[8];
#pragma clang loop unroll(full)
    for (int q = 0; q < rt; q++) bq[q] = n == W ? ld(rows[q] + i) : ld_n(rows[q] + i, n);
#pragma clang loop unroll(full)
    for (int t = 0; t < xr; t++) {
        vf xv = n == W ? ld(x + t * ldx + i) : ld_n(x + t * ldx + i, n);
#pragma clang loop unroll(full)
        for (int q = 0; q < rt; q++) acc[t][q] = xv * bq[q] + acc[t][q];
    }
}

/// Rows `r .. r+count` (count <= `rt`, 4 or 8) of `y_t = alpha·(B·x_t) + beta·y_t` for `xr`
/// vectors `x_t` at once: each weight vector loaded serves every `x_t`, and each element
/// gets the same operations in the same order whatever `xr` and `rt` are (lane sums over `k`
/// in steps of W, the last `k % W` terms in masked lanes, then the lanes added in one tree),
/// so `k_matvec` (one `x`, eight rows for more independent sums) and `k_matvec_many` (four)
/// give each row the same bits.
static inline __attribute__((always_inline)) void mv_tile(const int xr, const int rt, long r, long count, long k,
                                                          float alpha, const float *b, long ldb, const float *x,
                                                          long ldx, float beta, float *y, long ldy) {
    long wide = k & ~(long)(W - 1);
    const float *rows[8];
#pragma clang loop unroll(full)
    for (int q = 0; q < rt; q++) rows[q] = b + (r + (q < count ? q : 0)) * ldb;
    vf acc[4][8];
#pragma clang loop unroll(full)
    for (int t = 0; t < xr; t++)
#pragma clang loop unroll(full)
        for (int q = 0; q < rt; q++) acc[t][q] = splat(0);
    long i = 0;
    for (; i < wide; i += W) mv_step(xr, rt, rows, i, W, x, ldx, acc);
    if (i < k) mv_step(xr, rt, rows, i, k - i, x, ldx, acc);
#pragma clang loop unroll(full)
    for (int t = 0; t < xr; t++) {
        float *yt = y + t * ldy;
        float sums[8][W];
#pragma clang loop unroll(full)
        for (int q = 0; q < rt; q += 4) st(sums[q], sum4(acc[t][q], acc[t][q + 1], acc[t][q + 2], acc[t][q + 3]));
        for (long q = 0; q < count; q++) {
            float s = sums[q & ~3L][q & 3];
            yt[r + q] = alpha * s + (beta == 0 ? 0 : beta * yt[r + q]);
        }
    }
}

static void k_matvec(long n, long k, float alpha, const float *b, long ldb, const float *x, float beta, float *y) {
    long r = 0;
    for (; r + 8 <= n; r += 8) mv_tile(1, 8, r, 8, k, alpha, b, ldb, x, 0, beta, y, 0);
    for (; r < n; r += 4) mv_tile(1, 4, r, n - r < 4 ? n - r : 4, k, alpha, b, ldb, x, 0, beta, y, 0);
}

/// `y_t = alpha·(B·x_t) + beta·y_t` for `m` vectors `x_t` (`ldx` apart; `y_t` `ldy` apart),
/// each exactly as `k_matvec` computes it alone (a batch's decoder: a row's logits do not
/// depend on the rows beside it). Four `x_t` share each weight loaded.
static void k_matvec_many(long m, long n, long k, float alpha, const float *b, long ldb, const float *x, long ldx,
                          float beta, float *y, long ldy) {
    // One vector takes the one-vector kernel's eight-row tiles.
    if (m == 1) {
        k_matvec(n, k, alpha, b, ldb, x, beta, y);
        return;
    }
    for (long r = 0; r < n; r += 4) {
        long count = n - r < 4 ? n - r : 4;
        long t = 0;
        for (; t + 4 <= m; t += 4)
            mv_tile(4, 4, r, count, k, alpha, b, ldb, x + t * ldx, ldx, beta, y + t * ldy, ldy);
        for (; t < m; t++) mv_tile(1, 4, r, count, k, alpha, b, ldb, x + t * ldx, ldx, beta, y + t * ldy, ldy);
    }
}
