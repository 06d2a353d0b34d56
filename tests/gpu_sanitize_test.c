/*
 * Every kernel the library has, on a handful of tiny convolutions, for compute-sanitizer's
 * racecheck, initcheck and synccheck (tools/sanitize_device.sh): the full suites take minutes under
 * those tools (racecheck over gpu_direct_test alone > 70 s on reduced shapes), this one is meant
 * to take seconds. What runs, each case against the float64 reference within the bounds of
 * conv_compare.h, and twice (the second call's bits must equal the first's; for IM2COL_GEMM the
 * second call replays its cached CUDA graph):
 *   DIRECT         each tile kind the plan chooses, asserted: K64, K16 (groups, stride 2), K1
 *                  (dilation), DEPTHWISE (C/G = 1; channel multiplier at stride 1, stride 2),
 *                  ROW_STRIP (the stem's register window and the general path), and
 *                  GENERIC (stride 40: no halo fits in shared memory); partial tiles, padding,
 *                  channel chunks; both math modes
 *   IM2COL_GEMM    minimum workspace with bias (pixel chunks of an image, whole images, groups),
 *                  and two buffers (chunks alternating on the handle's two streams); both math
 *                  modes; AUTO's IM2COL_GEMM case runs with the preferred workspace
 *   IMPLICIT_GEMM  partial pixel and channel tiles, channel chunks, bias; groups with stride
 *                  and dilation 2 along H; each with the device's kernel (wgmma on sm_90) and
 *                  the mma.sync kernel; stride 2 along W (mma.sync everywhere); the wgmma
 *                  kernel's carry epilogue on 3 and 4 blocks (whole rows of tiles per block,
 *                  then ranges that cross rows, groups) and its tap pairs (K/G <= 64;
 *                  dilation_w 3, 4; groups)
 *   AUTO           one case each resolving to DIRECT, IM2COL_GEMM and IMPLICIT_GEMM
 *   16-bit data    every case again in float16 and in bfloat16 (the 16-bit kernels: DIRECT's
 *                  tiles, depthwise and GENERIC, im2col, the filter packing and the 16-bit GEMMs,
 *                  IMPLICIT_GEMM's 16-bit mma.sync and TMA kernels where they take the case, the
 *                  TMA kernel's stmatrix epilogue asserted), against the 16-bit bound of
 *                  conv_compare.h
 * plus handles created, used (IM2COL_GEMM's graph and cuBLASLt plans, IMPLICIT_GEMM) and
 * destroyed repeatedly, for memcheck's leak report (--leak-check full).
 *
 * y is NaN-poisoned before each call (an output left unwritten fails the comparison); the
 * workspace is freshly allocated and deliberately not written by the test, so initcheck sees any
 * read of workspace bytes the library did not write first.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <cuda_runtime_api.h>

#include "conv/convgemm.h"
#include "conv/direct_conv2d_plan.h"
#include "conv/im2col_gemm_plan.h"
#include "conv/implicit_gemm_plan.h"
#include "conv/internal.h"
#include "tests/check_main.h"
#include "tests/conv2d_reference.h"
#include "tests/conv_compare.h"
#include "tests/direct_cases.h"
#include "tests/elem_type_host.h"
#include "tests/test_assert.h"
#include "tests/test_random.h"

enum { kDefault = 1, kIeee = 2, kBoth = 3 };
enum { kAnyTile = -1 };
enum { kHandleCycles = 5 };

/* Workspace given to forward. */
typedef enum workspace_kind {
  WS_PREFERRED = 0,
  WS_MIN = 1,
  WS_TWO_BUFFERS = 2 /* IM2COL_GEMM: one image per chunk, chunks alternating on two streams */
} workspace_kind_t;

typedef struct sanitize_case {
  const char* name;
  int64_t n, c, h, w, k, r, s, pad_h, pad_w, stride_h, stride_w, dil_h, dil_w, groups;
  int has_bias;
  convgemm_algo_t algo;
  int modes;         /* kDefault | kIeee */
  int direct_tile;   /* DIRECT: the convgemm_direct_tile_t the plan must choose; else kAnyTile */
  int no_wgmma;      /* IMPLICIT_GEMM: 1 keeps it on the mma.sync kernel */
  workspace_kind_t workspace;
  int sm_count;      /* IMPLICIT_GEMM: the SM count its plan sees (its persistent blocks), so a
                        tiny case gives each block several tiles; 0: the device's */
} sanitize_case_t;

#define D CONVGEMM_ALGO_DIRECT
#define G CONVGEMM_ALGO_IM2COL_GEMM
#define I CONVGEMM_ALGO_IMPLICIT_GEMM
#define A CONVGEMM_ALGO_AUTO

/* Tiny on purpose: every launch is a few blocks (the tools' cost grows with the threads run).
 *  name                                     n   c   h    w   k  r  s ph pw sh  sw dh dw  g  b algo modes tile / no_wgmma / workspace / sm_count */
