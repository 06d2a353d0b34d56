/* Host-only test of conv_bench's suites, flags and report writers: no GPU is touched. It builds a
 * run with made-up timings over every suite shape, prints it as conv_bench would, writes the JSON
 * and the Markdown, and checks what can be checked without a card (suite contents, flag defaults,
 * summaries, totals, well-formed JSON).
 *   bazel test //benchmarks:cpu_report_test
 *   bazel run //benchmarks:cpu_report_test -- /tmp/fake.json /tmp/fake.md   (sample files, e.g.
 *       for plot_results.py) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchmarks/bench_args.h"
#include "benchmarks/ceilings.h"
#include "benchmarks/check.h"
#include "benchmarks/report.h"
#include "benchmarks/suites.h"

static int g_failures = 0;
static int g_checks = 0;

#define EXPECT(cond)                                                        \
  do {                                                                      \
    ++g_checks;                                                             \
    if (!(cond)) {                                                          \
      fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond);   \
      ++g_failures;                                                         \
    }                                                                       \
  } while (0)

/* ---- suites ---------------------------------------------------------------------------------- */

static void test_suites(void) {
  char err[256];
  int n = 0;
  bench_shape_t* s = bench_suite_shapes("kernelbench", NULL, &n, err, sizeof err);
  EXPECT(s != NULL && n == 13);
  if (s != NULL) {
    EXPECT(strcmp(s[0].name, "50_stem") == 0 && s[0].params.has_bias == 1 &&
           s[0].params.stride_h == 4 && s[0].params.pad_h == 2);
    int found80 = 0, found86 = 0;
    for (int i = 0; i < n; ++i) {
      if (strcmp(s[i].name, "80") == 0)
        found80 = s[i].params.pad_w == 4 && s[i].params.dilation_h == 2 &&
                  s[i].params.dilation_w == 3;
      if (strcmp(s[i].name, "86_dw") == 0)
        found86 = s[i].params.groups == 64 && s[i].params.pad_h == 1;
    }
    EXPECT(found80);
    EXPECT(found86);
    bench_work_t wk;
    EXPECT(bench_shape_work(&s[1].params, &wk) == CONVGEMM_STATUS_SUCCESS);
    EXPECT(fabs(wk.flops * 1e-9 - 614.86) < 0.01); /* problem 55 */
    EXPECT(wk.p == 510 && wk.q == 1022);
  }
  free(s);

  s = bench_suite_shapes("resnet50", NULL, &n, err, sizeof err);
  EXPECT(s != NULL && n == 23);
  if (s != NULL) {
    int convs = 0;
    double flops = 0.0;
    for (int i = 0; i < n; ++i) {
      bench_work_t wk;
      EXPECT(bench_shape_work(&s[i].params, &wk) == CONVGEMM_STATUS_SUCCESS);
      convs += s[i].count;
      flops += s[i].count * wk.flops;
      EXPECT(s[i].params.n == 32 && s[i].params.has_bias == 0);
    }
    EXPECT(convs == 53);
    /* torchvision: 4.09 GMAC per 224x224 image, 2.05 MMAC of it the fc layer. */
    EXPECT(fabs(flops / (2.0 * 32) * 1e-9 - 4.087) < 0.01);
  }
  free(s);

  s = bench_suite_shapes("small_channels", NULL, &n, err, sizeof err);
  EXPECT(s != NULL && n == 13);
  if (s != NULL) {
    for (int i = 0; i < n; ++i) {
      const convgemm_conv2d_params_t* p = &s[i].params;
      EXPECT(p->n == 8 && p->h == 256 && p->w == 256 && p->r == 3 && p->pad_h == 1);
      EXPECT(p->c == p->k);
      EXPECT(strcmp(s[i].series, p->groups == 1 ? "dense" : "grouped") == 0);
    }
  }
  free(s);

  s = bench_suite_shapes("all", NULL, &n, err, sizeof err);
  EXPECT(s != NULL && n == 49);
  for (int i = 0; s != NULL && i < n; ++i)
    for (int j = i + 1; j < n; ++j) EXPECT(strcmp(s[i].name, s[j].name) != 0);
  free(s);

  s = bench_suite_shapes("resnet50,kernelbench,resnet50", "55,l4_3x3_512-512", &n, err,
                         sizeof err);
  EXPECT(s != NULL && n == 2);
  if (s != NULL) EXPECT(strcmp(s[0].name, "55") == 0); /* suite order, not list order */
  free(s);
  EXPECT(bench_suite_shapes("nope", NULL, &n, err, sizeof err) == NULL);
  EXPECT(bench_suite_shapes("resnet50", "55", &n, err, sizeof err) == NULL);
}

