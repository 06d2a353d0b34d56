/* Copy-bandwidth and GEMM-rate ceilings of the card (see ceilings.h). */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include "benchmarks/ceilings.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cublasLt.h>

#include "benchmarks/check.h"
#include "benchmarks/device_ops.h"

/* cuBLASLt's scratch for the ceiling GEMMs. */
#define GEMM_WORKSPACE_BYTES ((size_t)32 << 20)
enum { SEED_A = 101, SEED_B = 102 };

static void add_note(bench_ceilings_t* c, const char* fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Appends one reason to c->note ("; " between reasons). */
static void add_note(bench_ceilings_t* c, const char* fmt, ...) {
  size_t used = strlen(c->note);
  if (used > 0 && used + 2 < sizeof c->note) {
    memcpy(c->note + used, "; ", 3);
    used += 2;
  }
  if (used + 1 >= sizeof c->note) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->note + used, sizeof c->note - used, fmt, ap);
  va_end(ap);
}

static int compare_double(const void* a, const void* b) {
  const double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

static double median(double* v, int n) {
  qsort(v, (size_t)n, sizeof *v, compare_double);
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Queues one operation of a ceiling measurement; returns 0 on success. */
typedef int (*op_fn)(void* ctx);

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Median ms of BENCH_CEILING_ITERS calls of `op`, after warm-up calls (at least
 * BENCH_CEILING_WARMUP, and for at least BENCH_CEILING_WARMUP_MS, so clocks settle); < 0 if op
 * failed. */
static double time_op(cudaStream_t stream, op_fn op, void* ctx) {
  cudaEvent_t begin, end;
  CUDA_CHECK(cudaEventCreate(&begin));
  CUDA_CHECK(cudaEventCreate(&end));
  double ms[BENCH_CEILING_ITERS];
  double result = -1.0;
  const double warm_start = now_s();
  for (int i = 0; i < BENCH_CEILING_WARMUP ||
                  (now_s() - warm_start) * 1e3 < BENCH_CEILING_WARMUP_MS;
       ++i) {
    if (op(ctx) != 0) goto done;
    CUDA_CHECK(cudaStreamSynchronize(stream));
  }
  for (int i = 0; i < BENCH_CEILING_ITERS; ++i) {
    CUDA_CHECK(cudaEventRecord(begin, stream));
    if (op(ctx) != 0) goto done;
    CUDA_CHECK(cudaEventRecord(end, stream));
    CUDA_CHECK(cudaEventSynchronize(end));
    float e = 0.0f;
    CUDA_CHECK(cudaEventElapsedTime(&e, begin, end));
    ms[i] = e;
  }
  result = median(ms, BENCH_CEILING_ITERS);
done:
  CUDA_CHECK(cudaStreamSynchronize(stream));
  CUDA_CHECK(cudaEventDestroy(begin));
  CUDA_CHECK(cudaEventDestroy(end));
  return result;
}

/* ---- copy ---------------------------------------------------------------------------------- */

typedef struct copy_ctx {
  void *dst, *src;
  size_t bytes;
  cudaStream_t stream;
} copy_ctx_t;

static int copy_op(void* ctx) {
  const copy_ctx_t* c = ctx;
  CUDA_CHECK(cudaMemcpyAsync(c->dst, c->src, c->bytes, cudaMemcpyDeviceToDevice, c->stream));
  return 0;
}

static void measure_copy(bench_ceilings_t* c, cudaStream_t stream) {
  copy_ctx_t ctx = {NULL, NULL, BENCH_COPY_BYTES, stream};
  ctx.src = bench_device_try_alloc(ctx.bytes, "copy ceiling source");
  ctx.dst = bench_device_try_alloc(ctx.bytes, "copy ceiling destination");
  if (ctx.src == NULL || ctx.dst == NULL) {
    add_note(c, "copy bandwidth not measured: 2 GiB of device memory is not free");
  } else {
    CUDA_CHECK(cudaMemsetAsync(ctx.src, 0x3c, ctx.bytes, stream));
    const double ms = time_op(stream, copy_op, &ctx);
    c->copy_bytes = (double)ctx.bytes;
    c->copy_ms = ms;
    c->copy_gbps = 2.0 * (double)ctx.bytes / (ms * 1e-3) * 1e-9;
    c->copy_ok = ms > 0.0;
  }
  bench_device_free(ctx.dst);
  bench_device_free(ctx.src);
}

/* ---- GEMM ---------------------------------------------------------------------------------- */

typedef struct gemm_ctx {
  cublasLtHandle_t lt;
  cublasLtMatmulDesc_t op;
  cublasLtMatrixLayout_t layout; /* m = n = k: one layout serves A, B and D */
  cublasLtMatmulAlgo_t algo;
  const void *a, *b;
  void* d;
  void* workspace;
  cudaStream_t stream;
  cublasStatus_t status;
} gemm_ctx_t;

static int gemm_op(void* ctx) {
  gemm_ctx_t* g = ctx;
  const float one = 1.0f, zero = 0.0f;
  g->status = cublasLtMatmul(g->lt, g->op, &one, g->a, g->layout, g->b, g->layout, &zero, g->d,
                             g->layout, g->d, g->layout, &g->algo, g->workspace,
                             GEMM_WORKSPACE_BYTES, g->stream);
  return g->status == CUBLAS_STATUS_SUCCESS ? 0 : -1;
}

/* The first heuristic algorithm of the GEMM under g->op; a cuBLASLt status. */
static cublasStatus_t choose_algo(gemm_ctx_t* g) {
  cublasLtMatmulPreference_t pref = NULL;
  cublasStatus_t st = cublasLtMatmulPreferenceCreate(&pref);
  if (st != CUBLAS_STATUS_SUCCESS) return st;
  const size_t ws = GEMM_WORKSPACE_BYTES;
  st = cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws,
                                            sizeof ws);
  if (st == CUBLAS_STATUS_SUCCESS) {
    cublasLtMatmulHeuristicResult_t heur;
    int returned = 0;
    st = cublasLtMatmulAlgoGetHeuristic(g->lt, g->op, g->layout, g->layout, g->layout, g->layout,
                                        pref, 1, &heur, &returned);
    if (st == CUBLAS_STATUS_SUCCESS && returned == 0) st = CUBLAS_STATUS_NOT_SUPPORTED;
    if (st == CUBLAS_STATUS_SUCCESS) g->algo = heur.algo;
  }
  cublasLtMatmulPreferenceDestroy(pref);
  return st;
}

/* Median ms of the GEMM under `compute`; < 0 with a note on failure. */
static double time_gemm(bench_ceilings_t* c, gemm_ctx_t* g, cublasComputeType_t compute,
                        const char* what) {
  cublasStatus_t st = cublasLtMatmulDescCreate(&g->op, compute, CUDA_R_32F);
  if (st != CUBLAS_STATUS_SUCCESS) {
    add_note(c, "%s GEMM rate not measured: cublasLtMatmulDescCreate: %s", what,
             cublasLtGetStatusString(st));
    return -1.0;
  }
  double ms = -1.0;
  st = choose_algo(g);
  if (st == CUBLAS_STATUS_SUCCESS) {
    ms = time_op(g->stream, gemm_op, g);
    if (ms < 0.0) st = g->status;
  }
  if (ms < 0.0)
    add_note(c, "%s GEMM rate not measured: cuBLASLt: %s", what, cublasLtGetStatusString(st));
  cublasLtMatmulDescDestroy(g->op);
  g->op = NULL;
  return ms;
}

const char* bench_half_gemm_name(convgemm_data_type_t type) {
  return type == CONVGEMM_DATA_FLOAT16 ? "FP16" : type == CONVGEMM_DATA_BFLOAT16 ? "BF16" : "";
}

/* The 16-bit GEMM on a and b refilled with 16-bit values (the float buffers hold them twice
 * over); CUBLAS_COMPUTE_32F, float scale. */
static void measure_half_gemm(bench_ceilings_t* c, gemm_ctx_t* g, void* a, void* b, size_t elems,
                              double flops, convgemm_data_type_t type) {
  const char* name = bench_half_gemm_name(type);
  CUDA_CHECK(bench_fill_uniform_typed(a, elems, type, SEED_A, -1.0f, 1.0f, g->stream));
  CUDA_CHECK(bench_fill_uniform_typed(b, elems, type, SEED_B, -1.0f, 1.0f, g->stream));
  cublasLtMatrixLayout_t layout = NULL;
  const cublasStatus_t st = cublasLtMatrixLayoutCreate(
      &layout, type == CONVGEMM_DATA_FLOAT16 ? CUDA_R_16F : CUDA_R_16BF, (uint64_t)c->gemm_dim,
      (uint64_t)c->gemm_dim, c->gemm_dim);
  if (st != CUBLAS_STATUS_SUCCESS) {
    add_note(c, "%s GEMM rate not measured: cublasLtMatrixLayoutCreate: %s", name,
             cublasLtGetStatusString(st));
    return;
  }
  cublasLtMatrixLayout_t fp32_layout = g->layout;
  g->layout = layout;
  c->half_ms = time_gemm(c, g, CUBLAS_COMPUTE_32F, name);
  c->half_ok = c->half_ms > 0.0;
  if (c->half_ok) c->half_tflops = flops / (c->half_ms * 1e-3) * 1e-12;
  g->layout = fp32_layout;
  cublasLtMatrixLayoutDestroy(layout);
}

static void measure_gemm(bench_ceilings_t* c, cudaStream_t stream, convgemm_data_type_t type) {
  const int64_t dim = BENCH_GEMM_DIM;
  const size_t elems = (size_t)dim * (size_t)dim;
  c->gemm_dim = BENCH_GEMM_DIM;
  gemm_ctx_t g;
  memset(&g, 0, sizeof g);
  g.stream = stream;
  cublasStatus_t st;
  float* a = bench_device_try_alloc(elems * sizeof(float), "GEMM ceiling A");
  float* b = bench_device_try_alloc(elems * sizeof(float), "GEMM ceiling B");
  float* d = bench_device_try_alloc(elems * sizeof(float), "GEMM ceiling D");
  g.workspace = bench_device_try_alloc(GEMM_WORKSPACE_BYTES, "GEMM ceiling workspace");
  if (a == NULL || b == NULL || d == NULL || g.workspace == NULL) {
    add_note(c, "GEMM rates not measured: 800 MiB of device memory is not free");
    goto out;
  }
  CUDA_CHECK(bench_fill_uniform(a, elems, SEED_A, -1.0f, 1.0f, stream));
  CUDA_CHECK(bench_fill_uniform(b, elems, SEED_B, -1.0f, 1.0f, stream));
  g.a = a;
  g.b = b;
  g.d = d;
  st = cublasLtCreate(&g.lt);
  if (st != CUBLAS_STATUS_SUCCESS) {
    add_note(c, "GEMM rates not measured: cublasLtCreate: %s", cublasLtGetStatusString(st));
    goto out;
  }
  st = cublasLtMatrixLayoutCreate(&g.layout, CUDA_R_32F, (uint64_t)dim, (uint64_t)dim, dim);
  if (st != CUBLAS_STATUS_SUCCESS) {
    add_note(c, "GEMM rates not measured: cublasLtMatrixLayoutCreate: %s",
             cublasLtGetStatusString(st));
  } else {
    const double flops = 2.0 * (double)dim * (double)dim * (double)dim;
    c->tf32_ms = time_gemm(c, &g, CUBLAS_COMPUTE_32F_FAST_TF32, "TF32");
    c->tf32_ok = c->tf32_ms > 0.0;
    if (c->tf32_ok) c->tf32_tflops = flops / (c->tf32_ms * 1e-3) * 1e-12;
    c->fp32_ms = time_gemm(c, &g, CUBLAS_COMPUTE_32F, "FP32");
    c->fp32_ok = c->fp32_ms > 0.0;
    if (c->fp32_ok) c->fp32_tflops = flops / (c->fp32_ms * 1e-3) * 1e-12;
    if (type != CONVGEMM_DATA_FLOAT32) measure_half_gemm(c, &g, a, b, elems, flops, type);
    cublasLtMatrixLayoutDestroy(g.layout);
  }
  cublasLtDestroy(g.lt);
out:
  CUDA_CHECK(cudaStreamSynchronize(stream));
  bench_device_free(g.workspace);
  bench_device_free(d);
  bench_device_free(b);
  bench_device_free(a);
}

void bench_ceilings_measure(bench_ceilings_t* c, cudaStream_t stream, convgemm_data_type_t type) {
  memset(c, 0, sizeof *c);
  c->measured = 1;
  c->half_type = type;
  fprintf(stderr,
          "conv_bench: ceilings: device-to-device copy of %.2f GiB, %.0f ms warm-up + %d timed\n",
          (double)BENCH_COPY_BYTES / (1 << 30), BENCH_CEILING_WARMUP_MS, BENCH_CEILING_ITERS);
  measure_copy(c, stream);
  fprintf(stderr,
          "conv_bench: ceilings: cuBLASLt %d^3 GEMM, TF32 then FP32%s%s, %.0f ms warm-up + %d "
          "timed\n",
          BENCH_GEMM_DIM, type != CONVGEMM_DATA_FLOAT32 ? " then " : "",
          bench_half_gemm_name(type), BENCH_CEILING_WARMUP_MS, BENCH_CEILING_ITERS);
  measure_gemm(c, stream, type);
  if (c->note[0] != '\0') fprintf(stderr, "conv_bench: ceilings: %s\n", c->note);
}

double bench_memory_floor_ms(const bench_ceilings_t* c, double compulsory_bytes) {
  if (!c->measured || !c->copy_ok) return -1.0;
  return compulsory_bytes / (c->copy_gbps * 1e9) * 1e3;
}

double bench_math_floor_ms(const bench_ceilings_t* c, double flops, convgemm_math_mode_t math,
                           convgemm_data_type_t type) {
  if (!c->measured) return -1.0;
  if (type != CONVGEMM_DATA_FLOAT32)
    return c->half_ok && c->half_type == type ? flops / (c->half_tflops * 1e12) * 1e3 : -1.0;
  if (math == CONVGEMM_MATH_IEEE) return c->fp32_ok ? flops / (c->fp32_tflops * 1e12) * 1e3 : -1.0;
  return c->tf32_ok ? flops / (c->tf32_tflops * 1e12) * 1e3 : -1.0;
}
