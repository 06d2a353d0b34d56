/*
 * IMPLICIT_GEMM's fp16 products (plan->f16_products, conv/implicit_gemm_f16_products.cu): DEFAULT
 * math's TF32 products computed on fp16 tensor cores, the operands scaled by powers of two, every
 * tile holding a value fp16 can't hold exactly recomputed by the TF32 kernel. Each case runs
 * N1 C32 H10 W136 -> K96, 3x3, pad 1 (9 tiles of 4 x 64 pixels, partial along both axes: P 10,
 * Q 136) on an NaN-poisoned y and workspace, and checks y against the float64 reference of the
 * TF32-rounded operands under conv_compare's bound, and what the library listed (the info ints in
 * the workspace: filter inexact, listed tiles):
 *   random          nn.Conv2d-like inputs: nothing listed, the filter exact;
 *   tiny_x          two x of +-1e-30 and one of 2^-130 (a subnormal TF32 keeps; 2^-140 would
 *                   round to zero) beside values near 1: exactly their three tiles listed;
 *   huge_x          one x of 3e4 in the second 16-channel chunk (the tile's scale comes from the
 *                   first, near 1): its fp16 conversion overflows, the tile is listed;
 *   zero_chunk      the first 16 channels zero (the tile's scale then 2^0);
 *   inexact_filter  one weight of 1e-30 beside weights near 0.1: the filter is not exact in fp16,
 *                   every tile is recomputed;
 *   no_bias         random inputs without a bias;
 *   nonfinite       a NaN and an Inf in x (second chunk, two tiles): outputs whose window holds the
 *                   NaN are NaN, those holding only the Inf are +-Inf, every other one within the
 *                   bound.
 * On devices where the plan takes no fp16 products (not sm_90) the cases still run and check y.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <cuda_runtime_api.h>

#include "conv/convgemm.h"
#include "conv/implicit_gemm_plan.h"
#include "conv/internal.h"
#include "tests/check_main.h"
#include "tests/conv2d_reference.h"
#include "tests/conv_compare.h"
#include "tests/test_assert.h"
#include "tests/test_random.h"

enum { kN = 1, kC = 32, kH = 10, kW = 136, kK = 96, kR = 3, kS = 3 };
enum { kXElems = kN * kC * kH * kW, kWElems = kK * kC * kR * kS, kYElems = kN * kK * kH * kW };

typedef enum f16_case {
  CASE_RANDOM,
  CASE_TINY_X,
  CASE_HUGE_X,
  CASE_ZERO_CHUNK,
  CASE_INEXACT_FILTER,
  CASE_NO_BIAS,
  CASE_NONFINITE,
  CASE_COUNT
} f16_case_t;

static const char* const kCaseNames[CASE_COUNT] = {
    "random", "tiny_x", "huge_x", "zero_chunk", "inexact_filter", "no_bias", "nonfinite"};

static int x_index(int c, int h, int w) { return (c * kH + h) * kW + w; }

static convgemm_conv2d_params_t case_params(f16_case_t kase) {
  convgemm_conv2d_params_t p;
  convgemm_conv2d_params_init(&p, kN, kC, kH, kW, kK, kR, kS);
  p.pad_h = p.pad_w = 1;
  p.has_bias = kase != CASE_NO_BIAS;
  return p;
}

static void case_inputs(f16_case_t kase, const convgemm_conv2d_params_t* p, float* x, float* w,
                        float* bias) {
  test_rng_t rng;
  test_rng_seed(&rng, test_base_seed(4200) + (uint64_t)kase);
  test_fill_conv_inputs(&rng, p, x, w, bias);
  switch (kase) {
    case CASE_TINY_X:
      x[x_index(2, 1, 5)] = 1e-30f;           /* first chunk, tile (0, 0) */
      x[x_index(20, 5, 70)] = -1e-30f;        /* second chunk, tile (1, 1) */
      x[x_index(31, 9, 130)] = 0x1p-130f;     /* subnormal (TF32 keeps it), tile (2, 2) */
      break;
    case CASE_HUGE_X:
      x[x_index(20, 5, 70)] = 3e4f;
      break;
    case CASE_ZERO_CHUNK:
      memset(x, 0, sizeof(float) * 16 * kH * kW);
      break;
    case CASE_INEXACT_FILTER:
      w[7] = 1e-30f;
      break;
    case CASE_NONFINITE:
      x[x_index(3, 2, 10)] = NAN;
      x[x_index(20, 7, 100)] = INFINITY;
      break;
    default:
      break;
  }
}

