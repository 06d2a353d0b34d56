/* convgemm_forward: argument checks (all before any launch), device guard, dispatch. */
#include <stdint.h>

#include <cuda_runtime_api.h>

#include "conv/direct_conv2d_plan.h"
#include "conv/im2col_gemm.h"
#include "conv/implicit_gemm_plan.h"
#include "conv/internal.h"

/* x, w, bias and y must be aligned to the element size (4 bytes for float32, 2 for the 16-bit
 * types). Pure host code: checked before any CUDA call. */
static convgemm_status_t check_alignment(const char* name, const void* ptr,
                                         const struct convgemm_conv_desc* d) {
  if (ptr != NULL && ((uintptr_t)ptr & (uintptr_t)(d->elem_bytes - 1)) != 0)
    return convgemm_fail(CONVGEMM_STATUS_BAD_POINTER,
                         "%s (%p) must be aligned to %lld bytes for %s", name, ptr,
                         (long long)d->elem_bytes,
                         convgemm_data_type_name(d->params.data_type));
  return CONVGEMM_STATUS_SUCCESS;
}

/* x, w, bias, y and the workspace must be device (or managed) memory of `device`. */
static convgemm_status_t check_tensor_pointer(const char* name, const void* ptr, int device) {
  struct cudaPointerAttributes attr;
  const cudaError_t e = cudaPointerGetAttributes(&attr, ptr);
  if (e != cudaSuccess) {
    cudaGetLastError(); /* clear the error this query just set; it is reported below */
    /* Only cudaErrorInvalidValue is about the pointer. Anything else is the runtime or the
     * context failing (no driver, or a sticky fault of earlier work: every call now returns
     * it), which the caller must see as such, not as a bad argument. */
    if (e != cudaErrorInvalidValue)
      return convgemm_fail(CONVGEMM_STATUS_CUDA_ERROR,
                           "querying the attributes of %s (%p) failed: %s (%s)", name, ptr,
                           cudaGetErrorName(e), cudaGetErrorString(e));
    return convgemm_fail(CONVGEMM_STATUS_BAD_POINTER, "%s (%p) is not a CUDA pointer: %s", name,
                         ptr, cudaGetErrorString(e));
  }
  if (attr.type != cudaMemoryTypeDevice && attr.type != cudaMemoryTypeManaged)
    return convgemm_fail(CONVGEMM_STATUS_BAD_POINTER,
                         "%s (%p) must be device or managed memory, got %s memory", name, ptr,
                         attr.type == cudaMemoryTypeHost ? "pinned host" : "unregistered host");
  if (attr.type == cudaMemoryTypeDevice && attr.device != device)
    return convgemm_fail(CONVGEMM_STATUS_WRONG_DEVICE,
                         "%s (%p) is memory of device %d, the handle is bound to device %d", name,
                         ptr, attr.device, device);
  return CONVGEMM_STATUS_SUCCESS;
}

static convgemm_status_t check_stream(cudaStream_t stream, int device) {
  if (stream == NULL || stream == cudaStreamLegacy || stream == cudaStreamPerThread)
    return CONVGEMM_STATUS_SUCCESS; /* the default streams of the device made current below */
  /* A stream being captured into a graph can't be asked for its device (the runtime refuses);
   * a wrong one then fails at the first launch with CUDA_ERROR. */
  enum cudaStreamCaptureStatus capturing = cudaStreamCaptureStatusNone;
  if (cudaStreamIsCapturing(stream, &capturing) == cudaSuccess &&
      capturing != cudaStreamCaptureStatusNone)
    return CONVGEMM_STATUS_SUCCESS;
  int stream_device = -1;
  const cudaError_t e = cudaStreamGetDevice(stream, &stream_device);
  if (e != cudaSuccess) {
    cudaGetLastError();
    return convgemm_fail(CONVGEMM_STATUS_CUDA_ERROR, "the stream is not usable: %s (%s)",
                         cudaGetErrorName(e), cudaGetErrorString(e));
  }
  if (stream_device != device)
    return convgemm_fail(CONVGEMM_STATUS_WRONG_DEVICE,
                         "the stream belongs to device %d, the handle is bound to device %d",
                         stream_device, device);
  return CONVGEMM_STATUS_SUCCESS;
}

