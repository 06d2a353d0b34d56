/*
 * IM2COL_GEMM on the GPU against the float64 reference.
 *
 * The matrix: direct_cases.c's fixed cases (stride, padding, dilation, groups incl. depthwise
 * and channel multiplier, bias, 1x1 / 3x3 / 5x7 / 11x11 stride 4 C=3 filters, odd sizes, N = 1,
 * K = 1, K = 200, C/G not a multiple of 8, huge stride and dilation), im2col_cases.c's extra
 * ones (whole images per chunk with one group and several, a partial last group of images,
 * P*Q of 1, 128 and 129, partial last pixel chunks, each bias-row padding) and
 * DIRECT_RANDOM_CASES seeded random configurations, each in both math modes at every workspace
 * size of im2col_workspace_sizes (minimum, preferred, sizes in between giving other plans), with
 * every check of im2col_case_runner.h.
 *
 * The bound: conv_compare.h's gamma_n bound holds for a sum in any order, so cuBLAS's order is
 * covered; DEFAULT math with bias adds the bias as a TF32 high part and remainder inside the
 * GEMM, for which the bound is widened explicitly (conv_compare_widen_for_split_bias). Both
 * assume fp32 additions rounded to nearest; tensor cores are reported to truncate when they
 * align and normalize (Fasi et al., PeerJ CS 2021), which would bias DEFAULT's L2 error upwards
 * with n: the report at the end prints the worst error/bound and L2/limit ratios per mode.
 *
 * The graph cache (repeated calls replay a CUDA graph cached in the handle): repeated calls with
 * the same pointers; the same descriptor with another y, x, w, bias or workspace pointer (the
 * old y and workspace are not written) and with new contents at the same pointers (the graph
 * reads them at replay); DEFAULT and IEEE descriptors of one shape alternating on one handle;
 * more descriptors than the handle caches graphs, cycling. A call on a stream the test itself
 * captures into a CUDA graph (global and thread-local capture modes), the graph replayed with
 * new inputs. Pointers only as aligned as the API requires (4 bytes; the workspace 16). A bias
 * near FLT_MAX. NaN-poisoned y and workspace before every call; inputs unchanged after; a
 * non-blocking stream throughout.
 *
 * float16 and bfloat16: the fixed, extra and random cases again in each type (inputs rounded to
 * the type on the host, the 16-bit bound of conv_compare.h: one rounding of the output plus the
 * fp32 accumulation term; both math modes bitwise equal); descriptors of one shape in the three
 * types alternating on one handle (the graph cache keys on the type); 16-bit pointers only
 * 2-byte aligned (the API's minimum, so cuBLASLt gets D at odd element offsets); biases at the
 * largest finite 16-bit values.
 *
 * Random seeds start at $CONVGEMM_TEST_SEED (default below); a failure prints the case's seed and
 * configuration. Run time: the float64 reference on the CPU dominates, a few seconds in all.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <cuda_runtime_api.h>

#include "conv/convgemm.h"
#include "conv/im2col_gemm_plan.h"
#include "conv/internal.h"
#include "tests/check_main.h"
#include "tests/direct_cases.h"
#include "tests/elem_type_host.h"
#include "tests/im2col_case_runner.h"
#include "tests/im2col_cases.h"
#include "tests/test_assert.h"
#include "tests/test_random.h"
#include "tests/tf32_round_host.h"

enum { kDefaultSeed = 20240611 };

static convgemm_handle_t g_handle;
static cudaStream_t g_stream;
static im2col_stats_t g_stats;

/* A fresh handle (so an empty graph cache) and a non-blocking stream per test: work the library
 * wrongly queued on the legacy default stream would race the checks instead of hiding behind
 * implicit synchronization. */
static void setup(void) {
  CK_CONVGEMM(convgemm_create(&g_handle));
  CK_CUDA(cudaStreamCreateWithFlags(&g_stream, cudaStreamNonBlocking));
}

static void teardown(void) {
  CK_CUDA(cudaStreamSynchronize(g_stream));
  CK_CUDA(cudaStreamDestroy(g_stream));
  CK_CONVGEMM(convgemm_destroy(g_handle));
}

/* ---- the matrix ------------------------------------------------------------------------- */

START_TEST(test_case_lists_reach_every_plan_kind_on_this_device) {
  /* cpu_im2col_plan_test checks this on recorded H100 and A100 facts; here on the card that
   * runs the suite, so a pass below means each kind of plan was compared with the reference. */
  im2col_coverage_t cov = {0};
  for (int list = 0; list < 2; ++list) {
    const int count = list == 0 ? direct_fixed_case_count() : im2col_extra_case_count();
    for (int i = 0; i < count; ++i) {
      direct_case_t c;
      if (list == 0)
        direct_fixed_case(i, &c);
      else
        im2col_extra_case(i, &c);
      for (int mode = 0; mode < 2; ++mode) {
        c.params.math_mode = (convgemm_math_mode_t)mode;
        convgemm_conv_desc_t desc = NULL;
        CK_CONVGEMM(convgemm_conv_desc_create(&desc, &c.params));
        im2col_coverage_add(desc, &g_handle->info, &cov);
        convgemm_conv_desc_destroy(desc);
      }
    }
  }
  char counts[512];
  ck_assert_msg(im2col_coverage_complete(&cov, counts, sizeof counts),
                "device with %d bytes of L2: %s", g_handle->info.l2_bytes, counts);
}
END_TEST

START_TEST(test_fixed_case) {
  direct_case_t c;
  direct_fixed_case(_i, &c);
  im2col_case_run(g_handle, g_stream, &c, &g_stats);
}
END_TEST

START_TEST(test_extra_case) {
  direct_case_t c;
  im2col_extra_case(_i, &c);
  im2col_case_run(g_handle, g_stream, &c, &g_stats);
}
END_TEST

START_TEST(test_random_case) {
  direct_case_t c;
  direct_random_case(test_base_seed(kDefaultSeed) + (uint64_t)_i, &c);
  im2col_case_run(g_handle, g_stream, &c, &g_stats);
}
END_TEST

/* The 16-bit passes: loop index i runs case i / 2, in float16 (even i) or bfloat16 (odd i). */
static convgemm_data_type_t type_of_index(int i) {
  return i % 2 == 0 ? CONVGEMM_DATA_FLOAT16 : CONVGEMM_DATA_BFLOAT16;
}

START_TEST(test_fixed_case_16bit) {
  direct_case_t c;
  direct_fixed_case(_i / 2, &c);
  c.params.data_type = type_of_index(_i);
  im2col_case_run(g_handle, g_stream, &c, &g_stats);
}
END_TEST

START_TEST(test_extra_case_16bit) {
  direct_case_t c;
  im2col_extra_case(_i / 2, &c);
  c.params.data_type = type_of_index(_i);
  im2col_case_run(g_handle, g_stream, &c, &g_stats);
}
END_TEST

START_TEST(test_random_case_16bit) {
  direct_case_t c;
  direct_random_case(test_base_seed(kDefaultSeed) + (uint64_t)(_i / 2), &c);
  c.params.data_type = type_of_index(_i);
  im2col_case_run(g_handle, g_stream, &c, &g_stats);
}
END_TEST

/* ---- one problem on the device, for the graph and capture tests --------------------------- */

/* N2 C8 20x20 -> K32 3x3 pad 1 with bias: P*Q 400, so the minimum workspace cuts each image into
 * chunks of 128, 128, 128 and 16 pixels (8 chunks, one buffer) and the preferred takes both
 * images in one chunk (two buffers). */
