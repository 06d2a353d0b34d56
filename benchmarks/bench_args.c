/* Flag parsing for conv_bench. Values come as the next argument or after '=' (--n=8). */
#include "benchmarks/bench_args.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* KernelBench level-1 problem 55: nn.Conv2d(64, 128, 3) on torch.rand(8, 64, 512, 1024). */
enum { P55_N = 8, P55_C = 64, P55_H = 512, P55_W = 1024, P55_K = 128, P55_R = 3, P55_S = 3 };
enum { DEFAULT_WARMUP = 3 };

static const convgemm_algo_t kAllAlgos[BENCH_MAX_ALGOS] = {
    CONVGEMM_ALGO_DIRECT, CONVGEMM_ALGO_IM2COL_GEMM, CONVGEMM_ALGO_IMPLICIT_GEMM,
    CONVGEMM_ALGO_AUTO};

const char* bench_algo_name(convgemm_algo_t algo) {
  switch (algo) {
    case CONVGEMM_ALGO_DIRECT: return "direct";
    case CONVGEMM_ALGO_IM2COL_GEMM: return "im2col_gemm";
    case CONVGEMM_ALGO_IMPLICIT_GEMM: return "implicit_gemm";
    case CONVGEMM_ALGO_AUTO: return "auto";
  }
  return "?";
}

const char* bench_math_name(convgemm_math_mode_t math) {
  return math == CONVGEMM_MATH_IEEE ? "ieee" : "default";
}

const char* bench_dtype_name(convgemm_data_type_t type) {
  switch (type) {
    case CONVGEMM_DATA_FLOAT32: return "float32";
    case CONVGEMM_DATA_FLOAT16: return "float16";
    case CONVGEMM_DATA_BFLOAT16: return "bfloat16";
  }
  return "?";
}

void bench_args_print_help(FILE* out) {
  fputs(
      "Usage: conv_bench [flags]\n"
      "\n"
      "Benchmarks convgemm's 2-D convolution forward (PyTorch nn.Conv2d semantics, NCHW) against\n"
      "cuDNN on CUDA device 0, checking every output element against cuDNN first.\n"
      "Default shape: KernelBench level-1 problem 55 (N=8 C=64 H=512 W=1024 -> K=128, 3x3).\n"
      "\n"
      "Convolution (one shape; not with --suite):\n"
      "  --n N --c C --h H --w W    input (N, C, H, W)                   [8 64 512 1024]\n"
      "  --k K --r R --s S          filter (K, C/groups, R, S)           [128 3 3]\n"
      "  --pad P                    zero padding on each side: sets --pad-h and --pad-w [0]\n"
      "  --stride U                 sets --stride-h and --stride-w       [1]\n"
      "  --dilation D               sets --dilation-h and --dilation-w   [1]\n"
      "  --groups G                                                      [1]\n"
      "  --bias                     add a bias (cuDNN: cudnnAddTensor after the convolution)\n"
      "\n"
      "Suites (instead of the one shape above):\n"
      "  --suite LIST   comma list of: kernelbench (every KernelBench level-1 2-D problem; 86 as\n"
      "                 86_dw and 86_pw), resnet50 (torchvision ResNet-50's distinct forward\n"
      "                 convolutions at batch 32, 224x224, with their counts), small_channels\n"
      "                 (C=K 1..64 and C/G 1..32 at C=K=64; N=8, 256x256, 3x3, pad 1), all\n"
      "  --only LIST    run only these shapes of the suites (names as --list prints them)\n"
      "  --list         print the shapes (with --suite: the suites') and exit; needs no GPU\n"
      "\n"
      "Data type:\n"
      "  --dtype T      float32, float16 or bfloat16: x, w, bias and y all of T (every shape of\n"
      "                 a suite too); cuDNN runs in the same type (CUDNN_DATA_HALF /\n"
      "                 CUDNN_DATA_BFLOAT16 with float compute, CUDNN_TENSOR_OP_MATH in every\n"
      "                 math mode, as PyTorch)                            [float32]\n"
      "\n"
      "Variants:\n"
      "  --algos LIST   comma list of direct,im2col_gemm,implicit_gemm,auto\n"
      "                 [every algorithm that convgemm_check_algorithm accepts]\n"
      "  --math MODE    default: TF32 allowed (PyTorch's default, CUDNN_DEFAULT_MATH)\n"
      "                 ieee: fp32 (allow_tf32=False, CUDNN_FMA_MATH)\n"
      "                 both                            [both; default with a 16-bit --dtype,\n"
      "                 where convgemm's two modes compute the same numbers]\n"
      "  Each math mode also runs two cuDNN rows: 'cudnn' (the reference:\n"
      "  cudnnGetConvolutionForwardAlgorithm_v7, as PyTorch without cudnn.benchmark) and\n"
      "  'cudnn_find' (cudnnFindConvolutionForwardAlgorithmEx, as cudnn.benchmark=True).\n"
      "\n"
      "Timing (CUDA events; a 256 MiB memset flushes L2 before every timed call):\n"
      "  --warmup N     untimed calls before each variant's timed calls  [3; 2 with --suite]\n"
      "  --iters N      timed calls per variant, or auto                 [10 with --suite; else\n"
      "                 auto: about 1.5 s, at least 5, at most 100]\n"
      "  --order O      interleaved: each math mode's variants (cuDNN rows included) in rounds\n"
      "                 of one timed call each, so the card's clock falling as it heats slows\n"
      "                 them alike; sequential: one variant's calls after another's\n"
      "                                                                  [interleaved]\n"
      "  --workspace W  convgemm workspace: preferred, min, or MiB (at least the minimum)\n"
      "                 [preferred]\n"
      "  --no-ceilings  skip measuring the card's ceilings at start (device-to-device copy\n"
      "                 bandwidth, TF32 and FP32 cuBLASLt GEMM rate); no floors are reported\n"
      "\n"
      "Output:\n"
      "  --json PATH      also write the header facts and every shape and row as JSON\n"
      "  --markdown PATH  also write the report as Markdown (per-shape tables and a summary)\n"
      "  --help           print this text and exit\n"
      "\n"
      "A flag's value is the next argument or follows '=' (--n=8).\n"
      "Check: |y - y_cudnn| <= 1e-4 + 1e-4 * |y_cudnn| on every element (torch.allclose; 1e-2 and\n"
      "1e-2 for float16 and bfloat16, KernelBench's 16-bit tolerance), the output poisoned with\n"
      "NaN before the call.\n"
      "Exit status: 0 every convgemm row passed; 1 a convgemm row failed or returned an error;\n"
      "2 bad flags or convolution; 3 no GPU, or a CUDA / cuDNN / convgemm call failed.\n",
      out);
}

