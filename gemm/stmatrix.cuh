/*
 * stmatrix (PTX, sm_90): a warp stores four 8 x 8 matrices of 16-bit values from the mma
 * accumulator layout into shared memory, one 16-byte row per lane address.
 *
 * Matrix k's row i goes to the address lane 8k + i gives; word w of row i (its values 2w and
 * 2w + 1, the first in the low half) comes from lane 4i + w's register k: the layout of one
 * 8-column slice of an m16n8 / wgmma accumulator, thread (g = lane / 4, t = lane % 4) holding row
 * g, columns 2t and 2t + 1. With .trans each matrix is stored transposed: the 16 bytes at lane
 * 8k + i's address are matrix k's column i (its rows 0..7, in order). Addresses: shared memory,
 * 16-byte aligned.
 */
#ifndef CONVGEMM_GEMM_STMATRIX_CUH_
#define CONVGEMM_GEMM_STMATRIX_CUH_

#include <cstdint>

namespace convgemm {

__device__ __forceinline__ void stmatrix_x4_trans(const void* row_address, uint32_t r0,
                                                  uint32_t r1, uint32_t r2, uint32_t r3) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  const uint32_t addr = static_cast<uint32_t>(__cvta_generic_to_shared(row_address));
  asm volatile("stmatrix.sync.aligned.m8n8.x4.trans.shared.b16 [%0], {%1, %2, %3, %4};\n" ::"r"(
                   addr),
               "r"(r0), "r"(r1), "r"(r2), "r"(r3)
               : "memory");
#else
  (void)row_address; (void)r0; (void)r1; (void)r2; (void)r3;
  __trap();  // sm_90 only; callers are sm_90a kernels
#endif
}

}  // namespace convgemm

#endif  // CONVGEMM_GEMM_STMATRIX_CUH_
