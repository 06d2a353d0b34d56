/*
 * Asynchronous global -> shared copies (PTX cp.async, sm_80 and newer): no register staging, so
 * a thread can have all of a tile's loads in flight at once. Groups: every copy issued before a
 * commit belongs to that group; wait_group<N> returns once at most N of this thread's groups are
 * still in flight (other threads' copies need a barrier to become visible).
 */
#ifndef CONVGEMM_GEMM_CP_ASYNC_CUH_
#define CONVGEMM_GEMM_CP_ASYNC_CUH_

namespace convgemm {

// 4 bytes; when !valid writes 0 to shared memory (src-size 0: zero padding) and reads nothing.
__device__ __forceinline__ void cp_async_4_or_zero(void* smem, const void* gmem, bool valid) {
  const unsigned dst = static_cast<unsigned>(__cvta_generic_to_shared(smem));
  asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" ::"r"(dst), "l"(gmem),
               "r"(valid ? 4 : 0)
               : "memory");
}

// 16 bytes, both addresses 16-byte aligned; bypasses L1 (.cg), for data read once per block.
__device__ __forceinline__ void cp_async_16(void* smem, const void* gmem) {
  const unsigned dst = static_cast<unsigned>(__cvta_generic_to_shared(smem));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(dst), "l"(gmem) : "memory");
}

__device__ __forceinline__ void cp_async_commit() {
  asm volatile("cp.async.commit_group;\n" ::: "memory");
}

template <int N>
__device__ __forceinline__ void cp_async_wait_group() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
}

}  // namespace convgemm

#endif  // CONVGEMM_GEMM_CP_ASYNC_CUH_