static const sanitize_case_t kCases[] = {
    /* DIRECT: K/G 50 -> K64 (one partial 64-channel tile), 10 channels -> chunks 8 + 2,
     * P = 10 over 8-row tiles, Q = 35 over 32-column tiles. */
    {"DIRECT K64, partial tiles",             1, 10, 10,  35, 50, 3, 3, 1, 1, 1,  1, 1, 1, 1, 1, D, kBoth, CONVGEMM_DIRECT_TILE_K64, 0, WS_PREFERRED, 0},
    /* K/G 10 -> K16; 2 groups of 6 channels; stride 2: P 6, Q 17. */
    {"DIRECT K16, groups 2, stride 2",        2, 12, 11,  33, 20, 3, 3, 1, 1, 2,  2, 1, 1, 2, 0, D, kBoth, CONVGEMM_DIRECT_TILE_K16, 0, WS_PREFERRED, 0},
    /* K/G 3 -> K1; dilation 2; 9 channels -> chunks 8 + 1; Q 40 over 32-column tiles. */
    {"DIRECT K1, dilation 2",                 1,  9, 13,  40,  3, 3, 3, 2, 2, 1,  1, 2, 2, 1, 1, D, kBoth, CONVGEMM_DIRECT_TILE_K1, 0, WS_PREFERRED, 0},
    /* C/G = 1: the depthwise kernel, channel multiplier 2, unit-stride variant. */
    {"DIRECT depthwise, multiplier 2",        1,  4, 20,  40,  8, 3, 3, 1, 1, 1,  1, 1, 1, 4, 1, D, kDefault, CONVGEMM_DIRECT_DEPTHWISE, 0, WS_PREFERRED, 0},
    /* The strided depthwise variant, partial 32 x 128 tile. */
    {"DIRECT depthwise, stride 2",            1,  3, 17,  45,  3, 3, 3, 1, 1, 2,  2, 1, 1, 3, 0, D, kIeee, CONVGEMM_DIRECT_DEPTHWISE, 0, WS_PREFERRED, 0},
    /* ROW_STRIP: the stem's register-window path (stride_w 4, S 11, C 3, K 96; P 6, Q 11: one
     * partial strip) and the general path (5x5 stride 1, C 4, K 80 of a 96-channel tile). */
    {"DIRECT ROW_STRIP, stem window",         1,  3, 30,  47, 96,11,11, 2, 2, 4,  4, 1, 1, 1, 1, D, kBoth, CONVGEMM_DIRECT_ROW_STRIP, 0, WS_PREFERRED, 0},
    {"DIRECT ROW_STRIP, general path",        1,  4, 12,  20, 80, 5, 5, 2, 2, 1,  1, 1, 1, 1, 0, D, kBoth, CONVGEMM_DIRECT_ROW_STRIP, 0, WS_PREFERRED, 0},
    /* Stride 40 along W: one channel's halo exceeds shared memory -> GENERIC. */
    {"DIRECT GENERIC, stride 40",             1,  2,  8, 200,  4, 1, 3, 0, 0, 1, 40, 1, 1, 1, 1, D, kBoth, CONVGEMM_DIRECT_GENERIC, 0, WS_PREFERRED, 0},
    /* IM2COL_GEMM, minimum workspace: P*Q 133 -> 128-pixel chunks, the second one partial. */
    {"IM2COL_GEMM min workspace, bias",       2,  6,  7,  19, 20, 3, 3, 1, 1, 1,  1, 1, 1, 1, 1, G, kBoth, kAnyTile, 0, WS_MIN, 0},
    /* Groups 2, stride 2: P*Q 30 -> whole images, one per chunk at the minimum. */
    {"IM2COL_GEMM min workspace, groups 2",   1,  8, 10,  12, 12, 3, 3, 1, 1, 2,  2, 1, 1, 2, 1, G, kBoth, kAnyTile, 0, WS_MIN, 0},
    /* Two buffers of one image each: three chunks alternating on the handle's two streams. */
    {"IM2COL_GEMM two buffers, 3 chunks",     3,  4,  6,   6,  8, 3, 3, 1, 1, 1,  1, 1, 1, 1, 0, G, kBoth, kAnyTile, 0, WS_TWO_BUFFERS, 0},
    /* IMPLICIT_GEMM: Q 70 = 64 + 6, K 40 of a 128-channel tile, channels 8 + 4, bias. */
    {"IMPLICIT_GEMM partial tiles, bias",     1, 12,  5,  70, 40, 3, 3, 1, 1, 1,  1, 1, 1, 1, 1, I, kDefault, kAnyTile, 0, WS_PREFERRED, 0},
    {"IMPLICIT_GEMM partial tiles, mma.sync", 1, 12,  5,  70, 40, 3, 3, 1, 1, 1,  1, 1, 1, 1, 1, I, kDefault, kAnyTile, 1, WS_PREFERRED, 0},
    /* Groups 3 (C/G 3, K/G 8), stride and dilation 2 along H only (wgmma needs unit steps
     * along W). */
    {"IMPLICIT_GEMM groups 3, steps 2 in H",  1,  9,  9,  67, 24, 3, 3, 2, 1, 2,  1, 2, 1, 3, 0, I, kDefault, kAnyTile, 0, WS_PREFERRED, 0},
    {"IMPLICIT_GEMM groups 3, mma.sync",      1,  9,  9,  67, 24, 3, 3, 2, 1, 2,  1, 2, 1, 3, 0, I, kDefault, kAnyTile, 1, WS_PREFERRED, 0},
    /* Stride 2 along W too: the mma.sync kernel on every device. */
    {"IMPLICIT_GEMM groups 3, stride 2",      1,  9,  9,  67, 24, 3, 3, 1, 1, 2,  2, 1, 1, 3, 0, I, kDefault, kAnyTile, 0, WS_PREFERRED, 0},
    /* The wgmma kernel's TMA path (W >= the 72-float box, C/G >= 8): padding, bias, channels
     * 8 + 4; and a 5x7 filter in one-filter-row stages. */
    {"IMPLICIT_GEMM TMA window, bias",        1, 12,  9,  72, 40, 3, 3, 1, 1, 1,  1, 1, 1, 1, 1, I, kDefault, kAnyTile, 0, WS_PREFERRED, 0},
    {"IMPLICIT_GEMM TMA 5x7, row stages",     1,  8,  9,  72, 16, 5, 7, 0, 0, 1,  1, 1, 1, 1, 0, I, kDefault, kAnyTile, 0, WS_PREFERRED, 0},
    /* Tap pairs (K/G <= 64): filter taps (r, 2j) and (r, 2j + 1) in one wgmma, tiles 60 columns
     * apart. 2x5 (a lone last tap) with dilation_w 3 and padding, P 13, Q 92 (tiles of 60 and
     * 32 columns), bias; 2x4 with dilation_w 4 (the largest), K 64, C 16 (two chunks). */
    {"IMPLICIT_GEMM tap pairs, dilation_w 3",   1,  8, 12, 100, 40, 2, 5, 1, 2, 1,  1, 1, 3, 1, 1, I, kDefault, kAnyTile, 0, WS_PREFERRED, 0},
    {"IMPLICIT_GEMM tap pairs, dilation_w 4",   1, 16,  9, 136, 64, 2, 4, 0, 1, 1,  1, 1, 4, 1, 0, I, kDefault, kAnyTile, 0, WS_PREFERRED, 0},
    /* Tap pairs in groups (2 of C/G 16, K/G 32: the second group's bias and filter). */
    {"IMPLICIT_GEMM tap pairs, groups 2",       1, 32, 13, 100, 64, 3, 3, 1, 1, 1,  1, 1, 1, 2, 1, I, kDefault, kAnyTile, 0, WS_PREFERRED, 0},
    /* The carry epilogue (Q 130 and 132: rows off 32-byte sectors, 3 q tiles; K/G > 64; 9 or
     * 18 k steps). 3 blocks take one row of q tiles each (K 72 of a 128-channel tile, bias); 4
     * blocks over 18 tiles: one full round of rows, then ranges of 2 tiles that cross rows,
     * partial P (9 over 4-row tiles), pad 1. */
    {"IMPLICIT_GEMM carry, a row per block",  1,  8, 14, 132, 72, 3, 3, 0, 0, 1,  1, 1, 1, 1, 1, I, kDefault, kAnyTile, 0, WS_PREFERRED, 3},
    /* 1x3, K 80: stages of 3 taps + the window, too small for 64-channel passes, so the carry's
     * 16-channel passes (4 rows per warp). */
    {"IMPLICIT_GEMM carry, 16-channel passes", 1,  8, 12, 132, 80, 1, 3, 0, 0, 1,  1, 1, 1, 1, 1, I, kDefault, kAnyTile, 0, WS_PREFERRED, 3},
    /* The carry in groups (2 of C/G 8, K/G 80), bias. */
    {"IMPLICIT_GEMM carry, groups 2",          1, 16, 14, 132,160, 3, 3, 0, 0, 1,  1, 1, 1, 2, 1, I, kDefault, kAnyTile, 0, WS_PREFERRED, 3},
    {"IMPLICIT_GEMM carry, tails cross rows", 2, 16,  9, 132,128, 3, 3, 1, 1, 1,  1, 1, 1, 1, 0, I, kDefault, kAnyTile, 0, WS_PREFERRED, 4},
    /* 3xTF32 (IEEE math): one filter row per stage. 3x3, pad 1, bias: 8 stages (even), a
     * 132-pixel window: two producer groups, each transposing its own 4 stages; 2 blocks over 10
     * tiles of 6 iterations, so every stage is refilled several times. 5x7, C 8: 3 stages of 66
     * KB (odd): one group. */
    {"IMPLICIT_GEMM 3xTF32, producer groups", 1, 16,  9,  72, 40, 3, 3, 1, 1, 1,  1, 1, 1, 1, 1, I, kIeee, kAnyTile, 0, WS_PREFERRED, 2},
    {"IMPLICIT_GEMM 3xTF32 5x7, 3 stages",    1,  8,  9,  72, 16, 5, 7, 0, 0, 1,  1, 1, 1, 1, 0, I, kIeee, kAnyTile, 0, WS_PREFERRED, 2},
    /* In float16 / bfloat16 (test_16bit) the 16-bit TMA kernel with its stmatrix epilogue: C/G
     * 16, W 136 (its 80-column box fits), 9 tiles on 2 blocks, so stages are refilled. K 40: the
     * filter resident in shared memory, staging of its own; K 136 (two k tiles): the filter in
     * every stage, which is the staging. */
    {"IMPLICIT_GEMM 16-bit TMA, tiles per block", 1, 16, 9, 136, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, I, kDefault, kAnyTile, 0, WS_PREFERRED, 2},
    {"IMPLICIT_GEMM 16-bit TMA, two k tiles",     1, 16, 9, 136,136, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, I, kDefault, kAnyTile, 0, WS_PREFERRED, 2},
    /* C/G 32 (18 k steps): the resident filter's warpgroups on tiles of their own (ping-pong),
     * 15 two-row tiles on 2 blocks (warpgroup 1 of block 1 has one tile fewer), the last p tile
     * one row (P 9), K 40, bias. */
    {"IMPLICIT_GEMM 16-bit TMA, ping-pong",       1, 32, 9, 136, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, I, kDefault, kAnyTile, 0, WS_PREFERRED, 2},
    /* TF32 products on fp16 tensor cores (C/G 32: two 16-channel chunks, K 96, Q 136 on
     * sector boundaries: no carry), 9 tiles on 2 blocks: the fp16 filter resident, 16-channel
     * fp32 boxes converted, the epilogue unscaling through the tile's last stage. */
    {"IMPLICIT_GEMM fp16 products, tiles per block", 1, 32, 9, 136, 96, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, I, kDefault, kAnyTile, 0, WS_PREFERRED, 2},
    /* AUTO: K/G 8 -> DIRECT; stride 2 past the GEMM thresholds -> IM2COL_GEMM; stride 1,
     * Q >= 64 -> IMPLICIT_GEMM (DEFAULT math). */
    {"AUTO resolving to DIRECT",              1,  8,  9,  20,  8, 3, 3, 1, 1, 1,  1, 1, 1, 1, 1, A, kBoth, kAnyTile, 0, WS_PREFERRED, 0},
    {"AUTO resolving to IM2COL_GEMM",         1,  8, 12,  20, 64, 3, 3, 1, 1, 2,  2, 1, 1, 1, 1, A, kBoth, kAnyTile, 0, WS_PREFERRED, 0},
    {"AUTO resolving to IMPLICIT_GEMM",       1,  8,  4,  66, 32, 3, 3, 1, 1, 1,  1, 1, 1, 1, 0, A, kDefault, kAnyTile, 0, WS_PREFERRED, 0},
};