/* ---- flags ----------------------------------------------------------------------------------- */

static bench_args_status_t parse(bench_args_t* a, int argc, const char* const* argv) {
  char err[256];
  return bench_args_parse(argc, (char**)argv, a, err, sizeof err);
}

static void test_args(void) {
  bench_args_t a;
  const char* plain[] = {"conv_bench"};
  EXPECT(parse(&a, 1, plain) == BENCH_ARGS_OK);
  EXPECT(a.suites == NULL && a.warmup == 3 && a.iters == 0 && a.measure_ceilings == 1);
  EXPECT(a.interleave == 1);
  const char* sequential[] = {"conv_bench", "--order", "sequential"};
  EXPECT(parse(&a, 3, sequential) == BENCH_ARGS_OK && a.interleave == 0);
  const char* interleaved[] = {"conv_bench", "--order=interleaved"};
  EXPECT(parse(&a, 2, interleaved) == BENCH_ARGS_OK && a.interleave == 1);
  const char* bad_order[] = {"conv_bench", "--order", "random"};
  EXPECT(parse(&a, 3, bad_order) == BENCH_ARGS_ERROR);

  const char* suite[] = {"conv_bench", "--suite", "kernelbench,resnet50", "--markdown", "r.md"};
  EXPECT(parse(&a, 5, suite) == BENCH_ARGS_OK);
  EXPECT(a.warmup == BENCH_SUITE_WARMUP && a.iters == BENCH_SUITE_ITERS);
  EXPECT(a.markdown_path != NULL && strcmp(a.markdown_path, "r.md") == 0);

  const char* over[] = {"conv_bench", "--iters", "auto", "--suite=small_channels", "--warmup",
                        "0", "--no-ceilings"};
  EXPECT(parse(&a, 7, over) == BENCH_ARGS_OK);
  EXPECT(a.iters == 0 && a.warmup == 0 && a.measure_ceilings == 0);

  const char* mixed[] = {"conv_bench", "--suite", "kernelbench", "--groups", "2"};
  EXPECT(parse(&a, 5, mixed) == BENCH_ARGS_ERROR);
  const char* only[] = {"conv_bench", "--only", "55"};
  EXPECT(parse(&a, 3, only) == BENCH_ARGS_ERROR);
  const char* empty[] = {"conv_bench", "--suite", "a,,b"};
  EXPECT(parse(&a, 3, empty) == BENCH_ARGS_ERROR);

  /* --dtype: float32 by default with both math modes; a 16-bit type alone runs default math
   * (convgemm's modes compute the same numbers there) unless --math asks for more. */
  EXPECT(parse(&a, 1, plain) == BENCH_ARGS_OK);
  EXPECT(a.params.data_type == CONVGEMM_DATA_FLOAT32 && a.n_maths == 2);
  const char* bf16[] = {"conv_bench", "--dtype", "bfloat16", "--suite", "kernelbench"};
  EXPECT(parse(&a, 5, bf16) == BENCH_ARGS_OK);
  EXPECT(a.params.data_type == CONVGEMM_DATA_BFLOAT16 && a.n_maths == 1 &&
         a.maths[0] == CONVGEMM_MATH_DEFAULT);
  const char* fp16_both[] = {"conv_bench", "--math", "both", "--dtype=float16"};
  EXPECT(parse(&a, 4, fp16_both) == BENCH_ARGS_OK);
  EXPECT(a.params.data_type == CONVGEMM_DATA_FLOAT16 && a.n_maths == 2);
  const char* fp32[] = {"conv_bench", "--dtype", "float32"};
  EXPECT(parse(&a, 3, fp32) == BENCH_ARGS_OK);
  EXPECT(a.params.data_type == CONVGEMM_DATA_FLOAT32 && a.n_maths == 2);
  const char* bad_dtype[] = {"conv_bench", "--dtype", "half"};
  EXPECT(parse(&a, 3, bad_dtype) == BENCH_ARGS_ERROR);
  EXPECT(strcmp(bench_dtype_name(CONVGEMM_DATA_BFLOAT16), "bfloat16") == 0);
}

