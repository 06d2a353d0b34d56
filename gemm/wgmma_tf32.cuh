/*
 * Hopper warpgroup MMA (PTX wgmma.mma_async, sm_90a only) for TF32 with both operands in shared
 * memory, and the shared-memory matrix descriptor it reads them through.
 *
 * One wgmma.m64nNk8 is issued by all 128 threads of a warpgroup (4 consecutive warps); warp w of
 * the group owns rows 16w..16w+15 of the 64-row tile, and within a warp the layouts are those of
 * mma.sync.m16n8k8 (gemm/mma_tf32.cuh), g = lane / 4, t = lane % 4:
 *   D (64 x N, fp32):       d[4j+0] = D[16w+g][8j+2t],   d[4j+1] = D[16w+g][8j+2t+1],
 *                           d[4j+2] = D[16w+g+8][8j+2t], d[4j+3] = D[16w+g+8][8j+2t+1]
 *   A (64 x 8), B (8 x N):  TF32 takes both only K-major (a row of A, a column of B: its 8 k
 *                           values in two 16-byte halves), built from "core matrices" of 8
 *                           rows x 16 bytes stored as 128 contiguous bytes. Without swizzling a
 *                           descriptor names the first core matrix, the byte offset between the
 *                           two k-adjacent core matrices (LBO) and between M- or N-adjacent ones
 *                           (SBO); offsets and the address are multiples of 16 bytes.
 * Operands are TF32 values the caller has rounded (the tensor core ignores the low 13 bits).
 *
 * Ordering rules (PTX ISA "Asynchronous Warpgroup Level Matrix Multiply-Accumulate"): wgmma_fence
 * before the first wgmma and after ordinary instructions wrote the accumulators; accumulators
 * must not be touched until wgmma_wait says the group writing them is done (ptxas serializes
 * every wgmma of a kernel that writes them in between: warning C7513); shared memory written by
 * ordinary stores or cp.async must be made visible to the async proxy (fence_proxy_async)
 * before a wgmma reads it, and not be overwritten before the wgmma reading it is waited for.
 */
#ifndef CONVGEMM_GEMM_WGMMA_TF32_CUH_
#define CONVGEMM_GEMM_WGMMA_TF32_CUH_

#include <cstdint>

namespace convgemm {

// The 64-bit descriptor of a K-major, unswizzled operand at `smem` (16-byte aligned).
__device__ __forceinline__ uint64_t wgmma_desc_kmajor(const void* smem, uint32_t lbo_bytes,
                                                      uint32_t sbo_bytes) {
  const uint32_t addr = static_cast<uint32_t>(__cvta_generic_to_shared(smem));
  return (uint64_t)((addr >> 4) & 0x3FFF) | ((uint64_t)((lbo_bytes >> 4) & 0x3FFF) << 16) |
         ((uint64_t)((sbo_bytes >> 4) & 0x3FFF) << 32);  // base offset 0, swizzle 0 (none)
}

__device__ __forceinline__ void wgmma_fence() {
  asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
}

__device__ __forceinline__ void wgmma_commit() {
  asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
}

// Returns once at most N of this warpgroup's committed groups are still in flight.
template <int N>
__device__ __forceinline__ void wgmma_wait() {
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
}

// Warp-specialized kernels move registers between warpgroups: every warp of a warpgroup runs
// the same one (sm_90a). ptxas then allocates the code after it within the new count.
template <int N>
__device__ __forceinline__ void setmaxnreg_inc() {
  asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(N));
}
template <int N>
__device__ __forceinline__ void setmaxnreg_dec() {
  asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(N));
}

// Generic-proxy writes to shared memory (stores, cp.async) become visible to wgmma's reads.
__device__ __forceinline__ void fence_proxy_async_shared() {
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
}

// Keeps the compiler from moving register reads or writes of v across this point (used after
// wgmma_wait on accumulators: the compiler can't see wgmma's asynchrony).
__device__ __forceinline__ void wgmma_fence_operand(float& v) {
  asm volatile("" : "+f"(v)::"memory");
}

#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define CONVGEMM_HAS_WGMMA 1
#else
#define CONVGEMM_HAS_WGMMA 0
#endif


// d (+)= A * B for a 64 x 128 x 8 tile; kAccumulate 0 overwrites d (scale-d 0), an immediate:
// a flag register rewritten between wgmmas would need a wgmma.fence after it.
// Issued by all 128 threads of the warpgroup with the same descriptors.
template <int kAccumulate>
__device__ __forceinline__ void wgmma_m64n128k8_tf32(float (&d)[64], uint64_t desc_a,
                                                     uint64_t desc_b) {
#if CONVGEMM_HAS_WGMMA
  asm volatile(
      "wgmma.mma_async.sync.aligned.m64n128k8.f32.tf32.tf32 "
      "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, "
      "%64, %65, %66, 1, 1;\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),
        "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),
        "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]),
        "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]),
        "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]),
        "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]),
        "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]),
        "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])
      : "l"(desc_a), "l"(desc_b), "n"(kAccumulate));
#else
  (void)d; (void)desc_a; (void)desc_b;
  __trap();  // only sm_90a code may call this; callers guard with CONVGEMM_HAS_WGMMA
#endif
}

}  // namespace convgemm

#endif  // CONVGEMM_GEMM_WGMMA_TF32_CUH_
