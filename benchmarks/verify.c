/* Host side of the allclose check: zero the accumulator, run the kernel, read the verdict. */
#include "benchmarks/verify.h"

#include <stdint.h>
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

float bench_atol(convgemm_data_type_t type) {
  return type == CONVGEMM_DATA_FLOAT32 ? BENCH_ATOL : BENCH_ATOL_16BIT;
}

float bench_rtol(convgemm_data_type_t type) {
  return type == CONVGEMM_DATA_FLOAT32 ? BENCH_RTOL : BENCH_RTOL_16BIT;
}

/* One element of `type` at device + i, as a float. */
static float fetch_element(const void* device, int64_t i, convgemm_data_type_t type) {
  if (type == CONVGEMM_DATA_FLOAT32) {
    float v = 0.0f;
    CUDA_CHECK(cudaMemcpy(&v, (const float*)device + i, sizeof v, cudaMemcpyDeviceToHost));
    return v;
  }
  uint16_t bits = 0;
  CUDA_CHECK(cudaMemcpy(&bits, (const uint16_t*)device + i, sizeof bits, cudaMemcpyDeviceToHost));
  uint32_t f;
  if (type == CONVGEMM_DATA_BFLOAT16) {
    f = (uint32_t)bits << 16;
  } else { /* float16: sign, 5-bit exponent, 10-bit mantissa */
    const uint32_t sign = (uint32_t)(bits & 0x8000u) << 16, e = (bits >> 10) & 0x1Fu,
                   m = bits & 0x3FFu;
    if (e == 0) {
      const float mag = (float)m * 0x1p-24f;
      return sign ? -mag : mag;
    }
    f = sign | (e == 31 ? 0x7F800000u : (e - 15 + 127) << 23) | (m << 13);
  }
  float v;
  memcpy(&v, &f, sizeof v);
  return v;
}

void bench_verify(const bench_verifier_t* v, const void* y, const void* ref, size_t n,
                  convgemm_data_type_t type, bench_check_t* out) {
  CUDA_CHECK(cudaMemsetAsync(v->d_result, 0, sizeof *v->d_result, v->stream));
  CUDA_CHECK(bench_compare_typed(y, ref, n, type, bench_atol(type), bench_rtol(type), v->d_result,
                                 v->stream));
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
    out->first_got = fetch_element(y, out->first_fail, type);
    out->first_want = fetch_element(ref, out->first_fail, type);
  }
}
