/*
 * convgemm_forward's contract with a real handle on a real device:
 *   - every bad argument is rejected with its own status (NULL_POINTER, BAD_POINTER, BAD_ENUM,
 *     NOT_SUPPORTED, WRONG_DEVICE, WORKSPACE_TOO_SMALL) and a message, before anything is
 *     launched: a NaN-poisoned y is still all NaN after each rejected call;
 *   - IMPLICIT_GEMM where it can't run (no workspace, IEEE math) is refused, never silently
 *     replaced by DIRECT;
 *   - IM2COL_GEMM runs: it asks for a workspace (0 < min <= preferred), refuses less than the
 *     minimum (also through AUTO when AUTO picks it), a workspace not 256-byte aligned and a host
 *     workspace, and writes every output with the minimum, the preferred and a larger workspace;
 *   - y may sit right after x in one allocation but not overlap it, w or bias;
 *   - the default streams work and give the same bits as a created stream (DIRECT and
 *     IM2COL_GEMM);
 *   - the caller's current device is unchanged; a stream or pointer of another device is
 *     WRONG_DEVICE (these need two GPUs and are skipped, with a note, on one);
 *   - the queries: get_algorithm gives DIRECT for K/G 16 and IM2COL_GEMM for K/G 32 with
 *     (C/G)*R*S 72; DIRECT (and AUTO on DIRECT) needs no workspace, AUTO on IM2COL_GEMM
 *     IM2COL_GEMM's;
 *   - float16 and bfloat16: the same AUTO choices; IMPLICIT_GEMM (its mma.sync kernel) gives the
 *     same bits from a 2-byte aligned x; pointers one byte off refused as "aligned to 2 bytes", two
 *     bytes off accepted (DIRECT gives the same bits as from aligned copies); the overlap test
 *     counts 2-byte elements (y right after a 16-bit x is fine, one element into it is not);
 *   - IMPLICIT_GEMM on sm_90 with x one element off a 16-byte boundary (the TMA kernel's tensor
 *     map needs it): TF32 the same bits, 16-bit data within one ulp, 3xTF32 NOT_SUPPORTED (and
 *     AUTO, which picks it for IEEE math on that shape, runs DIRECT instead); a 16-bit y 2
 *     bytes off 4 (single-value stores) the same bits.
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
#include "tests/elem_type_host.h"
#include "tests/test_assert.h"
#include "tests/test_random.h"

/* A small convolution with padding, so a launch would write every output. */
enum { kN = 2, kC = 8, kH = 12, kW = 12, kK = 16, kR = 3, kS = 3 };
enum { kXElems = kN * kC * kH * kW, kWElems = kK * kC * kR * kS, kYElems = kN * kK * kH * kW };
/* The descriptor AUTO runs with IM2COL_GEMM: one image, K 32 (the same y size), K/G 32 and
 * (C/G)*R*S 72, both past AUTO's thresholds. */
enum { kNGemm = 1, kKGemm = 32, kWGemmElems = kKGemm * kC * kR * kS };

static struct {
  convgemm_handle_t handle;
  cudaStream_t stream;
  convgemm_conv_desc_t desc;       /* no bias */
  convgemm_conv_desc_t desc_bias;  /* has_bias */
  convgemm_conv_desc_t desc_gemm;  /* kNGemm, kKGemm: AUTO picks IM2COL_GEMM */
  float *x, *w, *bias, *y;         /* device; w holds kWGemmElems */
  float y_good[kYElems];           /* DIRECT's result on g.stream, for the comparisons */
} g;

static void make_desc_nk(convgemm_conv_desc_t* desc, int64_t n, int64_t k, int has_bias) {
  convgemm_conv2d_params_t p;
  convgemm_conv2d_params_init(&p, n, kC, kH, kW, k, kR, kS);
  p.pad_h = p.pad_w = 1;
  p.has_bias = has_bias;
  CK_CONVGEMM(convgemm_conv_desc_create(desc, &p));
}

static void make_desc(convgemm_conv_desc_t* desc, int has_bias) {
  make_desc_nk(desc, kN, kK, has_bias);
}

static void poison_y(void) {
  CK_CUDA(cudaMemset(g.y, 0xFF, kYElems * sizeof(float)));
  CK_CUDA(cudaDeviceSynchronize());
}

/* Copies y back after every queue has drained. */
static void fetch_y(float* out) {
  CK_CUDA(cudaDeviceSynchronize());
  CK_CUDA(cudaMemcpy(out, g.y, kYElems * sizeof(float), cudaMemcpyDeviceToHost));
}

static void expect_y_untouched(const char* what) {
  static float y[kYElems];
  fetch_y(y);
  /* Scanned, then asserted once: each Check assertion logs through a file. */
  const unsigned char* bytes = (const unsigned char*)y;
  size_t written = 0;
  while (written < sizeof y && bytes[written] == 0xFF) ++written;
  ck_assert_msg(written == sizeof y, "%s: y was written (byte %zu) by a rejected call", what,
                written);
}

/* The status and a message containing `needle`. */
static void expect_status(convgemm_status_t got, convgemm_status_t want, const char* needle,
                          const char* what) {
  const char* msg = convgemm_get_last_error();
  ck_assert_msg(got == want, "%s: got %s, want %s (message: %s)", what,
                convgemm_status_string(got), convgemm_status_string(want), msg);
  ck_assert_msg(strstr(msg, needle) != NULL, "%s: message \"%s\" does not mention \"%s\"", what,
                msg, needle);
}

/* A rejected forward into the fixture's y: the status, the message, and nothing launched. */
static void expect_rejected(convgemm_status_t got, convgemm_status_t want, const char* needle,
                            const char* what) {
  expect_status(got, want, needle, what);
  expect_y_untouched(what);
}

static void setup(void) {
  CK_CONVGEMM(convgemm_create(&g.handle));
  CK_CUDA(cudaStreamCreateWithFlags(&g.stream, cudaStreamNonBlocking));
  make_desc(&g.desc, 0);
  make_desc(&g.desc_bias, 1);
  make_desc_nk(&g.desc_gemm, kNGemm, kKGemm, 0);
  float* x = malloc(kXElems * sizeof(float));
  float* w = malloc(kWGemmElems * sizeof(float));
  float bias[kK];
  ck_assert(x != NULL && w != NULL);
  convgemm_conv2d_params_t p;
  CK_CONVGEMM(convgemm_conv_desc_get_params(g.desc_bias, &p));
  test_rng_t rng;
  test_rng_seed(&rng, 99);
  test_fill_conv_inputs(&rng, &p, x, w, bias);
  /* desc_gemm's extra filters, drawn like the others: uniform(+-1/sqrt(C*R*S)), 1/sqrt(72). */
  for (int i = kWElems; i < kWGemmElems; ++i) w[i] = test_rng_symmetric(&rng, 0.11785113f);
  CK_CUDA(cudaMalloc((void**)&g.x, kXElems * sizeof(float)));
  CK_CUDA(cudaMalloc((void**)&g.w, kWGemmElems * sizeof(float)));
  CK_CUDA(cudaMalloc((void**)&g.bias, kK * sizeof(float)));
  CK_CUDA(cudaMalloc((void**)&g.y, kYElems * sizeof(float)));
  CK_CUDA(cudaMemcpy(g.x, x, kXElems * sizeof(float), cudaMemcpyHostToDevice));
  CK_CUDA(cudaMemcpy(g.w, w, kWGemmElems * sizeof(float), cudaMemcpyHostToDevice));
  CK_CUDA(cudaMemcpy(g.bias, bias, kK * sizeof(float), cudaMemcpyHostToDevice));
  free(x);
  free(w);
  poison_y();
  CK_CONVGEMM(convgemm_forward(g.handle, g.desc, CONVGEMM_ALGO_DIRECT, g.x, g.w, NULL, g.y, NULL,
                               0, g.stream));
  fetch_y(g.y_good);
  int nans = 0;
  for (int i = 0; i < kYElems; ++i) nans += g.y_good[i] != g.y_good[i];
  ck_assert_int_eq(nans, 0); /* every output written */
  poison_y();
}

