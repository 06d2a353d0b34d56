/*
 * convgemm: 2-D convolution forward on NVIDIA GPUs, lowered to GEMM.
 *
 * Tensors are NCHW and contiguous, all of the descriptor's data type (float32, float16 or
 * bfloat16; see convgemm_data_type_t):
 *   x    (N, C, H, W)         input
 *   w    (K, C/G, R, S)       filter, G = groups
 *   bias (K)                  optional
 *   y    (N, K, P, Q)         output, P = (H + 2*pad_h - dilation_h*(R-1) - 1) / stride_h + 1,
 *                                     Q = (W + 2*pad_w - dilation_w*(S-1) - 1) / stride_w + 1
 * This is PyTorch's nn.Conv2d forward (cross-correlation, zero padding).
 *
 * Usage:
 *   convgemm_handle_t h;            convgemm_create(&h);
 *   convgemm_conv2d_params_t p;     convgemm_conv2d_params_init(&p, 8, 64, 512, 1024, 128, 3, 3);
 *   convgemm_conv_desc_t d;         convgemm_conv_desc_create(&d, &p);
 *   size_t ws_min, ws_pref;         convgemm_get_workspace_size(h, d, CONVGEMM_ALGO_AUTO,
 *                                                               &ws_min, &ws_pref);
 *   convgemm_forward(h, d, CONVGEMM_ALGO_AUTO, x, w, NULL, y, ws, ws_pref, stream);
 *   convgemm_conv_desc_destroy(d);  convgemm_destroy(h);
 *
 * Errors: every function returns a convgemm_status_t. When it is not CONVGEMM_STATUS_SUCCESS,
 * convgemm_get_last_error() returns a message naming what was expected and what came. Invalid
 * arguments are reported before anything is launched. The library never prints, never exits and
 * never synchronizes the device; forward work is queued on the caller's stream.
 * CUDA faults: a failed launch or CUDA call is CONVGEMM_STATUS_CUDA_ERROR with the CUDA error's
 * name in the message. After an error that leaves the context usable (e.g. a launch refused
 * while the caller captures a graph) the handle keeps working. After a sticky fault (an illegal
 * address in any kernel of the process, the caller's included) every later CUDA call, and so
 * every convgemm call, fails with that error: destroy the handle; the process needs a new CUDA
 * context (tests/gpu_fault_test.c checks both). An error the caller left pending in the
 * runtime is not reported as convgemm's (convgemm checks only its own calls' return codes);
 * whether it is still pending afterwards is not promised.
 *
 * Threads: a descriptor is immutable after creation and may be shared by any number of threads.
 * A handle may be used by one thread at a time (give each thread its own handle, as with cuBLAS).
 * Creating and destroying handles is thread-safe and never synchronizes the device, so it does
 * not disturb other threads' work or stream captures. The last-error message is kept per host
 * thread.
 */
#ifndef CONVGEMM_CONVGEMM_H_
#define CONVGEMM_CONVGEMM_H_

#include <stddef.h>
#include <stdint.h>

#include <cuda_runtime_api.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CONVGEMM_VERSION_MAJOR 0
#define CONVGEMM_VERSION_MINOR 2
#define CONVGEMM_VERSION_PATCH 0
/* MAJOR * 10000 + MINOR * 100 + PATCH */
#define CONVGEMM_VERSION \
  (CONVGEMM_VERSION_MAJOR * 10000 + CONVGEMM_VERSION_MINOR * 100 + CONVGEMM_VERSION_PATCH)

/* Alignment in bytes convgemm_forward requires of a workspace pointer (cuBLASLt's). */
#define CONVGEMM_WORKSPACE_ALIGNMENT 256