static convgemm_conv2d_params_t base_params(convgemm_math_mode_t mode) {
  convgemm_conv2d_params_t p;
  convgemm_conv2d_params_init(&p, 2, 8, 20, 20, 32, 3, 3);
  p.pad_h = p.pad_w = 1;
  p.has_bias = 1;
  p.math_mode = mode;
  return p;
}

typedef struct dev_problem {
  im2col_problem_t host;
  convgemm_conv_desc_t desc;
  float *x, *w, *bias;     /* device, exact sizes */
  im2col_guarded_t y;      /* y_elems floats */
  im2col_guarded_t ws;     /* the preferred workspace */
  size_t ws_min, ws_pref;
  float* y_host;
} dev_problem_t;

static void dev_problem_init(dev_problem_t* d, const convgemm_conv2d_params_t* p, uint64_t seed) {
  im2col_problem_init(&d->host, p, seed);
  CK_CONVGEMM(convgemm_conv_desc_create(&d->desc, p));
  CK_CUDA(cudaMalloc((void**)&d->x, (size_t)d->host.x_elems * sizeof(float)));
  CK_CUDA(cudaMalloc((void**)&d->w, (size_t)d->host.w_elems * sizeof(float)));
  d->bias = NULL;
  if (d->host.b_elems > 0)
    CK_CUDA(cudaMalloc((void**)&d->bias, (size_t)d->host.b_elems * sizeof(float)));
  im2col_upload(d->x, d->host.x, d->host.x_elems, g_stream);
  im2col_upload(d->w, d->host.w, d->host.w_elems, g_stream);
  im2col_upload(d->bias, d->host.bias, d->host.b_elems, g_stream);
  im2col_guarded_alloc(&d->y, (size_t)d->host.y_elems * sizeof(float));
  CK_CONVGEMM(convgemm_get_workspace_size(g_handle, d->desc, CONVGEMM_ALGO_IM2COL_GEMM,
                                          &d->ws_min, &d->ws_pref));
  im2col_guarded_alloc(&d->ws, d->ws_pref);
  d->y_host = malloc((size_t)d->host.y_elems * sizeof(float));
  ck_assert_ptr_nonnull(d->y_host);
}

static void dev_problem_free(dev_problem_t* d) {
  CK_CUDA(cudaStreamSynchronize(g_stream));
  CK_CUDA(cudaFree(d->x));
  CK_CUDA(cudaFree(d->w));
  CK_CUDA(cudaFree(d->bias));
  im2col_guarded_free(&d->y);
  im2col_guarded_free(&d->ws);
  convgemm_conv_desc_destroy(d->desc);
  im2col_problem_free(&d->host);
  free(d->y_host);
}

/* forward(IM2COL_GEMM) with the given pointers on g_stream; asserts SUCCESS. */
static void forward(const dev_problem_t* d, const float* x, const float* w, const float* bias,
                    float* y, void* ws, size_t ws_bytes, const char* what) {
  const convgemm_status_t s = convgemm_forward(g_handle, d->desc, CONVGEMM_ALGO_IM2COL_GEMM, x, w,
                                               bias, y, ws, ws_bytes, g_stream);
  ck_assert_msg(s == CONVGEMM_STATUS_SUCCESS, "%s: forward returned %s: %s", what,
                convgemm_status_string(s), convgemm_get_last_error());
}

/* The usual call: y and the workspace poisoned, the problem's own pointers, `ws_bytes`; y fetched
 * (guards checked) and compared with the reference. */
static void run_and_check(dev_problem_t* d, size_t ws_bytes, const char* what) {
  im2col_guarded_poison(&d->y, g_stream);
  im2col_guarded_poison(&d->ws, g_stream);
  forward(d, d->x, d->w, d->bias, (float*)d->y.data, d->ws.data, ws_bytes, what);
  im2col_guarded_fetch(&d->y, d->y.bytes, d->y_host, g_stream, what, "graph cache");
  im2col_problem_check(&d->host, d->y_host, what, "graph cache", &g_stats);
}

static void expect_inputs_unchanged(const dev_problem_t* d, const char* ctx) {
  im2col_expect_device_equals(d->x, d->host.x, d->host.x_elems, g_stream, "x", ctx);
  im2col_expect_device_equals(d->w, d->host.w, d->host.w_elems, g_stream, "w", ctx);
  im2col_expect_device_equals(d->bias, d->host.bias, d->host.b_elems, g_stream, "bias", ctx);
}

/* ---- graph cache ------------------------------------------------------------------------ */

START_TEST(test_repeated_calls_with_the_same_pointers) {
  dev_problem_t d;
  const convgemm_conv2d_params_t p = base_params(CONVGEMM_MATH_DEFAULT);
  dev_problem_init(&d, &p, 501);
  const size_t sizes[2] = {d.ws_min, d.ws_pref};
  for (int s = 0; s < 2; ++s) {
    float* first = malloc(d.y.bytes);
    ck_assert_ptr_nonnull(first);
    for (int call = 0; call < 4; ++call) {
      char what[96];
      snprintf(what, sizeof what, "call %d with workspace %zu", call, sizes[s]);
      run_and_check(&d, sizes[s], what);
      if (call == 0) {
        memcpy(first, d.y_host, d.y.bytes);
      } else {
        const int64_t diff =
            im2col_first_bit_difference(d.y_host, first, d.host.y_elems);
        ck_assert_msg(diff < 0, "%s: differs from the first call at [%lld]", what,
                      (long long)diff);
      }
    }
    free(first);
  }
  expect_inputs_unchanged(&d, "repeated calls");
  dev_problem_free(&d);
}
END_TEST

START_TEST(test_same_descriptor_other_y) {
  /* y1, then y2, then y1: each call writes its own y and only that (a stale graph would write
   * the y it was captured for). */
  dev_problem_t d;
  const convgemm_conv2d_params_t p = base_params(CONVGEMM_MATH_DEFAULT);
  dev_problem_init(&d, &p, 502);
  im2col_guarded_t y2;
  im2col_guarded_alloc(&y2, d.y.bytes);
  for (int round = 0; round < 2; ++round)
    for (int which = 0; which < 2; ++which) {
      const im2col_guarded_t* target = which == 0 ? &d.y : &y2;
      const im2col_guarded_t* other = which == 0 ? &y2 : &d.y;
      char what[96];
      snprintf(what, sizeof what, "round %d into y%d (min workspace)", round, which + 1);
      im2col_guarded_poison(&d.y, g_stream);
      im2col_guarded_poison(&y2, g_stream);
      im2col_guarded_poison(&d.ws, g_stream);
      forward(&d, d.x, d.w, d.bias, (float*)target->data, d.ws.data, d.ws_min, what);
      im2col_guarded_fetch(target, target->bytes, d.y_host, g_stream, what, "other y");
      im2col_problem_check(&d.host, d.y_host, what, "other y", &g_stats);
      im2col_guarded_expect_untouched(other, other->bytes, g_stream, "the other y", what);
    }
  im2col_guarded_free(&y2);
  expect_inputs_unchanged(&d, "other y");
  dev_problem_free(&d);
}
END_TEST

