/*
 * Hopper warpgroup MMA (PTX wgmma.mma_async, sm_90a only) for float16 and bfloat16 operands with
 * fp32 accumulation, both operands in shared memory, K-major (the descriptors, fences and waits
 * of gemm/wgmma_tf32.cuh apply unchanged).
 *
 * One wgmma.m64n128k16 reads A (64 x 16) and B (16 x 128). A K-major core matrix is 8 rows x 16
 * bytes as for TF32, but 16 bytes now hold 8 k values, so one k16 step reads two k-adjacent core
 * matrices (LBO apart), exactly the bytes a TF32 k8 step reads: an operand laid out for TF32 with
 * 4 channels per 16 bytes is laid out for 16-bit data with 8. The accumulator layout is the
 * TF32 one (d[4j + 2h + e]: row 16w + g + 8h, column 8j + 2t + e).
 * The products of 16-bit values are exact in fp32; the sums are the tensor core's fp32 sums.
 */
#ifndef CONVGEMM_GEMM_WGMMA_16BIT_CUH_
#define CONVGEMM_GEMM_WGMMA_16BIT_CUH_

#include <cstdint>

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "gemm/wgmma_tf32.cuh"

namespace convgemm {

// The PTX type name of a 16-bit element type.
template <typename T>
struct Wgmma16bitType;
template <>
struct Wgmma16bitType<__half> {
  static constexpr bool kBf16 = false;
};
template <>
struct Wgmma16bitType<__nv_bfloat16> {
  static constexpr bool kBf16 = true;
};

#define CONVGEMM_WGMMA_M64N128K16(TYPE)                                                     \
  asm volatile(                                                                             \
      "wgmma.mma_async.sync.aligned.m64n128k16.f32." TYPE "." TYPE " "                      \
      "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, "                                                                            \
      "%64, %65, %66, 1, 1, 0, 0;\n"                                                        \
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), \
        "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), \
        "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), \
        "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), \
        "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), \
        "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), \
        "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), \
        "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63]) \
      : "l"(desc_a), "l"(desc_b), "n"(kAccumulate))

// d (+)= A * B for a 64 x 128 x 16 tile of T (__half or __nv_bfloat16), both K-major (transpose
// flags 0); kAccumulate 0 overwrites d (scale-d 0), an immediate as for TF32. Issued by all 128
// threads of the warpgroup with the same descriptors.
template <typename T, int kAccumulate>
__device__ __forceinline__ void wgmma_m64n128k16(float (&d)[64], uint64_t desc_a,
                                                 uint64_t desc_b) {
#if CONVGEMM_HAS_WGMMA
  if constexpr (Wgmma16bitType<T>::kBf16)
    CONVGEMM_WGMMA_M64N128K16("bf16");
  else
    CONVGEMM_WGMMA_M64N128K16("f16");
#else
  (void)d; (void)desc_a; (void)desc_b;
  __trap();  // only sm_90a code may call this; callers guard with CONVGEMM_HAS_WGMMA
#endif
}

#undef CONVGEMM_WGMMA_M64N128K16

}  // namespace convgemm

#endif  // CONVGEMM_GEMM_WGMMA_16BIT_CUH_
