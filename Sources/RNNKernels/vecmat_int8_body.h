// ---- bytes times 16-bit integers (int8 sampling) ----
//
// Included by kernels_body.h after gemm_body.h. B's weights are signed bytes (±127), laid out
// by `k_int8_pack`; each row of x is rounded to integers of at most 15 bits and a sign (its
// largest magnitude to `i8_limit`, fewer bits past 512 rows), and the products are summed
// exactly in 32-bit integers. Integer sums do not depend on their order: any tile of rows,
// any split of columns and every path (AVX-512, AVX2, SSE2 or plain C) gives the same sums,
// hence the same floats, so a seeded sample's text does not depend on what else is in its
// batch.

/// The largest finite float.
#define I8_FINITE 3.40282347e38f

/// Rows of B padded to whole groups of the kernel: four pairs of rows.
static long i8_padded_rows(long k) { return (k + 7) / 8 * 8; }

/// The largest integer a row of x is rounded to for `kp` padded rows of bytes: every sum
/// then stays within `kp·127·limit < 2^31`. 32767 (15 bits and a sign) up to 512 rows; fewer
/// bits beyond (16,512 at 1,024 rows, 8,256 at 2,048, 2,064 at 8,192).
static int i8_limit(long kp) {
    long limit = 2147483647L / (kp * 127);
    return limit < 32767 ? (int)limit : 32767;
}

/// 16-bit integers of B laid out by `k_int8_pack` for a `k x n` matrix.
static long k_int8_packed_size(long k, long n) { return i8_padded_rows(k) / 2 * n; }

/// Lays out the signed bytes of B (`k x n`, leading dimension `ldb`, each within ±127: the
/// sums' bound assumes it) for `k_vecmat_many_int8`:
/// rows in pairs, each 16-bit element holding row 2i's byte of a column (low) and row
/// 2i+1's (high), `n` elements per pair; zero rows pad `k` to a multiple of 8.
static void k_int8_pack(long k, long n, const int8_t *b, long ldb, int16_t *out) {
    long kp = i8_padded_rows(k);
    for (long i = 0; i < kp; i += 2, out += n)
        for (long j = 0; j < n; j++) {
            uint8_t low = i < k ? (uint8_t)b[i * ldb + j] : 0, high = i + 1 < k ? (uint8_t)b[(i + 1) * ldb + j] : 0;
            out[j] = (int16_t)(uint16_t)(low | high << 8);
        }
}

/// Rounds `v = x·s` (`k` floats, elementwise; `x` itself when `s` is NULL) to integers in `q`
/// (`kp`, zero past `k`) at `limit / max|v|`, and returns what their sums are worth per
/// unit: `max|v| / limit`; 0 when v is all zero, NaN (with `q` zero) when an element is not
/// finite, so that the product is NaN as a float one would be.
static float i8_quantize(long k, long kp, int limit, const float *x, const float *s, int16_t *q) {
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
    if (!finite || largest == 0) {
        memset(q, 0, (size_t)kp * sizeof *q);
        return finite ? 0 : __builtin_nanf("");
    }
    float inverse = (float)limit / largest;
    // Below about 1e-34 the factor overflows; inputs that small contribute nothing a float
    // sum would keep either, and rounding infinities to integers is undefined.
    if (!(inverse <= I8_FINITE)) {
        memset(q, 0, (size_t)kp * sizeof *q);
        return 0;
    }
    if (s)
        for (i = 0; i < k; i++) q[i] = (int16_t)__builtin_rintf(x[i] * s[i] * inverse);
    else
        for (i = 0; i < k; i++) q[i] = (int16_t)__builtin_rintf(x[i] * inverse);
    for (i = k; i < kp; i++) q[i] = 0;
    return largest / (float)limit;
}

/// 2W 16-bit integers: W pairs of B's bytes widened, or W copies of a pair of x's integers.
typedef int16_t vw __attribute__((vector_size(W * 4)));

/// W pairs of bytes at `p` (2W bytes) widened to 16 bits.
static inline vw i8_widen(const int16_t *p) {
#if W == 16 && defined(RK_MASKED_AVX512)
    return (vw)_mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)p));
#elif W == 8 && defined(RK_MASKED_AVX2)
    return (vw)_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)p));
#elif W == 4 && defined(__SSE2__)
    __m128i v = _mm_loadl_epi64((const __m128i *)p);
    return (vw)_mm_srai_epi16(_mm_unpacklo_epi8(v, v), 8);