/* A flag that sets one or two int64 fields of the convolution. */
typedef struct int_flag {
  const char* name;
  size_t offset_a, offset_b; /* offsetof into convgemm_conv2d_params_t; b == a: one field */
} int_flag_t;

#define ONE(name, field) \
  { name, offsetof(convgemm_conv2d_params_t, field), offsetof(convgemm_conv2d_params_t, field) }
#define TWO(name, fa, fb) \
  { name, offsetof(convgemm_conv2d_params_t, fa), offsetof(convgemm_conv2d_params_t, fb) }

static const int_flag_t kIntFlags[] = {
    ONE("n", n),
    ONE("c", c),
    ONE("h", h),
    ONE("w", w),
    ONE("k", k),
    ONE("r", r),
    ONE("s", s),
    ONE("pad-h", pad_h),
    ONE("pad-w", pad_w),
    TWO("pad", pad_h, pad_w),
    ONE("stride-h", stride_h),
    ONE("stride-w", stride_w),
    TWO("stride", stride_h, stride_w),
    ONE("dilation-h", dilation_h),
    ONE("dilation-w", dilation_w),
    TWO("dilation", dilation_h, dilation_w),
    ONE("groups", groups),
};

#undef ONE
#undef TWO

static int parse_int64(const char* text, int64_t* out) {
  if (text == NULL || *text == '\0') return 0;
  char* end = NULL;
  errno = 0;
  const long long v = strtoll(text, &end, 10);
  if (errno != 0 || *end != '\0') return 0;
  *out = (int64_t)v;
  return 1;
}

static int parse_int(const char* text, int min, int* out) {
  int64_t v;
  if (!parse_int64(text, &v) || v < min || v > INT_MAX) return 0;
  *out = (int)v;
  return 1;
}

static int parse_algo(const char* name, size_t len, convgemm_algo_t* out) {
  for (int i = 0; i < BENCH_MAX_ALGOS; ++i) {
    const char* known = bench_algo_name(kAllAlgos[i]);
    if (strlen(known) == len && strncmp(known, name, len) == 0) {
      *out = kAllAlgos[i];
      return 1;
    }
  }
  return 0;
}

static int parse_algos(const char* list, bench_args_t* args, char* err, size_t err_len) {
  args->n_algos = 0;
  const char* p = list;
  for (;;) {
    const char* comma = strchr(p, ',');
    const size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
    convgemm_algo_t algo;
    if (!parse_algo(p, len, &algo)) {
      snprintf(err, err_len,
               "--algos: unknown algorithm '%.*s' (known: direct, im2col_gemm, implicit_gemm, "
               "auto)",
               (int)len, p);
      return 0;
    }
    int seen = 0;
    for (int i = 0; i < args->n_algos; ++i) seen |= args->algos[i] == algo;
    if (!seen) args->algos[args->n_algos++] = algo;
    if (comma == NULL) break;
    p = comma + 1;
  }
  args->algos_given = 1;
  return 1;
}

