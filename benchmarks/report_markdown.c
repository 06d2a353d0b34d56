/* The run as Markdown (--markdown PATH): the header facts, one summary table per math mode across
 * the shapes (with count-weighted totals for ResNet-50), then each shape's full table. */
#include <stdio.h>
#include <string.h>

#include "benchmarks/bench_args.h"
#include "benchmarks/report.h"

/* Text for a table cell: '|' escaped, newlines as spaces. */
static void put_cell(FILE* f, const char* s) {
  for (const char* c = s; *c != '\0'; ++c) {
    if (*c == '|')
      fputs("\\|", f);
    else if (*c == '\n' || *c == '\r')
      fputc(' ', f);
    else
      fputc(*c, f);
  }
}

static void ratio_text(char* buf, size_t len, double num, double den) {
  if (num > 0.0 && den > 0.0)
    snprintf(buf, len, "%.2fx", num / den);
  else
    snprintf(buf, len, "-");
}

static void pct_text(char* buf, size_t len, double floor_ms, double ms) {
  if (floor_ms > 0.0 && ms > 0.0)
    snprintf(buf, len, "%.1f%%", 100.0 * floor_ms / ms);
  else
    snprintf(buf, len, "-");
}

static const char* math_title(convgemm_math_mode_t math) {
  return math == CONVGEMM_MATH_IEEE ? "ieee math (FP32, allow_tf32 = False)"
                                    : "default math (TF32 allowed, PyTorch's default)";
}

