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
#include "tests/elem_type_host.h"
#include "tests/test_assert.h"
#include "tests/test_random.h"

/* Bytes of poison on each side of y (4096 floats, 8192 16-bit values): a tile written one row or
 * one image off lands here. */
enum { kGuardBytes = 16384 };
/* 0xFF bytes make 0xFFFFFFFF and 0xFFFF, NaN in float32, float16 and bfloat16 alike: an output
 * the kernel skips fails the comparison. */
enum { kPoisonByte = 0xFF };

typedef struct device_tensors {
  void *x, *w, *bias;     /* elements of the case's data type; bias NULL when it has none */
  unsigned char* y_base;  /* guard, y, guard */
  void* y;
  size_t y_base_bytes;
} device_tensors_t;

typedef struct host_tensors {
  convgemm_data_type_t type;
  size_t elem;           /* bytes per element */
  float *x, *w, *bias;   /* the inputs, already values of the type */
  unsigned char* y_base; /* the guarded y buffer as copied back (raw elements) */
  float* y;              /* y decoded to float (exact) */
  unsigned char* y_first;   /* DIRECT's first result (raw), for the bitwise comparisons */
  unsigned char* y_default; /* DEFAULT's result (raw), to compare with IEEE's */
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
  const int64_t y_elems = (int64_t)((d->y_base_bytes - 2 * kGuardBytes) / h->elem);
  test_decode(h->y_base + kGuardBytes, y_elems, h->type, h->y);
  /* Scanned first, asserted once: every Check assertion logs its location through a file, so
   * one per byte would cost seconds. */
  const unsigned char* bytes = (const unsigned char*)h->y_base;
  const size_t guard_bytes = kGuardBytes;
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
  test_decode(h->y_base + kGuardBytes, (int64_t)((d->y_base_bytes - 2 * kGuardBytes) / h->elem),
              h->type, h->y);
}

/* Index of the first element (of `elem` bytes) whose bits differ, or -1. */
static int64_t first_bit_difference(const void* a, const void* b, int64_t count, size_t elem) {
  const unsigned char* x = a;
  const unsigned char* y = b;
  for (int64_t i = 0; i < count; ++i)
    if (memcmp(x + (size_t)i * elem, y + (size_t)i * elem, elem) != 0) return i;
  return -1;
}

/* The raw y of the last fetch. */
static const unsigned char* raw_y(const host_tensors_t* h) { return h->y_base + kGuardBytes; }

/* IMPLICIT_GEMM where it runs: TF32 operands (DEFAULT math, C/G > 1) and 16-bit data unless its
 * shared-memory stages exceed the device, fp32 operands (3xTF32) in the sm_90 TMA kernel;
 * elsewhere NOT_SUPPORTED (16-bit data: also checked on forward, which must launch nothing).
 * Checked against the reference (16-bit: the type's bound) and for bitwise-identical repeated
 * calls; its workspace is the minimum the query reports. */
static void check_implicit_gemm(convgemm_handle_t handle, convgemm_conv_desc_t desc,
                                cudaStream_t stream, const device_tensors_t* d, host_tensors_t* h,
                                const double* abs_sum, int64_t y_elems, int64_t n_terms, int tf32,
                                const char* ctx);

/* 16-bit data whose stages exceed shared memory: IMPLICIT_GEMM is NOT_SUPPORTED by the query,
 * the workspace query and forward, which launches nothing. */
static void check_implicit_gemm_refuses_16bit(convgemm_handle_t handle,
                                              convgemm_conv_desc_t desc, cudaStream_t stream,
                                              const device_tensors_t* d, host_tensors_t* h,
                                              int64_t y_elems, const char* ctx);

/* rel_l2_extra: what the comparison's relative L2 limit grows by (0 unless abs_sum was widened
 * for a split bias). The bound is the output type's (conv_compare.h). */