#undef D
#undef G
#undef I
#undef A

enum { kCaseCount = (int)(sizeof kCases / sizeof kCases[0]) };

static struct {
  convgemm_handle_t handle;
  cudaStream_t stream;
} g;

static void setup(void) {
  CK_CONVGEMM(convgemm_create(&g.handle));
  CK_CUDA(cudaStreamCreateWithFlags(&g.stream, cudaStreamNonBlocking));
}

static void teardown(void) {
  CK_CUDA(cudaStreamDestroy(g.stream));
  CK_CONVGEMM(convgemm_destroy(g.handle));
}

static void case_params_typed(const sanitize_case_t* sc, convgemm_math_mode_t mode,
                              convgemm_data_type_t type, convgemm_conv2d_params_t* p) {
  convgemm_conv2d_params_init(p, sc->n, sc->c, sc->h, sc->w, sc->k, sc->r, sc->s);
  p->pad_h = sc->pad_h;
  p->pad_w = sc->pad_w;
  p->stride_h = sc->stride_h;
  p->stride_w = sc->stride_w;
  p->dilation_h = sc->dil_h;
  p->dilation_w = sc->dil_w;
  p->groups = sc->groups;
  p->has_bias = sc->has_bias;
  p->math_mode = mode;
  p->data_type = type;
}

