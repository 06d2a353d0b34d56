/* The run as JSON (--json PATH): header facts, ceilings, then per shape its convolution, work,
 * floors, rows and skipped algorithms; the exit code. Values that do not exist are null. */
#include <math.h>
#include <stdio.h>

#include "benchmarks/bench_args.h"
#include "benchmarks/report.h"

static void put_string(FILE* f, const char* s) {
  fputc('"', f);
  for (const unsigned char* c = (const unsigned char*)s; *c != '\0'; ++c) {
    if (*c == '"' || *c == '\\')
      fprintf(f, "\\%c", *c);
    else if (*c == '\n')
      fputs("\\n", f);
    else if (*c < 0x20)
      fprintf(f, "\\u%04x", *c);
    else
      fputc(*c, f);
  }
  fputc('"', f);
}

/* A number, or null when it is not finite (JSON has no NaN). */
static void put_number(FILE* f, double v) {
  if (isfinite(v))
    fprintf(f, "%.9g", v);
  else
    fputs("null", f);
}

static void put_key(FILE* f, const char* key) {
  put_string(f, key);
  fputs(": ", f);
}

static void put_version(FILE* f, int v) { fprintf(f, "\"%d.%d\"", v / 1000, v % 1000 / 10); }

/* A byte count (exact up to 2^53), or null when not finite. */
static void put_bytes(FILE* f, double v) {
  if (isfinite(v))
    fprintf(f, "%.0f", v);
  else
    fputs("null", f);
}

/* A duration or rate that is unknown when negative. */
static void put_known(FILE* f, double v) { put_number(f, v >= 0.0 ? v : NAN); }

static void put_row(FILE* f, const bench_report_t* r, const bench_row_t* row) {
  fputs("        {", f);
  put_key(f, "algorithm");
  put_string(f, row->algo);
  fputs(", ", f);
  put_key(f, "math");
  put_string(f, bench_math_name(row->math));
  fputs(", ", f);
  put_key(f, "library");
  put_string(f, row->is_cudnn ? "cudnn" : "convgemm");
  fputs(", ", f);
  put_key(f, "backend_algo");
  put_string(f, row->backend_algo);
  fputs(", ", f);
  put_key(f, "backend_math");
  put_string(f, row->backend_math);
  fprintf(f, ", \"workspace_bytes\": %zu, ", row->workspace_bytes);
  put_key(f, "find_ms");
  put_number(f, row->find_ms >= 0.0 ? row->find_ms : NAN);
  if (row->timed) {
    fprintf(f, ", \"iters\": %d, ", row->timing.iters);
    put_key(f, "median_ms");
    put_number(f, row->timing.median_ms);
    fputs(", ", f);
    put_key(f, "mean_ms");
    put_number(f, row->timing.mean_ms);
    fputs(", ", f);
    put_key(f, "min_ms");
    put_number(f, row->timing.min_ms);
    fputs(", ", f);
    put_key(f, "max_ms");
    put_number(f, row->timing.max_ms);
    fputs(", ", f);
    put_key(f, "tflops");
    put_number(f, row->tflops);
  } else {
    fputs(", \"iters\": 0, \"median_ms\": null, \"mean_ms\": null, \"min_ms\": null, "
          "\"max_ms\": null, \"tflops\": null",
          f);
  }
  const double floor_ms = bench_row_floor_ms(r, row);
  fputs(", ", f);
  put_key(f, "floor_ms");
  put_known(f, floor_ms);
  fputs(", ", f);
  put_key(f, "fraction_of_floor");
  put_number(f, row->timed && floor_ms > 0.0 && row->timing.median_ms > 0.0
                    ? floor_ms / row->timing.median_ms
                    : NAN);
  fputs(", ", f);
  put_key(f, "speedup_vs_cudnn");
  put_number(f, row->timed && row->speedup > 0.0 ? row->speedup : NAN);
  fputs(", ", f);
  put_key(f, "max_abs_diff");
  put_number(f, row->checked ? row->max_abs_diff : NAN);
  fprintf(f, ", \"n_fail\": %llu, ", row->n_fail);
  put_key(f, "check");
  put_string(f, bench_verdict_name(row->verdict));
  fputs(", ", f);
  put_key(f, "message");
  put_string(f, row->message);
  fputs("}", f);
}

