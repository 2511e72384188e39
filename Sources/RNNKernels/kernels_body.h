// The kernels, written once over a vector of W floats, compiled once per instruction set.
//
// Included by kernels_<isa>.c, which defines W (lanes), MR (rows of the GEMM micro-tile),
// KERNEL_TABLE (the table's name), FUSED(a, b, c) (a·b + c) and wraps the include in a
// `#pragma clang attribute` that applies its target to every function here.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "RNNKernels.h"

typedef float vf __attribute__((vector_size(W * 4)));
typedef int32_t vi __attribute__((vector_size(W * 4)));

/// Columns of the GEMM micro-tile: two vectors.
#define NR (2 * W)
/// Depth of one packed block of the shared dimension.
#define KC 256
/// Rows of A packed together (a multiple of MR).
#define MC (MR * 8)
/// Columns of B per block: a KC x NC block of packed B (1 MiB) stays in L2.
#define NC 1024

static inline vf ld(const float *p) {
    vf v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}
static inline void st(float *p, vf v) { __builtin_memcpy(p, &v, sizeof v); }
// x + (−0) is x for every x, so this folds to a plain broadcast (x + 0 would not: −0 + 0 = +0).
static inline vf splat(float x) { return -(vf){0} + x; }
// The first `n` (< W) lanes: masked loads and stores where the instruction set has them (a
// load zero-fills the lanes past `n`; a store leaves the memory past `n` alone).
#if defined(RK_MASKED_AVX512)
static inline vf ld_n(const float *p, long n) { return (vf)_mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1), p); }
static inline void st_n(float *p, vf v, long n) { _mm512_mask_storeu_ps(p, (__mmask16)((1u << n) - 1), (__m512)v); }
#elif defined(RK_MASKED_AVX2)
static inline __m256i lanes_below(long n) {
    const vi iota = {0, 1, 2, 3, 4, 5, 6, 7};
    return (__m256i)(iota < (int)n);
}
static inline vf ld_n(const float *p, long n) { return (vf)_mm256_maskload_ps(p, lanes_below(n)); }
static inline void st_n(float *p, vf v, long n) { _mm256_maskstore_ps(p, lanes_below(n), (__m256)v); }
#else
static inline vf ld_n(const float *p, long n) {
    float t[W] = {0};
    for (long i = 0; i < n; i++) t[i] = p[i];
    return ld(t);
}
static inline void st_n(float *p, vf v, long n) {
    float t[W];
    st(t, v);
    for (long i = 0; i < n; i++) p[i] = t[i];
}
#endif
// Two vectors as one value: each operation on it compiles to the same instruction on both
// halves, side by side, so that two independent chains of a long activation overlap.
// Static functions only: the ABI of 2W-lane arguments (which -Wpsabi warns about without AVX)
// never meets another object file.
#pragma clang diagnostic ignored "-Wpsabi"
typedef float vf2 __attribute__((vector_size(2 * W * 4)));
typedef int32_t vi2 __attribute__((vector_size(2 * W * 4)));
static inline vf2 ld2(const float *p) {
    vf2 v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}
static inline void st2(float *p, vf2 v) { __builtin_memcpy(p, &v, sizeof v); }

// ---- exp, sigmoid, tanh (Cephes' expf; the same math as the engine's reference) ----