/* ---- 16-bit work, floors and report text ---------------------------------------------------- */

static void test_16bit(void) {
  /* Problem 55 in bfloat16: half the bytes, the same FLOPs; the math floor from the 16-bit GEMM
   * rate in both math modes; KernelBench's 16-bit tolerance. */
  convgemm_conv2d_params_t p;
  convgemm_conv2d_params_init(&p, 8, 64, 512, 1024, 128, 3, 3);
  bench_work_t w32, w16;
  EXPECT(bench_shape_work(&p, &w32) == CONVGEMM_STATUS_SUCCESS);
  p.data_type = CONVGEMM_DATA_BFLOAT16;
  EXPECT(bench_shape_work(&p, &w16) == CONVGEMM_STATUS_SUCCESS);
  EXPECT(w16.flops == w32.flops && 2.0 * w16.x_bytes == w32.x_bytes &&
         2.0 * w16.y_bytes == w32.y_bytes && 2.0 * w16.w_bytes == w32.w_bytes);
  bench_ceilings_t c;
  memset(&c, 0, sizeof c);
  c.measured = c.tf32_ok = c.fp32_ok = c.half_ok = 1;
  c.tf32_tflops = 392.0;
  c.fp32_tflops = 51.0;
  c.half_tflops = 784.0;
  c.half_type = CONVGEMM_DATA_BFLOAT16;
  const double half_floor = w16.flops / 784e12 * 1e3;
  EXPECT(fabs(bench_math_floor_ms(&c, w16.flops, CONVGEMM_MATH_DEFAULT, CONVGEMM_DATA_BFLOAT16) -
              half_floor) < 1e-12);
  EXPECT(fabs(bench_math_floor_ms(&c, w16.flops, CONVGEMM_MATH_IEEE, CONVGEMM_DATA_BFLOAT16) -
              half_floor) < 1e-12);
  /* A 16-bit floor of another type than the one measured is unknown. */
  EXPECT(bench_math_floor_ms(&c, w16.flops, CONVGEMM_MATH_DEFAULT, CONVGEMM_DATA_FLOAT16) < 0.0);
  EXPECT(strcmp(bench_math_floor_name(CONVGEMM_DATA_BFLOAT16, CONVGEMM_MATH_IEEE), "BF16") == 0);
  EXPECT(strcmp(bench_math_floor_name(CONVGEMM_DATA_FLOAT32, CONVGEMM_MATH_IEEE), "FP32") == 0);
  EXPECT(bench_atol(CONVGEMM_DATA_FLOAT16) == 1e-2f && bench_rtol(CONVGEMM_DATA_BFLOAT16) == 1e-2f);
  EXPECT(bench_atol(CONVGEMM_DATA_FLOAT32) == 1e-4f && bench_rtol(CONVGEMM_DATA_FLOAT32) == 1e-4f);
  /* The shape line names the type. */
  bench_report_t r;
  memset(&r, 0, sizeof r);
  r.shape.params = p;
  r.p = w16.p;
  r.q = w16.q;
  char conv[512];
  bench_format_conv(conv, sizeof conv, &r);
  EXPECT(strstr(conv, "no bias, bfloat16") != NULL);
}

/* ---- a made-up run --------------------------------------------------------------------------- */

static void add_row(bench_report_t* r, const char* algo, int is_cudnn, convgemm_math_mode_t math,
                    const char* backend, double ms, double ref_ms, bench_verdict_t verdict) {
  bench_row_t* row = bench_report_add_row(r);
  snprintf(row->algo, sizeof row->algo, "%s", algo);
  row->is_cudnn = is_cudnn;
  row->math = math;
  snprintf(row->backend_algo, sizeof row->backend_algo, "%s", backend);
  if (is_cudnn)
    snprintf(row->backend_math, sizeof row->backend_math, "%s",
             math == CONVGEMM_MATH_IEEE ? "FMA_MATH" : "DEFAULT_MATH");
  if (strcmp(algo, "cudnn_find") == 0) row->find_ms = ms * 0.97;
  row->timed = 1;
  row->timing.iters = 10;
  row->timing.median_ms = ms;
  row->timing.mean_ms = ms * 1.01;
  row->timing.min_ms = ms * 0.99;
  row->timing.max_ms = ms * 1.05;
  row->tflops = r->flops / (ms * 1e-3) * 1e-12;
  row->speedup = ref_ms / ms;
  row->verdict = verdict;
  row->checked = verdict != BENCH_VERDICT_REF && verdict != BENCH_VERDICT_UNCHECKED;
  row->max_abs_diff = verdict == BENCH_VERDICT_FAIL ? 3.2e-3 : 4.1e-6;
  if (verdict == BENCH_VERDICT_FAIL) {
    row->n_fail = 17;
    snprintf(row->message, sizeof row->message,
             "first call: 17 of 1000 elements outside |y - ref| <= 0.0001 + 0.0001*|ref|");
  }
}

