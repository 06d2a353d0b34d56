/* conv_bench: convgemm's 2-D convolution forward against cuDNN, checked then timed, on one shape
 * or a suite of them. `bazel run //benchmarks:conv_bench -- --help` for the flags; README.md
 * beside this file. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cuda_runtime_api.h>

#include "benchmarks/bench_args.h"
#include "benchmarks/ceilings.h"
#include "benchmarks/check.h"
#include "benchmarks/cudnn_api.h"
#include "benchmarks/cudnn_conv.h"
#include "benchmarks/device_ops.h"
#include "benchmarks/report.h"
#include "benchmarks/run_variants.h"
#include "benchmarks/suites.h"
#include "benchmarks/system_info.h"
#include "conv/convgemm.h"

/* Seeds of the counter-based input RNG. */
enum { SEED_X = 1, SEED_W = 2, SEED_BIAS = 3 };

/* Global so that a fatal error can still print and write what was measured before it. */
static bench_run_t g_run;
static const bench_args_t* g_args;

/* `bazel run` starts the binary in its runfiles tree; a relative output path means the directory
 * the command was typed in (BUILD_WORKING_DIRECTORY). */
static const char* resolve_output_path(const char* path, char* buf, size_t len) {
  const char* cwd = getenv("BUILD_WORKING_DIRECTORY");
  if (path[0] == '/' || cwd == NULL || cwd[0] == '\0') return path;
  snprintf(buf, len, "%s/%s", cwd, path);
  return buf;
}

/* Writes the JSON and Markdown files asked for; `quiet` leaves out the "wrote" lines. Returns 0,
 * or -1 when a file could not be written (said on stderr). */
static int write_outputs(int quiet) {
  int failed = 0;
  const char* paths[2] = {g_args->json_path, g_args->markdown_path};
  for (int i = 0; i < 2; ++i) {
    if (paths[i] == NULL) continue;
    char buf[4096];
    const char* path = resolve_output_path(paths[i], buf, sizeof buf);
    const int rc = i == 0 ? bench_run_write_json(path, &g_run)
                          : bench_run_write_markdown(path, &g_run);
    if (rc != 0) {
      fprintf(stderr, "conv_bench: writing %s failed: %s\n", path, strerror(errno));
      failed = 1;
    } else if (!quiet) {
      fprintf(stderr, "conv_bench: wrote %s\n", path);
    }
  }
  return failed ? -1 : 0;
}

