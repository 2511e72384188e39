// RNNKernels: the hot products and gate kernels of rnnd's engine, compiled once per
// instruction set (portable SSE2, AVX2+FMA, AVX-512) and chosen at run time from cpuid.
#ifndef RNN_KERNELS_H
#define RNN_KERNELS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The instruction-set paths a build can hold.
typedef enum {
    RK_PATH_PORTABLE = 0,
    RK_PATH_AVX2 = 1,
    RK_PATH_AVX512 = 2,
} rk_path;

/// One path's kernels. Every matrix is row-major single precision.
typedef struct {
    /// `C = alpha·op(A)·op(B) + beta·C`; `beta == 0` never reads `C`.
    void (*sgemm)(int transA, int transB, long m, long n, long k, float alpha, const float *a, long lda,
                  const float *b, long ldb, float beta, float *c, long ldc);
    /// Floats that `pack` writes for an operand `op(B)` of `k x n` (depends on the path).
    long (*packed_size)(long k, long n);
    /// Packs `op(B)` (`k x n`; stored `n x k` when `transB`) for many products against it.
    void (*pack)(int transB, long k, long n, const float *b, long ldb, float *out);
    /// `C = alpha·op(A)·B + beta·C` with `B` packed by `pack` of the same path; one thread.
    void (*sgemm_packed)(int transA, long m, long n, long k, float alpha, const float *a, long lda,
                         const float *packed, float beta, float *c, long ldc);
    /// `y = alpha·(x·B) + beta·y`, `x` of length `k`, `B` `k x n`.
    void (*vecmat)(long k, long n, float alpha, const float *x, const float *b, long ldb, float beta, float *y);
    /// `y_r = alpha·(x_r·B) + beta·y_r` for `m` rows, each exactly as `vecmat` computes it
    /// alone (batched sampling: a row's text does not depend on the rows beside it).
    void (*vecmat_many)(long m, long k, long n, float alpha, const float *x, long ldx, const float *b, long ldb,
                        float beta, float *y, long ldy);
    /// Whether `vecmat_many` computes `k x n` products on its column path (B fits an eighth
    /// of L2) rather than its row path.
    int (*vecmat_packs)(long k, long n);
    /// Lays `B` (`k x n`) out for `vecmat_many_packed` (`k·n` floats).
    void (*vecmat_pack)(long k, long n, const float *b, long ldb, float *out);
    /// `vecmat_many` with `B` laid out by `vecmat_pack`, on the same path, bit for bit the
    /// same results.
    void (*vecmat_many_packed)(long m, long k, long n, float alpha, const float *x, long ldx, const float *packed,
                               float beta, float *y, long ldy);
    /// `vecmat_many` for `k x n` on its row path (`vecmat_packs` 0) with `B`'s elements as
    /// IEEE half floats: bit for bit `vecmat_many` over them widened to floats, half the
    /// bytes to read. NULL on paths without half-float conversions (portable).
    void (*vecmat_many_half)(long m, long k, long n, float alpha, const float *x, long ldx, const uint16_t *b,
                             long ldb, float beta, float *y, long ldy);
    /// `y_r = alpha·q_r·(x̂_r·B) + beta·y_r` for `m` rows, `B` the signed bytes (±127) of a
    /// `k x n` matrix (`k` below 66,000) laid out by `int8_pack` (the first `n` columns of
    /// what it laid out; column `j`, a multiple of 32, starts at `int8_packed_size(k, j)`
    /// elements), `x̂_r` row `r` of `x` times `scales` elementwise (NULL: none) rounded to
    /// signed bytes (its largest magnitude to ±127) at `q_r` each: exact integer sums, so
    /// every row, tile, column split, path and instruction (VNNI or not) gives the same
    /// bits. Every path.
    void (*vecmat_many_int8)(long m, long k, long n, float alpha, const float *x, long ldx, const float *scales,
                             const uint32_t *b, float beta, float *y, long ldy);
    /// 32-bit elements `int8_pack` writes for a `k x n` matrix.
    long (*int8_packed_size)(long k, long n);
    /// Lays out signed bytes (`k x n`, leading dimension `ldb`, each within ±127) for
    /// `vecmat_many_int8`: rows in groups of four, each element one column's four bytes (row
    /// 4i's lowest) each plus 128, in blocks of 32 columns (each block's groups one after
    /// another), zero rows padding `k` to a multiple of 8 and zero columns the last block.
    /// The same layout on every path.
    void (*int8_pack)(long k, long n, const int8_t *b, long ldb, uint32_t *out);
    /// `out = x` rounded to half floats (ties to even): 1, or 0 when an element is not finite
    /// or beyond ±65504. NULL on the portable path.
    int (*to_half)(long n, const float *x, uint16_t *out);
    /// `out = h` widened from half floats, exactly. NULL on the portable path.
    void (*from_half)(long n, const uint16_t *h, float *out);
    /// `y = alpha·(B·x) + beta·y`, `B` `n x k`, `x` of length `k`.
    void (*matvec)(long n, long k, float alpha, const float *b, long ldb, const float *x, float beta, float *y);
    /// `y_t = alpha·(B·x_t) + beta·y_t` for `m` vectors `x_t`, each exactly as `matvec`
    /// computes it alone.
    void (*matvec_many)(long m, long n, long k, float alpha, const float *b, long ldb, const float *x, long ldx,
                        float beta, float *y, long ldy);
    void (*exp)(const float *x, float *y, long count);
    void (*sigmoid)(const float *x, float *y, long count);
    void (*tanh)(const float *x, float *y, long count);
    /// LSTM gates after the recurrent product: `a` (`B x 4H`, pre-activations in, activated
    /// `i f g o` out), `c = f∘cPrev + i∘g`, `tanhC = tanh(c)`, `h = o∘tanhC`.
    void (*lstm_forward)(long batch, long hidden, float *a, const float *cPrev, float *c, float *tanhC, float *h);
    /// `lstm_forward` for sampling and training's forward (evaluation keeps `lstm_forward`):
    /// the activations within about 4e-7 (absolute) of its own (tanh a rational function, σ
    /// from tanh), about 3 times as fast.
    void (*lstm_forward_quick)(long batch, long hidden, float *a, const float *cPrev, float *c, float *tanhC,
                               float *h);
    /// LSTM, one step back: pre-activation gradients into `da`, `dc` from `dc_t` to `dc_{t-1}`.
    void (*lstm_backward)(long batch, long hidden, const float *gates, const float *cPrev, const float *tanhC,
                          const float *dh, float *dc, float *da);
    /// GRU gates after `gh = hPrev·W_hhᵀ + b_hh`: activated `r z n` into `a`, new state into `h`.
    void (*gru_forward)(long batch, long hidden, float *a, const float *gh, const float *hPrev, float *h);
    /// GRU, one step back (see CellKernels+Backward.swift for the outputs).
    void (*gru_backward)(long batch, long hidden, const float *gates, const float *gh, const float *hPrev,
                         const float *dh, float *dax, float *dgh, float *dhDirect);
    /// Adagrad: `m += g²; p −= lr·g/√(m + eps)`.
    void (*adagrad)(long n, float lr, float eps, const float *g, float *m, float *p);
    /// RMSProp: `v = α·v + (1−α)·g²; p −= lr·g/(√v + eps)`.
    void (*rmsprop)(long n, float lr, float alpha, float eps, const float *g, float *v, float *p);
    /// Adam with bias correction folded into `stepSize = lr/(1−β1^t)` and `c2Root = √(1−β2^t)`.
    void (*adam)(long n, float stepSize, float beta1, float beta2, float c2Root, float eps, const float *g, float *m,
                 float *v, float *p);
    /// `Σ x_i²` accumulated in double (a float's square is exact there): NaN or infinite
    /// when any element is.
    double (*sum_squares)(long n, const float *x);
    /// `x_i = min(max(x_i, −limit), limit)` in place.
    void (*clamp)(long n, float limit, float *x);
    /// `sum_squares` (the same sum, bit for bit), then `clamp` in the same pass.
    double (*sum_squares_then_clamp)(long n, float limit, float *x);
    /// Softmax cross-entropy over `rows` rows of `v` logits, in place: each row becomes
    /// `(softmax(row) − onehot(target))·w·scale` (`w` the row's weight, 1 when `weights` is
    /// NULL); `sums[0] += Σ w·(−log p[target])` in nats and `sums[1] += Σ w`.
    void (*softmax_xent)(long rows, long v, float *logits, const int32_t *targets, const float *weights, float scale,
                         double *sums);
    /// `out[j] += Σ_r m[r·stride + j]` for `rows x columns` of `m` (a bias's gradient).
    void (*add_column_sums)(long rows, long columns, const float *m, long stride, float *out);
    /// A sample's draw from `v` logits: `p_j = e^{(x_j − max)·invT}` and their sum (returned)
    /// in an order every path shares; first the logits' bits folded into `*fingerprint`
    /// (alone when `p` is NULL).
    float (*draw_weights)(long v, const float *logits, float invT, float *p, uint64_t *fingerprint);
    /// Dropout: `mask_i` = `scale` when element `i`'s uniform draw (24 bits, from generators
    /// seeded by `seed`) is below `keep`, else 0; `out_i = in_i · mask_i`. The same masks on
    /// every path.
    void (*dropout)(long n, float keep, float scale, uint64_t seed, const float *in, float *mask, float *out);
} rk_kernels;

