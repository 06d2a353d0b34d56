/* Status names and the per-thread last-error message. */
#include <stdarg.h>
#include <stdio.h>

#include "conv/error.h"

enum { CONVGEMM_ERROR_MESSAGE_BYTES = 512 };

static _Thread_local char convgemm_last_error[CONVGEMM_ERROR_MESSAGE_BYTES];

int convgemm_get_version(void) { return CONVGEMM_VERSION; }

const char* convgemm_status_string(convgemm_status_t status) {
  switch (status) {
    case CONVGEMM_STATUS_SUCCESS: return "CONVGEMM_STATUS_SUCCESS";
    case CONVGEMM_STATUS_NULL_POINTER: return "CONVGEMM_STATUS_NULL_POINTER";
    case CONVGEMM_STATUS_BAD_SIZE: return "CONVGEMM_STATUS_BAD_SIZE";
    case CONVGEMM_STATUS_BAD_GROUPS: return "CONVGEMM_STATUS_BAD_GROUPS";
    case CONVGEMM_STATUS_BAD_PADDING: return "CONVGEMM_STATUS_BAD_PADDING";
    case CONVGEMM_STATUS_BAD_STRIDE: return "CONVGEMM_STATUS_BAD_STRIDE";
    case CONVGEMM_STATUS_BAD_DILATION: return "CONVGEMM_STATUS_BAD_DILATION";
    case CONVGEMM_STATUS_FILTER_TOO_LARGE: return "CONVGEMM_STATUS_FILTER_TOO_LARGE";
    case CONVGEMM_STATUS_SIZE_OVERFLOW: return "CONVGEMM_STATUS_SIZE_OVERFLOW";
    case CONVGEMM_STATUS_BAD_ENUM: return "CONVGEMM_STATUS_BAD_ENUM";
    case CONVGEMM_STATUS_NOT_SUPPORTED: return "CONVGEMM_STATUS_NOT_SUPPORTED";
    case CONVGEMM_STATUS_WORKSPACE_TOO_SMALL: return "CONVGEMM_STATUS_WORKSPACE_TOO_SMALL";
    case CONVGEMM_STATUS_BAD_POINTER: return "CONVGEMM_STATUS_BAD_POINTER";
    case CONVGEMM_STATUS_WRONG_DEVICE: return "CONVGEMM_STATUS_WRONG_DEVICE";
    case CONVGEMM_STATUS_ALLOC_FAILED: return "CONVGEMM_STATUS_ALLOC_FAILED";
    case CONVGEMM_STATUS_CUDA_ERROR: return "CONVGEMM_STATUS_CUDA_ERROR";
    case CONVGEMM_STATUS_CUBLAS_ERROR: return "CONVGEMM_STATUS_CUBLAS_ERROR";
    case CONVGEMM_STATUS_INTERNAL_ERROR: return "CONVGEMM_STATUS_INTERNAL_ERROR";
  }
  return "CONVGEMM_STATUS_<unknown>";
}

const char* convgemm_get_last_error(void) { return convgemm_last_error; }

convgemm_status_t convgemm_fail(convgemm_status_t status, const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  vsnprintf(convgemm_last_error, sizeof convgemm_last_error, fmt, args);
  va_end(args);
  return status;
}

convgemm_status_t convgemm_fail_cuda(cudaError_t e, const char* what) {
  return convgemm_fail(CONVGEMM_STATUS_CUDA_ERROR, "%s failed: %s (%s)", what, cudaGetErrorName(e),
                       cudaGetErrorString(e));
}
