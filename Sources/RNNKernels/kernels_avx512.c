// AVX-512 F/BW/DQ/VL (Intel Skylake-SP and later, AMD Zen 4 and later); empty elsewhere.
#if defined(__x86_64__)
#include <immintrin.h>
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,bmi2,f16c"))), \
                             apply_to = function)
#define RK_MASKED_AVX512 1
#define RK_HALF_AVX512 1
#define W 16
#define MR 14
#define KERNEL_TABLE rk_kernels_avx512
#include "kernels_body.h"
#pragma clang attribute pop
#endif