static void put_header(FILE* f, const bench_run_t* run) {
  const bench_system_t* s = &run->system;
  const bench_ceilings_t* c = &run->ceilings;
  char driver[16], runtime[16];
  bench_format_version(driver, sizeof driver, s->driver_version);
  bench_format_version(runtime, sizeof runtime, s->runtime_version);
  fprintf(f, "# conv_bench: convgemm vs cuDNN, 2-D convolution forward, %s NCHW\n\n",
          bench_dtype_name(run->data_type));
  fputs("- **Command**: `", f);
  put_cell(f, run->command);
  fputs("`\n", f);
  fprintf(f, "- **Card**: %s (device %d, sm_%d%d, %d SMs, %.1f GiB, L2 %.1f MiB)\n", s->name,
          s->device, s->cc_major, s->cc_minor, s->sm_count,
          (double)s->total_memory / (1024.0 * 1024.0 * 1024.0),
          (double)s->l2_bytes / (1024.0 * 1024.0));
  fprintf(f, "- **Versions**: driver %s, CUDA runtime %s, ", driver, runtime);
  if (s->cudnn_loaded)
    fprintf(f, "cuDNN %zu.%zu.%zu (`%s`)", s->cudnn_version / 10000, s->cudnn_version / 100 % 100,
            s->cudnn_version % 100, s->cudnn_path);
  else
    fprintf(f, "cuDNN not found (%s)", s->cudnn_path);
  fprintf(f, ", convgemm %d.%d.%d\n", s->convgemm_version / 10000, s->convgemm_version / 100 % 100,
          s->convgemm_version % 100);
  fputs("- **Math modes**: ", f);
  for (int i = 0; i < run->n_maths; ++i)
    fprintf(f, "%s`%s`", i > 0 ? ", " : "", bench_math_name(run->maths[i]));
  if (run->data_type != CONVGEMM_DATA_FLOAT32)
    fprintf(f, " (%s data: convgemm accumulates exact products in fp32 in both modes; cuDNN "
               "CUDNN_TENSOR_OP_MATH in both, as PyTorch asks for 16-bit convolutions)\n",
            bench_dtype_name(run->data_type));
  else
    fputs(" (`default` = TF32 allowed as PyTorch ships, CUDNN_DEFAULT_MATH, CONVGEMM_MATH_DEFAULT; "
          "`ieee` = fp32, allow_tf32 = False, CUDNN_FMA_MATH, CONVGEMM_MATH_IEEE)\n",
          f);
  if (!c->measured) {
    fputs("- **Ceilings**: not measured (`--no-ceilings`); no floors\n", f);
  } else {
    char copy[96] = "-", tf32[32] = "-", fp32[32] = "-";
    if (c->copy_ok)
      snprintf(copy, sizeof copy, "%.0f GB/s (%.2f GiB device-to-device copy, read + write bytes)",
               c->copy_gbps, c->copy_bytes / (1 << 30));
    if (c->tf32_ok) snprintf(tf32, sizeof tf32, "%.1f TFLOP/s", c->tf32_tflops);
    if (c->fp32_ok) snprintf(fp32, sizeof fp32, "%.1f TFLOP/s", c->fp32_tflops);
    fprintf(f, "- **Ceilings** (measured at start, median of %d): copy %s; cuBLASLt %d^3 GEMM "
               "TF32 %s, FP32 %s",
            BENCH_CEILING_ITERS, copy, c->gemm_dim, tf32, fp32);
    if (c->half_type != CONVGEMM_DATA_FLOAT32) {
      char half[32] = "-";
      if (c->half_ok) snprintf(half, sizeof half, "%.1f TFLOP/s", c->half_tflops);
      fprintf(f, ", %s %s", bench_half_gemm_name(c->half_type), half);
    }
    fputs("\n", f);
    if (c->note[0] != '\0') {
      fputs("  (", f);
      put_cell(f, c->note);
      fputs(")\n", f);
    }
    if (c->half_type != CONVGEMM_DATA_FLOAT32)
      fprintf(f, "- **Floors**: memory = compulsory bytes (read x, w, bias once; write y once) / "
                 "copy bandwidth; math = FLOPs / %s rate (every row); floor = the larger; %% of "
                 "floor = floor / median\n",
              bench_half_gemm_name(c->half_type));
    else
      fputs("- **Floors**: memory = compulsory bytes (read x, w, bias once; write y once) / copy "
            "bandwidth; math = FLOPs / TF32 rate (default rows) or FP32 rate (ieee rows); floor = "
            "the larger; % of floor = floor / median\n",
            f);
  }
  fprintf(f, "- **Timing**: CUDA events, %d MiB memset flushing L2 before every call, %d warm-up, ",
          (int)(BENCH_FLUSH_BYTES >> 20), run->warmup);
  if (run->iters > 0)
    fprintf(f, "%d timed calls per variant", run->iters);
  else
    fprintf(f, "timed calls for ~%.1f s (%d..%d) per variant", BENCH_TARGET_MS * 1e-3,
            BENCH_MIN_ITERS, BENCH_MAX_ITERS);
  fprintf(f, ", %s; median\n",
          run->interleave ? "a math mode's variants interleaved (rounds of one call each)"
                          : "one variant after another");
  fprintf(f, "- **Check**: every element against the `cudnn` row of the same math mode, "
             "|y - ref| <= %g + %g·|ref| (torch.allclose), output poisoned with NaN first\n",
          (double)bench_atol(run->data_type), (double)bench_rtol(run->data_type));
  if (run->suites[0] != '\0')
    fprintf(f, "- **Suites**: %s (%d shapes planned, %d run)\n", run->suites, run->n_shapes,
            run->n_started);
  if (!run->finished && run->error[0] == '\0')
    fprintf(f, "- **Partial**: written after %d of %d shapes; the run was still going\n",
            run->n_started, run->n_shapes);
  fprintf(f, "- **Exit code**: %d", bench_run_exit_code(run));
  if (run->error[0] != '\0') {
    fputs(" (stopped: ", f);
    put_cell(f, run->error);
    fputs(")", f);
  }
  fputs("\n", f);
}

