/*
 * A program that uses convgemm the way an outside project does: through conv/convgemm.h only.
 * Built two ways, by Bazel from another workspace (examples/consumer) and by plain gcc against
 * libconvgemm.so (examples/plain_c), so both ways of depending on the library are exercised.
 *
 * Host part, on any machine: problem 55's descriptor and output shape, and a bad descriptor's
 * status and message. GPU part, only where cudaGetDeviceCount finds a device: a small grouped,
 * strided, dilated, padded convolution with bias through DIRECT and IM2COL_GEMM in IEEE math,
 * compared with a float64 loop on the host.
 *
 * Closes with a Check-style line ("100%: Checks: N, Failures: F, Errors: 0") so CI counts its
 * checks like the library's own suites; exits 0 only if every check passed.
 */
#include <math.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cuda_runtime_api.h>

#include "conv/convgemm.h"

static int g_checks, g_failures;

/* Counts one check; on failure prints where and what was expected against what came. */
static int expect(int ok, int line, const char* fmt, ...) {
  ++g_checks;
  if (ok) return 1;
  ++g_failures;
  fprintf(stderr, "app.c:%d: ", line);
  va_list args;
  va_start(args, fmt);
  vfprintf(stderr, fmt, args);
  va_end(args);
  fputc('\n', stderr);
  return 0;
}
#define EXPECT(ok, ...) expect((ok), __LINE__, __VA_ARGS__)

static int expect_status(convgemm_status_t got, convgemm_status_t want, const char* call,
                         int line) {
  return expect(got == want, line, "%s returned %s, want %s (last error: %s)", call,
                convgemm_status_string(got), convgemm_status_string(want),
                convgemm_get_last_error());
}
#define EXPECT_STATUS(call, want) expect_status((call), (want), #call, __LINE__)

/* ---- host part -------------------------------------------------------------------------- */

static void check_problem_55_shape(void) {
  /* KernelBench level 1 problem 55: nn.Conv2d(64, 128, 3) on 8x64x512x1024. */
  convgemm_conv2d_params_t p;
  EXPECT_STATUS(convgemm_conv2d_params_init(&p, 8, 64, 512, 1024, 128, 3, 3),
                CONVGEMM_STATUS_SUCCESS);
  convgemm_conv_desc_t desc = NULL;
  if (!EXPECT_STATUS(convgemm_conv_desc_create(&desc, &p), CONVGEMM_STATUS_SUCCESS)) return;
  int64_t n = 0, k = 0, out_h = 0, out_w = 0;
  EXPECT_STATUS(convgemm_get_output_shape(desc, &n, &k, &out_h, &out_w), CONVGEMM_STATUS_SUCCESS);
  EXPECT(n == 8 && k == 128 && out_h == 510 && out_w == 1022,
         "problem 55's output shape is (%lld, %lld, %lld, %lld), want (8, 128, 510, 1022)",
         (long long)n, (long long)k, (long long)out_h, (long long)out_w);
  EXPECT_STATUS(convgemm_conv_desc_destroy(desc), CONVGEMM_STATUS_SUCCESS);
}

static void check_bad_descriptor(void) {
  /* 64 input channels do not split into 3 groups. */
  convgemm_conv2d_params_t p;
  convgemm_conv2d_params_init(&p, 8, 64, 512, 1024, 128, 3, 3);
  p.groups = 3;
  convgemm_conv_desc_t desc = (convgemm_conv_desc_t)(uintptr_t)1; /* must become NULL */
  EXPECT_STATUS(convgemm_conv_desc_create(&desc, &p), CONVGEMM_STATUS_BAD_GROUPS);
  EXPECT(desc == NULL, "a failed convgemm_conv_desc_create left *desc = %p, want NULL",
         (void*)desc);
  const char* message = convgemm_get_last_error();
  EXPECT(strstr(message, "groups (3)") != NULL && strstr(message, "c (64)") != NULL,
         "the message \"%s\" does not name groups (3) and c (64)", message);
  EXPECT(strcmp(convgemm_status_string(CONVGEMM_STATUS_BAD_GROUPS),
                "CONVGEMM_STATUS_BAD_GROUPS") == 0,
         "convgemm_status_string(BAD_GROUPS) is \"%s\", want \"CONVGEMM_STATUS_BAD_GROUPS\"",
         convgemm_status_string(CONVGEMM_STATUS_BAD_GROUPS));
}