static void teardown(void) {
  CK_CUDA(cudaDeviceSynchronize());
  CK_CUDA(cudaFree(g.x));
  CK_CUDA(cudaFree(g.w));
  CK_CUDA(cudaFree(g.bias));
  CK_CUDA(cudaFree(g.y));
  convgemm_conv_desc_destroy(g.desc);
  convgemm_conv_desc_destroy(g.desc_bias);
  convgemm_conv_desc_destroy(g.desc_gemm);
  CK_CUDA(cudaStreamDestroy(g.stream));
  CK_CONVGEMM(convgemm_destroy(g.handle));
}

/* forward with the fixture's handle and stream. */
static convgemm_status_t fwd(convgemm_conv_desc_t desc, convgemm_algo_t algo, const void* x,
                             const void* w, const void* bias, void* y) {
  return convgemm_forward(g.handle, desc, algo, x, w, bias, y, NULL, 0, g.stream);
}

/* ---- queries ---------------------------------------------------------------------------- */

START_TEST(test_queries) {
  int current = -1, bound = -2;
  CK_CUDA(cudaGetDevice(&current));
  CK_CONVGEMM(convgemm_get_device(g.handle, &bound));
  ck_assert_int_eq(bound, current);
  convgemm_algo_t algo = CONVGEMM_ALGO_AUTO;
  CK_CONVGEMM(convgemm_get_algorithm(g.handle, g.desc, &algo));
  ck_assert_int_eq(algo, CONVGEMM_ALGO_DIRECT);
  static const convgemm_algo_t kNoWorkspace[] = {CONVGEMM_ALGO_DIRECT, CONVGEMM_ALGO_AUTO};
  for (int i = 0; i < 2; ++i) {
    size_t min_bytes = 77, pref_bytes = 77;
    CK_CONVGEMM(convgemm_get_workspace_size(g.handle, g.desc, kNoWorkspace[i], &min_bytes,
                                            &pref_bytes));
    ck_assert_uint_eq(min_bytes, 0);
    ck_assert_uint_eq(pref_bytes, 0);
  }
  CK_CONVGEMM(convgemm_check_algorithm(g.handle, g.desc, CONVGEMM_ALGO_DIRECT));
  CK_CONVGEMM(convgemm_check_algorithm(g.handle, g.desc, CONVGEMM_ALGO_IM2COL_GEMM));
  CK_CONVGEMM(convgemm_check_algorithm(g.handle, g.desc, CONVGEMM_ALGO_IMPLICIT_GEMM));
  /* IM2COL_GEMM needs a workspace, on any descriptor. */
  size_t min_bytes = 0, pref_bytes = 0;
  CK_CONVGEMM(convgemm_get_workspace_size(g.handle, g.desc, CONVGEMM_ALGO_IM2COL_GEMM,
                                          &min_bytes, &pref_bytes));
  ck_assert_uint_gt(min_bytes, 0);
  ck_assert_uint_ge(pref_bytes, min_bytes);
  /* Past both of AUTO's thresholds AUTO picks IM2COL_GEMM and asks for its workspace. */
  CK_CONVGEMM(convgemm_get_algorithm(g.handle, g.desc_gemm, &algo));
  ck_assert_int_eq(algo, CONVGEMM_ALGO_IM2COL_GEMM);
  size_t gemm_min = 0, gemm_pref = 0, auto_min = 1, auto_pref = 1;
  CK_CONVGEMM(convgemm_get_workspace_size(g.handle, g.desc_gemm, CONVGEMM_ALGO_IM2COL_GEMM,
                                          &gemm_min, &gemm_pref));
  CK_CONVGEMM(convgemm_get_workspace_size(g.handle, g.desc_gemm, CONVGEMM_ALGO_AUTO, &auto_min,
                                          &auto_pref));
  ck_assert_uint_gt(gemm_min, 0);
  ck_assert_uint_eq(auto_min, gemm_min);
  ck_assert_uint_eq(auto_pref, gemm_pref);
}
END_TEST

/* ---- rejected calls --------------------------------------------------------------------- */

START_TEST(test_null_tensors) {
  const convgemm_algo_t a = CONVGEMM_ALGO_DIRECT;
  expect_rejected(fwd(g.desc, a, NULL, g.w, NULL, g.y), CONVGEMM_STATUS_NULL_POINTER,
                  "x is NULL", "x NULL");
  expect_rejected(fwd(g.desc, a, g.x, NULL, NULL, g.y), CONVGEMM_STATUS_NULL_POINTER,
                  "w is NULL", "w NULL");
  expect_rejected(fwd(g.desc, a, g.x, g.w, NULL, NULL), CONVGEMM_STATUS_NULL_POINTER,
                  "y is NULL", "y NULL");
  expect_rejected(convgemm_forward(NULL, g.desc, a, g.x, g.w, NULL, g.y, NULL, 0, g.stream),
                  CONVGEMM_STATUS_NULL_POINTER, "handle", "handle NULL");
  expect_rejected(fwd(NULL, a, g.x, g.w, NULL, g.y), CONVGEMM_STATUS_NULL_POINTER, "desc",
                  "desc NULL");
}
END_TEST

START_TEST(test_bias_must_match_the_descriptor) {
  expect_rejected(fwd(g.desc_bias, CONVGEMM_ALGO_DIRECT, g.x, g.w, NULL, g.y),
                  CONVGEMM_STATUS_NULL_POINTER, "bias", "has_bias without bias");
  expect_rejected(fwd(g.desc, CONVGEMM_ALGO_DIRECT, g.x, g.w, g.bias, g.y),
                  CONVGEMM_STATUS_BAD_POINTER, "bias", "bias without has_bias");
}
END_TEST

START_TEST(test_host_pointers) {
  float* host = calloc(kYElems + kXElems + kWElems, sizeof(float));
  ck_assert_ptr_nonnull(host);
  const convgemm_algo_t a = CONVGEMM_ALGO_DIRECT;
  expect_rejected(fwd(g.desc, a, host, g.w, NULL, g.y), CONVGEMM_STATUS_BAD_POINTER, "x",
                  "malloc x");
  expect_rejected(fwd(g.desc, a, g.x, host, NULL, g.y), CONVGEMM_STATUS_BAD_POINTER, "w",
                  "malloc w");
  expect_rejected(fwd(g.desc_bias, a, g.x, g.w, host, g.y), CONVGEMM_STATUS_BAD_POINTER, "bias",
                  "malloc bias");
  expect_rejected(fwd(g.desc, a, g.x, g.w, NULL, host), CONVGEMM_STATUS_BAD_POINTER, "y",
                  "malloc y");
  int written = 0;
  for (int i = 0; i < kYElems; ++i) written += host[i] != 0.0f;
  ck_assert_int_eq(written, 0); /* the host y was not written */
  free(host);
  /* Pinned host memory is host memory too: the kernels could read it, but slowly and only by
   * accident of mapping; the API asks for device memory. */
  float* pinned = NULL;
  CK_CUDA(cudaMallocHost((void**)&pinned, kXElems * sizeof(float)));
  expect_rejected(fwd(g.desc, a, pinned, g.w, NULL, g.y), CONVGEMM_STATUS_BAD_POINTER, "host",
                  "pinned x");
  CK_CUDA(cudaFreeHost(pinned));
  /* An address no allocation owns. */
  expect_rejected(fwd(g.desc, a, (const void*)(uintptr_t)0x1000, g.w, NULL, g.y),
                  CONVGEMM_STATUS_BAD_POINTER, "x", "wild x");
}
END_TEST

START_TEST(test_misaligned_pointers) {
  const convgemm_algo_t a = CONVGEMM_ALGO_DIRECT;
  const char* x1 = (const char*)g.x + 1;
  const char* w2 = (const char*)g.w + 2;
  const char* b3 = (const char*)g.bias + 3;
  char* y1 = (char*)g.y + 1;
  expect_rejected(fwd(g.desc, a, x1, g.w, NULL, g.y), CONVGEMM_STATUS_BAD_POINTER, "aligned",
                  "x + 1 byte");
  expect_rejected(fwd(g.desc, a, g.x, w2, NULL, g.y), CONVGEMM_STATUS_BAD_POINTER, "aligned",
                  "w + 2 bytes");
  expect_rejected(fwd(g.desc_bias, a, g.x, g.w, b3, g.y), CONVGEMM_STATUS_BAD_POINTER,
                  "aligned", "bias + 3 bytes");
  expect_rejected(fwd(g.desc, a, g.x, g.w, NULL, y1), CONVGEMM_STATUS_BAD_POINTER, "aligned",
                  "y + 1 byte");
}
END_TEST