static void put_summary(FILE* f, const bench_run_t* run, convgemm_math_mode_t math) {
  fprintf(f, "\n## Summary, %s\n\n", math_title(math));
  fputs("Median ms per call. *best* = the fastest convgemm algorithm that passed (auto aside); "
        "*x cudnn* = cudnn's median / this one (above 1: convgemm faster).\n\n",
        f);
  fputs("| shape | count | GFLOP | best convgemm | best ms | direct ms | im2col_gemm ms | auto ran "
        "| auto ms | cudnn ms | cudnn_find ms | best x cudnn | auto x cudnn | best % of floor "
        "| check |\n",
        f);
  fputs("|---|---:|---:|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---|\n", f);
  for (int i = 0; i < run->n_started; ++i) {
    const bench_report_t* r = &run->shapes[i];
    bench_summary_t s;
    bench_summarize(r, math, &s);
    if (!s.present) continue;
    char count[16] = "", best_ms[16], direct[16], im2col[16], auto_ms[16], cudnn[16], find[16];
    char best_x[16], auto_x[16], pct[16];
    if (r->shape.count > 0) snprintf(count, sizeof count, "%d", r->shape.count);
    bench_format_row_ms(best_ms, sizeof best_ms, s.best);
    bench_format_row_ms(direct, sizeof direct, s.direct);
    bench_format_row_ms(im2col, sizeof im2col, s.im2col_gemm);
    bench_format_row_ms(auto_ms, sizeof auto_ms, s.autorow);
    bench_format_row_ms(cudnn, sizeof cudnn, s.cudnn);
    bench_format_row_ms(find, sizeof find, s.cudnn_find);
    const double cudnn_v = s.cudnn != NULL ? s.cudnn->timing.median_ms : -1.0;
    ratio_text(best_x, sizeof best_x, cudnn_v, s.best != NULL ? s.best->timing.median_ms : -1.0);
    ratio_text(auto_x, sizeof auto_x, cudnn_v,
               s.autorow != NULL ? s.autorow->timing.median_ms : -1.0);
    pct_text(pct, sizeof pct, s.best != NULL ? bench_row_floor_ms(r, s.best) : -1.0,
             s.best != NULL ? s.best->timing.median_ms : -1.0);
    fprintf(f, "| %s%s | %s | %.2f | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
            r->shape.name, r->complete ? "" : " (incomplete)", count, r->flops * 1e-9,
            s.best != NULL ? s.best->algo : "-", best_ms, direct, im2col,
            s.autorow != NULL ? s.autorow->backend_algo : "-", auto_ms, cudnn, find, best_x,
            auto_x, pct, s.check);
  }
  bench_totals_t t;
  if (bench_run_totals(run, math, &t)) {
    char best_ms[16], direct[16], im2col[16], auto_ms[16], cudnn[16], find[16], best_x[16];
    char auto_x[16];
    bench_format_ms(best_ms, sizeof best_ms, t.best_ms);
    bench_format_ms(direct, sizeof direct, t.direct_ms);
    bench_format_ms(im2col, sizeof im2col, t.im2col_gemm_ms);
    bench_format_ms(auto_ms, sizeof auto_ms, t.auto_ms);
    bench_format_ms(cudnn, sizeof cudnn, t.cudnn_ms);
    bench_format_ms(find, sizeof find, t.cudnn_find_ms);
    ratio_text(best_x, sizeof best_x, t.cudnn_ms, t.best_ms);
    ratio_text(auto_x, sizeof auto_x, t.cudnn_ms, t.auto_ms);
    fprintf(f,
            "| **total, x count** (%d shapes) | %d | %.2f | per shape | %s | %s | %s | | %s | %s "
            "| %s | %s | %s | | |\n",
            t.n_shapes, t.n_convs, t.flops * 1e-9, best_ms, direct, im2col, auto_ms, cudnn, find,
            best_x, auto_x);
  }
}