/* ---- GPU part --------------------------------------------------------------------------- */

/* Deterministic values in [-1, 1) (a 64-bit LCG's top bits). */
static float next_value(uint64_t* state) {
  *state = *state * 6364136223846793005ull + 1442695040888963407ull;
  return (float)((double)(*state >> 40) / (double)(1ull << 23) - 1.0);
}

/* y = conv2d(x, w) + bias in float64, straight from the definition in conv/convgemm.h. */
static void conv2d_float64(const convgemm_conv2d_params_t* p, int64_t out_h, int64_t out_w,
                           const float* x, const float* w, const float* bias, double* y) {
  const int64_t cg = p->c / p->groups, kg = p->k / p->groups;
  for (int64_t n = 0; n < p->n; ++n)
    for (int64_t k = 0; k < p->k; ++k)
      for (int64_t oh = 0; oh < out_h; ++oh)
        for (int64_t ow = 0; ow < out_w; ++ow) {
          double sum = bias != NULL ? bias[k] : 0.0;
          const int64_t g = k / kg;
          for (int64_t c = 0; c < cg; ++c)
            for (int64_t r = 0; r < p->r; ++r)
              for (int64_t s = 0; s < p->s; ++s) {
                const int64_t ih = oh * p->stride_h - p->pad_h + r * p->dilation_h;
                const int64_t iw = ow * p->stride_w - p->pad_w + s * p->dilation_w;
                if (ih < 0 || ih >= p->h || iw < 0 || iw >= p->w) continue;
                sum += (double)x[((n * p->c + g * cg + c) * p->h + ih) * p->w + iw] *
                       (double)w[((k * cg + c) * p->r + r) * p->s + s];
              }
          y[((n * p->k + k) * out_h + oh) * out_w + ow] = sum;
        }
}

static void* device_copy(const float* host, size_t count) {
  void* dev = NULL;
  if (cudaMalloc(&dev, count * sizeof(float)) != cudaSuccess) return NULL;
  if (host != NULL && cudaMemcpy(dev, host, count * sizeof(float), cudaMemcpyHostToDevice) !=
                          cudaSuccess) {
    cudaFree(dev);
    return NULL;
  }
  return dev;
}

/* One algorithm on the prepared buffers: y poisoned with NaN, forward, compared within
 * allclose(1e-4, 1e-4) with the float64 result (fp32 with 24 products per output is far closer). */
static void run_and_compare(convgemm_handle_t handle, convgemm_conv_desc_t desc,
                            convgemm_algo_t algo, const void* x, const void* w, const void* bias,
                            void* y, const double* want, float* got, size_t y_count,
                            cudaStream_t stream) {
  size_t ws_min = 0, ws_preferred = 0;
  if (!EXPECT_STATUS(convgemm_get_workspace_size(handle, desc, algo, &ws_min, &ws_preferred),
                     CONVGEMM_STATUS_SUCCESS))
    return;
  void* ws = NULL;
  if (ws_preferred > 0 &&
      !EXPECT(cudaMalloc(&ws, ws_preferred) == cudaSuccess, "cudaMalloc of %zu workspace bytes",
              ws_preferred))
    return;
  EXPECT(cudaMemset(y, 0xff, y_count * sizeof(float)) == cudaSuccess, "cudaMemset of y");
  EXPECT_STATUS(convgemm_forward(handle, desc, algo, x, w, bias, y, ws, ws_preferred, stream),
                CONVGEMM_STATUS_SUCCESS);
  const cudaError_t e = cudaStreamSynchronize(stream);
  EXPECT(e == cudaSuccess, "cudaStreamSynchronize after %d: %s", (int)algo, cudaGetErrorString(e));
  EXPECT(cudaMemcpy(got, y, y_count * sizeof(float), cudaMemcpyDeviceToHost) == cudaSuccess,
         "copying y back");
  size_t bad = 0, worst = 0;
  double worst_excess = -1.0;
  for (size_t i = 0; i < y_count; ++i) {
    const double excess = fabs((double)got[i] - want[i]) - (1e-4 + 1e-4 * fabs(want[i]));
    if (!(excess <= 0.0)) ++bad; /* NaN counts as bad */
    if (!(excess <= worst_excess)) {
      worst_excess = excess;
      worst = i;
    }
  }
  EXPECT(bad == 0, "algorithm %d: %zu of %zu outputs outside allclose(1e-4, 1e-4); y[%zu] is %.9g, "
         "want %.9g", (int)algo, bad, y_count, worst, (double)got[worst], want[worst]);
  cudaFree(ws);
}

