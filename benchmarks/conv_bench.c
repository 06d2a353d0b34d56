/* conv_bench: convgemm's 2-D convolution forward against cuDNN, checked then timed.
 * `bazel run //benchmarks:conv_bench -- --help` for the flags; README.md beside this file. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cuda_runtime_api.h>

#include "benchmarks/bench_args.h"
#include "benchmarks/check.h"
#include "benchmarks/cudnn_api.h"
#include "benchmarks/cudnn_conv.h"
#include "benchmarks/device_ops.h"
#include "benchmarks/report.h"
#include "benchmarks/run_variants.h"
#include "benchmarks/system_info.h"
#include "conv/convgemm.h"

/* Seeds of the counter-based input RNG. */
enum { SEED_X = 1, SEED_W = 2, SEED_BIAS = 3 };

/* Global so that a fatal error can still print the rows measured before it. */
static bench_report_t g_report;

static void print_partial_table(void) {
  if (g_report.n_rows == 0) return;
  printf("\n(incomplete: conv_bench stopped at the error reported on stderr)");
  bench_report_print_table(stdout, &g_report);
}

static int exit_code_of(const bench_report_t* r) {
  for (int i = 0; i < r->n_rows; ++i) {
    const bench_row_t* row = &r->rows[i];
    if (!row->is_cudnn &&
        (row->verdict == BENCH_VERDICT_FAIL || row->verdict == BENCH_VERDICT_ERROR))
      return BENCH_EXIT_FAIL;
  }
  return BENCH_EXIT_OK;
}

/* `bazel run` starts the binary in its runfiles tree; a relative --json path means the directory
 * the command was typed in (BUILD_WORKING_DIRECTORY). */
static const char* resolve_output_path(const char* path, char* buf, size_t len) {
  const char* cwd = getenv("BUILD_WORKING_DIRECTORY");
  if (path[0] == '/' || cwd == NULL || cwd[0] == '\0') return path;
  snprintf(buf, len, "%s/%s", cwd, path);
  return buf;
}

static float* alloc_uniform(size_t n, uint64_t seed, float lo, float hi, const char* what,
                            cudaStream_t stream) {
  float* p = bench_device_alloc(n * sizeof(float), what);
  CUDA_CHECK(bench_fill_uniform(p, n, seed, lo, hi, stream));
  return p;
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

  /* The library validates the convolution (host only, before any GPU is needed). */
  convgemm_conv_desc_t shape_desc = NULL;
  const convgemm_status_t valid = convgemm_conv_desc_create(&shape_desc, &args.params);
  if (valid != CONVGEMM_STATUS_SUCCESS) {
    fprintf(stderr, "conv_bench: invalid convolution: %s: %s\n", convgemm_status_string(valid),
            convgemm_get_last_error());
    return BENCH_EXIT_USAGE;
  }
  int64_t yn, yk, yp, yq;
  CONVGEMM_CHECK(convgemm_get_output_shape(shape_desc, &yn, &yk, &yp, &yq));
  CONVGEMM_CHECK(convgemm_conv_desc_destroy(shape_desc));

  if (!bench_gpu_available(err, sizeof err)) {
    fprintf(stderr, "conv_bench: %s\n", err);
    return BENCH_EXIT_RUNTIME;
  }

  bench_cudnn_api_t cudnn_api;
  char cudnn_why[512] = "";
  const int have_cudnn = bench_cudnn_load(&cudnn_api, cudnn_why, sizeof cudnn_why);

  const convgemm_conv2d_params_t* p = &args.params;
  bench_report_t* report = &g_report;
  memset(report, 0, sizeof *report);
  bench_system_query(&report->system, have_cudnn ? &cudnn_api : NULL, cudnn_why);
  report->params = *p;
  report->p = yp;
  report->q = yq;
  report->flops = 2.0 * (double)yn * (double)yk * (double)yp * (double)yq *
                  (double)(p->c / p->groups) * (double)p->r * (double)p->s;
  const size_t x_elems = (size_t)(p->n * p->c * p->h * p->w);
  const size_t w_elems = (size_t)(p->k * (p->c / p->groups) * p->r * p->s);
  const size_t y_elems = (size_t)(yn * yk * yp * yq);
  report->x_bytes = (double)x_elems * sizeof(float);
  report->w_bytes = (double)w_elems * sizeof(float);
  report->bias_bytes = p->has_bias ? (double)p->k * sizeof(float) : 0.0;
  report->y_bytes = (double)y_elems * sizeof(float);
  report->warmup = args.warmup;
  report->iters = args.iters;
  bench_report_print_header(stdout, report);
  fflush(stdout);
  if (!have_cudnn)
    fprintf(stderr, "conv_bench: warning: cuDNN not found (%s); convgemm rows are only checked "
                    "for NaN\n",
            cudnn_why);

  convgemm_handle_t handle = NULL;
  CONVGEMM_CHECK(convgemm_create(&handle));
  cudaStream_t stream;
  CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));

  /* torch.rand for x; nn.Conv2d's init range for w and bias. */
  const float bound = 1.0f / sqrtf((float)((p->c / p->groups) * p->r * p->s));
  fprintf(stderr, "conv_bench: filling x (%.3f GB) and w on the GPU\n", report->x_bytes * 1e-9);
  float* x = alloc_uniform(x_elems, SEED_X, 0.0f, 1.0f, "x", stream);
  float* w = alloc_uniform(w_elems, SEED_W, -bound, bound, "w", stream);
  float* bias =
      p->has_bias ? alloc_uniform((size_t)p->k, SEED_BIAS, -bound, bound, "bias", stream) : NULL;
  CUDA_CHECK(cudaStreamSynchronize(stream));

  bench_cudnn_conv_t cudnn_conv;
  if (have_cudnn) bench_cudnn_conv_create(&cudnn_conv, &cudnn_api, p, yp, yq, stream);

  bench_session_t session;
  memset(&session, 0, sizeof session);
  session.args = &args;
  session.convgemm = handle;
  session.cudnn = have_cudnn ? &cudnn_conv : NULL;
  session.x = x;
  session.w = w;
  session.bias = bias;
  session.y_elems = y_elems;
  session.stream = stream;
  session.report = report;
  bench_timer_init(&session.timer, stream, args.warmup, args.iters);
  bench_verifier_init(&session.verifier, stream);

  bench_set_fatal_hook(print_partial_table);
  for (int i = 0; i < args.n_maths; ++i) bench_run_math_mode(&session, args.maths[i]);
  bench_set_fatal_hook(NULL);

  bench_report_print_table(stdout, report);
  int code = exit_code_of(report);
  if (args.json_path != NULL) {
    char buf[4096];
    const char* path = resolve_output_path(args.json_path, buf, sizeof buf);
    if (bench_report_write_json(path, report, code) != 0) {
      fprintf(stderr, "conv_bench: writing %s failed: %s\n", path, strerror(errno));
      code = BENCH_EXIT_RUNTIME;
    } else {
      fprintf(stderr, "conv_bench: wrote %s\n", path);
    }
  }

  bench_verifier_destroy(&session.verifier);
  bench_timer_destroy(&session.timer);
  if (have_cudnn) bench_cudnn_conv_destroy(&cudnn_conv);
  bench_device_free(bias);
  bench_device_free(w);
  bench_device_free(x);
  CUDA_CHECK(cudaStreamDestroy(stream));
  CONVGEMM_CHECK(convgemm_destroy(handle));
  if (have_cudnn) bench_cudnn_unload(&cudnn_api);
  return code;
}
