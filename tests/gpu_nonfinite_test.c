/*
 * Numerical edge cases, for every algorithm: DIRECT and IM2COL_GEMM in both math modes
 * (IM2COL_GEMM with its minimum workspace, NaN-poisoned; in DEFAULT math the bound widened for
 * its split bias, conv_compare.h), IMPLICIT_GEMM in DEFAULT math (its only one) with the device's
 * kernel and, separately, its mma.sync kernel (what sm_80-89 run; on sm_90 the handle otherwise
 * runs wgmma).
 *
 * nonfinite: NaN and Inf inputs propagate as in PyTorch's nn.Conv2d (IEEE arithmetic): an output
 *   whose window holds a NaN x or w is NaN; one whose window holds a single +-Inf x is +-Inf with
 *   the sign of the weight it meets; every other output is finite and matches the reference.
 *   TF32 rounding keeps Inf and must keep NaN a NaN (gemm/tf32_round.cuh). The NaNs tried include
 *   a signaling one whose payload lies only in the low 13 mantissa bits, the bits TF32 drops.
 *
 * magnitude: finite inputs far from the usual range, every output within the reference's bound
 *   (N1 C4 H10 W12 -> K8, 3x3, pad 1, bias; inputs drawn as nn.Conv2d's, then scaled):
 *   - huge x (x, bias * 1e30; outputs ~1e30, far below FLT_MAX) and huge w (w, bias * 1e30);
 *   - subnormals among normal x (every third x scaled by 2^-130): whether or not a kernel keeps
 *     them, their products are far below the bound, but they must not turn into NaN or garbage;
 *   - subnormal x with normal products (x * 2^-130, w * 2^100, bias * 2^-30): a kernel (or tensor
 *     core) that flushed subnormal inputs to zero would lose every product;
 *   - subnormal outputs (x, w * 2^-65, bias * 2^-130: products ~4e-41, outputs ~1e-39, gradual
 *     underflow throughout). DIRECT's fp32 FMAs (nvcc without -ftz) must keep them: the bound
 *     holds element by element (the relative L2 limit does not apply: each rounding in the
 *     subnormal range may cost 2^-150 absolute, a large relative error). The tensor cores and
 *     cuBLASLt's kernels are not documented to keep subnormal results, so for IM2COL_GEMM and
 *     IMPLICIT_GEMM the test asserts only finite outputs within max(bound, |ref|) of the
 *     reference (flushed toward zero at worst) and prints how many left the strict bound;
 *   - all-negative inputs (x, w and bias all <= 0; products positive, TF32 ties away from zero
 *     on negative operands).
 *
 * determinism: each algorithm (and AUTO) called three times on N2 C32 H30 W70 -> K64, 3x3, pad 1,
 *   bias gives the same bits every time (IM2COL_GEMM: a capture, then replays of its cached graph,
 *   at the minimum and at the preferred workspace), and the first result matches the reference.
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
#include "tests/test_random.h"
#include "tests/tf32_round_host.h"

/* N1 C4 H10 W12 -> K8 3x3 pad 1 with bias: every special input reaches 9 outputs per channel. */
enum { kN = 1, kC = 4, kH = 10, kW = 12, kK = 8, kR = 3, kS = 3 };
enum { kXElems = kN * kC * kH * kW, kWElems = kK * kC * kR * kS, kYElems = kN * kK * kH * kW };

/* The algorithm runs: the algorithm, its math mode, and for IMPLICIT_GEMM the kernel. */
typedef struct algo_config {
  const char* name;
  convgemm_algo_t algo;
  convgemm_math_mode_t mode;
  int no_wgmma;
} algo_config_t;

static const algo_config_t kConfigs[] = {
    {"DIRECT, DEFAULT math", CONVGEMM_ALGO_DIRECT, CONVGEMM_MATH_DEFAULT, 0},
    {"DIRECT, IEEE math", CONVGEMM_ALGO_DIRECT, CONVGEMM_MATH_IEEE, 0},
    {"IM2COL_GEMM, DEFAULT math", CONVGEMM_ALGO_IM2COL_GEMM, CONVGEMM_MATH_DEFAULT, 0},
    {"IM2COL_GEMM, IEEE math", CONVGEMM_ALGO_IM2COL_GEMM, CONVGEMM_MATH_IEEE, 0},
    {"IMPLICIT_GEMM, DEFAULT math", CONVGEMM_ALGO_IMPLICIT_GEMM, CONVGEMM_MATH_DEFAULT, 0},
    {"IMPLICIT_GEMM (mma.sync kernel), DEFAULT math", CONVGEMM_ALGO_IMPLICIT_GEMM,
     CONVGEMM_MATH_DEFAULT, 1},
};
enum { kConfigCount = (int)(sizeof kConfigs / sizeof kConfigs[0]) };