/// Defines `NAME<S>(x)`: Cephes' expf over the vector type `T` (integer twin `TI`), its
/// multiply-adds fused or not as the pragma `CONTRACT` says; needs `select_where<S>`.
#define EXP_FUNCTION(NAME, CONTRACT, S, T, TI)                                                \
    static inline T NAME##S(T x) {                                                            \
        _Pragma(CONTRACT)                                                                     \
        const T zero = -(T){0};                                                               \
        /* Compare-and-select rather than min/max, so that NaN stays NaN. */                  \
        x = select_where##S(x < zero - 87.3f, zero - 87.3f, x);                               \
        x = select_where##S(x > zero + 88.0f, zero + 88.0f, x);                               \
        /* Adding 1.5·2^23 rounds to the nearest integer n and leaves n in the low bits. */    \
        T shifted = x * 1.44269504f + 12582912.0f;                                            \
        T n = shifted - 12582912.0f;                                                          \
        T r = x - n * 0.693359375f + n * 2.1219444e-4f;                                       \
        T p = zero + 1.98756915e-4f;                                                          \
        p = p * r + 1.3981999507e-3f;                                                         \
        p = p * r + 8.3334519073e-3f;                                                         \
        p = p * r + 4.1665795894e-2f;                                                         \
        p = p * r + 1.6666665459e-1f;                                                         \
        p = p * r + 5.0000001201e-1f;                                                         \
        p = p * r * r + r + 1.0f;                                                             \
        TI e = (TI)shifted - 0x4B400000;                                                      \
        T scale = (T)((e + 127) << 23);                                                       \
        return p * scale;                                                                     \
    }

/// Defines `select_where<S>`, `v_exp<S>`, `v_sigmoid<S>` and `v_tanh<S>` over the vector
/// type `T` (integer twin `TI`): per lane the same operations whatever the width.
#define ACTIVATIONS(S, T, TI)                                                                 \
    static inline T select_where##S(TI m, T a, T b) { return (T)((m & (TI)a) | (~m & (TI)b)); } \
                                                                                              \
    /* Unfused, as the engine's reference: the same digits on every path. */                  \
    EXP_FUNCTION(v_exp, "clang fp contract(off)", S, T, TI)                                   \
                                                                                              \
    static inline T v_sigmoid##S(T x) { return 1.0f / (1.0f + v_exp##S(-x)); }               \
                                                                                              \
    /* tanh: 1 − 2/(e^{2|x|} + 1) with the sign restored, and below |x| < 0.55 (where that    \
       subtraction would cancel up to two bits) the odd Taylor series to x^19, whose          \
       truncation error there is 6e-10 relative. The seed's gradients against numpy hinge on  \
       these digits. */                                                                       \
    static inline T v_tanh##S(T x) {                                                          \
        _Pragma("clang fp contract(off)")                                                     \
        const T zero = -(T){0};                                                               \
        T a = (T)((TI)x & 0x7FFFFFFF);                                                        \
        T big = 1.0f - 2.0f / (v_exp##S(2.0f * a) + 1.0f);                                    \
        T a2 = a * a;                                                                         \
        T small = zero + -443861162.0f / 1856156927625.0f;                                    \
        small = small * a2 + 6404582.0f / 10854718875.0f;                                     \
        small = small * a2 - 929569.0f / 638512875.0f;                                        \
        small = small * a2 + 21844.0f / 6081075.0f;                                           \
        small = small * a2 - 1382.0f / 155925.0f;                                             \
        small = small * a2 + 62.0f / 2835.0f;                                                 \
        small = small * a2 - 17.0f / 315.0f;                                                  \
        small = small * a2 + 2.0f / 15.0f;                                                    \
        small = small * a2 - 1.0f / 3.0f;                                                     \
        small = (small * a2 * a) + a;                                                         \
        T magnitude = select_where##S(a < zero + 0.55f, small, big);                          \
        return select_where##S(x < zero + 0.0f, -magnitude, magnitude);                       \
    }
ACTIVATIONS(, vf, vi)
ACTIVATIONS(2, vf2, vi2)