typedef enum convgemm_status {
  CONVGEMM_STATUS_SUCCESS = 0,
  CONVGEMM_STATUS_NULL_POINTER = 1,        /* a required pointer argument is NULL */
  CONVGEMM_STATUS_BAD_SIZE = 2,            /* N, C, H, W, K, R, S or groups is not positive */
  CONVGEMM_STATUS_BAD_GROUPS = 3,          /* C or K is not divisible by groups */
  CONVGEMM_STATUS_BAD_PADDING = 4,         /* pad_h or pad_w is negative */
  CONVGEMM_STATUS_BAD_STRIDE = 5,          /* stride_h or stride_w is not positive */
  CONVGEMM_STATUS_BAD_DILATION = 6,        /* dilation_h or dilation_w is not positive */
  CONVGEMM_STATUS_FILTER_TOO_LARGE = 7,    /* the dilated filter exceeds the padded input */
  CONVGEMM_STATUS_SIZE_OVERFLOW = 8,       /* a size or product of sizes exceeds the limits */
  CONVGEMM_STATUS_BAD_ENUM = 9,            /* unknown data type, math mode or algorithm */
  CONVGEMM_STATUS_NOT_SUPPORTED = 10,      /* valid, but this algorithm/build/device can't run it */
  CONVGEMM_STATUS_WORKSPACE_TOO_SMALL = 11,/* workspace_bytes below the algorithm's minimum */
  CONVGEMM_STATUS_BAD_POINTER = 12,        /* not device memory, or misaligned */
  CONVGEMM_STATUS_WRONG_DEVICE = 13,       /* pointer or stream belongs to another device */
  CONVGEMM_STATUS_ALLOC_FAILED = 14,       /* host or device memory allocation failed */
  CONVGEMM_STATUS_CUDA_ERROR = 15,         /* a CUDA runtime call or kernel launch failed */
  CONVGEMM_STATUS_CUBLAS_ERROR = 16,       /* a cuBLAS call failed */
  CONVGEMM_STATUS_INTERNAL_ERROR = 17      /* a bug in convgemm; please report it */
} convgemm_status_t;

/* The type of x, w, bias and y (all four the same). 16-bit data is computed as PyTorch and cuDNN
 * compute it (CUDNN_DATA_HALF / CUDNN_DATA_BFLOAT16 with float compute): each product of two
 * 16-bit values is exact in fp32, the products and the bias are accumulated in fp32, and the
 * result is rounded once, to nearest even, to the 16-bit type when it is stored (so an output's
 * error is at most half an ulp of the 16-bit type plus the fp32 accumulation error). Runs on
 * every algorithm (see CONVGEMM_ALGO_IMPLICIT_GEMM for its kernels). Pointer alignment is the
 * element size (forward). */
typedef enum convgemm_data_type {
  CONVGEMM_DATA_FLOAT32 = 0, /* float: 4 bytes */
  CONVGEMM_DATA_FLOAT16 = 1, /* IEEE binary16 (CUDA's __half, torch.float16): 2 bytes */
  CONVGEMM_DATA_BFLOAT16 = 2 /* bfloat16 (CUDA's __nv_bfloat16, torch.bfloat16): 2 bytes */
} convgemm_data_type_t;

/* How float32 data is multiplied. With 16-bit data both modes compute the same numbers (products
 * exact, fp32 accumulation, one rounding at the store): the math mode changes nothing there. */
typedef enum convgemm_math_mode {
  /* float32 data: each operand rounded to TF32 (10-bit mantissa) to nearest, ties away from
   * zero, products accumulated in fp32. This is what cuDNN and PyTorch do by default for float32
   * convolution (torch.backends.cudnn.allow_tf32 = True), and matches them within
   * allclose(1e-4, 1e-4).
   * Exception: with one input channel per group (C/G == 1: depthwise convolutions) DEFAULT math
   * is fp32 like IEEE, because PyTorch computes float32 depthwise convolutions in fp32 whatever
   * allow_tf32 says (its own kernel; cuDNN's default also picks fp32 kernels there).
   * 16-bit data: the 16-bit operands as they are (a 16-bit value is exact in TF32 and fp32),
   * products exact, accumulated in fp32: PyTorch's and cuDNN's default for float16/bfloat16. */
  CONVGEMM_MATH_DEFAULT = 0,
  /* float32 data: fp32-accurate, operands used unrounded (cuDNN's FMA math, allow_tf32 = False).
   * 16-bit data: the same as DEFAULT (fp32 accumulation of exact products; same results). */
  CONVGEMM_MATH_IEEE = 1
} convgemm_math_mode_t;

