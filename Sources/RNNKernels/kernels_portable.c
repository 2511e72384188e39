// The portable path: SSE2, which every x86-64 has (and NEON-free generic code elsewhere).
#if defined(__x86_64__)
#include <emmintrin.h>
#endif
#define W 4
#define MR 6
#define KERNEL_TABLE rk_kernels_portable
#include "kernels_body.h"
