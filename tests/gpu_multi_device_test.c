/*
 * convgemm on two devices of one host. A handle is bound to the device current at
 * convgemm_create; forward runs there whatever the caller's current device is, switches back
 * before returning, and refuses arguments of another device (convgemm.h).
 *   - One handle per device, each driven by its own thread on a non-blocking stream of its
 *     device, every algorithm (DIRECT, IM2COL_GEMM, IMPLICIT_GEMM, AUTO), many rounds at once;
 *     every other call is made while the *other* device is current. Each result, into a y
 *     poisoned with NaN before every call, equals the call made alone, which matches the float64
 *     reference; the calling thread's current device is the same after every call.
 *   - A device-1 x, w, bias, y, workspace or stream given to the device-0 handle is
 *     WRONG_DEVICE with a message naming the argument and device 1, from either current device,
 *     for every algorithm: nothing is launched (both y keep their poison), no CUDA error is left
 *     pending, the current device is unchanged, and the handle works afterwards.
 *   - A handle is destroyed while the other device is current, without a CUDA error.
 * With fewer than two devices every test passes after printing "skipped: needs 2 GPUs".
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdarg.h>
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

enum {
  kDevices = 2,
  kAlgos = 4,
  kRounds = 200,      /* every algorithm once per round: 800 calls per thread */
  kCheckEvery = 20,   /* rounds between comparisons */
  kPoisonByte = 0xFF  /* 0xFFFFFFFF is a NaN */
};

static const convgemm_algo_t kAllAlgos[kAlgos] = {CONVGEMM_ALGO_DIRECT, CONVGEMM_ALGO_IM2COL_GEMM,
                                                  CONVGEMM_ALGO_IMPLICIT_GEMM, CONVGEMM_ALGO_AUTO};
static const char* const kAlgoNames[kAlgos] = {"DIRECT", "IM2COL_GEMM", "IMPLICIT_GEMM", "AUTO"};

/* Whether the tests can run; if not, says so (the test then passes). */
static int have_two_devices(const char* test) {
  int count = 0;
  CK_CUDA(cudaGetDeviceCount(&count));
  if (count >= kDevices) return 1;
  printf("gpu_multi_device_test: %s: skipped: needs 2 GPUs (found %d)\n", test, count);
  return 0;
}

static void set_device(int device) { CK_CUDA(cudaSetDevice(device)); }

static int current_device(void) {
  int device = -1;
  CK_CUDA(cudaGetDevice(&device));
  return device;
}

/* One descriptor for everything: DEFAULT math, C/G > 1 and bias, so every algorithm runs it
 * (AUTO, by today's rule, as IMPLICIT_GEMM: stride 1, Q 64). */
static convgemm_conv_desc_t make_desc(convgemm_conv2d_params_t* p) {
  convgemm_conv2d_params_init(p, 2, 32, 8, 64, 32, 3, 3);
  p->pad_h = p->pad_w = 1;
  p->has_bias = 1;
  convgemm_conv_desc_t desc = NULL;
  CK_CONVGEMM(convgemm_conv_desc_create(&desc, p));
  return desc;
}

/* Everything of one device: its handle, stream, inputs, outputs and workspace. */
typedef struct side {
  int device;
  convgemm_conv_desc_t desc;          /* shared by both sides */
  convgemm_conv2d_params_t params;
  int64_t x_elems, w_elems, y_elems;
  convgemm_handle_t handle;
  cudaStream_t stream;
  float *hx, *hw, *hbias;             /* host inputs */
  float *x, *w, *bias, *y[kAlgos];    /* memory of `device` */
  void* workspace;
  size_t ws_bytes[kAlgos];            /* each algorithm's preferred size */
  size_t ws_max;                      /* the workspace's size */
  convgemm_algo_t resolved[kAlgos];
  float* want[kAlgos];                /* host: each algorithm's call made alone */
  float* fetched;                     /* host */
  /* filled by the thread */
  int failures;
  char first_failure[384];
} side_t;

static void* host_alloc(size_t bytes) {
  void* p = malloc(bytes);
  ck_assert_ptr_nonnull(p);
  return p;
}