/// Defines `q_tanh<S>` and `q_sigmoid<S>`: quicker activations for sampling and training's
/// LSTM forward, within about 4e-7 (absolute) of the ones above. tanh is Eigen's rational
/// approximation (odd degree 13 over even degree 6, in fused multiply-adds where the path
/// has them) on `x` clamped to ±9, its result clamped to ±1 (between about 8.2 and 9 it
/// overshoots to ±1.00000024, which put gates outside [0, 1]); `σ(x) = ½ + ½·tanh(x/2)`.
/// One division and no exponential each: the LSTM cell went from 2.1 to 1.5 ns a unit
/// (AVX-512, 8 rows of 128 units), where the exponential's polynomial and its clamps were
/// most of the cost. NaN stays NaN.
#define QUICK_ACTIVATIONS(S, T, TI)                                                           \
    static inline T q_tanh##S(T x) {                                                          \
        _Pragma("clang fp contract(on)")                                                      \
        const T zero = -(T){0};                                                               \
        x = select_where##S(x < zero - 9.0f, zero - 9.0f, x);                                 \
        x = select_where##S(x > zero + 9.0f, zero + 9.0f, x);                                 \
        T x2 = x * x;                                                                         \
        T p = zero + -2.76076847742355e-16f;                                                  \
        p = p * x2 + 2.00018790482477e-13f;                                                   \
        p = p * x2 + -8.60467152213735e-11f;                                                  \
        p = p * x2 + 5.12229709037114e-08f;                                                   \
        p = p * x2 + 1.48572235717979e-05f;                                                   \
        p = p * x2 + 6.37261928875436e-04f;                                                   \
        p = p * x2 + 4.89352455891786e-03f;                                                   \
        T q = zero + 1.19825839466702e-06f;                                                   \
        q = q * x2 + 1.18534705686654e-04f;                                                   \
        q = q * x2 + 2.26843463243900e-03f;                                                   \
        q = q * x2 + 4.89352518554385e-03f;                                                   \
        T t = p * x / q;                                                                      \
        t = select_where##S(t > zero + 1.0f, zero + 1.0f, t);                                 \
        return select_where##S(t < zero - 1.0f, zero - 1.0f, t);                              \
    }                                                                                         \
    static inline T q_sigmoid##S(T x) {                                                       \
        _Pragma("clang fp contract(on)")                                                      \
        return 0.5f + 0.5f * q_tanh##S(0.5f * x);                                             \
    }
QUICK_ACTIVATIONS(, vf, vi)
QUICK_ACTIVATIONS(2, vf2, vi2)

#define ELEMENTWISE(name, f)                                                                  \
    static void name(const float *x, float *y, long count) {                                  \
        long i = 0;                                                                           \
        for (; i + 2 * W <= count; i += 2 * W) st2(y + i, f##2(ld2(x + i)));                  \
        for (; i + W <= count; i += W) st(y + i, f(ld(x + i)));                               \
        if (i < count) st_n(y + i, f(ld_n(x + i, count - i)), count - i);                    \
    }
ELEMENTWISE(k_exp, v_exp)
ELEMENTWISE(k_sigmoid, v_sigmoid)
ELEMENTWISE(k_tanh, v_tanh)

// ---- cells ----

/// Walks `j` over `0..<hidden` by vectors; `n` is how many lanes are real.
#define FOR_LANES(hidden, ...)                                                                \
    for (long j = 0; j < (hidden); j += W) {                                                  \
        long n = (hidden) - j < W ? (hidden) - j : W;                                         \
        __VA_ARGS__                                                                           \
    }
#define LD(p) (n == W ? ld(p) : ld_n((p), n))
#define ST(p, v) (n == W ? st((p), (v)) : st_n((p), (v), n))
#define LD2(p) ld2(p)
#define ST2(p, v) st2((p), (v))
/// Two-vector twins of the cell kernels' lanes (suffix 2, type `vf2`, loads `LD2`) beside the
/// one-vector ones (no suffix, `vf`, `LD` with `n` lanes real): a cell body is written once
/// as `NAME_LANES(S, T, LOAD, STORE)` and each lane meets the same operations either way.
/// Two independent chains of exp and division side by side keep the vector units busy where
/// one chain would leave them waiting on its latency.
#define CELL_TWINS(define) define(, vf, LD, ST) define(2, vf2, LD2, ST2)

/// LSTM gates and cell for the lanes from `j` (`n` real) of one batch row: `row` holds the
/// row's four gate pre-activations (replaced by their activations), `s`-offset state;
/// `NAME` with the activations `SIGMOID` and `TANH`.
#define LSTM_LANES(NAME, SIGMOID, TANH, S, T, LOAD, STORE)                                                 \
    static inline __attribute__((always_inline)) void NAME##S(                  \
        float *row, long hidden, const float *cPrev, float *c, float *tanhC, float *h, long j, long n) { \
        (void)n;                                                                              \
        T i = SIGMOID##S(LOAD(row + j));                                                    \
        T f = SIGMOID##S(LOAD(row + hidden + j));                                           \
        T g = TANH##S(LOAD(row + 2 * hidden + j));                                          \
        T o = SIGMOID##S(LOAD(row + 3 * hidden + j));                                       \
        STORE(row + j, i);                                                                    \
        STORE(row + hidden + j, f);                                                           \
        STORE(row + 2 * hidden + j, g);                                                       \
        STORE(row + 3 * hidden + j, o);                                                       \
        T cn = f * LOAD(cPrev + j) + i * g;                                                   \
        T t = TANH##S(cn);                                                                  \
        STORE(c + j, cn);                                                                     \
        STORE(tanhC + j, t);                                                                  \
        STORE(h + j, o * t);                                                                  \
    }
