/* One math mode: the cuDNN rows, then the convgemm rows, each checked before it is timed. */
#include "benchmarks/run_variants.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "benchmarks/check.h"

/* Every byte 0xff: each float is 0xffffffff, each float16 / bfloat16 0xffff: NaN in all three. */
#define POISON_BYTE 0xff

/* ---- one call of each kind of variant (bench_call_fn) ---------------------------------------- */

typedef struct cudnn_call {
  const bench_cudnn_conv_t* conv;
  const bench_cudnn_choice_t* choice;
  const void *x, *w, *bias;
  void* y;
} cudnn_call_t;

static void call_cudnn(void* ctx) {
  const cudnn_call_t* c = ctx;
  bench_cudnn_forward(c->conv, c->choice, c->x, c->w, c->bias, c->y);
}

typedef struct convgemm_call {
  convgemm_handle_t handle;
  convgemm_conv_desc_t desc;
  convgemm_algo_t algo;
  const void *x, *w, *bias;
  void* y;
  void* workspace;
  size_t workspace_bytes;
  cudaStream_t stream;
} convgemm_call_t;

static convgemm_status_t convgemm_call_once(const convgemm_call_t* c) {
  return convgemm_forward(c->handle, c->desc, c->algo, c->x, c->w, c->bias, c->y, c->workspace,
                          c->workspace_bytes, c->stream);
}

static void call_convgemm(void* ctx) {
  const convgemm_call_t* c = ctx;
  const convgemm_status_t st = convgemm_call_once(c);
  if (st != CONVGEMM_STATUS_SUCCESS)
    bench_die("convgemm_forward(%s) failed: %s: %s", bench_algo_name(c->algo),
              convgemm_status_string(st), convgemm_get_last_error());
}

/* ---- helpers ------------------------------------------------------------------------------- */

/* "[default]", or "[82_dw default]" in a suite. */
static void label_of(const bench_session_t* s, char* buf, size_t len, convgemm_math_mode_t math,
                     const char* algo) {
  if (s->report->shape.suite[0] != '\0')
    snprintf(buf, len, "[%s %s] %s", s->report->shape.name, bench_math_name(math), algo);
  else
    snprintf(buf, len, "[%s] %s", bench_math_name(math), algo);
}

static void progress(const bench_session_t* s, convgemm_math_mode_t math, const char* algo,
                     const char* what) {
  char label[96];
  label_of(s, label, sizeof label, math, algo);
  fprintf(stderr, "conv_bench: %s: %s\n", label, what);
}

/* The shape's data type and its element size. */
static convgemm_data_type_t data_type(const bench_session_t* s) {
  return s->report->shape.params.data_type;
}

static size_t elem_bytes(const bench_session_t* s) {
  return data_type(s) == CONVGEMM_DATA_FLOAT32 ? 4 : 2;
}

static void poison(const bench_session_t* s, void* y) {
  CUDA_CHECK(cudaMemsetAsync(y, POISON_BYTE, s->y_elems * elem_bytes(s), s->stream));
}

/* Waits for the variant's first call; a failed kernel is reported with the variant's name. */
static void finish_first_call(const bench_session_t* s, convgemm_math_mode_t math,
                              const char* algo) {
  const cudaError_t e = cudaStreamSynchronize(s->stream);
  if (e != cudaSuccess) {
    char label[96];
    label_of(s, label, sizeof label, math, algo);
    bench_die("%s: cudaStreamSynchronize after the first call failed: %s (%s)", label,
              cudaGetErrorName(e), cudaGetErrorString(e));
  }
}

/* y against ref; without a reference, y against itself, which finds NaN and infinities only. */
static void check_output(const bench_session_t* s, const void* y, const void* ref,
                         bench_check_t* out) {
  bench_verify(&s->verifier, y, ref != NULL ? ref : y, s->y_elems, data_type(s), out);
}

static void describe_failure(const bench_session_t* s, const bench_check_t* c, const char* when,
                             char* buf, size_t len) {
  const int64_t q = s->report->q, p = s->report->p, k = s->report->shape.params.k;
  const int64_t i = c->first_fail;
  snprintf(buf, len,
           "%s: %llu of %zu elements outside |y - ref| <= %g + %g*|ref|; first y[%lld, %lld, "
           "%lld, %lld] = %.8g, ref %.8g",
           when, c->n_fail, s->y_elems, (double)bench_atol(data_type(s)),
           (double)bench_rtol(data_type(s)),
           (long long)(i / (q * p * k)), (long long)(i / (q * p) % k), (long long)(i / q % p),
           (long long)(i % q), (double)c->first_got, (double)c->first_want);
}

