// OpenBLAS, loaded only when something asks for it (`RNND_GEMM=openblas`, `rnnbench
// kernels`): linked, it would map 2 MB of libraries and start its own thread in every rnnd,
// which never calls it otherwise.
#define _GNU_SOURCE  // RTLD_LOCAL
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#include "RNNKernels.h"

// CBLAS's enum values, fixed by the standard interface.
enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 };

typedef void (*cblas_sgemm_fn)(int order, int transA, int transB, int m, int n, int k, float alpha, const float *a,
                               int lda, const float *b, int ldb, float beta, float *c, int ldc);
typedef void (*set_threads_fn)(int threads);
typedef char *(*core_name_fn)(void);

static struct {
    cblas_sgemm_fn sgemm;
    set_threads_fn set_threads;
    core_name_fn core_name;
    char error[320];
} openblas;
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void load(void) {
    // The soname Debian's libopenblas0 installs (through alternatives), then the
    // development link.
    static const char *const names[] = {"libopenblas.so.0", "libopenblas.so"};
    void *handle = NULL;
    for (unsigned i = 0; i < sizeof names / sizeof names[0] && !handle; i++)
        handle = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
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
                 "the loaded OpenBLAS has no cblas_sgemm; install Debian's libopenblas0");
        return;
    }
    openblas.set_threads = (set_threads_fn)dlsym(handle, "openblas_set_num_threads");
    openblas.core_name = (core_name_fn)dlsym(handle, "openblas_get_corename");
    openblas.sgemm = sgemm;
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
    if (openblas.sgemm && openblas.set_threads) openblas.set_threads(threads);
}

void rk_openblas_sgemm(int transA, int transB, long m, long n, long k, float alpha, const float *a, long lda,
                       const float *b, long ldb, float beta, float *c, long ldc) {
    if (!rk_openblas_load()) return;
    openblas.sgemm(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, (int)m, (int)n, (int)k, alpha,
                   a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
}