#define LSTM_FORWARD_LANES(S, T, LOAD, STORE) LSTM_LANES(lstm_forward_lanes, v_sigmoid, v_tanh, S, T, LOAD, STORE)
#define LSTM_SAMPLING_LANES(S, T, LOAD, STORE) LSTM_LANES(lstm_sampling_lanes, q_sigmoid, q_tanh, S, T, LOAD, STORE)
CELL_TWINS(LSTM_FORWARD_LANES)
CELL_TWINS(LSTM_SAMPLING_LANES)

/// Runs `lanes##2` over the pairs of vectors of `0..<hidden` and `lanes` over what is left.
#define WALK_LANES(hidden, lanes, ...)                                                        \
    {                                                                                         \
        long j = 0;                                                                           \
        for (; j + 2 * W <= (hidden); j += 2 * W) lanes##2(__VA_ARGS__, j, 2 * W);            \
        for (; j < (hidden); j += W) lanes(__VA_ARGS__, j, (hidden) - j < W ? (hidden) - j : W); \
    }

static void k_lstm_forward(long batch, long hidden, float *a, const float *cPrev, float *c, float *tanhC,
                           float *h) {
    for (long b = 0; b < batch; b++) {
        long s = b * hidden;
        WALK_LANES(hidden, lstm_forward_lanes, a + b * 4 * hidden, hidden, cPrev + s, c + s, tanhC + s, h + s)
    }
}

/// `k_lstm_forward` with the quicker activations, for sampling and training's forward.
static void k_lstm_forward_quick(long batch, long hidden, float *a, const float *cPrev, float *c, float *tanhC,
                                 float *h) {
    for (long b = 0; b < batch; b++) {
        long s = b * hidden;
        WALK_LANES(hidden, lstm_sampling_lanes, a + b * 4 * hidden, hidden, cPrev + s, c + s, tanhC + s, h + s)
    }
}

static void k_lstm_backward(long batch, long hidden, const float *gates, const float *cPrev,
                            const float *tanhC, const float *dh, float *dc, float *da) {
    for (long b = 0; b < batch; b++) {
        const float *g = gates + b * 4 * hidden;
        float *d = da + b * 4 * hidden;
        long s = b * hidden;
        FOR_LANES(hidden, {
            vf i = LD(g + j), f = LD(g + hidden + j), gg = LD(g + 2 * hidden + j), o = LD(g + 3 * hidden + j);
            vf t = LD(tanhC + s + j);
            vf dhj = LD(dh + s + j);
            vf dcj = LD(dc + s + j) + dhj * o * (1.0f - t * t);
            ST(d + j, dcj * gg * i * (1.0f - i));
            ST(d + hidden + j, dcj * LD(cPrev + s + j) * f * (1.0f - f));
            ST(d + 2 * hidden + j, dcj * i * (1.0f - gg * gg));
            ST(d + 3 * hidden + j, dhj * t * o * (1.0f - o));
            ST(dc + s + j, dcj * f);
        })
    }
}

