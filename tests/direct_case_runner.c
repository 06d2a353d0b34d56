/* One convolution on the GPU, checked every way the API promises (direct_case_runner.h). */
#include "tests/direct_case_runner.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "conv/direct_conv2d_plan.h"
#include "conv/implicit_gemm_plan.h"
#include "conv/internal.h"
#include "tests/conv2d_reference.h"
#include "tests/conv_compare.h"
#include "tests/test_assert.h"
#include "tests/test_random.h"

/* Floats of poison on each side of y: a tile written one row or one image off lands here. */
enum { kGuardFloats = 4096 };
/* 0xFF bytes make 0xFFFFFFFF, a NaN: an output the kernel skips fails the comparison. */
enum { kPoisonByte = 0xFF };

typedef struct device_tensors {
  float *x, *w, *bias;  /* bias NULL when the case has none */
  float* y_base;        /* guard, y, guard */
  float* y;
  size_t y_base_bytes;
} device_tensors_t;

typedef struct host_tensors {
  float *x, *w, *bias;
  float* y_base;       /* the guarded y buffer as copied back */
  float* y_first;      /* DIRECT's first result, for the bitwise comparisons */
  float* y_default;    /* DEFAULT's result, to compare with IEEE's */
  double *ref, *abs_sum;
  double* abs_sum_split; /* abs_sum widened for IM2COL_GEMM's split bias (conv_compare.h) */
} host_tensors_t;

static void* host_alloc(size_t bytes, const char* ctx) {
  void* p = malloc(bytes > 0 ? bytes : 1);
  ck_assert_msg(p != NULL, "%s: out of host memory (%zu bytes)", ctx, bytes);
  return p;
}

/* Poisons y and its guards (and the workspace), runs `algo`, copies the guarded buffer back and
 * checks the guards. */
static void forward_and_fetch(convgemm_handle_t handle, convgemm_conv_desc_t desc,
                              convgemm_algo_t algo, cudaStream_t stream, const device_tensors_t* d,
                              host_tensors_t* h, void* workspace, size_t workspace_bytes,
                              const char* ctx) {
  CK_CUDA(cudaMemsetAsync(d->y_base, kPoisonByte, d->y_base_bytes, stream));
  if (workspace_bytes > 0)
    CK_CUDA(cudaMemsetAsync(workspace, kPoisonByte, workspace_bytes, stream));
  const convgemm_status_t s = convgemm_forward(handle, desc, algo, d->x, d->w, d->bias, d->y,
                                               workspace, workspace_bytes, stream);
  ck_assert_msg(s == CONVGEMM_STATUS_SUCCESS, "%s: forward(algo %d) returned %s: %s", ctx,
                (int)algo, convgemm_status_string(s), convgemm_get_last_error());
  CK_CUDA(cudaStreamSynchronize(stream));
  CK_CUDA(cudaMemcpyAsync(h->y_base, d->y_base, d->y_base_bytes, cudaMemcpyDeviceToHost, stream));
  CK_CUDA(cudaStreamSynchronize(stream));
  /* Scanned first, asserted once: every Check assertion logs its location through a file, so
   * one per byte would cost seconds. */
  const unsigned char* bytes = (const unsigned char*)h->y_base;
  const size_t guard_bytes = kGuardFloats * sizeof(float);
  const unsigned char* after = bytes + d->y_base_bytes - guard_bytes;
  size_t before_y = 0, past_y = 0;
  for (size_t i = 0; i < guard_bytes; ++i) {
    if (bytes[i] != kPoisonByte && before_y == 0) before_y = guard_bytes - i;
    if (after[i] != kPoisonByte && past_y == 0) past_y = i + 1;
  }
  ck_assert_msg(before_y == 0, "%s: algo %d wrote %zu bytes before y", ctx, (int)algo, before_y);
  ck_assert_msg(past_y == 0, "%s: algo %d wrote at byte %zu past the end of y", ctx, (int)algo,
                past_y - 1);
}