/* A rejected call whose y lies in `buf`: the status, the message, and buf as it was. */
static void expect_rejected_in(convgemm_status_t got, convgemm_status_t want, const float* buf,
                               const float* snapshot, size_t floats, const char* what) {
  expect_status(got, want, "overlap", what);
  CK_CUDA(cudaDeviceSynchronize());
  float* now = malloc(floats * sizeof(float));
  ck_assert_ptr_nonnull(now);
  CK_CUDA(cudaMemcpy(now, buf, floats * sizeof(float), cudaMemcpyDeviceToHost));
  const int same = memcmp(now, snapshot, floats * sizeof(float)) == 0;
  free(now);
  ck_assert_msg(same, "%s: the buffer holding y was written by a rejected call", what);
}

START_TEST(test_overlapping_output) {
  /* One allocation holding x (and, in some calls, w or bias) and y, to place y against them. */
  enum { kFloats = kXElems + kYElems + kWElems };
  float* buf = NULL;
  CK_CUDA(cudaMalloc((void**)&buf, kFloats * sizeof(float)));
  CK_CUDA(cudaMemset(buf, 0xFF, kFloats * sizeof(float)));
  CK_CUDA(cudaMemcpy(buf, g.x, kXElems * sizeof(float), cudaMemcpyDeviceToDevice));
  float* snapshot = malloc(kFloats * sizeof(float));
  ck_assert_ptr_nonnull(snapshot);
  CK_CUDA(cudaMemcpy(snapshot, buf, kFloats * sizeof(float), cudaMemcpyDeviceToHost));
  const convgemm_algo_t a = CONVGEMM_ALGO_DIRECT;
  expect_rejected_in(fwd(g.desc, a, buf, g.w, NULL, buf), CONVGEMM_STATUS_BAD_POINTER, buf,
                     snapshot, kFloats, "y == x");
  expect_rejected_in(fwd(g.desc, a, buf, g.w, NULL, buf + kXElems - 1),
                     CONVGEMM_STATUS_BAD_POINTER, buf, snapshot, kFloats,
                     "y starts at x's last float");
  expect_rejected_in(fwd(g.desc, a, buf + kYElems - 1, g.w, NULL, buf),
                     CONVGEMM_STATUS_BAD_POINTER, buf, snapshot, kFloats,
                     "y ends at x's first float");
  expect_rejected_in(fwd(g.desc, a, g.x, buf + 5, NULL, buf), CONVGEMM_STATUS_BAD_POINTER, buf,
                     snapshot, kFloats, "y overlaps w");
  expect_rejected_in(fwd(g.desc_bias, a, g.x, g.w, buf + kYElems - 1, buf),
                     CONVGEMM_STATUS_BAD_POINTER, buf, snapshot, kFloats, "y overlaps bias");
  free(snapshot);
  /* Right after x is fine, and computes the same as separate buffers. */
  float* y_after = buf + kXElems;
  CK_CONVGEMM(fwd(g.desc, a, buf, g.w, NULL, y_after));
  CK_CUDA(cudaStreamSynchronize(g.stream));
  static float y[kYElems];
  CK_CUDA(cudaMemcpy(y, y_after, sizeof y, cudaMemcpyDeviceToHost));
  ck_assert_msg(memcmp(y, g.y_good, sizeof y) == 0, "y right after x gave other bits");
  CK_CUDA(cudaFree(buf));
}
END_TEST

START_TEST(test_unknown_algorithm) {
  expect_rejected(fwd(g.desc, (convgemm_algo_t)4, g.x, g.w, NULL, g.y), CONVGEMM_STATUS_BAD_ENUM,
                  "got 4", "algo 4");
  expect_rejected(fwd(g.desc, (convgemm_algo_t)-1, g.x, g.w, NULL, g.y), CONVGEMM_STATUS_BAD_ENUM,
                  "got -1", "algo -1");
}
END_TEST

START_TEST(test_unsupported_algorithm_is_refused_not_replaced) {
  /* IMPLICIT_GEMM without its workspace (the packed filter) is refused before any launch. */
  expect_rejected(fwd(g.desc, CONVGEMM_ALGO_IMPLICIT_GEMM, g.x, g.w, NULL, g.y),
                  CONVGEMM_STATUS_WORKSPACE_TOO_SMALL, "workspace", "IMPLICIT_GEMM, no workspace");
  /* In IEEE math it is not supported, with a workspace too: the refusal is about the
   * algorithm, not the arguments, and nothing else runs in its place. */
  convgemm_conv2d_params_t p;
  CK_CONVGEMM(convgemm_conv_desc_get_params(g.desc, &p));
  p.math_mode = CONVGEMM_MATH_IEEE;
  convgemm_conv_desc_t ieee = NULL;
  CK_CONVGEMM(convgemm_conv_desc_create(&ieee, &p));
  void* ws = NULL;
  CK_CUDA(cudaMalloc(&ws, 1 << 20));
  expect_rejected(convgemm_forward(g.handle, ieee, CONVGEMM_ALGO_IMPLICIT_GEMM, g.x, g.w, NULL,
                                   g.y, ws, 1 << 20, g.stream),
                  CONVGEMM_STATUS_NOT_SUPPORTED, "IMPLICIT_GEMM", "IMPLICIT_GEMM in IEEE math");
  CK_CUDA(cudaFree(ws));
  convgemm_conv_desc_destroy(ieee);
}
END_TEST

/* ---- IM2COL_GEMM's workspace ------------------------------------------------------------ */

/* IM2COL_GEMM's minimum and preferred workspace for `desc`. */
static void im2col_workspace(convgemm_conv_desc_t desc, size_t* min_bytes, size_t* pref_bytes) {
  CK_CONVGEMM(convgemm_get_workspace_size(g.handle, desc, CONVGEMM_ALGO_IM2COL_GEMM, min_bytes,
                                          pref_bytes));
}

/* A finished forward's y (kYElems floats): every output written, none NaN. */
static void expect_y_all_written(const char* what) {
  static float y[kYElems];
  fetch_y(y);
  int nans = 0;
  for (int i = 0; i < kYElems; ++i) nans += y[i] != y[i];
  ck_assert_msg(nans == 0, "%s: %d of %d outputs NaN (not written)", what, nans, kYElems);
}

START_TEST(test_im2col_gemm_workspace_too_small) {
  size_t min_bytes = 0, pref_bytes = 0;
  im2col_workspace(g.desc, &min_bytes, &pref_bytes);
  void* ws = NULL;
  CK_CUDA(cudaMalloc(&ws, pref_bytes));
  const convgemm_algo_t a = CONVGEMM_ALGO_IM2COL_GEMM;
  expect_rejected(fwd(g.desc, a, g.x, g.w, NULL, g.y), CONVGEMM_STATUS_WORKSPACE_TOO_SMALL,
                  "workspace_bytes must be at least", "no workspace");
  expect_rejected(convgemm_forward(g.handle, g.desc, a, g.x, g.w, NULL, g.y, ws, min_bytes - 1,
                                   g.stream),
                  CONVGEMM_STATUS_WORKSPACE_TOO_SMALL, "workspace_bytes must be at least",
                  "one byte below the minimum");
  expect_rejected(convgemm_forward(g.handle, g.desc, a, g.x, g.w, NULL, g.y, ws, 16, g.stream),
                  CONVGEMM_STATUS_WORKSPACE_TOO_SMALL, "workspace_bytes must be at least",
                  "16 bytes");
  /* AUTO on a descriptor it runs with IM2COL_GEMM needs that workspace too: no silent DIRECT. */
  expect_rejected(fwd(g.desc_gemm, CONVGEMM_ALGO_AUTO, g.x, g.w, NULL, g.y),
                  CONVGEMM_STATUS_WORKSPACE_TOO_SMALL, "workspace_bytes must be at least",
                  "AUTO (IM2COL_GEMM) without workspace");
  /* Exactly the minimum runs and writes every output. */
  CK_CUDA(cudaMemset(ws, 0xFF, pref_bytes));
  CK_CONVGEMM(convgemm_forward(g.handle, g.desc, a, g.x, g.w, NULL, g.y, ws, min_bytes,
                               g.stream));
  expect_y_all_written("IM2COL_GEMM with the minimum workspace");
  CK_CUDA(cudaFree(ws));
}
END_TEST