static void check_against_reference(const float* y, const host_tensors_t* h,
                                    const double* abs_sum, double rel_l2_extra, int64_t y_elems,
                                    int64_t n_terms, const char* what, const char* ctx) {
  conv_compare_result_t result;
  conv_compare_typed(y, h->ref, abs_sum, y_elems, n_terms, h->type, &result);
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
  const float* y = h->y;
  const int is16 = p.data_type != CONVGEMM_DATA_FLOAT32;
  const size_t y_bytes = (size_t)y_elems * h->elem;

  /* 16-bit data: both modes have the same (exact) operands, so IEEE reuses DEFAULT's reference. */
  if (!(is16 && mode == CONVGEMM_MATH_IEEE))
    conv2d_reference(&p, h->x, h->w, h->bias, conv2d_reference_operands_for(&p), h->ref,
                     h->abs_sum);

  forward_and_fetch(handle, desc, CONVGEMM_ALGO_DIRECT, stream, d, h, NULL, 0, ctx);
  check_against_reference(y, h, h->abs_sum, 0.0, y_elems, n_terms, "DIRECT", ctx);
  memcpy(h->y_first, raw_y(h), y_bytes);
  float first_value = 0.0f;

  forward_and_fetch(handle, desc, CONVGEMM_ALGO_DIRECT, stream, d, h, NULL, 0, ctx);
  int64_t diff = first_bit_difference(raw_y(h), h->y_first, y_elems, h->elem);
  if (diff >= 0) test_decode(h->y_first + (size_t)diff * h->elem, 1, h->type, &first_value);
  ck_assert_msg(diff < 0, "%s: a second DIRECT call differs at [%lld]: %.9g then %.9g", ctx,
                (long long)diff, (double)first_value, diff < 0 ? 0.0 : (double)y[diff]);

  /* AUTO follows its rule (conv/internal.h): IMPLICIT_GEMM's wgmma kernel where it runs at
   * stride 1 with TF32 operands or 16-bit data (fp32 operands, its 3xTF32: C/G >= 16 and
   * K/G >= 32), C/G and K/G >= 8 and Q >= 32 (64 for 1x1);
   * else a GEMM once K/G >= 32 (TF32 operands), 64 (fp32) or 8 (16-bit) and (C/G)*R*S >= 64
   * (every case here is small enough for IM2COL_GEMM's limits): IMPLICIT_GEMM where it runs
   * with TF32 operands, R*S > 1, stride 1 and Q >= 64 (never its 3xTF32 kernel), else
   * IM2COL_GEMM; else DIRECT. The GEMMs need a workspace, so AUTO gets its preferred size, as
   * a caller would allocate it. */
  convgemm_algo_t resolved = CONVGEMM_ALGO_AUTO;
  CK_CONVGEMM(convgemm_get_algorithm(handle, desc, &resolved));
  const int tf32 = conv2d_reference_operands_for(&p) == CONV2D_REFERENCE_TF32;
  const int64_t min_kg = is16 ? 8 : tf32 ? 32 : 64;
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
  const int split_rule = !tf32 && !is16 && p.c / p.groups >= 16 && p.k / p.groups >= 32;
  const int wgmma_rule = igemm_wgmma && unit_stride && (tf32 || is16 || split_rule) &&
                         p.c / p.groups >= 8 && p.k / p.groups >= 8 &&
                         oq >= (p.r * p.s > 1 ? 32 : 64);
  const int igemm_rule =
      wgmma_rule || (gemm_rule && igemm_runs && tf32 && p.r * p.s > 1 && unit_stride && oq >= 64);
  /* DIRECT's ROW_STRIP register-window path (the stem's width geometry) comes right after the
   * wgmma kernel, before the GEMM rule (float32 only). */
  convgemm_direct_plan_t direct_plan;
  convgemm_direct_make_plan(desc, handle->info.max_smem_per_block, &direct_plan);
  const int strip_rule =
      !is16 && direct_plan.tile == CONVGEMM_DIRECT_ROW_STRIP && direct_plan.strip_window;
  const convgemm_algo_t want = wgmma_rule   ? CONVGEMM_ALGO_IMPLICIT_GEMM
                               : strip_rule ? CONVGEMM_ALGO_DIRECT
                               : igemm_rule ? CONVGEMM_ALGO_IMPLICIT_GEMM
                               : gemm_rule  ? CONVGEMM_ALGO_IM2COL_GEMM
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
  diff = first_bit_difference(raw_y(h), h->y_first, y_elems, h->elem);
  if (diff >= 0) test_decode(h->y_first + (size_t)diff * h->elem, 1, h->type, &first_value);
  ck_assert_msg(diff < 0,
                "%s: GENERIC kernel differs from the planned kernel at [%lld]: %.9g vs %.9g", ctx,
                (long long)diff, diff < 0 ? 0.0 : (double)y[diff], (double)first_value);

  if (mode == CONVGEMM_MATH_DEFAULT) {
    memcpy(h->y_default, h->y_first, y_bytes);
  } else if (p.c == p.groups || is16) {
    /* C/G == 1: DEFAULT math is fp32 too; 16-bit data: both modes are the same math (exact
     * products, fp32 sums; convgemm.h). Either way both modes must give the same bits. */
    diff = first_bit_difference(h->y_default, h->y_first, y_elems, h->elem);
    ck_assert_msg(diff < 0, "%s: %s, yet DEFAULT and IEEE differ at [%lld]", ctx,
                  is16 ? "16-bit data" : "C/G == 1", (long long)diff);
  } else if (y_elems >= 64) {
    /* Random 24-bit inputs are almost never TF32 values, so rounding them must change results. */
    ck_assert_msg(first_bit_difference(h->y_default, h->y_first, y_elems, h->elem) >= 0,
                  "%s: DEFAULT (TF32) and IEEE results are bitwise identical", ctx);
  }
  convgemm_conv_desc_destroy(desc);
}