static void case_params(const sanitize_case_t* sc, convgemm_math_mode_t mode,
                        convgemm_conv2d_params_t* p) {
  case_params_typed(sc, mode, CONVGEMM_DATA_FLOAT32, p);
}

/* Host inputs and the reference of one case in one math mode (and data type: the inputs are
 * values of it, y holds raw elements of it). */
typedef struct host_problem {
  convgemm_conv2d_params_t params;
  int64_t x_elems, w_elems, y_elems, n_terms;
  size_t elem;
  float *x, *w, *bias, *y_values;
  unsigned char *y, *y_again;
  double *ref, *abs_sum;
} host_problem_t;

static void* checked_malloc(size_t bytes) {
  void* p = malloc(bytes > 0 ? bytes : 1);
  ck_assert(p != NULL);
  return p;
}

static void host_problem_init(host_problem_t* hp, const convgemm_conv2d_params_t* p,
                              uint64_t seed) {
  hp->params = *p;
  hp->x_elems = p->n * p->c * p->h * p->w;
  hp->w_elems = p->k * (p->c / p->groups) * p->r * p->s;
  hp->y_elems = conv2d_reference_y_elems(p);
  hp->n_terms = conv_compare_terms(p->c / p->groups, p->r, p->s);
  hp->elem = test_elem_bytes(p->data_type);
  hp->x = checked_malloc((size_t)hp->x_elems * sizeof(float));
  hp->w = checked_malloc((size_t)hp->w_elems * sizeof(float));
  hp->bias = p->has_bias ? checked_malloc((size_t)p->k * sizeof(float)) : NULL;
  hp->y = checked_malloc((size_t)hp->y_elems * hp->elem);
  hp->y_again = checked_malloc((size_t)hp->y_elems * hp->elem);
  hp->y_values = checked_malloc((size_t)hp->y_elems * sizeof(float));
  hp->ref = checked_malloc((size_t)hp->y_elems * sizeof(double));
  hp->abs_sum = checked_malloc((size_t)hp->y_elems * sizeof(double));
  test_rng_t rng;
  test_rng_seed(&rng, seed);
  test_fill_conv_inputs(&rng, p, hp->x, hp->w, hp->bias);
  test_round_array_to_type(hp->x, hp->x_elems, p->data_type);
  test_round_array_to_type(hp->w, hp->w_elems, p->data_type);
  if (hp->bias != NULL) test_round_array_to_type(hp->bias, p->k, p->data_type);
  conv2d_reference(p, hp->x, hp->w, hp->bias, conv2d_reference_operands_for(p), hp->ref,
                   hp->abs_sum);
}

