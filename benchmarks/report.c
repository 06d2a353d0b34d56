/* The human-readable report: header facts, per-shape tables, the summary across shapes; and the
 * condensing (floors, summaries, totals) the JSON and Markdown writers share. */
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

/* ---- condensing ------------------------------------------------------------------------------ */

double bench_row_floor_ms(const bench_report_t* r, const bench_row_t* row) {
  const double mem = r->memory_floor_ms;
  const double math = r->math_floor_ms[row->math == CONVGEMM_MATH_IEEE ? 1 : 0];
  if (mem < 0.0 && math < 0.0) return -1.0;
  return mem > math ? mem : math;
}

static int row_is_bad(const bench_row_t* row) {
  return !row->is_cudnn &&
         (row->verdict == BENCH_VERDICT_FAIL || row->verdict == BENCH_VERDICT_ERROR);
}

int bench_report_exit_code(const bench_report_t* r) {
  for (int i = 0; i < r->n_rows; ++i)
    if (row_is_bad(&r->rows[i])) return BENCH_EXIT_FAIL;
  return BENCH_EXIT_OK;
}

int bench_run_exit_code(const bench_run_t* run) {
  if (run->error[0] != '\0') return BENCH_EXIT_RUNTIME;
  int code = BENCH_EXIT_OK;
  for (int i = 0; i < run->n_started; ++i)
    if (bench_report_exit_code(&run->shapes[i]) != BENCH_EXIT_OK) code = BENCH_EXIT_FAIL;
  return code;
}

static int row_usable(const bench_row_t* row) {
  return row->timed && (row->verdict == BENCH_VERDICT_PASS || row->verdict == BENCH_VERDICT_REF ||
                        row->verdict == BENCH_VERDICT_UNCHECKED);
}

void bench_summarize(const bench_report_t* r, convgemm_math_mode_t math, bench_summary_t* out) {
  memset(out, 0, sizeof *out);
  char bad[96] = "";
  for (int i = 0; i < r->n_rows; ++i) {
    const bench_row_t* row = &r->rows[i];
    if (row->math != math) continue;
    out->present = 1;
    const bench_row_t* timed = row->timed ? row : NULL;
    if (row->is_cudnn) {
      if (strcmp(row->algo, "cudnn") == 0) out->cudnn = timed;
      if (strcmp(row->algo, "cudnn_find") == 0) out->cudnn_find = timed;
      continue;
    }
    ++out->n_convgemm;
    if (row->verdict == BENCH_VERDICT_UNCHECKED) ++out->n_unchecked;
    if (row_is_bad(row)) {
      ++out->n_bad;
      const size_t used = strlen(bad);
      snprintf(bad + used, sizeof bad - used, "%s%s", used > 0 ? ", " : "", row->algo);
    }
    if (strcmp(row->algo, "direct") == 0) out->direct = timed;
    if (strcmp(row->algo, "im2col_gemm") == 0) out->im2col_gemm = timed;
    if (strcmp(row->algo, "auto") == 0) {
      out->autorow = timed;
      continue;
    }
    if (row_usable(row) &&
        (out->best == NULL || row->timing.median_ms < out->best->timing.median_ms))
      out->best = row;
  }
  for (int i = 0; i < r->n_skips; ++i)
    if (r->skips[i].math == math) out->present = 1;
  if (out->n_bad > 0)
    snprintf(out->check, sizeof out->check, "FAIL: %s", bad);
  else if (out->n_unchecked > 0)
    snprintf(out->check, sizeof out->check, "UNCHECKED");
  else if (out->n_convgemm > 0)
    snprintf(out->check, sizeof out->check, "PASS");
  else
    snprintf(out->check, sizeof out->check, "-");
}

static void add_total(double* sum, const bench_row_t* row, int count) {
  if (*sum < 0.0) return;
  if (row == NULL)
    *sum = -1.0;
  else
    *sum += count * row->timing.median_ms;
}