static float* upload(const float* host, int64_t count) {
  float* device = NULL;
  CK_CUDA(cudaMalloc((void**)&device, (size_t)count * sizeof(float)));
  CK_CUDA(cudaMemcpy(device, host, (size_t)count * sizeof(float), cudaMemcpyHostToDevice));
  return device;
}

/* Creates the side's handle and memory with `device` current; leaves device 0 current. */
static void side_init(side_t* s, int device, convgemm_conv_desc_t desc,
                      const convgemm_conv2d_params_t* p, uint64_t seed) {
  memset(s, 0, sizeof *s);
  s->device = device;
  s->desc = desc;
  s->params = *p;
  s->x_elems = p->n * p->c * p->h * p->w;
  s->w_elems = p->k * (p->c / p->groups) * p->r * p->s;
  s->y_elems = conv2d_reference_y_elems(p);
  set_device(device);
  CK_CONVGEMM(convgemm_create(&s->handle));
  int bound = -1;
  CK_CONVGEMM(convgemm_get_device(s->handle, &bound));
  ck_assert_int_eq(bound, device);
  CK_CUDA(cudaStreamCreateWithFlags(&s->stream, cudaStreamNonBlocking));
  s->hx = host_alloc((size_t)s->x_elems * sizeof(float));
  s->hw = host_alloc((size_t)s->w_elems * sizeof(float));
  s->hbias = host_alloc((size_t)p->k * sizeof(float));
  test_rng_t rng;
  test_rng_seed(&rng, seed);
  test_fill_conv_inputs(&rng, p, s->hx, s->hw, s->hbias);
  s->x = upload(s->hx, s->x_elems);
  s->w = upload(s->hw, s->w_elems);
  s->bias = upload(s->hbias, p->k);
  for (int a = 0; a < kAlgos; ++a) {
    CK_CONVGEMM(convgemm_get_workspace_size(s->handle, desc, kAllAlgos[a], NULL,
                                            &s->ws_bytes[a]));
    if (s->ws_bytes[a] > s->ws_max) s->ws_max = s->ws_bytes[a];
    s->resolved[a] = kAllAlgos[a];
    if (kAllAlgos[a] == CONVGEMM_ALGO_AUTO)
      CK_CONVGEMM(convgemm_get_algorithm(s->handle, desc, &s->resolved[a]));
    CK_CUDA(cudaMalloc((void**)&s->y[a], (size_t)s->y_elems * sizeof(float)));
    s->want[a] = host_alloc((size_t)s->y_elems * sizeof(float));
  }
  ck_assert_uint_gt(s->ws_max, 0); /* IM2COL_GEMM always needs some */
  CK_CUDA(cudaMalloc(&s->workspace, s->ws_max));
  s->fetched = host_alloc((size_t)s->y_elems * sizeof(float));
  set_device(0);
}

/* Frees the side's memory; the handle is destroyed while the *other* device is current (the
 * library must not need its own device current for that). Leaves device 0 current. */
static void side_free(side_t* s) {
  set_device(s->device);
  CK_CUDA(cudaStreamSynchronize(s->stream));
  CK_CUDA(cudaStreamDestroy(s->stream));
  CK_CUDA(cudaFree(s->x));
  CK_CUDA(cudaFree(s->w));
  CK_CUDA(cudaFree(s->bias));
  for (int a = 0; a < kAlgos; ++a) CK_CUDA(cudaFree(s->y[a]));
  CK_CUDA(cudaFree(s->workspace));
  const int other = s->device == 0 ? 1 : 0;
  set_device(other);
  CK_CUDA(cudaGetLastError()); /* nothing pending from before */
  CK_CONVGEMM(convgemm_destroy(s->handle));
  CK_CUDA(cudaGetLastError()); /* destroy's CUDA calls (it ignores their status) all worked */
  ck_assert_int_eq(current_device(), other);
  set_device(0);
  free(s->hx);
  free(s->hw);
  free(s->hbias);
  for (int a = 0; a < kAlgos; ++a) free(s->want[a]);
  free(s->fetched);
}