static void fake_math_mode(bench_report_t* r, convgemm_math_mode_t math) {
  const double mem = r->memory_floor_ms, flo = r->math_floor_ms[math == CONVGEMM_MATH_IEEE];
  const double floor_ms = mem > flo ? mem : flo;
  const int grouped = r->shape.params.groups > 1;
  const double cudnn = floor_ms * (grouped ? 3.5 : 2.0) + 0.01;
  const double direct = floor_ms * (grouped ? 1.6 : 5.0) + 0.01;
  const double im2col = floor_ms * 2.4 + 0.02;
  add_row(r, "cudnn", 1, math, "IMPLICIT_PRECOMP_GEMM", cudnn, cudnn, BENCH_VERDICT_REF);
  add_row(r, "cudnn_find", 1, math, "IMPLICIT_GEMM", cudnn * 0.98, cudnn, BENCH_VERDICT_PASS);
  const int fail = strcmp(r->shape.name, "83_dw") == 0 && math == CONVGEMM_MATH_IEEE;
  add_row(r, "direct", 0, math, "direct", direct, cudnn,
          fail ? BENCH_VERDICT_FAIL : BENCH_VERDICT_PASS);
  if (grouped && r->shape.params.c / r->shape.params.groups == 1)
    bench_report_add_skip(r, "im2col_gemm", math, "made-up reason: depthwise stays DIRECT");
  else
    add_row(r, "im2col_gemm", 0, math, "im2col_gemm", im2col, cudnn, BENCH_VERDICT_PASS);
  bench_report_add_skip(r, "implicit_gemm", math,
                        "algorithm IMPLICIT_GEMM is not built in convgemm 0.1.0; use DIRECT or "
                        "AUTO");
  const int pick_gemm = !grouped && r->shape.params.c >= 32;
  add_row(r, "auto", 0, math, pick_gemm ? "im2col_gemm" : "direct", pick_gemm ? im2col : direct,
          cudnn, fail ? BENCH_VERDICT_FAIL : BENCH_VERDICT_PASS);
}

