/* The shape suites of conv_bench (see suites.h). */
#include "benchmarks/suites.h"

#include <stdlib.h>
#include <string.h>

/* One convolution of a suite table. stride applies to both dimensions; dilation 0 means 1. */
typedef struct spec {
  const char* name;
  const char* series;
  int count;
  const char* note;
  int n, c, h, w, k, r, s;
  int pad_h, pad_w, stride, dil_h, dil_w, groups, bias;
} spec_t;

/* KernelBench level-1, as published (kernelbench_conv2d_shapes.md). */
static const spec_t kKernelBench[] = {
    /* name       series count note
     *            n    c    h     w     k    r   s  pad_h pad_w stride dil_h dil_w groups bias */
    {"50_stem", "", 0, "KernelBench 50: AlexNet conv1 (bias)",
     256, 3, 224, 224, 96, 11, 11, 2, 2, 4, 1, 1, 1, 1},
    {"55", "", 0, "KernelBench 55 (flagship)",
     8, 64, 512, 1024, 128, 3, 3, 0, 0, 1, 1, 1, 1, 0},
    {"56", "", 0, "KernelBench 56: 5x7 filter",
     8, 64, 512, 256, 128, 5, 7, 0, 0, 1, 1, 1, 1, 0},
    {"62", "", 0, "KernelBench 62: 5x9 filter",
     8, 32, 512, 512, 64, 5, 9, 0, 0, 1, 1, 1, 1, 0},
    {"63", "", 0, "KernelBench 63: C=16",
     16, 16, 1024, 1024, 128, 3, 3, 0, 0, 1, 1, 1, 1, 0},
    {"80", "", 0, "KernelBench 80: padding (2, 4), dilation (2, 3)",
     8, 32, 512, 512, 64, 5, 9, 2, 4, 1, 2, 3, 1, 0},
    {"82_dw", "", 0, "KernelBench 82: depthwise 3x3",
     16, 64, 512, 512, 64, 3, 3, 0, 0, 1, 1, 1, 64, 0},
    {"83_dw", "", 0, "KernelBench 83: depthwise 3x1",
     64, 8, 512, 512, 8, 3, 1, 0, 0, 1, 1, 1, 8, 0},
    {"84_dw", "", 0, "KernelBench 84: depthwise 3x3",
     64, 128, 256, 512, 128, 3, 3, 0, 0, 1, 1, 1, 128, 0},
    {"85_dw", "", 0, "KernelBench 85: depthwise 3x7",
     32, 128, 128, 256, 128, 3, 7, 0, 0, 1, 1, 1, 128, 0},
    {"86_dw", "", 0, "KernelBench 86 (separable), part 1: depthwise 3x3, pad 1",
     16, 64, 512, 512, 64, 3, 3, 1, 1, 1, 1, 1, 64, 0},
    {"86_pw", "", 0, "KernelBench 86 (separable), part 2: pointwise 1x1",
     16, 64, 512, 512, 128, 1, 1, 0, 0, 1, 1, 1, 1, 0},
    {"87_pw", "", 0, "KernelBench 87: pointwise 1x1",
     16, 64, 1024, 1024, 128, 1, 1, 0, 0, 1, 1, 1, 1, 0},
};

/* torchvision resnet50() at batch 32, 224x224: conv1 (7x7/2) -> maxpool/2 -> 56x56, then stages
 * of 3, 4, 6, 3 bottlenecks (1x1 C->w, 3x3 w->w, 1x1 w->4w; w = 64, 128, 256, 512). v1.5: the
 * first block of stages 2-4 puts stride 2 on its 3x3; its downsample is a 1x1 stride 2 conv.
 * Stage 1's downsample (1x1 64->256, stride 1, 56x56) has conv3's shape and is counted there.
 * No bias (each conv is followed by BatchNorm). Counts add up to the network's 53 convs. */
#define RN(name, count, note, c, hw, k, rs, pad, stride) \
  {name, "", count, note, 32, c, hw, hw, k, rs, rs, pad, pad, stride, 1, 1, 1, 0}
