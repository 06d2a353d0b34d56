/* Timing of variants: warm-up calls, then timed calls measured with CUDA events, each preceded
 * (outside the timed region) by a 256 MiB cudaMemsetAsync that flushes L2. One variant's calls in
 * a row (bench_time), or several variants' calls in rounds, one call of each per round
 * (bench_time_rounds): a card whose clock falls as it heats (H100 at its power limit over 100
 * calls of problem 55) then slows every variant alike instead of the later ones. */
#ifndef CONVGEMM_BENCHMARKS_TIMING_H_
#define CONVGEMM_BENCHMARKS_TIMING_H_

#include <stddef.h>

#include <cuda_runtime_api.h>

#define BENCH_FLUSH_BYTES ((size_t)256 << 20)
/* Automatic iteration count: about BENCH_TARGET_MS of timed calls (flushes included),
 * clamped to [BENCH_MIN_ITERS, BENCH_MAX_ITERS]. */
#define BENCH_TARGET_MS 1500.0
#define BENCH_MIN_ITERS 5
#define BENCH_MAX_ITERS 100

/* Queues one call of the variant on the timer's stream; dies on error. */
typedef void (*bench_call_fn)(void* ctx);

typedef struct bench_timer {
  cudaStream_t stream;
  void* flush;   /* BENCH_FLUSH_BYTES of device memory */
  int warmup;
  int iters;     /* 0 = automatic */
} bench_timer_t;

typedef struct bench_timing {
  int iters;
  double median_ms, mean_ms, min_ms, max_ms;
} bench_timing_t;

void bench_timer_init(bench_timer_t* t, cudaStream_t stream, int warmup, int iters);
void bench_timer_destroy(bench_timer_t* t);

/* Runs the warm-up and timed calls of `fn` (progress on stderr, prefixed by `label`). */
void bench_time(const bench_timer_t* t, const char* label, bench_call_fn fn, void* ctx,
                bench_timing_t* out);

/* The same for n variants (labels[i], fns[i], ctxs[i] -> outs[i]): every variant's warm-up calls
 * in order, then rounds of one timed call of each variant, in order, for as many rounds as the
 * variant with the most timed calls needs (with automatic iterations each variant keeps its own
 * count and sits out the rounds past it). */
void bench_time_rounds(const bench_timer_t* t, int n, const char* const* labels,
                       const bench_call_fn* fns, void* const* ctxs, bench_timing_t* outs);

#endif /* CONVGEMM_BENCHMARKS_TIMING_H_ */
