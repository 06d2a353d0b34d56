/*
 * NaN and Inf inputs propagate as in PyTorch's nn.Conv2d (IEEE arithmetic): an output whose
 * window holds a NaN x or w is NaN; one whose window holds a single +-Inf x is +-Inf with the sign
 * of the weight it meets; every other output is finite and matches the reference. In both math
 * modes: TF32 rounding keeps Inf and must keep NaN a NaN (gemm/tf32_round.cuh). The NaNs tried
 * include a signaling one whose payload lies only in the low 13 mantissa bits, the bits TF32
 * drops. DIRECT and IM2COL_GEMM in both modes (IM2COL_GEMM with its minimum workspace,
 * NaN-poisoned; for DEFAULT math the bound widened for its split bias, conv_compare.h), and
 * IMPLICIT_GEMM in DEFAULT math (its only one).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <cuda_runtime_api.h>

#include "conv/convgemm.h"
#include "tests/check_main.h"
#include "tests/conv2d_reference.h"
#include "tests/conv_compare.h"
#include "tests/test_assert.h"
#include "tests/test_random.h"
#include "tests/tf32_round_host.h"

/* N1 C4 H10 W12 -> K8 3x3 pad 1 with bias: every special input reaches 9 outputs per channel. */
enum { kN = 1, kC = 4, kH = 10, kW = 12, kK = 8, kR = 3, kS = 3 };
enum { kXElems = kN * kC * kH * kW, kWElems = kK * kC * kR * kS, kYElems = kN * kK * kH * kW };

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

/* Runs the case in one math mode with `algo` and checks every output against the reference: NaN
 * where the reference is NaN, the same infinity where it is infinite, within the bounds
 * elsewhere. */
