/* The facts printed above every result: card, driver, runtime, cuDNN and convgemm versions. */
#ifndef CONVGEMM_BENCHMARKS_SYSTEM_INFO_H_
#define CONVGEMM_BENCHMARKS_SYSTEM_INFO_H_

#include <stddef.h>

#include "benchmarks/cudnn_api.h"

typedef struct bench_system {
  int device;
  char name[256];
  int cc_major, cc_minor;
  int sm_count;
  size_t total_memory;
  int l2_bytes;
  int driver_version;   /* cudaDriverGetVersion: 1000 * major + 10 * minor */
  int runtime_version;  /* cudaRuntimeGetVersion (the static cudart linked in) */
  int cudnn_loaded;
  size_t cudnn_version; /* cudnnGetVersion() when loaded */
  char cudnn_path[512]; /* the loaded file, or why none was loaded */
  int convgemm_version; /* convgemm_get_version() */
} bench_system_t;

/* Returns 1 if a CUDA device is usable; else 0 with a one-line reason in `why`. */
int bench_gpu_available(char* why, size_t why_len);

/* Reads the current device's facts; cudnn is NULL when not loaded (`cudnn_why` says why). */
void bench_system_query(bench_system_t* s, const bench_cudnn_api_t* cudnn, const char* cudnn_why);

#endif /* CONVGEMM_BENCHMARKS_SYSTEM_INFO_H_ */
