/*
 * Warp-level TF32 tensor-core MMA (PTX mma.sync.m16n8k8, sm_80 and newer) and the register layout
 * of its fragments, as the PTX ISA defines it. g = lane / 4, t = lane % 4:
 *   A (16 x 8, row-major, M x K):  a[0] = A[g][t], a[1] = A[g+8][t], a[2] = A[g][t+4],
 *                                  a[3] = A[g+8][t+4]
 *   B (8 x 8, column-major, K x N): b[0] = B[t][g], b[1] = B[t+4][g]
 *   C, D (16 x 8, M x N):           c[0] = C[g][2t], c[1] = C[g][2t+1], c[2] = C[g+8][2t],
 *                                  c[3] = C[g+8][2t+1]
 * Operands are 32-bit registers holding TF32 values: the caller rounds them first (the tensor
 * core itself ignores the low 13 mantissa bits, i.e. truncates).
 */
#ifndef CONVGEMM_GEMM_MMA_TF32_CUH_
#define CONVGEMM_GEMM_MMA_TF32_CUH_

#include <cstdint>

namespace convgemm {

// d = a * b + d, fp32 accumulation.
__device__ __forceinline__ void mma_m16n8k8_tf32(float (&d)[4], const uint32_t (&a)[4],
                                                 const uint32_t (&b)[2]) {
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
      "{%8, %9}, {%0, %1, %2, %3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

}  // namespace convgemm

#endif  // CONVGEMM_GEMM_MMA_TF32_CUH_
