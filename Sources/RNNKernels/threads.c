// A small pool for splitting one product across cores: helpers spin briefly between
// products (a training step posts hundreds of them, microseconds apart), then sleep on a
// futex, so an idle daemon costs nothing.
#define _GNU_SOURCE  // sched_getaffinity, CPU_COUNT
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "RNNKernels.h"

#define MAX_HELPERS 63
/// How long a helper spins for the next product before it sleeps.
#define SPIN_NANOSECONDS 1000000L

static struct {
    _Atomic int busy;
    _Atomic uint32_t generation;
    _Atomic int remaining;
    _Atomic int sleeping;
    rk_task task;
    void *context;
    int parts;
} pool;

static pthread_mutex_t setup = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int helpers;
static _Atomic int wanted_threads = 1;

static inline void relax(void) {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

static long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

/// What a helper is told at birth: its part number and the last product it must not run.
typedef struct {
    int id;
    uint32_t seen;
} helper_start;

static void *helper_main(void *argument) {
    helper_start start = *(helper_start *)argument;
    free(argument);
    int id = start.id;
    // The generation at creation, not at the thread's first instruction: a product posted in
    // between would otherwise be missed and its caller would wait forever.
    uint32_t seen = start.seen;
    for (;;) {
        uint32_t g;
        long deadline = 0;
        int spins = 0;
        while ((g = atomic_load_explicit(&pool.generation, memory_order_acquire)) == seen) {
            relax();
            if (++spins % 64) continue;
            long t = now_ns();
            if (!deadline) deadline = t + SPIN_NANOSECONDS;
            if (t < deadline) continue;
            atomic_fetch_add(&pool.sleeping, 1);
            // The futex rechecks the generation, so a post between the load and the wait is seen.
            if (atomic_load(&pool.generation) == seen) syscall(SYS_futex, &pool.generation, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
            atomic_fetch_sub(&pool.sleeping, 1);
            deadline = 0;
        }
        seen = g;
        if (id < pool.parts) pool.task(pool.context, id, pool.parts);
        atomic_fetch_sub_explicit(&pool.remaining, 1, memory_order_release);
    }
    return NULL;
}

void rk_set_threads(int threads) {
    if (threads < 1) threads = 1;
    if (threads > MAX_HELPERS + 1) threads = MAX_HELPERS + 1;
    pthread_mutex_lock(&setup);
    // Hold the pool, so that no product is in flight while helpers are counted and born.
    int expected = 0;
    while (!atomic_compare_exchange_weak(&pool.busy, &expected, 1)) {
        expected = 0;
        relax();
    }
    while (atomic_load(&helpers) < threads - 1) {
        pthread_t thread;
        helper_start *start = malloc(sizeof *start);
        if (!start) break;
        start->id = atomic_load(&helpers) + 1;
        start->seen = atomic_load(&pool.generation);
        if (pthread_create(&thread, NULL, helper_main, start) != 0) {
            free(start);
            break;
        }
        pthread_detach(thread);
        atomic_fetch_add(&helpers, 1);
    }
    int available = atomic_load(&helpers) + 1;
    atomic_store(&wanted_threads, threads < available ? threads : available);
    atomic_store(&pool.busy, 0);
    pthread_mutex_unlock(&setup);
}

int rk_threads(void) { return atomic_load(&wanted_threads); }

void rk_parallel(rk_task task, void *context) {
    int parts = atomic_load(&wanted_threads);
    int expected = 0;
    // One product at a time uses the helpers; a second caller (another model's job) runs alone.
    if (parts < 2 || !atomic_compare_exchange_strong(&pool.busy, &expected, 1)) {
        task(context, 0, 1);
        return;
    }
    int started = atomic_load(&helpers);
    pool.task = task;
    pool.context = context;
    pool.parts = parts;
    atomic_store(&pool.remaining, started);
    atomic_fetch_add(&pool.generation, 1);
    if (atomic_load(&pool.sleeping) > 0) syscall(SYS_futex, &pool.generation, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0);
    task(context, 0, parts);
    while (atomic_load_explicit(&pool.remaining, memory_order_acquire) > 0) relax();
    atomic_store(&pool.busy, 0);
}

void rk_barrier_wait(rk_barrier *barrier, int parts) {
    if (parts < 2) return;
    // The round is read before arriving: the last to arrive opens the next one (unsigned, so
    // that its wrap after 2^32 rounds is defined).
    unsigned round = __atomic_load_n(&barrier->round, __ATOMIC_ACQUIRE);
    if (__atomic_fetch_add(&barrier->arrived, 1, __ATOMIC_ACQ_REL) == (unsigned)parts - 1) {
        __atomic_store_n(&barrier->arrived, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&barrier->round, round + 1, __ATOMIC_RELEASE);
        return;
    }
    for (int spins = 0; __atomic_load_n(&barrier->round, __ATOMIC_ACQUIRE) == round;) {
        if (spins < 1024) {
            spins++;
            relax();
        } else {
            sched_yield();
        }
    }
}

int rk_cores(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) return CPU_COUNT(&set);
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    return online > 0 ? (int)online : 1;
}

// ---- per-thread scratch ----

/// A thread's packing buffers; freed by the key's destructor when the thread ends (model
/// workers come and go with loads and unloads, and each packs on its own thread).
typedef struct {
    float *buffer[2];
    size_t capacity[2];
} scratch_set;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_free(void *pointer) {
    scratch_set *set = pointer;
    free(set->buffer[0]);
    free(set->buffer[1]);
    free(set);
}

static void scratch_setup(void) { pthread_key_create(&scratch_key, scratch_free); }

float *rk_scratch(int slot, size_t floats) {
    pthread_once(&scratch_once, scratch_setup);
    scratch_set *set = pthread_getspecific(scratch_key);
    if (!set) {
        set = calloc(1, sizeof *set);
        if (!set) abort();
        pthread_setspecific(scratch_key, set);
    }
    if (set->capacity[slot] < floats) {
        free(set->buffer[slot]);
        size_t bytes = (floats * sizeof(float) + 63) & ~(size_t)63;
        set->buffer[slot] = aligned_alloc(64, bytes);
        if (!set->buffer[slot]) abort();
        set->capacity[slot] = floats;
    }
    return set->buffer[slot];
}