static const spec_t kResNet50[] = {
    RN("stem_7x7s2_3-64", 1, "conv1", 3, 224, 64, 7, 3, 2),
    RN("l1_1x1_64-64", 1, "layer1.0.conv1", 64, 56, 64, 1, 0, 1),
    RN("l1_3x3_64-64", 3, "layer1.{0,1,2}.conv2", 64, 56, 64, 3, 1, 1),
    RN("l1_1x1_64-256", 4, "layer1.{0,1,2}.conv3, layer1.0.downsample.0", 64, 56, 256, 1, 0, 1),
    RN("l1_1x1_256-64", 2, "layer1.{1,2}.conv1", 256, 56, 64, 1, 0, 1),
    RN("l2_1x1_256-128", 1, "layer2.0.conv1", 256, 56, 128, 1, 0, 1),
    RN("l2_3x3s2_128-128", 1, "layer2.0.conv2", 128, 56, 128, 3, 1, 2),
    RN("l2_ds1x1s2_256-512", 1, "layer2.0.downsample.0", 256, 56, 512, 1, 0, 2),
    RN("l2_1x1_128-512", 4, "layer2.{0..3}.conv3", 128, 28, 512, 1, 0, 1),
    RN("l2_1x1_512-128", 3, "layer2.{1..3}.conv1", 512, 28, 128, 1, 0, 1),
    RN("l2_3x3_128-128", 3, "layer2.{1..3}.conv2", 128, 28, 128, 3, 1, 1),
    RN("l3_1x1_512-256", 1, "layer3.0.conv1", 512, 28, 256, 1, 0, 1),
    RN("l3_3x3s2_256-256", 1, "layer3.0.conv2", 256, 28, 256, 3, 1, 2),
    RN("l3_ds1x1s2_512-1024", 1, "layer3.0.downsample.0", 512, 28, 1024, 1, 0, 2),
    RN("l3_1x1_256-1024", 6, "layer3.{0..5}.conv3", 256, 14, 1024, 1, 0, 1),
    RN("l3_1x1_1024-256", 5, "layer3.{1..5}.conv1", 1024, 14, 256, 1, 0, 1),
    RN("l3_3x3_256-256", 5, "layer3.{1..5}.conv2", 256, 14, 256, 3, 1, 1),
    RN("l4_1x1_1024-512", 1, "layer4.0.conv1", 1024, 14, 512, 1, 0, 1),
    RN("l4_3x3s2_512-512", 1, "layer4.0.conv2", 512, 14, 512, 3, 1, 2),
    RN("l4_ds1x1s2_1024-2048", 1, "layer4.0.downsample.0", 1024, 14, 2048, 1, 0, 2),
    RN("l4_1x1_512-2048", 3, "layer4.{0..2}.conv3", 512, 7, 2048, 1, 0, 1),
    RN("l4_1x1_2048-512", 2, "layer4.{1,2}.conv1", 2048, 7, 512, 1, 0, 1),
    RN("l4_3x3_512-512", 2, "layer4.{1,2}.conv2", 512, 7, 512, 3, 1, 1),
};
#undef RN

/* N=8, 256x256, 3x3, pad 1. "dense": C = K, groups 1 (work grows as C*K). "grouped": C = K = 64,
 * C/G from 1 (depthwise) to 32 (the same bytes moved, work proportional to C/G); C/G = 64 is
 * dense_C64. */
#define SC(name, series, note, c, g) \
  {name, series, 0, note, 8, c, 256, 256, c, 3, 3, 1, 1, 1, 1, 1, g, 0}
static const spec_t kSmallChannels[] = {
    SC("dense_C1", "dense", "C=K=1", 1, 1),
    SC("dense_C2", "dense", "C=K=2", 2, 1),
    SC("dense_C4", "dense", "C=K=4", 4, 1),
    SC("dense_C8", "dense", "C=K=8", 8, 1),
    SC("dense_C16", "dense", "C=K=16", 16, 1),
    SC("dense_C32", "dense", "C=K=32", 32, 1),
    SC("dense_C64", "dense", "C=K=64 (also grouped C/G=64)", 64, 1),
    SC("grouped_G64", "grouped", "C=K=64, G=64, C/G=1 (depthwise)", 64, 64),
    SC("grouped_G32", "grouped", "C=K=64, G=32, C/G=2", 64, 32),
    SC("grouped_G16", "grouped", "C=K=64, G=16, C/G=4", 64, 16),
    SC("grouped_G8", "grouped", "C=K=64, G=8, C/G=8", 64, 8),
    SC("grouped_G4", "grouped", "C=K=64, G=4, C/G=16", 64, 4),
    SC("grouped_G2", "grouped", "C=K=64, G=2, C/G=32", 64, 2),
};
#undef SC

typedef struct suite {
  const char* name;
  const spec_t* specs;
  int n;
} suite_t;

