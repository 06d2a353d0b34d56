/*
 * What the library's translation units share and the public header does not show: the handle and
 * descriptor structs, the error-reporting helper, derived sizes. Not installed for users.
 */
#ifndef CONVGEMM_INTERNAL_H_
#define CONVGEMM_INTERNAL_H_

#include "conv/convgemm.h"
#include "conv/data_type.h"
#include "conv/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* a * b and a + b for non-negative sizes, saturating at INT64_MAX: the plans compute shared
 * memory and workspace sizes from hostile but valid descriptors (a 2^31-1 stride times a
 * 2^31-1 dilation), and a saturated size is simply refused. */
static inline int64_t convgemm_sat_mul(int64_t a, int64_t b) {
  int64_t r;
  return __builtin_mul_overflow(a, b, &r) ? INT64_MAX : r;
}
static inline int64_t convgemm_sat_add(int64_t a, int64_t b) {
  int64_t r;
  return __builtin_add_overflow(a, b, &r) ? INT64_MAX : r;
}

#ifdef __cplusplus
}
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Per-device facts read once by convgemm_create; the algorithms size themselves from these. */
typedef struct convgemm_device_info {
  int device;                 /* CUDA ordinal */
  int cc_major, cc_minor;     /* compute capability */
  int sm_count;
  int max_smem_per_block;     /* bytes a block may opt in to (cudaDevAttrMaxSharedMemoryPerBlockOptin) */
  int l2_bytes;
  int no_wgmma;               /* tests only: 1 keeps IMPLICIT_GEMM on its mma.sync kernel on an
                                 sm_90 device (0, the default, uses wgmma there) */
  int no_f16_products;        /* tests only: 1 keeps IMPLICIT_GEMM's TF32 operands on TF32
                                 wgmmas where its fp16 products would apply */
  int no_ping_pong;           /* tests only: 1 keeps IMPLICIT_GEMM's 16-bit resident-filter
                                 kernel's warpgroups on shared 4-row tiles */
} convgemm_device_info_t;

/* IM2COL_GEMM runs chunks alternately on two streams of its own (forked from and joined back
 * to the caller's stream with events), so one chunk's im2col overlaps the other's GEMM. */
enum { CONVGEMM_HANDLE_STREAMS = 2 };

/* IM2COL_GEMM's cached CUDA graphs and what each was captured for (conv/im2col_gemm.c). */
enum { CONVGEMM_IM2COL_GRAPHS = 4 };

typedef struct convgemm_im2col_graph {
  cudaGraphExec_t exec; /* NULL: unused slot */
  uint64_t last_use;
  convgemm_conv2d_params_t params;
  const void *x, *w, *bias, *y, *workspace;
  size_t workspace_bytes;
} convgemm_im2col_graph_t;

struct convgemm_handle {
  convgemm_device_info_t info;
  struct convgemm_gemm* gemm;                    /* cuBLASLt and its algorithm cache */
  cudaStream_t streams[CONVGEMM_HANDLE_STREAMS]; /* non-blocking, on info.device */
  cudaEvent_t fork;                              /* recorded on the caller's stream */
  cudaEvent_t join[CONVGEMM_HANDLE_STREAMS];     /* recorded on each own stream */
  convgemm_im2col_graph_t im2col_graphs[CONVGEMM_IM2COL_GRAPHS];
  uint64_t im2col_clock;
};

/* A validated convolution; every derived size is computed once, here. */
struct convgemm_conv_desc {
  convgemm_conv2d_params_t params;
  int64_t p, q;               /* output height and width */
  int64_t c_per_group;        /* C / G */
  int64_t k_per_group;        /* K / G */
  int64_t x_elems, w_elems, y_elems;
  int64_t elem_bytes;         /* of params.data_type: 4 or 2 */
  /* Operands rounded to TF32 (ties away): float32 data in DEFAULT math with C/G > 1. With C/G
   * == 1 (depthwise) DEFAULT math is fp32, as in PyTorch, whose float32 depthwise convolution is
   * its own fp32 kernel whatever allow_tf32 says (and cuDNN's default picks fp32 kernels there
   * too). Never for 16-bit data: its values are already exact in TF32 and fp32. */
  int tf32_operands;
};

/* Whether x, w, bias and y are 16-bit (float16 or bfloat16). */
static inline int convgemm_desc_is_16bit(const struct convgemm_conv_desc* d) {
  return d->params.data_type != CONVGEMM_DATA_FLOAT32;
}

/* Validates params; on success fills *out (derived sizes included). Pure host code. */
convgemm_status_t convgemm_conv_desc_validate(const convgemm_conv2d_params_t* params,
                                              struct convgemm_conv_desc* out);

/* AUTO's rule: IM2COL_GEMM when K/G and (C/G)*R*S both reach these, else DIRECT. FP32 GEMMs
 * (IEEE math) run on CUDA cores like DIRECT, so they need wider outputs to pay off (measured
 * on the small_channels suite: at K/G 32, 3x3, DIRECT is 20% faster in IEEE math and IM2COL_GEMM
 * 5% faster in DEFAULT math). 16-bit data takes IMPLICIT_GEMM's TMA kernel by the wgmma rule
 * below (H100, bfloat16, 2026-11-28: problem 55 1.26-1.35 ms against IM2COL_GEMM's 5.41, 56-86_pw
 * 1.10-2.6x cuDNN; small_channels dense C = K = 16 to 64 and groups 2 and 4 IMPLICIT_GEMM the
 * fastest; C/G < 16 is not its kernel's). Its 16-bit mma.sync kernel is never AUTO's choice:
 * measured against IM2COL_GEMM (H100 forced onto it, bfloat16, 2026-11-28) it won only on
 * problem 55 (4.01 against 5.44 ms) and lost on 3x3 C = K = 8 at 256 x 256 (0.133 against
 * 0.072), stride 2 (2.55 against 1.13), Q 14 (0.227 against 0.086) and Q 56 (0.069 against
 * 0.058). Otherwise 16-bit data needs K/G >= 8 only, whatever the math mode: its GEMMs run on
 * tensor cores at twice TF32's
 * rate and read half the bytes, while DIRECT stays fp32 FMA on CUDA cores. Measured (H100,
 * small_channels suite in bfloat16 and float16, 2026-11-28): IM2COL_GEMM is 5-16% faster than
 * DIRECT at C = K = 8 and 16 and at groups 8 and 4 (K/G 8, 16), DIRECT faster at K/G 4 and below;
 * with this rule AUTO picks the faster of the two on all 26 rows (the TF32 threshold of 32 left
 * four of them 11-16% slow). */
