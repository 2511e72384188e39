// OpenBLAS, loaded only when something asks for it (`RNND_GEMM=openblas`, `rnnbench
// kernels`): linked, it would map 2 MB of libraries and start its own thread in every rnnd,
// which never calls it otherwise.
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#include "RNNKernels.h"

// CBLAS's enum values, fixed by the standard interface.
enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 };

typedef void (*cblas_sgemm_fn)(int order, int transA, int transB, int m, int n, int k, float alpha, const float *a,
                               int lda, const float *b, int ldb, float beta, float *c, int ldc);
typedef void (*set_threads_fn)(int threads);
typedef char *(*core_name_fn)(void);

/// Written once inside `load` (under `load_once`), read only after `pthread_once` returns.
static struct {
    cblas_sgemm_fn sgemm;
    set_threads_fn set_threads;
    core_name_fn core_name;
    char error[320];
} openblas;
static pthread_once_t load_once = PTHREAD_ONCE_INIT;
/// The threads asked for before or after the load (0: OpenBLAS's own default), and whether
/// the library's functions are in place.
static _Atomic int wanted_threads;
static _Atomic int loaded;

static void load(void) {
    // The soname Debian's libopenblas0 installs (through alternatives): the runtime library,
    // not the development link.
    void *handle = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char *why = dlerror();
        snprintf(openblas.error, sizeof openblas.error,
                 "OpenBLAS could not be loaded (%s); install Debian's libopenblas0, or leave RNND_GEMM unset "
                 "to use the engine's own kernels",
                 why ? why : "libopenblas.so.0 not found");
        return;
    }
    cblas_sgemm_fn sgemm = (cblas_sgemm_fn)dlsym(handle, "cblas_sgemm");
    if (!sgemm) {
        snprintf(openblas.error, sizeof openblas.error,
                 "the libopenblas.so.0 found has no cblas_sgemm; install Debian's libopenblas0, or leave "
                 "RNND_GEMM unset to use the engine's own kernels");
        dlclose(handle);
        return;
    }
    openblas.set_threads = (set_threads_fn)dlsym(handle, "openblas_set_num_threads");
    openblas.core_name = (core_name_fn)dlsym(handle, "openblas_get_corename");
    openblas.sgemm = sgemm;
    atomic_store(&loaded, 1);
    int threads = atomic_load(&wanted_threads);
    if (threads > 0 && openblas.set_threads) openblas.set_threads(threads);
}

int rk_openblas_load(void) {
    pthread_once(&load_once, load);
    return openblas.sgemm != NULL;
}

const char *rk_openblas_error(void) {
    pthread_once(&load_once, load);
    return openblas.sgemm ? NULL : openblas.error;
}

const char *rk_openblas_core(void) {
    if (!rk_openblas_load() || !openblas.core_name) return NULL;
    return openblas.core_name();
}

void rk_openblas_set_threads(int threads) {
    atomic_store(&wanted_threads, threads);
    // Applied now when the library is in; `load` applies it otherwise (each side writes its
    // flag before reading the other's, so a load racing with this call misses neither).
    // Loading here just to set the count would start OpenBLAS's pool in a process that never
    // uses it.
    if (atomic_load(&loaded) && openblas.set_threads) openblas.set_threads(threads);
}

void rk_openblas_sgemm(int transA, int transB, long m, long n, long k, float alpha, const float *a, long lda,
                       const float *b, long ldb, float beta, float *c, long ldc) {
    if (!rk_openblas_load()) {
        // Never a silent no-op: without OpenBLAS, the engine's own kernels compute C.
        rk_active()->sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    openblas.sgemm(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, (int)m, (int)n, (int)k, alpha,
                   a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
}