static const suite_t kSuites[] = {
    {"kernelbench", kKernelBench, (int)(sizeof kKernelBench / sizeof kKernelBench[0])},
    {"resnet50", kResNet50, (int)(sizeof kResNet50 / sizeof kResNet50[0])},
    {"small_channels", kSmallChannels, (int)(sizeof kSmallChannels / sizeof kSmallChannels[0])},
};
enum { N_SUITES = (int)(sizeof kSuites / sizeof kSuites[0]) };

convgemm_status_t bench_shape_work(const convgemm_conv2d_params_t* params, bench_work_t* work) {
  convgemm_conv_desc_t desc = NULL;
  const convgemm_status_t st = convgemm_conv_desc_create(&desc, params);
  if (st != CONVGEMM_STATUS_SUCCESS) return st;
  int64_t yn, yk, yp, yq;
  const convgemm_status_t st2 = convgemm_get_output_shape(desc, &yn, &yk, &yp, &yq);
  convgemm_conv_desc_destroy(desc);
  if (st2 != CONVGEMM_STATUS_SUCCESS) return st2;
  const convgemm_conv2d_params_t* p = params;
  work->p = yp;
  work->q = yq;
  work->flops = 2.0 * (double)yn * (double)yk * (double)yp * (double)yq *
                (double)(p->c / p->groups) * (double)p->r * (double)p->s;
  const double e = p->data_type == CONVGEMM_DATA_FLOAT32 ? 4.0 : 2.0; /* bytes per element */
  work->x_bytes = (double)p->n * (double)p->c * (double)p->h * (double)p->w * e;
  work->w_bytes = (double)p->k * (double)(p->c / p->groups) * (double)p->r * (double)p->s * e;
  work->bias_bytes = p->has_bias ? (double)p->k * e : 0.0;
  work->y_bytes = (double)yn * (double)yk * (double)yp * (double)yq * e;
  return CONVGEMM_STATUS_SUCCESS;
}

static void from_spec(const spec_t* sp, const char* suite, bench_shape_t* out) {
  memset(out, 0, sizeof *out);
  snprintf(out->name, sizeof out->name, "%s", sp->name);
  snprintf(out->suite, sizeof out->suite, "%s", suite);
  snprintf(out->series, sizeof out->series, "%s", sp->series);
  out->count = sp->count;
  snprintf(out->note, sizeof out->note, "%s", sp->note);
  convgemm_conv2d_params_t* p = &out->params;
  convgemm_conv2d_params_init(p, sp->n, sp->c, sp->h, sp->w, sp->k, sp->r, sp->s);
  p->pad_h = sp->pad_h;
  p->pad_w = sp->pad_w;
  p->stride_h = p->stride_w = sp->stride;
  p->dilation_h = sp->dil_h;
  p->dilation_w = sp->dil_w;
  p->groups = sp->groups;
  p->has_bias = sp->bias;
}

/* Whether `name` is one of the items of the comma list. */
static int in_list(const char* list, const char* name) {
  const size_t len = strlen(name);
  for (const char* p = list;;) {
    const char* comma = strchr(p, ',');
    const size_t item = comma != NULL ? (size_t)(comma - p) : strlen(p);
    if (item == len && strncmp(p, name, len) == 0) return 1;
    if (comma == NULL) return 0;
    p = comma + 1;
  }
}

/* Checks every item of a comma list with `known`; on an unknown one fills err. */
static int check_items(const char* list, const char* flag, int (*known)(const char*, size_t),
                       const char* known_text, char* err, size_t err_len) {
  for (const char* p = list;;) {
    const char* comma = strchr(p, ',');
    const size_t item = comma != NULL ? (size_t)(comma - p) : strlen(p);
    if (!known(p, item)) {
      snprintf(err, err_len, "%s: unknown name '%.*s' (%s)", flag, (int)item, p, known_text);
      return 0;
    }
    if (comma == NULL) return 1;
    p = comma + 1;
  }
}

static int known_suite(const char* name, size_t len) {
  if (len == 3 && strncmp(name, "all", 3) == 0) return 1;
  for (int i = 0; i < N_SUITES; ++i)
    if (strlen(kSuites[i].name) == len && strncmp(kSuites[i].name, name, len) == 0) return 1;
  return 0;
}

