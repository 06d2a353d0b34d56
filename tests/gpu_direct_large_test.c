/*
 * KernelBench level 1 problem 55 at full size through DIRECT: nn.Conv2d(64, 128, 3) on
 * torch.rand(8, 64, 512, 1024). y is 8 x 128 x 510 x 1022 floats = 2.13 GB (within 1% of 2^31
 * bytes), the size where an index computed in 32 bits first goes wrong. In each math mode:
 *   - every one of the 533,729,280 outputs is written (y is NaN-poisoned first) and finite;
 *   - ~4096 random outputs plus every output of the last image's last channel's last row and last
 *     column (and the first image's first row, for the other edge) match the float64 reference
 *     computed at just those indices, within the derived bounds of conv_compare.h.
 * A full reference would take minutes of CPU; the sample takes milliseconds. The run takes a few
 * seconds, mostly filling 1 GB of input and copying y back.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <check.h>
#include <cuda_runtime_api.h>

#include "conv/convgemm.h"
#include "tests/check_main.h"
#include "tests/conv2d_reference.h"
#include "tests/conv_compare.h"
#include "tests/test_assert.h"
#include "tests/test_random.h"

enum { kSamples = 4096 };

/* Shared by both modes: filling and uploading 1 GB once saves seconds. */
static struct {
  convgemm_handle_t handle;
  cudaStream_t stream;
  convgemm_conv2d_params_t params;
  int64_t x_elems, w_elems, y_elems, p, q;
  float *x, *w, *y;       /* host; y receives the whole output */
  float *d_x, *d_w, *d_y; /* device */
} g;

static void setup(void) {
  CK_CONVGEMM(convgemm_create(&g.handle));
  CK_CUDA(cudaStreamCreateWithFlags(&g.stream, cudaStreamNonBlocking));
  convgemm_conv2d_params_init(&g.params, 8, 64, 512, 1024, 128, 3, 3);
  g.p = conv2d_reference_out_extent(512, 0, 3, 1, 1);
  g.q = conv2d_reference_out_extent(1024, 0, 3, 1, 1);
  g.x_elems = 8LL * 64 * 512 * 1024;
  g.w_elems = 128LL * 64 * 3 * 3;
  g.y_elems = 8LL * 128 * g.p * g.q;
  g.x = malloc((size_t)g.x_elems * sizeof(float));
  g.w = malloc((size_t)g.w_elems * sizeof(float));
  g.y = malloc((size_t)g.y_elems * sizeof(float));
  ck_assert_msg(g.x != NULL && g.w != NULL && g.y != NULL, "out of host memory");
  test_rng_t rng;
  test_rng_seed(&rng, test_base_seed(55));
  test_fill_conv_inputs(&rng, &g.params, g.x, g.w, NULL);
  CK_CUDA(cudaMalloc((void**)&g.d_x, (size_t)g.x_elems * sizeof(float)));
  CK_CUDA(cudaMalloc((void**)&g.d_w, (size_t)g.w_elems * sizeof(float)));
  CK_CUDA(cudaMalloc((void**)&g.d_y, (size_t)g.y_elems * sizeof(float)));
  CK_CUDA(cudaMemcpy(g.d_x, g.x, (size_t)g.x_elems * sizeof(float), cudaMemcpyHostToDevice));
  CK_CUDA(cudaMemcpy(g.d_w, g.w, (size_t)g.w_elems * sizeof(float), cudaMemcpyHostToDevice));
}

static void teardown(void) {
  cudaFree(g.d_x);
  cudaFree(g.d_w);
  cudaFree(g.d_y);
  free(g.x);
  free(g.w);
  free(g.y);
  cudaStreamDestroy(g.stream);
  convgemm_destroy(g.handle);
}

/* Linear index of y[n][k][p][q]. */
static int64_t y_index(int64_t n, int64_t k, int64_t p, int64_t q) {
  return ((n * 128 + k) * g.p + p) * g.q + q;
}