START_TEST(test_im2col_gemm_workspace_pointer) {
  size_t min_bytes = 0, pref_bytes = 0;
  im2col_workspace(g.desc, &min_bytes, &pref_bytes);
  char* ws = NULL;
  CK_CUDA(cudaMalloc((void**)&ws, pref_bytes + 256));
  const convgemm_algo_t a = CONVGEMM_ALGO_IM2COL_GEMM;
  /* Not 256-byte aligned (CONVGEMM_WORKSPACE_ALIGNMENT; cudaMalloc gives 256): 1 to 128 bytes
   * past an allocation. */
  static const int kOffsets[] = {4, 8, 12, 1, 16, 128};
  for (int i = 0; i < 6; ++i) {
    char what[64];
    snprintf(what, sizeof what, "workspace + %d bytes", kOffsets[i]);
    expect_rejected(convgemm_forward(g.handle, g.desc, a, g.x, g.w, NULL, g.y, ws + kOffsets[i],
                                     pref_bytes, g.stream),
                    CONVGEMM_STATUS_BAD_POINTER, "aligned to 256 bytes", what);
  }
  /* NULL with a size, and host memory. */
  expect_rejected(convgemm_forward(g.handle, g.desc, a, g.x, g.w, NULL, g.y, NULL, pref_bytes,
                                   g.stream),
                  CONVGEMM_STATUS_NULL_POINTER, "workspace", "NULL workspace");
  void* host_ws = malloc(pref_bytes);
  ck_assert_ptr_nonnull(host_ws);
  expect_rejected(convgemm_forward(g.handle, g.desc, a, g.x, g.w, NULL, g.y, host_ws, pref_bytes,
                                   g.stream),
                  CONVGEMM_STATUS_BAD_POINTER, "workspace", "host workspace");
  free(host_ws);
  /* 256-byte aligned, not at the start of its allocation, is accepted and runs. */
  CK_CONVGEMM(convgemm_forward(g.handle, g.desc, a, g.x, g.w, NULL, g.y, ws + 256, pref_bytes,
                               g.stream));
  expect_y_all_written("IM2COL_GEMM with a workspace 256 bytes into its allocation");
  CK_CUDA(cudaFree(ws));
}
END_TEST

START_TEST(test_im2col_gemm_runs_with_any_workspace_from_the_minimum) {
  size_t min_bytes = 0, pref_bytes = 0;
  im2col_workspace(g.desc, &min_bytes, &pref_bytes);
  const size_t sizes[4] = {min_bytes, (min_bytes + pref_bytes) / 2 + 1, pref_bytes,
                           3 * pref_bytes + 100};
  void* ws = NULL;
  CK_CUDA(cudaMalloc(&ws, sizes[3]));
  for (int i = 0; i < 4; ++i) {
    char what[96];
    snprintf(what, sizeof what, "IM2COL_GEMM with %zu workspace bytes (min %zu, preferred %zu)",
             sizes[i], min_bytes, pref_bytes);
    poison_y();
    CK_CUDA(cudaMemset(ws, 0xFF, sizes[3]));
    CK_CONVGEMM(convgemm_forward(g.handle, g.desc, CONVGEMM_ALGO_IM2COL_GEMM, g.x, g.w, NULL, g.y,
                                 ws, sizes[i], g.stream));
    expect_y_all_written(what);
  }
  /* AUTO with the preferred workspace on the descriptor it runs with IM2COL_GEMM. */
  size_t auto_min = 0, auto_pref = 0;
  CK_CONVGEMM(convgemm_get_workspace_size(g.handle, g.desc_gemm, CONVGEMM_ALGO_AUTO, &auto_min,
                                          &auto_pref));
  ck_assert_uint_le(auto_pref, sizes[3]);
  poison_y();
  CK_CONVGEMM(convgemm_forward(g.handle, g.desc_gemm, CONVGEMM_ALGO_AUTO, g.x, g.w, NULL, g.y, ws,
                               auto_pref, g.stream));
  expect_y_all_written("AUTO (IM2COL_GEMM) with its preferred workspace");
  CK_CUDA(cudaFree(ws));
}
END_TEST

START_TEST(test_workspace_arguments) {
  expect_rejected(convgemm_forward(g.handle, g.desc, CONVGEMM_ALGO_DIRECT, g.x, g.w, NULL, g.y,
                                   NULL, 256, g.stream),
                  CONVGEMM_STATUS_NULL_POINTER, "workspace", "NULL workspace of 256 bytes");
  float host_ws[64];
  expect_rejected(convgemm_forward(g.handle, g.desc, CONVGEMM_ALGO_DIRECT, g.x, g.w, NULL, g.y,
                                   host_ws, sizeof host_ws, g.stream),
                  CONVGEMM_STATUS_BAD_POINTER, "workspace", "host workspace");
  /* More workspace than needed is accepted. */
  void* ws = NULL;
  CK_CUDA(cudaMalloc(&ws, 4096));
  CK_CONVGEMM(convgemm_forward(g.handle, g.desc, CONVGEMM_ALGO_DIRECT, g.x, g.w, NULL, g.y, ws,
                               4096, g.stream));
  static float y[kYElems];
  fetch_y(y);
  ck_assert_msg(memcmp(y, g.y_good, sizeof y) == 0, "the result differs from the first run's");
  CK_CUDA(cudaFree(ws));
}
END_TEST

/* ---- streams and devices ---------------------------------------------------------------- */

START_TEST(test_default_streams) {
  const cudaStream_t streams[3] = {NULL, cudaStreamLegacy, cudaStreamPerThread};
  for (int i = 0; i < 3; ++i) {
    poison_y();
    CK_CONVGEMM(convgemm_forward(g.handle, g.desc, CONVGEMM_ALGO_DIRECT, g.x, g.w, NULL, g.y,
                                 NULL, 0, streams[i]));
    static float y[kYElems];
    fetch_y(y);
    ck_assert_msg(memcmp(y, g.y_good, sizeof y) == 0, "default stream %d gave other bits", i);
  }
  /* IM2COL_GEMM too (its cached graph launched on the default streams), against its own result
   * on the created stream with the same workspace. */
  size_t min_bytes = 0, pref_bytes = 0;
  im2col_workspace(g.desc, &min_bytes, &pref_bytes);
  void* ws = NULL;
  CK_CUDA(cudaMalloc(&ws, pref_bytes));
  static float y_im2col[kYElems], y[kYElems];
  poison_y();
  CK_CONVGEMM(convgemm_forward(g.handle, g.desc, CONVGEMM_ALGO_IM2COL_GEMM, g.x, g.w, NULL, g.y,
                               ws, pref_bytes, g.stream));
  fetch_y(y_im2col);
  for (int i = 0; i < 3; ++i) {
    poison_y();
    CK_CONVGEMM(convgemm_forward(g.handle, g.desc, CONVGEMM_ALGO_IM2COL_GEMM, g.x, g.w, NULL, g.y,
                                 ws, pref_bytes, streams[i]));
    fetch_y(y);
    ck_assert_msg(memcmp(y, y_im2col, sizeof y) == 0,
                  "IM2COL_GEMM on default stream %d gave other bits", i);
  }
  CK_CUDA(cudaFree(ws));
}
END_TEST

