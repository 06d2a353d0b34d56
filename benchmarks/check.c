/* Fatal-error reporting and checked device allocation. */
#include "benchmarks/check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static void (*fatal_hook)(void) = NULL;
static char fatal_message[1024] = "";

void bench_set_fatal_hook(void (*hook)(void)) { fatal_hook = hook; }

const char* bench_fatal_message(void) { return fatal_message; }

void bench_die(const char* fmt, ...) {
  fflush(stdout);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(fatal_message, sizeof fatal_message, fmt, ap);
  va_end(ap);
  fprintf(stderr, "conv_bench: %s\n", fatal_message);
  void (*hook)(void) = fatal_hook;
  fatal_hook = NULL; /* a failure inside the hook must not recurse */
  if (hook != NULL) hook();
  exit(BENCH_EXIT_RUNTIME);
}

void bench_check_cuda(cudaError_t e, const char* call, const char* file, int line) {
  if (e != cudaSuccess)
    bench_die("%s failed: %s (%s) at %s:%d", call, cudaGetErrorName(e), cudaGetErrorString(e),
              file, line);
}

void bench_check_convgemm(convgemm_status_t st, const char* call, const char* file, int line) {
  if (st != CONVGEMM_STATUS_SUCCESS)
    bench_die("%s failed: %s: %s at %s:%d", call, convgemm_status_string(st),
              convgemm_get_last_error(), file, line);
}

void* bench_device_try_alloc(size_t bytes, const char* what) {
  void* p = NULL;
  if (bytes == 0) return NULL;
  const cudaError_t e = cudaMalloc(&p, bytes);
  if (e == cudaErrorMemoryAllocation) {
    cudaGetLastError(); /* out of memory is not sticky; clear it */
    return NULL;
  }
  if (e != cudaSuccess)
    bench_die("cudaMalloc(%s, %.3f GB) failed: %s (%s)", what, (double)bytes * 1e-9,
              cudaGetErrorName(e), cudaGetErrorString(e));
  return p;
}

void* bench_device_alloc(size_t bytes, const char* what) {
  void* p = bench_device_try_alloc(bytes, what);
  if (p == NULL && bytes > 0) {
    size_t free_b = 0, total_b = 0;
    cudaMemGetInfo(&free_b, &total_b);
    bench_die("cudaMalloc(%s, %.3f GB) failed: out of memory (%.3f GB free of %.3f GB)", what,
              (double)bytes * 1e-9, (double)free_b * 1e-9, (double)total_b * 1e-9);
  }
  return p;
}

void bench_device_free(void* ptr) {
  if (ptr != NULL) CUDA_CHECK(cudaFree(ptr));
}