/* Poison (with the side's device current), then forward with `caller` current. */
static convgemm_status_t side_forward(const side_t* s, int a, int caller) {
  if (cudaSetDevice(s->device) != cudaSuccess ||
      cudaMemsetAsync(s->y[a], kPoisonByte, (size_t)s->y_elems * sizeof(float), s->stream) !=
          cudaSuccess ||
      cudaSetDevice(caller) != cudaSuccess)
    return CONVGEMM_STATUS_CUDA_ERROR;
  return convgemm_forward(s->handle, s->desc, kAllAlgos[a], s->x, s->w, s->bias, s->y[a],
                          s->workspace, s->ws_bytes[a], s->stream);
}

/* Copies y[a] to s->fetched (with the side's device current); cudaSuccess or the error. */
static cudaError_t side_fetch(side_t* s, int a) {
  cudaError_t e = cudaSetDevice(s->device);
  if (e == cudaSuccess)
    e = cudaMemcpyAsync(s->fetched, s->y[a], (size_t)s->y_elems * sizeof(float),
                        cudaMemcpyDeviceToHost, s->stream);
  if (e == cudaSuccess) e = cudaStreamSynchronize(s->stream);
  return e;
}

/* Each algorithm's call made alone, from the main thread with the side's device current. */
static void side_run_alone(side_t* s) {
  for (int a = 0; a < kAlgos; ++a) {
    CK_CONVGEMM(side_forward(s, a, s->device));
    CK_CUDA(side_fetch(s, a));
    memcpy(s->want[a], s->fetched, (size_t)s->y_elems * sizeof(float));
  }
  set_device(0);
}

/* The results made alone against the float64 reference (conv_compare.h's bounds; IM2COL_GEMM's
 * split bias in DEFAULT math widens them). */
static void side_check_reference(const side_t* s) {
  const convgemm_conv2d_params_t* p = &s->params;
  double* ref = host_alloc((size_t)s->y_elems * sizeof(double));
  double* abs_sum = host_alloc((size_t)s->y_elems * sizeof(double));
  double* abs_sum_split = host_alloc((size_t)s->y_elems * sizeof(double));
  const conv2d_reference_operands_t operands = conv2d_reference_operands_for(p);
  conv2d_reference(p, s->hx, s->hw, s->hbias, operands, ref, abs_sum);
  const int64_t n_terms = conv_compare_terms(p->c / p->groups, p->r, p->s);
  const int64_t plane = s->y_elems / (p->n * p->k);
  for (int a = 0; a < kAlgos; ++a) {
    const double* bound_sum = abs_sum;
    double l2_extra = 0.0;
    if (s->resolved[a] == CONVGEMM_ALGO_IM2COL_GEMM && operands == CONV2D_REFERENCE_TF32) {
      memcpy(abs_sum_split, abs_sum, (size_t)s->y_elems * sizeof(double));
      l2_extra = conv_compare_widen_for_split_bias(s->hbias, p->n, p->k, plane, n_terms, ref,
                                                   abs_sum_split);
      bound_sum = abs_sum_split;
    }
    conv_compare_result_t result;
    conv_compare(s->want[a], ref, bound_sum, s->y_elems, n_terms, &result);
    result.rel_l2_limit += l2_extra;
    char summary[512];
    conv_compare_describe(&result, summary, sizeof summary);
    ck_assert_msg(conv_compare_passed(&result), "device %d, %s (runs as algorithm %d): %s",
                  s->device, kAlgoNames[a], (int)s->resolved[a], summary);
  }
  free(ref);
  free(abs_sum);
  free(abs_sum_split);
}

/* Records a failure of the thread (Check's assertions are not thread-safe). */
static void side_fail(side_t* s, const char* fmt, ...) {
  if (s->failures++ > 0) return;
  va_list args;
  va_start(args, fmt);
  vsnprintf(s->first_failure, sizeof s->first_failure, fmt, args);
  va_end(args);
}

static int64_t first_bit_difference(const float* a, const float* b, int64_t count) {
  for (int64_t i = 0; i < count; ++i)
    if (memcmp(&a[i], &b[i], sizeof(float)) != 0) return i;
  return -1;
}

static void side_compare(side_t* s, int round) {
  for (int a = 0; a < kAlgos; ++a) {
    const cudaError_t e = side_fetch(s, a);
    if (e != cudaSuccess) {
      side_fail(s, "round %d: fetching y failed: %s", round, cudaGetErrorString(e));
      return;
    }
    const int64_t diff = first_bit_difference(s->fetched, s->want[a], s->y_elems);
    if (diff >= 0)
      side_fail(s, "round %d, %s: y[%lld] is %.9g, alone it was %.9g", round, kAlgoNames[a],
                (long long)diff, (double)s->fetched[diff], (double)s->want[a][diff]);
  }
}

