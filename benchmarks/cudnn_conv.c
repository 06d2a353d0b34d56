/* cuDNN baseline: descriptors, algorithm choice as PyTorch makes it, forward. */
#include "benchmarks/cudnn_conv.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "benchmarks/check.h"

/* Memory Find leaves free for the rest of the process. */
#define FIND_MEMORY_MARGIN ((size_t)512 << 20)

const char* bench_cudnn_algo_name(cudnnConvolutionFwdAlgo_t algo) {
  switch (algo) {
    case CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM: return "IMPLICIT_GEMM";
    case CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM: return "IMPLICIT_PRECOMP_GEMM";
    case CUDNN_CONVOLUTION_FWD_ALGO_GEMM: return "GEMM";
    case CUDNN_CONVOLUTION_FWD_ALGO_DIRECT: return "DIRECT";
    case CUDNN_CONVOLUTION_FWD_ALGO_FFT: return "FFT";
    case CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING: return "FFT_TILING";
    case CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD: return "WINOGRAD";
    case CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED: return "WINOGRAD_NONFUSED";
    case CUDNN_CONVOLUTION_FWD_ALGO_COUNT: break;
  }
  return "UNKNOWN";
}

const char* bench_cudnn_math_type_name(cudnnMathType_t math_type) {
  switch (math_type) {
    case CUDNN_DEFAULT_MATH: return "DEFAULT_MATH";
    case CUDNN_TENSOR_OP_MATH: return "TENSOR_OP_MATH";
    case CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION: return "TENSOR_OP_MATH_ALLOW_CONVERSION";
    case CUDNN_FMA_MATH: return "FMA_MATH";
  }
  return "UNKNOWN_MATH";
}

static cudnnDataType_t cudnn_type(convgemm_data_type_t type) {
  switch (type) {
    case CONVGEMM_DATA_FLOAT16: return CUDNN_DATA_HALF;
    case CONVGEMM_DATA_BFLOAT16: return CUDNN_DATA_BFLOAT16;
    case CONVGEMM_DATA_FLOAT32: break;
  }
  return CUDNN_DATA_FLOAT;
}

static int to_int(int64_t v, const char* what) {
  if (v < INT_MIN || v > INT_MAX)
    bench_die("%s = %lld does not fit cuDNN's int", what, (long long)v);
  return (int)v;
}

cudnnHandle_t bench_cudnn_handle_create(const bench_cudnn_api_t* api, cudaStream_t stream) {
  cudnnHandle_t handle = NULL;
  CUDNN_CHECK(api, cudnnCreate(&handle));
  CUDNN_CHECK(api, cudnnSetStream(handle, stream));
  return handle;
}

void bench_cudnn_handle_destroy(const bench_cudnn_api_t* api, cudnnHandle_t handle) {
  CUDNN_CHECK(api, cudnnDestroy(handle));
}

void bench_cudnn_conv_create(bench_cudnn_conv_t* c, const bench_cudnn_api_t* api,
                             cudnnHandle_t handle, const convgemm_conv2d_params_t* params,
                             int64_t p, int64_t q) {
  const bench_cudnn_api_t* a = api;  /* short name for CUDNN_CHECK */
  c->api = api;
  c->has_bias = params->has_bias != 0;
  c->data_type = params->data_type;
  const cudnnDataType_t type = cudnn_type(params->data_type);
  const int n = to_int(params->n, "N"), ch = to_int(params->c, "C");
  const int h = to_int(params->h, "H"), w = to_int(params->w, "W");
  const int k = to_int(params->k, "K"), r = to_int(params->r, "R"), s = to_int(params->s, "S");
  const int g = to_int(params->groups, "groups");
  const int pi = to_int(p, "P"), qi = to_int(q, "Q");

  c->handle = handle;
  CUDNN_CHECK(a, cudnnCreateTensorDescriptor(&c->x_desc));
  CUDNN_CHECK(a, cudnnSetTensor4dDescriptor(c->x_desc, CUDNN_TENSOR_NCHW, type, n, ch, h, w));
  CUDNN_CHECK(a, cudnnCreateFilterDescriptor(&c->w_desc));
  CUDNN_CHECK(a, cudnnSetFilter4dDescriptor(c->w_desc, type, CUDNN_TENSOR_NCHW, k, ch / g, r, s));
  CUDNN_CHECK(a, cudnnCreateConvolutionDescriptor(&c->conv_desc));
  CUDNN_CHECK(a, cudnnSetConvolution2dDescriptor(
                     c->conv_desc, to_int(params->pad_h, "pad_h"), to_int(params->pad_w, "pad_w"),
                     to_int(params->stride_h, "stride_h"), to_int(params->stride_w, "stride_w"),
                     to_int(params->dilation_h, "dilation_h"),
                     to_int(params->dilation_w, "dilation_w"), CUDNN_CROSS_CORRELATION,
                     CUDNN_DATA_FLOAT)); /* compute type: float for every data type */
  CUDNN_CHECK(a, cudnnSetConvolutionGroupCount(c->conv_desc, g));

  int yn, yk, yp, yq;
  CUDNN_CHECK(a, cudnnGetConvolution2dForwardOutputDim(c->conv_desc, c->x_desc, c->w_desc, &yn,
                                                       &yk, &yp, &yq));
  if (yn != n || yk != k || yp != pi || yq != qi)
    bench_die("cuDNN's output shape (%d, %d, %d, %d) differs from convgemm's (%d, %d, %d, %d)",
              yn, yk, yp, yq, n, k, pi, qi);
  CUDNN_CHECK(a, cudnnCreateTensorDescriptor(&c->y_desc));
  CUDNN_CHECK(a, cudnnSetTensor4dDescriptor(c->y_desc, CUDNN_TENSOR_NCHW, type, n, k, pi, qi));
  c->bias_desc = NULL;
  if (c->has_bias) {
    CUDNN_CHECK(a, cudnnCreateTensorDescriptor(&c->bias_desc));
    CUDNN_CHECK(a, cudnnSetTensor4dDescriptor(c->bias_desc, CUDNN_TENSOR_NCHW, type, 1, k, 1, 1));
  }
}