/// GRU gates and new state for the lanes from `j` (`n` real) of one batch row: `row` holds
/// the input parts (replaced by r, z and the candidate), `hrow` the hidden parts.
#define GRU_FORWARD_LANES(S, T, LOAD, STORE)                                                  \
    static inline __attribute__((always_inline)) void gru_forward_lanes##S(                   \
        float *row, const float *hrow, long hidden, const float *hPrev, float *h, long j, long n) { \
        (void)n;                                                                              \
        T r = v_sigmoid##S(LOAD(row + j) + LOAD(hrow + j));                                   \
        T z = v_sigmoid##S(LOAD(row + hidden + j) + LOAD(hrow + hidden + j));                 \
        T nn = v_tanh##S(LOAD(row + 2 * hidden + j) + r * LOAD(hrow + 2 * hidden + j));       \
        STORE(row + j, r);                                                                    \
        STORE(row + hidden + j, z);                                                           \
        STORE(row + 2 * hidden + j, nn);                                                      \
        STORE(h + j, (1.0f - z) * nn + z * LOAD(hPrev + j));                                  \
    }
CELL_TWINS(GRU_FORWARD_LANES)

static void k_gru_forward(long batch, long hidden, float *a, const float *gh, const float *hPrev, float *h) {
    for (long b = 0; b < batch; b++) {
        long s = b * hidden;
        WALK_LANES(hidden, gru_forward_lanes, a + b * 3 * hidden, gh + b * 3 * hidden, hidden, hPrev + s, h + s)
    }
}

static void k_gru_backward(long batch, long hidden, const float *gates, const float *gh, const float *hPrev,
                           const float *dh, float *dax, float *dgh, float *dhDirect) {
    for (long b = 0; b < batch; b++) {
        const float *g = gates + b * 3 * hidden;
        const float *hn = gh + b * 3 * hidden + 2 * hidden;
        float *dx = dax + b * 3 * hidden;
        float *dhh = dgh + b * 3 * hidden;
        long s = b * hidden;
        FOR_LANES(hidden, {
            vf r = LD(g + j), z = LD(g + hidden + j), nn = LD(g + 2 * hidden + j);
            vf dhj = LD(dh + s + j);
            vf dn = dhj * (1.0f - z) * (1.0f - nn * nn);
            vf dz = dhj * (LD(hPrev + s + j) - nn) * z * (1.0f - z);
            vf dr = dn * LD(hn + j) * r * (1.0f - r);
            ST(dx + j, dr);
            ST(dx + hidden + j, dz);
            ST(dx + 2 * hidden + j, dn);
            ST(dhh + j, dr);
            ST(dhh + hidden + j, dz);
            ST(dhh + 2 * hidden + j, dn * r);
            ST(dhDirect + s + j, dhj * z);
        })
    }
}

// ---- optimizers: the same operations in the same order in the vector body and the scalar
// tail, unfused, so that results depend neither on n % W nor on the path ----

/// `1/√x` within a few units in the last place (0 for +∞): the instruction set's estimate
/// and one Newton step, five times cheaper than a square root and a division on AVX-512
/// (Adagrad's update was 15% of the seed's training step).
static inline vf rsqrt_newton(vf x) {
#if defined(RK_MASKED_AVX512)
    vf y = (vf)_mm512_rsqrt14_ps((__m512)x);
#elif defined(RK_MASKED_AVX2)
    vf y = (vf)_mm256_rsqrt_ps((__m256)x);
#elif defined(__SSE__) && W == 4
    vf y = (vf)_mm_rsqrt_ps((__m128)x);
#else
    vf y = 1.0f / __builtin_elementwise_sqrt(x);
#endif
    y = y * (1.5f - 0.5f * x * y * y);
    // The step turns the estimate 0 of 1/√∞ into ∞·NaN; the division gave 0.
    return (vf)((vi)y & ~(vi)(x == splat(__builtin_inff())));
}

