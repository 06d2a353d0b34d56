/* Runs every variant of one math mode: the cuDNN reference ("cudnn"), "cudnn_find", then each
 * convgemm algorithm. Every variant's correctness first (output poisoned with NaN, one call,
 * compared with the reference), then their timing (--order: interleaved rounds or one after
 * another), then each output compared again: the last timed call's (sequential) or one more
 * call's (interleaved). */
#ifndef CONVGEMM_BENCHMARKS_RUN_VARIANTS_H_
#define CONVGEMM_BENCHMARKS_RUN_VARIANTS_H_

#include <stddef.h>
#include <stdint.h>

#include <cuda_runtime_api.h>

#include "benchmarks/bench_args.h"
#include "benchmarks/cudnn_conv.h"
#include "benchmarks/report.h"
#include "benchmarks/timing.h"
#include "benchmarks/verify.h"
#include "conv/convgemm.h"

typedef struct bench_session {
  const bench_args_t* args;   /* algorithms and workspace; the convolution is report->shape */
  convgemm_handle_t convgemm;
  bench_cudnn_conv_t* cudnn;  /* NULL when cuDNN was not found: nothing to check against */
  const void *x, *w, *bias;   /* elements of the shape's data type; bias NULL without --bias */
  size_t y_elems;
  cudaStream_t stream;
  bench_timer_t timer;
  bench_verifier_t verifier;
  bench_report_t* report;
} bench_session_t;

/* Appends this math mode's rows (and skips) for the shape of session->report to it. Allocates
 * one reference y and one candidate y and frees both before returning. */
void bench_run_math_mode(bench_session_t* session, convgemm_math_mode_t math);

#endif /* CONVGEMM_BENCHMARKS_RUN_VARIANTS_H_ */