static int ranges_overlap(const void* a, int64_t a_bytes, const void* b, int64_t b_bytes) {
  const uintptr_t a0 = (uintptr_t)a, b0 = (uintptr_t)b;
  return a0 < b0 + (uintptr_t)b_bytes && b0 < a0 + (uintptr_t)a_bytes;
}

static convgemm_status_t check_pointers(const struct convgemm_conv_desc* d, const void* x,
                                        const void* w, const void* bias, void* y,
                                        const void* workspace, size_t workspace_bytes,
                                        int device) {
  CONVGEMM_TRY(check_tensor_pointer("x", x, device));
  CONVGEMM_TRY(check_tensor_pointer("w", w, device));
  CONVGEMM_TRY(check_tensor_pointer("y", y, device));
  if (bias != NULL) CONVGEMM_TRY(check_tensor_pointer("bias", bias, device));
  const int64_t f = d->elem_bytes;
  if (ranges_overlap(y, d->y_elems * f, x, d->x_elems * f) ||
      ranges_overlap(y, d->y_elems * f, w, d->w_elems * f) ||
      (bias != NULL && ranges_overlap(y, d->y_elems * f, bias, d->params.k * f)))
    return convgemm_fail(CONVGEMM_STATUS_BAD_POINTER,
                         "y must not overlap x, w or bias (in-place convolution is not supported)");
  /* A claimed size of 2^63 bytes or more can only overlap: clamp it, don't let it go negative. */
  const int64_t ws = workspace_bytes > (size_t)INT64_MAX ? INT64_MAX : (int64_t)workspace_bytes;
  if (ws > 0 && (ranges_overlap(workspace, ws, x, d->x_elems * f) ||
                 ranges_overlap(workspace, ws, w, d->w_elems * f) ||
                 ranges_overlap(workspace, ws, y, d->y_elems * f) ||
                 (bias != NULL && ranges_overlap(workspace, ws, bias, d->params.k * f))))
    return convgemm_fail(CONVGEMM_STATUS_BAD_POINTER,
                         "the workspace must not overlap x, w, bias or y");
  return CONVGEMM_STATUS_SUCCESS;
}

/* IMPLICIT_GEMM's TMA kernel loads x through a tensor map, which needs x on a 16-byte boundary;
 * with x elsewhere float32 TF32 operands take the same wgmma kernel with cp.async copies (the same
 * numbers as the TF32 TMA kernel, the same products as the fp16-products one, summed in another
 * order; a plan without tap pairs, carry or fp16 products, in no more workspace), 16-bit
 * data the mma.sync kernel (the same exact products, summed in fp32 in another order; the same
 * workspace), and 3xTF32 (fp32 operands) has no other kernel. */