/* The info ints after the call. */
typedef struct f16_info {
  int inexact_filter, listed;
} f16_info_t;

/* y = IMPLICIT_GEMM(x, w, bias) through the device, y and workspace NaN-poisoned; *plan is the
 * plan the handle made, *info what the fp16 products listed (zeros without them). */
static void compute(const convgemm_conv2d_params_t* p, const float* x, const float* w,
                    const float* bias, float* y, convgemm_igemm_plan_t* plan, f16_info_t* info) {
  convgemm_handle_t handle = NULL;
  cudaStream_t stream;
  convgemm_conv_desc_t desc = NULL;
  CK_CONVGEMM(convgemm_create(&handle));
  CK_CUDA(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  CK_CONVGEMM(convgemm_conv_desc_create(&desc, p));
  convgemm_igemm_make_plan(desc, &handle->info, plan);
  float *dx, *dw, *db, *dy;
  CK_CUDA(cudaMalloc((void**)&dx, sizeof(float) * kXElems));
  CK_CUDA(cudaMalloc((void**)&dw, sizeof(float) * kWElems));
  CK_CUDA(cudaMalloc((void**)&db, sizeof(float) * kK));
  CK_CUDA(cudaMalloc((void**)&dy, sizeof(float) * kYElems));
  CK_CUDA(cudaMemcpy(dx, x, sizeof(float) * kXElems, cudaMemcpyHostToDevice));
  CK_CUDA(cudaMemcpy(dw, w, sizeof(float) * kWElems, cudaMemcpyHostToDevice));
  CK_CUDA(cudaMemcpy(db, bias, sizeof(float) * kK, cudaMemcpyHostToDevice));
  CK_CUDA(cudaMemset(dy, 0xFF, sizeof(float) * kYElems));
  size_t min_bytes = 0, preferred_bytes = 0;
  CK_CONVGEMM(convgemm_get_workspace_size(handle, desc, CONVGEMM_ALGO_IMPLICIT_GEMM, &min_bytes,
                                          &preferred_bytes));
  char* ws = NULL;
  CK_CUDA(cudaMalloc((void**)&ws, min_bytes));
  CK_CUDA(cudaMemset(ws, 0xFF, min_bytes));
  CK_CUDA(cudaDeviceSynchronize());
  CK_CONVGEMM(convgemm_forward(handle, desc, CONVGEMM_ALGO_IMPLICIT_GEMM, dx, dw,
                               p->has_bias ? db : NULL, dy, ws, min_bytes, stream));
  CK_CUDA(cudaStreamSynchronize(stream));
  CK_CUDA(cudaMemcpy(y, dy, sizeof(float) * kYElems, cudaMemcpyDeviceToHost));
  info->inexact_filter = info->listed = 0;
  if (plan->f16_products) {
    int ints[CONVGEMM_IGEMM_F16_INFO_INTS];
    CK_CUDA(cudaMemcpy(ints, ws + plan->f16_info_offset, sizeof ints, cudaMemcpyDeviceToHost));
    info->inexact_filter = ints[1];
    info->listed = ints[2];
  }
  CK_CUDA(cudaFree(dx));
  CK_CUDA(cudaFree(dw));
  CK_CUDA(cudaFree(db));
  CK_CUDA(cudaFree(dy));
  CK_CUDA(cudaFree(ws));
  convgemm_conv_desc_destroy(desc);
  CK_CUDA(cudaStreamDestroy(stream));
  CK_CONVGEMM(convgemm_destroy(handle));
}

START_TEST(test_f16_products_case) {
  const f16_case_t kase = (f16_case_t)_i;
  const char* name = kCaseNames[kase];
  const convgemm_conv2d_params_t p = case_params(kase);
  float* x = malloc(sizeof(float) * kXElems);
  float* w = malloc(sizeof(float) * kWElems);
  float* bias = malloc(sizeof(float) * kK);
  float* y = malloc(sizeof(float) * kYElems);
  double* ref = malloc(sizeof(double) * kYElems);
  double* abs_sum = malloc(sizeof(double) * kYElems);
  ck_assert(x && w && bias && y && ref && abs_sum);
  case_inputs(kase, &p, x, w, bias);
  convgemm_igemm_plan_t plan;
  f16_info_t info;
  compute(&p, x, w, bias, y, &plan, &info);
  int major = 0, minor = 0, device = 0;
  CK_CUDA(cudaGetDevice(&device));
  CK_CUDA(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device));
  CK_CUDA(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device));
  if (major == 9 && minor == 0)
    ck_assert_msg(plan.f16_products && plan.tiles == 9, "%s: sm_90 takes fp16 products (%d)",
                  name, plan.f16_products);
  conv2d_reference(&p, x, w, p.has_bias ? bias : NULL, CONV2D_REFERENCE_TF32, ref, abs_sum);
  if (plan.f16_products) {
    switch (kase) {
      case CASE_RANDOM:
      case CASE_NO_BIAS:
        ck_assert_msg(info.listed == 0 && info.inexact_filter == 0,
                      "%s: %d tiles listed, filter inexact %d", name, info.listed,
                      info.inexact_filter);
        break;
      case CASE_TINY_X:
        ck_assert_msg(info.listed == 3 && info.inexact_filter == 0,
                      "%s: %d tiles listed (want 3), filter inexact %d", name, info.listed,
                      info.inexact_filter);
        break;
      case CASE_HUGE_X:
      case CASE_NONFINITE:
        ck_assert_msg(info.listed >= 1 && info.inexact_filter == 0,
                      "%s: %d tiles listed, filter inexact %d", name, info.listed,
                      info.inexact_filter);
        break;
      case CASE_INEXACT_FILTER:
        ck_assert_msg(info.inexact_filter == 1, "%s: the filter was taken as exact", name);
        break;
      default:
        break;
    }
    printf("gpu_f16_products_test: %s: %d of 9 tiles listed, filter %s\n", name, info.listed,
           info.inexact_filter ? "inexact (every tile recomputed)" : "exact");
  }
  const int64_t n_terms = conv_compare_terms(kC, kR, kS);
  if (kase == CASE_NONFINITE) {
    int nan_count = 0, inf_count = 0;
    for (int i = 0; i < kYElems; ++i) {
      if (isnan(ref[i])) {
        ck_assert_msg(isnan(y[i]), "%s: y[%d] = %g, want NaN", name, i, (double)y[i]);
        ++nan_count;
      } else if (isinf(ref[i])) {
        ck_assert_msg((double)y[i] == ref[i], "%s: y[%d] = %g, want %g", name, i, (double)y[i],
                      ref[i]);
        ++inf_count;
      } else {
        const double bound = conv_compare_bound(abs_sum[i], n_terms);
        ck_assert_msg(fabs((double)y[i] - ref[i]) <= bound, "%s: y[%d] = %.9g, want %.9g +- %g",
                      name, i, (double)y[i], ref[i], bound);
      }
    }
    ck_assert_int_eq(nan_count, 9 * kK);
    ck_assert_int_eq(inf_count, 9 * kK);
  } else {
    conv_compare_result_t result;
    conv_compare(y, ref, abs_sum, kYElems, n_terms, &result);
    char why[256];
    conv_compare_describe(&result, why, sizeof why);
    ck_assert_msg(conv_compare_passed(&result), "%s: %s", name, why);
  }
  free(x);
  free(w);
  free(bias);
  free(y);
  free(ref);
  free(abs_sum);
}
END_TEST

static Suite* f16_products_suite(void) {
  Suite* s = suite_create("gpu_f16_products");
  TCase* cases = tcase_create("cases");
  tcase_set_timeout(cases, 60);
  tcase_add_loop_test(cases, test_f16_products_case, 0, CASE_COUNT);
  suite_add_tcase(s, cases);
  return s;
}

/* CK_NOFORK: CUDA and fork() don't mix. */
int main(void) { return check_main_run(f16_products_suite(), CK_NOFORK); }