START_TEST(test_same_descriptor_other_inputs_and_workspace) {
  /* Each pointer changed in turn, then back: x, w, bias (other contents, so a graph reading the
   * old pointer gives the old result), the workspace (the old one is not written). */
  dev_problem_t d;
  const convgemm_conv2d_params_t p = base_params(CONVGEMM_MATH_IEEE);
  dev_problem_init(&d, &p, 503);
  im2col_problem_t other;
  im2col_problem_init(&other, &p, 603);
  float *x2, *w2, *b2;
  CK_CUDA(cudaMalloc((void**)&x2, (size_t)d.host.x_elems * sizeof(float)));
  CK_CUDA(cudaMalloc((void**)&w2, (size_t)d.host.w_elems * sizeof(float)));
  CK_CUDA(cudaMalloc((void**)&b2, (size_t)d.host.b_elems * sizeof(float)));
  im2col_upload(x2, other.x, d.host.x_elems, g_stream);
  im2col_upload(w2, other.w, d.host.w_elems, g_stream);
  im2col_upload(b2, other.bias, d.host.b_elems, g_stream);
  /* The reference of each mix: a problem whose inputs are swapped in one at a time. */
  im2col_problem_t mix;
  im2col_problem_init(&mix, &p, 503);
  run_and_check(&d, d.ws_pref, "original pointers");
  for (int which = 0; which < 3; ++which) {
    static const char* kNames[3] = {"x", "w", "bias"};
    memcpy(mix.x, which == 0 ? other.x : d.host.x, (size_t)mix.x_elems * sizeof(float));
    memcpy(mix.w, which == 1 ? other.w : d.host.w, (size_t)mix.w_elems * sizeof(float));
    memcpy(mix.bias, which == 2 ? other.bias : d.host.bias, (size_t)mix.b_elems * sizeof(float));
    im2col_problem_update_reference(&mix);
    char what[96];
    snprintf(what, sizeof what, "another %s pointer", kNames[which]);
    im2col_guarded_poison(&d.y, g_stream);
    im2col_guarded_poison(&d.ws, g_stream);
    forward(&d, which == 0 ? x2 : d.x, which == 1 ? w2 : d.w, which == 2 ? b2 : d.bias,
            (float*)d.y.data, d.ws.data, d.ws_pref, what);
    im2col_guarded_fetch(&d.y, d.y.bytes, d.y_host, g_stream, what, "other inputs");
    im2col_problem_check(&mix, d.y_host, what, "other inputs", &g_stats);
    snprintf(what, sizeof what, "back to the first %s pointer", kNames[which]);
    run_and_check(&d, d.ws_pref, what);
  }
  /* Another workspace (same size): the first one stays untouched. */
  im2col_guarded_t ws2;
  im2col_guarded_alloc(&ws2, d.ws_pref);
  im2col_guarded_poison(&d.y, g_stream);
  im2col_guarded_poison(&d.ws, g_stream);
  im2col_guarded_poison(&ws2, g_stream);
  forward(&d, d.x, d.w, d.bias, (float*)d.y.data, ws2.data, d.ws_pref, "another workspace");
  im2col_guarded_fetch(&d.y, d.y.bytes, d.y_host, g_stream, "another workspace", "other ws");
  im2col_problem_check(&d.host, d.y_host, "another workspace", "other ws", &g_stats);
  im2col_guarded_expect_untouched(&d.ws, d.ws.bytes, g_stream, "the first workspace",
                                  "another workspace");
  /* The same workspace pointer with another size. */
  run_and_check(&d, d.ws_min, "the first workspace, minimum size");
  run_and_check(&d, d.ws_pref, "the first workspace, preferred size");
  run_and_check(&d, d.ws_min + 4100, "the first workspace, minimum + 4100 bytes");
  im2col_guarded_free(&ws2);
  expect_inputs_unchanged(&d, "other inputs");
  im2col_expect_device_equals(x2, other.x, d.host.x_elems, g_stream, "x2", "other inputs");
  im2col_expect_device_equals(w2, other.w, d.host.w_elems, g_stream, "w2", "other inputs");
  im2col_expect_device_equals(b2, other.bias, d.host.b_elems, g_stream, "bias2", "other inputs");
  CK_CUDA(cudaFree(x2));
  CK_CUDA(cudaFree(w2));
  CK_CUDA(cudaFree(b2));
  im2col_problem_free(&other);
  im2col_problem_free(&mix);
  dev_problem_free(&d);
}
END_TEST

START_TEST(test_new_contents_at_the_same_pointers) {
  /* The graph reads x, w and bias when it runs: new values at the same addresses give the new
   * result (w is packed on every call, pack_filter.h). */
  dev_problem_t d;
  const convgemm_conv2d_params_t p = base_params(CONVGEMM_MATH_DEFAULT);
  dev_problem_init(&d, &p, 504);
  for (int round = 0; round < 3; ++round) {
    char what[96];
    snprintf(what, sizeof what, "contents %d, min workspace", round);
    run_and_check(&d, d.ws_min, what);
    snprintf(what, sizeof what, "contents %d, preferred workspace", round);
    run_and_check(&d, d.ws_pref, what);
    /* New values for everything, same pointers. */
    test_rng_t rng;
    test_rng_seed(&rng, 7000 + (uint64_t)round);
    test_fill_conv_inputs(&rng, &d.host.params, d.host.x, d.host.w, d.host.bias);
    im2col_problem_update_reference(&d.host);
    im2col_upload(d.x, d.host.x, d.host.x_elems, g_stream);
    im2col_upload(d.w, d.host.w, d.host.w_elems, g_stream);
    im2col_upload(d.bias, d.host.bias, d.host.b_elems, g_stream);
  }
  expect_inputs_unchanged(&d, "new contents");
  dev_problem_free(&d);
}
END_TEST

START_TEST(test_alternating_math_modes_on_one_handle) {
  /* DEFAULT and IEEE descriptors of one shape, the same pointers and workspace, alternating:
   * each call its own mode's result, in every chunk (a stale graph once left NaN in the last
   * chunk's outputs). Then the same with the workspace sizes crossed. */
  dev_problem_t dd, di;
  const convgemm_conv2d_params_t pd = base_params(CONVGEMM_MATH_DEFAULT);
  const convgemm_conv2d_params_t pi = base_params(CONVGEMM_MATH_IEEE);
  dev_problem_init(&dd, &pd, 505);
  dev_problem_init(&di, &pi, 505); /* the same inputs */
  /* One set of buffers for both: di's descriptor runs on dd's pointers. */
  const size_t ws_sizes[4][2] = {{dd.ws_min, di.ws_min},
                                 {dd.ws_pref, di.ws_pref},
                                 {dd.ws_min, di.ws_pref},
                                 {dd.ws_pref, di.ws_min}};
  float* first[2][4];
  for (int round = 0; round < 3; ++round)
    for (int s = 0; s < 4; ++s)
      for (int m = 0; m < 2; ++m) {
        const dev_problem_t* which = m == 0 ? &dd : &di;
        const size_t bytes = ws_sizes[s][m];
        ck_assert_uint_le(bytes, dd.ws.bytes);
        char what[128];
        snprintf(what, sizeof what, "round %d, sizes %d, %s math, workspace %zu", round, s,
                 m == 0 ? "DEFAULT" : "IEEE", bytes);
        im2col_guarded_poison(&dd.y, g_stream);
        im2col_guarded_poison(&dd.ws, g_stream);
        const convgemm_status_t st =
            convgemm_forward(g_handle, which->desc, CONVGEMM_ALGO_IM2COL_GEMM, dd.x, dd.w,
                             dd.bias, dd.y.data, dd.ws.data, bytes, g_stream);
        ck_assert_msg(st == CONVGEMM_STATUS_SUCCESS, "%s: %s: %s", what,
                      convgemm_status_string(st), convgemm_get_last_error());
        im2col_guarded_fetch(&dd.y, dd.y.bytes, dd.y_host, g_stream, what, "alternating modes");
        im2col_problem_check(&which->host, dd.y_host, what, "alternating modes", &g_stats);
        /* Each (mode, sizes) gives the same bits every round. */
        if (round == 0) {
          first[m][s] = malloc(dd.y.bytes);
          ck_assert_ptr_nonnull(first[m][s]);
          memcpy(first[m][s], dd.y_host, dd.y.bytes);
        } else {
          const int64_t diff =
              im2col_first_bit_difference(dd.y_host, first[m][s], dd.host.y_elems);
          ck_assert_msg(diff < 0, "%s: differs from round 0 at [%lld]", what, (long long)diff);
        }
      }
  for (int m = 0; m < 2; ++m)
    for (int s = 0; s < 4; ++s) free(first[m][s]);
  expect_inputs_unchanged(&dd, "alternating modes");
  dev_problem_free(&dd);
  dev_problem_free(&di);
}
END_TEST