static int known_shape(const char* name, size_t len) {
  for (int i = 0; i < N_SUITES; ++i)
    for (int j = 0; j < kSuites[i].n; ++j)
      if (strlen(kSuites[i].specs[j].name) == len &&
          strncmp(kSuites[i].specs[j].name, name, len) == 0)
        return 1;
  return 0;
}

bench_shape_t* bench_suite_shapes(const char* suites, const char* only, int* n, char* err,
                                  size_t err_len) {
  *n = 0;
  if (!check_items(suites, "--suite", known_suite,
                   "known: kernelbench, resnet50, small_channels, all", err, err_len))
    return NULL;
  if (only != NULL &&
      !check_items(only, "--only", known_shape, "conv_bench --suite all --list names them", err,
                   err_len))
    return NULL;
  int total = 0;
  for (int i = 0; i < N_SUITES; ++i) total += kSuites[i].n;
  bench_shape_t* shapes = calloc((size_t)total, sizeof *shapes);
  if (shapes == NULL) {
    snprintf(err, err_len, "out of host memory");
    return NULL;
  }
  /* Suites in the order of kSuites, each at most once. */
  const int all = in_list(suites, "all");
  for (int i = 0; i < N_SUITES; ++i) {
    if (!all && !in_list(suites, kSuites[i].name)) continue;
    for (int j = 0; j < kSuites[i].n; ++j) {
      if (only != NULL && !in_list(only, kSuites[i].specs[j].name)) continue;
      from_spec(&kSuites[i].specs[j], kSuites[i].name, &shapes[(*n)++]);
    }
  }
  /* Every name of --only must be in the suites chosen. */
  for (const char* p = only; p != NULL;) {
    const char* comma = strchr(p, ',');
    const size_t item = comma != NULL ? (size_t)(comma - p) : strlen(p);
    int found = 0;
    for (int i = 0; i < *n && !found; ++i)
      found = strlen(shapes[i].name) == item && strncmp(shapes[i].name, p, item) == 0;
    if (!found) {
      snprintf(err, err_len, "--only: '%.*s' is not in the suites '%s'", (int)item, p, suites);
      free(shapes);
      *n = 0;
      return NULL;
    }
    p = comma != NULL ? comma + 1 : NULL;
  }
  return shapes;
}

void bench_suite_print_list(FILE* out, const bench_shape_t* shapes, int n) {
  fprintf(out, "%-22s %-14s %5s  %-66s %9s %8s  %s\n", "shape", "suite", "count",
          "convolution", "GFLOP", "GB", "note");
  double total_flops = 0.0, total_bytes = 0.0;
  for (int i = 0; i < n; ++i) {
    const bench_shape_t* sh = &shapes[i];
    const convgemm_conv2d_params_t* p = &sh->params;
    bench_work_t wk;
    char conv[128];
    snprintf(conv, sizeof conv,
             "%lldx%lldx%lldx%lld -> %lld, %lldx%lld, s%lld/%lld p%lld/%lld d%lld/%lld g%lld%s",
             (long long)p->n, (long long)p->c, (long long)p->h, (long long)p->w, (long long)p->k,
             (long long)p->r, (long long)p->s, (long long)p->stride_h, (long long)p->stride_w,
             (long long)p->pad_h, (long long)p->pad_w, (long long)p->dilation_h,
             (long long)p->dilation_w, (long long)p->groups, p->has_bias ? " bias" : "");
    char count[16] = "-";
    if (sh->count > 0) snprintf(count, sizeof count, "%d", sh->count);
    if (bench_shape_work(p, &wk) != CONVGEMM_STATUS_SUCCESS) {
      fprintf(out, "%-22s %-14s %5s  %-66s invalid: %s\n", sh->name, sh->suite, count, conv,
              convgemm_get_last_error());
      continue;
    }
    const double bytes = wk.x_bytes + wk.w_bytes + wk.bias_bytes + wk.y_bytes;
    const int times = sh->count > 0 ? sh->count : 1;
    total_flops += wk.flops * times;
    total_bytes += bytes * times;
    fprintf(out, "%-22s %-14s %5s  %-66s %9.2f %8.3f  %s\n", sh->name,
            sh->suite[0] != '\0' ? sh->suite : "-", count, conv, wk.flops * 1e-9, bytes * 1e-9,
            sh->note);
  }
  fprintf(out, "%d shape%s; %.1f GFLOP, %.3f GB compulsory in all (shapes times their count)\n",
          n, n == 1 ? "" : "s", total_flops * 1e-9, total_bytes * 1e-9);
}