static void set_defaults(bench_args_t* args) {
  memset(args, 0, sizeof *args);
  convgemm_conv2d_params_init(&args->params, P55_N, P55_C, P55_H, P55_W, P55_K, P55_R, P55_S);
  for (int i = 0; i < BENCH_MAX_ALGOS; ++i) args->algos[i] = kAllAlgos[i];
  args->n_algos = BENCH_MAX_ALGOS;
  args->algos_given = 0;
  args->maths[0] = CONVGEMM_MATH_DEFAULT;
  args->maths[1] = CONVGEMM_MATH_IEEE;
  args->n_maths = 2;
  args->warmup = DEFAULT_WARMUP;
  args->iters = 0;
  args->interleave = 1;
  args->json_path = NULL;
  args->markdown_path = NULL;
  args->workspace_mib = 0;
  args->suites = NULL;
  args->only = NULL;
  args->list_only = 0;
  args->measure_ceilings = 1;
  args->shape_given = 0;
  args->warmup_given = 0;
  args->iters_given = 0;
}

/* The flags that take a value, besides the convolution's integers. */
static const char* const kValueFlags[] = {"algos", "math",     "warmup", "iters", "json",
                                          "workspace", "suite", "markdown", "only", "dtype",
                                          "order"};

static int is_value_flag(const char* name) {
  for (size_t i = 0; i < sizeof kValueFlags / sizeof kValueFlags[0]; ++i)
    if (strcmp(kValueFlags[i], name) == 0) return 1;
  return 0;
}

/* A comma list with no empty item. */
static int valid_list(const char* value) {
  if (*value == '\0' || *value == ',') return 0;
  for (const char* c = value; *c != '\0'; ++c)
    if (*c == ',' && (c[1] == ',' || c[1] == '\0')) return 0;
  return 1;
}