static void put_shape(FILE* f, const bench_report_t* r) {
  const bench_shape_t* sh = &r->shape;
  fprintf(f, "\n### %s", sh->name);
  if (sh->suite[0] != '\0') fprintf(f, " (%s)", sh->suite);
  fputs("\n\n", f);
  if (sh->note[0] != '\0') {
    put_cell(f, sh->note);
    if (sh->count > 0) fprintf(f, "; %d in the network", sh->count);
    fputs(". ", f);
  }
  char conv[512];
  bench_format_conv(conv, sizeof conv, r);
  const double bytes = r->x_bytes + r->w_bytes + r->bias_bytes + r->y_bytes;
  char mem[16], tf32[16], fp32[16];
  bench_format_ms(mem, sizeof mem, r->memory_floor_ms);
  bench_format_ms(tf32, sizeof tf32, r->math_floor_ms[0]);
  bench_format_ms(fp32, sizeof fp32, r->math_floor_ms[1]);
  if (sh->params.data_type != CONVGEMM_DATA_FLOAT32)
    fprintf(f, "%s. %.2f GFLOP, compulsory %.3f GB. Floors: memory %s ms, math %s ms (%s). "
               "%.1f s.\n\n",
            conv, r->flops * 1e-9, bytes * 1e-9, mem, tf32,
            bench_math_floor_name(sh->params.data_type, CONVGEMM_MATH_DEFAULT), r->wall_s);
  else
    fprintf(f, "%s. %.2f GFLOP, compulsory %.3f GB. Floors: memory %s ms, math %s ms (TF32) / %s "
               "ms (FP32). %.1f s.\n\n",
            conv, r->flops * 1e-9, bytes * 1e-9, mem, tf32, fp32, r->wall_s);
  fputs("| algorithm | math | median ms | mean ms | TFLOP/s | floor ms | % of floor | speedup vs "
        "cudnn | max abs diff | check | detail |\n",
        f);
  fputs("|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|\n", f);
  for (int i = 0; i < r->n_rows; ++i) {
    const bench_row_t* row = &r->rows[i];
    char median[16] = "-", mean[16] = "-", tflops[16] = "-", speedup[16] = "-", diff[16] = "-";
    char floor_ms[16], pct[16], detail[256];
    const double fl = bench_row_floor_ms(r, row);
    if (row->timed) {
      snprintf(median, sizeof median, "%.3f", row->timing.median_ms);
      snprintf(mean, sizeof mean, "%.3f", row->timing.mean_ms);
      snprintf(tflops, sizeof tflops, "%.1f", row->tflops);
      if (row->speedup > 0.0) snprintf(speedup, sizeof speedup, "%.2fx", row->speedup);
    }
    bench_format_ms(floor_ms, sizeof floor_ms, fl);
    pct_text(pct, sizeof pct, fl, row->timed ? row->timing.median_ms : -1.0);
    if (row->checked) snprintf(diff, sizeof diff, "%.2e", row->max_abs_diff);
    bench_row_detail(row, detail, sizeof detail);
    fprintf(f, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | ", row->algo,
            bench_math_name(row->math), median, mean, tflops, floor_ms, pct, speedup, diff,
            bench_verdict_name(row->verdict));
    put_cell(f, detail);
    fputs(" |\n", f);
  }
  int notes = 0;
  for (int i = 0; i < r->n_rows; ++i) {
    const bench_row_t* row = &r->rows[i];
    if (row->message[0] == '\0') continue;
    fprintf(f, "%s- %s %s **%s**: ", notes++ == 0 ? "\n" : "", row->algo,
            bench_math_name(row->math), bench_verdict_name(row->verdict));
    put_cell(f, row->message);
    fputs("\n", f);
  }
  for (int i = 0; i < r->n_skips; ++i) {
    fprintf(f, "%s- skipped %s %s: ", notes++ == 0 ? "\n" : "", r->skips[i].algo,
            bench_math_name(r->skips[i].math));
    put_cell(f, r->skips[i].reason);
    fputs("\n", f);
  }
  if (!r->complete)
    fprintf(f, "%s- incomplete: the run stopped at the error above\n", notes == 0 ? "\n" : "");
}

int bench_run_write_markdown(const char* path, const bench_run_t* run) {
  FILE* f = fopen(path, "w");
  if (f == NULL) return -1;
  put_header(f, run);
  if (run->n_started > 1)
    for (int i = 0; i < run->n_maths; ++i) put_summary(f, run, run->maths[i]);
  fputs("\n## Shapes\n", f);
  for (int i = 0; i < run->n_started; ++i) put_shape(f, &run->shapes[i]);
  const int write_failed = ferror(f);
  const int close_failed = fclose(f);
  return write_failed || close_failed ? -1 : 0;
}