START_TEST(test_current_device_is_left_alone) {
  int before = -1, after = -2;
  CK_CUDA(cudaGetDevice(&before));
  CK_CONVGEMM(fwd(g.desc, CONVGEMM_ALGO_DIRECT, g.x, g.w, NULL, g.y));
  CK_CUDA(cudaGetDevice(&after));
  ck_assert_int_eq(after, before);
  /* A rejected call too. */
  CK_CONVGEMM_STATUS(fwd(g.desc, CONVGEMM_ALGO_DIRECT, NULL, g.w, NULL, g.y),
                     CONVGEMM_STATUS_NULL_POINTER);
  CK_CUDA(cudaGetDevice(&after));
  ck_assert_int_eq(after, before);
  /* And IM2COL_GEMM's call. */
  size_t min_bytes = 0, pref_bytes = 0;
  im2col_workspace(g.desc, &min_bytes, &pref_bytes);
  void* ws = NULL;
  CK_CUDA(cudaMalloc(&ws, min_bytes));
  CK_CONVGEMM(convgemm_forward(g.handle, g.desc, CONVGEMM_ALGO_IM2COL_GEMM, g.x, g.w, NULL, g.y,
                               ws, min_bytes, g.stream));
  CK_CUDA(cudaGetDevice(&after));
  ck_assert_int_eq(after, before);
  CK_CUDA(cudaStreamSynchronize(g.stream));
  CK_CUDA(cudaFree(ws));

  int count = 0;
  CK_CUDA(cudaGetDeviceCount(&count));
  if (count < 2) {
    printf("gpu_api_test: note: one GPU; forward from another current device not tested\n");
    return;
  }
  /* The handle is bound to `before`; call from another current device. The library switches to
   * the handle's device for the launch and back. */
  const int other = before == 0 ? 1 : 0;
  poison_y();
  CK_CUDA(cudaSetDevice(other));
  const convgemm_status_t s = fwd(g.desc, CONVGEMM_ALGO_DIRECT, g.x, g.w, NULL, g.y);
  CK_CUDA(cudaGetDevice(&after));
  CK_CUDA(cudaSetDevice(before));
  CK_CONVGEMM(s);
  ck_assert_int_eq(after, other);
  static float y[kYElems];
  fetch_y(y);
  ck_assert_msg(memcmp(y, g.y_good, sizeof y) == 0, "the result differs from the first run's");
}
END_TEST

START_TEST(test_other_device_stream_and_pointer) {
  int count = 0;
  CK_CUDA(cudaGetDeviceCount(&count));
  if (count < 2) {
    printf("gpu_api_test: note: one GPU; WRONG_DEVICE tests skipped\n");
    return;
  }
  int mine = -1;
  CK_CUDA(cudaGetDevice(&mine));
  const int other = mine == 0 ? 1 : 0;
  CK_CUDA(cudaSetDevice(other));
  cudaStream_t other_stream;
  float* other_x = NULL;
  CK_CUDA(cudaStreamCreateWithFlags(&other_stream, cudaStreamNonBlocking));
  CK_CUDA(cudaMalloc((void**)&other_x, kXElems * sizeof(float)));
  CK_CUDA(cudaSetDevice(mine));
  expect_rejected(convgemm_forward(g.handle, g.desc, CONVGEMM_ALGO_DIRECT, g.x, g.w, NULL, g.y,
                                   NULL, 0, other_stream),
                  CONVGEMM_STATUS_WRONG_DEVICE, "stream", "stream of another device");
  expect_rejected(fwd(g.desc, CONVGEMM_ALGO_DIRECT, other_x, g.w, NULL, g.y),
                  CONVGEMM_STATUS_WRONG_DEVICE, "device", "x on another device");
  int after = -1;
  CK_CUDA(cudaGetDevice(&after));
  ck_assert_int_eq(after, mine);
  CK_CUDA(cudaSetDevice(other));
  CK_CUDA(cudaFree(other_x));
  CK_CUDA(cudaStreamDestroy(other_stream));
  CK_CUDA(cudaSetDevice(mine));
  /* A handle created while the other device is current is bound to it. */
  CK_CUDA(cudaSetDevice(other));
  convgemm_handle_t h = NULL;
  CK_CONVGEMM(convgemm_create(&h));
  int bound = -1;
  CK_CONVGEMM(convgemm_get_device(h, &bound));
  CK_CONVGEMM(convgemm_destroy(h));
  CK_CUDA(cudaSetDevice(mine));
  ck_assert_int_eq(bound, other);
}
END_TEST

/* ---- 16-bit data ------------------------------------------------------------------------- */

/* A 16-bit descriptor of the fixture's shape (n, k as given, pad 1, no bias unless asked). */
static convgemm_conv_desc_t make_desc_16bit(convgemm_data_type_t type, int64_t n, int64_t k,
                                            int has_bias) {
  convgemm_conv2d_params_t p;
  convgemm_conv2d_params_init(&p, n, kC, kH, kW, k, kR, kS);
  p.pad_h = p.pad_w = 1;
  p.has_bias = has_bias;
  p.data_type = type;
  convgemm_conv_desc_t d = NULL;
  CK_CONVGEMM(convgemm_conv_desc_create(&d, &p));
  return d;
}

/* The first byte of count bytes at device that is not 0xFF, or -1. */
static int64_t first_unpoisoned(const void* device, size_t count) {
  unsigned char* host = malloc(count);
  ck_assert_ptr_nonnull(host);
  CK_CUDA(cudaDeviceSynchronize());
  CK_CUDA(cudaMemcpy(host, device, count, cudaMemcpyDeviceToHost));
  int64_t at = -1;
  for (size_t i = 0; i < count && at < 0; ++i)
    if (host[i] != 0xFF) at = (int64_t)i;
  free(host);
  return at;
}

/* 16-bit `algo` from x into y, then from the copy of x that starts 2 bytes past its end into
 * y + 2 (both only 2-byte aligned): the same bits, nothing written before y + 2, every output
 * written (no NaN left of the poison); the first call's output in `out` (kYElems values), y
 * poisoned again at the end. */
static void expect_same_bits_2_bytes_off(convgemm_conv_desc_t desc, convgemm_algo_t algo,
                                         char* x, size_t x_bytes, const char* w, char* y,
                                         size_t y_bytes, void* ws, size_t ws_bytes,
                                         convgemm_data_type_t type, const char* what,
                                         uint16_t* out) {
  const char* name = test_type_name(type);
  uint16_t second[kYElems + 1];
  CK_CUDA(cudaMemset(y, 0xFF, y_bytes + 4));
  CK_CONVGEMM(convgemm_forward(g.handle, desc, algo, x, w, NULL, y, ws, ws_bytes, g.stream));
  CK_CUDA(cudaStreamSynchronize(g.stream));
  CK_CUDA(cudaMemcpy(out, y, kYElems * sizeof(uint16_t), cudaMemcpyDeviceToHost));
  CK_CUDA(cudaMemset(y, 0xFF, y_bytes + 4));
  CK_CONVGEMM(convgemm_forward(g.handle, desc, algo, x + x_bytes + 2, w, NULL, y + 2, ws,
                               ws_bytes, g.stream));
  CK_CUDA(cudaStreamSynchronize(g.stream));
  CK_CUDA(cudaMemcpy(second, y, sizeof second, cudaMemcpyDeviceToHost));
  ck_assert_msg(second[0] == 0xFFFFu, "%s, %s: the element before y + 2 was written", name,
                what);
  ck_assert_msg(memcmp(out, second + 1, kYElems * sizeof(uint16_t)) == 0,
                "%s, %s: 2-byte aligned x and y gave other bits", name, what);
  float values[kYElems];
  test_decode(out, kYElems, type, values);
  int nans = 0;
  for (int i = 0; i < kYElems; ++i) nans += values[i] != values[i];
  ck_assert_msg(nans == 0, "%s, %s: %d outputs not written", name, what, nans);
  CK_CUDA(cudaMemset(y, 0xFF, y_bytes + 4));
}

