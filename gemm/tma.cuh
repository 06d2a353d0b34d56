/*
 * Hopper bulk copies into shared memory (sm_90): the tensor memory accelerator (TMA) reading a
 * box of a tensor described by a CUtensorMap (zero fill outside the tensor), the plain 1-D bulk
 * copy, and the shared-memory barrier (mbarrier) that counts their bytes in.
 *
 * A stage's barrier is armed by one thread with the bytes to expect (mbarrier_arrive_expect_tx),
 * the copies complete the transaction count as they land, and every thread waiting on the
 * barrier's current phase (mbarrier_wait_parity) then sees the data. Each use of a barrier is
 * one phase; waiters track its parity (0, 1, 0, ...).
 */
#ifndef CONVGEMM_GEMM_TMA_CUH_
#define CONVGEMM_GEMM_TMA_CUH_

#include <cstdint>

#include <cuda.h>

namespace convgemm {

__device__ __forceinline__ uint32_t smem_address(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// One arrival completes a phase (plus the expected bytes).
__device__ __forceinline__ void mbarrier_init(uint64_t* bar, uint32_t arrivals) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(smem_address(bar)),
               "r"(arrivals)
               : "memory");
}

// Makes initialized barriers visible to the async proxy (the copies that complete them).
__device__ __forceinline__ void fence_mbarrier_init() {
  asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
}

__device__ __forceinline__ void mbarrier_arrive_expect_tx(uint64_t* bar, uint32_t bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(
                   smem_address(bar)),
               "r"(bytes)
               : "memory");
}

// One arrival (of the count the barrier was initialized with); release semantics: this
// thread's earlier shared-memory writes are visible to threads that then see the phase complete.
__device__ __forceinline__ void mbarrier_arrive(uint64_t* bar) {
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(smem_address(bar)) : "memory");
}

// Returns once the phase with this parity has completed.
__device__ __forceinline__ void mbarrier_wait_parity(uint64_t* bar, uint32_t parity) {
  asm volatile(
      "{\n\t.reg .pred done;\n"
      "wait_%=:\n\t"
      "mbarrier.try_wait.parity.shared::cta.b64 done, [%0], %1;\n\t"
      "@!done bra wait_%=;\n\t}\n" ::"r"(smem_address(bar)),
      "r"(parity)
      : "memory");
}

// A 5-D box of `map` at the given element coordinates (innermost first; negative or past the
// end reads zeros) into shared memory (128-byte aligned), counted on `bar`.
__device__ __forceinline__ void tma_load_5d(void* smem, const CUtensorMap* map, int c0, int c1,
                                            int c2, int c3, int c4, uint64_t* bar) {
  asm volatile(
      "cp.async.bulk.tensor.5d.shared::cluster.global.tile.mbarrier::complete_tx::bytes "
      "[%0], [%1, {%2, %3, %4, %5, %6}], [%7];\n" ::"r"(smem_address(smem)),
      "l"(reinterpret_cast<uint64_t>(map)), "r"(c0), "r"(c1), "r"(c2), "r"(c3), "r"(c4),
      "r"(smem_address(bar))
      : "memory");
}

// `bytes` (a multiple of 16; both addresses 16-byte aligned) from global to shared memory,
// counted on `bar`.
__device__ __forceinline__ void bulk_copy_to_shared(void* smem, const void* gmem, uint32_t bytes,
                                                    uint64_t* bar) {
  asm volatile(
      "cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];\n" ::
          "r"(smem_address(smem)),
      "l"(gmem), "r"(bytes), "r"(smem_address(bar))
      : "memory");
}

// A barrier among `threads` threads (a multiple of 32) of the block, by id (0 is
// __syncthreads's): lets one role of a warp-specialized kernel meet without the others.
__device__ __forceinline__ void named_barrier_sync(int id, int threads) {
  asm volatile("bar.sync %0, %1;\n" ::"r"(id), "r"(threads) : "memory");
}

// The same barrier, returning whether `p` was true in any of the `threads` threads.
__device__ __forceinline__ bool named_barrier_or(int id, int threads, bool p) {
  uint32_t any;
  asm volatile(
      "{\n .reg .pred p, q;\n setp.ne.u32 p, %1, 0;\n bar.red.or.pred q, %2, %3, p;\n"
      " selp.u32 %0, 1, 0, q;\n}\n"
      : "=r"(any)
      : "r"((uint32_t)p), "r"(id), "r"(threads)
      : "memory");
  return any != 0;
}

}  // namespace convgemm

#endif  // CONVGEMM_GEMM_TMA_CUH_
