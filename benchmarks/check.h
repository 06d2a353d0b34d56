/* Fatal-error reporting for conv_bench: every CUDA runtime and convgemm call is checked and, when
 * it fails, named in a one-line message on stderr before the process exits. Exit codes live here
 * too. */
#ifndef CONVGEMM_BENCHMARKS_CHECK_H_
#define CONVGEMM_BENCHMARKS_CHECK_H_

#include <stddef.h>

#include <cuda_runtime_api.h>

#include "conv/convgemm.h"

/* Process exit codes of conv_bench (also listed in --help and README.md). */
enum {
  BENCH_EXIT_OK = 0,        /* every convgemm row passed (or had no reference to check against) */
  BENCH_EXIT_FAIL = 1,      /* a convgemm row failed the check or returned an error */
  BENCH_EXIT_USAGE = 2,     /* bad flag or invalid convolution */
  BENCH_EXIT_RUNTIME = 3    /* no GPU, or a CUDA / cuDNN / convgemm call failed */
};

/* Called once by bench_die before it exits (e.g. to print the rows measured so far). */
void bench_set_fatal_hook(void (*hook)(void));

/* Prints "conv_bench: <message>" on stderr, runs the fatal hook and exits BENCH_EXIT_RUNTIME. */
void bench_die(const char* fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* The message of the bench_die in progress (for the fatal hook); "" before any. */
const char* bench_fatal_message(void);

/* Dies naming `call` unless e is cudaSuccess. */
void bench_check_cuda(cudaError_t e, const char* call, const char* file, int line);
#define CUDA_CHECK(call) bench_check_cuda((call), #call, __FILE__, __LINE__)

/* Dies naming `call` and convgemm's last error unless st is CONVGEMM_STATUS_SUCCESS. */
void bench_check_convgemm(convgemm_status_t st, const char* call, const char* file, int line);
#define CONVGEMM_CHECK(call) bench_check_convgemm((call), #call, __FILE__, __LINE__)

/* cudaMalloc of `bytes` (NULL for 0 bytes) that dies with `what` and the size on failure. */
void* bench_device_alloc(size_t bytes, const char* what);

/* cudaMalloc that returns NULL for 0 bytes and on out-of-memory (clearing the error); dies on
 * other errors. */
void* bench_device_try_alloc(size_t bytes, const char* what);

/* cudaFree that accepts NULL and dies on error. */
void bench_device_free(void* ptr);

#endif /* CONVGEMM_BENCHMARKS_CHECK_H_ */