static void k_adagrad(long n, float lr, float eps, const float *g, float *m, float *p) {
#pragma clang fp contract(off)
    long i = 0;
    for (; i + W <= n; i += W) {
        vf gi = ld(g + i);
        vf mi = ld(m + i) + gi * gi;
        st(m + i, mi);
        st(p + i, ld(p + i) - lr * gi * rsqrt_newton(mi + eps));
    }
    for (; i < n; i++) {
        m[i] += g[i] * g[i];
        p[i] -= lr * g[i] / __builtin_sqrtf(m[i] + eps);
    }
}

static void k_rmsprop(long n, float lr, float alpha, float eps, const float *g, float *v, float *p) {
#pragma clang fp contract(off)
    long i = 0;
    for (; i + W <= n; i += W) {
        vf gi = ld(g + i);
        vf vi = alpha * ld(v + i) + (1.0f - alpha) * gi * gi;
        st(v + i, vi);
        st(p + i, ld(p + i) - lr * gi / (__builtin_elementwise_sqrt(vi) + eps));
    }
    for (; i < n; i++) {
        v[i] = alpha * v[i] + (1.0f - alpha) * g[i] * g[i];
        p[i] -= lr * g[i] / (__builtin_sqrtf(v[i]) + eps);
    }
}

static void k_adam(long n, float stepSize, float beta1, float beta2, float c2Root, float eps, const float *g, float *m,
                   float *v, float *p) {
#pragma clang fp contract(off)
    long i = 0;
    for (; i + W <= n; i += W) {
        vf gi = ld(g + i);
        vf mi = beta1 * ld(m + i) + (1.0f - beta1) * gi;
        vf vi = beta2 * ld(v + i) + (1.0f - beta2) * gi * gi;
        st(m + i, mi);
        st(v + i, vi);
        st(p + i, ld(p + i) - stepSize * mi / (__builtin_elementwise_sqrt(vi) / c2Root + eps));
    }
    for (; i < n; i++) {
        m[i] = beta1 * m[i] + (1.0f - beta1) * g[i];
        v[i] = beta2 * v[i] + (1.0f - beta2) * g[i] * g[i];
        p[i] -= stepSize * m[i] / (__builtin_sqrtf(v[i]) / c2Root + eps);
    }
}

// ---- whole-gradient operations ----

typedef double vd __attribute__((vector_size(W * 4)));
typedef float vh __attribute__((vector_size(W * 2)));

static inline vd ld_half_as_double(const float *p) {
    vh h;
    __builtin_memcpy(&h, p, sizeof h);
    return __builtin_convertvector(h, vd);
}

/// `v` clamped to ±limit lane by lane (`hi` = limit, `lo` = −limit); NaN stays NaN.
static inline vf clamp_lanes(vf v, vf hi, vf lo) {
    v = select_where(v > hi, hi, v);
    return select_where(v < lo, lo, v);
}

/// `x` clamped to ±limit; NaN stays NaN.
static inline float clamp_one(float x, float limit) { return x > limit ? limit : (x < -limit ? -limit : x); }

/// `Σ x_i²` in double, in the same order whether or not `clamping`; with it, each element is
/// then clamped to ±`limit` in place (the value clipping's pass, which read the gradient
/// again: 3% of the seed's step).
static inline __attribute__((always_inline)) double sum_squares_then_clamp(long n, float *x, const int clamping,
                                                                            float limit) {
    vd a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
    vf hi = splat(limit), lo = splat(-limit);
    const long step = 2 * W;
    long i = 0;
    for (; i + step <= n; i += step) {
        vd d0 = ld_half_as_double(x + i), d1 = ld_half_as_double(x + i + W / 2);
        vd d2 = ld_half_as_double(x + i + W), d3 = ld_half_as_double(x + i + 3 * W / 2);
        a0 += d0 * d0;
        a1 += d1 * d1;
        a2 += d2 * d2;
        a3 += d3 * d3;
        if (clamping)
            for (long part = i; part < i + step; part += W) st(x + part, clamp_lanes(ld(x + part), hi, lo));
    }
    vd a = (a0 + a1) + (a2 + a3);
    double sum = 0;
    for (int l = 0; l < W / 2; l++) sum += a[l];
    for (; i < n; i++) {
        sum += (double)x[i] * (double)x[i];
        if (clamping) x[i] = clamp_one(x[i], limit);
    }
    return sum;
}