static void fake_run(bench_run_t* run) {
  memset(run, 0, sizeof *run);
  bench_system_t* s = &run->system;
  snprintf(s->name, sizeof s->name, "Made-up GPU (cpu_report_test)");
  s->cc_major = 9;
  s->sm_count = 132;
  s->total_memory = (size_t)80 << 30;
  s->l2_bytes = 50 << 20;
  s->driver_version = 13000;
  s->runtime_version = 13000;
  s->cudnn_loaded = 1;
  s->cudnn_version = 91900;
  snprintf(s->cudnn_path, sizeof s->cudnn_path, "/made/up/libcudnn.so.9");
  s->convgemm_version = convgemm_get_version();
  bench_ceilings_t* c = &run->ceilings;
  c->measured = 1;
  c->copy_ok = c->tf32_ok = c->fp32_ok = 1;
  c->copy_bytes = (double)BENCH_COPY_BYTES;
  c->copy_gbps = 3010.0;
  c->copy_ms = 2.0 * c->copy_bytes / (c->copy_gbps * 1e9) * 1e3;
  c->gemm_dim = BENCH_GEMM_DIM;
  c->tf32_tflops = 392.0;
  c->fp32_tflops = 51.0;
  c->tf32_ms = 2.8;
  c->fp32_ms = 21.6;
  run->warmup = BENCH_SUITE_WARMUP;
  run->iters = BENCH_SUITE_ITERS;
  run->interleave = 1;
  run->maths[0] = CONVGEMM_MATH_DEFAULT;
  run->maths[1] = CONVGEMM_MATH_IEEE;
  run->n_maths = 2;
  snprintf(run->suites, sizeof run->suites, "all");
  snprintf(run->command, sizeof run->command, "cpu_report_test (made-up timings)");
  char err[256];
  int n = 0;
  bench_shape_t* shapes = bench_suite_shapes("all", NULL, &n, err, sizeof err);
  if (shapes == NULL) {
    fprintf(stderr, "%s\n", err);
    exit(1);
  }
  run->shapes = calloc((size_t)n, sizeof *run->shapes);
  if (run->shapes == NULL) exit(1);
  run->n_shapes = run->n_started = n;
  for (int i = 0; i < n; ++i) {
    bench_report_t* r = &run->shapes[i];
    r->shape = shapes[i];
    bench_work_t wk;
    if (bench_shape_work(&shapes[i].params, &wk) != CONVGEMM_STATUS_SUCCESS) exit(1);
    r->p = wk.p;
    r->q = wk.q;
    r->flops = wk.flops;
    r->x_bytes = wk.x_bytes;
    r->w_bytes = wk.w_bytes;
    r->bias_bytes = wk.bias_bytes;
    r->y_bytes = wk.y_bytes;
    r->memory_floor_ms =
        bench_memory_floor_ms(c, wk.x_bytes + wk.w_bytes + wk.bias_bytes + wk.y_bytes);
    r->math_floor_ms[0] =
        bench_math_floor_ms(c, wk.flops, CONVGEMM_MATH_DEFAULT, CONVGEMM_DATA_FLOAT32);
    r->math_floor_ms[1] =
        bench_math_floor_ms(c, wk.flops, CONVGEMM_MATH_IEEE, CONVGEMM_DATA_FLOAT32);
    fake_math_mode(r, CONVGEMM_MATH_DEFAULT);
    fake_math_mode(r, CONVGEMM_MATH_IEEE);
    r->complete = 1;
    r->wall_s = 1.5;
  }
  run->finished = 1;
  free(shapes);
}

static void test_summaries(const bench_run_t* run) {
  const bench_report_t* p55 = &run->shapes[1];
  EXPECT(strcmp(p55->shape.name, "55") == 0);
  bench_summary_t s;
  bench_summarize(p55, CONVGEMM_MATH_DEFAULT, &s);
  EXPECT(s.present && s.best != NULL && strcmp(s.best->algo, "im2col_gemm") == 0);
  EXPECT(s.direct != NULL && s.cudnn != NULL && s.cudnn_find != NULL && s.autorow != NULL);
  EXPECT(strcmp(s.check, "PASS") == 0);
  /* Floors: problem 55 moves 3.209 GB -> 1.066 ms at 3010 GB/s; 614.9 GFLOP -> 1.569 ms TF32. */
  EXPECT(fabs(p55->memory_floor_ms - 1.066) < 0.001);
  EXPECT(fabs(p55->math_floor_ms[0] - 1.5685) < 0.001);
  EXPECT(fabs(bench_row_floor_ms(p55, s.best) - p55->math_floor_ms[0]) < 1e-12);

  for (int i = 0; i < run->n_started; ++i) {
    const bench_report_t* r = &run->shapes[i];
    if (strcmp(r->shape.name, "83_dw") != 0) continue;
    bench_summarize(r, CONVGEMM_MATH_IEEE, &s);
    EXPECT(s.n_bad == 2 && strcmp(s.check, "FAIL: direct, auto") == 0);
    EXPECT(s.best == NULL); /* direct failed; im2col_gemm was skipped */
    EXPECT(bench_report_exit_code(r) == BENCH_EXIT_FAIL);
  }
  EXPECT(bench_run_exit_code(run) == BENCH_EXIT_FAIL);

  bench_totals_t t;
  EXPECT(bench_run_totals(run, CONVGEMM_MATH_DEFAULT, &t));
  EXPECT(t.n_shapes == 23 && t.n_convs == 53);
  EXPECT(t.cudnn_ms > 0.0 && t.best_ms > 0.0 && t.direct_ms > 0.0);
}

