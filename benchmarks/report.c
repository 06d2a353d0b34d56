/* The human-readable report: header facts and the results table. */
#include "benchmarks/report.h"

#include <stdio.h>
#include <string.h>

#include "benchmarks/bench_args.h"
#include "benchmarks/check.h"

bench_row_t* bench_report_add_row(bench_report_t* r) {
  if (r->n_rows >= BENCH_MAX_ROWS) bench_die("internal: more than %d rows", BENCH_MAX_ROWS);
  bench_row_t* row = &r->rows[r->n_rows++];
  memset(row, 0, sizeof *row);
  row->find_ms = -1.0;
  return row;
}

void bench_report_add_skip(bench_report_t* r, const char* algo, convgemm_math_mode_t math,
                           const char* reason) {
  if (r->n_skips >= BENCH_MAX_ROWS) bench_die("internal: more than %d skips", BENCH_MAX_ROWS);
  bench_skip_t* s = &r->skips[r->n_skips++];
  snprintf(s->algo, sizeof s->algo, "%s", algo);
  s->math = math;
  snprintf(s->reason, sizeof s->reason, "%s", reason);
}

const char* bench_verdict_name(bench_verdict_t v) {
  switch (v) {
    case BENCH_VERDICT_REF: return "ref";
    case BENCH_VERDICT_PASS: return "PASS";
    case BENCH_VERDICT_FAIL: return "FAIL";
    case BENCH_VERDICT_ERROR: return "ERROR";
    case BENCH_VERDICT_UNCHECKED: return "UNCHECKED";
  }
  return "?";
}

static void print_version(FILE* out, int v) { fprintf(out, "%d.%d", v / 1000, v % 1000 / 10); }

void bench_report_print_header(FILE* out, const bench_report_t* r) {
  const bench_system_t* s = &r->system;
  const convgemm_conv2d_params_t* p = &r->params;
  fprintf(out, "convgemm conv_bench: 2-D convolution forward, float32 NCHW, convgemm vs cuDNN\n");
  fprintf(out, "device   : %s (device %d, sm_%d%d, %d SMs, %.1f GiB, L2 %.1f MiB)\n", s->name,
          s->device, s->cc_major, s->cc_minor, s->sm_count,
          (double)s->total_memory / (1024.0 * 1024.0 * 1024.0),
          (double)s->l2_bytes / (1024.0 * 1024.0));
  fprintf(out, "versions : driver ");
  print_version(out, s->driver_version);
  fprintf(out, ", CUDA runtime ");
  print_version(out, s->runtime_version);
  if (s->cudnn_loaded)
    fprintf(out, ", cuDNN %zu.%zu.%zu (%s)", s->cudnn_version / 10000,
            s->cudnn_version / 100 % 100, s->cudnn_version % 100, s->cudnn_path);
  else
    fprintf(out, ", cuDNN not found (%s)", s->cudnn_path);
  fprintf(out, ", convgemm %d.%d.%d\n", s->convgemm_version / 10000,
          s->convgemm_version / 100 % 100, s->convgemm_version % 100);
  fprintf(out,
          "shape    : x (%lld, %lld, %lld, %lld) * w (%lld, %lld, %lld, %lld) -> y (%lld, %lld, "
          "%lld, %lld); pad (%lld, %lld), stride (%lld, %lld), dilation (%lld, %lld), "
          "groups %lld, %s\n",
          (long long)p->n, (long long)p->c, (long long)p->h, (long long)p->w, (long long)p->k,
          (long long)(p->c / p->groups), (long long)p->r, (long long)p->s, (long long)p->n,
          (long long)p->k, (long long)r->p, (long long)r->q, (long long)p->pad_h,
          (long long)p->pad_w, (long long)p->stride_h, (long long)p->stride_w,
          (long long)p->dilation_h, (long long)p->dilation_w, (long long)p->groups,
          p->has_bias ? "bias" : "no bias");
  const double bytes = r->x_bytes + r->w_bytes + r->bias_bytes + r->y_bytes;
  fprintf(out, "work     : %.2f GFLOP (2*N*K*P*Q*(C/G)*R*S); compulsory %.3f GB (x %.3f + w %.3f",
          r->flops * 1e-9, bytes * 1e-9, r->x_bytes * 1e-9, r->w_bytes * 1e-9);
  if (p->has_bias) fprintf(out, " + bias %.3f", r->bias_bytes * 1e-9);
  fprintf(out, " + y %.3f)\n", r->y_bytes * 1e-9);
  fprintf(out, "timing   : CUDA events; %d MiB memset flushes L2 before every call; %d warm-up, ",
          (int)(BENCH_FLUSH_BYTES >> 20), r->warmup);
  if (r->iters > 0)
    fprintf(out, "%d timed calls\n", r->iters);
  else
    fprintf(out, "timed calls for ~%.1f s (%d..%d)\n", BENCH_TARGET_MS * 1e-3, BENCH_MIN_ITERS,
            BENCH_MAX_ITERS);
  fprintf(out,
          "check    : every element vs the 'cudnn' row of the same math mode: |y - ref| <= %g + "
          "%g*|ref|, y poisoned with NaN first\n",
          (double)BENCH_ATOL, (double)BENCH_RTOL);
  fprintf(out, "math     : default = TF32 allowed (PyTorch's default), ieee = fp32 "
               "(allow_tf32=False)\n");
}