/* A thread driving one device; odd calls are made with the other device current. */
static void* side_main(void* arg) {
  side_t* s = arg;
  const int other = s->device == 0 ? 1 : 0;
  for (int round = 0; round < kRounds && s->failures == 0; ++round) {
    for (int a = 0; a < kAlgos; ++a) {
      const int caller = (round + a) % 2 == 0 ? s->device : other;
      const convgemm_status_t st = side_forward(s, a, caller);
      int now = -1;
      if (st != CONVGEMM_STATUS_SUCCESS)
        side_fail(s, "round %d, %s from device %d: %s: %s", round, kAlgoNames[a], caller,
                  convgemm_status_string(st), convgemm_get_last_error());
      else if (cudaGetDevice(&now) != cudaSuccess || now != caller)
        side_fail(s, "round %d, %s: the current device was %d, forward left %d", round,
                  kAlgoNames[a], caller, now);
    }
    if ((round + 1) % kCheckEvery == 0 || round + 1 == kRounds) side_compare(s, round);
  }
  return NULL;
}

START_TEST(test_two_devices_concurrently) {
  if (!have_two_devices("two_devices_concurrently")) return;
  convgemm_conv2d_params_t p;
  convgemm_conv_desc_t desc = make_desc(&p);
  static side_t sides[kDevices];
  const uint64_t seed = test_base_seed(90);
  for (int d = 0; d < kDevices; ++d) {
    side_init(&sides[d], d, desc, &p, seed + (uint64_t)d);
    side_run_alone(&sides[d]);
    side_check_reference(&sides[d]);
  }
  pthread_t threads[kDevices];
  for (int d = 0; d < kDevices; ++d)
    ck_assert_int_eq(pthread_create(&threads[d], NULL, side_main, &sides[d]), 0);
  for (int d = 0; d < kDevices; ++d) ck_assert_int_eq(pthread_join(threads[d], NULL), 0);
  for (int d = 0; d < kDevices; ++d)
    ck_assert_msg(sides[d].failures == 0, "device %d (seed %llu): %d failures; first: %s", d,
                  (unsigned long long)(seed + (uint64_t)d), sides[d].failures,
                  sides[d].first_failure);
  ck_assert_int_eq(current_device(), 0); /* the main thread's, untouched by the workers' */
  for (int d = 0; d < kDevices; ++d) side_free(&sides[d]);
  convgemm_conv_desc_destroy(desc);
}
END_TEST

/* ---- arguments of the other device -------------------------------------------------------- */

enum { kArgX, kArgW, kArgBias, kArgY, kArgWorkspace, kArgStream, kArgs };
static const char* const kArgNames[kArgs] = {"x", "w", "bias", "y", "workspace", "stream"};
/* How the message names each argument (conv/forward.c: "<name> (<pointer>) is memory of
 * device 1, ...", "the stream belongs to device 1, ..."). */
static const char* const kArgNeedles[kArgs] = {"x (", "w (", "bias (", "y (", "workspace (",
                                               "stream"};

/* Asserts the whole of y (device memory of `device`) still holds the poison. */
static void expect_untouched(const float* y, int64_t count, int device, const char* what) {
  set_device(device);
  CK_CUDA(cudaDeviceSynchronize());
  unsigned char* bytes = host_alloc((size_t)count * sizeof(float));
  CK_CUDA(cudaMemcpy(bytes, y, (size_t)count * sizeof(float), cudaMemcpyDeviceToHost));
  size_t i = 0;
  while (i < (size_t)count * sizeof(float) && bytes[i] == kPoisonByte) ++i;
  free(bytes);
  ck_assert_msg(i == (size_t)count * sizeof(float),
                "%s: y on device %d was written (byte %zu) by a rejected call", what, device, i);
}

static void poison(float* y, int64_t count, int device) {
  set_device(device);
  CK_CUDA(cudaMemset(y, kPoisonByte, (size_t)count * sizeof(float)));
  CK_CUDA(cudaDeviceSynchronize());
}

