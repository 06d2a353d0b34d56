/*
 * The library's tensor-core wrappers on single products, so gpu_mma_test can check each one's
 * fragment or shared-memory layouts against a host product:
 *   one warp runs mma.sync m16n8k8 TF32 (gemm/mma_tf32.cuh) or m16n8k16 float16 / bfloat16
 *   (gemm/mma_16bit.cuh) over a 16 x K x 8 product, loading every fragment exactly as the header
 *   documents it;
 *   one warpgroup runs the 16-bit wgmma (gemm/wgmma_16bit.cuh) on a 64 x 16 x 128 product laid
 *   out as IMPLICIT_GEMM's WGMMA kernel lays out 16-bit operands.
 * 16-bit operands travel as raw uint16_t encodings (tests/elem_type_host.h makes them).
 * C interface: the test is host C.
 */
#ifndef CONVGEMM_TESTS_MMA_KERNEL_H_
#define CONVGEMM_TESTS_MMA_KERNEL_H_

#include <stdint.h>

#include <cuda_runtime_api.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
  MMA_TEST_M = 16, /* mma.sync: rows of a, c and d */
  MMA_TEST_N = 8,  /* mma.sync: columns of b, c and d */
  WGMMA16_TEST_M = 64,
  WGMMA16_TEST_K = 16,
  WGMMA16_TEST_N = 128,
  WGMMA16_TEST_MAX_SHIFT = 8
};

/* d = a * b + c with mma.sync m16n8k8 TF32, K / 8 instructions accumulating in registers that
 * start at c, on `stream` (device pointers, one warp):
 *   a: (16, k) row-major, TF32 values (fp32 with the low 13 bits zero)
 *   b: (k, 8) row-major, TF32 values
 *   c, d: (16, 8) row-major fp32 (d is written only, c read only)
 * Returns cudaErrorInvalidValue unless k is a positive multiple of 8, cudaErrorNotSupported on a
 * device older than sm_80, else the launch's error. */
cudaError_t mma_tf32_kernel_launch(const float* a, const float* b, const float* c, float* d,
                                   int k, cudaStream_t stream);

/* d = a * b + c with mma.sync m16n8k16 (bfloat16 != 0: bf16 operands, else float16), K / 16
 * instructions, as above:
 *   a: (16, k) row-major 16-bit encodings
 *   b: (k, 8) row-major 16-bit encodings
 *   c, d: (16, 8) row-major fp32
 * Returns cudaErrorInvalidValue unless k is a positive multiple of 16, cudaErrorNotSupported on
 * a device older than sm_80, else the launch's error. */
cudaError_t mma_16bit_kernel_launch(int bfloat16, const uint16_t* a, const uint16_t* b,
                                    const float* c, float* d, int k, cudaStream_t stream);

/* d (64 x 128, row-major fp32) = a * b twice over with the 16-bit wgmma (bfloat16 != 0: bf16,
 * else float16) on `stream` (device pointers, one warpgroup): the first wgmma overwrites the
 * NaN-poisoned accumulators (scale-d 0), the second adds, so d = 2 a b.
 *   a: (rows, 16) row-major 16-bit encodings, rows = 64 + shift; the product reads rows
 *      shift .. shift + 63 (the A descriptor starts shift 16-byte rows into the plane, as a
 *      filter tap does)
 *   b: (16, 128) row-major (k, n) 16-bit encodings
 * Returns cudaErrorNotSupported on a device that is not sm_90 or for a shift outside
 * 0 .. WGMMA16_TEST_MAX_SHIFT, else the launch's error. */
cudaError_t wgmma_16bit_kernel_launch(int bfloat16, const uint16_t* a, int shift,
                                      const uint16_t* b, float* d, cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif /* CONVGEMM_TESTS_MMA_KERNEL_H_ */