bench_args_status_t bench_args_parse(int argc, char** argv, bench_args_t* args, char* err,
                                     size_t err_len) {
  set_defaults(args);
  for (int i = 1; i < argc; ++i) {
    const char* arg = argv[i];
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) return BENCH_ARGS_HELP;
    if (strncmp(arg, "--", 2) != 0) {
      snprintf(err, err_len, "unexpected argument '%s' (flags start with --; see --help)", arg);
      return BENCH_ARGS_ERROR;
    }
    /* The name, and the value after '=' if any. */
    char name[64];
    const char* eq = strchr(arg + 2, '=');
    const size_t name_len = eq != NULL ? (size_t)(eq - (arg + 2)) : strlen(arg + 2);
    if (name_len == 0 || name_len >= sizeof name) {
      snprintf(err, err_len, "unknown flag '%s' (see --help)", arg);
      return BENCH_ARGS_ERROR;
    }
    memcpy(name, arg + 2, name_len);
    name[name_len] = '\0';

    if (strcmp(name, "bias") == 0 || strcmp(name, "list") == 0 ||
        strcmp(name, "no-ceilings") == 0) {
      if (eq != NULL) {
        snprintf(err, err_len, "--%s takes no value, got '%s'", name, arg);
        return BENCH_ARGS_ERROR;
      }
      if (strcmp(name, "bias") == 0) {
        args->params.has_bias = 1;
        args->shape_given = 1;
      } else if (strcmp(name, "list") == 0) {
        args->list_only = 1;
      } else {
        args->measure_ceilings = 0;
      }
      continue;
    }

    const int_flag_t* int_flag = NULL;
    for (size_t f = 0; f < sizeof kIntFlags / sizeof kIntFlags[0]; ++f)
      if (strcmp(kIntFlags[f].name, name) == 0) int_flag = &kIntFlags[f];
    if (int_flag == NULL && !is_value_flag(name)) {
      snprintf(err, err_len, "unknown flag '--%s' (see --help)", name);
      return BENCH_ARGS_ERROR;
    }
    const char* value = eq != NULL ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
    if (value == NULL) {
      snprintf(err, err_len, "--%s needs a value (see --help)", name);
      return BENCH_ARGS_ERROR;
    }

    if (int_flag != NULL) {
      int64_t v;
      if (!parse_int64(value, &v)) {
        snprintf(err, err_len, "--%s: '%s' is not an integer", name, value);
        return BENCH_ARGS_ERROR;
      }
      char* base = (char*)&args->params;
      memcpy(base + int_flag->offset_a, &v, sizeof v);
      memcpy(base + int_flag->offset_b, &v, sizeof v);
      args->shape_given = 1;
    } else if (strcmp(name, "algos") == 0) {
      if (!parse_algos(value, args, err, err_len)) return BENCH_ARGS_ERROR;
    } else if (strcmp(name, "dtype") == 0) {
      if (strcmp(value, "float32") == 0) {
        args->params.data_type = CONVGEMM_DATA_FLOAT32;
      } else if (strcmp(value, "float16") == 0) {
        args->params.data_type = CONVGEMM_DATA_FLOAT16;
      } else if (strcmp(value, "bfloat16") == 0) {
        args->params.data_type = CONVGEMM_DATA_BFLOAT16;
      } else {
        snprintf(err, err_len, "--dtype: expected float32, float16 or bfloat16, got '%s'", value);
        return BENCH_ARGS_ERROR;
      }
    } else if (strcmp(name, "math") == 0) {
      args->math_given = 1;
      if (strcmp(value, "default") == 0) {
        args->maths[0] = CONVGEMM_MATH_DEFAULT;
        args->n_maths = 1;
      } else if (strcmp(value, "ieee") == 0) {
        args->maths[0] = CONVGEMM_MATH_IEEE;
        args->n_maths = 1;
      } else if (strcmp(value, "both") == 0) {
        args->maths[0] = CONVGEMM_MATH_DEFAULT;
        args->maths[1] = CONVGEMM_MATH_IEEE;
        args->n_maths = 2;
      } else {
        snprintf(err, err_len, "--math: expected default, ieee or both, got '%s'", value);
        return BENCH_ARGS_ERROR;
      }
    } else if (strcmp(name, "warmup") == 0) {
      if (!parse_int(value, 0, &args->warmup)) {
        snprintf(err, err_len, "--warmup: expected an integer >= 0, got '%s'", value);
        return BENCH_ARGS_ERROR;
      }
      args->warmup_given = 1;
    } else if (strcmp(name, "iters") == 0) {
      if (strcmp(value, "auto") == 0) {
        args->iters = 0;
      } else if (!parse_int(value, 1, &args->iters)) {
        snprintf(err, err_len, "--iters: expected an integer >= 1 or 'auto', got '%s'", value);
        return BENCH_ARGS_ERROR;
      }
      args->iters_given = 1;
    } else if (strcmp(name, "order") == 0) {
      if (strcmp(value, "interleaved") == 0) {
        args->interleave = 1;
      } else if (strcmp(value, "sequential") == 0) {
        args->interleave = 0;
      } else {
        snprintf(err, err_len, "--order: expected interleaved or sequential, got '%s'", value);
        return BENCH_ARGS_ERROR;
      }
    } else if (strcmp(name, "workspace") == 0) {
      int mib = 0;
      if (strcmp(value, "preferred") == 0) {
        args->workspace_mib = 0;
      } else if (strcmp(value, "min") == 0) {
        args->workspace_mib = SIZE_MAX;
      } else if (parse_int(value, 1, &mib)) {
        args->workspace_mib = (size_t)mib;
      } else {
        snprintf(err, err_len, "--workspace: expected preferred, min or MiB >= 1, got '%s'", value);
        return BENCH_ARGS_ERROR;
      }
    } else if (strcmp(name, "json") == 0) {
      if (*value == '\0') {
        snprintf(err, err_len, "--json needs a file path");
        return BENCH_ARGS_ERROR;
      }
      args->json_path = value;
    } else if (strcmp(name, "markdown") == 0) {
      if (*value == '\0') {
        snprintf(err, err_len, "--markdown needs a file path");
        return BENCH_ARGS_ERROR;
      }
      args->markdown_path = value;
    } else if (strcmp(name, "suite") == 0 || strcmp(name, "only") == 0) {
      if (!valid_list(value)) {
        snprintf(err, err_len, "--%s: expected a comma list of names, got '%s'", name, value);
        return BENCH_ARGS_ERROR;
      }
      if (strcmp(name, "suite") == 0)
        args->suites = value;
      else
        args->only = value;
    }
  }
  if (args->suites != NULL && args->shape_given) {
    snprintf(err, err_len,
             "--suite runs its own shapes; the convolution flags (--n ... --groups, --bias) "
             "apply only without it");
    return BENCH_ARGS_ERROR;
  }
  if (args->only != NULL && args->suites == NULL) {
    snprintf(err, err_len, "--only picks shapes of a --suite; give --suite too");
    return BENCH_ARGS_ERROR;
  }
  if (args->suites != NULL) {
    if (!args->warmup_given) args->warmup = BENCH_SUITE_WARMUP;
    if (!args->iters_given) args->iters = BENCH_SUITE_ITERS;
  }
  /* 16-bit data: convgemm's math modes compute the same numbers, so default math alone unless
   * --math asks for more. */
  if (args->params.data_type != CONVGEMM_DATA_FLOAT32 && !args->math_given) {
    args->maths[0] = CONVGEMM_MATH_DEFAULT;
    args->n_maths = 1;
  }
  return BENCH_ARGS_OK;
}
