// AVX2 + FMA (Intel Haswell and later, AMD Zen and later); empty on other architectures.
#if defined(__x86_64__)
#include <immintrin.h>
#pragma clang attribute push(__attribute__((target("avx2,fma,bmi2,f16c"))), apply_to = function)
#define RK_MASKED_AVX2 1
#define RK_HALF_F16C 1
#define W 8
#define MR 6
#define KERNEL_TABLE rk_kernels_avx2
#include "kernels_body.h"
#pragma clang attribute pop
#endif
