/*
 * The library's device TF32 rounding (convgemm::tf32_round_rna in gemm/tf32_round.cuh, i.e. PTX
 * cvt.rna.tf32.f32) applied to an array, so gpu_tf32_round_test can compare the hardware with the
 * host model bit for bit. C interface: the test is host C.
 */
#ifndef CONVGEMM_TESTS_TF32_ROUND_KERNEL_H_
#define CONVGEMM_TESTS_TF32_ROUND_KERNEL_H_

#include <stddef.h>
#include <stdint.h>

#include <cuda_runtime_api.h>

#ifdef __cplusplus
extern "C" {
#endif

/* out[i] = bits of tf32_round_rna(float with bits in[i]), i < count, on `stream` (device
 * pointers). Returns the launch's error. */
cudaError_t tf32_round_kernel_launch(const uint32_t* in, uint32_t* out, size_t count,
                                     cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif /* CONVGEMM_TESTS_TF32_ROUND_KERNEL_H_ */
