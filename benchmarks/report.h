/* What conv_bench found: the header facts, one row per (algorithm, math mode), the algorithms
 * skipped; printed as a table on stdout and optionally written as JSON. */
#ifndef CONVGEMM_BENCHMARKS_REPORT_H_
#define CONVGEMM_BENCHMARKS_REPORT_H_

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "benchmarks/system_info.h"
#include "benchmarks/timing.h"
#include "benchmarks/verify.h"
#include "conv/convgemm.h"

#define BENCH_MAX_ROWS 16

typedef enum bench_verdict {
  BENCH_VERDICT_REF = 0,       /* the reference itself (the "cudnn" row) */
  BENCH_VERDICT_PASS = 1,
  BENCH_VERDICT_FAIL = 2,      /* some element outside the tolerance, or NaN */
  BENCH_VERDICT_ERROR = 3,     /* the call returned an error; not timed */
  BENCH_VERDICT_UNCHECKED = 4  /* no reference (cuDNN not found); only NaN was looked for */
} bench_verdict_t;

typedef struct bench_row {
  char algo[32];              /* "cudnn", "cudnn_find", or a convgemm algorithm name */
  int is_cudnn;
  convgemm_math_mode_t math;
  char backend_algo[32];      /* cuDNN's algorithm, or the algorithm convgemm ran (AUTO resolved) */
  char backend_math[40];      /* cuDNN's math type; "" for convgemm */
  size_t workspace_bytes;
  double find_ms;             /* cudnn_find: cuDNN's own time in Find; else < 0 */
  int timed;
  bench_timing_t timing;
  double tflops;              /* from the median */
  double speedup;             /* "cudnn" row's median / this median; <= 0 when unknown */
  int checked;                /* compared with the reference */
  double max_abs_diff;
  unsigned long long n_fail;
  bench_verdict_t verdict;
  char message[512];          /* why FAIL or ERROR */
} bench_row_t;

typedef struct bench_skip {
  char algo[32];
  convgemm_math_mode_t math;
  char reason[512];
} bench_skip_t;

typedef struct bench_report {
  bench_system_t system;
  convgemm_conv2d_params_t params;
  int64_t p, q;
  double flops;
  double x_bytes, w_bytes, bias_bytes, y_bytes; /* compulsory traffic: read x, w, bias; write y */
  int warmup, iters;                            /* iters 0: automatic */
  bench_row_t rows[BENCH_MAX_ROWS];
  int n_rows;
  bench_skip_t skips[BENCH_MAX_ROWS];
  int n_skips;
} bench_report_t;

/* The row appended next (zeroed), or dies when full. */
bench_row_t* bench_report_add_row(bench_report_t* r);
void bench_report_add_skip(bench_report_t* r, const char* algo, convgemm_math_mode_t math,
                           const char* reason);

const char* bench_verdict_name(bench_verdict_t v);

void bench_report_print_header(FILE* out, const bench_report_t* r);

/* The table, then notes on failures and skipped algorithms. */
void bench_report_print_table(FILE* out, const bench_report_t* r);

/* Writes the header facts, rows and skips as JSON. Returns 0, or -1 with errno set. */
int bench_report_write_json(const char* path, const bench_report_t* r, int exit_code);

#endif /* CONVGEMM_BENCHMARKS_REPORT_H_ */