START_TEST(test_more_descriptors_than_cached_graphs) {
  /* CONVGEMM_IM2COL_GRAPHS + 3 descriptors of different shapes, math modes and bias, all on the
   * same x, w, bias, y and workspace buffers (sized for the largest), cycling three times: every
   * call evicts a graph; each must compute its own descriptor, and write only its own y. */
  enum { kCount = CONVGEMM_IM2COL_GRAPHS + 3 };
  static const struct {
    int64_t n, c, h, w, k, r, s, pad, groups;
    int bias, ieee;
  } kShapes[kCount] = {
      {2, 8, 20, 20, 32, 3, 3, 1, 1, 1, 0}, {2, 8, 20, 20, 32, 3, 3, 1, 1, 1, 1},
      {2, 8, 20, 20, 32, 3, 3, 1, 1, 0, 0}, {2, 8, 20, 20, 32, 3, 3, 0, 1, 1, 0},
      {1, 8, 20, 20, 64, 3, 3, 1, 2, 1, 0}, {2, 8, 20, 20, 32, 5, 5, 2, 1, 1, 1},
      {3, 8, 20, 20, 16, 1, 1, 0, 1, 0, 1},
  };
  im2col_problem_t pr[kCount];
  convgemm_conv_desc_t desc[kCount];
  size_t ws_min[kCount], ws_pref[kCount];
  int64_t max_x = 0, max_w = 0, max_b = 0, max_y = 0;
  size_t max_ws = 0;
  for (int i = 0; i < kCount; ++i) {
    convgemm_conv2d_params_t p;
    convgemm_conv2d_params_init(&p, kShapes[i].n, kShapes[i].c, kShapes[i].h, kShapes[i].w,
                                kShapes[i].k, kShapes[i].r, kShapes[i].s);
    p.pad_h = p.pad_w = kShapes[i].pad;
    p.groups = kShapes[i].groups;
    p.has_bias = kShapes[i].bias;
    p.math_mode = kShapes[i].ieee ? CONVGEMM_MATH_IEEE : CONVGEMM_MATH_DEFAULT;
    im2col_problem_init(&pr[i], &p, 900 + (uint64_t)i);
    CK_CONVGEMM(convgemm_conv_desc_create(&desc[i], &p));
    CK_CONVGEMM(convgemm_get_workspace_size(g_handle, desc[i], CONVGEMM_ALGO_IM2COL_GEMM,
                                            &ws_min[i], &ws_pref[i]));
    if (pr[i].x_elems > max_x) max_x = pr[i].x_elems;
    if (pr[i].w_elems > max_w) max_w = pr[i].w_elems;
    if (pr[i].b_elems > max_b) max_b = pr[i].b_elems;
    if (pr[i].y_elems > max_y) max_y = pr[i].y_elems;
    if (ws_pref[i] > max_ws) max_ws = ws_pref[i];
  }
  /* Shared inputs: problem 0's values extended; every problem reads a prefix of them. */
  float* hx = malloc((size_t)max_x * sizeof(float));
  float* hw = malloc((size_t)max_w * sizeof(float));
  float* hb = malloc((size_t)max_b * sizeof(float));
  ck_assert(hx != NULL && hw != NULL && hb != NULL);
  test_rng_t rng;
  test_rng_seed(&rng, 4321);
  for (int64_t i = 0; i < max_x; ++i) hx[i] = test_rng_unit(&rng);
  for (int64_t i = 0; i < max_w; ++i) hw[i] = test_rng_symmetric(&rng, 0.2f);
  for (int64_t i = 0; i < max_b; ++i) hb[i] = test_rng_symmetric(&rng, 0.2f);
  for (int i = 0; i < kCount; ++i) {
    memcpy(pr[i].x, hx, (size_t)pr[i].x_elems * sizeof(float));
    memcpy(pr[i].w, hw, (size_t)pr[i].w_elems * sizeof(float));
    if (pr[i].b_elems > 0) memcpy(pr[i].bias, hb, (size_t)pr[i].b_elems * sizeof(float));
    im2col_problem_update_reference(&pr[i]);
  }
  float *dx, *dw, *db;
  CK_CUDA(cudaMalloc((void**)&dx, (size_t)max_x * sizeof(float)));
  CK_CUDA(cudaMalloc((void**)&dw, (size_t)max_w * sizeof(float)));
  CK_CUDA(cudaMalloc((void**)&db, (size_t)max_b * sizeof(float)));
  im2col_upload(dx, hx, max_x, g_stream);
  im2col_upload(dw, hw, max_w, g_stream);
  im2col_upload(db, hb, max_b, g_stream);
  im2col_guarded_t y, ws;
  im2col_guarded_alloc(&y, (size_t)max_y * sizeof(float));
  im2col_guarded_alloc(&ws, max_ws);
  float* y_host = malloc((size_t)max_y * sizeof(float));
  ck_assert_ptr_nonnull(y_host);
  for (int round = 0; round < 3; ++round)
    for (int i = 0; i < kCount; ++i) {
      /* Rounds alternate the workspace: preferred, minimum, preferred. */
      const size_t bytes = round == 1 ? ws_min[i] : ws_pref[i];
      char what[96];
      snprintf(what, sizeof what, "round %d, descriptor %d, workspace %zu", round, i, bytes);
      im2col_guarded_poison(&y, g_stream);
      im2col_guarded_poison(&ws, g_stream);
      const convgemm_status_t s =
          convgemm_forward(g_handle, desc[i], CONVGEMM_ALGO_IM2COL_GEMM, dx, dw,
                           pr[i].b_elems > 0 ? db : NULL, y.data, ws.data, bytes, g_stream);
      ck_assert_msg(s == CONVGEMM_STATUS_SUCCESS, "%s: %s: %s", what, convgemm_status_string(s),
                    convgemm_get_last_error());
      /* y fetched up to this descriptor's size; the rest of the shared buffer stays poison. */
      im2col_guarded_fetch(&y, (size_t)pr[i].y_elems * sizeof(float), y_host, g_stream, what,
                           "more descriptors than graphs");
      im2col_problem_check(&pr[i], y_host, what, "more descriptors than graphs", &g_stats);
    }
  im2col_expect_device_equals(dx, hx, max_x, g_stream, "x", "more descriptors than graphs");
  im2col_expect_device_equals(dw, hw, max_w, g_stream, "w", "more descriptors than graphs");
  im2col_expect_device_equals(db, hb, max_b, g_stream, "bias", "more descriptors than graphs");
  CK_CUDA(cudaFree(dx));
  CK_CUDA(cudaFree(dw));
  CK_CUDA(cudaFree(db));
  im2col_guarded_free(&y);
  im2col_guarded_free(&ws);
  for (int i = 0; i < kCount; ++i) {
    convgemm_conv_desc_destroy(desc[i]);
    im2col_problem_free(&pr[i]);
  }
  free(hx);
  free(hw);
  free(hb);
  free(y_host);
}
END_TEST