int bench_run_totals(const bench_run_t* run, convgemm_math_mode_t math, bench_totals_t* out) {
  memset(out, 0, sizeof *out);
  for (int i = 0; i < run->n_started; ++i) {
    const bench_report_t* r = &run->shapes[i];
    const int count = r->shape.count;
    if (count <= 0) continue;
    bench_summary_t s;
    bench_summarize(r, math, &s);
    if (!s.present) continue;
    ++out->n_shapes;
    out->n_convs += count;
    out->flops += count * r->flops;
    add_total(&out->best_ms, s.best, count);
    add_total(&out->direct_ms, s.direct, count);
    add_total(&out->im2col_gemm_ms, s.im2col_gemm, count);
    add_total(&out->auto_ms, s.autorow, count);
    add_total(&out->cudnn_ms, s.cudnn, count);
    add_total(&out->cudnn_find_ms, s.cudnn_find, count);
  }
  return out->n_shapes > 0;
}

/* ---- formatting helpers ---------------------------------------------------------------------- */

void bench_format_version(char* buf, size_t len, int v) {
  snprintf(buf, len, "%d.%d", v / 1000, v % 1000 / 10);
}

void bench_format_conv(char* buf, size_t len, const bench_report_t* r) {
  const convgemm_conv2d_params_t* p = &r->shape.params;
  snprintf(buf, len,
           "x (%lld, %lld, %lld, %lld) * w (%lld, %lld, %lld, %lld) -> y (%lld, %lld, %lld, "
           "%lld); pad (%lld, %lld), stride (%lld, %lld), dilation (%lld, %lld), groups %lld, %s",
           (long long)p->n, (long long)p->c, (long long)p->h, (long long)p->w, (long long)p->k,
           (long long)(p->c / p->groups), (long long)p->r, (long long)p->s, (long long)p->n,
           (long long)p->k, (long long)r->p, (long long)r->q, (long long)p->pad_h,
           (long long)p->pad_w, (long long)p->stride_h, (long long)p->stride_w,
           (long long)p->dilation_h, (long long)p->dilation_w, (long long)p->groups,
           p->has_bias ? "bias" : "no bias");
  if (p->data_type != CONVGEMM_DATA_FLOAT32) {
    const size_t used = strlen(buf);
    if (used < len) snprintf(buf + used, len - used, ", %s", bench_dtype_name(p->data_type));
  }
}

const char* bench_math_floor_name(convgemm_data_type_t type, convgemm_math_mode_t math) {
  if (type != CONVGEMM_DATA_FLOAT32) return bench_half_gemm_name(type);
  return math == CONVGEMM_MATH_IEEE ? "FP32" : "TF32";
}

void bench_format_ms(char* buf, size_t len, double ms) {
  if (ms >= 0.0)
    snprintf(buf, len, "%.3f", ms);
  else
    snprintf(buf, len, "-");
}

void bench_format_row_ms(char* buf, size_t len, const bench_row_t* row) {
  bench_format_ms(buf, len, row != NULL ? row->timing.median_ms : -1.0);
}

static void speedup_of(char* buf, size_t len, const bench_row_t* row, const bench_row_t* cudnn) {
  if (row != NULL && cudnn != NULL && row->timing.median_ms > 0.0)
    snprintf(buf, len, "%.2fx", cudnn->timing.median_ms / row->timing.median_ms);
  else
    snprintf(buf, len, "-");
}

static void percent_of_floor(char* buf, size_t len, const bench_report_t* r,
                             const bench_row_t* row) {
  const double floor_ms = row != NULL ? bench_row_floor_ms(r, row) : -1.0;
  if (row != NULL && row->timed && floor_ms > 0.0 && row->timing.median_ms > 0.0)
    snprintf(buf, len, "%.1f%%", 100.0 * floor_ms / row->timing.median_ms);
  else
    snprintf(buf, len, "-");
}

/* ---- console --------------------------------------------------------------------------------- */