START_TEST(test_16bit_data_contract) {
  static const convgemm_data_type_t kTypes[2] = {CONVGEMM_DATA_FLOAT16, CONVGEMM_DATA_BFLOAT16};
  for (int t = 0; t < 2; ++t) {
    const convgemm_data_type_t type = kTypes[t];
    const char* name = test_type_name(type);
    convgemm_conv_desc_t desc = make_desc_16bit(type, kN, kK, 0);
    convgemm_conv_desc_t desc_bias = make_desc_16bit(type, kN, kK, 1);
    convgemm_conv_desc_t desc_gemm = make_desc_16bit(type, kNGemm, kKGemm, 0);
    /* AUTO: K/G 16 and 32 with (C/G)*R*S 72 go to IM2COL_GEMM (16-bit: from K/G 8 on, where
     * float32's DEFAULT math stays DIRECT below 32); never IMPLICIT_GEMM. */
    convgemm_algo_t algo = CONVGEMM_ALGO_AUTO;
    CK_CONVGEMM(convgemm_get_algorithm(g.handle, desc, &algo));
    ck_assert_int_eq(algo, CONVGEMM_ALGO_IM2COL_GEMM);
    CK_CONVGEMM(convgemm_get_algorithm(g.handle, desc_gemm, &algo));
    ck_assert_int_eq(algo, CONVGEMM_ALGO_IM2COL_GEMM);

    /* Inputs: the fixture's draws rounded to the type; one buffer holds x and, 2 bytes in, a
     * copy of x (so a 2-byte aligned x of the same values). */
    float hx[kXElems], hw[kWElems], hb[kK];
    test_rng_t rng;
    test_rng_seed(&rng, 1600 + (uint64_t)t);
    for (int i = 0; i < kXElems; ++i) hx[i] = test_round_to_type(test_rng_unit(&rng), type);
    for (int i = 0; i < kWElems; ++i)
      hw[i] = test_round_to_type(test_rng_symmetric(&rng, 0.11785113f), type);
    for (int i = 0; i < kK; ++i) hb[i] = test_round_to_type(test_rng_symmetric(&rng, 0.1f), type);
    uint16_t ex[kXElems], ew[kWElems], eb[kK];
    test_encode(hx, kXElems, type, ex);
    test_encode(hw, kWElems, type, ew);
    test_encode(hb, kK, type, eb);
    char *x, *w, *bias, *y;
    CK_CUDA(cudaMalloc((void**)&x, 2 * sizeof ex + 4));
    CK_CUDA(cudaMalloc((void**)&w, sizeof ew + 4));
    CK_CUDA(cudaMalloc((void**)&bias, sizeof eb + 4));
    /* y: two outputs' worth plus room, so y can also sit right after x in the x buffer's twin. */
    const size_t y_bytes = (size_t)kYElems * 2;
    CK_CUDA(cudaMalloc((void**)&y, y_bytes + 4));
    CK_CUDA(cudaMemcpy(x, ex, sizeof ex, cudaMemcpyHostToDevice));
    CK_CUDA(cudaMemcpy(x + sizeof ex + 2, ex, sizeof ex, cudaMemcpyHostToDevice));
    CK_CUDA(cudaMemcpy(w, ew, sizeof ew, cudaMemcpyHostToDevice));
    CK_CUDA(cudaMemcpy(bias, eb, sizeof eb, cudaMemcpyHostToDevice));

    /* IMPLICIT_GEMM (C/G 8, W 12: its mma.sync kernel, on sm_90 too) from the aligned x into y,
     * then from the 2-byte aligned copy into y + 2: the same bits, every output written. */
    void* ws = NULL;
    CK_CUDA(cudaMalloc(&ws, 1 << 20));
    size_t ws_min = 0, ws_pref = 0;
    CK_CONVGEMM(convgemm_get_workspace_size(g.handle, desc, CONVGEMM_ALGO_IMPLICIT_GEMM, &ws_min,
                                            &ws_pref));
    ck_assert_msg(ws_min > 0 && ws_min <= (1 << 20), "%s: IMPLICIT_GEMM workspace %zu", name,
                  ws_min);
    uint16_t first[kYElems];
    expect_same_bits_2_bytes_off(desc, CONVGEMM_ALGO_IMPLICIT_GEMM, x, sizeof ex, w, y, y_bytes,
                                 ws, ws_min, type, "IMPLICIT_GEMM", first);

    /* One byte off: BAD_POINTER naming the 2-byte alignment, for each tensor. */
    expect_status(fwd(desc, CONVGEMM_ALGO_DIRECT, x + 1, w, NULL, y), CONVGEMM_STATUS_BAD_POINTER,
                  "aligned to 2 bytes", "16-bit x + 1 byte");
    expect_status(fwd(desc, CONVGEMM_ALGO_DIRECT, x, w + 1, NULL, y), CONVGEMM_STATUS_BAD_POINTER,
                  "aligned to 2 bytes", "16-bit w + 1 byte");
    expect_status(fwd(desc_bias, CONVGEMM_ALGO_DIRECT, x, w, bias + 1, y),
                  CONVGEMM_STATUS_BAD_POINTER, "aligned to 2 bytes", "16-bit bias + 1 byte");
    expect_status(fwd(desc, CONVGEMM_ALGO_DIRECT, x, w, NULL, y + 1), CONVGEMM_STATUS_BAD_POINTER,
                  "aligned to 2 bytes", "16-bit y + 1 byte");
    ck_assert_msg(first_unpoisoned(y, y_bytes + 4) < 0, "%s: a refused call wrote y", name);

    /* DIRECT: the same; `first` keeps its output for the overlap check below. */
    expect_same_bits_2_bytes_off(desc, CONVGEMM_ALGO_DIRECT, x, sizeof ex, w, y, y_bytes, NULL, 0,
                                 type, "DIRECT", first);

    /* Overlap in 2-byte elements: y right after x's kXElems elements is fine, one element
     * earlier is not. (A float-sized count would call both overlapping.) */
    char* buf = NULL;
    CK_CUDA(cudaMalloc((void**)&buf, sizeof ex + y_bytes));
    CK_CUDA(cudaMemcpy(buf, ex, sizeof ex, cudaMemcpyHostToDevice));
    CK_CONVGEMM(fwd(desc, CONVGEMM_ALGO_DIRECT, buf, w, NULL, buf + sizeof ex));
    CK_CUDA(cudaStreamSynchronize(g.stream));
    uint16_t after_x[kYElems];
    CK_CUDA(cudaMemcpy(after_x, buf + sizeof ex, sizeof after_x, cudaMemcpyDeviceToHost));
    ck_assert_msg(memcmp(after_x, first, sizeof first) == 0, "%s: y right after x differs", name);
    expect_status(fwd(desc, CONVGEMM_ALGO_DIRECT, buf, w, NULL, buf + sizeof ex - 2),
                  CONVGEMM_STATUS_BAD_POINTER, "overlap", "16-bit y one element into x");

    CK_CUDA(cudaFree(buf));
    CK_CUDA(cudaFree(ws));
    CK_CUDA(cudaFree(x));
    CK_CUDA(cudaFree(w));
    CK_CUDA(cudaFree(bias));
    CK_CUDA(cudaFree(y));
    convgemm_conv_desc_destroy(desc);
    convgemm_conv_desc_destroy(desc_bias);
    convgemm_conv_desc_destroy(desc_gemm);
  }
}
END_TEST

/* A shape IMPLICIT_GEMM's sm_90 TMA kernel runs in every type: W 80 holds the 3x3 box (72
 * columns in 16-bit data, 68 in float32), C 16 fills a 16-bit stage; with K 96 AUTO takes the
 * 3xTF32 kernel in IEEE math, and TF32 operands don't take tap pairs (K/G <= 64); kTmaPairsK
 * does. */
enum { kTmaN = 1, kTmaC = 16, kTmaH = 6, kTmaW = 80, kTmaK = 96, kTmaPairsK = 32 };
enum { kTmaX = kTmaN * kTmaC * kTmaH * kTmaW, kTmaWts = kTmaK * kTmaC * 9,
       kTmaY = kTmaN * kTmaK * kTmaH * kTmaW };

/* IMPLICIT_GEMM from x + `shift` bytes of `xbuf` into y (`bytes` of it copied back). */
static void run_implicit(convgemm_conv_desc_t desc, const char* xbuf, size_t shift, const void* w,
                         void* y, void* ws, size_t ws_bytes, void* out, size_t bytes) {
  CK_CUDA(cudaMemset(y, 0xFF, bytes));
  CK_CONVGEMM(convgemm_forward(g.handle, desc, CONVGEMM_ALGO_IMPLICIT_GEMM, xbuf + shift, w, NULL,
                               y, ws, ws_bytes, g.stream));
  CK_CUDA(cudaStreamSynchronize(g.stream));
  CK_CUDA(cudaMemcpy(out, y, bytes, cudaMemcpyDeviceToHost));
}

/* float32 TF32 operands with K/G <= 64 (kTmaPairsK): the TMA kernel's tap pairs sum each output's
 * TF32 products as two partial sums; with x off 16 bytes the cp.async kernel (no pairs) sums the
 * same products in one: the same values within fp32 reordering, 1e-5 (1 + |y|) here (144 products
 * of size <= 0.083, |y| <= 4), every output written. */
