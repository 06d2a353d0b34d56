/*
 * One warpgroup runs the library's wgmma wrapper (gemm/wgmma_tf32.cuh) on a 64 x 8 x 128 TF32
 * product laid out exactly as IMPLICIT_GEMM's WGMMA kernel lays its operands out, so
 * gpu_wgmma_test can check the descriptors, the core-matrix layouts and the accumulator layout
 * against a host product. C interface: the test is host C.
 */
#ifndef CONVGEMM_TESTS_WGMMA_KERNEL_H_
#define CONVGEMM_TESTS_WGMMA_KERNEL_H_

#include <cuda_runtime_api.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { WGMMA_TEST_M = 64, WGMMA_TEST_K = 8, WGMMA_TEST_N = 128 };

/* d (64 x 128, row-major) = a * b twice over on `stream` (device pointers): the first wgmma
 * overwrites the NaN-poisoned accumulators (scale-d 0), the second adds, so d = 2 a b.
 *   a: (rows, 8) row-major, rows = 64 + shift; the product reads rows shift .. shift + 63
 *      (the A descriptor starts shift 16-byte pixels into the plane, as a filter tap does)
 *   b: (8, 128) row-major (k, n)
 * Returns cudaErrorNotSupported on a device that is not sm_90, else the launch's error. */
cudaError_t wgmma_kernel_launch(const float* a, int shift, const float* b, float* d,
                                cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif /* CONVGEMM_TESTS_WGMMA_KERNEL_H_ */