static void host_problem_free(host_problem_t* hp) {
  free(hp->x);
  free(hp->w);
  free(hp->bias);
  free(hp->y);
  free(hp->y_again);
  free(hp->y_values);
  free(hp->ref);
  free(hp->abs_sum);
}

/* The device copies, elements of the problem's data type. */
typedef struct device_problem {
  void *x, *w, *bias, *y;
  size_t elem;
  void* ws;
  size_t ws_bytes;
} device_problem_t;

/* count floats encoded as `type` at a new device allocation *dst. */
static void upload(void** dst, const float* src, int64_t count, convgemm_data_type_t type) {
  const size_t bytes = (size_t)count * test_elem_bytes(type);
  void* encoded = checked_malloc(bytes);
  test_encode(src, count, type, encoded);
  CK_CUDA(cudaMalloc(dst, bytes));
  CK_CUDA(cudaMemcpy(*dst, encoded, bytes, cudaMemcpyHostToDevice));
  free(encoded);
}

static void device_problem_init(device_problem_t* dp, const host_problem_t* hp) {
  memset(dp, 0, sizeof *dp);
  const convgemm_data_type_t type = hp->params.data_type;
  dp->elem = hp->elem;
  upload(&dp->x, hp->x, hp->x_elems, type);
  upload(&dp->w, hp->w, hp->w_elems, type);
  CK_CUDA(cudaMalloc(&dp->y, (size_t)hp->y_elems * hp->elem));
  if (hp->bias != NULL) upload(&dp->bias, hp->bias, hp->params.k, type);
}

static void device_problem_free(device_problem_t* dp) {
  CK_CUDA(cudaFree(dp->x));
  CK_CUDA(cudaFree(dp->w));
  CK_CUDA(cudaFree(dp->bias));
  CK_CUDA(cudaFree(dp->y));
  CK_CUDA(cudaFree(dp->ws));
}

/* One forward into a NaN-poisoned y, copied (raw elements) to `out`. */
static void forward_once(convgemm_handle_t handle, cudaStream_t stream, convgemm_conv_desc_t desc,
                         convgemm_algo_t algo, const device_problem_t* dp, int64_t y_elems,
                         void* out, const char* ctx) {
  CK_CUDA(cudaMemsetAsync(dp->y, 0xFF, (size_t)y_elems * dp->elem, stream));
  const convgemm_status_t s = convgemm_forward(handle, desc, algo, dp->x, dp->w, dp->bias, dp->y,
                                               dp->ws, dp->ws_bytes, stream);
  ck_assert_msg(s == CONVGEMM_STATUS_SUCCESS, "%s: forward returned %s: %s", ctx,
                convgemm_status_string(s), convgemm_get_last_error());
  CK_CUDA(cudaMemcpyAsync(out, dp->y, (size_t)y_elems * dp->elem, cudaMemcpyDeviceToHost,
                          stream));
  CK_CUDA(cudaStreamSynchronize(stream));
}

/* y against the reference; the bound widened for IM2COL_GEMM's split bias (conv_compare.h). */
static void check_result(host_problem_t* hp, convgemm_algo_t ran, const char* ctx) {
  const convgemm_conv2d_params_t* p = &hp->params;
  double l2_extra = 0.0;
  if (ran == CONVGEMM_ALGO_IM2COL_GEMM && p->has_bias &&
      conv2d_reference_operands_for(p) == CONV2D_REFERENCE_TF32)
    l2_extra = conv_compare_widen_for_split_bias(hp->bias, p->n, p->k, hp->y_elems / (p->n * p->k),
                                                 hp->n_terms, hp->ref, hp->abs_sum);
  test_decode(hp->y, hp->y_elems, p->data_type, hp->y_values);
  conv_compare_result_t r;
  conv_compare_typed(hp->y_values, hp->ref, hp->abs_sum, hp->y_elems, hp->n_terms, p->data_type,
                     &r);
  r.rel_l2_limit += l2_extra;
  char summary[512];
  conv_compare_describe(&r, summary, sizeof summary);
  ck_assert_msg(conv_compare_passed(&r), "%s (ran %s): %s", ctx, convgemm_algo_name(ran),
                summary);
}

