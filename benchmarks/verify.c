/* Host side of the allclose check: zero the accumulator, run the kernel, read the verdict. */
#include "benchmarks/verify.h"

#include <string.h>

#include "benchmarks/check.h"

void bench_verifier_init(bench_verifier_t* v, cudaStream_t stream) {
  v->d_result = bench_device_alloc(sizeof *v->d_result, "compare result");
  v->stream = stream;
}

void bench_verifier_destroy(bench_verifier_t* v) {
  bench_device_free(v->d_result);
  v->d_result = NULL;
}

void bench_verify(const bench_verifier_t* v, const float* y, const float* ref, size_t n,
                  bench_check_t* out) {
  CUDA_CHECK(cudaMemsetAsync(v->d_result, 0, sizeof *v->d_result, v->stream));
  CUDA_CHECK(bench_compare(y, ref, n, BENCH_ATOL, BENCH_RTOL, v->d_result, v->stream));
  bench_compare_result_t r;
  CUDA_CHECK(cudaMemcpyAsync(&r, v->d_result, sizeof r, cudaMemcpyDeviceToHost, v->stream));
  CUDA_CHECK(cudaStreamSynchronize(v->stream));

  float max_abs;
  memcpy(&max_abs, &r.max_abs_diff_bits, sizeof max_abs);
  out->max_abs_diff = max_abs;
  out->n_fail = r.n_fail;
  out->n_ref_nonfinite = r.n_ref_nonfinite;
  out->first_fail = -1;
  out->first_got = out->first_want = 0.0f;
  if (r.n_fail > 0) {
    out->first_fail = (int64_t)~r.first_fail_inv;
    CUDA_CHECK(cudaMemcpy(&out->first_got, y + out->first_fail, sizeof(float),
                          cudaMemcpyDeviceToHost));
    CUDA_CHECK(cudaMemcpy(&out->first_want, ref + out->first_fail, sizeof(float),
                          cudaMemcpyDeviceToHost));
  }
}