/* The whole file, or NULL. */
static char* slurp(const char* path) {
  FILE* f = fopen(path, "rb");
  if (f == NULL) return NULL;
  fseek(f, 0, SEEK_END);
  const long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  char* buf = malloc((size_t)len + 1);
  if (buf != NULL && fread(buf, 1, (size_t)len, f) != (size_t)len) {
    free(buf);
    buf = NULL;
  }
  if (buf != NULL) buf[len] = '\0';
  fclose(f);
  return buf;
}

/* Brackets balance outside strings, and no bare nan/inf token (JSON has neither). */
static int json_looks_valid(const char* s) {
  int depth = 0, in_string = 0;
  for (const char* c = s; *c != '\0'; ++c) {
    if (in_string) {
      if (*c == '\\' && c[1] != '\0')
        ++c;
      else if (*c == '"')
        in_string = 0;
      continue;
    }
    if (*c == '"') in_string = 1;
    if (*c == '{' || *c == '[') ++depth;
    if (*c == '}' || *c == ']') --depth;
    if (depth < 0) return 0;
    if (strncmp(c, "nan", 3) == 0 || strncmp(c, "inf", 3) == 0) return 0;
  }
  return depth == 0 && !in_string && s[0] == '{';
}

/* The same run written as a bfloat16 run: the files name the type, its tolerance and its GEMM
 * ceiling. */
static void test_16bit_files(bench_run_t* run, const char* dir) {
  const convgemm_data_type_t saved = run->data_type;
  const bench_ceilings_t saved_ceilings = run->ceilings;
  run->data_type = CONVGEMM_DATA_BFLOAT16;
  run->ceilings.half_type = CONVGEMM_DATA_BFLOAT16;
  run->ceilings.half_ok = 1;
  run->ceilings.half_ms = 1.4;
  run->ceilings.half_tflops = 784.0;
  char json_path[4096], md_path[4096];
  snprintf(json_path, sizeof json_path, "%s/cpu_report_test_bf16.json", dir);
  snprintf(md_path, sizeof md_path, "%s/cpu_report_test_bf16.md", dir);
  EXPECT(bench_run_write_json(json_path, run) == 0);
  EXPECT(bench_run_write_markdown(md_path, run) == 0);
  char* json = slurp(json_path);
  char* md = slurp(md_path);
  EXPECT(json != NULL && json_looks_valid(json));
  if (json != NULL) {
    EXPECT(strstr(json, "\"data_type\": \"bfloat16\"") != NULL);
    EXPECT(strstr(json, "\"tolerance\": {\"atol\": 0.01, \"rtol\": 0.01}") != NULL);
    EXPECT(strstr(json, "\"half_type\": \"bfloat16\"") != NULL);
    EXPECT(strstr(json, "\"half_tflops\": 784") != NULL);
  }
  if (md != NULL) {
    EXPECT(strstr(md, "2-D convolution forward, bfloat16 NCHW") != NULL);
    EXPECT(strstr(md, "BF16 784.0 TFLOP/s") != NULL);
  }
  free(json);
  free(md);
  run->data_type = saved;
  run->ceilings = saved_ceilings;
}

static void test_files(const bench_run_t* run, const char* json_path, const char* md_path) {
  EXPECT(bench_run_write_json(json_path, run) == 0);
  EXPECT(bench_run_write_markdown(md_path, run) == 0);
  char* json = slurp(json_path);
  char* md = slurp(md_path);
  EXPECT(json != NULL && md != NULL);
  if (json != NULL) {
    EXPECT(json_looks_valid(json));
    EXPECT(strstr(json, "\"shapes\": [") != NULL);
    EXPECT(strstr(json, "\"name\": \"l4_3x3_512-512\"") != NULL);
    EXPECT(strstr(json, "\"tf32_tflops\": 392") != NULL);
    EXPECT(strstr(json, "\"fraction_of_floor\": ") != NULL);
    EXPECT(strstr(json, "\"data_type\": \"float32\"") != NULL);
    EXPECT(strstr(json, "\"half_type\": null") != NULL);
    EXPECT(strstr(json, "\"iters\": 10, \"order\": \"interleaved\"}") != NULL);
  }
  if (md != NULL) {
    EXPECT(strstr(md, "## Summary, default math") != NULL);
    EXPECT(strstr(md, "## Summary, ieee math") != NULL);
    EXPECT(strstr(md, "**total, x count** (23 shapes) | 53 |") != NULL);
    EXPECT(strstr(md, "### 82_dw (kernelbench)") != NULL);
    EXPECT(strstr(md, "10 timed calls per variant, a math mode's variants interleaved") != NULL);
    EXPECT(strstr(md, "\\|y - ref\\|") != NULL); /* '|' escaped in cells */
  }
  free(json);
  free(md);
}

