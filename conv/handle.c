/* The handle: the device it is bound to and that device's properties. */
#include <stdlib.h>

#include <cuda_runtime_api.h>

#include "conv/context_state.h"
#include "conv/internal.h"
#include "gemm/cublaslt_gemm.h"

static convgemm_status_t read_attribute(int* value, enum cudaDeviceAttr attr, int device,
                                        const char* name) {
  const cudaError_t e = cudaDeviceGetAttribute(value, attr, device);
  return e == cudaSuccess ? CONVGEMM_STATUS_SUCCESS : convgemm_fail_cuda(e, name);
}

/* The streams and events IM2COL_GEMM uses, on the current (the handle's) device; then the
 * context's shared state (kernel settings, cuBLASLt handle), once the streams have made the
 * device's primary context current. */
static convgemm_status_t create_resources(struct convgemm_handle* h) {
  cudaError_t e;
  for (int i = 0; i < CONVGEMM_HANDLE_STREAMS; ++i) {
    if ((e = cudaStreamCreateWithFlags(&h->streams[i], cudaStreamNonBlocking)) != cudaSuccess)
      return convgemm_fail_cuda(e, "creating a stream");
    if ((e = cudaEventCreateWithFlags(&h->join[i], cudaEventDisableTiming)) != cudaSuccess)
      return convgemm_fail_cuda(e, "creating an event");
  }
  if ((e = cudaEventCreateWithFlags(&h->fork, cudaEventDisableTiming)) != cudaSuccess)
    return convgemm_fail_cuda(e, "creating an event");
  struct cublasLtContext* lt = NULL;
  CONVGEMM_TRY(convgemm_context_acquire(h->info.device, h->info.max_smem_per_block, &lt));
  return convgemm_gemm_create(&h->gemm, lt);
}

convgemm_status_t convgemm_create(convgemm_handle_t* handle) {
  if (handle == NULL) return convgemm_fail(CONVGEMM_STATUS_NULL_POINTER, "handle is NULL");
  *handle = NULL;
  convgemm_device_info_t info = {0};
  const cudaError_t e = cudaGetDevice(&info.device);
  if (e != cudaSuccess) return convgemm_fail_cuda(e, "cudaGetDevice");
  CONVGEMM_TRY(read_attribute(&info.cc_major, cudaDevAttrComputeCapabilityMajor, info.device,
                              "reading the compute capability"));
  CONVGEMM_TRY(read_attribute(&info.cc_minor, cudaDevAttrComputeCapabilityMinor, info.device,
                              "reading the compute capability"));
  CONVGEMM_TRY(read_attribute(&info.sm_count, cudaDevAttrMultiProcessorCount, info.device,
                              "reading the multiprocessor count"));
  CONVGEMM_TRY(read_attribute(&info.max_smem_per_block, cudaDevAttrMaxSharedMemoryPerBlockOptin,
                              info.device, "reading the shared-memory limit"));
  CONVGEMM_TRY(read_attribute(&info.l2_bytes, cudaDevAttrL2CacheSize, info.device,
                              "reading the L2 size"));
  if (info.cc_major < 8)
    return convgemm_fail(CONVGEMM_STATUS_NOT_SUPPORTED,
                         "device %d has compute capability %d.%d; convgemm needs 8.0 or newer",
                         info.device, info.cc_major, info.cc_minor);
  struct convgemm_handle* h = calloc(1, sizeof *h);
  if (h == NULL) return convgemm_fail(CONVGEMM_STATUS_ALLOC_FAILED, "out of host memory");
  h->info = info;
  const convgemm_status_t status = create_resources(h);
  if (status != CONVGEMM_STATUS_SUCCESS) {
    convgemm_destroy(h);
    return status;
  }
  *handle = h;
  return CONVGEMM_STATUS_SUCCESS;
}

convgemm_status_t convgemm_destroy(convgemm_handle_t handle) {
  if (handle == NULL) return CONVGEMM_STATUS_SUCCESS;
  /* Destroying a stream or event with work pending is allowed: the runtime releases it once
   * the work is done, so nothing here waits. */
  for (int i = 0; i < CONVGEMM_HANDLE_STREAMS; ++i) {
    if (handle->streams[i] != NULL) cudaStreamDestroy(handle->streams[i]);
    if (handle->join[i] != NULL) cudaEventDestroy(handle->join[i]);
  }
  if (handle->fork != NULL) cudaEventDestroy(handle->fork);
  for (int i = 0; i < CONVGEMM_IM2COL_GRAPHS; ++i)
    if (handle->im2col_graphs[i].exec != NULL) cudaGraphExecDestroy(handle->im2col_graphs[i].exec);
  convgemm_gemm_destroy(handle->gemm);
  free(handle);
  return CONVGEMM_STATUS_SUCCESS;
}

convgemm_status_t convgemm_get_device(convgemm_handle_t handle, int* device) {
  if (handle == NULL) return convgemm_fail(CONVGEMM_STATUS_NULL_POINTER, "handle is NULL");
  if (device == NULL) return convgemm_fail(CONVGEMM_STATUS_NULL_POINTER, "device is NULL");
  *device = handle->info.device;
  return CONVGEMM_STATUS_SUCCESS;
}
