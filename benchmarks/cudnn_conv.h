/* The cuDNN baseline: descriptors for the convolution, the two ways PyTorch picks a cuDNN
 * algorithm, and one forward call (convolution, then cudnnAddTensor for the bias). Tensors in the
 * convolution's data type (CUDNN_DATA_FLOAT, CUDNN_DATA_HALF or CUDNN_DATA_BFLOAT16), computed
 * in float (the convolution descriptor's CUDNN_DATA_FLOAT), as PyTorch describes them; for
 * 16-bit data PyTorch asks for CUDNN_TENSOR_OP_MATH whatever its TF32 setting, and so does this
 * in both math modes.
 *   heuristic: cudnnGetConvolutionForwardAlgorithm_v7, the first result whose workspace can be
 *              allocated (PyTorch with torch.backends.cudnn.benchmark = False);
 *   find:      cudnnFindConvolutionForwardAlgorithmEx on the real tensors with the largest
 *              workspace that fits, the fastest result (cudnn.benchmark = True).
 * As in PyTorch, the chosen result's mathType is set on the descriptor before each forward, and in
 * IEEE mode only results with CUDNN_FMA_MATH are accepted. */
#ifndef CONVGEMM_BENCHMARKS_CUDNN_CONV_H_
#define CONVGEMM_BENCHMARKS_CUDNN_CONV_H_

#include <stddef.h>
#include <stdint.h>

#include <cuda_runtime_api.h>

#include "benchmarks/cudnn_api.h"
#include "conv/convgemm.h"

typedef struct bench_cudnn_conv {
  const bench_cudnn_api_t* api;
  cudnnHandle_t handle;       /* not owned */
  cudnnTensorDescriptor_t x_desc, y_desc, bias_desc;
  cudnnFilterDescriptor_t w_desc;
  cudnnConvolutionDescriptor_t conv_desc;
  int has_bias;
  convgemm_data_type_t data_type;
} bench_cudnn_conv_t;

typedef struct bench_cudnn_choice {
  cudnnConvolutionFwdAlgo_t algo;
  cudnnMathType_t math_type;
  size_t workspace_bytes;
  void* workspace;   /* owned; bench_cudnn_choice_release frees it */
  float find_ms;     /* cuDNN's own time of the algorithm in Find; -1 for the heuristic */
} bench_cudnn_choice_t;

/* A cuDNN handle on `stream`, shared by every shape of the run. */
cudnnHandle_t bench_cudnn_handle_create(const bench_cudnn_api_t* api, cudaStream_t stream);
void bench_cudnn_handle_destroy(const bench_cudnn_api_t* api, cudnnHandle_t handle);

/* Describes `params` (output P x Q, checked against cuDNN's own output shape) for `handle`. */
void bench_cudnn_conv_create(bench_cudnn_conv_t* c, const bench_cudnn_api_t* api,
                             cudnnHandle_t handle, const convgemm_conv2d_params_t* params,
                             int64_t p, int64_t q);
/* Destroys the descriptors (not the handle). */
void bench_cudnn_conv_destroy(bench_cudnn_conv_t* c);

void bench_cudnn_choose_heuristic(bench_cudnn_conv_t* c, convgemm_math_mode_t math,
                                  bench_cudnn_choice_t* choice);

/* Runs every algorithm on x, w and y (y is overwritten). */
void bench_cudnn_choose_find(bench_cudnn_conv_t* c, convgemm_math_mode_t math, const void* x,
                             const void* w, void* y, bench_cudnn_choice_t* choice);

void bench_cudnn_choice_release(bench_cudnn_choice_t* choice);

/* Queues y = conv(x, w) (+ bias) on the stream; dies on error. */
void bench_cudnn_forward(const bench_cudnn_conv_t* c, const bench_cudnn_choice_t* choice,
                         const void* x, const void* w, const void* bias, void* y);

const char* bench_cudnn_algo_name(cudnnConvolutionFwdAlgo_t algo);
const char* bench_cudnn_math_type_name(cudnnMathType_t math_type);

#endif /* CONVGEMM_BENCHMARKS_CUDNN_CONV_H_ */
