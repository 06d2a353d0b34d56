/*
 * Per-context state shared by handles (context_state.h).
 *
 * Why shared, and never torn down by convgemm_destroy:
 * - cublasLtDestroy synchronizes the context (cuCtxSynchronize). With a handle per thread, a
 *   thread destroying its handle synchronized the context while other threads' handles were
 *   capturing IM2COL_GEMM's graphs; gpu_threads_test crashed inside the driver about once in
 *   sixteen runs (H100, driver 580.159.04), in cuCtxSynchronize under cublasLtDestroy or in the
 *   other thread's cuStreamEndCapture. A library must not synchronize the device anyway. cuBLAS
 *   documents its functions as thread-safe on one handle, so all handles of a context share
 *   one, created once and never destroyed (the driver frees it with the context).
 * - cudaFuncSetAttribute changes a kernel's setting for the whole context; the first handle sets
 *   it, the others need not repeat it while other threads launch those kernels.
 * Keyed by the context's unique id (cuCtxGetId), not only the device ordinal: cudaDeviceReset
 * destroys the primary context with these settings and its cuBLASLt handle, and the device's
 * next context has a new id, so the next handle sets both up again.
 */
#include "conv/context_state.h"

#include <pthread.h>
#include <stddef.h>

#include <cuda.h>
#include <cudaTypedefs.h>
#include <cuda_runtime_api.h>

#include "conv/direct_conv2d_plan.h"
#include "conv/error.h"
#include "conv/implicit_gemm_plan.h"
#include "gemm/cublaslt_gemm.h"

enum { CONVGEMM_CONTEXT_MAX_DEVICES = 64 };

typedef struct context_state {
  unsigned long long context_id; /* 0: nothing set up yet (ids start at 1) */
  struct cublasLtContext* lt;
} context_state_t;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static context_state_t g_state[CONVGEMM_CONTEXT_MAX_DEVICES]; /* by device ordinal */

static void* driver_function(const char* name, unsigned int version) {
  enum cudaDriverEntryPointQueryResult found = cudaDriverEntryPointSymbolNotFound;
  void* fn = NULL;
  if (cudaGetDriverEntryPointByVersion(name, &fn, version, cudaEnableDefault, &found) !=
          cudaSuccess ||
      found != cudaDriverEntryPointSuccess) {
    cudaGetLastError(); /* reported as a status by the caller */
    return NULL;
  }
  return fn;
}

/* The current context's unique id (called under g_lock). */
static convgemm_status_t current_context_id(unsigned long long* id) {
  static PFN_cuCtxGetCurrent_v4000 get_current;
  static PFN_cuCtxGetId_v12000 get_id;
  if (get_current == NULL)
    get_current = (PFN_cuCtxGetCurrent_v4000)driver_function("cuCtxGetCurrent", 4000);
  if (get_id == NULL) get_id = (PFN_cuCtxGetId_v12000)driver_function("cuCtxGetId", 12000);
  if (get_current == NULL || get_id == NULL)
    return convgemm_fail(CONVGEMM_STATUS_CUDA_ERROR,
                         "the driver lacks cuCtxGetCurrent or cuCtxGetId (CUDA 12.0 or newer)");
  CUcontext ctx = NULL;
  CUresult r = get_current(&ctx);
  if (r == CUDA_SUCCESS && ctx == NULL) r = CUDA_ERROR_INVALID_CONTEXT;
  if (r == CUDA_SUCCESS) r = get_id(ctx, id);
  if (r != CUDA_SUCCESS)
    return convgemm_fail(CONVGEMM_STATUS_CUDA_ERROR, "reading the current context's id failed (%d)",
                         (int)r);
  return CONVGEMM_STATUS_SUCCESS;
}

static convgemm_status_t configure_kernels(int max_smem_per_block) {
  cudaError_t e = convgemm_direct_configure(max_smem_per_block);
  if (e != cudaSuccess) return convgemm_fail_cuda(e, "configuring the DIRECT kernels");
  e = convgemm_igemm_configure(max_smem_per_block);
  if (e != cudaSuccess) return convgemm_fail_cuda(e, "configuring the IMPLICIT_GEMM kernels");
  return CONVGEMM_STATUS_SUCCESS;
}

static convgemm_status_t acquire_locked(int device, int max_smem_per_block,
                                        struct cublasLtContext** lt) {
  if (device < 0 || device >= CONVGEMM_CONTEXT_MAX_DEVICES)
    return convgemm_fail(CONVGEMM_STATUS_NOT_SUPPORTED, "device %d: convgemm supports ordinals "
                         "below %d", device, (int)CONVGEMM_CONTEXT_MAX_DEVICES);
  unsigned long long id = 0;
  CONVGEMM_TRY(current_context_id(&id));
  context_state_t* s = &g_state[device];
  if (s->context_id != id) {
    /* A new context (the first, or one after cudaDeviceReset, whose handle died with the old
     * context and is dropped, not destroyed). */
    CONVGEMM_TRY(configure_kernels(max_smem_per_block));
    struct cublasLtContext* created = NULL;
    CONVGEMM_TRY(convgemm_gemm_library_create(&created));
    s->lt = created;
    s->context_id = id;
  }
  *lt = s->lt;
  return CONVGEMM_STATUS_SUCCESS;
}

convgemm_status_t convgemm_context_acquire(int device, int max_smem_per_block,
                                           struct cublasLtContext** lt) {
  pthread_mutex_lock(&g_lock);
  const convgemm_status_t status = acquire_locked(device, max_smem_per_block, lt);
  pthread_mutex_unlock(&g_lock);
  return status;
}