static void check_small_convolution(void) {
  convgemm_conv2d_params_t p;
  convgemm_conv2d_params_init(&p, /*n=*/2, /*c=*/6, /*h=*/9, /*w=*/13, /*k=*/8, /*r=*/3, /*s=*/2);
  p.pad_h = 1;
  p.pad_w = 2;
  p.stride_h = 2;
  p.dilation_w = 2;
  p.groups = 2;
  p.has_bias = 1;
  p.math_mode = CONVGEMM_MATH_IEEE;
  convgemm_conv_desc_t desc = NULL;
  if (!EXPECT_STATUS(convgemm_conv_desc_create(&desc, &p), CONVGEMM_STATUS_SUCCESS)) return;
  int64_t n, k, out_h, out_w;
  convgemm_get_output_shape(desc, &n, &k, &out_h, &out_w);
  const size_t x_count = (size_t)(p.n * p.c * p.h * p.w);
  const size_t w_count = (size_t)(p.k * (p.c / p.groups) * p.r * p.s);
  const size_t y_count = (size_t)(n * k * out_h * out_w);
  float* x = malloc(x_count * sizeof *x);
  float* w = malloc(w_count * sizeof *w);
  float* bias = malloc((size_t)p.k * sizeof *bias);
  float* got = malloc(y_count * sizeof *got);
  double* want = malloc(y_count * sizeof *want);
  uint64_t state = 55;
  for (size_t i = 0; i < x_count; ++i) x[i] = next_value(&state);
  for (size_t i = 0; i < w_count; ++i) w[i] = next_value(&state);
  for (int64_t i = 0; i < p.k; ++i) bias[i] = next_value(&state);
  conv2d_float64(&p, out_h, out_w, x, w, bias, want);

  convgemm_handle_t handle = NULL;
  cudaStream_t stream = NULL;
  void* dx = device_copy(x, x_count);
  void* dw = device_copy(w, w_count);
  void* dbias = device_copy(bias, (size_t)p.k);
  void* dy = device_copy(NULL, y_count);
  if (EXPECT(dx && dw && dbias && dy, "device allocations failed") &&
      EXPECT(cudaStreamCreate(&stream) == cudaSuccess, "cudaStreamCreate failed") &&
      EXPECT_STATUS(convgemm_create(&handle), CONVGEMM_STATUS_SUCCESS)) {
    run_and_compare(handle, desc, CONVGEMM_ALGO_DIRECT, dx, dw, dbias, dy, want, got, y_count,
                    stream);
    run_and_compare(handle, desc, CONVGEMM_ALGO_IM2COL_GEMM, dx, dw, dbias, dy, want, got,
                    y_count, stream);
  }
  convgemm_destroy(handle);
  if (stream != NULL) cudaStreamDestroy(stream);
  cudaFree(dx);
  cudaFree(dw);
  cudaFree(dbias);
  cudaFree(dy);
  free(x);
  free(w);
  free(bias);
  free(got);
  free(want);
  convgemm_conv_desc_destroy(desc);
}

int main(void) {
  check_problem_55_shape();
  check_bad_descriptor();
  int devices = 0;
  const cudaError_t e = cudaGetDeviceCount(&devices);
  if (e == cudaSuccess && devices > 0) {
    check_small_convolution();
  } else {
    printf("GPU part skipped: cudaGetDeviceCount found no device (%s)\n",
           e == cudaSuccess ? "0 devices" : cudaGetErrorString(e));
  }
  const int passed = g_checks - g_failures;
  printf("%d%%: Checks: %d, Failures: %d, Errors: 0\n", g_checks ? 100 * passed / g_checks : 0,
         g_checks, g_failures);
  return g_failures == 0 ? 0 : 1;
}