static void print_ceilings(FILE* out, const bench_ceilings_t* c) {
  if (!c->measured) {
    fprintf(out, "ceilings : not measured (--no-ceilings); no floors\n");
    return;
  }
  fprintf(out, "ceilings : copy ");
  if (c->copy_ok)
    fprintf(out, "%.0f GB/s (cudaMemcpyAsync device-to-device of %.2f GiB, read + write bytes, "
                 "median %.3f ms)",
            c->copy_gbps, c->copy_bytes / (1 << 30), c->copy_ms);
  else
    fprintf(out, "-");
  fprintf(out, "; cuBLASLt %d^3 GEMM: TF32 ", c->gemm_dim);
  if (c->tf32_ok)
    fprintf(out, "%.1f TFLOP/s", c->tf32_tflops);
  else
    fprintf(out, "-");
  fprintf(out, ", FP32 ");
  if (c->fp32_ok)
    fprintf(out, "%.1f TFLOP/s", c->fp32_tflops);
  else
    fprintf(out, "-");
  if (c->half_type != CONVGEMM_DATA_FLOAT32) {
    fprintf(out, ", %s ", bench_half_gemm_name(c->half_type));
    if (c->half_ok)
      fprintf(out, "%.1f TFLOP/s", c->half_tflops);
    else
      fprintf(out, "-");
  }
  fprintf(out, " (median of %d)\n", BENCH_CEILING_ITERS);
  if (c->note[0] != '\0') fprintf(out, "           %s\n", c->note);
  if (c->half_type != CONVGEMM_DATA_FLOAT32)
    fprintf(out, "floors   : memory = compulsory bytes / copy bandwidth; math = GFLOP / %s rate "
                 "(fp32 accumulation; both math modes); floor = the larger; %%floor = floor / "
                 "median\n",
            bench_half_gemm_name(c->half_type));
  else
    fprintf(out, "floors   : memory = compulsory bytes / copy bandwidth; math = GFLOP / TF32 rate "
                 "(default rows) or FP32 rate (ieee rows); floor = the larger; %%floor = floor / "
                 "median\n");
}

void bench_run_print_header(FILE* out, const bench_run_t* run) {
  const bench_system_t* s = &run->system;
  char driver[16], runtime[16];
  bench_format_version(driver, sizeof driver, s->driver_version);
  bench_format_version(runtime, sizeof runtime, s->runtime_version);
  fprintf(out, "convgemm conv_bench: 2-D convolution forward, %s NCHW, convgemm vs cuDNN\n",
          bench_dtype_name(run->data_type));
  fprintf(out, "device   : %s (device %d, sm_%d%d, %d SMs, %.1f GiB, L2 %.1f MiB)\n", s->name,
          s->device, s->cc_major, s->cc_minor, s->sm_count,
          (double)s->total_memory / (1024.0 * 1024.0 * 1024.0),
          (double)s->l2_bytes / (1024.0 * 1024.0));
  fprintf(out, "versions : driver %s, CUDA runtime %s", driver, runtime);
  if (s->cudnn_loaded)
    fprintf(out, ", cuDNN %zu.%zu.%zu (%s)", s->cudnn_version / 10000,
            s->cudnn_version / 100 % 100, s->cudnn_version % 100, s->cudnn_path);
  else
    fprintf(out, ", cuDNN not found (%s)", s->cudnn_path);
  fprintf(out, ", convgemm %d.%d.%d\n", s->convgemm_version / 10000,
          s->convgemm_version / 100 % 100, s->convgemm_version % 100);
  print_ceilings(out, &run->ceilings);
  if (run->suites[0] != '\0')
    fprintf(out, "suites   : %s (%d shape%s)\n", run->suites, run->n_shapes,
            run->n_shapes == 1 ? "" : "s");
  fprintf(out, "timing   : CUDA events; %d MiB memset flushes L2 before every call; %d warm-up, ",
          (int)(BENCH_FLUSH_BYTES >> 20), run->warmup);
  if (run->iters > 0)
    fprintf(out, "%d timed calls", run->iters);
  else
    fprintf(out, "timed calls for ~%.1f s (%d..%d)", BENCH_TARGET_MS * 1e-3, BENCH_MIN_ITERS,
            BENCH_MAX_ITERS);
  fprintf(out, "; %s\n",
          run->interleave ? "interleaved: rounds of one call per variant"
                          : "sequential: one variant after another");
  fprintf(out,
          "check    : every element vs the 'cudnn' row of the same math mode: |y - ref| <= %g + "
          "%g*|ref|, y poisoned with NaN first\n",
          (double)bench_atol(run->data_type), (double)bench_rtol(run->data_type));
  if (run->data_type != CONVGEMM_DATA_FLOAT32)
    fprintf(out, "math     : %s data: fp32 accumulation of exact products in both convgemm modes; "
                 "cuDNN CUDNN_TENSOR_OP_MATH in both; run:",
            bench_dtype_name(run->data_type));
  else
    fprintf(out, "math     : default = TF32 allowed (PyTorch's default), ieee = fp32 "
                 "(allow_tf32=False); run:");
  for (int i = 0; i < run->n_maths; ++i) fprintf(out, " %s", bench_math_name(run->maths[i]));
  fprintf(out, "\n");
}

