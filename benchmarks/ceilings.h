/* The card's ceilings, measured once at start, from which every row's floors come:
 *   copy bandwidth: cudaMemcpyAsync device-to-device of BENCH_COPY_BYTES, counting the bytes read
 *                   plus the bytes written, median of BENCH_CEILING_ITERS copies after warm-up
 *                   copies for BENCH_CEILING_WARMUP_MS;
 *   TF32 and FP32 GEMM rate: cuBLASLt D = A*B, m = n = k = BENCH_GEMM_DIM, fp32 in and out,
 *                   CUBLAS_COMPUTE_32F_FAST_TF32 and CUBLAS_COMPUTE_32F, operands uniform in
 *                   [-1, 1), median of BENCH_CEILING_ITERS calls after warm-up calls for
 *                   BENCH_CEILING_WARMUP_MS;
 *   16-bit GEMM rate (runs with --dtype float16 or bfloat16 only): the same GEMM with A, B and D
 *                   in that type, CUBLAS_COMPUTE_32F (fp32 accumulation, as convgemm's).
 * Floors of a convolution: memory = compulsory bytes / copy bandwidth; math = FLOPs / TF32 rate
 * (float32, default math) or FLOPs / FP32 rate (float32, ieee) or FLOPs / 16-bit rate (16-bit
 * data, either mode); floor = the larger. A failed measurement leaves its ceiling out (with the
 * reason), never stops the benchmark. */
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
  convgemm_data_type_t half_type; /* the run's 16-bit type, or FLOAT32: not measured */
  int half_ok;
  double half_ms, half_tflops;
  char note[512];          /* why a ceiling is missing; "" when all were measured */
} bench_ceilings_t;

/* Measures on `stream` (device memory: 2 GiB for the copy, then 768 MiB for the GEMMs, freed);
 * the 16-bit GEMM rate too when `type` is float16 or bfloat16. */
void bench_ceilings_measure(bench_ceilings_t* c, cudaStream_t stream, convgemm_data_type_t type);

/* The floors of a convolution in ms; < 0 where the ceiling is missing. */
double bench_memory_floor_ms(const bench_ceilings_t* c, double compulsory_bytes);
double bench_math_floor_ms(const bench_ceilings_t* c, double flops, convgemm_math_mode_t math,
                           convgemm_data_type_t type);

/* "FP16" or "BF16" for a 16-bit type, "" for float32. */
const char* bench_half_gemm_name(convgemm_data_type_t type);

#endif /* CONVGEMM_BENCHMARKS_CEILINGS_H_ */