/* After a fatal error: the current shape's rows so far, the summary, and the files. */
static void on_fatal(void) {
  snprintf(g_run.error, sizeof g_run.error, "%s", bench_fatal_message());
  if (g_run.n_started > 0) {
    const bench_report_t* current = &g_run.shapes[g_run.n_started - 1];
    if (!current->complete && current->n_rows > 0) bench_report_print_table(stdout, current);
  }
  if (g_run.n_started > 1) bench_run_print_summary(stdout, &g_run);
  fflush(stdout);
  write_outputs(0);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* n elements of `type`, uniform in (lo, hi) (rounded to the type). */
static void* alloc_uniform(size_t n, convgemm_data_type_t type, uint64_t seed, float lo, float hi,
                           const char* what, cudaStream_t stream) {
  void* p = bench_device_alloc(n * (type == CONVGEMM_DATA_FLOAT32 ? 4 : 2), what);
  CUDA_CHECK(bench_fill_uniform_typed(p, n, type, seed, lo, hi, stream));
  return p;
}

/* What every shape shares. */
typedef struct bench_context {
  const bench_args_t* args;
  convgemm_handle_t convgemm;
  const bench_cudnn_api_t* cudnn_api; /* NULL without cuDNN */
  cudnnHandle_t cudnn;
  cudaStream_t stream;
  bench_timer_t timer;
  bench_verifier_t verifier;
} bench_context_t;

/* The shape's work and floors, from its convolution and the ceilings. */
static void describe_shape(bench_report_t* r, const bench_shape_t* shape,
                           const bench_ceilings_t* ceilings) {
  memset(r, 0, sizeof *r);
  r->shape = *shape;
  bench_work_t wk;
  CONVGEMM_CHECK(bench_shape_work(&shape->params, &wk));
  r->p = wk.p;
  r->q = wk.q;
  r->flops = wk.flops;
  r->x_bytes = wk.x_bytes;
  r->w_bytes = wk.w_bytes;
  r->bias_bytes = wk.bias_bytes;
  r->y_bytes = wk.y_bytes;
  r->memory_floor_ms =
      bench_memory_floor_ms(ceilings, wk.x_bytes + wk.w_bytes + wk.bias_bytes + wk.y_bytes);
  r->math_floor_ms[0] =
      bench_math_floor_ms(ceilings, wk.flops, CONVGEMM_MATH_DEFAULT, shape->params.data_type);
  r->math_floor_ms[1] =
      bench_math_floor_ms(ceilings, wk.flops, CONVGEMM_MATH_IEEE, shape->params.data_type);
}

/* Inputs on the GPU, then every math mode's rows into r. */
static void run_shape(bench_context_t* ctx, bench_report_t* r) {
  const convgemm_conv2d_params_t* p = &r->shape.params;
  const size_t x_elems = (size_t)(p->n * p->c * p->h * p->w);
  const size_t w_elems = (size_t)(p->k * (p->c / p->groups) * p->r * p->s);
  const size_t y_elems = (size_t)(p->n * p->k * r->p * r->q);

  /* torch.rand for x; nn.Conv2d's init range for w and bias; all in the shape's data type. */
  const float bound = 1.0f / sqrtf((float)((p->c / p->groups) * p->r * p->s));
  const convgemm_data_type_t type = p->data_type;
  fprintf(stderr, "conv_bench: filling x (%.3f GB) and w on the GPU\n", r->x_bytes * 1e-9);
  void* x = alloc_uniform(x_elems, type, SEED_X, 0.0f, 1.0f, "x", ctx->stream);
  void* w = alloc_uniform(w_elems, type, SEED_W, -bound, bound, "w", ctx->stream);
  void* bias = p->has_bias ? alloc_uniform((size_t)p->k, type, SEED_BIAS, -bound, bound, "bias",
                                           ctx->stream)
                           : NULL;
  CUDA_CHECK(cudaStreamSynchronize(ctx->stream));

  /* cuDNN's 4-d descriptors hold int strides: a tensor of 2^31 or more elements (87_pw's y) can't
   * be described, so such a shape runs without cuDNN (its rows UNCHECKED, as without cuDNN). */
  const int cudnn_fits = x_elems <= INT32_MAX && w_elems <= INT32_MAX && y_elems <= INT32_MAX;
  if (ctx->cudnn_api != NULL && !cudnn_fits)
    fprintf(stderr, "conv_bench: cuDNN skipped for this shape: a tensor has 2^31 or more "
                    "elements, beyond cuDNN's 4-d descriptors\n");
  const int use_cudnn = ctx->cudnn_api != NULL && cudnn_fits;
  bench_cudnn_conv_t cudnn_conv;
  if (use_cudnn)
    bench_cudnn_conv_create(&cudnn_conv, ctx->cudnn_api, ctx->cudnn, p, r->p, r->q);

  bench_session_t session;
  memset(&session, 0, sizeof session);
  session.args = ctx->args;
  session.convgemm = ctx->convgemm;
  session.cudnn = use_cudnn ? &cudnn_conv : NULL;
  session.x = x;
  session.w = w;
  session.bias = bias;
  session.y_elems = y_elems;
  session.stream = ctx->stream;
  session.report = r;
  session.timer = ctx->timer;
  session.verifier = ctx->verifier;
  for (int i = 0; i < ctx->args->n_maths; ++i) bench_run_math_mode(&session, ctx->args->maths[i]);

  if (use_cudnn) bench_cudnn_conv_destroy(&cudnn_conv);
  bench_device_free(bias);
  bench_device_free(w);
  bench_device_free(x);
}

/* The one shape of the convolution flags, named after its sizes. */
static void flags_shape(const bench_args_t* args, bench_shape_t* shape) {
  memset(shape, 0, sizeof *shape);
  const convgemm_conv2d_params_t* p = &args->params;
  char name[256], extra[64] = "";
  if (p->stride_h != 1 || p->stride_w != 1)
    snprintf(extra, sizeof extra, "_s%lld", (long long)p->stride_h);
  if (p->groups != 1) {
    const size_t used = strlen(extra);
    snprintf(extra + used, sizeof extra - used, "_g%lld", (long long)p->groups);
  }
  snprintf(name, sizeof name, "N%lld_C%lld_%lldx%lld_K%lld_%lldx%lld%s", (long long)p->n,
           (long long)p->c, (long long)p->h, (long long)p->w, (long long)p->k, (long long)p->r,
           (long long)p->s, extra);
  memcpy(shape->name, name, sizeof shape->name - 1);
  shape->name[sizeof shape->name - 1] = '\0';
  shape->params = args->params;
}

static void join_argv(char* buf, size_t len, int argc, char** argv) {
  size_t used = 0;
  buf[0] = '\0';
  for (int i = 0; i < argc && used + 1 < len; ++i) {
    const int n = snprintf(buf + used, len - used, "%s%s", i > 0 ? " " : "", argv[i]);
    if (n < 0) break;
    used += (size_t)n;
  }
}

int main(int argc, char** argv) {
  bench_args_t args;
  char err[512];
  switch (bench_args_parse(argc, argv, &args, err, sizeof err)) {
    case BENCH_ARGS_HELP:
      bench_args_print_help(stdout);
      return BENCH_EXIT_OK;
    case BENCH_ARGS_ERROR:
      fprintf(stderr, "conv_bench: %s\n", err);
      return BENCH_EXIT_USAGE;
    case BENCH_ARGS_OK:
      break;
  }
  g_args = &args;

  /* The shapes, each validated by the library (host only, before any GPU is needed). */
  int n_shapes = 1;
  bench_shape_t* shapes;
  if (args.suites != NULL) {
    shapes = bench_suite_shapes(args.suites, args.only, &n_shapes, err, sizeof err);
    if (shapes == NULL) {
      fprintf(stderr, "conv_bench: %s\n", err);
      return BENCH_EXIT_USAGE;
    }
  } else {
    shapes = calloc(1, sizeof *shapes);
    if (shapes == NULL) {
      fprintf(stderr, "conv_bench: out of host memory\n");
      return BENCH_EXIT_RUNTIME;
    }
    flags_shape(&args, shapes);
  }
  /* --dtype applies to every shape (a suite's shapes are float32 as listed). */
  for (int i = 0; i < n_shapes; ++i) shapes[i].params.data_type = args.params.data_type;
  for (int i = 0; i < n_shapes; ++i) {
    bench_work_t wk;
    const convgemm_status_t valid = bench_shape_work(&shapes[i].params, &wk);
    if (valid != CONVGEMM_STATUS_SUCCESS) {
      fprintf(stderr, "conv_bench: invalid convolution%s%s: %s: %s\n",
              args.suites != NULL ? " " : "", args.suites != NULL ? shapes[i].name : "",
              convgemm_status_string(valid), convgemm_get_last_error());
      free(shapes);
      return BENCH_EXIT_USAGE;
    }
  }
  if (args.list_only) {
    bench_suite_print_list(stdout, shapes, n_shapes);
    free(shapes);
    return BENCH_EXIT_OK;
  }

  if (!bench_gpu_available(err, sizeof err)) {
    fprintf(stderr, "conv_bench: %s\n", err);
    free(shapes);
    return BENCH_EXIT_RUNTIME;
  }

  bench_cudnn_api_t cudnn_api;
  char cudnn_why[512] = "";
  const int have_cudnn = bench_cudnn_load(&cudnn_api, cudnn_why, sizeof cudnn_why);

  bench_run_t* run = &g_run;
  memset(run, 0, sizeof *run);
  bench_system_query(&run->system, have_cudnn ? &cudnn_api : NULL, cudnn_why);
  run->data_type = args.params.data_type;
  run->warmup = args.warmup;
  run->iters = args.iters;
  run->interleave = args.interleave;
  run->n_maths = args.n_maths;
  for (int i = 0; i < args.n_maths; ++i) run->maths[i] = args.maths[i];
  snprintf(run->suites, sizeof run->suites, "%s", args.suites != NULL ? args.suites : "");
  join_argv(run->command, sizeof run->command, argc, argv);
  run->shapes = calloc((size_t)n_shapes, sizeof *run->shapes);
  if (run->shapes == NULL) bench_die("out of host memory");
  run->n_shapes = n_shapes;
  if (!have_cudnn)
    fprintf(stderr, "conv_bench: warning: cuDNN not found (%s); convgemm rows are only checked "
                    "for NaN\n",
            cudnn_why);

  bench_set_fatal_hook(on_fatal);
  bench_context_t ctx;
  memset(&ctx, 0, sizeof ctx);
  ctx.args = &args;
  CONVGEMM_CHECK(convgemm_create(&ctx.convgemm));
  CUDA_CHECK(cudaStreamCreateWithFlags(&ctx.stream, cudaStreamNonBlocking));
  if (have_cudnn) {
    ctx.cudnn_api = &cudnn_api;
    ctx.cudnn = bench_cudnn_handle_create(&cudnn_api, ctx.stream);
  }

  if (args.measure_ceilings)
    bench_ceilings_measure(&run->ceilings, ctx.stream, args.params.data_type);
  else
    memset(&run->ceilings, 0, sizeof run->ceilings);
  for (int i = 0; i < n_shapes; ++i) describe_shape(&run->shapes[i], &shapes[i], &run->ceilings);
  free(shapes);
  bench_run_print_header(stdout, run);
  fflush(stdout);

  bench_timer_init(&ctx.timer, ctx.stream, args.warmup, args.iters);
  bench_verifier_init(&ctx.verifier, ctx.stream);

  const double start = now_s();
  for (int i = 0; i < n_shapes; ++i) {
    bench_report_t* r = &run->shapes[i];
    run->n_started = i + 1;
    if (args.suites != NULL)
      fprintf(stderr, "conv_bench: shape %d/%d: %s (%s), %.2f GFLOP, %.3f GB compulsory\n", i + 1,
              n_shapes, r->shape.name, r->shape.suite, r->flops * 1e-9,
              (r->x_bytes + r->w_bytes + r->bias_bytes + r->y_bytes) * 1e-9);
    bench_report_print_shape(stdout, r);
    fflush(stdout);
    const double t0 = now_s();
    run_shape(&ctx, r);
    r->wall_s = now_s() - t0;
    r->complete = 1;
    bench_report_print_table(stdout, r);
    if (args.suites != NULL) {
      fprintf(stderr, "conv_bench: shape %s done in %.1f s (%.1f s so far)\n", r->shape.name,
              r->wall_s, now_s() - start);
      /* The files so far, in case the run is killed before the end. */
      if (i + 1 < n_shapes) write_outputs(1);
    }
  }
  bench_set_fatal_hook(NULL);
  run->finished = 1;
  if (n_shapes > 1) bench_run_print_summary(stdout, run);

  int code = bench_run_exit_code(run);
  if (write_outputs(0) != 0) code = BENCH_EXIT_RUNTIME;

  bench_verifier_destroy(&ctx.verifier);
  bench_timer_destroy(&ctx.timer);
  if (have_cudnn) bench_cudnn_handle_destroy(&cudnn_api, ctx.cudnn);
  CUDA_CHECK(cudaStreamDestroy(ctx.stream));
  CONVGEMM_CHECK(convgemm_destroy(ctx.convgemm));
  if (have_cudnn) bench_cudnn_unload(&cudnn_api);
  free(run->shapes);
  return code;
}