static double k_sum_squares(long n, const float *x) { return sum_squares_then_clamp(n, (float *)x, 0, 0); }

static double k_sum_squares_then_clamp(long n, float limit, float *x) { return sum_squares_then_clamp(n, x, 1, limit); }

static void k_clamp(long n, float limit, float *x) {
    vf hi = splat(limit), lo = splat(-limit);
    long i = 0;
    for (; i + W <= n; i += W) st(x + i, clamp_lanes(ld(x + i), hi, lo));
    for (; i < n; i++) x[i] = clamp_one(x[i], limit);
}

/// The largest of `x[0..<v]` as a scalar loop from `x[0]` finds it, whatever W: a NaN is
/// skipped unless it is `x[0]`, which then makes the result NaN.
static inline float row_max(const float *x, long v) {
    float m = x[0];
    long i = 0;
    if (v >= W) {
        vf mx = splat(m);
        for (; i + W <= v; i += W) {
            vf e = ld(x + i);
            mx = select_where(e > mx, e, mx);
        }
        for (int l = 0; l < W; l++)
            if (mx[l] > m) m = mx[l];
    }
    for (; i < v; i++)
        if (x[i] > m) m = x[i];
    return m;
}

static void k_softmax_xent(long rows, long v, float *logits, const int32_t *targets, const float *weights,
                           float scale, double *sums) {
    double loss = 0, total = 0;
    for (long r = 0; r < rows; r++) {
        float *row = logits + r * v;
        float w = weights ? weights[r] : 1;
        // A NaN poisons the sum below, and the loss and the row come out NaN, as they should.
        float m = row_max(row, v);
        long i;
        long target = targets[r];
        // −log p = log Σ e^{x−m} − (x_target − m), taken before p[target] can underflow to 0.
        float shifted = row[target] - m;
        vf sv = splat(0);
        for (i = 0; i + W <= v; i += W) {
            vf e = v_exp(ld(row + i) - m);
            st(row + i, e);
            sv += e;
        }
        float sum = 0;
        for (int l = 0; l < W; l++) sum += sv[l];
        if (i < v) {
            st_n(row + i, v_exp(ld_n(row + i, v - i) - m), v - i);
            for (; i < v; i++) sum += row[i];
        }
        loss += (double)w * ((double)logf(sum) - (double)shifted);
        total += w;
        vf k = splat(w * scale / sum);
        for (i = 0; i + W <= v; i += W) st(row + i, ld(row + i) * k);
        if (i < v) st_n(row + i, ld_n(row + i, v - i) * k, v - i);
        row[target] -= w * scale;
    }
    sums[0] += loss;
    sums[1] += total;
}

