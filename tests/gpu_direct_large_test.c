/*
 * Tensors at and past 2^31 elements, the sizes where an index computed in 32 bits first goes
 * wrong (issue 7: "tensors over 2^31 elements (input or output) give correct results with every
 * algorithm that accepts them, or a clear status before launch").
 *
 * problem_55: KernelBench level 1 problem 55 at full size through DIRECT: nn.Conv2d(64, 128, 3) on
 * torch.rand(8, 64, 512, 1024). y is 8 x 128 x 510 x 1022 floats = 2.13 GB (within 1% of 2^31
 * bytes). In each math mode:
 *   - every one of the 533,729,280 outputs is written (y is NaN-poisoned first) and finite;
 *   - ~4096 random outputs plus every output of the last image's last channel's last row and last
 *     column (and the first image's first row, for the other edge) match the float64 reference
 *     computed at just those indices, within the derived bounds of conv_compare.h.
 *
 * past_2^31: three convolutions whose output, input, or a single image plane exceed 2^31
 * elements, DEFAULT math, through DIRECT, IM2COL_GEMM, IMPLICIT_GEMM (the device's kernel, and on
 * sm_90 also the mma.sync kernel sm_80-89 run), and AUTO. Each algorithm either
 *   - is accepted (check_algorithm SUCCESS) and then every output is written and finite (y
 *     NaN-poisoned first, counted on the device) and a sample of outputs matches the float64
 *     reference: ~2000 random ones, ~1000 past index 2^31 of y, ~1000 whose window reads x past
 *     index 2^31, the last row and column of the last channel (the very last element included)
 *     and the first row; or
 *   - is refused before launch with the status and message the case expects (the refusal is
 *     asserted, so a limit that silently moves shows up), and y keeps its poison.
 * AUTO must succeed. What each case expects, from the plans (conv/direct_conv2d_plan.c,
 * im2col_gemm_plan.c, implicit_gemm_plan.c):
 *   output_past_2^31   all four succeed; AUTO picks IMPLICIT_GEMM
 *   input_past_2^31    all four succeed; AUTO picks IM2COL_GEMM (stride 2)
 *   plane_past_2^31    IM2COL_GEMM refuses (NOT_SUPPORTED: P*Q must be <= 2^31-1, its kernels
 *                      index pixels in 32 bits); the others succeed; AUTO picks DIRECT (K/G = 1)
 * Inputs are filled on the device from test_pattern_unit (test_device_ops.h) and the reference
 * evaluates the same pattern at the indices it needs, so no 8-17 GB host copy is made; the
 * sampled reference is itself checked against conv2d_reference on a small problem
 * (reference_check). Weights are small and drawn on the host like nn.Conv2d's init.
 *
 * Memory: at most 25.8 GB of device memory at once (plane_past_2^31: x 17.2 GB + y 8.6 GB),
 * 3.2 GB device + 3.2 GB host for problem 55. Run time on an H100: well under a minute, mostly
 * problem 55's host-side fill and full copy of y.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <cuda_runtime_api.h>

#include "conv/convgemm.h"
#include "conv/internal.h"
#include "tests/check_main.h"
#include "tests/conv2d_reference.h"
#include "tests/conv_compare.h"
#include "tests/test_assert.h"
#include "tests/test_device_ops.h"
#include "tests/test_random.h"
#include "tests/tf32_round_host.h"

/* ==== problem_55 ============================================================================= */

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

/* ==== past_2^31 ============================================================================== */

static const int64_t kTwo31 = INT64_C(1) << 31;

enum {
  kRandomSamples = 2048,     /* anywhere in y */
  kPastOutputSamples = 1024, /* at y indices >= 2^31 */
  kPastInputSamples = 1024,  /* outputs whose window reads x at an index >= 2^31 */
  kPastInputTries = 1 << 20  /* random outputs drawn to find them */
};

/* What runs each case: every algorithm, and IMPLICIT_GEMM's mma.sync kernel on its own (on an
 * sm_90 device the handle runs its wgmma kernel; sm_80-89 run the mma.sync one, so both must
 * hold up; elsewhere the two runs are the same kernel). */
typedef struct algo_run {
  const char* name;
  convgemm_algo_t algo;
  int no_wgmma;
} algo_run_t;