/* The same through the GENERIC kernel, whatever the plan chose. */
static void generic_and_fetch(convgemm_handle_t handle, convgemm_conv_desc_t desc,
                              cudaStream_t stream, const device_tensors_t* d, host_tensors_t* h,
                              const char* ctx) {
  convgemm_direct_plan_t plan;
  convgemm_direct_make_plan(desc, handle->info.max_smem_per_block, &plan);
  plan.tile = CONVGEMM_DIRECT_GENERIC;
  plan.tiles = desc->y_elems;
  CK_CUDA(cudaMemsetAsync(d->y_base, kPoisonByte, d->y_base_bytes, stream));
  const cudaError_t e = convgemm_direct_launch(desc, &plan, d->x, d->w, d->bias, d->y, stream);
  ck_assert_msg(e == cudaSuccess, "%s: GENERIC launch failed: %s", ctx, cudaGetErrorString(e));
  CK_CUDA(cudaStreamSynchronize(stream));
  CK_CUDA(cudaMemcpyAsync(h->y_base, d->y_base, d->y_base_bytes, cudaMemcpyDeviceToHost, stream));
  CK_CUDA(cudaStreamSynchronize(stream));
}

/* Index of the first float whose bits differ, or -1. */
static int64_t first_bit_difference(const float* a, const float* b, int64_t count) {
  for (int64_t i = 0; i < count; ++i)
    if (memcmp(&a[i], &b[i], sizeof(float)) != 0) return i;
  return -1;
}

/* IMPLICIT_GEMM where it runs: TF32 operands (DEFAULT math, C/G > 1) unless its shared-memory
 * stages exceed the device; elsewhere NOT_SUPPORTED. Checked against the reference and for
 * bitwise-identical repeated calls; its workspace is the minimum the query reports. */
static void check_implicit_gemm(convgemm_handle_t handle, convgemm_conv_desc_t desc,
                                cudaStream_t stream, const device_tensors_t* d, host_tensors_t* h,
                                const double* abs_sum, int64_t y_elems, int64_t n_terms, int tf32,
                                const char* ctx);

/* rel_l2_extra: what the comparison's relative L2 limit grows by (0 unless abs_sum was widened
 * for a split bias). */
static void check_against_reference(const float* y, const host_tensors_t* h,
                                    const double* abs_sum, double rel_l2_extra, int64_t y_elems,
                                    int64_t n_terms, const char* what, const char* ctx) {
  conv_compare_result_t result;
  conv_compare(y, h->ref, abs_sum, y_elems, n_terms, &result);
  result.rel_l2_limit += rel_l2_extra;
  char summary[512];
  conv_compare_describe(&result, summary, sizeof summary);
  ck_assert_msg(conv_compare_passed(&result), "%s: %s: %s", ctx, what, summary);
}

