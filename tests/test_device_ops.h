/*
 * Small device helpers for the GPU suites that cannot afford host copies of their tensors
 * (gpu_direct_large_test: 8-17 GB inputs) or that need the device to misbehave on purpose
 * (gpu_fault_test). C interface: the tests are host C.
 *
 * test_pattern_unit is the one input pattern both sides compute: the device fills x with it and
 * the host evaluates it at the few indices its float64 reference needs, so no copy of x exists on
 * the host. It is splitmix64 of (seed, index) cut to 24 bits times 2^-24: uniform [0, 1) in steps
 * of 2^-24 like torch.rand, integer arithmetic and one exact conversion, so both sides get the
 * same bits.
 */
#ifndef CONVGEMM_TESTS_TEST_DEVICE_OPS_H_
#define CONVGEMM_TESTS_TEST_DEVICE_OPS_H_

#include <stddef.h>
#include <stdint.h>

#include <cuda_runtime_api.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__CUDACC__)
#define TEST_DEVICE_OPS_HD __host__ __device__
#else
#define TEST_DEVICE_OPS_HD
#endif

/* x[index] of the pattern drawn from `seed`. */
static inline TEST_DEVICE_OPS_HD float test_pattern_unit(uint64_t seed, uint64_t index) {
  uint64_t z = seed + (index + 1) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return (float)(z >> 40) * 0x1p-24f; /* exact: 24 bits times a power of 2 */
}

/* x[i] = test_pattern_unit(seed, i) for i < count, queued on `stream`. */
cudaError_t test_fill_pattern(float* x, int64_t count, uint64_t seed, cudaStream_t stream);

/* *result = how many of y[0 .. count) are NaN or +-Inf. Synchronous (waits for `stream`). */
cudaError_t test_count_nonfinite(const float* y, int64_t count, int64_t* result,
                                 cudaStream_t stream);

/* out[i] = y[indices[i]] for i < count (host `indices` and `out`; y on the device).
 * Synchronous (waits for `stream`). */
cudaError_t test_gather(const float* y, const int64_t* indices, int64_t count, float* out,
                        cudaStream_t stream);

/* Queues a one-thread kernel that stores a float at `address` (the caller passes an address no
 * allocation owns, e.g. 16): the launch succeeds and the next synchronization reports the fault,
 * which is sticky (the context is unusable afterwards). Returns the launch's error. */
cudaError_t test_fault_store(float* address, cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif /* CONVGEMM_TESTS_TEST_DEVICE_OPS_H_ */
