/*
 * Warp-level float16 / bfloat16 tensor-core MMA with fp32 accumulation (PTX
 * mma.sync.m16n8k16, sm_80 and newer) and its fragments, as the PTX ISA defines them.
 * g = lane / 4, t = lane % 4; each 32-bit register holds two k-adjacent 16-bit values, the
 * lower k in the low half:
 *   A (16 x 16, row-major, M x K):  a[0] = A[g][2t..2t+1],   a[1] = A[g+8][2t..2t+1],
 *                                  a[2] = A[g][2t+8..2t+9], a[3] = A[g+8][2t+8..2t+9]
 *   B (16 x 8, column-major, K x N): b[0] = B[2t..2t+1][g], b[1] = B[2t+8..2t+9][g]
 *   C, D (16 x 8, M x N):           as for m16n8k8 (gemm/mma_tf32.cuh)
 * Counted in k pairs (one register), a[0] is pair t and a[2] pair t + 4, b[0] pair t and b[1]
 * pair t + 4: the TF32 m16n8k8 fragments with k values replaced by k pairs. So operands laid out
 * for the TF32 mma with one value per 4-byte word serve this one with a pair per word.
 * The products of 16-bit values are exact in fp32; the sums are the tensor core's fp32 sums.
 */
#ifndef CONVGEMM_GEMM_MMA_16BIT_CUH_
#define CONVGEMM_GEMM_MMA_16BIT_CUH_

#include <cstdint>

#include <cuda_bf16.h>
#include <cuda_fp16.h>

namespace convgemm {

// d = a * b + d for T = __half or __nv_bfloat16 operands, fp32 accumulation.
template <typename T>
__device__ __forceinline__ void mma_m16n8k16(float (&d)[4], const uint32_t (&a)[4],
                                             const uint32_t (&b)[2]);

template <>
__device__ __forceinline__ void mma_m16n8k16<__half>(float (&d)[4], const uint32_t (&a)[4],
                                                     const uint32_t (&b)[2]) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
      "{%8, %9}, {%0, %1, %2, %3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

template <>
__device__ __forceinline__ void mma_m16n8k16<__nv_bfloat16>(float (&d)[4], const uint32_t (&a)[4],
                                                            const uint32_t (&b)[2]) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
      "{%8, %9}, {%0, %1, %2, %3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

}  // namespace convgemm

#endif  // CONVGEMM_GEMM_MMA_16BIT_CUH_
