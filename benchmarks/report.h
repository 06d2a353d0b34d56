/* What conv_bench found. A run (bench_run_t) holds the facts shared by every shape (card,
 * versions, ceilings, timing) and one report per shape (bench_report_t): the shape, its work and
 * floors, one row per (algorithm, math mode), the algorithms skipped. Printed on stdout (header,
 * per-shape tables, a summary across shapes), and optionally written as JSON and as Markdown. */
#ifndef CONVGEMM_BENCHMARKS_REPORT_H_
#define CONVGEMM_BENCHMARKS_REPORT_H_

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "benchmarks/ceilings.h"
#include "benchmarks/suites.h"
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

/* One shape. */
typedef struct bench_report {
  bench_shape_t shape;        /* name, suite, series, count, note and the convolution */
  int64_t p, q;
  double flops;
  double x_bytes, w_bytes, bias_bytes, y_bytes; /* compulsory traffic: read x, w, bias; write y */
  /* Floors from the ceilings, ms; < 0 when unknown. math_floor_ms is indexed by the math mode
   * (float32: CONVGEMM_MATH_DEFAULT the TF32 rate, CONVGEMM_MATH_IEEE the FP32 rate; 16-bit
   * data: the 16-bit GEMM rate in both). */
  double memory_floor_ms;
  double math_floor_ms[2];
  bench_row_t rows[BENCH_MAX_ROWS];
  int n_rows;
  bench_skip_t skips[BENCH_MAX_ROWS];
  int n_skips;
  int complete;               /* every math mode ran to the end */
  double wall_s;              /* seconds the shape took, inputs and cuDNN's Find included */
} bench_report_t;

/* The whole run. */
typedef struct bench_run {
  bench_system_t system;
  convgemm_data_type_t data_type;        /* --dtype: every shape's x, w, bias and y */
  bench_ceilings_t ceilings;
  int warmup, iters;                     /* iters 0: automatic */
  int interleave;                        /* --order: 1 interleaved rounds, 0 sequential */
  convgemm_math_mode_t maths[2];
  int n_maths;
  char suites[128];                      /* the --suite list; "" for the flags' one shape */
  char command[2048];                    /* argv joined by spaces */
  bench_report_t* shapes;                /* n_shapes planned */
  int n_shapes;
  int n_started;                         /* shapes begun; the last may be incomplete */
  int finished;                          /* every shape ran (0 in the files written meanwhile) */
  char error[1024];                      /* the fatal error that stopped the run, or "" */
} bench_run_t;

/* The row appended next (zeroed), or dies when full. */
bench_row_t* bench_report_add_row(bench_report_t* r);
void bench_report_add_skip(bench_report_t* r, const char* algo, convgemm_math_mode_t math,
                           const char* reason);

const char* bench_verdict_name(bench_verdict_t v);

/* A row's floor: max(memory floor, math floor of its math mode), ms; < 0 when unknown. */
double bench_row_floor_ms(const bench_report_t* r, const bench_row_t* row);

/* The exit status the shape's rows call for: BENCH_EXIT_FAIL when a convgemm row FAILed or
 * returned an error, else BENCH_EXIT_OK. */
int bench_report_exit_code(const bench_report_t* r);

/* The run's exit status: BENCH_EXIT_RUNTIME after a fatal error, else the worst shape's. */
int bench_run_exit_code(const bench_run_t* run);

/* One math mode of one shape, condensed for the summary tables. Row pointers are NULL when the
 * row is missing (skipped, not run, or not timed). */
typedef struct bench_summary {
  int present;                  /* some row of this math mode exists */
  const bench_row_t* best;      /* fastest timed convgemm row that passed, AUTO aside */
  const bench_row_t* direct;
  const bench_row_t* im2col_gemm;
  const bench_row_t* autorow;
  const bench_row_t* cudnn;
  const bench_row_t* cudnn_find;
  int n_convgemm;               /* convgemm rows */
  int n_bad;                    /* of which FAIL or ERROR */
  int n_unchecked;
  char check[96];               /* "PASS", "UNCHECKED", or "FAIL: direct, auto" */
} bench_summary_t;

void bench_summarize(const bench_report_t* r, convgemm_math_mode_t math, bench_summary_t* out);

/* Count-weighted sums over the run's shapes that have a count (ResNet-50): one network forward's
 * convolutions. Each sum is < 0 when a shape lacks the value. */
typedef struct bench_totals {
  int n_shapes, n_convs;
  double flops;
  double best_ms, direct_ms, im2col_gemm_ms, auto_ms, cudnn_ms, cudnn_find_ms;
} bench_totals_t;

/* Returns 0 when no shape of the run has a count. */
int bench_run_totals(const bench_run_t* run, convgemm_math_mode_t math, bench_totals_t* out);

/* The facts shared by every shape: card, versions, ceilings, timing, check, math modes. */
void bench_run_print_header(FILE* out, const bench_run_t* run);

/* The shape: its name and convolution, work, compulsory bytes and floors. */
void bench_report_print_shape(FILE* out, const bench_report_t* r);

/* The table, then notes on failures and skipped algorithms. */
void bench_report_print_table(FILE* out, const bench_report_t* r);

/* One table per math mode across the shapes begun (for more than one shape). */
void bench_run_print_summary(FILE* out, const bench_run_t* run);

/* Write the run as JSON / Markdown. Return 0, or -1 with errno set. */
int bench_run_write_json(const char* path, const bench_run_t* run);
int bench_run_write_markdown(const char* path, const bench_run_t* run);

/* Helpers shared by the writers. */
void bench_format_version(char* buf, size_t len, int v);  /* 12080 -> "12.8" */
void bench_format_conv(char* buf, size_t len, const bench_report_t* r); /* x (...) * w -> y,
                                                                          16-bit: the type too */
/* The floor lines' names of the two math floors: "TF32" / "FP32", or "FP16" / "BF16" twice. */
const char* bench_math_floor_name(convgemm_data_type_t type, convgemm_math_mode_t math);
/* The table's detail column: cuDNN's algorithm and math, or what AUTO ran; workspace; iters. */
void bench_row_detail(const bench_row_t* row, char* buf, size_t len);
/* "%.3f" of ms, or "-" when ms < 0 (not measured); bench_format_row_ms: a row's median, "-" for
 * no row. */
void bench_format_ms(char* buf, size_t len, double ms);
void bench_format_row_ms(char* buf, size_t len, const bench_row_t* row);

#endif /* CONVGEMM_BENCHMARKS_REPORT_H_ */
