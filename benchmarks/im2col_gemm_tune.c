/*
 * IM2COL_GEMM tuning probe (a developer tool, not the main benchmark): where does a call's time
 * go, per chunk size, buffer count and the SMs the GEMMs may use (the rest are left to the next
 * chunk's im2col on the other stream)? For problem 55 (or the shape given as N C H W K R S) it
 * times, with CUDA events (median of 7 calls after 2 warm-ups, no L2 flush):
 *   graph   the whole call captured as one CUDA graph (what convgemm_forward does)
 *   stream  the same launches queued one by one
 *   im2col  the im2col kernels alone (graph)
 *   gemm    the packing and GEMMs alone, on whatever the buffers hold (graph)
 * Chunks of 8K to 128K pixels.
 * Usage: im2col_gemm_tune [default|ieee] [N C H W K R S]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cuda_runtime_api.h>

#include "conv/im2col_gemm.h"
#include "conv/internal.h"

#define CK(call)                                                                  \
  do {                                                                            \
    cudaError_t e_ = (call);                                                      \
    if (e_ != cudaSuccess) {                                                      \
      fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, cudaGetErrorString(e_)); \
      exit(3);                                                                    \
    }                                                                             \
  } while (0)
#define CV(call)                                                                         \
  do {                                                                                   \
    convgemm_status_t s_ = (call);                                                       \
    if (s_ != CONVGEMM_STATUS_SUCCESS) {                                                 \
      fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, convgemm_get_last_error());     \
      exit(3);                                                                           \
    }                                                                                    \
  } while (0)

static int cmp_float(const void* a, const void* b) {
  const float x = *(const float*)a, y = *(const float*)b;
  return (x > y) - (x < y);
}

/* Median ms of 7 calls of `graph` (or of direct enqueues when graph is NULL). */
static float time_calls(struct convgemm_handle* h, const struct convgemm_conv_desc* d,
                        const convgemm_im2col_gemm_plan_t* plan, float* x, float* w, float* y,
                        void* ws, cudaStream_t stream, cudaGraphExec_t graph) {
  cudaEvent_t a, b;
  CK(cudaEventCreate(&a));
  CK(cudaEventCreate(&b));
  float ms[7];
  for (int it = -2; it < 7; ++it) {
    CK(cudaEventRecord(a, stream));
    if (graph != NULL) {
      CK(cudaGraphLaunch(graph, stream));
    } else {
      CV(convgemm_im2col_gemm_enqueue(h, d, plan, x, w, NULL, y, ws, stream,
                                      CONVGEMM_IM2COL_STAGES_ALL));
    }
    CK(cudaEventRecord(b, stream));
    CK(cudaEventSynchronize(b));
    if (it >= 0) CK(cudaEventElapsedTime(&ms[it], a, b));
  }
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  qsort(ms, 7, sizeof ms[0], cmp_float);
  return ms[3];
}

/* Elements of y left NaN by one call after poisoning y with NaN (every element must be written). */
static long long unwritten_after(struct convgemm_handle* h, const struct convgemm_conv_desc* d,
                                 const convgemm_im2col_gemm_plan_t* plan, float* x, float* w,
                                 float* y, void* ws, cudaStream_t stream, cudaGraphExec_t graph,
                                 float* host_y) {
  CK(cudaMemsetAsync(y, 0xff, (size_t)d->y_elems * 4, stream));
  if (graph != NULL) {
    CK(cudaGraphLaunch(graph, stream));
  } else {
    CV(convgemm_im2col_gemm_enqueue(h, d, plan, x, w, NULL, y, ws, stream,
                                    CONVGEMM_IM2COL_STAGES_ALL));
  }
  CK(cudaStreamSynchronize(stream));
  CK(cudaMemcpy(host_y, y, (size_t)d->y_elems * 4, cudaMemcpyDeviceToHost));
  long long nan_count = 0;
  for (int64_t i = 0; i < d->y_elems; ++i) nan_count += host_y[i] != host_y[i];
  return nan_count;
}

static cudaGraphExec_t capture(struct convgemm_handle* h, const struct convgemm_conv_desc* d,
                               const convgemm_im2col_gemm_plan_t* plan, float* x, float* w,
                               float* y, void* ws, cudaStream_t stream, int stages) {
  cudaGraph_t graph;
  cudaGraphExec_t exec;
  CK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
  CV(convgemm_im2col_gemm_enqueue(h, d, plan, x, w, NULL, y, ws, stream, stages));
  CK(cudaStreamEndCapture(stream, &graph));
  CK(cudaGraphInstantiate(&exec, graph, 0));
  cudaGraphDestroy(graph);
  return exec;
}

