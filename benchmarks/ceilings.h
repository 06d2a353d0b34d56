/* The card's ceilings, measured once at start, from which every row's floors come:
 *   copy bandwidth: cudaMemcpyAsync device-to-device of BENCH_COPY_BYTES, counting the bytes read
 *                   plus the bytes written, median of BENCH_CEILING_ITERS copies after warm-up
 *                   copies for BENCH_CEILING_WARMUP_MS;
 *   TF32 and FP32 GEMM rate: cuBLASLt D = A*B, m = n = k = BENCH_GEMM_DIM, fp32 in and out,
 *                   CUBLAS_COMPUTE_32F_FAST_TF32 and CUBLAS_COMPUTE_32F, operands uniform in
 *                   [-1, 1), median of BENCH_CEILING_ITERS calls after warm-up calls for
 *                   BENCH_CEILING_WARMUP_MS.
 * Floors of a convolution: memory = compulsory bytes / copy bandwidth; math = FLOPs / TF32 rate
 * (default math) or FLOPs / FP32 rate (ieee); floor = the larger. A failed measurement leaves its
 * ceiling out (with the reason), never stops the benchmark. */
#ifndef CONVGEMM_BENCHMARKS_CEILINGS_H_
#define CONVGEMM_BENCHMARKS_CEILINGS_H_

#include <stddef.h>
#include <stdint.h>

#include <cuda_runtime_api.h>

#include "conv/convgemm.h"

#define BENCH_COPY_BYTES ((size_t)1 << 30)
#define BENCH_GEMM_DIM 8192
#define BENCH_CEILING_WARMUP 3        /* warm-up calls, at least ... */
#define BENCH_CEILING_WARMUP_MS 200.0 /* ... and for at least this long */
#define BENCH_CEILING_ITERS 7

typedef struct bench_ceilings {
  int measured;            /* 0: --no-ceilings (nothing below is set) */
  int copy_ok;
  double copy_bytes;       /* bytes per copy (each read and written once) */
  double copy_ms;          /* median */
  double copy_gbps;        /* 2 * copy_bytes / copy_ms, in GB/s */
  int gemm_dim;
  int tf32_ok, fp32_ok;
  double tf32_ms, fp32_ms; /* medians */
  double tf32_tflops, fp32_tflops;
  char note[512];          /* why a ceiling is missing; "" when all were measured */
} bench_ceilings_t;

/* Measures on `stream` (device memory: 2 GiB for the copy, then 768 MiB for the GEMMs, freed). */
void bench_ceilings_measure(bench_ceilings_t* c, cudaStream_t stream);

/* The floors of a convolution in ms; < 0 where the ceiling is missing. */
double bench_memory_floor_ms(const bench_ceilings_t* c, double compulsory_bytes);
double bench_math_floor_ms(const bench_ceilings_t* c, double flops, convgemm_math_mode_t math);

#endif /* CONVGEMM_BENCHMARKS_CEILINGS_H_ */