void bench_cudnn_conv_destroy(bench_cudnn_conv_t* c) {
  const bench_cudnn_api_t* a = c->api;
  if (c->bias_desc != NULL) CUDNN_CHECK(a, cudnnDestroyTensorDescriptor(c->bias_desc));
  CUDNN_CHECK(a, cudnnDestroyTensorDescriptor(c->y_desc));
  CUDNN_CHECK(a, cudnnDestroyConvolutionDescriptor(c->conv_desc));
  CUDNN_CHECK(a, cudnnDestroyFilterDescriptor(c->w_desc));
  CUDNN_CHECK(a, cudnnDestroyTensorDescriptor(c->x_desc));
}

/* PyTorch's: float32 CUDNN_DEFAULT_MATH (TF32 allowed) or CUDNN_FMA_MATH (allow_tf32 = False);
 * 16-bit data CUDNN_TENSOR_OP_MATH whatever the TF32 setting (so in both math modes). */
static cudnnMathType_t base_math_type(const bench_cudnn_conv_t* c, convgemm_math_mode_t math) {
  if (c->data_type != CONVGEMM_DATA_FLOAT32) return CUDNN_TENSOR_OP_MATH;
  return math == CONVGEMM_MATH_IEEE ? CUDNN_FMA_MATH : CUDNN_DEFAULT_MATH;
}

/* PyTorch's rule: a result must have succeeded, and with TF32 off it must be FMA math (float32
 * data only: 16-bit convolutions take any math type in PyTorch). */
static int acceptable(const bench_cudnn_conv_t* c, const cudnnConvolutionFwdAlgoPerf_t* perf,
                      convgemm_math_mode_t math, const char* how) {
  if (perf->status != CUDNN_STATUS_SUCCESS) return 0;
  if (c->data_type == CONVGEMM_DATA_FLOAT32 && math == CONVGEMM_MATH_IEEE &&
      perf->mathType != CUDNN_FMA_MATH) {
    fprintf(stderr, "conv_bench: [ieee] %s: skipping %s with %s (not FMA math)\n", how,
            bench_cudnn_algo_name(perf->algo), bench_cudnn_math_type_name(perf->mathType));
    return 0;
  }
  return 1;
}

/* Workspace of `algo` under `math_type` (set on the descriptor); 0 with *ok = 0 if unsupported. */
static size_t workspace_size(bench_cudnn_conv_t* c, cudnnConvolutionFwdAlgo_t algo,
                             cudnnMathType_t math_type, int* ok) {
  const bench_cudnn_api_t* a = c->api;
  CUDNN_CHECK(a, cudnnSetConvolutionMathType(c->conv_desc, math_type));
  size_t bytes = 0;
  const cudnnStatus_t st = a->cudnnGetConvolutionForwardWorkspaceSize(
      c->handle, c->x_desc, c->w_desc, c->conv_desc, c->y_desc, algo, &bytes);
  *ok = st == CUDNN_STATUS_SUCCESS;
  return *ok ? bytes : 0;
}

/* Tries the results in order; the first acceptable one whose workspace allocates wins. */
static int take_first(bench_cudnn_conv_t* c, convgemm_math_mode_t math, const char* how,
                      const cudnnConvolutionFwdAlgoPerf_t* perf, int count,
                      bench_cudnn_choice_t* choice) {
  for (int i = 0; i < count; ++i) {
    if (!acceptable(c, &perf[i], math, how)) continue;
    int ok;
    size_t bytes = workspace_size(c, perf[i].algo, perf[i].mathType, &ok);
    if (!ok) continue;
    if (perf[i].memory > bytes) bytes = perf[i].memory;
    void* ws = bench_device_try_alloc(bytes, "cuDNN workspace");
    if (ws == NULL && bytes > 0) {
      fprintf(stderr, "conv_bench: %s: skipping %s: its %.3f GB workspace does not fit\n", how,
              bench_cudnn_algo_name(perf[i].algo), (double)bytes * 1e-9);
      continue;
    }
    choice->algo = perf[i].algo;
    choice->math_type = perf[i].mathType;
    choice->workspace_bytes = bytes;
    choice->workspace = ws;
    choice->find_ms = perf[i].time;
    return 1;
  }
  return 0;
}

