// AVX-512 F/BW/DQ/VL (Intel Skylake-SP and later, AMD Zen 4 and later); empty elsewhere.
#if defined(__x86_64__)
#include <immintrin.h>
#define RK_AVX512_TARGET "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,bmi2,f16c"
#pragma clang attribute push(__attribute__((target(RK_AVX512_TARGET))), apply_to = function)
#define RK_MASKED_AVX512 1
#define RK_HALF_AVX512 1
#define W 16
#define MR 14
#define KERNEL_TABLE rk_kernels_avx512
#include "kernels_body.h"
#pragma clang attribute pop

// int8 sampling's sums by `vpdpbusd`, for the CPUs that also have AVX-512 VNNI (Cascade
// Lake, Ice Lake and later; Zen 4 and later): `k_vecmat_many_int8` calls them when
// `rk_int8_vnni()` says so.
#pragma clang attribute push(__attribute__((target(RK_AVX512_TARGET ",avx512vnni"))), apply_to = function)
#define I8_USE_VNNI 1
#define I8_VARIANT(name) name##_vnni
#include "vecmat_int8_products.h"
#pragma clang attribute pop
static void (*i8_products_by_vnni)(int, long, long, const void *, const int32_t *, const float *, const uint32_t *,
                                   float, float *, long) = i8_products_vnni;
#endif