static convgemm_status_t igemm_plan_for_x(const struct convgemm_handle* h,
                                          const struct convgemm_conv_desc* d, const void* x,
                                          size_t workspace_bytes, convgemm_igemm_plan_t* plan) {
  if (plan->variant != CONVGEMM_IGEMM_WGMMA || !plan->tma || ((uintptr_t)x & 15u) == 0)
    return CONVGEMM_STATUS_SUCCESS;
  if (plan->split)
    return convgemm_fail(CONVGEMM_STATUS_NOT_SUPPORTED,
                         "IMPLICIT_GEMM on fp32 operands (3xTF32: IEEE math, or C/G == 1) needs "
                         "x (%p) aligned to 16 bytes (its TMA loads); use IM2COL_GEMM or DIRECT",
                         x);
  if (!convgemm_desc_is_16bit(d)) {
    convgemm_igemm_make_plan_for_x(d, &h->info, 0, plan);
    if (plan->workspace_bytes > workspace_bytes)  /* not expected: the same packed filter */
      return convgemm_fail(CONVGEMM_STATUS_INTERNAL_ERROR,
                           "IMPLICIT_GEMM with x (%p) off 16 bytes needs %zu bytes of workspace, "
                           "got %zu",
                           x, plan->workspace_bytes, workspace_bytes);
    return CONVGEMM_STATUS_SUCCESS;
  }
  convgemm_device_info_t info = h->info;
  info.no_wgmma = 1;
  if (!convgemm_igemm_fits(d, &info, plan) || plan->workspace_bytes > workspace_bytes)
    return convgemm_fail(CONVGEMM_STATUS_NOT_SUPPORTED,
                         "IMPLICIT_GEMM on %s data with x (%p) not aligned to 16 bytes runs its "
                         "mma.sync kernel, which can't run this descriptor (its shared-memory "
                         "stages or 32-bit tile indices); align x to 16 bytes or use IM2COL_GEMM "
                         "or DIRECT",
                         convgemm_data_type_name(d->params.data_type), x);
  return CONVGEMM_STATUS_SUCCESS;
}

static convgemm_status_t run(struct convgemm_handle* h, const struct convgemm_conv_desc* d,
                             convgemm_algo_t algo, const void* x, const void* w, const void* bias,
                             void* y, void* workspace, size_t workspace_bytes,
                             cudaStream_t stream) {
  CONVGEMM_TRY(check_stream(stream, h->info.device));
  CONVGEMM_TRY(check_pointers(d, x, w, bias, y, workspace, workspace_bytes, h->info.device));
  switch (algo) {
    case CONVGEMM_ALGO_DIRECT: {
      convgemm_direct_plan_t plan;
      convgemm_direct_make_plan(d, h->info.max_smem_per_block, &plan);
      const cudaError_t e = convgemm_direct_launch(d, &plan, x, w, bias, y, stream);
      if (e != cudaSuccess)
        return convgemm_fail(CONVGEMM_STATUS_CUDA_ERROR, "DIRECT kernel launch failed: %s (%s)",
                             cudaGetErrorName(e), cudaGetErrorString(e));
      return CONVGEMM_STATUS_SUCCESS;
    }
    case CONVGEMM_ALGO_IM2COL_GEMM:
      return convgemm_im2col_gemm_forward(h, d, x, w, bias, y, workspace, workspace_bytes, stream);
    case CONVGEMM_ALGO_IMPLICIT_GEMM: {
      convgemm_igemm_plan_t plan;
      convgemm_igemm_make_plan(d, &h->info, &plan);
      CONVGEMM_TRY(igemm_plan_for_x(h, d, x, workspace_bytes, &plan));
      const cudaError_t e = convgemm_igemm_launch(d, &plan, x, w, bias, y, workspace, stream);
      if (e != cudaSuccess)
        return convgemm_fail(CONVGEMM_STATUS_CUDA_ERROR,
                             "IMPLICIT_GEMM kernel launch failed: %s (%s)", cudaGetErrorName(e),
                             cudaGetErrorString(e));
      return CONVGEMM_STATUS_SUCCESS;
    }
    default:
      return convgemm_fail(CONVGEMM_STATUS_INTERNAL_ERROR, "no launcher for algorithm %d",
                           (int)algo);
  }
}

