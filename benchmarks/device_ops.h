/* The benchmark's own device kernels: filling inputs on the GPU with a counter-based hash RNG
 * (filling gigabytes from the host is slow) and the element-wise allclose check, for float32,
 * float16 and bfloat16 tensors. Each launcher only queues its kernel on `stream` and returns the
 * launch status (cudaGetLastError). */
#ifndef CONVGEMM_BENCHMARKS_DEVICE_OPS_H_
#define CONVGEMM_BENCHMARKS_DEVICE_OPS_H_

#include <stddef.h>
#include <stdint.h>

#include <cuda_runtime_api.h>

#include "conv/convgemm.h"

#ifdef __cplusplus
extern "C" {
#endif

/* p[i] = lo + (hi - lo) * u(seed, i), u uniform in (0, 1) with 24-bit resolution: a pure function
 * of (seed, i), so any launch configuration gives the same tensor. */
cudaError_t bench_fill_uniform(float* p, size_t n, uint64_t seed, float lo, float hi,
                               cudaStream_t stream);

/* The same values rounded to `type` (to nearest even) and stored as that type. */
cudaError_t bench_fill_uniform_typed(void* p, size_t n, convgemm_data_type_t type, uint64_t seed,
                                     float lo, float hi, cudaStream_t stream);

/* What bench_compare accumulates. Zero it (cudaMemsetAsync) before each compare. */
typedef struct bench_compare_result {
  unsigned int max_abs_diff_bits;     /* bits of max |a - b| (a NaN when any pair involves one) */
  unsigned int unused;
  unsigned long long n_fail;          /* elements with !(|a - b| <= atol + rtol * |b|) */
  unsigned long long first_fail_inv;  /* ~(lowest failing index), kept by atomicMax; 0: none */
  unsigned long long n_ref_nonfinite; /* elements of b that are NaN or infinite */
} bench_compare_result_t;

/* torch.allclose(a, b, rtol, atol) over all n elements, b the reference; NaN fails. */
cudaError_t bench_compare(const float* a, const float* b, size_t n, float atol, float rtol,
                          bench_compare_result_t* result, cudaStream_t stream);

/* The same for two tensors of `type` (values converted to float, exactly, to compare). */
cudaError_t bench_compare_typed(const void* a, const void* b, size_t n,
                                convgemm_data_type_t type, float atol, float rtol,
                                bench_compare_result_t* result, cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif /* CONVGEMM_BENCHMARKS_DEVICE_OPS_H_ */