static void run_mode(convgemm_handle_t handle, cudaStream_t stream, const direct_case_t* c,
                     convgemm_math_mode_t mode, const device_tensors_t* d, host_tensors_t* h) {
  convgemm_conv2d_params_t p;
  char ctx[512];
  convgemm_conv_desc_t desc = direct_case_open(c, mode, &p, ctx, sizeof ctx);
  int64_t on, ok, op, oq;
  CK_CONVGEMM(convgemm_get_output_shape(desc, &on, &ok, &op, &oq));
  const int64_t y_elems = on * ok * op * oq;
  const int64_t n_terms = conv_compare_terms(p.c / p.groups, p.r, p.s);
  float* y = h->y_base + kGuardFloats;

  conv2d_reference(&p, h->x, h->w, h->bias, conv2d_reference_operands_for(&p), h->ref,
                   h->abs_sum);

  forward_and_fetch(handle, desc, CONVGEMM_ALGO_DIRECT, stream, d, h, NULL, 0, ctx);
  check_against_reference(y, h, h->abs_sum, 0.0, y_elems, n_terms, "DIRECT", ctx);
  memcpy(h->y_first, y, (size_t)y_elems * sizeof(float));

  forward_and_fetch(handle, desc, CONVGEMM_ALGO_DIRECT, stream, d, h, NULL, 0, ctx);
  int64_t diff = first_bit_difference(y, h->y_first, y_elems);
  ck_assert_msg(diff < 0, "%s: a second DIRECT call differs at [%lld]: %.9g then %.9g", ctx,
                (long long)diff, diff < 0 ? 0.0 : (double)h->y_first[diff],
                diff < 0 ? 0.0 : (double)y[diff]);

  /* AUTO follows its rule (conv/internal.h): IMPLICIT_GEMM's wgmma kernel where it runs at
   * stride 1 with TF32 operands, C/G and K/G >= 8 and Q >= 32 (64 for 1x1); else a GEMM once
   * K/G >= 32 (TF32 operands) or 64 (fp32) and (C/G)*R*S >= 64 (every case here is small enough
   * for IM2COL_GEMM's limits): IMPLICIT_GEMM where it runs with R*S > 1, stride 1 and Q >= 64,
   * else IM2COL_GEMM; else
   * DIRECT. The GEMMs need a workspace, so AUTO gets its preferred size, as a caller would
   * allocate it. */
  convgemm_algo_t resolved = CONVGEMM_ALGO_AUTO;
  CK_CONVGEMM(convgemm_get_algorithm(handle, desc, &resolved));
  const int tf32 = conv2d_reference_operands_for(&p) == CONV2D_REFERENCE_TF32;
  const int64_t min_kg = tf32 ? 32 : 64;
  const int gemm_rule = p.k / p.groups >= min_kg && (p.c / p.groups) * p.r * p.s >= 64;
  int igemm_runs = 0, igemm_wgmma = 0;
  if (convgemm_check_algorithm(handle, desc, CONVGEMM_ALGO_IMPLICIT_GEMM) ==
      CONVGEMM_STATUS_SUCCESS) {
    convgemm_igemm_plan_t plan;
    convgemm_igemm_make_plan(desc, &handle->info, &plan);
    igemm_runs = 1;
    igemm_wgmma = plan.variant == CONVGEMM_IGEMM_WGMMA;
  }
  const int unit_stride = p.stride_h == 1 && p.stride_w == 1;
  const int wgmma_rule = igemm_wgmma && unit_stride && tf32 && p.c / p.groups >= 8 &&
                         p.k / p.groups >= 8 && oq >= (p.r * p.s > 1 ? 32 : 64);
  const int igemm_rule =
      wgmma_rule || (gemm_rule && igemm_runs && p.r * p.s > 1 && unit_stride && oq >= 64);
  const convgemm_algo_t want = igemm_rule  ? CONVGEMM_ALGO_IMPLICIT_GEMM
                               : gemm_rule ? CONVGEMM_ALGO_IM2COL_GEMM
                                           : CONVGEMM_ALGO_DIRECT;
  ck_assert_msg(resolved == want, "%s: AUTO resolves to algorithm %d, want %d", ctx,
                (int)resolved, (int)want);
  size_t ws_min = 1, ws_pref = 0;
  CK_CONVGEMM(convgemm_get_workspace_size(handle, desc, CONVGEMM_ALGO_AUTO, &ws_min, &ws_pref));
  ck_assert_msg(ws_min <= ws_pref, "%s: AUTO's workspace: min %zu > preferred %zu", ctx, ws_min,
                ws_pref);
  if (resolved == CONVGEMM_ALGO_DIRECT)
    ck_assert_msg(ws_pref == 0, "%s: DIRECT through AUTO asks for %zu bytes", ctx, ws_pref);
  void* workspace = NULL;
  if (ws_pref > 0) CK_CUDA(cudaMalloc(&workspace, ws_pref));
  forward_and_fetch(handle, desc, CONVGEMM_ALGO_AUTO, stream, d, h, workspace, ws_pref, ctx);
  const double* auto_abs_sum = h->abs_sum;
  double auto_l2_extra = 0.0;
  if (resolved == CONVGEMM_ALGO_IM2COL_GEMM && tf32 && p.has_bias) {
    memcpy(h->abs_sum_split, h->abs_sum, (size_t)y_elems * sizeof(double));
    auto_l2_extra = conv_compare_widen_for_split_bias(h->bias, on, ok, op * oq, n_terms, h->ref,
                                                      h->abs_sum_split);
    auto_abs_sum = h->abs_sum_split;
  }
  check_against_reference(y, h, auto_abs_sum, auto_l2_extra, y_elems, n_terms, "AUTO", ctx);
  CK_CUDA(cudaFree(workspace));

  check_implicit_gemm(handle, desc, stream, d, h, h->abs_sum, y_elems, n_terms, tf32, ctx);

  generic_and_fetch(handle, desc, stream, d, h, ctx);
  diff = first_bit_difference(y, h->y_first, y_elems);
  ck_assert_msg(diff < 0, "%s: GENERIC kernel differs from the planned kernel at [%lld]: %.9g vs %.9g",
                ctx, (long long)diff, diff < 0 ? 0.0 : (double)y[diff],
                diff < 0 ? 0.0 : (double)h->y_first[diff]);

  if (mode == CONVGEMM_MATH_DEFAULT) {
    memcpy(h->y_default, h->y_first, (size_t)y_elems * sizeof(float));
  } else if (p.c == p.groups) {
    /* C/G == 1: DEFAULT math is fp32 too, so both modes must give the same bits. */
    diff = first_bit_difference(h->y_default, h->y_first, y_elems);
    ck_assert_msg(diff < 0, "%s: C/G == 1, yet DEFAULT and IEEE differ at [%lld]", ctx,
                  (long long)diff);
  } else if (y_elems >= 64) {
    /* Random 24-bit inputs are almost never TF32 values, so rounding them must change results. */
    ck_assert_msg(first_bit_difference(h->y_default, h->y_first, y_elems) >= 0,
                  "%s: DEFAULT (TF32) and IEEE results are bitwise identical", ctx);
  }
  convgemm_conv_desc_destroy(desc);
}