START_TEST(test_problem_55_full_size) {
  const convgemm_math_mode_t mode = _i == 0 ? CONVGEMM_MATH_DEFAULT : CONVGEMM_MATH_IEEE;
  const char* mode_name = _i == 0 ? "DEFAULT" : "IEEE";
  convgemm_conv2d_params_t params = g.params;
  params.math_mode = mode;
  convgemm_conv_desc_t desc = NULL;
  CK_CONVGEMM(convgemm_conv_desc_create(&desc, &params));
  int64_t on, ok, op, oq;
  CK_CONVGEMM(convgemm_get_output_shape(desc, &on, &ok, &op, &oq));
  ck_assert_int_eq(op, 510);
  ck_assert_int_eq(oq, 1022);
  ck_assert_int_eq(on * ok * op * oq, g.y_elems);

  /* 0xFF bytes: every float a NaN until the kernel writes it. */
  CK_CUDA(cudaMemsetAsync(g.d_y, 0xFF, (size_t)g.y_elems * sizeof(float), g.stream));
  CK_CONVGEMM(convgemm_forward(g.handle, desc, CONVGEMM_ALGO_DIRECT, g.d_x, g.d_w, NULL, g.d_y,
                               NULL, 0, g.stream));
  CK_CUDA(cudaStreamSynchronize(g.stream));
  CK_CUDA(cudaMemcpy(g.y, g.d_y, (size_t)g.y_elems * sizeof(float), cudaMemcpyDeviceToHost));

  int64_t not_finite = 0, first_bad = -1;
  for (int64_t i = 0; i < g.y_elems; ++i)
    if (!isfinite(g.y[i]) && not_finite++ == 0) first_bad = i;
  ck_assert_msg(not_finite == 0, "%s: %lld of %lld outputs not written or not finite; first at "
                "n %lld k %lld p %lld q %lld",
                mode_name, (long long)not_finite, (long long)g.y_elems,
                (long long)(first_bad / (128 * g.p * g.q)), (long long)(first_bad / (g.p * g.q) % 128),
                (long long)(first_bad / g.q % g.p), (long long)(first_bad % g.q));

  /* The sample: random outputs, then the far edges of the last image's last channel (the largest
   * offsets) and the first row of the first image. */
  const int64_t count = kSamples + g.q + g.p + g.q;
  int64_t* idx = malloc((size_t)count * sizeof(int64_t));
  float* got = malloc((size_t)count * sizeof(float));
  double* ref = malloc((size_t)count * sizeof(double));
  double* abs_sum = malloc((size_t)count * sizeof(double));
  ck_assert(idx != NULL && got != NULL && ref != NULL && abs_sum != NULL);
  test_rng_t rng;
  test_rng_seed(&rng, test_base_seed(55) + 1 + (uint64_t)_i);
  int64_t m = 0;
  for (int i = 0; i < kSamples; ++i) idx[m++] = test_rng_int(&rng, 0, g.y_elems - 1);
  for (int64_t q = 0; q < g.q; ++q) idx[m++] = y_index(7, 127, g.p - 1, q);
  for (int64_t p = 0; p < g.p; ++p) idx[m++] = y_index(7, 127, p, g.q - 1);
  for (int64_t q = 0; q < g.q; ++q) idx[m++] = y_index(0, 0, 0, q);
  ck_assert_int_eq(m, count);
  ck_assert_int_eq(y_index(7, 127, g.p - 1, g.q - 1), g.y_elems - 1);
  for (int64_t i = 0; i < count; ++i) got[i] = g.y[idx[i]];
  conv2d_reference_at(&params, g.x, g.w, NULL, conv2d_reference_operands_for(&params), idx, count,
                      ref, abs_sum);
  conv_compare_result_t result;
  conv_compare(got, ref, abs_sum, count, conv_compare_terms(64, 3, 3), &result);
  char summary[512];
  conv_compare_describe(&result, summary, sizeof summary);
  const int64_t bad = result.first_failure >= 0 ? idx[result.first_failure] : 0;
  ck_assert_msg(conv_compare_passed(&result),
                "%s: %s (first failure at n %lld k %lld p %lld q %lld; input seed %llu)",
                mode_name, summary, (long long)(bad / (128 * g.p * g.q)),
                (long long)(bad / (g.p * g.q) % 128), (long long)(bad / g.q % g.p),
                (long long)(bad % g.q), (unsigned long long)test_base_seed(55));
  free(idx);
  free(got);
  free(ref);
  free(abs_sum);
  convgemm_conv_desc_destroy(desc);
}
END_TEST

static Suite* large_suite(void) {
  Suite* s = suite_create("gpu_direct_large");
  TCase* tc = tcase_create("problem_55");
  /* Unchecked fixture: the 1 GB input is made once for both math modes. */
  tcase_add_unchecked_fixture(tc, setup, teardown);
  tcase_add_loop_test(tc, test_problem_55_full_size, 0, 2);
  suite_add_tcase(s, tc);
  return s;
}

/* CK_NOFORK: CUDA and fork() don't mix. */
int main(void) { return check_main_run(large_suite(), CK_NOFORK); }
