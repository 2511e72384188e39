// ---- bytes times 16-bit integers (int8 sampling) ----
//
// Included by kernels_body.h after gemm_body.h. B's weights are signed bytes (±127), laid out
// by `k_int8_pack`; each row of x is rounded to integers of at most 15 bits (its largest
// magnitude to `i8_limit`), and the products are summed exactly in 32-bit integers. Integer
// sums do not depend on their order: any tile of rows, any split of columns and every path
// (AVX-512, AVX2, SSE2 or plain C) gives the same sums, hence the same floats, so a seeded
// sample's text does not depend on what else is in its batch.

/// Rows of B padded to whole groups of the kernel: four pairs of rows.
static long i8_padded_rows(long k) { return (k + 7) / 8 * 8; }

/// The largest integer a row of x is rounded to for `kp` padded rows of bytes: every sum
/// then stays within `kp·127·limit < 2^31`.
static int i8_limit(long kp) {
    long limit = 2147483647L / (kp * 127);
    return limit < 32767 ? (int)limit : 32767;
}

/// 16-bit integers of B laid out by `k_int8_pack` for a `k x n` matrix.
static long k_int8_packed_size(long k, long n) { return i8_padded_rows(k) / 2 * n; }

/// Lays out the signed bytes of B (`k x n`, leading dimension `ldb`) for `k_vecmat_many_int8`:
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

/// Rounds `x` (`k` floats) to integers in `q` (`kp`, zero past `k`) at `limit / max|x|`, and
/// returns what their sums are worth per unit: `max|x| / limit`; 0 when x is all zero, NaN
/// (with `q` zero) when an element is not finite, so that the product is NaN as a float one
/// would be.
static float i8_quantize(long k, long kp, int limit, const float *x, int16_t *q) {
    float largest = 0;
    int finite = 1;
    for (long i = 0; i < k; i++) {
        float a = __builtin_fabsf(x[i]);
        finite &= a <= 3.40282347e38f;
        largest = a > largest ? a : largest;
    }
    if (!finite || largest == 0) {
        memset(q, 0, (size_t)kp * sizeof *q);
        return finite ? 0 : __builtin_nanf("");
    }
    float inverse = (float)limit / largest;
    for (long i = 0; i < k; i++) q[i] = (int16_t)__builtin_rintf(x[i] * inverse);
    for (long i = k; i < kp; i++) q[i] = 0;
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

/// Rows of x per tile (each widened weight serves them all) and columns per block (the
/// tile's sums stay in L1).
#define I8_RB 4
#define I8_CB 1024

/// `acc[r][j]` (rows `I8_CB` apart) = the integer sums of row `r` of `q` (`kp` apart) times
/// the first `nb` columns of B at `b` (pair rows `ldb` apart): four pair rows at a time,
/// each vector of weights widened once for all `rb` rows.
static inline __attribute__((always_inline)) void i8_tile(const int rb, long kp, long nb, const int16_t *q,
                                                         const int16_t *b, long ldb, int32_t *acc) {
    for (int r = 0; r < rb; r++) memset(acc + r * I8_CB, 0, (size_t)nb * sizeof *acc);
    long wide = nb / W * W;
    for (long i = 0; i < kp / 2; i += 4) {
        vw x[I8_RB][4];
        for (int r = 0; r < rb; r++)
            for (int u = 0; u < 4; u++) {
                int32_t pair;
                memcpy(&pair, q + r * kp + 2 * (i + u), sizeof pair);
                x[r][u] = (vw)((vi){0} + pair);
            }
        const int16_t *b0 = b + i * ldb, *b1 = b0 + ldb, *b2 = b1 + ldb, *b3 = b2 + ldb;
        long j = 0;
        for (; j < wide; j += W) {
            vw w0 = i8_widen(b0 + j), w1 = i8_widen(b1 + j), w2 = i8_widen(b2 + j), w3 = i8_widen(b3 + j);
            for (int r = 0; r < rb; r++) {
                int32_t *a = acc + r * I8_CB + j;
                vi sum;
                memcpy(&sum, a, sizeof sum);
                sum += (i8_madd(x[r][0], w0) + i8_madd(x[r][1], w1)) + (i8_madd(x[r][2], w2) + i8_madd(x[r][3], w3));
                memcpy(a, &sum, sizeof sum);
            }
        }
        for (; j < nb; j++)
            for (int r = 0; r < rb; r++) {
                const int16_t *qr = q + r * kp + 2 * i;
                int32_t sum = 0;
                const int16_t *rows[4] = {b0, b1, b2, b3};
                for (int u = 0; u < 4; u++)
                    sum += qr[2 * u] * (int8_t)(rows[u][j] & 0xff) + qr[2 * u + 1] * (int8_t)(rows[u][j] >> 8);
                acc[r * I8_CB + j] += sum;
            }
    }
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

/// `y_r = alpha·q_r·(x̂_r·B) + beta·y_r` for `m` rows of x (`ldx` apart; y's `ldy` apart),
/// B the bytes of a `k x n` matrix laid out by `k_int8_pack` (`ldb` 16-bit elements per pair
/// of rows, n of them used), x̂_r row r of x rounded to integers with `q_r` their unit: the
/// exact integer sums, rounded to floats once. Rows are taken four at a time; columns in
/// blocks of I8_CB.
static void k_vecmat_many_int8(long m, long k, long n, float alpha, const float *x, long ldx, const int16_t *b,
                               long ldb, float beta, float *y, long ldy) {
    long kp = i8_padded_rows(k);
    int limit = i8_limit(kp);
    size_t bytes = (size_t)I8_RB * (size_t)kp * sizeof(int16_t) + I8_RB * I8_CB * sizeof(int32_t);
    void *scratch = malloc(bytes);
    if (!scratch) abort();
    int32_t *acc = scratch;
    int16_t *q = (int16_t *)(acc + I8_RB * I8_CB);
    for (long r0 = 0; r0 < m; r0 += I8_RB) {
        int rb = m - r0 < I8_RB ? (int)(m - r0) : I8_RB;
        float scale[I8_RB];
        for (int r = 0; r < rb; r++) scale[r] = alpha * i8_quantize(k, kp, limit, x + (r0 + r) * ldx, q + r * kp);
        for (long j0 = 0; j0 < n; j0 += I8_CB) {
            long nb = n - j0 < I8_CB ? n - j0 : I8_CB;
            switch (rb) {
            case 1: i8_tile(1, kp, nb, q, b + j0, ldb, acc); break;
            case 2: i8_tile(2, kp, nb, q, b + j0, ldb, acc); break;
            case 3: i8_tile(3, kp, nb, q, b + j0, ldb, acc); break;
            default: i8_tile(4, kp, nb, q, b + j0, ldb, acc); break;
            }
            for (int r = 0; r < rb; r++) i8_finish(nb, scale[r], acc + r * I8_CB, beta, y + (r0 + r) * ldy + j0);
        }
    }
    free(scratch);
}