/* ---- inside the caller's own graph capture ---------------------------------------------- */

/* Captures one forward on g_stream in `mode`, then replays the graph three times with new
 * inputs in between (uploaded to the same pointers): each replay gives its inputs' result. Then
 * an ordinary call on the same handle and stream. */
static void capture_and_replay(enum cudaStreamCaptureMode capture_mode, int preferred,
                               uint64_t seed) {
  dev_problem_t d;
  const convgemm_conv2d_params_t p = base_params(CONVGEMM_MATH_DEFAULT);
  dev_problem_init(&d, &p, seed);
  const size_t bytes = preferred ? d.ws_pref : d.ws_min;
  char ctx[128];
  snprintf(ctx, sizeof ctx, "capture mode %d, %s workspace (%zu bytes)", (int)capture_mode,
           preferred ? "preferred" : "minimum", bytes);
  CK_CUDA(cudaStreamSynchronize(g_stream));
  CK_CUDA(cudaStreamBeginCapture(g_stream, capture_mode));
  const convgemm_status_t s =
      convgemm_forward(g_handle, d.desc, CONVGEMM_ALGO_IM2COL_GEMM, d.x, d.w, d.bias, d.y.data,
                       d.ws.data, bytes, g_stream);
  cudaGraph_t graph = NULL;
  const cudaError_t end = cudaStreamEndCapture(g_stream, &graph);
  ck_assert_msg(s == CONVGEMM_STATUS_SUCCESS, "%s: forward while capturing returned %s: %s", ctx,
                convgemm_status_string(s), convgemm_get_last_error());
  ck_assert_msg(end == cudaSuccess && graph != NULL, "%s: cudaStreamEndCapture: %s", ctx,
                cudaGetErrorString(end));
  enum cudaStreamCaptureStatus status = cudaStreamCaptureStatusActive;
  CK_CUDA(cudaStreamIsCapturing(g_stream, &status));
  ck_assert_int_eq(status, cudaStreamCaptureStatusNone);
  size_t nodes = 0;
  CK_CUDA(cudaGraphGetNodes(graph, NULL, &nodes));
  ck_assert_msg(nodes > 0, "%s: the captured graph is empty", ctx);
  cudaGraphExec_t exec = NULL;
  CK_CUDA(cudaGraphInstantiate(&exec, graph, 0));
  for (int replay = 0; replay < 3; ++replay) {
    char what[160];
    snprintf(what, sizeof what, "%s: replay %d", ctx, replay);
    im2col_guarded_poison(&d.y, g_stream);
    im2col_guarded_poison(&d.ws, g_stream);
    CK_CUDA(cudaGraphLaunch(exec, g_stream));
    im2col_guarded_fetch(&d.y, d.y.bytes, d.y_host, g_stream, what, "capture");
    im2col_problem_check(&d.host, d.y_host, what, "capture", &g_stats);
    /* New inputs at the same pointers for the next replay. */
    test_rng_t rng;
    test_rng_seed(&rng, seed * 31 + (uint64_t)replay);
    test_fill_conv_inputs(&rng, &d.host.params, d.host.x, d.host.w, d.host.bias);
    im2col_problem_update_reference(&d.host);
    im2col_upload(d.x, d.host.x, d.host.x_elems, g_stream);
    im2col_upload(d.w, d.host.w, d.host.w_elems, g_stream);
    im2col_upload(d.bias, d.host.bias, d.host.b_elems, g_stream);
  }
  CK_CUDA(cudaGraphExecDestroy(exec));
  CK_CUDA(cudaGraphDestroy(graph));
  /* The handle works as usual afterwards, on the same stream. */
  char what[160];
  snprintf(what, sizeof what, "%s: an ordinary call afterwards", ctx);
  run_and_check(&d, bytes, what);
  expect_inputs_unchanged(&d, ctx);
  dev_problem_free(&d);
}

START_TEST(test_forward_in_a_global_capture_preferred_workspace) {
  /* First call of a fresh handle, inside the capture: cuBLASLt's algorithm choice happens there
   * too. Two buffers: the call forks onto the handle's streams, which join the capture. */
  capture_and_replay(cudaStreamCaptureModeGlobal, 1, 801);
}
END_TEST

START_TEST(test_forward_in_a_global_capture_minimum_workspace) {
  capture_and_replay(cudaStreamCaptureModeGlobal, 0, 802);
}
END_TEST

START_TEST(test_forward_in_a_thread_local_capture_after_ordinary_calls) {
  /* A warm handle this time: the same descriptor already has a cached graph. */
  dev_problem_t d;
  const convgemm_conv2d_params_t p = base_params(CONVGEMM_MATH_DEFAULT);
  dev_problem_init(&d, &p, 803);
  run_and_check(&d, d.ws_pref, "before the capture");
  dev_problem_free(&d);
  capture_and_replay(cudaStreamCaptureModeThreadLocal, 1, 803);
}
END_TEST

/* ---- alignment -------------------------------------------------------------------------- */