enum { kRuns = 5 };
static const algo_run_t kRunList[kRuns] = {
    {"DIRECT", CONVGEMM_ALGO_DIRECT, 0},
    {"IM2COL_GEMM", CONVGEMM_ALGO_IM2COL_GEMM, 0},
    {"IMPLICIT_GEMM", CONVGEMM_ALGO_IMPLICIT_GEMM, 0},
    {"IMPLICIT_GEMM (mma.sync kernel)", CONVGEMM_ALGO_IMPLICIT_GEMM, 1},
    {"AUTO", CONVGEMM_ALGO_AUTO, 0},
};

typedef struct large_case {
  const char* name;
  int64_t n, c, h, w, k, r, s, pad, stride; /* groups 1, dilation 1, no bias, DEFAULT math */
  int past_output, past_input, past_plane;  /* what exceeds 2^31 elements (asserted) */
  convgemm_status_t expect[kRuns];          /* per kRunList entry */
  const char* refusal[kRuns];               /* for a refusal: a phrase its message holds */
} large_case_t;

#define S_OK CONVGEMM_STATUS_SUCCESS
#define S_NO CONVGEMM_STATUS_NOT_SUPPORTED

static const large_case_t kLargeCases[] = {
    /* y (1, 128, 4113, 4113) = 2,165,346,432 elements (8.7 GB); x (1, 8, 4115, 4115) 0.54 GB;
     * 3x3, C/G = 8 (IMPLICIT_GEMM needs C/G > 1). One image, so IM2COL_GEMM's GEMM of a chunk
     * writes D = y + its first pixel with ldd = P*Q = 16,916,769: one cuBLASLt call spans
     * 127 * P*Q + pixels > 2^31 elements. */
    {"output_past_2^31", 1, 8, 4115, 4115, 128, 3, 3, 0, 1, 1, 0, 0,
     {S_OK, S_OK, S_OK, S_OK, S_OK}, {NULL, NULL, NULL, NULL, NULL}},
    /* y (1, 128, 4112, 4112) = 2,164,293,632 elements (8.7 GB); x (1, 16, 4112, 4112) 1.1 GB;
     * 3x3, pad 1, C/G = 16, W a multiple of 4 and Q of 8 (32-byte sectors: no carry): on sm_90
     * IMPLICIT_GEMM computes it with fp16 products (cpu_plan_test), whose epilogue unscales and
     * stores past 2^31. */
    {"output_past_2^31, C 16", 1, 16, 4112, 4112, 128, 3, 3, 1, 1, 1, 0, 0,
     {S_OK, S_OK, S_OK, S_OK, S_OK}, {NULL, NULL, NULL, NULL, NULL}},
    /* x (1, 64, 5800, 5800) = 2,152,960,000 elements (8.6 GB): channel 63 from row ~4870 on lies
     * past 2^31, and every output reads channel 63; y (1, 32, 2900, 2900) 1.1 GB; 3x3, pad 1,
     * stride 2 (the strided paths; AUTO then takes IM2COL_GEMM, not IMPLICIT_GEMM). */
    {"input_past_2^31", 1, 64, 5800, 5800, 32, 3, 3, 1, 2, 0, 1, 0,
     {S_OK, S_OK, S_OK, S_OK, S_OK}, {NULL, NULL, NULL, NULL, NULL}},
    /* x (1, 2, 46341, 46341): each plane 2,147,488,281 > 2^31 - 1 elements, x 17.2 GB; y
     * (1, 1, 46341, 46341) 8.6 GB, itself one plane; 1x1. IM2COL_GEMM's kernels index an image's
     * pixels in 32 bits: refused before launch (im2col_gemm_plan.c). K/G = 1: AUTO is DIRECT. */
    {"plane_past_2^31", 1, 2, 46341, 46341, 1, 1, 1, 0, 1, 1, 1, 1,
     {S_OK, S_NO, S_OK, S_OK, S_OK}, {NULL, "P*Q <= 2^31-1", NULL, NULL, NULL}},
};

#undef S_OK
#undef S_NO

/* A convolution whose x is test_pattern_unit(x_seed, index) and whose w is on the host. */
typedef struct large_problem {
  convgemm_conv2d_params_t params;
  conv2d_reference_operands_t operands;
  int64_t p, q, x_elems, w_elems, y_elems;
  uint64_t x_seed;
  float* w;
} large_problem_t;