/// The kernels in use: chosen on first call from cpuid, or from `RNND_KERNELS`
/// (`portable`, `avx2`, `avx512`) when that names a path this CPU can run.
const rk_kernels *rk_active(void);

/// The path in use (after `rk_active`).
rk_path rk_active_path(void);

/// Switches to `path`; returns 0, or -1 when this CPU cannot run it.
int rk_select(rk_path path);

/// The kernels of `path`, or NULL when this CPU cannot run it (for tests that compare paths
/// without switching the whole process).
const rk_kernels *rk_table_for(rk_path path);

/// Whether this CPU can run `path`.
int rk_supported(rk_path path);

/// The path's name: "portable", "avx2" or "avx512".
const char *rk_path_name(rk_path path);

/// The CPU's brand string from cpuid (e.g. "AMD EPYC 7763 64-Core Processor").
const char *rk_cpu_name(void);

/// Why the active path was chosen: "cpuid" or "RNND_KERNELS", with a note when the
/// requested path could not run here.
const char *rk_selection_reason(void);

/// Whether int8 products use AVX-512 VNNI (`vpdpbusd`) on the AVX-512 path: 1 when the CPU
/// has it, unless turned off by `rk_set_int8_vnni(0)` or RNND_INT8_VNNI=off (or 0, false,
/// no). The sums are the same either way.
int rk_int8_vnni(void);

