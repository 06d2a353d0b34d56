/* CUDA-event timing with an L2 flush before every call; median and mean. */
#include "benchmarks/timing.h"

#include <stdio.h>
#include <stdlib.h>

#include "benchmarks/check.h"

void bench_timer_init(bench_timer_t* t, cudaStream_t stream, int warmup, int iters) {
  t->stream = stream;
  t->flush = bench_device_alloc(BENCH_FLUSH_BYTES, "L2 flush buffer");
  t->warmup = warmup;
  t->iters = iters;
}

void bench_timer_destroy(bench_timer_t* t) {
  bench_device_free(t->flush);
  t->flush = NULL;
}

static void flush_l2(const bench_timer_t* t) {
  CUDA_CHECK(cudaMemsetAsync(t->flush, 0x5a, BENCH_FLUSH_BYTES, t->stream));
}

static int compare_double(const void* a, const void* b) {
  const double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

/* Milliseconds of flush + call, for choosing the iteration count. */
static double warmup_call(const bench_timer_t* t, bench_call_fn fn, void* ctx,
                          cudaEvent_t begin, cudaEvent_t end) {
  CUDA_CHECK(cudaEventRecord(begin, t->stream));
  flush_l2(t);
  fn(ctx);
  CUDA_CHECK(cudaEventRecord(end, t->stream));
  CUDA_CHECK(cudaEventSynchronize(end));
  float ms = 0.0f;
  CUDA_CHECK(cudaEventElapsedTime(&ms, begin, end));
  return ms;
}

static int auto_iters(double ms_per_call) {
  if (!(ms_per_call > 0.0)) return BENCH_MAX_ITERS;
  const double n = BENCH_TARGET_MS / ms_per_call;
  if (n < BENCH_MIN_ITERS) return BENCH_MIN_ITERS;
  if (n > BENCH_MAX_ITERS) return BENCH_MAX_ITERS;
  return (int)n;
}

/* The variant's warm-up calls; returns its timed-call count. */
static int warm_up(const bench_timer_t* t, const char* label, bench_call_fn fn, void* ctx) {
  cudaEvent_t begin, end;
  CUDA_CHECK(cudaEventCreate(&begin));
  CUDA_CHECK(cudaEventCreate(&end));
  /* Automatic iterations need one measured call even with --warmup 0. */
  const int warmup = t->iters == 0 && t->warmup == 0 ? 1 : t->warmup;
  fprintf(stderr, "conv_bench: %s: %d warm-up call%s\n", label, warmup, warmup == 1 ? "" : "s");
  double fastest = 0.0;
  for (int i = 0; i < warmup; ++i) {
    const double ms = warmup_call(t, fn, ctx, begin, end);
    if (i == 0 || ms < fastest) fastest = ms;
  }
  CUDA_CHECK(cudaEventDestroy(begin));
  CUDA_CHECK(cudaEventDestroy(end));
  return t->iters > 0 ? t->iters : auto_iters(fastest);
}

/* One variant's timed calls: an event pair per call, read once the stream is done. */
typedef struct call_events {
  cudaEvent_t* starts;
  cudaEvent_t* stops;
  int iters;
} call_events_t;

static void events_create(call_events_t* e, int iters) {
  e->iters = iters;
  e->starts = malloc(sizeof(cudaEvent_t) * (size_t)iters);
  e->stops = malloc(sizeof(cudaEvent_t) * (size_t)iters);
  if (e->starts == NULL || e->stops == NULL) bench_die("out of host memory");
  for (int i = 0; i < iters; ++i) {
    CUDA_CHECK(cudaEventCreate(&e->starts[i]));
    CUDA_CHECK(cudaEventCreate(&e->stops[i]));
  }
}

static void timed_call(const bench_timer_t* t, const call_events_t* e, int i, bench_call_fn fn,
                       void* ctx) {
  flush_l2(t);
  CUDA_CHECK(cudaEventRecord(e->starts[i], t->stream));
  fn(ctx);
  CUDA_CHECK(cudaEventRecord(e->stops[i], t->stream));
}

/* Median, mean, min and max of the finished calls' times; destroys the events. */
static void events_summarize(call_events_t* e, bench_timing_t* out) {
  const int iters = e->iters;
  double* ms = malloc(sizeof(double) * (size_t)iters);
  if (ms == NULL) bench_die("out of host memory");
  double sum = 0.0;
  for (int i = 0; i < iters; ++i) {
    float v = 0.0f;
    CUDA_CHECK(cudaEventElapsedTime(&v, e->starts[i], e->stops[i]));
    ms[i] = v;
    sum += v;
    CUDA_CHECK(cudaEventDestroy(e->starts[i]));
    CUDA_CHECK(cudaEventDestroy(e->stops[i]));
  }
  qsort(ms, (size_t)iters, sizeof(double), compare_double);
  out->iters = iters;
  out->mean_ms = sum / iters;
  out->median_ms = iters % 2 == 1 ? ms[iters / 2] : 0.5 * (ms[iters / 2 - 1] + ms[iters / 2]);
  out->min_ms = ms[0];
  out->max_ms = ms[iters - 1];
  free(ms);
  free(e->starts);
  free(e->stops);
}

void bench_time(const bench_timer_t* t, const char* label, bench_call_fn fn, void* ctx,
                bench_timing_t* out) {
  const int iters = warm_up(t, label, fn, ctx);
  fprintf(stderr, "conv_bench: %s: %d timed call%s\n", label, iters, iters == 1 ? "" : "s");
  call_events_t e;
  events_create(&e, iters);
  for (int i = 0; i < iters; ++i) timed_call(t, &e, i, fn, ctx);
  CUDA_CHECK(cudaStreamSynchronize(t->stream));
  events_summarize(&e, out);
}

void bench_time_rounds(const bench_timer_t* t, int n, const char* const* labels,
                       const bench_call_fn* fns, void* const* ctxs, bench_timing_t* outs) {
  if (n <= 0) return;
  call_events_t* e = malloc(sizeof(call_events_t) * (size_t)n);
  if (e == NULL) bench_die("out of host memory");
  int rounds = 0;
  for (int v = 0; v < n; ++v) {
    const int iters = warm_up(t, labels[v], fns[v], ctxs[v]);
    events_create(&e[v], iters);
    if (iters > rounds) rounds = iters;
  }
  fprintf(stderr, "conv_bench: %d rounds of one timed call per variant (%d variant%s)\n", rounds,
          n, n == 1 ? "" : "s");
  for (int i = 0; i < rounds; ++i)
    for (int v = 0; v < n; ++v)
      if (i < e[v].iters) timed_call(t, &e[v], i, fns[v], ctxs[v]);
  CUDA_CHECK(cudaStreamSynchronize(t->stream));
  for (int v = 0; v < n; ++v) events_summarize(&e[v], &outs[v]);
  free(e);
}