void bench_report_print_shape(FILE* out, const bench_report_t* r) {
  const bench_shape_t* sh = &r->shape;
  if (sh->suite[0] != '\0') {
    fprintf(out, "\n== %s (%s", sh->name, sh->suite);
    if (sh->count > 0) fprintf(out, ", x%d in the network", sh->count);
    if (sh->note[0] != '\0') fprintf(out, "; %s", sh->note);
    fprintf(out, ")\n");
  }
  char conv[512];
  bench_format_conv(conv, sizeof conv, r);
  fprintf(out, "shape    : %s\n", conv);
  const double bytes = r->x_bytes + r->w_bytes + r->bias_bytes + r->y_bytes;
  fprintf(out, "work     : %.2f GFLOP (2*N*K*P*Q*(C/G)*R*S); compulsory %.3f GB (x %.3f + w %.3f",
          r->flops * 1e-9, bytes * 1e-9, r->x_bytes * 1e-9, r->w_bytes * 1e-9);
  if (sh->params.has_bias) fprintf(out, " + bias %.3f", r->bias_bytes * 1e-9);
  fprintf(out, " + y %.3f)\n", r->y_bytes * 1e-9);
  if (r->memory_floor_ms >= 0.0 || r->math_floor_ms[0] >= 0.0 || r->math_floor_ms[1] >= 0.0) {
    char mem[32], tf32[32], fp32[32];
    bench_format_ms(mem, sizeof mem, r->memory_floor_ms);
    bench_format_ms(tf32, sizeof tf32, r->math_floor_ms[0]);
    bench_format_ms(fp32, sizeof fp32, r->math_floor_ms[1]);
    const convgemm_data_type_t type = sh->params.data_type;
    if (type != CONVGEMM_DATA_FLOAT32)
      fprintf(out, "floors   : memory %s ms; math %s ms (%s)\n", mem, tf32,
              bench_math_floor_name(type, CONVGEMM_MATH_DEFAULT));
    else
      fprintf(out, "floors   : memory %s ms; math %s ms (TF32, default rows), %s ms (FP32, ieee "
                   "rows)\n",
              mem, tf32, fp32);
  }
}