static void run_case_typed(const sanitize_case_t* sc, convgemm_math_mode_t mode,
                           convgemm_data_type_t type) {
  convgemm_conv2d_params_t p;
  case_params_typed(sc, mode, type, &p);
  char ctx[400], shape[256];
  direct_case_describe(&p, shape, sizeof shape);
  snprintf(ctx, sizeof ctx, "%s [%s]", sc->name, shape);
  convgemm_conv_desc_t desc = NULL;
  CK_CONVGEMM(convgemm_conv_desc_create(&desc, &p));
  g.handle->info.no_wgmma = sc->no_wgmma;
  const int sm_count = g.handle->info.sm_count;
  if (sc->sm_count > 0) g.handle->info.sm_count = sc->sm_count;

  convgemm_algo_t ran = sc->algo;
  if (sc->algo == CONVGEMM_ALGO_AUTO) CK_CONVGEMM(convgemm_get_algorithm(g.handle, desc, &ran));
  if (sc->direct_tile != kAnyTile) {
    convgemm_direct_plan_t plan;
    convgemm_direct_make_plan(desc, g.handle->info.max_smem_per_block, &plan);
    ck_assert_msg((int)plan.tile == sc->direct_tile, "%s: the plan chose tile %d, want %d", ctx,
                  (int)plan.tile, sc->direct_tile);
  }
  host_problem_t hp;
  host_problem_init(&hp, &p,
                    0x5A417 + (uint64_t)(sc - kCases) * 2 + (uint64_t)mode + 100 * (uint64_t)type);
  device_problem_t dp;
  device_problem_init(&dp, &hp);
  size_t min_bytes = 0, preferred_bytes = 0;
  CK_CONVGEMM(convgemm_get_workspace_size(g.handle, desc, sc->algo, &min_bytes,
                                          &preferred_bytes));
  dp.ws_bytes = sc->workspace == WS_MIN ? min_bytes : preferred_bytes;
  if (sc->workspace == WS_TWO_BUFFERS) {
    convgemm_im2col_gemm_plan_t plan;
    convgemm_im2col_gemm_plan_for_chunk(desc, (desc->p * desc->q + 3) / 4 * 4, 2, &plan);
    ck_assert_msg(plan.buffers == 2 && plan.chunks >= 3 && plan.images_per_chunk == 1,
                  "%s: %d buffers, %lld chunks of %lld images", ctx, plan.buffers,
                  (long long)plan.chunks, (long long)plan.images_per_chunk);
    dp.ws_bytes = plan.workspace_bytes;
  }
  if (dp.ws_bytes > 0) CK_CUDA(cudaMalloc(&dp.ws, dp.ws_bytes)); /* not written: see the top */

  forward_once(g.handle, g.stream, desc, sc->algo, &dp, hp.y_elems, hp.y, ctx);
  check_result(&hp, ran, ctx);
  forward_once(g.handle, g.stream, desc, sc->algo, &dp, hp.y_elems, hp.y_again, ctx);
  ck_assert_msg(memcmp(hp.y, hp.y_again, (size_t)hp.y_elems * hp.elem) == 0,
                "%s: a repeated call gave other bits", ctx);

  g.handle->info.no_wgmma = 0;
  g.handle->info.sm_count = sm_count;
  device_problem_free(&dp);
  host_problem_free(&hp);
  convgemm_conv_desc_destroy(desc);
}

static void run_case(const sanitize_case_t* sc, convgemm_math_mode_t mode) {
  run_case_typed(sc, mode, CONVGEMM_DATA_FLOAT32);
}

START_TEST(test_default_math) {
  if (kCases[_i].modes & kDefault) run_case(&kCases[_i], CONVGEMM_MATH_DEFAULT);
}
END_TEST

START_TEST(test_ieee_math) {
  if (kCases[_i].modes & kIeee) run_case(&kCases[_i], CONVGEMM_MATH_IEEE);
}
END_TEST

/* Loop index 2i + t: case i in float16 (t = 0) or bfloat16 (t = 1), DEFAULT math (IEEE computes
 * the same for 16-bit data). IMPLICIT_GEMM's cases run where its 16-bit kernels take them (the
 * TMA kernel needs C/G >= 16 and W a multiple of 8; mma.sync takes the rest but stride_w 2). */
START_TEST(test_16bit) {
  const sanitize_case_t* sc = &kCases[_i / 2];
  const convgemm_data_type_t type = _i % 2 == 0 ? CONVGEMM_DATA_FLOAT16 : CONVGEMM_DATA_BFLOAT16;
  if (sc->algo == CONVGEMM_ALGO_IMPLICIT_GEMM) {
    convgemm_conv2d_params_t p;
    case_params_typed(sc, CONVGEMM_MATH_DEFAULT, type, &p);
    convgemm_conv_desc_t desc = NULL;
    CK_CONVGEMM(convgemm_conv_desc_create(&desc, &p));
    g.handle->info.no_wgmma = sc->no_wgmma;
    const convgemm_status_t st = convgemm_check_algorithm(g.handle, desc, sc->algo);
    g.handle->info.no_wgmma = 0;
    convgemm_conv_desc_destroy(desc);
    if (st == CONVGEMM_STATUS_NOT_SUPPORTED) return;
    ck_assert_msg(st == CONVGEMM_STATUS_SUCCESS, "%s: check_algorithm: %s", sc->name,
                  convgemm_status_string(st));
  }
  run_case_typed(sc, CONVGEMM_MATH_DEFAULT, type);
}
END_TEST