static void run_case(const special_case_t* sc, convgemm_math_mode_t mode, convgemm_algo_t algo) {
  const char* mode_name = mode == CONVGEMM_MATH_DEFAULT ? "DEFAULT" : "IEEE";
  const char* algo_name = algo == CONVGEMM_ALGO_DIRECT ? "DIRECT" : "IM2COL_GEMM";
  convgemm_conv2d_params_t p;
  convgemm_conv2d_params_init(&p, kN, kC, kH, kW, kK, kR, kS);
  p.pad_h = p.pad_w = 1;
  p.has_bias = 1;
  p.math_mode = mode;
  static float x[kXElems], w[kWElems], bias[kK], y[kYElems];
  static double ref[kYElems], abs_sum[kYElems];
  test_rng_t rng;
  test_rng_seed(&rng, 777);
  test_fill_conv_inputs(&rng, &p, x, w, bias);
  if (sc->in_w)
    w[kWSpot] = bits_to_float(sc->bits);
  else
    x[kXSpot] = bits_to_float(sc->bits);

  convgemm_handle_t handle = NULL;
  cudaStream_t stream;
  convgemm_conv_desc_t desc = NULL;
  CK_CONVGEMM(convgemm_create(&handle));
  CK_CUDA(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  CK_CONVGEMM(convgemm_conv_desc_create(&desc, &p));
  float *dx, *dw, *db, *dy;
  CK_CUDA(cudaMalloc((void**)&dx, sizeof x));
  CK_CUDA(cudaMalloc((void**)&dw, sizeof w));
  CK_CUDA(cudaMalloc((void**)&db, sizeof bias));
  CK_CUDA(cudaMalloc((void**)&dy, sizeof y));
  CK_CUDA(cudaMemcpy(dx, x, sizeof x, cudaMemcpyHostToDevice));
  CK_CUDA(cudaMemcpy(dw, w, sizeof w, cudaMemcpyHostToDevice));
  CK_CUDA(cudaMemcpy(db, bias, sizeof bias, cudaMemcpyHostToDevice));
  /* Poisoned with a finite value this time: NaN is the expected output at some places. */
  CK_CUDA(cudaMemset(dy, 0x42, sizeof y)); /* 0x42424242 = 48.56 */
  size_t ws_bytes = 0;
  void* ws = NULL;
  if (algo != CONVGEMM_ALGO_DIRECT) {
    CK_CONVGEMM(convgemm_get_workspace_size(handle, desc, algo, &ws_bytes, NULL));
    CK_CUDA(cudaMalloc(&ws, ws_bytes));
    CK_CUDA(cudaMemset(ws, 0xFF, ws_bytes));
  }
  CK_CUDA(cudaDeviceSynchronize());
  CK_CONVGEMM(convgemm_forward(handle, desc, algo, dx, dw, db, dy, ws, ws_bytes, stream));
  CK_CUDA(cudaStreamSynchronize(stream));
  CK_CUDA(cudaMemcpy(y, dy, sizeof y, cudaMemcpyDeviceToHost));

  conv2d_reference(&p, x, w, bias, conv2d_reference_operands_for(&p), ref, abs_sum);
  if (algo == CONVGEMM_ALGO_IM2COL_GEMM && conv2d_reference_operands_for(&p) == CONV2D_REFERENCE_TF32)
    (void)conv_compare_widen_for_split_bias(bias, kN, kK, kH * kW, conv_compare_terms(kC, kR, kS),
                                            ref, abs_sum); /* the L2 part is not used here */
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
  ck_assert_msg(wrong == 0, "%s, %s math, %s: %d outputs wrong; first y[%d] = %.9g, want %.9g",
                sc->name, mode_name, algo_name, wrong, first_wrong,
                first_wrong < 0 ? 0.0 : (double)y[first_wrong],
                first_wrong < 0 ? 0.0 : ref[first_wrong]);
  /* x at (c 1, h 4, w 7) is in the window of the 9 outputs around it, in each of the 8 channels;
   * w of (k 5, c 2, r 1, s 1) in all 120 outputs of channel 5 (pad 1 keeps every tap inside for
   * the centre tap). */
  ck_assert_int_eq(special_outputs, sc->in_w ? kH * kW : 9 * kK);

  CK_CUDA(cudaFree(dx));
  CK_CUDA(cudaFree(dw));
  CK_CUDA(cudaFree(db));
  CK_CUDA(cudaFree(dy));
  CK_CUDA(cudaFree(ws));
  convgemm_conv_desc_destroy(desc);
  CK_CUDA(cudaStreamDestroy(stream));
  CK_CONVGEMM(convgemm_destroy(handle));
}

START_TEST(test_nonfinite_default_math) {
  run_case(&kCases[_i], CONVGEMM_MATH_DEFAULT, CONVGEMM_ALGO_DIRECT);
}
END_TEST

START_TEST(test_nonfinite_ieee_math) {
  run_case(&kCases[_i], CONVGEMM_MATH_IEEE, CONVGEMM_ALGO_DIRECT);
}
END_TEST

START_TEST(test_nonfinite_default_math_im2col_gemm) {
  run_case(&kCases[_i], CONVGEMM_MATH_DEFAULT, CONVGEMM_ALGO_IM2COL_GEMM);
}
END_TEST

START_TEST(test_nonfinite_ieee_math_im2col_gemm) {
  run_case(&kCases[_i], CONVGEMM_MATH_IEEE, CONVGEMM_ALGO_IM2COL_GEMM);
}
END_TEST

/* IMPLICIT_GEMM computes with TF32 operands only (DEFAULT math). Its tensor cores read the
 * rounded window, where every NaN has its quiet bit set (gemm/tf32_round.cuh), so a NaN whose
 * payload lies in the 13 bits TF32 drops still reaches them as a NaN. */
START_TEST(test_nonfinite_default_math_implicit_gemm) {
  run_case(&kCases[_i], CONVGEMM_MATH_DEFAULT, CONVGEMM_ALGO_IMPLICIT_GEMM);
}
END_TEST

static Suite* nonfinite_suite(void) {
  const int n = (int)(sizeof kCases / sizeof kCases[0]);
  Suite* s = suite_create("gpu_nonfinite");
  TCase* ieee = tcase_create("ieee");
  tcase_add_loop_test(ieee, test_nonfinite_ieee_math, 0, n);
  suite_add_tcase(s, ieee);
  TCase* tf32 = tcase_create("default");
  tcase_add_loop_test(tf32, test_nonfinite_default_math, 0, n);
  suite_add_tcase(s, tf32);
  TCase* gemm = tcase_create("im2col_gemm");
  tcase_add_loop_test(gemm, test_nonfinite_ieee_math_im2col_gemm, 0, n);
  tcase_add_loop_test(gemm, test_nonfinite_default_math_im2col_gemm, 0, n);
  suite_add_tcase(s, gemm);
  TCase* implicit = tcase_create("implicit_gemm");
  tcase_add_loop_test(implicit, test_nonfinite_default_math_implicit_gemm, 0, n);
  suite_add_tcase(s, implicit);
  return s;
}

/* CK_NOFORK: CUDA and fork() don't mix. */
int main(void) { return check_main_run(nonfinite_suite(), CK_NOFORK); }