static void check_tap_pairs_x_not_16_byte_aligned(const char* x, size_t shifted, const void* w) {
  convgemm_conv2d_params_t p;
  convgemm_conv2d_params_init(&p, kTmaN, kTmaC, kTmaH, kTmaW, kTmaPairsK, 3, 3);
  p.pad_h = p.pad_w = 1;
  convgemm_conv_desc_t desc = NULL;
  CK_CONVGEMM(convgemm_conv_desc_create(&desc, &p));
  convgemm_igemm_plan_t plan;
  convgemm_igemm_make_plan(desc, &g.handle->info, &plan);
  ck_assert_msg(plan.tma && plan.tap_pairs, "K %d: not the tap-pairs kernel's shape", kTmaPairsK);
  enum { kY = kTmaN * kTmaPairsK * kTmaH * kTmaW };
  size_t ws_min = 0, ws_pref = 0;
  CK_CONVGEMM(convgemm_get_workspace_size(g.handle, desc, CONVGEMM_ALGO_IMPLICIT_GEMM, &ws_min,
                                          &ws_pref));
  void *ws = NULL, *y = NULL;
  CK_CUDA(cudaMalloc(&ws, ws_min));
  CK_CUDA(cudaMalloc(&y, kY * sizeof(float)));
  static float a[kY], b[kY];
  run_implicit(desc, x, 0, w, y, ws, ws_min, a, sizeof a);
  run_implicit(desc, x, shifted, w, y, ws, ws_min, b, sizeof b);
  int worst = -1;
  for (int i = 0; i < kY && worst < 0; ++i)
    if (!(fabsf(a[i] - b[i]) <= 1e-5f * (1.0f + fabsf(a[i])))) worst = i;
  ck_assert_msg(worst < 0, "tap pairs, x + 4: y[%d] = %g, with x aligned %g", worst,
                worst < 0 ? 0.0 : b[worst], worst < 0 ? 0.0 : a[worst]);
  CK_CUDA(cudaFree(ws));
  CK_CUDA(cudaFree(y));
  convgemm_conv_desc_destroy(desc);
}

/* 16-bit data with the filter resident: ping-pong (each compute warpgroup on 2-row tiles of its
 * own) and shared 4-row tiles (the no_ping_pong hook) run every output's wgmmas in the same order,
 * so y is the same to the bit. N 2, C 48 (27 k steps), P 11 (the last 2-row tile one row), Q 136
 * (three q tiles, the last partial), K 72 of a 128-channel tile, bias. */
START_TEST(test_16bit_ping_pong_matches_shared_tiles) {
  if (!(g.handle->info.cc_major == 9 && g.handle->info.cc_minor == 0)) return; /* no TMA kernel */
  enum { kN = 2, kC = 48, kH = 11, kW = 136, kK = 72 };
  enum { kX = kN * kC * kH * kW, kWts = kK * kC * 9, kY = kN * kK * kH * kW };
  static const convgemm_data_type_t kTypes[2] = {CONVGEMM_DATA_FLOAT16, CONVGEMM_DATA_BFLOAT16};
  for (int t = 0; t < 2; ++t) {
    convgemm_conv2d_params_t p;
    convgemm_conv2d_params_init(&p, kN, kC, kH, kW, kK, 3, 3);
    p.pad_h = p.pad_w = 1;
    p.has_bias = 1;
    p.data_type = kTypes[t];
    convgemm_conv_desc_t desc = NULL;
    CK_CONVGEMM(convgemm_conv_desc_create(&desc, &p));
    static float hx[kX], hw[kWts], hb[kK];
    static unsigned char ex[kX * 2], ew[kWts * 2], eb[kK * 2], ping[kY * 2], shared[kY * 2];
    test_rng_t rng;
    test_rng_seed(&rng, 1900 + (uint64_t)t);
    for (int i = 0; i < kX; ++i) hx[i] = test_round_to_type(test_rng_unit(&rng), p.data_type);
    for (int i = 0; i < kWts; ++i)
      hw[i] = test_round_to_type(test_rng_symmetric(&rng, 0.068f), p.data_type);
    for (int i = 0; i < kK; ++i)
      hb[i] = test_round_to_type(test_rng_symmetric(&rng, 0.5f), p.data_type);
    test_encode(hx, kX, p.data_type, ex);
    test_encode(hw, kWts, p.data_type, ew);
    test_encode(hb, kK, p.data_type, eb);
    void *x, *w, *b, *y, *ws;
    CK_CUDA(cudaMalloc(&x, sizeof ex));
    CK_CUDA(cudaMalloc(&w, sizeof ew));
    CK_CUDA(cudaMalloc(&b, sizeof eb));
    CK_CUDA(cudaMalloc(&y, sizeof ping));
    CK_CUDA(cudaMemcpy(x, ex, sizeof ex, cudaMemcpyHostToDevice));
    CK_CUDA(cudaMemcpy(w, ew, sizeof ew, cudaMemcpyHostToDevice));
    CK_CUDA(cudaMemcpy(b, eb, sizeof eb, cudaMemcpyHostToDevice));
    size_t ws_min = 0, ws_pref = 0;
    CK_CONVGEMM(convgemm_get_workspace_size(g.handle, desc, CONVGEMM_ALGO_IMPLICIT_GEMM, &ws_min,
                                            &ws_pref));
    CK_CUDA(cudaMalloc(&ws, ws_min));
    for (int shared_tiles = 0; shared_tiles < 2; ++shared_tiles) {
      g.handle->info.no_ping_pong = shared_tiles;
      convgemm_igemm_plan_t plan;
      convgemm_igemm_make_plan(desc, &g.handle->info, &plan);
      ck_assert_msg(plan.tma && plan.resident_filter && plan.ping_pong == !shared_tiles,
                    "type %d: plan tma %d resident %d ping_pong %d, want ping_pong %d",
                    (int)p.data_type, plan.tma, plan.resident_filter, plan.ping_pong,
                    !shared_tiles);
      CK_CUDA(cudaMemset(y, 0xFF, sizeof ping));
      const convgemm_status_t st = convgemm_forward(g.handle, desc, CONVGEMM_ALGO_IMPLICIT_GEMM, x,
                                                    w, b, y, ws, ws_min, g.stream);
      g.handle->info.no_ping_pong = 0;
      CK_CONVGEMM(st);
      CK_CUDA(cudaStreamSynchronize(g.stream));
      CK_CUDA(cudaMemcpy(shared_tiles ? shared : ping, y, sizeof ping, cudaMemcpyDeviceToHost));
    }
    /* Every output written (0xFFFF is the poison, a NaN) and the same bits both ways. */
    int unwritten = -1, differ = -1;
    for (int i = 0; i < kY * 2; i += 2) {
      if (unwritten < 0 && ping[i] == 0xFF && ping[i + 1] == 0xFF) unwritten = i / 2;
      if (differ < 0 && memcmp(ping + i, shared + i, 2) != 0) differ = i / 2;
    }
    ck_assert_msg(unwritten < 0, "type %d: ping-pong left y[%d] unwritten", (int)p.data_type,
                  unwritten);
    ck_assert_msg(differ < 0, "type %d: y[%d] differs between ping-pong and shared tiles",
                  (int)p.data_type, differ);
    CK_CUDA(cudaFree(ws));
    CK_CUDA(cudaFree(y));
    CK_CUDA(cudaFree(b));
    CK_CUDA(cudaFree(w));
    CK_CUDA(cudaFree(x));
    convgemm_conv_desc_destroy(desc);
  }
}
END_TEST