#else
    vw out;
    for (int i = 0; i < W; i++) {
        out[2 * i] = (int8_t)(p[i] & 0xff);
        out[2 * i + 1] = (int8_t)(p[i] >> 8);
    }
    return out;
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

/// W copies of the pair of integers at `q` (two consecutive rows' inputs), as `i8_madd`
/// multiplies them with W pairs of bytes.
static inline vw i8_pair(const int16_t *q) {
    int32_t pair;
    memcpy(&pair, q, sizeof pair);
    return (vw)((vi){0} + pair);
}

/// The integer sum of `q`'s `kp` integers times column `j` of B (pair rows `ldb` apart).
static int32_t i8_column(long kp, const int16_t *q, const int16_t *b, long ldb, long j) {
    int32_t sum = 0;
    for (long i = 0; i < kp / 2; i++) {
        int16_t pair = b[i * ldb + j];
        sum += q[2 * i] * (int8_t)(pair & 0xff) + q[2 * i + 1] * (int8_t)(pair >> 8);
    }
    return sum;
}

/// Register tiles: rows of a batch's tile (weights widened once serve them all) and its
/// vectors of columns; a lone row's vectors of columns.
#if W == 16
#define I8_RB 8
#else
#define I8_RB 4
#endif
#define I8_CV 2
#define I8_CV_ONE 8

/// `out[r][c·W + lane]` (rows `ldo` apart) = the integer sums of row `r` of `q` (`kp` apart)
/// times `cv` vectors of columns of B at `b` (pair rows `ldb` apart), kept in registers over
/// the whole depth: each vector of weights widened once for all `rb` rows. For batches and
/// for weights that stay in L2.
static inline __attribute__((always_inline)) void i8_register_tile(const int rb, const int cv, long kp,
                                                                  const int16_t *q, const int16_t *b, long ldb,
                                                                  int32_t *out, long ldo) {
    vi a[I8_RB][I8_CV_ONE];
    for (int r = 0; r < rb; r++)
        for (int c = 0; c < cv; c++) a[r][c] = (vi){0};
    for (long i = 0; i < kp / 2; i++) {
        vw w[I8_CV_ONE];
        for (int c = 0; c < cv; c++) w[c] = i8_widen(b + i * ldb + c * W);
        for (int r = 0; r < rb; r++) {
            vw x = i8_pair(q + r * kp + 2 * i);
            for (int c = 0; c < cv; c++) a[r][c] += i8_madd(x, w[c]);
        }
    }
    for (int r = 0; r < rb; r++)
        for (int c = 0; c < cv; c++) memcpy(out + r * ldo + c * W, &a[r][c], sizeof a[r][c]);
}

/// `acc[r][j]` (rows `n` apart) = the integer sums of row `r` of `q` (`kp` apart) times the
/// first `n` columns of B (pair rows `ldb` apart), streaming: four pair rows at a time across
/// all the columns, each vector of weights widened once for all `rb` rows, the sums in `acc`
/// (L1), so that B is read row after row, as memory streams best when it does not stay in
/// L2 between steps.
static inline __attribute__((always_inline)) void i8_stream(const int rb, long kp, long n, const int16_t *q,
                                                           const int16_t *b, long ldb, int32_t *acc) {
    for (int r = 0; r < rb; r++) memset(acc + r * n, 0, (size_t)n * sizeof *acc);
    long wide = n / W * W;
    for (long i = 0; i < kp / 2; i += 4) {
        vw x[I8_RB][4];
        for (int r = 0; r < rb; r++)
            for (int u = 0; u < 4; u++) x[r][u] = i8_pair(q + r * kp + 2 * (i + u));
        const int16_t *b0 = b + i * ldb, *b1 = b0 + ldb, *b2 = b1 + ldb, *b3 = b2 + ldb;
        for (long j = 0; j < wide; j += W) {
            vw w0 = i8_widen(b0 + j), w1 = i8_widen(b1 + j), w2 = i8_widen(b2 + j), w3 = i8_widen(b3 + j);
            for (int r = 0; r < rb; r++) {
                vi sum;
                memcpy(&sum, acc + r * n + j, sizeof sum);
                sum += (i8_madd(x[r][0], w0) + i8_madd(x[r][1], w1)) + (i8_madd(x[r][2], w2) + i8_madd(x[r][3], w3));
                memcpy(acc + r * n + j, &sum, sizeof sum);
            }
        }
    }
    for (long j = wide; j < n; j++)
        for (int r = 0; r < rb; r++) acc[r * n + j] = i8_column(kp, q + r * kp, b, ldb, j);
}