static double max_with_nan(double a, double b) { return isnan(a) || isnan(b) ? NAN : fmax(a, b); }

/* The verdict of a candidate from the checks of its first call and of its last timed call. */
static void judge(const bench_session_t* s, bench_row_t* row, const bench_check_t* first,
                  const bench_check_t* last, int have_ref) {
  if (!have_ref) {
    row->checked = 0;
    row->n_fail = first->n_fail + last->n_fail;
    if (row->n_fail > 0) {
      row->verdict = BENCH_VERDICT_FAIL;
      snprintf(row->message, sizeof row->message,
               "no cuDNN reference, but the output has non-finite elements (%llu after the first "
               "call, %llu after timing)",
               first->n_fail, last->n_fail);
    } else {
      row->verdict = BENCH_VERDICT_UNCHECKED;
    }
    return;
  }
  row->checked = 1;
  row->max_abs_diff = max_with_nan(first->max_abs_diff, last->max_abs_diff);
  if (first->n_fail > 0) {
    row->verdict = BENCH_VERDICT_FAIL;
    row->n_fail = first->n_fail;
    describe_failure(s, first, "first call", row->message, sizeof row->message);
  } else if (last->n_fail > 0) {
    row->verdict = BENCH_VERDICT_FAIL;
    row->n_fail = last->n_fail;
    describe_failure(s, last, "last timed call", row->message, sizeof row->message);
  } else {
    row->verdict = BENCH_VERDICT_PASS;
  }
}

static void set_timing(const bench_session_t* s, bench_row_t* row, const bench_timing_t* t,
                       double ref_median_ms) {
  row->timed = 1;
  row->timing = *t;
  row->tflops = s->report->flops / (t->median_ms * 1e-3) * 1e-12;
  row->speedup = ref_median_ms > 0.0 ? ref_median_ms / t->median_ms : 0.0;
}

/* ---- cuDNN ----------------------------------------------------------------------------------- */

static void fill_cudnn_row(bench_row_t* row, const char* name, convgemm_math_mode_t math,
                           const bench_cudnn_choice_t* choice) {
  snprintf(row->algo, sizeof row->algo, "%s", name);
  row->is_cudnn = 1;
  row->math = math;
  snprintf(row->backend_algo, sizeof row->backend_algo, "%s", bench_cudnn_algo_name(choice->algo));
  snprintf(row->backend_math, sizeof row->backend_math, "%s",
           bench_cudnn_math_type_name(choice->math_type));
  row->workspace_bytes = choice->workspace_bytes;
  row->find_ms = choice->find_ms;
}

/* One variant of a math mode between its first, checked call and its timing: what the timing
 * calls and what judging it needs afterwards. */
typedef struct variant {
  bench_row_t* row;
  char label[96];
  bench_call_fn fn;
  cudnn_call_t cudnn;           /* fn == call_cudnn */
  bench_cudnn_choice_t choice;  /* cudnn.choice points here */
  int has_choice;
  convgemm_call_t convgemm;     /* fn == call_convgemm */
  void* workspace;
  int is_reference;             /* the 'cudnn' row: its first call wrote the reference */
  bench_check_t first, last;
  bench_timing_t timing;
} variant_t;

static void* variant_ctx(variant_t* v) {
  return v->fn == call_cudnn ? (void*)&v->cudnn : (void*)&v->convgemm;
}

/* The "cudnn" row: computes the reference into `ref`; its timed calls write `y`. */
static void prepare_cudnn_reference(bench_session_t* s, convgemm_math_mode_t math, void* ref,
                                    void* y, variant_t* v) {
  memset(v, 0, sizeof *v);
  label_of(s, v->label, sizeof v->label, math, "cudnn");
  progress(s, math, "cudnn", "choosing the algorithm (cudnnGetConvolutionForwardAlgorithm_v7)");
  bench_cudnn_choose_heuristic(s->cudnn, math, &v->choice);
  v->has_choice = 1;
  v->row = bench_report_add_row(s->report);
  fill_cudnn_row(v->row, "cudnn", math, &v->choice);

  progress(s, math, "cudnn", "computing the reference output");
  v->cudnn = (cudnn_call_t){s->cudnn, &v->choice, s->x, s->w, s->bias, ref};
  v->fn = call_cudnn;
  poison(s, ref);
  call_cudnn(&v->cudnn);
  finish_first_call(s, math, "cudnn");
  check_output(s, ref, NULL, &v->first);
  if (v->first.n_ref_nonfinite > 0)
    bench_die("%s: cuDNN's output (%s) has %llu non-finite elements; no reference", v->label,
              v->row->backend_algo, v->first.n_ref_nonfinite);
  v->row->verdict = BENCH_VERDICT_REF;
  v->is_reference = 1;
  v->cudnn.y = y;
}