static void large_problem_init(large_problem_t* lp, const convgemm_conv2d_params_t* params,
                               uint64_t seed) {
  const convgemm_conv2d_params_t* p = params;
  lp->params = *params;
  lp->operands = conv2d_reference_operands_for(p);
  lp->p = conv2d_reference_out_extent(p->h, p->pad_h, p->r, p->stride_h, p->dilation_h);
  lp->q = conv2d_reference_out_extent(p->w, p->pad_w, p->s, p->stride_w, p->dilation_w);
  lp->x_elems = p->n * p->c * p->h * p->w;
  lp->w_elems = p->k * (p->c / p->groups) * p->r * p->s;
  lp->y_elems = p->n * p->k * lp->p * lp->q;
  lp->x_seed = seed;
  lp->w = malloc((size_t)lp->w_elems * sizeof(float));
  ck_assert(lp->w != NULL);
  /* nn.Conv2d's init: uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
  test_rng_t rng;
  test_rng_seed(&rng, seed ^ 0x5EEDull);
  const float bound = (float)(1.0 / sqrt((double)(p->c / p->groups * p->r * p->s)));
  for (int64_t i = 0; i < lp->w_elems; ++i) lp->w[i] = test_rng_symmetric(&rng, bound);
}

static double large_operand(float v, conv2d_reference_operands_t operands) {
  return operands == CONV2D_REFERENCE_TF32 ? (double)tf32_round_rna_host(v) : (double)v;
}

/* The float64 reference at output `index` (and sum |x*w|), the way conv2d_reference computes it
 * (same terms, same order), reading x from the pattern. Returns the largest x index the window
 * reads, -1 if it lies in the padding. */
static int64_t sampled_reference(const large_problem_t* lp, int64_t index, double* ref,
                                 double* abs_sum) {
  const convgemm_conv2d_params_t* p = &lp->params;
  const int64_t ow = index % lp->q;
  const int64_t oh = index / lp->q % lp->p;
  const int64_t k = index / (lp->q * lp->p) % p->k;
  const int64_t n = index / (lp->q * lp->p * p->k);
  const int64_t c_per_group = p->c / p->groups;
  const int64_t g = k / (p->k / p->groups);
  double sum = 0.0, sum_abs = 0.0;
  int64_t last = -1;
  for (int64_t cg = 0; cg < c_per_group; ++cg) {
    for (int64_t r = 0; r < p->r; ++r) {
      const int64_t ih = oh * p->stride_h - p->pad_h + r * p->dilation_h;
      if (ih < 0 || ih >= p->h) continue;
      for (int64_t s = 0; s < p->s; ++s) {
        const int64_t iw = ow * p->stride_w - p->pad_w + s * p->dilation_w;
        if (iw < 0 || iw >= p->w) continue;
        const int64_t xi = ((n * p->c + g * c_per_group + cg) * p->h + ih) * p->w + iw;
        const double xv = large_operand(test_pattern_unit(lp->x_seed, (uint64_t)xi), lp->operands);
        const double wv =
            large_operand(lp->w[((k * c_per_group + cg) * p->r + r) * p->s + s], lp->operands);
        const double product = xv * wv;
        sum += product;
        sum_abs += fabs(product);
        if (xi > last) last = xi;
      }
    }
  }
  *ref = sum;
  *abs_sum = sum_abs;
  return last;
}

/* The outputs compared, with their reference values. */
typedef struct sample_set {
  int64_t count, capacity;
  int64_t* idx;
  double *ref, *abs_sum;
} sample_set_t;

/* Adds output `index`; returns the largest x index its window reads. */
static int64_t sample_add(sample_set_t* s, const large_problem_t* lp, int64_t index) {
  ck_assert_int_lt(s->count, s->capacity);
  const int64_t last = sampled_reference(lp, index, &s->ref[s->count], &s->abs_sum[s->count]);
  s->idx[s->count++] = index;
  return last;
}

/* Random outputs, outputs past 2^31, outputs reading x past 2^31 (when the tensors are that
 * large), the last row and column of the last (image, channel) and the first row. */
static void sample_build(sample_set_t* s, const large_problem_t* lp, uint64_t seed) {
  s->count = 0;
  s->capacity = kRandomSamples + kPastOutputSamples + kPastInputSamples + 2 * lp->q + lp->p;
  s->idx = malloc((size_t)s->capacity * sizeof(int64_t));
  s->ref = malloc((size_t)s->capacity * sizeof(double));
  s->abs_sum = malloc((size_t)s->capacity * sizeof(double));
  ck_assert(s->idx != NULL && s->ref != NULL && s->abs_sum != NULL);
  test_rng_t rng;
  test_rng_seed(&rng, seed);
  for (int i = 0; i < kRandomSamples; ++i)
    sample_add(s, lp, test_rng_int(&rng, 0, lp->y_elems - 1));
  if (lp->y_elems > kTwo31)
    for (int i = 0; i < kPastOutputSamples; ++i)
      sample_add(s, lp, test_rng_int(&rng, kTwo31, lp->y_elems - 1));
  if (lp->x_elems > kTwo31) {
    int found = 0;
    for (int tries = 0; tries < kPastInputTries && found < kPastInputSamples; ++tries) {
      const int64_t index = test_rng_int(&rng, 0, lp->y_elems - 1);
      double ref, abs_sum;
      if (sampled_reference(lp, index, &ref, &abs_sum) >= kTwo31) {
        sample_add(s, lp, index);
        ++found;
      }
    }
    ck_assert_msg(found == kPastInputSamples, "found only %d outputs reading x past 2^31", found);
  }
  const int64_t last_plane = lp->y_elems - lp->p * lp->q; /* (N-1, K-1, 0, 0) */
  for (int64_t q = 0; q < lp->q; ++q) sample_add(s, lp, last_plane + (lp->p - 1) * lp->q + q);
  for (int64_t p = 0; p < lp->p; ++p) sample_add(s, lp, last_plane + p * lp->q + lp->q - 1);
  for (int64_t q = 0; q < lp->q; ++q) sample_add(s, lp, q);
  ck_assert_int_eq(s->idx[kRandomSamples + (lp->y_elems > kTwo31 ? kPastOutputSamples : 0) +
                          (lp->x_elems > kTwo31 ? kPastInputSamples : 0) + lp->q - 1],
                   lp->y_elems - 1);
}

static void sample_free(sample_set_t* s) {
  free(s->idx);
  free(s->ref);
  free(s->abs_sum);
}

/* The sampled reference is conv2d_reference at those indices: checked on a small problem with
 * groups, stride, padding and dilation that differ per axis, in both operand modes, bit for bit
 * (same terms in the same order). */
START_TEST(test_sampled_reference_is_the_reference) {
  convgemm_conv2d_params_t p;
  convgemm_conv2d_params_init(&p, 2, 6, 9, 11, 4, 3, 2);
  p.groups = 2;
  p.pad_h = 1;
  p.pad_w = 2;
  p.stride_h = 2;
  p.dilation_w = 2;
  for (int mode = 0; mode < 2; ++mode) {
    p.math_mode = mode == 0 ? CONVGEMM_MATH_DEFAULT : CONVGEMM_MATH_IEEE;
    large_problem_t lp;
    large_problem_init(&lp, &p, 99);
    float* x = malloc((size_t)lp.x_elems * sizeof(float));
    double* ref = malloc((size_t)lp.y_elems * sizeof(double));
    double* abs_sum = malloc((size_t)lp.y_elems * sizeof(double));
    ck_assert(x != NULL && ref != NULL && abs_sum != NULL);
    for (int64_t i = 0; i < lp.x_elems; ++i) x[i] = test_pattern_unit(lp.x_seed, (uint64_t)i);
    conv2d_reference(&p, x, lp.w, NULL, lp.operands, ref, abs_sum);
    for (int64_t i = 0; i < lp.y_elems; ++i) {
      double got, got_abs;
      sampled_reference(&lp, i, &got, &got_abs);
      ck_assert_msg(got == ref[i] && got_abs == abs_sum[i],
                    "math %d, output %lld: sampled %.17g (%.17g), conv2d_reference %.17g (%.17g)",
                    mode, (long long)i, got, got_abs, ref[i], abs_sum[i]);
    }
    free(x);
    free(ref);
    free(abs_sum);
    free(lp.w);
  }
}
END_TEST

/* Host only, so it can run anywhere before GPU time is spent (CK_RUN_CASE=sampled_reference):
 * each case's sample set reaches what it must. */
static void large_case_params(const large_case_t* lc, convgemm_conv2d_params_t* params) {
  convgemm_conv2d_params_init(params, lc->n, lc->c, lc->h, lc->w, lc->k, lc->r, lc->s);
  params->pad_h = params->pad_w = lc->pad;
  params->stride_h = params->stride_w = lc->stride;
}

START_TEST(test_sample_sets_reach_past_2_31) {
  const large_case_t* lc = &kLargeCases[_i];
  convgemm_conv2d_params_t params;
  large_case_params(lc, &params);
  large_problem_t lp;
  large_problem_init(&lp, &params, test_base_seed(31) + (uint64_t)_i);
  ck_assert_int_eq(lp.y_elems > kTwo31, lc->past_output);
  ck_assert_int_eq(lp.x_elems > kTwo31, lc->past_input);
  ck_assert_int_eq(params.h * params.w > kTwo31 - 1, lc->past_plane);
  sample_set_t smp;
  sample_build(&smp, &lp, lp.x_seed + 1);
  int64_t past_output = 0, past_input = 0, last = 0;
  for (int64_t i = 0; i < smp.count; ++i) {
    double ref, abs_sum;
    past_output += smp.idx[i] >= kTwo31;
    past_input += sampled_reference(&lp, smp.idx[i], &ref, &abs_sum) >= kTwo31;
    last += smp.idx[i] == lp.y_elems - 1;
    ck_assert(smp.idx[i] >= 0 && smp.idx[i] < lp.y_elems);
    ck_assert(isfinite(smp.ref[i]) && smp.abs_sum[i] >= fabs(smp.ref[i]));
  }
  ck_assert_int_eq(last > 0, 1);
  if (lc->past_output) ck_assert_int_ge(past_output, kPastOutputSamples);
  if (lc->past_input) ck_assert_int_ge(past_input, kPastInputSamples);
  sample_free(&smp);
  free(lp.w);
}
END_TEST

static struct {
  convgemm_handle_t handle;
  cudaStream_t stream;
} big;

static void setup_past(void) {
  CK_CONVGEMM(convgemm_create(&big.handle));
  CK_CUDA(cudaStreamCreateWithFlags(&big.stream, cudaStreamNonBlocking));
}

static void teardown_past(void) {
  CK_CUDA(cudaStreamDestroy(big.stream));
  CK_CONVGEMM(convgemm_destroy(big.handle));
}

/* The device side of a case. */
typedef struct large_buffers {
  float *x, *w, *y;
} large_buffers_t;

/* "n 0 k 127 p 4112 q 4112" of a linear output index. */
static void describe_output(const large_problem_t* lp, int64_t index, char* buf, size_t size) {
  snprintf(buf, size, "n %lld k %lld p %lld q %lld (index %lld)",
           (long long)(index / (lp->q * lp->p * lp->params.k)),
           (long long)(index / (lp->q * lp->p) % lp->params.k),
           (long long)(index / lp->q % lp->p), (long long)(index % lp->q), (long long)index);
}

/* A refused algorithm: the expected status and message from check_algorithm and from forward,
 * and nothing written to y. */
static void expect_refused(const large_problem_t* lp, convgemm_conv_desc_t desc,
                           const algo_run_t* run, convgemm_status_t want, const char* phrase,
                           const large_buffers_t* b, const char* ctx) {
  CK_CUDA(cudaMemsetAsync(b->y, 0xFF, (size_t)lp->y_elems * sizeof(float), big.stream));
  const convgemm_status_t s = convgemm_forward(big.handle, desc, run->algo, b->x, b->w, NULL,
                                               b->y, NULL, 0, big.stream);
  char message[512];
  snprintf(message, sizeof message, "%s", convgemm_get_last_error());
  ck_assert_msg(s == want, "%s: forward returned %s, want %s; last error: %s", ctx,
                convgemm_status_string(s), convgemm_status_string(want), message);
  ck_assert_msg(strstr(message, phrase) != NULL, "%s: refusal message \"%s\" lacks \"%s\"", ctx,
                message, phrase);
  int64_t nonfinite = -1;
  CK_CUDA(test_count_nonfinite(b->y, lp->y_elems, &nonfinite, big.stream));
  ck_assert_msg(nonfinite == lp->y_elems, "%s: refused, yet %lld outputs were written", ctx,
                (long long)(lp->y_elems - nonfinite));
  printf("  %s: %s before launch: %s\n", ctx, convgemm_status_string(s), message);
}

/* An accepted algorithm: forward into a NaN-poisoned y (and workspace), every output written and
 * finite, the samples within the bounds of conv_compare.h. */
static void expect_correct(const large_problem_t* lp, convgemm_conv_desc_t desc,
                           const algo_run_t* run, const sample_set_t* smp,
                           const large_buffers_t* b, const char* ctx) {
  size_t ws_bytes = 0;
  CK_CONVGEMM(convgemm_get_workspace_size(big.handle, desc, run->algo, NULL, &ws_bytes));
  void* ws = NULL;
  if (ws_bytes > 0) {
    CK_CUDA(cudaMalloc(&ws, ws_bytes));
    CK_CUDA(cudaMemsetAsync(ws, 0xFF, ws_bytes, big.stream));
  }
  convgemm_algo_t resolved = run->algo;
  if (run->algo == CONVGEMM_ALGO_AUTO)
    CK_CONVGEMM(convgemm_get_algorithm(big.handle, desc, &resolved));
  CK_CUDA(cudaMemsetAsync(b->y, 0xFF, (size_t)lp->y_elems * sizeof(float), big.stream));
  const convgemm_status_t s = convgemm_forward(big.handle, desc, run->algo, b->x, b->w, NULL,
                                               b->y, ws, ws_bytes, big.stream);
  ck_assert_msg(s == CONVGEMM_STATUS_SUCCESS, "%s: forward returned %s; last error: %s", ctx,
                convgemm_status_string(s), convgemm_get_last_error());
  const cudaError_t done = cudaStreamSynchronize(big.stream);
  ck_assert_msg(done == cudaSuccess, "%s: the forward's work failed: %s (%s)", ctx,
                cudaGetErrorName(done), cudaGetErrorString(done));

  int64_t nonfinite = -1;
  CK_CUDA(test_count_nonfinite(b->y, lp->y_elems, &nonfinite, big.stream));
  ck_assert_msg(nonfinite == 0, "%s: %lld of %lld outputs not written or not finite", ctx,
                (long long)nonfinite, (long long)lp->y_elems);

  float* got = malloc((size_t)smp->count * sizeof(float));
  ck_assert(got != NULL);
  CK_CUDA(test_gather(b->y, smp->idx, smp->count, got, big.stream));
  conv_compare_result_t result;
  const convgemm_conv2d_params_t* p = &lp->params;
  conv_compare(got, smp->ref, smp->abs_sum, smp->count,
               conv_compare_terms(p->c / p->groups, p->r, p->s), &result);
  char summary[512], where[128] = "";
  conv_compare_describe(&result, summary, sizeof summary);
  if (result.first_failure >= 0)
    describe_output(lp, smp->idx[result.first_failure], where, sizeof where);
  ck_assert_msg(conv_compare_passed(&result), "%s (ran %s): %s; first failure at %s", ctx,
                convgemm_algo_name(resolved), summary, where);
  printf("  %s: SUCCESS (ran %s), %lld samples, max |diff| %.3g (%.3g x bound), rel L2 %.3g "
         "(%.3g x limit)\n",
         ctx, convgemm_algo_name(resolved), (long long)smp->count, result.max_abs_err,
         result.max_err_over_bound, result.rel_l2, result.rel_l2 / result.rel_l2_limit);
  free(got);
  cudaFree(ws);
}

START_TEST(test_past_2_31) {
  const large_case_t* lc = &kLargeCases[_i];
  convgemm_conv2d_params_t params;
  large_case_params(lc, &params);
  large_problem_t lp;
  large_problem_init(&lp, &params, test_base_seed(31) + (uint64_t)_i);
  /* The case is what its name says. */
  ck_assert_int_eq(lp.y_elems > kTwo31, lc->past_output);
  ck_assert_int_eq(lp.x_elems > kTwo31, lc->past_input);
  ck_assert_int_eq(params.h * params.w > kTwo31 - 1, lc->past_plane);

  convgemm_conv_desc_t desc = NULL;
  CK_CONVGEMM(convgemm_conv_desc_create(&desc, &params));
  int64_t on, ok, op, oq;
  CK_CONVGEMM(convgemm_get_output_shape(desc, &on, &ok, &op, &oq));
  ck_assert_int_eq(on * ok * op * oq, lp.y_elems);

  /* Room for x and y, and a GB for workspaces and the runtime. */
  const size_t need = (size_t)(lp.x_elems + lp.w_elems + lp.y_elems) * sizeof(float) + (1u << 30);
  size_t free_bytes = 0, total_bytes = 0;
  CK_CUDA(cudaMemGetInfo(&free_bytes, &total_bytes));
  ck_assert_msg(free_bytes >= need, "%s needs %.1f GB of device memory, %.1f GB free", lc->name,
                need / 1e9, free_bytes / 1e9);
  large_buffers_t b;
  CK_CUDA(cudaMalloc((void**)&b.x, (size_t)lp.x_elems * sizeof(float)));
  CK_CUDA(cudaMalloc((void**)&b.w, (size_t)lp.w_elems * sizeof(float)));
  CK_CUDA(cudaMalloc((void**)&b.y, (size_t)lp.y_elems * sizeof(float)));
  CK_CUDA(test_fill_pattern(b.x, lp.x_elems, lp.x_seed, big.stream));
  CK_CUDA(cudaMemcpyAsync(b.w, lp.w, (size_t)lp.w_elems * sizeof(float), cudaMemcpyHostToDevice,
                          big.stream));
  CK_CUDA(cudaStreamSynchronize(big.stream));

  sample_set_t smp;
  sample_build(&smp, &lp, lp.x_seed + 1);
  printf("%s: x %lld, y %lld elements (%.1f + %.1f GB), %lld sampled outputs\n", lc->name,
         (long long)lp.x_elems, (long long)lp.y_elems, lp.x_elems * 4e-9, lp.y_elems * 4e-9,
         (long long)smp.count);
  for (int r = 0; r < kRuns; ++r) {
    const algo_run_t* run = &kRunList[r];
    char ctx[160];
    snprintf(ctx, sizeof ctx, "%s, %s", lc->name, run->name);
    big.handle->info.no_wgmma = run->no_wgmma;
    const convgemm_status_t support = convgemm_check_algorithm(big.handle, desc, run->algo);
    ck_assert_msg(support == lc->expect[r], "%s: check_algorithm returned %s, want %s; last "
                  "error: %s", ctx, convgemm_status_string(support),
                  convgemm_status_string(lc->expect[r]), convgemm_get_last_error());
    if (lc->expect[r] == CONVGEMM_STATUS_SUCCESS)
      expect_correct(&lp, desc, run, &smp, &b, ctx);
    else
      expect_refused(&lp, desc, run, lc->expect[r], lc->refusal[r], &b, ctx);
    big.handle->info.no_wgmma = 0;
  }

  sample_free(&smp);
  CK_CUDA(cudaFree(b.x));
  CK_CUDA(cudaFree(b.w));
  CK_CUDA(cudaFree(b.y));
  convgemm_conv_desc_destroy(desc);
  free(lp.w);
}
END_TEST

static Suite* large_suite(void) {
  Suite* s = suite_create("gpu_direct_large");
  TCase* reference = tcase_create("sampled_reference");
  tcase_add_test(reference, test_sampled_reference_is_the_reference);
  tcase_add_loop_test(reference, test_sample_sets_reach_past_2_31, 0,
                      (int)(sizeof kLargeCases / sizeof kLargeCases[0]));
  suite_add_tcase(s, reference);

  TCase* past = tcase_create("past_2^31");
  /* A fresh handle per case; each case allocates and frees its own tensors, so the device holds
   * one case's at a time. */
  tcase_add_checked_fixture(past, setup_past, teardown_past);
  tcase_add_loop_test(past, test_past_2_31, 0,
                      (int)(sizeof kLargeCases / sizeof kLargeCases[0]));
  suite_add_tcase(s, past);

  TCase* tc = tcase_create("problem_55");
  /* Unchecked fixture: the 1 GB input is made once for both math modes. */
  tcase_add_unchecked_fixture(tc, setup, teardown);
  tcase_add_loop_test(tc, test_problem_55_full_size, 0, 2);
  suite_add_tcase(s, tc);
  return s;
}

/* CK_NOFORK: CUDA and fork() don't mix. */
int main(void) { return check_main_run(large_suite(), CK_NOFORK); }