/// `y = scale·sums + beta·y` over `nb` columns, one rounding per operation (never fused):
/// the same bits whichever columns are vectors.
static void i8_finish(long nb, float scale, const int32_t *acc, float beta, float *y) {
#pragma clang fp contract(off)
    for (long j = 0; j < nb; j++) {
        float t = scale * (float)acc[j];
        y[j] = beta == 0 ? t : beta == 1 ? y[j] + t : beta * y[j] + t;
    }
}

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

/// `sums[r][j]` (rows `n` apart) for `rb` (at most I8_RB) rows of `q` and `n` columns, in
/// register tiles; the columns past the last whole vector one at a time.
static void i8_tiles(int rb, long kp, long n, const int16_t *q, const int16_t *b, long ldb, int32_t *sums) {
    long j = 0;
    if (rb == 1)
        for (; j + I8_CV_ONE * W <= n; j += I8_CV_ONE * W)
            i8_register_tile(1, I8_CV_ONE, kp, q, b + j, ldb, sums + j, n);
#define I8_TILE(count) i8_register_tile(count, I8_CV, kp, q, b + j, ldb, sums + j, n)
#define I8_TILE_ONE_VECTOR(count) i8_register_tile(count, 1, kp, q, b + j, ldb, sums + j, n)
    for (; j + I8_CV * W <= n; j += I8_CV * W) I8_SWITCH_ROWS(rb, I8_TILE)
    for (; j + W <= n; j += W) I8_SWITCH_ROWS(rb, I8_TILE_ONE_VECTOR)
#undef I8_TILE
#undef I8_TILE_ONE_VECTOR
    for (; j < n; j++)
        for (int r = 0; r < rb; r++) sums[r * n + j] = i8_column(kp, q + r * kp, b, ldb, j);
}

/// `y_r = alpha·q_r·(x̂_r·B) + beta·y_r` for `m` rows of x (`ldx` apart; y's `ldy` apart),
/// B the bytes of a `k x n` matrix laid out by `k_int8_pack` (`ldb` 16-bit elements per pair
/// of rows, n of them used), x̂_r row r of x times `scales` (B's rows' scales, or none)
/// rounded to integers with `q_r` their unit: the exact integer sums, rounded to floats once.
/// Rows go I8_RB at a time: over weights past an eighth of L2 streaming them row after row,
/// otherwise through register tiles.
static void k_vecmat_many_int8(long m, long k, long n, float alpha, const float *x, long ldx, const float *scales,
                               const int16_t *b, long ldb, float beta, float *y, long ldy) {
    long kp = i8_padded_rows(k);
    int limit = i8_limit(kp);
    long rows = m < I8_RB ? m : I8_RB;
    size_t bytes = (size_t)rows * ((size_t)kp * sizeof(int16_t) + (size_t)n * sizeof(int32_t));
    // A lone row's scratch (the common case, several times a character) fits the stack.
    int32_t local[4096];
    void *scratch = bytes <= sizeof local ? local : malloc(bytes);
    if (!scratch) abort();
    int32_t *sums = scratch;
    int16_t *q = (int16_t *)(sums + rows * n);
    int streams = (size_t)(kp * n) > rk_l2_bytes() / 8;
    for (long r0 = 0; r0 < m; r0 += I8_RB) {
        int rb = m - r0 < I8_RB ? (int)(m - r0) : I8_RB;
        float scale[I8_RB];
        for (int r = 0; r < rb; r++)
            scale[r] = alpha * i8_quantize(k, kp, limit, x + (r0 + r) * ldx, scales, q + r * kp);
#define I8_STREAM(count) i8_stream(count, kp, n, q, b, ldb, sums)
        if (streams) I8_SWITCH_ROWS(rb, I8_STREAM)
        else i8_tiles(rb, kp, n, q, b, ldb, sums);
#undef I8_STREAM
        for (int r = 0; r < rb; r++) i8_finish(n, scale[r], sums + r * n, beta, y + (r0 + r) * ldy);
    }
    if (scratch != local) free(scratch);
}