START_TEST(test_pointers_only_as_aligned_as_required) {
  /* convgemm.h asks for 4-byte aligned x, w, bias and y and a 256-byte aligned workspace. Each at
   * exactly that (4 or 256 bytes past a 256-byte aligned allocation), both math modes, the
   * minimum and the preferred workspace, for whole-image chunks (P*Q 99, K*P*Q odd, so the
   * images' outputs are only 4-byte aligned too) and pixel chunks (P*Q 437). */
  static const struct {
    int64_t n, c, h, w, k;
  } kShapes[2] = {{3, 8, 9, 11, 33}, {2, 5, 19, 23, 40}};
  for (int sh = 0; sh < 2; ++sh)
    for (int mode = 0; mode < 2; ++mode) {
      convgemm_conv2d_params_t p;
      convgemm_conv2d_params_init(&p, kShapes[sh].n, kShapes[sh].c, kShapes[sh].h,
                                  kShapes[sh].w, kShapes[sh].k, 3, 3);
      p.pad_h = p.pad_w = 1;
      p.has_bias = 1;
      p.math_mode = (convgemm_math_mode_t)mode;
      im2col_problem_t pr;
      im2col_problem_init(&pr, &p, 1100 + (uint64_t)(2 * sh + mode));
      convgemm_conv_desc_t desc = NULL;
      CK_CONVGEMM(convgemm_conv_desc_create(&desc, &p));
      size_t ws_min = 0, ws_pref = 0;
      CK_CONVGEMM(convgemm_get_workspace_size(g_handle, desc, CONVGEMM_ALGO_IM2COL_GEMM, &ws_min,
                                              &ws_pref));
      char *bx, *bw, *bb;
      CK_CUDA(cudaMalloc((void**)&bx, (size_t)pr.x_elems * sizeof(float) + 256));
      CK_CUDA(cudaMalloc((void**)&bw, (size_t)pr.w_elems * sizeof(float) + 256));
      CK_CUDA(cudaMalloc((void**)&bb, (size_t)pr.b_elems * sizeof(float) + 256));
      float* x = (float*)(bx + 4);
      float* w = (float*)(bw + 4);
      float* bias = (float*)(bb + 4);
      im2col_upload(x, pr.x, pr.x_elems, g_stream);
      im2col_upload(w, pr.w, pr.w_elems, g_stream);
      im2col_upload(bias, pr.bias, pr.b_elems, g_stream);
      /* y 4 bytes into its guarded buffer's data, the workspace 256 bytes into its. */
      im2col_guarded_t y, ws;
      im2col_guarded_alloc(&y, (size_t)pr.y_elems * sizeof(float) + 4);
      im2col_guarded_alloc(&ws, ws_pref + 256);
      float* y_host = malloc((size_t)pr.y_elems * sizeof(float) + 4);
      ck_assert_ptr_nonnull(y_host);
      const size_t sizes[2] = {ws_min, ws_pref};
      for (int s = 0; s < 2; ++s) {
        char what[160];
        snprintf(what, sizeof what, "shape %d, %s math, workspace %zu, pointers +4 / +256 bytes",
                 sh, mode == 0 ? "DEFAULT" : "IEEE", sizes[s]);
        im2col_guarded_poison(&y, g_stream);
        im2col_guarded_poison(&ws, g_stream);
        const convgemm_status_t st =
            convgemm_forward(g_handle, desc, CONVGEMM_ALGO_IM2COL_GEMM, x, w, bias, y.data + 4,
                             ws.data + 256, sizes[s], g_stream);
        ck_assert_msg(st == CONVGEMM_STATUS_SUCCESS, "%s: %s: %s", what,
                      convgemm_status_string(st), convgemm_get_last_error());
        im2col_guarded_fetch(&y, y.bytes, y_host, g_stream, what, "alignment");
        const unsigned char* first = (const unsigned char*)y_host;
        ck_assert_msg(first[0] == IM2COL_POISON_BYTE && first[1] == IM2COL_POISON_BYTE &&
                          first[2] == IM2COL_POISON_BYTE && first[3] == IM2COL_POISON_BYTE,
                      "%s: the 4 bytes before y were written", what);
        im2col_problem_check(&pr, (const float*)(first + 4), what, "alignment", &g_stats);
      }
      im2col_expect_device_equals(x, pr.x, pr.x_elems, g_stream, "x", "alignment");
      im2col_expect_device_equals(w, pr.w, pr.w_elems, g_stream, "w", "alignment");
      im2col_expect_device_equals(bias, pr.bias, pr.b_elems, g_stream, "bias", "alignment");
      free(y_host);
      im2col_guarded_free(&y);
      im2col_guarded_free(&ws);
      CK_CUDA(cudaFree(bx));
      CK_CUDA(cudaFree(bw));
      CK_CUDA(cudaFree(bb));
      convgemm_conv_desc_destroy(desc);
      im2col_problem_free(&pr);
    }
}
END_TEST

/* ---- edges ------------------------------------------------------------------------------ */

START_TEST(test_bias_near_float_max_stays_finite) {
  /* The bias is added with fp32 accuracy (im2col_gemm_plan.h): a finite bias gives a finite
   * output where the products are zero. Biases at and around the largest TF32 value: 0x7F7FE000
   * (the largest TF32), 0x7F7FEFFF (rounds to it), 0x7F7FF000 and FLT_MAX (round to Inf in TF32,
   * so a DEFAULT-math split bias = hi + lo needs care there), negated, and an ordinary one. The
   * filters of those channels are zero, so y = bias exactly in the reference. */
  static const uint32_t kBiasBits[8] = {0x7F7FE000u, 0x7F7FEFFFu, 0x7F7FF000u, 0x7F7FFFFFu,
                                        0xFF7FE000u, 0xFF7FF000u, 0xFF7FFFFFu, 0x3E800000u};
  for (int mode = 0; mode < 2; ++mode) {
    convgemm_conv2d_params_t p;
    convgemm_conv2d_params_init(&p, 2, 4, 9, 9, 8, 3, 3);
    p.pad_h = p.pad_w = 1;
    p.has_bias = 1;
    p.math_mode = (convgemm_math_mode_t)mode;
    dev_problem_t d;
    dev_problem_init(&d, &p, 1200 + (uint64_t)mode);
    for (int k = 0; k < 8; ++k) {
      d.host.bias[k] = bits_to_float(kBiasBits[k]);
      if (k < 7)
        for (int64_t j = 0; j < 4 * 3 * 3; ++j) d.host.w[k * 36 + j] = 0.0f;
    }
    im2col_problem_update_reference(&d.host);
    im2col_upload(d.w, d.host.w, d.host.w_elems, g_stream);
    im2col_upload(d.bias, d.host.bias, d.host.b_elems, g_stream);
    char what[96];
    snprintf(what, sizeof what, "%s math, biases near FLT_MAX", mode == 0 ? "DEFAULT" : "IEEE");
    run_and_check(&d, d.ws_min, what);
    expect_inputs_unchanged(&d, what);
    dev_problem_free(&d);
  }
}
END_TEST

/* ---- 16-bit data ------------------------------------------------------------------------- */

START_TEST(test_data_types_alternating_on_one_handle) {
  /* One shape in float32, float16 and bfloat16 (each with its own buffers), called in turn on one
   * handle, at both workspace sizes: each call must run its own type's kernels and GEMM (the
   * cached graphs are keyed on the descriptor, type included) and match its own reference. */
  static const convgemm_data_type_t kTypes[3] = {CONVGEMM_DATA_FLOAT32, CONVGEMM_DATA_FLOAT16,
                                                 CONVGEMM_DATA_BFLOAT16};
  im2col_problem_t pr[3];
  convgemm_conv_desc_t desc[3];
  void *x[3], *w[3], *bias[3];
  im2col_guarded_t y[3], ws[3];
  size_t ws_min[3], ws_pref[3];
  for (int t = 0; t < 3; ++t) {
    convgemm_conv2d_params_t p = base_params(CONVGEMM_MATH_DEFAULT);
    p.data_type = kTypes[t];
    im2col_problem_init(&pr[t], &p, 1300); /* the same draws, rounded to each type */
    CK_CONVGEMM(convgemm_conv_desc_create(&desc[t], &p));
    const size_t elem = test_elem_bytes(kTypes[t]);
    CK_CUDA(cudaMalloc(&x[t], (size_t)pr[t].x_elems * elem));
    CK_CUDA(cudaMalloc(&w[t], (size_t)pr[t].w_elems * elem));
    CK_CUDA(cudaMalloc(&bias[t], (size_t)pr[t].b_elems * elem));
    im2col_upload_typed(x[t], pr[t].x, pr[t].x_elems, kTypes[t], g_stream);
    im2col_upload_typed(w[t], pr[t].w, pr[t].w_elems, kTypes[t], g_stream);
    im2col_upload_typed(bias[t], pr[t].bias, pr[t].b_elems, kTypes[t], g_stream);
    CK_CONVGEMM(convgemm_get_workspace_size(g_handle, desc[t], CONVGEMM_ALGO_IM2COL_GEMM,
                                            &ws_min[t], &ws_pref[t]));
    im2col_guarded_alloc(&y[t], (size_t)pr[t].y_elems * elem);
    im2col_guarded_alloc(&ws[t], ws_pref[t]);
  }
  /* 16-bit column buffers take half the bytes: the same workspace holds twice the pixels. */
  ck_assert_uint_lt(ws_pref[1], ws_pref[0]);
  ck_assert_uint_eq(ws_pref[1], ws_pref[2]);
  float* values = malloc((size_t)pr[0].y_elems * sizeof(float));
  unsigned char* raw = malloc((size_t)pr[0].y_elems * sizeof(float));
  ck_assert(values != NULL && raw != NULL);
  for (int round = 0; round < 2; ++round)
    for (int sz = 0; sz < 2; ++sz)
      for (int t = 0; t < 3; ++t) {
        const size_t bytes = sz == 0 ? ws_min[t] : ws_pref[t];
        char what[128];
        snprintf(what, sizeof what, "round %d, %s, workspace %zu", round,
                 test_type_name(kTypes[t]), bytes);
        im2col_guarded_poison(&y[t], g_stream);
        im2col_guarded_poison(&ws[t], g_stream);
        const convgemm_status_t st =
            convgemm_forward(g_handle, desc[t], CONVGEMM_ALGO_IM2COL_GEMM, x[t], w[t], bias[t],
                             y[t].data, ws[t].data, bytes, g_stream);
        ck_assert_msg(st == CONVGEMM_STATUS_SUCCESS, "%s: %s: %s", what,
                      convgemm_status_string(st), convgemm_get_last_error());
        im2col_guarded_fetch(&y[t], y[t].bytes, raw, g_stream, what, "types alternating");
        test_decode(raw, pr[t].y_elems, kTypes[t], values);
        im2col_problem_check(&pr[t], values, what, "types alternating", &g_stats);
      }
  for (int t = 0; t < 3; ++t) {
    im2col_expect_device_equals_typed(x[t], pr[t].x, pr[t].x_elems, kTypes[t], g_stream, "x",
                                      "types alternating");
    CK_CUDA(cudaFree(x[t]));
    CK_CUDA(cudaFree(w[t]));
    CK_CUDA(cudaFree(bias[t]));
    im2col_guarded_free(&y[t]);
    im2col_guarded_free(&ws[t]);
    convgemm_conv_desc_destroy(desc[t]);
    im2col_problem_free(&pr[t]);
  }
  free(values);
  free(raw);
}
END_TEST