static void row_detail(const bench_row_t* row, char* buf, size_t len) {
  const double ws_mb = (double)row->workspace_bytes * 1e-6;
  if (row->is_cudnn && row->find_ms >= 0.0)
    snprintf(buf, len, "%s %s, ws %.1f MB, Find %.3f ms", row->backend_algo, row->backend_math,
             ws_mb, row->find_ms);
  else if (row->is_cudnn)
    snprintf(buf, len, "%s %s, ws %.1f MB", row->backend_algo, row->backend_math, ws_mb);
  else if (strcmp(row->algo, row->backend_algo) != 0)
    snprintf(buf, len, "ran %s, ws %.1f MB", row->backend_algo, ws_mb);
  else
    snprintf(buf, len, "ws %.1f MB", ws_mb);
  if (row->timed) {
    const size_t used = strlen(buf);
    snprintf(buf + used, len - used, ", %d iters", row->timing.iters);
  }
}

void bench_report_print_table(FILE* out, const bench_report_t* r) {
  fprintf(out, "\n%-13s %-7s %10s %10s %8s %8s %12s %-9s %s\n", "algorithm", "math", "median_ms",
          "mean_ms", "TFLOP/s", "speedup", "max_abs_diff", "check", "detail");
  for (int i = 0; i < r->n_rows; ++i) {
    const bench_row_t* row = &r->rows[i];
    char median[16] = "-", mean[16] = "-", tflops[16] = "-", speedup[16] = "-", diff[16] = "-";
    if (row->timed) {
      snprintf(median, sizeof median, "%.3f", row->timing.median_ms);
      snprintf(mean, sizeof mean, "%.3f", row->timing.mean_ms);
      snprintf(tflops, sizeof tflops, "%.1f", row->tflops);
      if (row->speedup > 0.0) snprintf(speedup, sizeof speedup, "%.2fx", row->speedup);
    }
    if (row->checked) snprintf(diff, sizeof diff, "%.2e", row->max_abs_diff);
    char detail[256];
    row_detail(row, detail, sizeof detail);
    fprintf(out, "%-13s %-7s %10s %10s %8s %8s %12s %-9s %s\n", row->algo,
            bench_math_name(row->math), median, mean, tflops, speedup, diff,
            bench_verdict_name(row->verdict), detail);
  }
  for (int i = 0; i < r->n_rows; ++i) {
    const bench_row_t* row = &r->rows[i];
    if (row->message[0] != '\0')
      fprintf(out, "%s %s %s: %s\n", row->algo, bench_math_name(row->math),
              bench_verdict_name(row->verdict), row->message);
  }
  for (int i = 0; i < r->n_skips; ++i)
    fprintf(out, "skipped %s %s: %s\n", r->skips[i].algo, bench_math_name(r->skips[i].math),
            r->skips[i].reason);
  fflush(out);
}