enum {
  CONVGEMM_AUTO_GEMM_MIN_K_PER_GROUP_TF32 = 32, /* tensor-core GEMMs: TF32 operands (DEFAULT math,
                                                   C/G > 1) */
  CONVGEMM_AUTO_GEMM_MIN_K_PER_GROUP_16BIT = 8, /* 16-bit GEMMs */
  CONVGEMM_AUTO_GEMM_MIN_K_PER_GROUP_FP32 = 64, /* fp32: IEEE math, or C/G == 1 */
  CONVGEMM_AUTO_GEMM_MIN_REDUCTION = 64,
  /* Among GEMM-worthy descriptors, IMPLICIT_GEMM's mma.sync kernel (sm_80/86/89) instead of
   * IM2COL_GEMM when it runs (TF32 operands, its shared memory fits), R*S > 1, stride 1 and
   * Q >= this (its 64-column pixel tile is full). Measured (H100, mma.sync): it won on problem
   * 55 (6.95 against 8.33 ms), 63 and the 256 x 256 small_channels shapes with K/G >= 32, and
   * lost on 1x1 filters, strided layers and ResNet-50's Q <= 56 layers. */
  CONVGEMM_AUTO_IGEMM_MIN_Q = 64,
  /* Its wgmma kernel (sm_90) wins more widely (H100, 2026-11-27 runs): at stride 1 on every
   * KernelBench shape it runs (1x1 at Q >= 64 too: 86_pw 1.46 against IM2COL_GEMM's 1.89 ms),
   * at Q 56 with a 3x3 filter (ResNet-50 l1_3x3: 0.124 against 0.196 ms) and down to C/G = K/G
   * = 8 (small_channels dense_C8 0.071 against DIRECT's 0.081, dense_C16, grouped_G8), so AUTO
   * takes it, before the rule above, when C/G and K/G reach WGMMA_MIN_CHANNELS and Q reaches
   * WGMMA_MIN_Q (R*S > 1) or IGEMM_MIN_Q (1x1). Below 8 channels per group DIRECT stays ahead
   * (grouped_G16, C/G = 4: 0.79 ms, the best). */
  CONVGEMM_AUTO_IGEMM_WGMMA_MIN_CHANNELS = 8,
  CONVGEMM_AUTO_IGEMM_WGMMA_MIN_Q = 32,
  /* fp32 operands (IEEE math): the wgmma kernel's 3xTF32, as accurate as fp32 FMA since its
   * partial sums (log step 37), where the wgmma rule holds and C/G and K/G reach these.
   * Measured (H100, IEEE math, 2026-11-28, benchmarks/results/h100_small_channels_ieee.txt and
   * h100_kernelbench_implicit_ieee.txt): it wins at C/G = K/G = 32 (0.447 ms against DIRECT's
   * 0.502; groups 2: 0.871 against 0.983), C = K = 64 (0.826 against IM2COL_GEMM's 1.292),
   * problem 55 (6.85 against 18.3), 56 (5.13), 63 (C 16, K 128: 8.39 against 20) and 86_pw
   * (1.99 against 2.8), and loses to DIRECT at C/G = K/G = 8 and 16 (0.160 against 0.074, 0.249
   * against 0.138, groups 4: 0.949 against 0.511). ResNet-50's layers don't fit its TMA box. */
  CONVGEMM_AUTO_IGEMM_SPLIT_MIN_C_PER_GROUP = 16,
  CONVGEMM_AUTO_IGEMM_SPLIT_MIN_K_PER_GROUP = 32
};

/* "DIRECT", "IM2COL_GEMM", ... */
const char* convgemm_algo_name(convgemm_algo_t algo);

/* AUTO's choice for `desc` on a device: a pure host function (CPU-tested). */
convgemm_algo_t convgemm_select_algorithm(const struct convgemm_conv_desc* desc,
                                          const convgemm_device_info_t* info);

/* Whether `algo` (not AUTO) can run `desc` on the device: SUCCESS or NOT_SUPPORTED with reason. */
convgemm_status_t convgemm_algorithm_supports(const struct convgemm_conv_desc* desc,
                                              const convgemm_device_info_t* info,
                                              convgemm_algo_t algo);

/* Checks handle, desc and algo, resolves AUTO into *resolved and checks that it supports desc:
 * the common front of the queries and of forward. */
convgemm_status_t convgemm_resolve_algorithm(convgemm_handle_t handle, convgemm_conv_desc_t desc,
                                             convgemm_algo_t algo, convgemm_algo_t* resolved);

/* Workspace bounds of a resolved (supported) algorithm. */
convgemm_status_t convgemm_workspace_bytes(const struct convgemm_conv_desc* desc,
                                           const convgemm_device_info_t* info,
                                           convgemm_algo_t resolved, size_t* min_bytes,
                                           size_t* preferred_bytes);

#ifdef __cplusplus
}
#endif

#endif /* CONVGEMM_INTERNAL_H_ */
