/* cuDNN, loaded at run time: dlopen("libcudnn.so.9") (else "libcudnn.so") and dlsym of the legacy
 * convolution API. cuDNN is only the benchmark's baseline, never a link dependency: the types and
 * prototypes come from the toolkit's cudnn.h at compile time, the code from whatever cuDNN 9 the
 * machine has. */
#ifndef CONVGEMM_BENCHMARKS_CUDNN_API_H_
#define CONVGEMM_BENCHMARKS_CUDNN_API_H_

#include <stddef.h>

#include <cudnn.h>

/* Every cuDNN function conv_bench calls (all exported by the libcudnn.so.9 shim). */
#define BENCH_CUDNN_FUNCTIONS(X)                 \
  X(cudnnGetVersion)                             \
  X(cudnnGetErrorString)                         \
  X(cudnnGetLastErrorString)                     \
  X(cudnnCreate)                                 \
  X(cudnnDestroy)                                \
  X(cudnnSetStream)                              \
  X(cudnnCreateTensorDescriptor)                 \
  X(cudnnSetTensor4dDescriptor)                  \
  X(cudnnDestroyTensorDescriptor)                \
  X(cudnnCreateFilterDescriptor)                 \
  X(cudnnSetFilter4dDescriptor)                  \
  X(cudnnDestroyFilterDescriptor)                \
  X(cudnnCreateConvolutionDescriptor)            \
  X(cudnnSetConvolution2dDescriptor)             \
  X(cudnnSetConvolutionGroupCount)               \
  X(cudnnSetConvolutionMathType)                 \
  X(cudnnDestroyConvolutionDescriptor)           \
  X(cudnnGetConvolution2dForwardOutputDim)       \
  X(cudnnGetConvolutionForwardAlgorithmMaxCount) \
  X(cudnnGetConvolutionForwardAlgorithm_v7)      \
  X(cudnnFindConvolutionForwardAlgorithmEx)      \
  X(cudnnGetConvolutionForwardWorkspaceSize)     \
  X(cudnnConvolutionForward)                     \
  X(cudnnAddTensor)

/* The function table: one pointer per function, typed from its prototype in cudnn.h. */
typedef struct bench_cudnn_api {
#define BENCH_CUDNN_FIELD(fn) __typeof__(&fn) fn;
  BENCH_CUDNN_FUNCTIONS(BENCH_CUDNN_FIELD)
#undef BENCH_CUDNN_FIELD
  void* library;     /* the dlopen handle */
  char path[512];    /* the file the dynamic loader found */
  size_t version;    /* cudnnGetVersion(): MAJOR * 10000 + MINOR * 100 + PATCH */
} bench_cudnn_api_t;

/* Loads cuDNN 9 into *api. Returns 1 on success; 0 with a one-line reason in `why` if no usable
 * cuDNN was found (library missing, a symbol missing, or a major version other than 9). */
int bench_cudnn_load(bench_cudnn_api_t* api, char* why, size_t why_len);

/* dlclose; accepts an api that failed to load. */
void bench_cudnn_unload(bench_cudnn_api_t* api);

/* Dies naming `call` unless status is CUDNN_STATUS_SUCCESS (with cuDNN's own last message). */
void bench_check_cudnn(const bench_cudnn_api_t* api, cudnnStatus_t status, const char* call,
                       const char* file, int line);
#define CUDNN_CHECK(api, call) bench_check_cudnn((api), (api)->call, #call, __FILE__, __LINE__)

#endif /* CONVGEMM_BENCHMARKS_CUDNN_API_H_ */