static void put_ceilings(FILE* f, const bench_ceilings_t* c) {
  fputs("  \"ceilings\": {\"measured\": ", f);
  fputs(c->measured ? "true" : "false", f);
  fputs(", \"copy\": {\"method\": \"cudaMemcpyAsync device-to-device, median, (read + write bytes) "
        "/ time\", \"bytes_per_copy\": ",
        f);
  put_bytes(f, c->measured && c->copy_ok ? c->copy_bytes : NAN);
  fputs(", \"median_ms\": ", f);
  put_number(f, c->measured && c->copy_ok ? c->copy_ms : NAN);
  fputs(", \"gb_per_s\": ", f);
  put_number(f, c->measured && c->copy_ok ? c->copy_gbps : NAN);
  fprintf(f, "},\n               \"gemm\": {\"method\": \"cuBLASLt fp32 in/out, m = n = k\", "
             "\"dim\": %d, \"tf32_ms\": ",
          c->measured ? c->gemm_dim : 0);
  put_number(f, c->measured && c->tf32_ok ? c->tf32_ms : NAN);
  fputs(", \"tf32_tflops\": ", f);
  put_number(f, c->measured && c->tf32_ok ? c->tf32_tflops : NAN);
  fputs(", \"fp32_ms\": ", f);
  put_number(f, c->measured && c->fp32_ok ? c->fp32_ms : NAN);
  fputs(", \"fp32_tflops\": ", f);
  put_number(f, c->measured && c->fp32_ok ? c->fp32_tflops : NAN);
  /* The 16-bit GEMM (A, B, D of the run's type, fp32 accumulation): only in 16-bit runs. */
  const int half = c->measured && c->half_type != CONVGEMM_DATA_FLOAT32;
  fputs(", \"half_type\": ", f);
  if (half)
    put_string(f, bench_dtype_name(c->half_type));
  else
    fputs("null", f);
  fputs(", \"half_ms\": ", f);
  put_number(f, half && c->half_ok ? c->half_ms : NAN);
  fputs(", \"half_tflops\": ", f);
  put_number(f, half && c->half_ok ? c->half_tflops : NAN);
  fprintf(f, "}, \"iters\": %d, ", BENCH_CEILING_ITERS);
  put_key(f, "note");
  put_string(f, c->note);
  fputs("},\n", f);
}

static void put_shape(FILE* f, const bench_report_t* r) {
  const bench_shape_t* sh = &r->shape;
  const convgemm_conv2d_params_t* p = &sh->params;
  fputs("    {", f);
  put_key(f, "name");
  put_string(f, sh->name);
  fputs(", ", f);
  put_key(f, "suite");
  put_string(f, sh->suite);
  fputs(", ", f);
  put_key(f, "series");
  put_string(f, sh->series);
  fputs(", ", f);
  put_key(f, "count");
  if (sh->count > 0)
    fprintf(f, "%d", sh->count);
  else
    fputs("null", f);
  fputs(", ", f);
  put_key(f, "note");
  put_string(f, sh->note);
  fprintf(f, ", \"complete\": %s, \"exit_code\": %d, ", r->complete ? "true" : "false",
          bench_report_exit_code(r));
  put_key(f, "wall_s");
  put_number(f, r->wall_s);
  fprintf(f,
          ",\n     \"shape\": {\"n\": %lld, \"c\": %lld, \"h\": %lld, \"w\": %lld, \"k\": %lld, "
          "\"r\": %lld, \"s\": %lld, \"pad_h\": %lld, \"pad_w\": %lld, \"stride_h\": %lld, "
          "\"stride_w\": %lld, \"dilation_h\": %lld, \"dilation_w\": %lld, \"groups\": %lld, "
          "\"bias\": %s, \"p\": %lld, \"q\": %lld},\n",
          (long long)p->n, (long long)p->c, (long long)p->h, (long long)p->w, (long long)p->k,
          (long long)p->r, (long long)p->s, (long long)p->pad_h, (long long)p->pad_w,
          (long long)p->stride_h, (long long)p->stride_w, (long long)p->dilation_h,
          (long long)p->dilation_w, (long long)p->groups, p->has_bias ? "true" : "false",
          (long long)r->p, (long long)r->q);
  fputs("     \"gflop\": ", f);
  put_number(f, r->flops * 1e-9);
  fputs(", \"compulsory_bytes\": ", f);
  put_bytes(f, r->x_bytes + r->w_bytes + r->bias_bytes + r->y_bytes);
  fputs(", \"bytes\": {\"x\": ", f);
  put_bytes(f, r->x_bytes);
  fputs(", \"w\": ", f);
  put_bytes(f, r->w_bytes);
  fputs(", \"bias\": ", f);
  put_bytes(f, r->bias_bytes);
  fputs(", \"y\": ", f);
  put_bytes(f, r->y_bytes);
  fputs("},\n     \"floors\": {\"memory_ms\": ", f);
  put_known(f, r->memory_floor_ms);
  fputs(", \"math_ms\": {\"default\": ", f);
  put_known(f, r->math_floor_ms[0]);
  fputs(", \"ieee\": ", f);
  put_known(f, r->math_floor_ms[1]);
  fputs("}},\n     \"rows\": [\n", f);
  for (int i = 0; i < r->n_rows; ++i) {
    put_row(f, r, &r->rows[i]);
    fputs(i + 1 < r->n_rows ? ",\n" : "\n", f);
  }
  fputs("     ],\n     \"skipped\": [", f);
  for (int i = 0; i < r->n_skips; ++i) {
    fputs(i > 0 ? ", {" : "{", f);
    put_key(f, "algorithm");
    put_string(f, r->skips[i].algo);
    fputs(", ", f);
    put_key(f, "math");
    put_string(f, bench_math_name(r->skips[i].math));
    fputs(", ", f);
    put_key(f, "reason");
    put_string(f, r->skips[i].reason);
    fputs("}", f);
  }
  fputs("]}", f);
}