typedef enum convgemm_algo {
  CONVGEMM_ALGO_DIRECT = 0,        /* tiled direct convolution on CUDA cores (fp32 FMA); any
                                      descriptor, every data type */
  CONVGEMM_ALGO_IM2COL_GEMM = 1,   /* on-the-fly im2col into workspace + cuBLASLt GEMMs per group
                                      (16-bit data: 16-bit GEMMs, fp32 accumulation); every data
                                      type; needs workspace; repeated calls with the same descriptor
                                      and pointers replay a CUDA graph cached in the handle */
  CONVGEMM_ALGO_IMPLICIT_GEMM = 2, /* implicit GEMM on tensor cores (wgmma on sm_90, mma.sync);
                                      float32 data in DEFAULT math with C/G > 1; IEEE math only on
                                      sm_90 (its TMA kernel: x 16-byte aligned) as 3xTF32: each
                                      operand split into two TF32 parts, three tensor-core
                                      products per term, as accurate as fp32 FMA (problem 55:
                                      relative L2 error 5.2e-7 against cuDNN FMA's 4.3e-7; AUTO
                                      takes it where C/G >= 16 and K/G >= 32, and DIRECT when x
                                      is not 16-byte aligned); 16-bit data on sm_80 and newer (k16 wgmma in the sm_90
                                      TMA kernel where stride_w is 1, C/G >= 16, W a multiple of 8
                                      and x 16-byte aligned; k16 mma.sync elsewhere, also for a
                                      misaligned x that AUTO sent here: AUTO assumes cudaMalloc's
                                      alignment); workspace = the repacked filter */
  CONVGEMM_ALGO_AUTO = 3           /* the library picks (convgemm_get_algorithm tells which) */
} convgemm_algo_t;

/* The full description of a convolution, as plain data. Fill it with convgemm_conv2d_params_init
 * (which sets every default), change what differs, then create a descriptor from it. */
typedef struct convgemm_conv2d_params {
  int64_t n, c, h, w;                 /* input (N, C, H, W) */
  int64_t k, r, s;                    /* filter (K, C/groups, R, S) */
  int64_t pad_h, pad_w;               /* zero padding on each side; default 0 */
  int64_t stride_h, stride_w;         /* default 1 */
  int64_t dilation_h, dilation_w;     /* default 1 */
  int64_t groups;                     /* default 1 */
  int has_bias;                       /* nonzero: y += bias[k]; default 0 */
  convgemm_data_type_t data_type;     /* default CONVGEMM_DATA_FLOAT32 */
  convgemm_math_mode_t math_mode;     /* default CONVGEMM_MATH_DEFAULT */
} convgemm_conv2d_params_t;

typedef struct convgemm_handle* convgemm_handle_t;
typedef struct convgemm_conv_desc* convgemm_conv_desc_t;

/* ---- library ---------------------------------------------------------------------------- */

/* CONVGEMM_VERSION of the library that is linked (may differ from the header's). */
int convgemm_get_version(void);

/* A static string naming the status, e.g. "CONVGEMM_STATUS_BAD_STRIDE". Never NULL. */
const char* convgemm_status_string(convgemm_status_t status);

/* The message of the most recent call on this host thread that did not return SUCCESS,
 * or "" if there was none. Valid until the next convgemm call on this thread. Never NULL. */
const char* convgemm_get_last_error(void);

/* ---- handle ----------------------------------------------------------------------------- */

/* Creates a handle bound to the current CUDA device (cudaGetDevice). It records the device's
 * properties and creates two streams and three events there (IM2COL_GEMM's). The first handle
 * on a CUDA context also raises the kernels' shared-memory limits and creates a cuBLASLt handle
 * that every convgemm handle of that context shares; both last as long as the context (after a
 * cudaDeviceReset, which ends them, the next handle sets the new context up again; handles
 * created before the reset must not be used, only destroyed).
 * Statuses: NULL_POINTER, CUDA_ERROR (no device, or the runtime failed), CUBLAS_ERROR,
 * NOT_SUPPORTED (device older than compute capability 8.0, or an ordinal of 64 or more),
 * ALLOC_FAILED. */
convgemm_status_t convgemm_create(convgemm_handle_t* handle);

/* Releases the handle. NULL is accepted and does nothing. Work already queued through the handle
 * still completes (its streams and graphs are released by the runtime afterwards); nothing here
 * waits for the device. */
convgemm_status_t convgemm_destroy(convgemm_handle_t handle);

/* The CUDA device ordinal the handle is bound to. Statuses: NULL_POINTER. */
convgemm_status_t convgemm_get_device(convgemm_handle_t handle, int* device);

/* ---- descriptor ------------------------------------------------------------------------- */

/* Fills params with the given sizes and every default (see convgemm_conv2d_params_t).
 * Does not validate; convgemm_conv_desc_create does. Statuses: NULL_POINTER. */
convgemm_status_t convgemm_conv2d_params_init(convgemm_conv2d_params_t* params, int64_t n,
                                              int64_t c, int64_t h, int64_t w, int64_t k,
                                              int64_t r, int64_t s);