START_TEST(test_16bit_pointers_only_as_aligned_as_required) {
  /* convgemm.h asks 16-bit x, w, bias and y to be 2-byte aligned. Each at exactly that (2 bytes
   * past a 256-byte aligned allocation), the workspace at 256, both 16-bit types, the minimum and
   * the preferred workspace, whole-image chunks (P*Q 99, K*P*Q odd: every image's output starts
   * at an odd element) and pixel chunks (P*Q 437): cuBLASLt must find a GEMM for D only 2-byte
   * aligned. */
  static const struct {
    int64_t n, c, h, w, k;
  } kShapes[2] = {{3, 8, 9, 11, 33}, {2, 5, 19, 23, 40}};
  for (int sh = 0; sh < 2; ++sh)
    for (int t = 0; t < 2; ++t) {
      const convgemm_data_type_t type = type_of_index(t);
      convgemm_conv2d_params_t p;
      convgemm_conv2d_params_init(&p, kShapes[sh].n, kShapes[sh].c, kShapes[sh].h,
                                  kShapes[sh].w, kShapes[sh].k, 3, 3);
      p.pad_h = p.pad_w = 1;
      p.has_bias = 1;
      p.data_type = type;
      im2col_problem_t pr;
      im2col_problem_init(&pr, &p, 1400 + (uint64_t)(2 * sh + t));
      convgemm_conv_desc_t desc = NULL;
      CK_CONVGEMM(convgemm_conv_desc_create(&desc, &p));
      size_t ws_min = 0, ws_pref = 0;
      CK_CONVGEMM(convgemm_get_workspace_size(g_handle, desc, CONVGEMM_ALGO_IM2COL_GEMM, &ws_min,
                                              &ws_pref));
      char *bx, *bw, *bb;
      CK_CUDA(cudaMalloc((void**)&bx, (size_t)pr.x_elems * 2 + 256));
      CK_CUDA(cudaMalloc((void**)&bw, (size_t)pr.w_elems * 2 + 256));
      CK_CUDA(cudaMalloc((void**)&bb, (size_t)pr.b_elems * 2 + 256));
      void* x = bx + 2;
      void* w = bw + 2;
      void* bias = bb + 2;
      im2col_upload_typed(x, pr.x, pr.x_elems, type, g_stream);
      im2col_upload_typed(w, pr.w, pr.w_elems, type, g_stream);
      im2col_upload_typed(bias, pr.bias, pr.b_elems, type, g_stream);
      im2col_guarded_t y, ws;
      im2col_guarded_alloc(&y, (size_t)pr.y_elems * 2 + 2);
      im2col_guarded_alloc(&ws, ws_pref + 256);
      unsigned char* y_host = malloc((size_t)pr.y_elems * 2 + 2);
      float* values = malloc((size_t)pr.y_elems * sizeof(float));
      ck_assert(y_host != NULL && values != NULL);
      const size_t sizes[2] = {ws_min, ws_pref};
      for (int s = 0; s < 2; ++s) {
        char what[160];
        snprintf(what, sizeof what, "shape %d, %s, workspace %zu, pointers +2 / +256 bytes", sh,
                 test_type_name(type), sizes[s]);
        im2col_guarded_poison(&y, g_stream);
        im2col_guarded_poison(&ws, g_stream);
        const convgemm_status_t st =
            convgemm_forward(g_handle, desc, CONVGEMM_ALGO_IM2COL_GEMM, x, w, bias, y.data + 2,
                             ws.data + 256, sizes[s], g_stream);
        ck_assert_msg(st == CONVGEMM_STATUS_SUCCESS, "%s: %s: %s", what,
                      convgemm_status_string(st), convgemm_get_last_error());
        im2col_guarded_fetch(&y, y.bytes, y_host, g_stream, what, "16-bit alignment");
        ck_assert_msg(y_host[0] == IM2COL_POISON_BYTE && y_host[1] == IM2COL_POISON_BYTE,
                      "%s: the 2 bytes before y were written", what);
        test_decode(y_host + 2, pr.y_elems, type, values);
        im2col_problem_check(&pr, values, what, "16-bit alignment", &g_stats);
      }
      /* One byte off is refused before anything runs. */
      const convgemm_status_t odd =
          convgemm_forward(g_handle, desc, CONVGEMM_ALGO_IM2COL_GEMM, bx + 1, w, bias, y.data + 2,
                           ws.data + 256, ws_pref, g_stream);
      ck_assert_msg(odd == CONVGEMM_STATUS_BAD_POINTER &&
                        strstr(convgemm_get_last_error(), "aligned to 2 bytes") != NULL,
                    "x one byte off: %s: %s", convgemm_status_string(odd),
                    convgemm_get_last_error());
      im2col_expect_device_equals_typed(x, pr.x, pr.x_elems, type, g_stream, "x",
                                        "16-bit alignment");
      im2col_expect_device_equals_typed(w, pr.w, pr.w_elems, type, g_stream, "w",
                                        "16-bit alignment");
      im2col_expect_device_equals_typed(bias, pr.bias, pr.b_elems, type, g_stream, "bias",
                                        "16-bit alignment");
      free(y_host);
      free(values);
      im2col_guarded_free(&y);
      im2col_guarded_free(&ws);
      CK_CUDA(cudaFree(bx));
      CK_CUDA(cudaFree(bw));
      CK_CUDA(cudaFree(bb));
      convgemm_conv_desc_destroy(desc);
      im2col_problem_free(&pr);
    }
}
END_TEST