void bench_row_detail(const bench_row_t* row, char* buf, size_t len) {
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
  fprintf(out, "\n%-13s %-7s %10s %10s %8s %9s %7s %8s %12s %-9s %s\n", "algorithm", "math",
          "median_ms", "mean_ms", "TFLOP/s", "floor_ms", "%floor", "speedup", "max_abs_diff",
          "check", "detail");
  for (int i = 0; i < r->n_rows; ++i) {
    const bench_row_t* row = &r->rows[i];
    char median[16] = "-", mean[16] = "-", tflops[16] = "-", speedup[16] = "-", diff[16] = "-";
    char floor_ms[16], pct[16];
    if (row->timed) {
      snprintf(median, sizeof median, "%.3f", row->timing.median_ms);
      snprintf(mean, sizeof mean, "%.3f", row->timing.mean_ms);
      snprintf(tflops, sizeof tflops, "%.1f", row->tflops);
      if (row->speedup > 0.0) snprintf(speedup, sizeof speedup, "%.2fx", row->speedup);
    }
    bench_format_ms(floor_ms, sizeof floor_ms, bench_row_floor_ms(r, row));
    percent_of_floor(pct, sizeof pct, r, row);
    if (row->checked) snprintf(diff, sizeof diff, "%.2e", row->max_abs_diff);
    char detail[256];
    bench_row_detail(row, detail, sizeof detail);
    fprintf(out, "%-13s %-7s %10s %10s %8s %9s %7s %8s %12s %-9s %s\n", row->algo,
            bench_math_name(row->math), median, mean, tflops, floor_ms, pct, speedup, diff,
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
  if (!r->complete) fprintf(out, "(incomplete: stopped at the error reported on stderr)\n");
  fflush(out);
}

/* shape count GFLOP best best_ms direct im2col auto_ran auto_ms cudnn find best_x auto_x %floor
 * check */
#define SUMMARY_FMT "%-22s %5s %9s %-12s %9s %9s %9s %-12s %9s %9s %9s %7s %7s %7s  %s\n"

static void print_summary_mode(FILE* out, const bench_run_t* run, convgemm_math_mode_t math) {
  fprintf(out, "\nsummary, %s math: median ms; speedup = cudnn / it; best = the fastest convgemm "
               "algorithm that passed (auto aside)\n",
          bench_math_name(math));
  fprintf(out, SUMMARY_FMT, "shape", "count", "GFLOP", "best", "best_ms", "direct", "im2col",
          "auto_ran", "auto_ms", "cudnn", "find", "best_x", "auto_x", "%floor", "check");
  for (int i = 0; i < run->n_started; ++i) {
    const bench_report_t* r = &run->shapes[i];
    bench_summary_t s;
    bench_summarize(r, math, &s);
    if (!s.present) continue;
    char count[16] = "-", gflop[16], best_ms[16], direct[16], im2col[16], auto_ms[16];
    char cudnn[16], find[16], best_x[16], auto_x[16], pct[16], auto_ran[40] = "-";
    if (r->shape.count > 0) snprintf(count, sizeof count, "%d", r->shape.count);
    snprintf(gflop, sizeof gflop, "%.2f", r->flops * 1e-9);
    bench_format_row_ms(best_ms, sizeof best_ms, s.best);
    bench_format_row_ms(direct, sizeof direct, s.direct);
    bench_format_row_ms(im2col, sizeof im2col, s.im2col_gemm);
    bench_format_row_ms(auto_ms, sizeof auto_ms, s.autorow);
    bench_format_row_ms(cudnn, sizeof cudnn, s.cudnn);
    bench_format_row_ms(find, sizeof find, s.cudnn_find);
    speedup_of(best_x, sizeof best_x, s.best, s.cudnn);
    speedup_of(auto_x, sizeof auto_x, s.autorow, s.cudnn);
    percent_of_floor(pct, sizeof pct, r, s.best);
    if (s.autorow != NULL) snprintf(auto_ran, sizeof auto_ran, "%s", s.autorow->backend_algo);
    fprintf(out, SUMMARY_FMT, r->shape.name, count, gflop, s.best != NULL ? s.best->algo : "-",
            best_ms, direct, im2col, auto_ran, auto_ms, cudnn, find, best_x, auto_x, pct, s.check);
  }
  bench_totals_t t;
  if (bench_run_totals(run, math, &t)) {
    char gflop[16], best_ms[16], direct[16], im2col[16], auto_ms[16], cudnn[16], find[16];
    char best_x[16] = "-", auto_x[16] = "-", label[32], count[16];
    snprintf(label, sizeof label, "total (x count)");
    snprintf(count, sizeof count, "%d", t.n_convs);
    snprintf(gflop, sizeof gflop, "%.2f", t.flops * 1e-9);
    bench_format_ms(best_ms, sizeof best_ms, t.best_ms);
    bench_format_ms(direct, sizeof direct, t.direct_ms);
    bench_format_ms(im2col, sizeof im2col, t.im2col_gemm_ms);
    bench_format_ms(auto_ms, sizeof auto_ms, t.auto_ms);
    bench_format_ms(cudnn, sizeof cudnn, t.cudnn_ms);
    bench_format_ms(find, sizeof find, t.cudnn_find_ms);
    if (t.best_ms > 0.0 && t.cudnn_ms > 0.0)
      snprintf(best_x, sizeof best_x, "%.2fx", t.cudnn_ms / t.best_ms);
    if (t.auto_ms > 0.0 && t.cudnn_ms > 0.0)
      snprintf(auto_x, sizeof auto_x, "%.2fx", t.cudnn_ms / t.auto_ms);
    fprintf(out, SUMMARY_FMT, label, count, gflop, "(per shape)", best_ms, direct, im2col, "-",
            auto_ms, cudnn, find, best_x, auto_x, "-", "");
  }
}

void bench_run_print_summary(FILE* out, const bench_run_t* run) {
  for (int i = 0; i < run->n_maths; ++i) print_summary_mode(out, run, run->maths[i]);
  fflush(out);
}
