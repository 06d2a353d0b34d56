/*
 * Error reporting shared by every part of the library: the per-thread last-error message
 * (conv/status.c) and the early-return helper.
 */
#ifndef CONVGEMM_ERROR_H_
#define CONVGEMM_ERROR_H_

#include <cuda_runtime_api.h>

#include "conv/convgemm.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Returns from the enclosing function with the status of `expr` unless it is SUCCESS. */
#define CONVGEMM_TRY(expr)                                 \
  do {                                                     \
    convgemm_status_t convgemm_try_status_ = (expr);       \
    if (convgemm_try_status_ != CONVGEMM_STATUS_SUCCESS)   \
      return convgemm_try_status_;                         \
  } while (0)

/* Records printf-style `fmt` as this thread's last error and returns `status`. */
convgemm_status_t convgemm_fail(convgemm_status_t status, const char* fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* CUDA_ERROR with "<what> failed: <error name> (<error string>)" as this thread's last error. */
convgemm_status_t convgemm_fail_cuda(cudaError_t e, const char* what);

#ifdef __cplusplus
}
#endif

#endif /* CONVGEMM_ERROR_H_ */