int main(int argc, char** argv) {
  int64_t v[7] = {8, 64, 512, 1024, 128, 3, 3};
  const int ieee = argc > 1 && strcmp(argv[1], "ieee") == 0;
  for (int i = 0; i < 7 && 2 + i < argc; ++i) v[i] = atoll(argv[2 + i]);
  convgemm_handle_t h;
  CV(convgemm_create(&h));
  convgemm_conv2d_params_t p;
  CV(convgemm_conv2d_params_init(&p, v[0], v[1], v[2], v[3], v[4], v[5], v[6]));
  p.math_mode = ieee ? CONVGEMM_MATH_IEEE : CONVGEMM_MATH_DEFAULT;
  convgemm_conv_desc_t d;
  CV(convgemm_conv_desc_create(&d, &p));
  float *x, *w, *y;
  CK(cudaMalloc((void**)&x, (size_t)d->x_elems * 4));
  CK(cudaMalloc((void**)&w, (size_t)d->w_elems * 4));
  CK(cudaMalloc((void**)&y, (size_t)d->y_elems * 4));
  CK(cudaMemset(x, 0x3e, (size_t)d->x_elems * 4));
  CK(cudaMemset(w, 0x3c, (size_t)d->w_elems * 4));
  cudaStream_t stream;
  CK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  printf("%s math, N%lld C%lld H%lld W%lld K%lld R%lld S%lld, %.1f GFLOP\n",
         ieee ? "IEEE" : "DEFAULT", (long long)v[0], (long long)v[1], (long long)v[2],
         (long long)v[3], (long long)v[4], (long long)v[5], (long long)v[6],
         2.0 * d->y_elems * d->c_per_group * p.r * p.s * 1e-9);
  int dev_sms = 0;
  CK(cudaDeviceGetAttribute(&dev_sms, cudaDevAttrMultiProcessorCount, 0));
  printf("%8s %4s %5s %8s %8s %9s %9s %9s %9s %9s %9s\n", "pixels", "bufs", "sms", "chunks",
         "col MB", "graph ms", "stream ms", "im2col ms", "gemm ms", "NaN graph", "NaN strm");
  float* host_y = malloc((size_t)d->y_elems * 4);
  if (host_y == NULL) return 3;
  const int64_t sizes[] = {8192, 16384, 32768, 65536, 98304, 131072};
  /* SMs left to im2col: 0 (cuBLASLt's default), then 8, 16, 32. */
  const int reserve[] = {0, 8, 16, 32};
  for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; ++si) {
    for (int variant = 0; variant < 5; ++variant) {
      const int buffers = variant == 0 ? 1 : 2;
      const int sms = variant <= 1 ? 0 : dev_sms - reserve[variant - 1];
      convgemm_im2col_gemm_plan_t plan;
      convgemm_im2col_gemm_plan_for_chunk(d, sizes[si], buffers, &plan);
      plan.gemm_sms = sms;
      void* ws;
      CK(cudaMalloc(&ws, plan.workspace_bytes));
      cudaGraphExec_t all = capture(h, d, &plan, x, w, y, ws, stream, CONVGEMM_IM2COL_STAGES_ALL);
      cudaGraphExec_t im = capture(h, d, &plan, x, w, y, ws, stream, CONVGEMM_IM2COL_STAGE_IM2COL);
      cudaGraphExec_t gm = capture(h, d, &plan, x, w, y, ws, stream, CONVGEMM_IM2COL_STAGE_GEMM);
      const float t_graph = time_calls(h, d, &plan, x, w, y, ws, stream, all);
      const float t_stream = time_calls(h, d, &plan, x, w, y, ws, stream, NULL);
      const float t_im = time_calls(h, d, &plan, x, w, y, ws, stream, im);
      const float t_gm = time_calls(h, d, &plan, x, w, y, ws, stream, gm);
      const long long nan_graph = unwritten_after(h, d, &plan, x, w, y, ws, stream, all, host_y);
      const long long nan_stream = unwritten_after(h, d, &plan, x, w, y, ws, stream, NULL, host_y);
      printf("%8lld %4d %5d %8lld %8.1f %9.3f %9.3f %9.3f %9.3f %9lld %9lld\n",
             (long long)sizes[si], buffers, sms, (long long)plan.chunks, plan.col_bytes * 1e-6, t_graph, t_stream, t_im, t_gm,
             nan_graph, nan_stream);
      fflush(stdout);
      cudaGraphExecDestroy(all);
      cudaGraphExecDestroy(im);
      cudaGraphExecDestroy(gm);
      CK(cudaFree(ws));
    }
  }
  return 0;
}