/// Turns VNNI for int8 products on (when the CPU has it) or off; returns `rk_int8_vnni()`.
int rk_set_int8_vnni(int on);

/// This CPU's L2 cache per core, in bytes (256 KiB when the system does not say).
size_t rk_l2_bytes(void);

/// This thread's scratch buffer `slot` (0 or 1) of at least `floats` floats, 64-byte
/// aligned; freed when the thread ends. Held only within one kernel call: slot 0 serves the
/// GEMM's packed rows and the int8 products' rounded inputs, slot 1 the GEMM's packed columns.
float *rk_scratch(int slot, size_t floats);

/// A share of parallel work: part `part` of `parts`.
typedef void (*rk_task)(void *context, int part, int parts);

/// Uses up to `threads` threads (the caller's and helpers) for large products.
void rk_set_threads(int threads);

/// The threads large products use.
int rk_threads(void);

/// Runs `task` for every part at once, the caller doing part 0; alone (one part) when the
/// pool is busy with another caller's product.
void rk_parallel(rk_task task, void *context);

/// A meeting point for the parts of `rk_parallel` tasks: zeroed once, then reused by task
/// after task as long as every part of each task calls `rk_barrier_wait` equally often (the
/// count of arrivals is back at zero after each meeting). Its fields are touched atomically
/// by `rk_barrier_wait` only.
typedef struct {
    unsigned arrived;
    unsigned round;
} rk_barrier;

/// Returns once all `parts` parts of the running task have called it (at once when `parts`
/// is 1): they spin briefly, then yield the core, in case a part's thread is not running.
void rk_barrier_wait(rk_barrier *barrier, int parts);

/// The cores this process may run on (its CPU affinity, which systemd's CPUAffinity= and
/// cgroups narrow), at least 1.
int rk_cores(void);

/// `p[0..<n] = 0` by the C library's `memset`, which picks the CPU's widest stores: Swift's
/// own loops compile for SSE2 (zeroing the seed's 23,466 gradients that way was 5% of its
/// training step).
static inline void rk_zero_floats(float *p, long n) {
    if (n > 0) memset(p, 0, (size_t)n * sizeof(float));
}

/// `x_i *= m_i`, a loop the C compiler vectorizes (Swift's, over typed pointers, did not).
static inline void rk_multiply_floats(float *x, const float *m, long n) {
    for (long i = 0; i < n; i++) x[i] *= m[i];
}

// ---- OpenBLAS, for comparison only (loaded at first use, never linked) ----

/// Loads OpenBLAS once (`libopenblas.so.0`, as the dynamic loader finds it): 1 when its
/// `cblas_sgemm` is there to call.
int rk_openblas_load(void);

/// Why OpenBLAS could not be loaded, with what to do; NULL when it was.
const char *rk_openblas_error(void);

/// OpenBLAS's name for the core kernels it chose (e.g. "Prescott"); NULL when not loaded.
const char *rk_openblas_core(void);

/// Sets OpenBLAS's threads: at once when it is loaded, else when it loads (loading it just
/// for this would start its pool).
void rk_openblas_set_threads(int threads);

/// Row-major `C = alpha·op(A)·op(B) + beta·C` by OpenBLAS's `cblas_sgemm`, or by the active
/// kernels when `rk_openblas_load` fails.
void rk_openblas_sgemm(int transA, int transB, long m, long n, long k, float alpha, const float *a, long lda,
                       const float *b, long ldb, float beta, float *c, long ldc);

#ifdef __cplusplus
}
#endif
#endif