/* Copies a device tensor of `count` elements of h's type back and checks it still holds `want`
 * (encoded) bit for bit. */
static void check_unchanged(const void* device, const float* want, int64_t count,
                            const host_tensors_t* h, cudaStream_t stream, const char* name,
                            const char* ctx) {
  if (count == 0) return;
  unsigned char* got = host_alloc((size_t)count * h->elem, ctx);
  unsigned char* expected = host_alloc((size_t)count * h->elem, ctx);
  test_encode(want, count, h->type, expected);
  CK_CUDA(cudaMemcpyAsync(got, device, (size_t)count * h->elem, cudaMemcpyDeviceToHost, stream));
  CK_CUDA(cudaStreamSynchronize(stream));
  const int64_t diff = first_bit_difference(got, expected, count, h->elem);
  free(got);
  free(expected);
  ck_assert_msg(diff < 0, "%s: input %s was modified at [%lld]", ctx, name, (long long)diff);
}

/* Copies count floats (values of h's type) to the device, encoded in the type. */
static void upload(void* device, const float* host, int64_t count, const host_tensors_t* h,
                   cudaStream_t stream, const char* ctx) {
  if (count == 0) return;
  unsigned char* encoded = host_alloc((size_t)count * h->elem, ctx);
  test_encode(host, count, h->type, encoded);
  CK_CUDA(cudaMemcpyAsync(device, encoded, (size_t)count * h->elem, cudaMemcpyHostToDevice,
                          stream));
  CK_CUDA(cudaStreamSynchronize(stream)); /* before `encoded` goes */
  free(encoded);
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
   * take a different stream. 16-bit cases draw the same floats and round them to the type: the
   * reference then sees exactly the values the GPU reads (elem_type_host.h). */
  host_tensors_t h;
  h.type = p->data_type;
  h.elem = test_elem_bytes(h.type);
  h.x = host_alloc((size_t)x_elems * sizeof(float), ctx);
  h.w = host_alloc((size_t)w_elems * sizeof(float), ctx);
  h.bias = p->has_bias ? host_alloc((size_t)b_elems * sizeof(float), ctx) : NULL;
  h.y_base = host_alloc((size_t)y_elems * h.elem + 2 * kGuardBytes, ctx);
  h.y = host_alloc((size_t)y_elems * sizeof(float), ctx);
  h.y_first = host_alloc((size_t)y_elems * h.elem, ctx);
  h.y_default = host_alloc((size_t)y_elems * h.elem, ctx);
  h.ref = host_alloc((size_t)y_elems * sizeof(double), ctx);
  h.abs_sum = host_alloc((size_t)y_elems * sizeof(double), ctx);
  h.abs_sum_split = host_alloc((size_t)y_elems * sizeof(double), ctx);
  test_rng_t rng;
  test_rng_seed(&rng, c->seed ^ 0x5EED5EED5EED5EEDull);
  test_fill_conv_inputs(&rng, p, h.x, h.w, h.bias);
  test_round_array_to_type(h.x, x_elems, h.type);
  test_round_array_to_type(h.w, w_elems, h.type);
  if (h.bias != NULL) test_round_array_to_type(h.bias, b_elems, h.type);

  device_tensors_t d = {0};
  d.y_base_bytes = (size_t)y_elems * h.elem + 2 * kGuardBytes;
  CK_CUDA(cudaMalloc(&d.x, (size_t)x_elems * h.elem));
  CK_CUDA(cudaMalloc(&d.w, (size_t)w_elems * h.elem));
  if (p->has_bias) CK_CUDA(cudaMalloc(&d.bias, (size_t)b_elems * h.elem));
  CK_CUDA(cudaMalloc((void**)&d.y_base, d.y_base_bytes));
  d.y = d.y_base + kGuardBytes;
  upload(d.x, h.x, x_elems, &h, stream, ctx);
  upload(d.w, h.w, w_elems, &h, stream, ctx);
  if (p->has_bias) upload(d.bias, h.bias, b_elems, &h, stream, ctx);

  run_mode(handle, stream, c, CONVGEMM_MATH_DEFAULT, &d, &h);
  run_mode(handle, stream, c, CONVGEMM_MATH_IEEE, &d, &h);

  check_unchanged(d.x, h.x, x_elems, &h, stream, "x", ctx);
  check_unchanged(d.w, h.w, w_elems, &h, stream, "w", ctx);
  check_unchanged(d.bias, h.bias, b_elems, &h, stream, "bias", ctx);

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
  free(h.y);
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
  /* 16-bit data runs wherever its stages fit shared memory (the wgmma or the mma.sync kernel). */
  if (h->type != CONVGEMM_DATA_FLOAT32 && s == CONVGEMM_STATUS_NOT_SUPPORTED) {
    ck_assert_msg(strstr(convgemm_get_last_error(), "shared-memory") != NULL,
                  "%s: IMPLICIT_GEMM on 16-bit data refused for another reason: %s", ctx,
                  convgemm_get_last_error());
    check_implicit_gemm_refuses_16bit(handle, desc, stream, d, h, y_elems, ctx);
    return;
  }
  /* fp32 operands (IEEE math, or C/G == 1) run only as 3xTF32 in the sm_90 TMA kernel. */
  if (!tf32 && h->type == CONVGEMM_DATA_FLOAT32 && s == CONVGEMM_STATUS_NOT_SUPPORTED) {
    ck_assert_msg(strstr(convgemm_get_last_error(), "TMA kernel") != NULL,
                  "%s: IMPLICIT_GEMM without TF32 operands refused for another reason: %s", ctx,
                  convgemm_get_last_error());
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
  forward_and_fetch(handle, desc, CONVGEMM_ALGO_IMPLICIT_GEMM, stream, d, h, workspace, ws_min,
                    ctx);
  check_against_reference(h->y, h, abs_sum, 0.0, y_elems, n_terms, "IMPLICIT_GEMM", ctx);
  unsigned char* first = host_alloc((size_t)y_elems * h->elem, ctx);
  memcpy(first, raw_y(h), (size_t)y_elems * h->elem);
  forward_and_fetch(handle, desc, CONVGEMM_ALGO_IMPLICIT_GEMM, stream, d, h, workspace, ws_min,
                    ctx);
  const int64_t diff = first_bit_difference(first, raw_y(h), y_elems, h->elem);
  ck_assert_msg(diff < 0, "%s: a second IMPLICIT_GEMM call differs at [%lld]", ctx,
                (long long)diff);
  free(first);
  CK_CUDA(cudaFree(workspace));
}

static void check_implicit_gemm_refuses_16bit(convgemm_handle_t handle,
                                              convgemm_conv_desc_t desc, cudaStream_t stream,
                                              const device_tensors_t* d, host_tensors_t* h,
                                              int64_t y_elems, const char* ctx) {
  const char* type = test_type_name(h->type);
  convgemm_status_t s = convgemm_check_algorithm(handle, desc, CONVGEMM_ALGO_IMPLICIT_GEMM);
  ck_assert_msg(s == CONVGEMM_STATUS_NOT_SUPPORTED &&
                    strstr(convgemm_get_last_error(), "IMPLICIT_GEMM") != NULL,
                "%s: IMPLICIT_GEMM on %s data: check_algorithm gave %s: %s", ctx, type,
                convgemm_status_string(s), convgemm_get_last_error());
  size_t ws_min = 7, ws_pref = 7;
  s = convgemm_get_workspace_size(handle, desc, CONVGEMM_ALGO_IMPLICIT_GEMM, &ws_min, &ws_pref);
  ck_assert_msg(s == CONVGEMM_STATUS_NOT_SUPPORTED && ws_min == 7 && ws_pref == 7,
                "%s: IMPLICIT_GEMM workspace query on %s data gave %s (%zu, %zu)", ctx, type,
                convgemm_status_string(s), ws_min, ws_pref);
  /* forward: refused before anything is launched, y still all poison. */
  void* workspace = NULL;
  CK_CUDA(cudaMalloc(&workspace, 1 << 20));
  CK_CUDA(cudaMemsetAsync(d->y_base, kPoisonByte, d->y_base_bytes, stream));
  s = convgemm_forward(handle, desc, CONVGEMM_ALGO_IMPLICIT_GEMM, d->x, d->w, d->bias, d->y,
                       workspace, 1 << 20, stream);
  ck_assert_msg(s == CONVGEMM_STATUS_NOT_SUPPORTED, "%s: IMPLICIT_GEMM forward on %s data gave %s",
                ctx, type, convgemm_status_string(s));
  CK_CUDA(cudaMemcpyAsync(h->y_base, d->y_base, d->y_base_bytes, cudaMemcpyDeviceToHost, stream));
  CK_CUDA(cudaStreamSynchronize(stream));
  size_t written = 0;
  while (written < d->y_base_bytes && h->y_base[written] == kPoisonByte) ++written;
  ck_assert_msg(written == d->y_base_bytes,
                "%s: a refused IMPLICIT_GEMM call wrote byte %zu of y (%lld elements)", ctx,
                written, (long long)y_elems);
  CK_CUDA(cudaFree(workspace));
}