/* Copies a device tensor back and checks it still holds `want` bit for bit. */
static void check_unchanged(const float* device, const float* want, int64_t count,
                            cudaStream_t stream, const char* name, const char* ctx) {
  if (count == 0) return;
  float* got = host_alloc((size_t)count * sizeof(float), ctx);
  CK_CUDA(cudaMemcpyAsync(got, device, (size_t)count * sizeof(float), cudaMemcpyDeviceToHost,
                          stream));
  CK_CUDA(cudaStreamSynchronize(stream));
  const int64_t diff = first_bit_difference(got, want, count);
  free(got);
  ck_assert_msg(diff < 0, "%s: input %s was modified at [%lld]", ctx, name, (long long)diff);
}

void direct_case_run(convgemm_handle_t handle, cudaStream_t stream, const direct_case_t* c) {
  const convgemm_conv2d_params_t* p = &c->params;
  char config[256], ctx[512];
  direct_case_describe(p, config, sizeof config);
  snprintf(ctx, sizeof ctx, "case '%s' seed %llu [%s]", c->name, (unsigned long long)c->seed,
           config);
  const int64_t x_elems = p->n * p->c * p->h * p->w;
  const int64_t w_elems = p->k * (p->c / p->groups) * p->r * p->s;
  const int64_t b_elems = p->has_bias ? p->k : 0;
  const int64_t y_elems = conv2d_reference_y_elems(p);

  /* Fresh inputs per case; the shape of a random case came from the same seed, so the inputs
   * take a different stream. */
  host_tensors_t h;
  h.x = host_alloc((size_t)x_elems * sizeof(float), ctx);
  h.w = host_alloc((size_t)w_elems * sizeof(float), ctx);
  h.bias = p->has_bias ? host_alloc((size_t)b_elems * sizeof(float), ctx) : NULL;
  h.y_base = host_alloc((size_t)(y_elems + 2 * kGuardFloats) * sizeof(float), ctx);
  h.y_first = host_alloc((size_t)y_elems * sizeof(float), ctx);
  h.y_default = host_alloc((size_t)y_elems * sizeof(float), ctx);
  h.ref = host_alloc((size_t)y_elems * sizeof(double), ctx);
  h.abs_sum = host_alloc((size_t)y_elems * sizeof(double), ctx);
  h.abs_sum_split = host_alloc((size_t)y_elems * sizeof(double), ctx);
  test_rng_t rng;
  test_rng_seed(&rng, c->seed ^ 0x5EED5EED5EED5EEDull);
  test_fill_conv_inputs(&rng, p, h.x, h.w, h.bias);

  device_tensors_t d = {0};
  d.y_base_bytes = (size_t)(y_elems + 2 * kGuardFloats) * sizeof(float);
  CK_CUDA(cudaMalloc((void**)&d.x, (size_t)x_elems * sizeof(float)));
  CK_CUDA(cudaMalloc((void**)&d.w, (size_t)w_elems * sizeof(float)));
  if (p->has_bias) CK_CUDA(cudaMalloc((void**)&d.bias, (size_t)b_elems * sizeof(float)));
  CK_CUDA(cudaMalloc((void**)&d.y_base, d.y_base_bytes));
  d.y = d.y_base + kGuardFloats;
  CK_CUDA(cudaMemcpyAsync(d.x, h.x, (size_t)x_elems * sizeof(float), cudaMemcpyHostToDevice,
                          stream));
  CK_CUDA(cudaMemcpyAsync(d.w, h.w, (size_t)w_elems * sizeof(float), cudaMemcpyHostToDevice,
                          stream));
  if (p->has_bias)
    CK_CUDA(cudaMemcpyAsync(d.bias, h.bias, (size_t)b_elems * sizeof(float),
                            cudaMemcpyHostToDevice, stream));

  run_mode(handle, stream, c, CONVGEMM_MATH_DEFAULT, &d, &h);
  run_mode(handle, stream, c, CONVGEMM_MATH_IEEE, &d, &h);

  check_unchanged(d.x, h.x, x_elems, stream, "x", ctx);
  check_unchanged(d.w, h.w, w_elems, stream, "w", ctx);
  check_unchanged(d.bias, h.bias, b_elems, stream, "bias", ctx);

  /* Reached only when every check passed: an assertion leaves the buffers to the process's end,
   * which the small cases can afford. */
  CK_CUDA(cudaFree(d.x));
  CK_CUDA(cudaFree(d.w));
  CK_CUDA(cudaFree(d.bias));
  CK_CUDA(cudaFree(d.y_base));
  free(h.x);
  free(h.w);
  free(h.bias);
  free(h.y_base);
  free(h.y_first);
  free(h.y_default);
  free(h.ref);
  free(h.abs_sum);
  free(h.abs_sum_split);
}

