/*
 * Runs one convolution through convgemm on the GPU and checks everything the library promises
 * about it, with Check assertions (call it from inside a test). For each math mode (DEFAULT, then
 * IEEE):
 *   - the descriptor is accepted and its output shape is the reference's;
 *   - DIRECT on a non-blocking stream, into a y poisoned with NaN, matches the float64 reference
 *     (TF32-rounded operands for DEFAULT, exact for IEEE) within the derived bounds of
 *     conv_compare.h at every element;
 *   - nothing is written outside y (guard bands around it keep their poison);
 *   - a second DIRECT call gives the same bits (determinism);
 *   - AUTO resolves by its rule (IM2COL_GEMM once K/G >= 32 (DEFAULT; 64 in IEEE) and
 *     (C/G)*R*S >= 64, else DIRECT), asks for no workspace when DIRECT, and, run with its preferred workspace (NaN-poisoned),
 *     also matches the reference (for IM2COL_GEMM in DEFAULT math with bias, under the bound
 *     widened for its split bias, conv_compare.h);
 *   - the GENERIC kernel, forced through convgemm_direct_launch, gives the same bits as the plan's
 *     kernel (the plan's promise: same summation order);
 *   - x, w and bias are bitwise unchanged afterwards;
 * and DEFAULT's result differs from IEEE's (the math mode is honored).
 *
 * A case whose params.data_type is float16 or bfloat16 runs the same checks in that type: the
 * inputs drawn as for float32 and rounded to the type on the host, uploaded as 16-bit values,
 * the reference computed from the rounded values (exact operands), y NaN-poisoned (0xFFFF is a
 * NaN in both types), fetched as 16-bit values and judged with the 16-bit bound of
 * conv_compare.h (one rounding of the output: u16 |ref| plus the fp32 accumulation term).
 * There AUTO must pick IM2COL_GEMM by the TF32 thresholds or DIRECT (never IMPLICIT_GEMM, which
 * is NOT_SUPPORTED: query, workspace query and forward, which writes nothing), and both math
 * modes must give the same bits (convgemm.h: the math mode changes nothing for 16-bit data).
 * Every failure message starts with the case's name, seed and full configuration.
 */
#ifndef CONVGEMM_TESTS_DIRECT_CASE_RUNNER_H_
#define CONVGEMM_TESTS_DIRECT_CASE_RUNNER_H_

#include <cuda_runtime_api.h>

#include "conv/convgemm.h"
#include "tests/direct_cases.h"

#ifdef __cplusplus
extern "C" {
#endif

void direct_case_run(convgemm_handle_t handle, cudaStream_t stream, const direct_case_t* c);

#ifdef __cplusplus
}
#endif

#endif /* CONVGEMM_TESTS_DIRECT_CASE_RUNNER_H_ */