START_TEST(test_implicit_gemm_x_not_16_byte_aligned) {
  /* The TMA kernel's tensor map needs x on a 16-byte boundary. x one element off it: float32
   * TF32 operands take the cp.async wgmma kernel (the same bits; with tap pairs, K/G <= 64, the
   * same products summed in another order), 16-bit data the mma.sync kernel (the same products
   * summed in another order: within one ulp of the type), 3xTF32 (IEEE math) is NOT_SUPPORTED,
   * naming the alignment, with y untouched. */
  if (!(g.handle->info.cc_major == 9 && g.handle->info.cc_minor == 0)) return; /* no TMA kernel */
  static const convgemm_data_type_t kTypes[3] = {CONVGEMM_DATA_FLOAT32, CONVGEMM_DATA_FLOAT16,
                                                 CONVGEMM_DATA_BFLOAT16};
  for (int t = 0; t < 3; ++t)
    for (int mode = 0; mode < (t == 0 ? 2 : 1); ++mode) {
      const convgemm_data_type_t type = kTypes[t];
      const size_t elem = type == CONVGEMM_DATA_FLOAT32 ? 4 : 2;
      convgemm_conv2d_params_t p;
      convgemm_conv2d_params_init(&p, kTmaN, kTmaC, kTmaH, kTmaW, kTmaK, 3, 3);
      p.pad_h = p.pad_w = 1;
      p.data_type = type;
      p.math_mode = (convgemm_math_mode_t)mode;
      convgemm_conv_desc_t desc = NULL;
      CK_CONVGEMM(convgemm_conv_desc_create(&desc, &p));
      convgemm_igemm_plan_t plan;
      convgemm_igemm_make_plan(desc, &g.handle->info, &plan);
      ck_assert_msg(plan.variant == CONVGEMM_IGEMM_WGMMA && plan.tma,
                    "type %d mode %d: not the TMA kernel's shape", (int)type, mode);
      float hx[kTmaX], hw[kTmaWts];
      unsigned char ex[kTmaX * 4], ew[kTmaWts * 4];
      test_rng_t rng;
      test_rng_seed(&rng, 1700 + (uint64_t)t);
      for (int i = 0; i < kTmaX; ++i) hx[i] = test_round_to_type(test_rng_unit(&rng), type);
      for (int i = 0; i < kTmaWts; ++i)
        hw[i] = test_round_to_type(test_rng_symmetric(&rng, 0.0833f), type);
      test_encode(hx, kTmaX, type, ex);
      test_encode(hw, kTmaWts, type, ew);
      /* x at 0 and, in the same buffer, a copy one element past a 16-byte boundary. */
      const size_t x_bytes = kTmaX * elem, shifted = (x_bytes + 15) / 16 * 16 + 16 + elem;
      char *x, *w, *y;
      CK_CUDA(cudaMalloc((void**)&x, shifted + x_bytes));
      CK_CUDA(cudaMalloc((void**)&w, kTmaWts * elem));
      CK_CUDA(cudaMalloc((void**)&y, kTmaY * elem));
      CK_CUDA(cudaMemcpy(x, ex, x_bytes, cudaMemcpyHostToDevice));
      CK_CUDA(cudaMemcpy(x + shifted, ex, x_bytes, cudaMemcpyHostToDevice));
      CK_CUDA(cudaMemcpy(w, ew, kTmaWts * elem, cudaMemcpyHostToDevice));
      size_t ws_min = 0, ws_pref = 0;
      CK_CONVGEMM(convgemm_get_workspace_size(g.handle, desc, CONVGEMM_ALGO_IMPLICIT_GEMM,
                                              &ws_min, &ws_pref));
      void* ws = NULL;
      CK_CUDA(cudaMalloc(&ws, ws_min));
      static unsigned char aligned[kTmaY * 4], off[kTmaY * 4];
      run_implicit(desc, x, 0, w, y, ws, ws_min, aligned, kTmaY * elem);
      if (plan.split) {
        CK_CUDA(cudaMemset(y, 0xFF, kTmaY * elem));
        expect_status(convgemm_forward(g.handle, desc, CONVGEMM_ALGO_IMPLICIT_GEMM, x + shifted,
                                       w, NULL, y, ws, ws_min, g.stream),
                      CONVGEMM_STATUS_NOT_SUPPORTED, "aligned to 16 bytes", "3xTF32, x + 4");
        ck_assert_msg(first_unpoisoned(y, kTmaY * elem) < 0, "a refused 3xTF32 call wrote y");
        /* AUTO takes the 3xTF32 kernel here, and DIRECT for the misaligned x: both fp32-accurate
         * (a few ulps apart), every output written. */
        convgemm_algo_t chosen = CONVGEMM_ALGO_DIRECT;
        CK_CONVGEMM(convgemm_get_algorithm(g.handle, desc, &chosen));
        ck_assert_int_eq(chosen, CONVGEMM_ALGO_IMPLICIT_GEMM);
        CK_CUDA(cudaMemset(y, 0xFF, kTmaY * elem));
        CK_CONVGEMM(convgemm_forward(g.handle, desc, CONVGEMM_ALGO_AUTO, x + shifted, w, NULL, y,
                                     NULL, 0, g.stream));
        CK_CUDA(cudaStreamSynchronize(g.stream));
        CK_CUDA(cudaMemcpy(off, y, kTmaY * elem, cudaMemcpyDeviceToHost));
        const float* a = (const float*)aligned;
        const float* b = (const float*)off;
        int worst = -1;
        for (int i = 0; i < kTmaY && worst < 0; ++i)
          if (!(fabsf(a[i] - b[i]) <= 1e-5f * (1.0f + fabsf(a[i])))) worst = i;
        ck_assert_msg(worst < 0, "AUTO, IEEE, x + 4: y[%d] = %g, IMPLICIT_GEMM gave %g", worst,
                      worst < 0 ? 0.0 : b[worst], worst < 0 ? 0.0 : a[worst]);
      } else {
        run_implicit(desc, x, shifted, w, y, ws, ws_min, off, kTmaY * elem);
        static float a[kTmaY], b[kTmaY];
        test_decode(aligned, kTmaY, type, a);
        test_decode(off, kTmaY, type, b);
        int worst = -1;
        /* float32: the same TF32 products; the TF32 wgmma kernel sums them in the same order,
         * the fp16-products one (aligned x, plan.f16_products) in its own. */
        for (int i = 0; i < kTmaY && worst < 0; ++i) {
          const float ulp =
              type == CONVGEMM_DATA_FLOAT32
                  ? (plan.f16_products ? 0x1p-17f * (1.0f + fabsf(a[i])) : 0.0f)
                  : fabsf(a[i]) * (type == CONVGEMM_DATA_FLOAT16 ? 0x1p-10f : 0x1p-7f);
          if (!(fabsf(a[i] - b[i]) <= ulp + 0x1p-24f * (t != 0))) worst = i;
        }
        ck_assert_msg(worst < 0, "type %d: x one element off 16 bytes gave y[%d] = %g, not %g",
                      (int)type, worst, worst < 0 ? 0.0 : b[worst], worst < 0 ? 0.0 : a[worst]);
        if (t == 0) check_tap_pairs_x_not_16_byte_aligned(x, shifted, w);
        if (t != 0) {
          /* 16-bit y one element off 4 bytes: the epilogue stores single values instead of
           * pixel pairs, the same bits. */
          char* y2 = NULL;
          CK_CUDA(cudaMalloc((void**)&y2, kTmaY * elem + 2));
          run_implicit(desc, x, 0, w, y2 + 2, ws, ws_min, off, kTmaY * elem);
          ck_assert_msg(memcmp(aligned, off, kTmaY * elem) == 0,
                        "type %d: y 2 bytes off 4 gave other bits", (int)type);
          CK_CUDA(cudaFree(y2));
        }
      }
      CK_CUDA(cudaFree(ws));
      CK_CUDA(cudaFree(x));
      CK_CUDA(cudaFree(w));
      CK_CUDA(cudaFree(y));
      convgemm_conv_desc_destroy(desc);
    }
}
END_TEST

static Suite* api_suite(void) {
  Suite* s = suite_create("gpu_api");
  TCase* tc = tcase_create("forward_contract");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_queries);
  tcase_add_test(tc, test_null_tensors);
  tcase_add_test(tc, test_bias_must_match_the_descriptor);
  tcase_add_test(tc, test_host_pointers);
  tcase_add_test(tc, test_misaligned_pointers);
  tcase_add_test(tc, test_overlapping_output);
  tcase_add_test(tc, test_unknown_algorithm);
  tcase_add_test(tc, test_unsupported_algorithm_is_refused_not_replaced);
  tcase_add_test(tc, test_workspace_arguments);
  tcase_add_test(tc, test_im2col_gemm_workspace_too_small);
  tcase_add_test(tc, test_im2col_gemm_workspace_pointer);
  tcase_add_test(tc, test_im2col_gemm_runs_with_any_workspace_from_the_minimum);
  tcase_add_test(tc, test_default_streams);
  tcase_add_test(tc, test_current_device_is_left_alone);
  tcase_add_test(tc, test_other_device_stream_and_pointer);
  tcase_add_test(tc, test_16bit_data_contract);
  tcase_add_test(tc, test_implicit_gemm_x_not_16_byte_aligned);
  tcase_add_test(tc, test_16bit_ping_pong_matches_shared_tiles);
  suite_add_tcase(s, tc);
  return s;
}

/* CK_NOFORK: CUDA and fork() don't mix. */
int main(void) { return check_main_run(api_suite(), CK_NOFORK); }