/* The device-0 handle called with side 0's arguments except `arg`, which is side 1's, while
 * `caller` is current. */
static void expect_wrong_device(side_t* s0, side_t* s1, int a, int arg, int caller) {
  char what[128];
  snprintf(what, sizeof what, "%s with a device-1 %s, device %d current", kAlgoNames[a],
           kArgNames[arg], caller);
  poison(s0->y[a], s0->y_elems, 0);
  poison(s1->y[a], s1->y_elems, 1);
  set_device(caller);
  const convgemm_status_t st = convgemm_forward(
      s0->handle, s0->desc, kAllAlgos[a], arg == kArgX ? s1->x : s0->x,
      arg == kArgW ? s1->w : s0->w, arg == kArgBias ? s1->bias : s0->bias,
      arg == kArgY ? s1->y[a] : s0->y[a], arg == kArgWorkspace ? s1->workspace : s0->workspace,
      s0->ws_max, arg == kArgStream ? s1->stream : s0->stream);
  char message[512];
  snprintf(message, sizeof message, "%s", convgemm_get_last_error());
  /* The library clears the errors its own checks provoke (conv/forward.c), so none is left for
   * the caller's next cudaGetLastError. */
  const cudaError_t pending = cudaGetLastError();
  ck_assert_msg(pending == cudaSuccess, "%s: left a CUDA error pending: %s", what,
                cudaGetErrorName(pending));
  ck_assert_msg(current_device() == caller, "%s: the current device changed", what);
  ck_assert_msg(st == CONVGEMM_STATUS_WRONG_DEVICE, "%s: got %s, want WRONG_DEVICE (message: %s)",
                what, convgemm_status_string(st), message);
  ck_assert_msg(message[0] != '\0', "%s: no message", what);
  ck_assert_msg(strstr(message, kArgNeedles[arg]) != NULL && strstr(message, "device 1") != NULL,
                "%s: the message \"%s\" does not name the argument and device 1", what, message);
  expect_untouched(s0->y[a], s0->y_elems, 0, what);
  expect_untouched(s1->y[a], s1->y_elems, 1, what);
  set_device(0);
}

START_TEST(test_arguments_of_the_other_device) {
  if (!have_two_devices("arguments_of_the_other_device")) return;
  convgemm_conv2d_params_t p;
  convgemm_conv_desc_t desc = make_desc(&p);
  static side_t sides[kDevices];
  const uint64_t seed = test_base_seed(95);
  for (int d = 0; d < kDevices; ++d) side_init(&sides[d], d, desc, &p, seed + (uint64_t)d);
  side_run_alone(&sides[0]);
  side_check_reference(&sides[0]);
  /* Every algorithm, every argument, from either current device. The workspace is the largest
   * any algorithm asks for (more than needed is accepted), so it is checked for DIRECT too. */
  for (int a = 0; a < kAlgos; ++a)
    for (int arg = 0; arg < kArgs; ++arg)
      for (int caller = 0; caller < kDevices; ++caller)
        expect_wrong_device(&sides[0], &sides[1], a, arg, caller);
  /* The handle still works, from the other device too, and gives the same bits. */
  for (int a = 0; a < kAlgos; ++a) {
    CK_CONVGEMM(side_forward(&sides[0], a, 1));
    ck_assert_int_eq(current_device(), 1);
    CK_CUDA(side_fetch(&sides[0], a));
    ck_assert_msg(first_bit_difference(sides[0].fetched, sides[0].want[a], sides[0].y_elems) < 0,
                  "%s after the rejected calls differs from before", kAlgoNames[a]);
  }
  set_device(0);
  for (int d = 0; d < kDevices; ++d) side_free(&sides[d]);
  convgemm_conv_desc_destroy(desc);
}
END_TEST

static Suite* multi_device_suite(void) {
  Suite* s = suite_create("gpu_multi_device");
  TCase* tc = tcase_create("two_devices");
  tcase_add_test(tc, test_two_devices_concurrently);
  tcase_add_test(tc, test_arguments_of_the_other_device);
  suite_add_tcase(s, tc);
  return s;
}

/* CK_NOFORK: CUDA and fork() don't mix. */
int main(void) { return check_main_run(multi_device_suite(), CK_NOFORK); }