/* Validates params and creates an immutable descriptor holding a copy. Each problem has its own
 * status: NULL_POINTER, BAD_SIZE, BAD_GROUPS, BAD_PADDING, BAD_STRIDE, BAD_DILATION,
 * FILTER_TOO_LARGE, SIZE_OVERFLOW (a dimension above 2^31-1, or an element or byte count of
 * x, w or y above 2^63-1, bytes counted at the data type's element size), BAD_ENUM (data_type
 * not one of convgemm_data_type_t's three, or an unknown math_mode), ALLOC_FAILED. On failure
 * *desc is set to NULL. */
convgemm_status_t convgemm_conv_desc_create(convgemm_conv_desc_t* desc,
                                            const convgemm_conv2d_params_t* params);

/* NULL is accepted and does nothing. */
convgemm_status_t convgemm_conv_desc_destroy(convgemm_conv_desc_t desc);

/* Copies the parameters the descriptor was created from. Statuses: NULL_POINTER. */
convgemm_status_t convgemm_conv_desc_get_params(convgemm_conv_desc_t desc,
                                                convgemm_conv2d_params_t* params);

/* The output shape (N, K, P, Q). Statuses: NULL_POINTER. */
convgemm_status_t convgemm_get_output_shape(convgemm_conv_desc_t desc, int64_t* n, int64_t* k,
                                            int64_t* p, int64_t* q);

/* ---- algorithms and workspace ----------------------------------------------------------- */

/* The algorithm AUTO resolves to for this descriptor on the handle's device.
 * Statuses: NULL_POINTER. */
convgemm_status_t convgemm_get_algorithm(convgemm_handle_t handle, convgemm_conv_desc_t desc,
                                         convgemm_algo_t* algo);

/* Whether `algo` can run `desc` on the handle's device: SUCCESS if it can, NOT_SUPPORTED (with
 * the reason as the last error) if not, BAD_ENUM for an unknown algorithm, NULL_POINTER. */
convgemm_status_t convgemm_check_algorithm(convgemm_handle_t handle, convgemm_conv_desc_t desc,
                                           convgemm_algo_t algo);

/* Workspace `algo` needs for `desc`: *min_bytes is the least forward accepts, *preferred_bytes
 * what gives the best speed (>= min). Either output pointer may be NULL. DIRECT needs none.
 * Statuses: NULL_POINTER (handle or desc), BAD_ENUM, NOT_SUPPORTED (as check_algorithm). */
convgemm_status_t convgemm_get_workspace_size(convgemm_handle_t handle, convgemm_conv_desc_t desc,
                                              convgemm_algo_t algo, size_t* min_bytes,
                                              size_t* preferred_bytes);

/* ---- forward ---------------------------------------------------------------------------- */

/* y = conv2d(x, w) (+ bias), queued on `stream` of the handle's device; returns without waiting.
 * x, w, y (and bias if the descriptor has one) must be device memory of the handle's device,
 * aligned to the data type's element size (4 bytes for float32, 2 for float16 and bfloat16;
 * BAD_POINTER otherwise, checked before any CUDA call), sized as described at the top of this
 * file in elements of the descriptor's data type; bias must be NULL if the
 * descriptor has none. y must not overlap x, w or bias. workspace may be NULL when
 * workspace_bytes is 0; otherwise CONVGEMM_WORKSPACE_ALIGNMENT-byte aligned device memory (as
 * cudaMalloc returns) of at least the algorithm's minimum (more, up to the preferred size, makes IM2COL_GEMM faster; any size gives correct
 * results). The workspace must not be used by other work until this call's work is done.
 * The caller's current device is left as it was.
 * Statuses, all before anything is launched: NULL_POINTER, BAD_ENUM, NOT_SUPPORTED (the
 * algorithm can't run this descriptor: never silently replaced by another), BAD_POINTER,
 * WRONG_DEVICE (a pointer or the stream belongs to another device), WORKSPACE_TOO_SMALL,
 * CUDA_ERROR; after: CUDA_ERROR if a launch fails. */
convgemm_status_t convgemm_forward(convgemm_handle_t handle, convgemm_conv_desc_t desc,
                                   convgemm_algo_t algo, const void* x, const void* w,
                                   const void* bias, void* y, void* workspace,
                                   size_t workspace_bytes, cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif /* CONVGEMM_CONVGEMM_H_ */