static void prepare_cudnn_find(bench_session_t* s, convgemm_math_mode_t math, const void* ref,
                               void* y, variant_t* v) {
  memset(v, 0, sizeof *v);
  label_of(s, v->label, sizeof v->label, math, "cudnn_find");
  progress(s, math, "cudnn_find", "cudnnFindConvolutionForwardAlgorithmEx (runs every algorithm)");
  bench_cudnn_choose_find(s->cudnn, math, s->x, s->w, y, &v->choice);
  v->has_choice = 1;
  v->row = bench_report_add_row(s->report);
  fill_cudnn_row(v->row, "cudnn_find", math, &v->choice);

  progress(s, math, "cudnn_find", "checking");
  v->cudnn = (cudnn_call_t){s->cudnn, &v->choice, s->x, s->w, s->bias, y};
  v->fn = call_cudnn;
  poison(s, y);
  call_cudnn(&v->cudnn);
  finish_first_call(s, math, "cudnn_find");
  check_output(s, y, ref, &v->first);
}

/* ---- convgemm -------------------------------------------------------------------------------- */

static convgemm_conv_desc_t make_desc(const bench_session_t* s, convgemm_math_mode_t math) {
  convgemm_conv2d_params_t params = s->report->shape.params;
  params.math_mode = math;
  convgemm_conv_desc_t desc = NULL;
  const convgemm_status_t st = convgemm_conv_desc_create(&desc, &params);
  if (st != CONVGEMM_STATUS_SUCCESS)
    bench_die("convgemm_conv_desc_create (%s math) failed: %s: %s", bench_math_name(math),
              convgemm_status_string(st), convgemm_get_last_error());
  return desc;
}

/* Returns 0 (nothing to time) when the algorithm is not supported (a skip) or its first call
 * failed (an ERROR row). */
static int prepare_convgemm_algo(bench_session_t* s, convgemm_math_mode_t math,
                                 convgemm_conv_desc_t desc, convgemm_algo_t algo,
                                 const void* ref, void* y, variant_t* v) {
  memset(v, 0, sizeof *v);
  const char* name = bench_algo_name(algo);
  const convgemm_status_t supported = convgemm_check_algorithm(s->convgemm, desc, algo);
  if (supported == CONVGEMM_STATUS_NOT_SUPPORTED) {
    progress(s, math, name, "not supported, skipped");
    bench_report_add_skip(s->report, name, math, convgemm_get_last_error());
    return 0;
  }
  bench_check_convgemm(supported, "convgemm_check_algorithm", __FILE__, __LINE__);
  convgemm_algo_t resolved = algo;
  if (algo == CONVGEMM_ALGO_AUTO)
    CONVGEMM_CHECK(convgemm_get_algorithm(s->convgemm, desc, &resolved));
  size_t ws_min = 0, ws_pref = 0;
  CONVGEMM_CHECK(convgemm_get_workspace_size(s->convgemm, desc, algo, &ws_min, &ws_pref));
  size_t ws_want = ws_pref;
  if (s->args->workspace_mib == SIZE_MAX) {
    ws_want = ws_min;
  } else if (s->args->workspace_mib > 0) {
    ws_want = s->args->workspace_mib << 20;
    if (ws_want < ws_min) ws_want = ws_min;
  }
  size_t ws_bytes = ws_want;
  void* ws = bench_device_try_alloc(ws_want, "convgemm workspace");
  if (ws == NULL && ws_want > 0) {
    char label[96];
    label_of(s, label, sizeof label, math, name);
    fprintf(stderr, "conv_bench: %s: workspace %.3f GB does not fit; using the minimum %.3f GB\n",
            label, (double)ws_want * 1e-9, (double)ws_min * 1e-9);
    ws_bytes = ws_min;
    ws = bench_device_alloc(ws_min, "convgemm workspace (minimum size)");
  }

  bench_row_t* row = bench_report_add_row(s->report);
  snprintf(row->algo, sizeof row->algo, "%s", name);
  row->math = math;
  snprintf(row->backend_algo, sizeof row->backend_algo, "%s", bench_algo_name(resolved));
  row->workspace_bytes = ws_bytes;

  progress(s, math, name, "checking");
  v->convgemm = (convgemm_call_t){s->convgemm, desc, algo, s->x, s->w, s->bias, y, ws, ws_bytes,
                                  s->stream};
  v->fn = call_convgemm;
  v->workspace = ws;
  v->row = row;
  poison(s, y);
  const convgemm_status_t st = convgemm_call_once(&v->convgemm);
  if (st != CONVGEMM_STATUS_SUCCESS) {
    row->verdict = BENCH_VERDICT_ERROR;
    snprintf(row->message, sizeof row->message, "convgemm_forward returned %s: %s",
             convgemm_status_string(st), convgemm_get_last_error());
    progress(s, math, name, row->message);
    bench_device_free(ws);
    return 0;
  }
  finish_first_call(s, math, name);
  check_output(s, y, ref, &v->first);
  label_of(s, v->label, sizeof v->label, math, name);
  return 1;
}