static int max_algo_count(bench_cudnn_conv_t* c) {
  int count = 0;
  CUDNN_CHECK(c->api, cudnnGetConvolutionForwardAlgorithmMaxCount(c->handle, &count));
  return count > 0 ? count : 1;
}

void bench_cudnn_choose_heuristic(bench_cudnn_conv_t* c, convgemm_math_mode_t math,
                                  bench_cudnn_choice_t* choice) {
  const bench_cudnn_api_t* a = c->api;
  const int max_count = max_algo_count(c);
  cudnnConvolutionFwdAlgoPerf_t* perf = calloc((size_t)max_count, sizeof *perf);
  if (perf == NULL) bench_die("out of host memory");
  int returned = 0;
  CUDNN_CHECK(a, cudnnSetConvolutionMathType(c->conv_desc, base_math_type(c, math)));
  CUDNN_CHECK(a, cudnnGetConvolutionForwardAlgorithm_v7(c->handle, c->x_desc, c->w_desc,
                                                        c->conv_desc, c->y_desc, max_count,
                                                        &returned, perf));
  const int found = take_first(c, math, "cudnn", perf, returned, choice);
  free(perf);
  if (!found)
    bench_die("no algorithm of cudnnGetConvolutionForwardAlgorithm_v7 is usable (%d returned)",
              returned);
  choice->find_ms = -1.0f;
}

/* The largest workspace any algorithm asks for that fits in free memory (PyTorch's
 * getMaxWorkspaceSize), allocated; halved until it allocates. */
static void* find_workspace(bench_cudnn_conv_t* c, convgemm_math_mode_t math, size_t* bytes) {
  size_t free_b = 0, total_b = 0;
  CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
  const size_t limit = free_b > FIND_MEMORY_MARGIN ? free_b - FIND_MEMORY_MARGIN : 0;
  size_t want = 0;
  for (int algo = 0; algo < CUDNN_CONVOLUTION_FWD_ALGO_COUNT; ++algo) {
    int ok;
    const size_t sz = workspace_size(c, (cudnnConvolutionFwdAlgo_t)algo, base_math_type(c, math),
                                     &ok);
    if (ok && sz <= limit && sz > want) want = sz;
  }
  while (want > 0) {
    void* ws = bench_device_try_alloc(want, "cuDNN Find workspace");
    if (ws != NULL) {
      *bytes = want;
      return ws;
    }
    want /= 2;
  }
  *bytes = 0;
  return NULL;
}

void bench_cudnn_choose_find(bench_cudnn_conv_t* c, convgemm_math_mode_t math, const void* x,
                             const void* w, void* y, bench_cudnn_choice_t* choice) {
  const bench_cudnn_api_t* a = c->api;
  const int max_count = max_algo_count(c);
  cudnnConvolutionFwdAlgoPerf_t* perf = calloc((size_t)max_count, sizeof *perf);
  if (perf == NULL) bench_die("out of host memory");
  size_t ws_bytes = 0;
  void* ws = find_workspace(c, math, &ws_bytes);
  CUDNN_CHECK(a, cudnnSetConvolutionMathType(c->conv_desc, base_math_type(c, math)));
  int returned = 0;
  CUDNN_CHECK(a, cudnnFindConvolutionForwardAlgorithmEx(c->handle, c->x_desc, x, c->w_desc, w,
                                                        c->conv_desc, c->y_desc, y, max_count,
                                                        &returned, perf, ws, ws_bytes));
  bench_device_free(ws);
  const int found = take_first(c, math, "cudnn_find", perf, returned, choice);
  free(perf);
  if (!found)
    bench_die("no algorithm of cudnnFindConvolutionForwardAlgorithmEx is usable (%d returned)",
              returned);
}

void bench_cudnn_choice_release(bench_cudnn_choice_t* choice) {
  bench_device_free(choice->workspace);
  choice->workspace = NULL;
  choice->workspace_bytes = 0;
}

void bench_cudnn_forward(const bench_cudnn_conv_t* c, const bench_cudnn_choice_t* choice,
                         const void* x, const void* w, const void* bias, void* y) {
  const bench_cudnn_api_t* a = c->api;
  /* Scaling factors are float for float, half and bfloat16 data alike (cuDNN's rule). */
  const float one = 1.0f, zero = 0.0f;
  CUDNN_CHECK(a, cudnnSetConvolutionMathType(c->conv_desc, choice->math_type));
  CUDNN_CHECK(a, cudnnConvolutionForward(c->handle, &one, c->x_desc, x, c->w_desc, w,
                                         c->conv_desc, choice->algo, choice->workspace,
                                         choice->workspace_bytes, &zero, c->y_desc, y));
  if (c->has_bias)
    CUDNN_CHECK(a, cudnnAddTensor(c->handle, &one, c->bias_desc, bias, &one, c->y_desc, y));
}