int bench_run_write_json(const char* path, const bench_run_t* run) {
  FILE* f = fopen(path, "w");
  if (f == NULL) return -1;
  const bench_system_t* s = &run->system;
  fputs("{\n  \"tool\": \"conv_bench\",\n  \"schema\": 2,\n  \"command\": ", f);
  put_string(f, run->command);
  fputs(",\n  \"device\": {", f);
  fprintf(f, "\"index\": %d, ", s->device);
  put_key(f, "name");
  put_string(f, s->name);
  fprintf(f, ", \"compute_capability\": \"%d.%d\", \"sm_count\": %d, \"memory_bytes\": %zu, "
             "\"l2_bytes\": %d},\n",
          s->cc_major, s->cc_minor, s->sm_count, s->total_memory, s->l2_bytes);
  fputs("  \"versions\": {\"driver\": ", f);
  put_version(f, s->driver_version);
  fputs(", \"cuda_runtime\": ", f);
  put_version(f, s->runtime_version);
  fputs(", \"cudnn\": ", f);
  if (s->cudnn_loaded)
    fprintf(f, "\"%zu.%zu.%zu\", ", s->cudnn_version / 10000, s->cudnn_version / 100 % 100,
            s->cudnn_version % 100);
  else
    fputs("null, ", f);
  put_key(f, s->cudnn_loaded ? "cudnn_path" : "cudnn_error");
  put_string(f, s->cudnn_path);
  fprintf(f, ", \"convgemm\": \"%d.%d.%d\"},\n", s->convgemm_version / 10000,
          s->convgemm_version / 100 % 100, s->convgemm_version % 100);
  put_ceilings(f, &run->ceilings);
  fprintf(f, "  \"timing\": {\"method\": \"cuda_events\", \"l2_flush_bytes\": %zu, "
             "\"warmup\": %d, \"iters\": ",
          (size_t)BENCH_FLUSH_BYTES, run->warmup);
  if (run->iters > 0)
    fprintf(f, "%d", run->iters);
  else
    fputs("\"auto\"", f);
  fprintf(f, ", \"order\": \"%s\"", run->interleave ? "interleaved" : "sequential");
  fprintf(f, "},\n  \"data_type\": \"%s\",\n", bench_dtype_name(run->data_type));
  fprintf(f, "  \"tolerance\": {\"atol\": %g, \"rtol\": %g},\n",
          (double)bench_atol(run->data_type), (double)bench_rtol(run->data_type));
  fputs("  \"maths\": [", f);
  for (int i = 0; i < run->n_maths; ++i) {
    if (i > 0) fputs(", ", f);
    put_string(f, bench_math_name(run->maths[i]));
  }
  fputs("],\n  \"suites\": ", f);
  put_string(f, run->suites);
  fprintf(f, ",\n  \"n_shapes_planned\": %d,\n  \"shapes\": [\n", run->n_shapes);
  for (int i = 0; i < run->n_started; ++i) {
    put_shape(f, &run->shapes[i]);
    fputs(i + 1 < run->n_started ? ",\n" : "\n", f);
  }
  fprintf(f, "  ],\n  \"finished\": %s,\n  \"error\": ", run->finished ? "true" : "false");
  if (run->error[0] != '\0')
    put_string(f, run->error);
  else
    fputs("null", f);
  fprintf(f, ",\n  \"exit_code\": %d\n}\n", bench_run_exit_code(run));
  const int write_failed = ferror(f);
  const int close_failed = fclose(f);
  return write_failed || close_failed ? -1 : 0;
}