/* Times the prepared variants (--order) and checks each one's output after its timing: the
 * last timed call's when they ran one after another, one more call's after the rounds. */
static void time_variants(bench_session_t* s, convgemm_math_mode_t math, variant_t* v, int n,
                          const void* ref, void* y) {
  if (!s->args->interleave) {
    for (int i = 0; i < n; ++i) {
      bench_time(&s->timer, v[i].label, v[i].fn, variant_ctx(&v[i]), &v[i].timing);
      if (!v[i].is_reference) check_output(s, y, ref, &v[i].last);
    }
    return;
  }
  const char* labels[2 + BENCH_MAX_ALGOS];
  bench_call_fn fns[2 + BENCH_MAX_ALGOS];
  void* ctxs[2 + BENCH_MAX_ALGOS];
  bench_timing_t timings[2 + BENCH_MAX_ALGOS];
  for (int i = 0; i < n; ++i) {
    labels[i] = v[i].label;
    fns[i] = v[i].fn;
    ctxs[i] = variant_ctx(&v[i]);
  }
  bench_time_rounds(&s->timer, n, labels, fns, ctxs, timings);
  for (int i = 0; i < n; ++i) {
    v[i].timing = timings[i];
    if (v[i].is_reference) continue;
    poison(s, y);
    v[i].fn(ctxs[i]);
    finish_first_call(s, math, v[i].row->algo);
    check_output(s, y, ref, &v[i].last);
  }
}

void bench_run_math_mode(bench_session_t* s, convgemm_math_mode_t math) {
  const size_t y_bytes = s->y_elems * elem_bytes(s);
  void* y = bench_device_alloc(y_bytes, "candidate y");
  void* ref = NULL;
  variant_t v[2 + BENCH_MAX_ALGOS];
  int n = 0;
  if (s->cudnn != NULL) {
    ref = bench_device_alloc(y_bytes, "reference y");
    prepare_cudnn_reference(s, math, ref, y, &v[n++]);
    prepare_cudnn_find(s, math, ref, y, &v[n++]);
  }
  convgemm_conv_desc_t desc = make_desc(s, math);
  for (int i = 0; i < s->args->n_algos; ++i)
    if (prepare_convgemm_algo(s, math, desc, s->args->algos[i], ref, y, &v[n])) ++n;
  time_variants(s, math, v, n, ref, y);
  const double ref_median_ms = n > 0 && v[0].is_reference ? v[0].timing.median_ms : 0.0;
  for (int i = 0; i < n; ++i) {
    if (!v[i].is_reference) judge(s, v[i].row, &v[i].first, &v[i].last, ref != NULL);
    set_timing(s, v[i].row, &v[i].timing, ref_median_ms);
    if (v[i].has_choice) bench_cudnn_choice_release(&v[i].choice);
    bench_device_free(v[i].workspace);
  }
  CONVGEMM_CHECK(convgemm_conv_desc_destroy(desc));
  bench_device_free(ref);
  bench_device_free(y);
}
