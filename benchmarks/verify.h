/* Correctness check of one output against the reference, on the GPU: torch.allclose semantics
 * |y - ref| <= atol + rtol * |ref| on every element, NaN failing, with KernelBench's tolerances:
 * BENCH_ATOL = BENCH_RTOL = 1e-4 for float32, BENCH_ATOL_16BIT = BENCH_RTOL_16BIT = 1e-2 for
 * float16 and bfloat16 (y and ref both of the run's data type). */
#ifndef CONVGEMM_BENCHMARKS_VERIFY_H_
#define CONVGEMM_BENCHMARKS_VERIFY_H_

#include <stddef.h>
#include <stdint.h>

#include <cuda_runtime_api.h>

#include "benchmarks/device_ops.h"
#include "conv/convgemm.h"

#define BENCH_ATOL 1e-4f
#define BENCH_RTOL 1e-4f
#define BENCH_ATOL_16BIT 1e-2f
#define BENCH_RTOL_16BIT 1e-2f

/* The tolerances for outputs of `type`. */
float bench_atol(convgemm_data_type_t type);
float bench_rtol(convgemm_data_type_t type);

typedef struct bench_verifier {
  bench_compare_result_t* d_result; /* device scratch */
  cudaStream_t stream;
} bench_verifier_t;

typedef struct bench_check {
  double max_abs_diff;              /* NaN when y (or ref) has a NaN */
  unsigned long long n_fail;        /* elements outside the tolerance */
  unsigned long long n_ref_nonfinite;
  int64_t first_fail;               /* lowest failing element index, -1 if none */
  float first_got, first_want;      /* y and ref at first_fail */
} bench_check_t;

void bench_verifier_init(bench_verifier_t* v, cudaStream_t stream);
void bench_verifier_destroy(bench_verifier_t* v);

/* Compares n elements of `type` of y with ref (synchronizes the stream). */
void bench_verify(const bench_verifier_t* v, const void* y, const void* ref, size_t n,
                  convgemm_data_type_t type, bench_check_t* out);

#endif /* CONVGEMM_BENCHMARKS_VERIFY_H_ */