/* AUTO's three cases reach the three algorithms (on this device). */
START_TEST(test_auto_cases_reach_every_algorithm) {
  int seen[3] = {0, 0, 0};
  for (int i = 0; i < kCaseCount; ++i) {
    if (kCases[i].algo != CONVGEMM_ALGO_AUTO) continue;
    convgemm_conv2d_params_t p;
    case_params(&kCases[i], CONVGEMM_MATH_DEFAULT, &p);
    convgemm_conv_desc_t desc = NULL;
    CK_CONVGEMM(convgemm_conv_desc_create(&desc, &p));
    convgemm_algo_t ran;
    CK_CONVGEMM(convgemm_get_algorithm(g.handle, desc, &ran));
    ck_assert_int_lt((int)ran, 3);
    ++seen[ran];
    convgemm_conv_desc_destroy(desc);
  }
  ck_assert_msg(seen[0] > 0 && seen[1] > 0 && seen[2] > 0,
                "AUTO resolved to DIRECT %d, IM2COL_GEMM %d, IMPLICIT_GEMM %d times", seen[0],
                seen[1], seen[2]);
}
END_TEST

/* On an sm_90 device the IMPLICIT_GEMM cases reach both kernels (wgmma by default, mma.sync when
 * asked), the wgmma kernel's TMA path, its one-filter-row stages, its carry epilogue, its tap
 * pairs, 3xTF32 with one and with two producer groups and fp16 products (blocks with several
 * tiles); elsewhere only mma.sync. */
START_TEST(test_implicit_cases_reach_both_kernels) {
  int seen[2] = {0, 0}, tma = 0, row_stages = 0, carry = 0, carry_small = 0, pairs = 0, f16 = 0;
  int split_groups[3] = {0, 0, 0};
  for (int i = 0; i < kCaseCount; ++i) {
    if (kCases[i].algo != CONVGEMM_ALGO_IMPLICIT_GEMM) continue;
    convgemm_conv2d_params_t p;
    case_params(&kCases[i], (kCases[i].modes & kIeee) ? CONVGEMM_MATH_IEEE : CONVGEMM_MATH_DEFAULT,
                &p);
    convgemm_conv_desc_t desc = NULL;
    CK_CONVGEMM(convgemm_conv_desc_create(&desc, &p));
    convgemm_device_info_t info = g.handle->info;
    info.no_wgmma = kCases[i].no_wgmma;
    if (kCases[i].sm_count > 0) info.sm_count = kCases[i].sm_count;
    convgemm_igemm_plan_t plan;
    convgemm_igemm_make_plan(desc, &info, &plan);
    ++seen[plan.variant == CONVGEMM_IGEMM_WGMMA];
    tma += plan.variant == CONVGEMM_IGEMM_WGMMA && plan.tma;
    row_stages += plan.variant == CONVGEMM_IGEMM_WGMMA && plan.stage_rows < p.r;
    carry += plan.carry && plan.tiles > plan.blocks;
    /* The carry epilogue's 64-channel passes need 2 x 64 x 76 floats of the stage. */
    carry_small += plan.carry && plan.x_stage_floats + plan.w_stage_floats < 2 * 64 * 76;
    pairs += plan.tap_pairs;
    f16 += plan.f16_products && plan.tiles > plan.blocks;
    if (plan.split && plan.tiles > plan.blocks) ++split_groups[plan.producer_groups == 2 ? 2 : 1];
    convgemm_conv_desc_destroy(desc);
  }
  const int sm90 = g.handle->info.cc_major == 9 && g.handle->info.cc_minor == 0;
  ck_assert_msg(
      !sm90 || (tma >= 2 && row_stages >= 1 && carry >= 4 && carry_small >= 1 && pairs >= 5 &&
                split_groups[1] >= 1 && split_groups[2] >= 1 && f16 >= 1),
      "sm_90: %d TMA cases, %d row-stage cases, %d carry cases (%d with 16-channel passes), %d "
      "tap-pairs cases, 3xTF32 cases with one / two producer groups %d / %d, %d fp16-products "
      "cases",
      tma, row_stages, carry, carry_small, pairs, split_groups[1], split_groups[2], f16);
  ck_assert_msg(seen[0] > 0 && (seen[1] > 0) == sm90,
                "cc %d.%d: mma.sync %d cases, wgmma %d cases", g.handle->info.cc_major,
                g.handle->info.cc_minor, seen[0], seen[1]);
}
END_TEST