START_TEST(test_16bit_bias_at_the_largest_finite_value) {
  /* The 16-bit bias rides in the GEMM as one row (times ones, exact in fp32): channels with zero
   * filters give y = bias exactly, the largest finite values (65504 in float16, 0x7F7F in
   * bfloat16, both signs) included, with no overflow on the way; the last channel is ordinary. */
  for (int t = 0; t < 2; ++t) {
    const convgemm_data_type_t type = type_of_index(t);
    const float big = type == CONVGEMM_DATA_FLOAT16 ? test_half_bits_to_float(0x7BFFu)
                                                    : test_bf16_bits_to_float(0x7F7Fu);
    const float kBias[4] = {big, -big, big / 2, 0.25f};
    convgemm_conv2d_params_t p;
    convgemm_conv2d_params_init(&p, 2, 4, 9, 9, 4, 3, 3);
    p.pad_h = p.pad_w = 1;
    p.has_bias = 1;
    p.data_type = type;
    for (int mode = 0; mode < 2; ++mode) {
      p.math_mode = (convgemm_math_mode_t)mode;
      im2col_problem_t pr;
      im2col_problem_init(&pr, &p, 1500 + (uint64_t)t);
      for (int k = 0; k < 4; ++k) {
        pr.bias[k] = kBias[k];
        if (k < 3)
          for (int64_t j = 0; j < 4 * 3 * 3; ++j) pr.w[k * 36 + j] = 0.0f;
      }
      im2col_problem_update_reference(&pr);
      convgemm_conv_desc_t desc = NULL;
      CK_CONVGEMM(convgemm_conv_desc_create(&desc, &p));
      size_t ws_min = 0, ws_pref = 0;
      CK_CONVGEMM(convgemm_get_workspace_size(g_handle, desc, CONVGEMM_ALGO_IM2COL_GEMM, &ws_min,
                                              &ws_pref));
      void *x, *w, *bias;
      CK_CUDA(cudaMalloc(&x, (size_t)pr.x_elems * 2));
      CK_CUDA(cudaMalloc(&w, (size_t)pr.w_elems * 2));
      CK_CUDA(cudaMalloc(&bias, (size_t)pr.b_elems * 2));
      im2col_upload_typed(x, pr.x, pr.x_elems, type, g_stream);
      im2col_upload_typed(w, pr.w, pr.w_elems, type, g_stream);
      im2col_upload_typed(bias, pr.bias, pr.b_elems, type, g_stream);
      im2col_guarded_t y, ws;
      im2col_guarded_alloc(&y, (size_t)pr.y_elems * 2);
      im2col_guarded_alloc(&ws, ws_min);
      unsigned char* raw = malloc((size_t)pr.y_elems * 2);
      float* values = malloc((size_t)pr.y_elems * sizeof(float));
      ck_assert(raw != NULL && values != NULL);
      char what[96];
      snprintf(what, sizeof what, "%s, %s math, biases at the largest finite value",
               test_type_name(type), mode == 0 ? "DEFAULT" : "IEEE");
      im2col_guarded_poison(&y, g_stream);
      im2col_guarded_poison(&ws, g_stream);
      CK_CONVGEMM(convgemm_forward(g_handle, desc, CONVGEMM_ALGO_IM2COL_GEMM, x, w, bias, y.data,
                                   ws.data, ws_min, g_stream));
      im2col_guarded_fetch(&y, y.bytes, raw, g_stream, what, "16-bit bias");
      test_decode(raw, pr.y_elems, type, values);
      im2col_problem_check(&pr, values, what, "16-bit bias", &g_stats);
      const int64_t plane = pr.y_elems / (p.n * p.k);
      for (int64_t n = 0; n < p.n; ++n)
        for (int k = 0; k < 3; ++k)
          ck_assert_msg(values[(n * p.k + k) * plane] == kBias[k], "%s: y[%lld][%d][0] = %.9g",
                        what, (long long)n, k, (double)values[(n * p.k + k) * plane]);
      free(raw);
      free(values);
      im2col_guarded_free(&y);
      im2col_guarded_free(&ws);
      CK_CUDA(cudaFree(x));
      CK_CUDA(cudaFree(w));
      CK_CUDA(cudaFree(bias));
      convgemm_conv_desc_destroy(desc);
      im2col_problem_free(&pr);
    }
  }
}
END_TEST

static Suite* im2col_suite(void) {
  Suite* s = suite_create("gpu_im2col_gemm");
  TCase* fixed = tcase_create("fixed_cases");
  tcase_add_checked_fixture(fixed, setup, teardown);
  tcase_add_test(fixed, test_case_lists_reach_every_plan_kind_on_this_device);
  tcase_add_loop_test(fixed, test_fixed_case, 0, direct_fixed_case_count());
  tcase_add_loop_test(fixed, test_extra_case, 0, im2col_extra_case_count());
  suite_add_tcase(s, fixed);

  TCase* random = tcase_create("random_cases");
  tcase_add_checked_fixture(random, setup, teardown);
  tcase_add_loop_test(random, test_random_case, 0, DIRECT_RANDOM_CASES);
  suite_add_tcase(s, random);

  TCase* half = tcase_create("cases_16bit");
  tcase_add_checked_fixture(half, setup, teardown);
  tcase_add_loop_test(half, test_fixed_case_16bit, 0, 2 * direct_fixed_case_count());
  tcase_add_loop_test(half, test_extra_case_16bit, 0, 2 * im2col_extra_case_count());
  tcase_add_loop_test(half, test_random_case_16bit, 0, 2 * DIRECT_RANDOM_CASES);
  suite_add_tcase(s, half);

  TCase* half_edges = tcase_create("edges_16bit");
  tcase_add_checked_fixture(half_edges, setup, teardown);
  tcase_add_test(half_edges, test_data_types_alternating_on_one_handle);
  tcase_add_test(half_edges, test_16bit_pointers_only_as_aligned_as_required);
  tcase_add_test(half_edges, test_16bit_bias_at_the_largest_finite_value);
  suite_add_tcase(s, half_edges);

  TCase* graphs = tcase_create("graph_cache");
  tcase_add_checked_fixture(graphs, setup, teardown);
  tcase_add_test(graphs, test_repeated_calls_with_the_same_pointers);
  tcase_add_test(graphs, test_same_descriptor_other_y);
  tcase_add_test(graphs, test_same_descriptor_other_inputs_and_workspace);
  tcase_add_test(graphs, test_new_contents_at_the_same_pointers);
  tcase_add_test(graphs, test_alternating_math_modes_on_one_handle);
  tcase_add_test(graphs, test_more_descriptors_than_cached_graphs);
  suite_add_tcase(s, graphs);

  TCase* capture = tcase_create("caller_capture");
  tcase_add_checked_fixture(capture, setup, teardown);
  tcase_add_test(capture, test_forward_in_a_global_capture_preferred_workspace);
  tcase_add_test(capture, test_forward_in_a_global_capture_minimum_workspace);
  tcase_add_test(capture, test_forward_in_a_thread_local_capture_after_ordinary_calls);
  suite_add_tcase(s, capture);

  TCase* edges = tcase_create("edges");
  tcase_add_checked_fixture(edges, setup, teardown);
  tcase_add_test(edges, test_pointers_only_as_aligned_as_required);
  tcase_add_test(edges, test_bias_near_float_max_stays_finite);
  suite_add_tcase(s, edges);
  return s;
}

int main(void) {
  printf("gpu_im2col_gemm_test: random cases from seed %llu (set CONVGEMM_TEST_SEED to change)\n",
         (unsigned long long)test_base_seed(kDefaultSeed));
  /* CK_NOFORK: CUDA and fork() don't mix. */
  const int rc = check_main_run(im2col_suite(), CK_NOFORK);
  im2col_stats_print(&g_stats, stdout);
  return rc;
}
