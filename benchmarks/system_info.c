/* Device, driver and library versions for the report header. */
#include "benchmarks/system_info.h"

#include <stdio.h>
#include <string.h>

#include <cuda_runtime_api.h>

#include "benchmarks/check.h"
#include "conv/convgemm.h"

int bench_gpu_available(char* why, size_t why_len) {
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    snprintf(why, why_len, "no usable CUDA GPU: cudaGetDeviceCount failed: %s (%s)",
             cudaGetErrorName(e), cudaGetErrorString(e));
    return 0;
  }
  if (count == 0) {
    snprintf(why, why_len, "no usable CUDA GPU: cudaGetDeviceCount found 0 devices");
    return 0;
  }
  return 1;
}

void bench_system_query(bench_system_t* s, const bench_cudnn_api_t* cudnn, const char* cudnn_why) {
  memset(s, 0, sizeof *s);
  CUDA_CHECK(cudaGetDevice(&s->device));
  struct cudaDeviceProp prop;
  CUDA_CHECK(cudaGetDeviceProperties(&prop, s->device));
  snprintf(s->name, sizeof s->name, "%s", prop.name);
  s->cc_major = prop.major;
  s->cc_minor = prop.minor;
  s->sm_count = prop.multiProcessorCount;
  s->total_memory = prop.totalGlobalMem;
  s->l2_bytes = prop.l2CacheSize;
  CUDA_CHECK(cudaDriverGetVersion(&s->driver_version));
  CUDA_CHECK(cudaRuntimeGetVersion(&s->runtime_version));
  if (cudnn != NULL) {
    s->cudnn_loaded = 1;
    s->cudnn_version = cudnn->version;
    snprintf(s->cudnn_path, sizeof s->cudnn_path, "%s", cudnn->path);
  } else {
    snprintf(s->cudnn_path, sizeof s->cudnn_path, "%s", cudnn_why != NULL ? cudnn_why : "");
  }
  s->convgemm_version = convgemm_get_version();
}