static convgemm_conv2d_params_t small_params(convgemm_math_mode_t mode) {
  convgemm_conv2d_params_t p;
  convgemm_conv2d_params_init(&p, kN, kC, kH, kW, kK, kR, kS);
  p.pad_h = p.pad_w = 1;
  p.has_bias = 1;
  p.math_mode = mode;
  return p;
}

/* y = forward(x, w, bias) with `cfg` on a fresh handle and stream, through the device; the
 * workspace is the algorithm's minimum (or `preferred`), NaN-poisoned; y is poisoned with
 * `poison_byte` first. */
static void compute(const algo_config_t* cfg, const convgemm_conv2d_params_t* p, const float* x,
                    const float* w, const float* bias, float* y, int preferred,
                    unsigned char poison_byte) {
  const int64_t x_elems = p->n * p->c * p->h * p->w;
  const int64_t w_elems = p->k * (p->c / p->groups) * p->r * p->s;
  const int64_t y_elems = conv2d_reference_y_elems(p);
  convgemm_handle_t handle = NULL;
  cudaStream_t stream;
  convgemm_conv_desc_t desc = NULL;
  CK_CONVGEMM(convgemm_create(&handle));
  handle->info.no_wgmma = cfg->no_wgmma;
  CK_CUDA(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  CK_CONVGEMM(convgemm_conv_desc_create(&desc, p));
  float *dx, *dw, *db, *dy;
  CK_CUDA(cudaMalloc((void**)&dx, (size_t)x_elems * sizeof(float)));
  CK_CUDA(cudaMalloc((void**)&dw, (size_t)w_elems * sizeof(float)));
  CK_CUDA(cudaMalloc((void**)&db, (size_t)p->k * sizeof(float)));
  CK_CUDA(cudaMalloc((void**)&dy, (size_t)y_elems * sizeof(float)));
  CK_CUDA(cudaMemcpy(dx, x, (size_t)x_elems * sizeof(float), cudaMemcpyHostToDevice));
  CK_CUDA(cudaMemcpy(dw, w, (size_t)w_elems * sizeof(float), cudaMemcpyHostToDevice));
  CK_CUDA(cudaMemcpy(db, bias, (size_t)p->k * sizeof(float), cudaMemcpyHostToDevice));
  CK_CUDA(cudaMemset(dy, poison_byte, (size_t)y_elems * sizeof(float)));
  size_t min_bytes = 0, preferred_bytes = 0;
  CK_CONVGEMM(convgemm_get_workspace_size(handle, desc, cfg->algo, &min_bytes, &preferred_bytes));
  const size_t ws_bytes = preferred ? preferred_bytes : min_bytes;
  void* ws = NULL;
  if (ws_bytes > 0) {
    CK_CUDA(cudaMalloc(&ws, ws_bytes));
    CK_CUDA(cudaMemset(ws, 0xFF, ws_bytes));
  }
  CK_CUDA(cudaDeviceSynchronize());
  CK_CONVGEMM(convgemm_forward(handle, desc, cfg->algo, dx, dw, p->has_bias ? db : NULL, dy, ws,
                               ws_bytes, stream));
  CK_CUDA(cudaStreamSynchronize(stream));
  CK_CUDA(cudaMemcpy(y, dy, (size_t)y_elems * sizeof(float), cudaMemcpyDeviceToHost));
  CK_CUDA(cudaFree(dx));
  CK_CUDA(cudaFree(dw));
  CK_CUDA(cudaFree(db));
  CK_CUDA(cudaFree(dy));
  CK_CUDA(cudaFree(ws));
  convgemm_conv_desc_destroy(desc);
  CK_CUDA(cudaStreamDestroy(stream));
  CK_CONVGEMM(convgemm_destroy(handle));
}

/* The reference and its bound for `cfg` (abs_sum widened for IM2COL_GEMM's split bias in
 * DEFAULT math); returns what to add to the relative L2 limit. */
static double reference_for(const algo_config_t* cfg, const convgemm_conv2d_params_t* p,
                            const float* x, const float* w, const float* bias, double* ref,
                            double* abs_sum) {
  conv2d_reference(p, x, w, bias, conv2d_reference_operands_for(p), ref, abs_sum);
  if (cfg->algo == CONVGEMM_ALGO_IM2COL_GEMM &&
      conv2d_reference_operands_for(p) == CONV2D_REFERENCE_TF32 && bias != NULL)
    return conv_compare_widen_for_split_bias(bias, p->n, p->k, conv2d_reference_y_elems(p) /
                                             (p->n * p->k),
                                             conv_compare_terms(p->c / p->groups, p->r, p->s),
                                             ref, abs_sum);
  return 0.0;
}

/* ==== nonfinite ============================================================================== */

typedef struct special_case {
  const char* name;
  uint32_t bits;  /* the special value */
  int in_w;       /* 0: put into x at kXSpot, 1: into w at kWSpot */
} special_case_t;

enum { kXSpot = (1 * kH + 4) * kW + 7, kWSpot = (5 * kC + 2) * kR * kS + 4 };

static const special_case_t kCases[] = {
    {"quiet NaN in x", 0x7FC00000u, 0},
    {"negative quiet NaN in x", 0xFFC00000u, 0},
    {"NaN with payload only in the low 13 bits in x", 0x7F800001u, 0},
    {"NaN with payload 0x1000 in x", 0x7F801000u, 0},
    {"+Inf in x", 0x7F800000u, 0},
    {"-Inf in x", 0xFF800000u, 0},
    {"quiet NaN in w", 0x7FC00000u, 1},
    {"NaN with payload only in the low 13 bits in w", 0x7F800001u, 1},
};
enum { kCaseCount = (int)(sizeof kCases / sizeof kCases[0]) };

/* Runs the special case with `cfg` and checks every output against the reference: NaN where the
 * reference is NaN, the same infinity where it is infinite, within the bounds elsewhere. */
static void run_case(const special_case_t* sc, const algo_config_t* cfg) {
  const convgemm_conv2d_params_t p = small_params(cfg->mode);
  static float x[kXElems], w[kWElems], bias[kK], y[kYElems];
  static double ref[kYElems], abs_sum[kYElems];
  test_rng_t rng;
  test_rng_seed(&rng, 777);
  test_fill_conv_inputs(&rng, &p, x, w, bias);
  if (sc->in_w)
    w[kWSpot] = bits_to_float(sc->bits);
  else
    x[kXSpot] = bits_to_float(sc->bits);
  /* Poisoned with a finite value this time: NaN is the expected output at some places. */
  compute(cfg, &p, x, w, bias, y, 0, 0x42); /* 0x42424242 = 48.56 */

  (void)reference_for(cfg, &p, x, w, bias, ref, abs_sum); /* the L2 part is not used here */
  int special_outputs = 0, wrong = 0, first_wrong = -1;
  for (int i = 0; i < kYElems; ++i) {
    int ok;
    if (isnan(ref[i])) {
      ++special_outputs;
      ok = isnan(y[i]);
    } else if (isinf(ref[i])) {
      ++special_outputs;
      ok = (double)y[i] == ref[i];
    } else {
      conv_compare_result_t r;
      conv_compare(&y[i], &ref[i], &abs_sum[i], 1, conv_compare_terms(kC, kR, kS), &r);
      ok = r.failures == 0;
    }
    if (!ok && wrong++ == 0) first_wrong = i;
  }
  ck_assert_msg(wrong == 0, "%s, %s: %d outputs wrong; first y[%d] = %.9g, want %.9g", sc->name,
                cfg->name, wrong, first_wrong, first_wrong < 0 ? 0.0 : (double)y[first_wrong],
                first_wrong < 0 ? 0.0 : ref[first_wrong]);
  /* x at (c 1, h 4, w 7) is in the window of the 9 outputs around it, in each of the 8 channels;
   * w of (k 5, c 2, r 1, s 1) in all 120 outputs of channel 5 (pad 1 keeps every tap inside for
   * the centre tap). */
  ck_assert_int_eq(special_outputs, sc->in_w ? kH * kW : 9 * kK);
}

START_TEST(test_nonfinite) {
  run_case(&kCases[_i % kCaseCount], &kConfigs[_i / kCaseCount]);
}
END_TEST

/* ==== magnitude ============================================================================== */

typedef enum magnitude_kind {
  HUGE_X,
  HUGE_W,
  SUBNORMALS_AMONG_X,
  SUBNORMAL_X,
  SUBNORMAL_OUTPUTS,
  ALL_NEGATIVE
} magnitude_kind_t;

typedef struct magnitude_case {
  const char* name;
  magnitude_kind_t kind;
} magnitude_case_t;

static const magnitude_case_t kMagnitudes[] = {
    {"huge x (1e30)", HUGE_X},
    {"huge w (1e30)", HUGE_W},
    {"subnormals among normal x", SUBNORMALS_AMONG_X},
    {"subnormal x, normal products", SUBNORMAL_X},
    {"subnormal outputs", SUBNORMAL_OUTPUTS},
    {"all-negative inputs", ALL_NEGATIVE},
};
enum { kMagnitudeCount = (int)(sizeof kMagnitudes / sizeof kMagnitudes[0]) };

static void scale(float* v, int n, int every, float factor) {
  for (int i = 0; i < n; i += every) v[i] *= factor;
}

/* The inputs of `kind`, from nn.Conv2d-like draws. */
static void magnitude_inputs(magnitude_kind_t kind, const convgemm_conv2d_params_t* p, float* x,
                             float* w, float* bias) {
  test_rng_t rng;
  test_rng_seed(&rng, 1230 + (uint64_t)kind);
  test_fill_conv_inputs(&rng, p, x, w, bias);
  switch (kind) {
    case HUGE_X:
      scale(x, kXElems, 1, 1e30f);
      scale(bias, kK, 1, 1e30f);
      break;
    case HUGE_W:
      scale(w, kWElems, 1, 1e30f);
      scale(bias, kK, 1, 1e30f);
      break;
    case SUBNORMALS_AMONG_X:
      scale(x, kXElems, 3, 0x1p-130f);
      break;
    case SUBNORMAL_X:
      scale(x, kXElems, 1, 0x1p-130f);
      scale(w, kWElems, 1, 0x1p100f);
      scale(bias, kK, 1, 0x1p-30f);
      break;
    case SUBNORMAL_OUTPUTS:
      scale(x, kXElems, 1, 0x1p-65f);
      scale(w, kWElems, 1, 0x1p-65f);
      scale(bias, kK, 1, 0x1p-130f);
      break;
    case ALL_NEGATIVE:
      for (int i = 0; i < kXElems; ++i) x[i] = -x[i];
      for (int i = 0; i < kWElems; ++i) w[i] = -fabsf(w[i]);
      for (int i = 0; i < kK; ++i) bias[i] = -fabsf(bias[i]);
      break;
  }
}

/* How many of the inputs are subnormal (the scaled cases must really have them). */
static int count_subnormal(const float* v, int n) {
  int count = 0;
  for (int i = 0; i < n; ++i) count += fpclassify(v[i]) == FP_SUBNORMAL;
  return count;
}

START_TEST(test_magnitude) {
  const magnitude_case_t* mc = &kMagnitudes[_i % kMagnitudeCount];
  const algo_config_t* cfg = &kConfigs[_i / kMagnitudeCount];
  const convgemm_conv2d_params_t p = small_params(cfg->mode);
  static float x[kXElems], w[kWElems], bias[kK], y[kYElems];
  static double ref[kYElems], abs_sum[kYElems];
  magnitude_inputs(mc->kind, &p, x, w, bias);
  if (mc->kind == SUBNORMALS_AMONG_X || mc->kind == SUBNORMAL_X)
    ck_assert_int_ge(count_subnormal(x, kXElems), mc->kind == SUBNORMAL_X ? kXElems / 2 : 100);
  compute(cfg, &p, x, w, bias, y, 0, 0xFF);
  const double l2_extra = reference_for(cfg, &p, x, w, bias, ref, abs_sum);
  const int64_t n_terms = conv_compare_terms(kC, kR, kS);

  if (mc->kind == SUBNORMAL_OUTPUTS) {
    int subnormal_refs = 0;
    for (int i = 0; i < kYElems; ++i) subnormal_refs += fabs(ref[i]) < 0x1p-126;
    ck_assert_int_ge(subnormal_refs, kYElems / 2);
    /* Ours on CUDA cores: strict, element by element. Tensor cores and cuBLASLt: at worst
     * flushed toward zero (see the top). */
    const int strict = cfg->algo == CONVGEMM_ALGO_DIRECT;
    int wrong = 0, first_wrong = -1, outside_strict = 0;
    for (int i = 0; i < kYElems; ++i) {
      const double err = fabs((double)y[i] - ref[i]);
      const double bound = conv_compare_bound(abs_sum[i], n_terms);
      outside_strict += !(err <= bound);
      const int ok = isfinite(y[i]) && err <= (strict ? bound : fmax(bound, fabs(ref[i])));
      if (!ok && wrong++ == 0) first_wrong = i;
    }
    ck_assert_msg(wrong == 0, "%s, %s: %d outputs wrong; first y[%d] = %.9g, want %.9g",
                  mc->name, cfg->name, wrong, first_wrong,
                  first_wrong < 0 ? 0.0 : (double)y[first_wrong],
                  first_wrong < 0 ? 0.0 : ref[first_wrong]);
    if (!strict)
      printf("%s, %s: %d of %d subnormal-range outputs outside the strict bound\n", mc->name,
             cfg->name, outside_strict, kYElems);
    return;
  }
  conv_compare_result_t r;
  conv_compare(y, ref, abs_sum, kYElems, n_terms, &r);
  r.rel_l2_limit += l2_extra;
  char summary[512];
  conv_compare_describe(&r, summary, sizeof summary);
  ck_assert_msg(conv_compare_passed(&r), "%s, %s: %s", mc->name, cfg->name, summary);
}
END_TEST

/* ==== determinism ============================================================================ */

enum { kDetN = 2, kDetC = 32, kDetH = 30, kDetW = 70, kDetK = 64, kDetCalls = 3 };

/* Three calls on one handle, stream and set of buffers: the same bits each time. */
static void expect_deterministic(const algo_config_t* cfg, int preferred) {
  convgemm_conv2d_params_t p;
  convgemm_conv2d_params_init(&p, kDetN, kDetC, kDetH, kDetW, kDetK, 3, 3);
  p.pad_h = p.pad_w = 1;
  p.has_bias = 1;
  p.math_mode = cfg->mode;
  const int64_t x_elems = p.n * p.c * p.h * p.w, w_elems = p.k * p.c * p.r * p.s;
  const int64_t y_elems = conv2d_reference_y_elems(&p);
  float* x = malloc((size_t)x_elems * sizeof(float));
  float* w = malloc((size_t)w_elems * sizeof(float));
  float* bias = malloc((size_t)p.k * sizeof(float));
  float* y[kDetCalls];
  double* ref = malloc((size_t)y_elems * sizeof(double));
  double* abs_sum = malloc((size_t)y_elems * sizeof(double));
  ck_assert(x != NULL && w != NULL && bias != NULL && ref != NULL && abs_sum != NULL);
  test_rng_t rng;
  test_rng_seed(&rng, 4242);
  test_fill_conv_inputs(&rng, &p, x, w, bias);

  convgemm_handle_t handle = NULL;
  cudaStream_t stream;
  convgemm_conv_desc_t desc = NULL;
  CK_CONVGEMM(convgemm_create(&handle));
  handle->info.no_wgmma = cfg->no_wgmma;
  CK_CUDA(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  CK_CONVGEMM(convgemm_conv_desc_create(&desc, &p));
  float *dx, *dw, *db, *dy;
  CK_CUDA(cudaMalloc((void**)&dx, (size_t)x_elems * sizeof(float)));
  CK_CUDA(cudaMalloc((void**)&dw, (size_t)w_elems * sizeof(float)));
  CK_CUDA(cudaMalloc((void**)&db, (size_t)p.k * sizeof(float)));
  CK_CUDA(cudaMalloc((void**)&dy, (size_t)y_elems * sizeof(float)));
  CK_CUDA(cudaMemcpy(dx, x, (size_t)x_elems * sizeof(float), cudaMemcpyHostToDevice));
  CK_CUDA(cudaMemcpy(dw, w, (size_t)w_elems * sizeof(float), cudaMemcpyHostToDevice));
  CK_CUDA(cudaMemcpy(db, bias, (size_t)p.k * sizeof(float), cudaMemcpyHostToDevice));
  size_t min_bytes = 0, preferred_bytes = 0;
  CK_CONVGEMM(convgemm_get_workspace_size(handle, desc, cfg->algo, &min_bytes, &preferred_bytes));
  const size_t ws_bytes = preferred ? preferred_bytes : min_bytes;
  void* ws = NULL;
  if (ws_bytes > 0) CK_CUDA(cudaMalloc(&ws, ws_bytes));
  for (int call = 0; call < kDetCalls; ++call) {
    y[call] = malloc((size_t)y_elems * sizeof(float));
    ck_assert(y[call] != NULL);
    CK_CUDA(cudaMemsetAsync(dy, 0xFF, (size_t)y_elems * sizeof(float), stream));
    if (ws_bytes > 0) CK_CUDA(cudaMemsetAsync(ws, 0xFF, ws_bytes, stream));
    CK_CONVGEMM(convgemm_forward(handle, desc, cfg->algo, dx, dw, db, dy, ws, ws_bytes, stream));
    CK_CUDA(cudaMemcpyAsync(y[call], dy, (size_t)y_elems * sizeof(float), cudaMemcpyDeviceToHost,
                            stream));
    CK_CUDA(cudaStreamSynchronize(stream));
  }
  convgemm_algo_t ran = cfg->algo;
  if (ran == CONVGEMM_ALGO_AUTO) CK_CONVGEMM(convgemm_get_algorithm(handle, desc, &ran));
  const algo_config_t resolved = {cfg->name, ran, cfg->mode, cfg->no_wgmma};
  const double l2_extra = reference_for(&resolved, &p, x, w, bias, ref, abs_sum);
  conv_compare_result_t r;
  conv_compare(y[0], ref, abs_sum, y_elems, conv_compare_terms(kDetC, 3, 3), &r);
  r.rel_l2_limit += l2_extra;
  char summary[512];
  conv_compare_describe(&r, summary, sizeof summary);
  ck_assert_msg(conv_compare_passed(&r), "%s (%s workspace): %s", cfg->name,
                preferred ? "preferred" : "minimum", summary);
  for (int call = 1; call < kDetCalls; ++call) {
    int64_t first = -1;
    for (int64_t i = 0; i < y_elems && first < 0; ++i)
      if (memcmp(&y[0][i], &y[call][i], sizeof(float)) != 0) first = i;
    ck_assert_msg(first < 0, "%s (%s workspace, ran %s): call %d differs from call 0 at y[%lld]: "
                  "%.9g vs %.9g", cfg->name, preferred ? "preferred" : "minimum",
                  convgemm_algo_name(ran), call, (long long)first, (double)y[call][first],
                  (double)y[0][first]);
  }
  for (int call = 0; call < kDetCalls; ++call) free(y[call]);
  CK_CUDA(cudaFree(dx));
  CK_CUDA(cudaFree(dw));
  CK_CUDA(cudaFree(db));
  CK_CUDA(cudaFree(dy));
  CK_CUDA(cudaFree(ws));
  convgemm_conv_desc_destroy(desc);
  CK_CUDA(cudaStreamDestroy(stream));
  CK_CONVGEMM(convgemm_destroy(handle));
  free(x);
  free(w);
  free(bias);
  free(ref);
  free(abs_sum);
}

START_TEST(test_deterministic) {
  expect_deterministic(&kConfigs[_i], 0);
  if (kConfigs[_i].algo == CONVGEMM_ALGO_IM2COL_GEMM) expect_deterministic(&kConfigs[_i], 1);
}
END_TEST

START_TEST(test_deterministic_auto) {
  const algo_config_t cfg = {_i == 0 ? "AUTO, DEFAULT math" : "AUTO, IEEE math",
                             CONVGEMM_ALGO_AUTO,
                             _i == 0 ? CONVGEMM_MATH_DEFAULT : CONVGEMM_MATH_IEEE, 0};
  expect_deterministic(&cfg, 1);
}
END_TEST

static Suite* nonfinite_suite(void) {
  Suite* s = suite_create("gpu_nonfinite");
  TCase* nonfinite = tcase_create("nonfinite");
  tcase_add_loop_test(nonfinite, test_nonfinite, 0, kCaseCount * kConfigCount);
  suite_add_tcase(s, nonfinite);
  TCase* magnitude = tcase_create("magnitude");
  tcase_add_loop_test(magnitude, test_magnitude, 0, kMagnitudeCount * kConfigCount);
  suite_add_tcase(s, magnitude);
  TCase* determinism = tcase_create("determinism");
  tcase_add_loop_test(determinism, test_deterministic, 0, kConfigCount);
  tcase_add_loop_test(determinism, test_deterministic_auto, 0, 2);
  suite_add_tcase(s, determinism);
  return s;
}

/* CK_NOFORK: CUDA and fork() don't mix. */
int main(void) { return check_main_run(nonfinite_suite(), CK_NOFORK); }