/* No ceilings, a fatal error after two shapes, the second incomplete: still well-formed files. */
static void test_degraded(bench_run_t* run, const char* dir) {
  run->ceilings.measured = 0;
  run->n_started = 2;
  run->finished = 0;
  run->shapes[1].complete = 0;
  snprintf(run->error, sizeof run->error, "cudaMalloc(x, 1.074 GB) failed: out of memory | test");
  for (int i = 0; i < run->n_shapes; ++i) {
    bench_report_t* r = &run->shapes[i];
    r->memory_floor_ms = r->math_floor_ms[0] = r->math_floor_ms[1] = -1.0;
  }
  EXPECT(bench_run_exit_code(run) == BENCH_EXIT_RUNTIME);
  char json_path[4096], md_path[4096];
  snprintf(json_path, sizeof json_path, "%s/cpu_report_test_degraded.json", dir);
  snprintf(md_path, sizeof md_path, "%s/cpu_report_test_degraded.md", dir);
  EXPECT(bench_run_write_json(json_path, run) == 0);
  EXPECT(bench_run_write_markdown(md_path, run) == 0);
  char* json = slurp(json_path);
  char* md = slurp(md_path);
  EXPECT(json != NULL && json_looks_valid(json));
  if (json != NULL) {
    EXPECT(strstr(json, "\"measured\": false") != NULL);
    EXPECT(strstr(json, "\"floor_ms\": null") != NULL);
    EXPECT(strstr(json, "\"finished\": false") != NULL);
    EXPECT(strstr(json, "\"exit_code\": 3") != NULL);
    EXPECT(strstr(json, "\"complete\": false") != NULL);
  }
  if (md != NULL) {
    EXPECT(strstr(md, "not measured") != NULL);
    EXPECT(strstr(md, "55 (incomplete)") != NULL);
    EXPECT(strstr(md, "out of memory \\| test") != NULL);
  }
  bench_run_print_header(stdout, run);
  bench_report_print_shape(stdout, &run->shapes[1]);
  bench_report_print_table(stdout, &run->shapes[1]);
  free(json);
  free(md);
}

int main(int argc, char** argv) {
  test_suites();
  test_args();
  test_16bit();
  bench_run_t* run = calloc(1, sizeof *run);
  if (run == NULL) return 1;
  fake_run(run);
  test_summaries(run);

  bench_run_print_header(stdout, run);
  for (int i = 0; i < run->n_started; ++i) {
    bench_report_print_shape(stdout, &run->shapes[i]);
    bench_report_print_table(stdout, &run->shapes[i]);
  }
  bench_run_print_summary(stdout, run);

  char json_path[4096], md_path[4096];
  if (argc == 3) {
    snprintf(json_path, sizeof json_path, "%s", argv[1]);
    snprintf(md_path, sizeof md_path, "%s", argv[2]);
  } else {
    const char* dir = getenv("TEST_TMPDIR");
    if (dir == NULL) dir = "/tmp";
    snprintf(json_path, sizeof json_path, "%s/cpu_report_test.json", dir);
    snprintf(md_path, sizeof md_path, "%s/cpu_report_test.md", dir);
  }
  test_files(run, json_path, md_path);
  const char* dir = getenv("TEST_TMPDIR");
  test_16bit_files(run, dir != NULL ? dir : "/tmp");
  test_degraded(run, dir != NULL ? dir : "/tmp");
  free(run->shapes);
  free(run);
  /* Check's summary line, so CI counts these checks with the Check suites'. */
  printf("%d%%: Checks: %d, Failures: %d, Errors: 0\n",
         g_checks > 0 ? 100 * (g_checks - g_failures) / g_checks : 100, g_checks, g_failures);
  if (g_failures > 0) {
    fprintf(stderr, "cpu_report_test: %d check(s) failed\n", g_failures);
    return 1;
  }
  fprintf(stderr, "cpu_report_test: all checks passed (wrote %s, %s)\n", json_path, md_path);
  return 0;
}