static void check_implicit_gemm(convgemm_handle_t handle, convgemm_conv_desc_t desc,
                                cudaStream_t stream, const device_tensors_t* d, host_tensors_t* h,
                                const double* abs_sum, int64_t y_elems, int64_t n_terms, int tf32,
                                const char* ctx) {
  const convgemm_status_t s = convgemm_check_algorithm(handle, desc, CONVGEMM_ALGO_IMPLICIT_GEMM);
  if (!tf32) {
    ck_assert_msg(s == CONVGEMM_STATUS_NOT_SUPPORTED && strstr(convgemm_get_last_error(), "TF32"),
                  "%s: IMPLICIT_GEMM without TF32 operands gave %s: %s", ctx,
                  convgemm_status_string(s), convgemm_get_last_error());
    return;
  }
  if (s == CONVGEMM_STATUS_NOT_SUPPORTED) {
    ck_assert_msg(strstr(convgemm_get_last_error(), "shared-memory") != NULL,
                  "%s: IMPLICIT_GEMM refused for another reason than shared memory: %s", ctx,
                  convgemm_get_last_error());
    return;
  }
  ck_assert_msg(s == CONVGEMM_STATUS_SUCCESS, "%s: IMPLICIT_GEMM check gave %s: %s", ctx,
                convgemm_status_string(s), convgemm_get_last_error());
  size_t ws_min = 0, ws_pref = 0;
  CK_CONVGEMM(convgemm_get_workspace_size(handle, desc, CONVGEMM_ALGO_IMPLICIT_GEMM, &ws_min,
                                          &ws_pref));
  ck_assert_msg(ws_min > 0 && ws_min <= ws_pref, "%s: IMPLICIT_GEMM workspace min %zu pref %zu",
                ctx, ws_min, ws_pref);
  void* workspace = NULL;
  CK_CUDA(cudaMalloc(&workspace, ws_min));
  float* y = h->y_base + kGuardFloats;
  forward_and_fetch(handle, desc, CONVGEMM_ALGO_IMPLICIT_GEMM, stream, d, h, workspace, ws_min,
                    ctx);
  check_against_reference(y, h, abs_sum, 0.0, y_elems, n_terms, "IMPLICIT_GEMM", ctx);
  float* first = host_alloc((size_t)y_elems * sizeof(float), ctx);
  memcpy(first, y, (size_t)y_elems * sizeof(float));
  forward_and_fetch(handle, desc, CONVGEMM_ALGO_IMPLICIT_GEMM, stream, d, h, workspace, ws_min,
                    ctx);
  const int64_t diff = first_bit_difference(first, y, y_elems);
  ck_assert_msg(diff < 0, "%s: a second IMPLICIT_GEMM call differs at [%lld]", ctx,
                (long long)diff);
  free(first);
  CK_CUDA(cudaFree(workspace));
}
