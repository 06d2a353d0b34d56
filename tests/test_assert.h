/*
 * Check assertions for convgemm statuses and CUDA runtime calls: a failure names the call, what
 * came, what was wanted and the library's last-error message, so a log from the GPU machine says
 * what went wrong without a rerun.
 */
#ifndef CONVGEMM_TESTS_TEST_ASSERT_H_
#define CONVGEMM_TESTS_TEST_ASSERT_H_

#include <check.h>
#include <cuda_runtime_api.h>

#include "conv/convgemm.h"

/* Fails the test unless `call` returns cudaSuccess. */
#define CK_CUDA(call)                                                                         \
  do {                                                                                        \
    const cudaError_t ck_cuda_e_ = (call);                                                    \
    ck_assert_msg(ck_cuda_e_ == cudaSuccess, "%s failed: %s (%s)", #call,                     \
                  cudaGetErrorName(ck_cuda_e_), cudaGetErrorString(ck_cuda_e_));              \
  } while (0)

/* Fails the test unless `call` returns `want`. */
#define CK_CONVGEMM_STATUS(call, want)                                                        \
  do {                                                                                        \
    const convgemm_status_t ck_cg_s_ = (call);                                                \
    ck_assert_msg(ck_cg_s_ == (want), "%s returned %s, want %s; last error: %s", #call,       \
                  convgemm_status_string(ck_cg_s_), convgemm_status_string(want),             \
                  convgemm_get_last_error());                                                 \
  } while (0)

#define CK_CONVGEMM(call) CK_CONVGEMM_STATUS(call, CONVGEMM_STATUS_SUCCESS)

#endif /* CONVGEMM_TESTS_TEST_ASSERT_H_ */