/// A draw's weights from one row of `v` logits: `p_j = e^{(x_j − max)·invT}` (the exact
/// exponential), their sum returned, summed in 16 running partials (element `j` into partial
/// `j % 16`) and then a fixed tree, so every path gives the same bits; NULL `p` skips them.
/// The logits' bits are folded into `*fingerprint` first (four interleaved FNV-1a chains, so
/// that the fold is not one chain of dependent multiplies).
static float k_draw_weights(long v, const float *logits, float invT, float *p, uint64_t *fingerprint) {
    uint64_t chains[4] = {*fingerprint, *fingerprint ^ 1, *fingerprint ^ 2, *fingerprint ^ 3};
    for (long j = 0; j < v; j++) {
        uint32_t bits;
        memcpy(&bits, logits + j, sizeof bits);
        chains[j & 3] = (chains[j & 3] ^ bits) * 0x100000001b3ull;
    }
    uint64_t folded = *fingerprint;
    for (int c = 0; c < 4; c++) folded = (folded ^ chains[c]) * 0x100000001b3ull;
    *fingerprint = folded;
    if (!p) return 0;
    float m = row_max(logits, v);
    long i;
    float partial[16] = {0};
    for (i = 0; i + W <= v; i += W) {
        vf e = v_exp((ld(logits + i) - m) * invT);
        st(p + i, e);
        // Element i + l into partial (i + l) % 16: W divides 16 on every path.
        vf acc = ld(partial + i % 16);
        st(partial + i % 16, acc + e);
    }
    if (i < v) {
        st_n(p + i, v_exp((ld_n(logits + i, v - i) - m) * invT), v - i);
        for (; i < v; i++) partial[i % 16] += p[i];
    }
    for (int width = 8; width >= 1; width /= 2)
        for (int l = 0; l < width; l++) partial[l] += partial[l + width];
    return partial[0];
}

static void k_add_column_sums(long rows, long columns, const float *m, long stride, float *out) {
    long j = 0;
    // Four vectors of columns summed down the rows in registers, then added once.
    for (; j + 4 * W <= columns; j += 4 * W) {
        vf a0 = splat(0), a1 = splat(0), a2 = splat(0), a3 = splat(0);
        for (long r = 0; r < rows; r++) {
            const float *row = m + r * stride + j;
            a0 += ld(row);
            a1 += ld(row + W);
            a2 += ld(row + 2 * W);
            a3 += ld(row + 3 * W);
        }
        st(out + j, ld(out + j) + a0);
        st(out + j + W, ld(out + j + W) + a1);
        st(out + j + 2 * W, ld(out + j + 2 * W) + a2);
        st(out + j + 3 * W, ld(out + j + 3 * W) + a3);
    }
    for (; j < columns; j += W) {
        long n = columns - j < W ? columns - j : W;
        vf a = splat(0);
        for (long r = 0; r < rows; r++) a += ld_n(m + r * stride + j, n);
        st_n(out + j, ld_n(out + j, n) + a, n);
    }
}

#include "gemm_body.h"
#include "vecmat_int8_body.h"
#include "dropout_body.h"

const rk_kernels KERNEL_TABLE = {
    .sgemm = k_sgemm,
    .packed_size = k_packed_size,
    .pack = k_pack,
    .sgemm_packed = k_sgemm_packed,
    .vecmat = k_vecmat,
    .matvec = k_matvec,
    .matvec_many = k_matvec_many,
    .vecmat_many = k_vecmat_many,
    .vecmat_packs = k_vecmat_packs,
    .vecmat_pack = k_vecmat_pack,
    .vecmat_many_packed = k_vecmat_many_packed,
    .vecmat_many_int8 = k_vecmat_many_int8,
    .lstm_forward_quick = k_lstm_forward_quick,
    .int8_packed_size = k_int8_packed_size,
    .int8_pack = k_int8_pack,
#if defined(RK_HALF_AVX512) || defined(RK_HALF_F16C)
    .vecmat_many_half = k_vecmat_many_half,
    .to_half = k_to_half,
    .from_half = k_from_half,
#endif
    .exp = k_exp,
    .sigmoid = k_sigmoid,
    .tanh = k_tanh,
    .lstm_forward = k_lstm_forward,
    .lstm_backward = k_lstm_backward,
    .gru_forward = k_gru_forward,
    .gru_backward = k_gru_backward,
    .adagrad = k_adagrad,
    .rmsprop = k_rmsprop,
    .adam = k_adam,
    .sum_squares = k_sum_squares,
    .clamp = k_clamp,
    .sum_squares_then_clamp = k_sum_squares_then_clamp,
    .softmax_xent = k_softmax_xent,
    .add_column_sums = k_add_column_sums,
    .draw_weights = k_draw_weights,
    .dropout = k_dropout,
};
