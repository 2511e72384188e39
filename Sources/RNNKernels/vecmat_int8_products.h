// The integer sums of int8 sampling, in register tiles: one variant per inclusion, named by
// I8_VARIANT(name). With I8_USE_VNNI (AVX-512 VNNI, W 16), `vpdpbusd` takes four bytes of
// each of 16 columns and four of x's at once (x's rows as bytes); otherwise each column's
// bytes are widened to 16 bits and `pmaddwd` sums them in pairs (x's rows as 16-bit
// integers). Both sum the bytes as stored, plus 128, and take 128·Σx̂ off: the exact sums of
// vecmat_int8_body.h.

#if defined(I8_USE_VNNI)
/// Column vectors of a batch's tile (8 rows x 2 vectors: 16 accumulators) and of a lone row's.
#define I8_CV 2
#define I8_CV_ONE 8
#else
/// A widened vector of columns needs two accumulators per row (its columns' first two rows
/// of each group in one, the last two in the other): 8 rows x 1 vector, or a lone row x 4.
#define I8_CV 1
#define I8_CV_ONE 4
#endif

#if defined(I8_USE_VNNI)
typedef int8_t I8_VARIANT(i8_input);
#else
typedef int16_t I8_VARIANT(i8_input);
#endif

/// The integer sum of row `r` of `rows` (`kp` apart) times column `j` of B (`I8_AT`).
static int32_t I8_VARIANT(i8_column)(long kp, const void *rows, int r, const uint32_t *b, long j) {
    const I8_VARIANT(i8_input) *q = (const I8_VARIANT(i8_input) *)rows + r * kp;
    int32_t sum = 0;
    for (long i = 0; i < kp / 4; i++) {
        uint32_t quad = b[I8_AT(kp, i, j)];
        for (int u = 0; u < 4; u++) sum += q[4 * i + u] * ((int32_t)((quad >> (8 * u)) & 0xff) - 128);
    }
    return sum;
}

/// `y[r][c·W + lane]` (rows `ldy` apart) finished (`i8_finish`, by `scale[r]` and `beta`)
/// from the integer sums of row `r` of `q` (`kp` apart, summing to `totals[r]`) times `cv`
/// vectors of columns of B from `b` (`I8_AT`: `b` is where the tile's first column lies),
/// kept in registers over the whole depth, each vector of weights loaded once for all `rb`
/// rows. `q` holds bytes (VNNI) or 16-bit integers.
static inline __attribute__((always_inline)) void I8_VARIANT(i8_tile)(const int rb, const int cv, long kp,
                                                                     const void *rows, const int32_t *totals,
                                                                     const float *scale, const uint32_t *b,
                                                                     float beta, float *y, long ldy) {
#if defined(I8_USE_VNNI)
    const int8_t *q = rows;
    __m512i a[I8_RB][I8_CV_ONE];
    for (int r = 0; r < rb; r++)
        for (int c = 0; c < cv; c++) a[r][c] = _mm512_setzero_si512();
    for (long g = 0; g < kp / 4; g++) {
        __m512i w[I8_CV_ONE];
        for (int c = 0; c < cv; c++) w[c] = _mm512_loadu_si512(b + I8_AT(kp, g, c * W));
        for (int r = 0; r < rb; r++) {
            int32_t quad;
            memcpy(&quad, q + r * kp + 4 * g, sizeof quad);
            __m512i x = _mm512_set1_epi32(quad);
            for (int c = 0; c < cv; c++) a[r][c] = _mm512_dpbusd_epi32(a[r][c], w[c], x);
        }
    }
    // The bytes were stored plus 128: Σ(b + 128)·x̂ = Σb·x̂ + 128·Σx̂.
    for (int r = 0; r < rb; r++) {
        __m512i offset = _mm512_set1_epi32(128 * totals[r]);
        for (int c = 0; c < cv; c++)
            i8_finish_lanes((vi)_mm512_sub_epi32(a[r][c], offset), scale[r], beta, y + r * ldy + c * W);
    }
#else
    const int16_t *q = rows;
    vi lo[I8_RB][I8_CV_ONE], hi[I8_RB][I8_CV_ONE];
    for (int r = 0; r < rb; r++)
        for (int c = 0; c < cv; c++) lo[r][c] = hi[r][c] = (vi){0};
    for (long g = 0; g < kp / 4; g++) {
        vw wl[I8_CV_ONE], wh[I8_CV_ONE];
        for (int c = 0; c < cv; c++) i8_widen_quads(b + I8_AT(kp, g, c * W), &wl[c], &wh[c]);
        for (int r = 0; r < rb; r++) {
            vw x = i8_quad_pattern(q + r * kp + 4 * g);
            for (int c = 0; c < cv; c++) {
                lo[r][c] += i8_madd(x, wl[c]);
                hi[r][c] += i8_madd(x, wh[c]);
            }
        }
    }
    // Lanes 2i and 2i+1 of a half hold column i's two pairs of rows.
    for (int r = 0; r < rb; r++)
        for (int c = 0; c < cv; c++) {
            int32_t t[2 * W];
            memcpy(t, &lo[r][c], sizeof lo[r][c]);
            memcpy(t + W, &hi[r][c], sizeof hi[r][c]);
            vi sums;
            for (int i = 0; i < W; i++) sums[i] = t[2 * i] + t[2 * i + 1] - 128 * totals[r];
            i8_finish_lanes(sums, scale[r], beta, y + r * ldy + c * W);
        }
#endif
}

/// `y[r][j]` (rows `ldy` apart) finished from the sums of `rb` (at most I8_RB) rows of `q`
/// and `n` columns, in register tiles; the columns past the last whole vector one at a time.
static void I8_VARIANT(i8_products)(int rb, long kp, long n, const void *rows, const int32_t *totals,
                                    const float *scale, const uint32_t *b, float beta, float *y, long ldy) {
    long j = 0;
#define I8_AT_J b + I8_AT(kp, 0, j), beta, y + j, ldy
    if (rb == 1)
        for (; j + I8_CV_ONE * W <= n; j += I8_CV_ONE * W)
            I8_VARIANT(i8_tile)(1, I8_CV_ONE, kp, rows, totals, scale, I8_AT_J);
#define I8_TILE(count) I8_VARIANT(i8_tile)(count, I8_CV, kp, rows, totals, scale, I8_AT_J)
#define I8_TILE_ONE_VECTOR(count) I8_VARIANT(i8_tile)(count, 1, kp, rows, totals, scale, I8_AT_J)
    for (; j + I8_CV * W <= n; j += I8_CV * W) I8_SWITCH_ROWS(rb, I8_TILE)
    for (; j + W <= n; j += W) I8_SWITCH_ROWS(rb, I8_TILE_ONE_VECTOR)
#undef I8_TILE
#undef I8_TILE_ONE_VECTOR
#undef I8_AT_J
    for (; j < n; j++)
        for (int r = 0; r < rb; r++)
            y[r * ldy + j] = i8_finish(I8_VARIANT(i8_column)(kp, rows, r, b, j), scale[r], beta, y[r * ldy + j]);
}

#undef I8_CV
#undef I8_CV_ONE