/* On an sm_90 device test_16bit reaches the 16-bit TMA kernel with the epilogue that stages
 * rows as 16-bit values (stmatrix), on a block that takes several tiles, every way: in stages of
 * at least 128 x 72 floats (the filter in every stage, as the launch decides) and in the
 * resident filter's own staging, with shared tiles and with ping-pong. */
START_TEST(test_16bit_implicit_cases_reach_the_staged_kernel) {
  int staged = 0, resident = 0, ping_pong = 0;
  for (int i = 0; i < kCaseCount; ++i) {
    if (kCases[i].algo != CONVGEMM_ALGO_IMPLICIT_GEMM || kCases[i].no_wgmma) continue;
    convgemm_conv2d_params_t p;
    case_params_typed(&kCases[i], CONVGEMM_MATH_DEFAULT, CONVGEMM_DATA_BFLOAT16, &p);
    convgemm_conv_desc_t desc = NULL;
    CK_CONVGEMM(convgemm_conv_desc_create(&desc, &p));
    convgemm_device_info_t info = g.handle->info;
    if (kCases[i].sm_count > 0) info.sm_count = kCases[i].sm_count;
    convgemm_igemm_plan_t plan;
    convgemm_igemm_make_plan(desc, &info, &plan);
    const int several = plan.variant == CONVGEMM_IGEMM_WGMMA && plan.tma && plan.tiles > plan.blocks;
    staged += several && !plan.resident_filter &&
              plan.x_stage_floats + plan.w_stage_floats >= 128 * 72;
    resident += several && plan.resident_filter && !plan.ping_pong;
    ping_pong += several && plan.ping_pong;
    convgemm_conv_desc_destroy(desc);
  }
  const int sm90 = g.handle->info.cc_major == 9 && g.handle->info.cc_minor == 0;
  ck_assert_msg(!sm90 || (staged >= 1 && resident >= 1 && ping_pong >= 1),
                "sm_90: %d 16-bit TMA cases staged in a stage, %d with the resident filter and "
                "shared tiles, %d with ping-pong",
                staged, resident, ping_pong);
}
END_TEST

/* Handles created, used by the algorithms that keep state in them (IM2COL_GEMM's graphs and
 * cuBLASLt plans, IMPLICIT_GEMM) and destroyed, over and over: memcheck --leak-check full
 * reports whatever a destroyed handle leaves allocated. The last cycle's results are checked. */
START_TEST(test_handles_created_and_destroyed_repeatedly) {
  convgemm_conv2d_params_t p;
  case_params(&kCases[kCaseCount - 1], CONVGEMM_MATH_DEFAULT, &p); /* AUTO -> IMPLICIT_GEMM */
  convgemm_conv_desc_t desc = NULL;
  CK_CONVGEMM(convgemm_conv_desc_create(&desc, &p));
  host_problem_t hp;
  host_problem_init(&hp, &p, 0xC7C1E);
  device_problem_t dp;
  device_problem_init(&dp, &hp);
  const convgemm_algo_t algos[2] = {CONVGEMM_ALGO_IM2COL_GEMM, CONVGEMM_ALGO_IMPLICIT_GEMM};
  for (int a = 0; a < 2; ++a) {
    size_t preferred = 0;
    CK_CONVGEMM(convgemm_get_workspace_size(g.handle, desc, algos[a], NULL, &preferred));
    if (preferred > dp.ws_bytes) dp.ws_bytes = preferred;
  }
  CK_CUDA(cudaMalloc(&dp.ws, dp.ws_bytes));
  for (int cycle = 0; cycle < kHandleCycles; ++cycle) {
    convgemm_handle_t h = NULL;
    CK_CONVGEMM(convgemm_create(&h));
    for (int a = 0; a < 2; ++a) {
      forward_once(h, g.stream, desc, algos[a], &dp, hp.y_elems, hp.y, "handle cycle");
      if (cycle == kHandleCycles - 1) check_result(&hp, algos[a], "the last handle cycle");
    }
    CK_CONVGEMM(convgemm_destroy(h));
    /* And one never used. */
    CK_CONVGEMM(convgemm_create(&h));
    CK_CONVGEMM(convgemm_destroy(h));
  }
  device_problem_free(&dp);
  host_problem_free(&hp);
  convgemm_conv_desc_destroy(desc);
}
END_TEST

static Suite* sanitize_suite(void) {
  Suite* s = suite_create("gpu_sanitize");
  TCase* tc = tcase_create("every_kernel");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_auto_cases_reach_every_algorithm);
  tcase_add_test(tc, test_implicit_cases_reach_both_kernels);
  tcase_add_test(tc, test_16bit_implicit_cases_reach_the_staged_kernel);
  tcase_add_loop_test(tc, test_default_math, 0, kCaseCount);
  tcase_add_loop_test(tc, test_ieee_math, 0, kCaseCount);
  tcase_add_loop_test(tc, test_16bit, 0, 2 * kCaseCount);
  tcase_add_test(tc, test_handles_created_and_destroyed_repeatedly);
  suite_add_tcase(s, tc);
  return s;
}

/* CK_NOFORK: CUDA and fork() don't mix (and compute-sanitizer follows one process). */
int main(void) { return check_main_run(sanitize_suite(), CK_NOFORK); }