convgemm_status_t convgemm_forward(convgemm_handle_t handle, convgemm_conv_desc_t desc,
                                   convgemm_algo_t algo, const void* x, const void* w,
                                   const void* bias, void* y, void* workspace,
                                   size_t workspace_bytes, cudaStream_t stream) {
  convgemm_algo_t resolved;
  CONVGEMM_TRY(convgemm_resolve_algorithm(handle, desc, algo, &resolved));
  /* AUTO's choice assumes x 16-byte aligned (cudaMalloc's). IMPLICIT_GEMM's 3xTF32 kernel (fp32
   * operands) loads x only through TMA, which needs it: with x elsewhere AUTO takes DIRECT, the
   * one algorithm that runs every descriptor without a workspace (fp32 FMA: as accurate). */
  if (algo == CONVGEMM_ALGO_AUTO && resolved == CONVGEMM_ALGO_IMPLICIT_GEMM &&
      !desc->tf32_operands && !convgemm_desc_is_16bit(desc) && ((uintptr_t)x & 15u) != 0)
    resolved = CONVGEMM_ALGO_DIRECT;
  if (x == NULL) return convgemm_fail(CONVGEMM_STATUS_NULL_POINTER, "x is NULL");
  if (w == NULL) return convgemm_fail(CONVGEMM_STATUS_NULL_POINTER, "w is NULL");
  if (y == NULL) return convgemm_fail(CONVGEMM_STATUS_NULL_POINTER, "y is NULL");
  if (desc->params.has_bias && bias == NULL)
    return convgemm_fail(CONVGEMM_STATUS_NULL_POINTER,
                         "bias is NULL but the descriptor has has_bias = 1");
  if (!desc->params.has_bias && bias != NULL)
    return convgemm_fail(CONVGEMM_STATUS_BAD_POINTER,
                         "bias is given but the descriptor has has_bias = 0");
  CONVGEMM_TRY(check_alignment("x", x, desc));
  CONVGEMM_TRY(check_alignment("w", w, desc));
  CONVGEMM_TRY(check_alignment("y", y, desc));
  CONVGEMM_TRY(check_alignment("bias", bias, desc));
  size_t min_ws, pref_ws;
  CONVGEMM_TRY(convgemm_workspace_bytes(desc, &handle->info, resolved, &min_ws, &pref_ws));
  if (workspace_bytes < min_ws)
    return convgemm_fail(CONVGEMM_STATUS_WORKSPACE_TOO_SMALL,
                         "workspace_bytes must be at least %zu for this descriptor, got %zu",
                         min_ws, workspace_bytes);
  if (workspace_bytes > 0 && workspace == NULL)
    return convgemm_fail(CONVGEMM_STATUS_NULL_POINTER,
                         "workspace is NULL but workspace_bytes is %zu", workspace_bytes);
  if (workspace_bytes > 0) {
    if (((uintptr_t)workspace & (CONVGEMM_WORKSPACE_ALIGNMENT - 1)) != 0)
      return convgemm_fail(CONVGEMM_STATUS_BAD_POINTER,
                           "workspace (%p) must be aligned to %d bytes (cudaMalloc's alignment)",
                           workspace, CONVGEMM_WORKSPACE_ALIGNMENT);
    CONVGEMM_TRY(check_tensor_pointer("workspace", workspace, handle->info.device));
  }

  int caller_device = -1;
  cudaError_t e = cudaGetDevice(&caller_device);
  if (e != cudaSuccess)
    return convgemm_fail(CONVGEMM_STATUS_CUDA_ERROR, "cudaGetDevice failed: %s",
                         cudaGetErrorString(e));
  if (caller_device != handle->info.device) {
    e = cudaSetDevice(handle->info.device);
    if (e != cudaSuccess)
      return convgemm_fail(CONVGEMM_STATUS_CUDA_ERROR, "cudaSetDevice(%d) failed: %s",
                           handle->info.device, cudaGetErrorString(e));
  }
  const convgemm_status_t status =
      run(handle, desc, resolved, x, w, bias, y, workspace, workspace_bytes, stream);
  if (caller_device != handle->info.device) {
    e = cudaSetDevice(caller_device);
    if (e != cudaSuccess && status == CONVGEMM_STATUS_SUCCESS)
      return convgemm_fail(CONVGEMM_STATUS_CUDA_ERROR, "restoring device %d failed: %s",
                           caller_device, cudaGetErrorString(e));
  }
  return status;
}
