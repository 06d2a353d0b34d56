/*
 * An independent model of what the library promises about a set of parameters, for
 * cpu_fuzz_test: which statuses apply (conv/convgemm.h's list), the derived sizes of a valid
 * descriptor (P and Q by the formula at the top of convgemm.h; byte counts at the data type's
 * element size), IM2COL_GEMM's documented limits
 * and DIRECT's shared-memory layout (direct_conv2d_plan.h). Written from the documentation, not
 * from conv/, in 128-bit arithmetic so that nothing here can overflow where the library might.
 */
#ifndef CONVGEMM_TESTS_FUZZ_MODEL_H_
#define CONVGEMM_TESTS_FUZZ_MODEL_H_

#include <stdint.h>

#include "conv/convgemm.h"
#include "conv/direct_conv2d_plan.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Wide enough for every product of four values below 2^31 and for 2^31 * 2^62 + ... */
typedef __int128 fuzz_wide_t;

/* The bit of a status in fuzz_model_t.reasons. */
#define FUZZ_BIT(status) (1u << (unsigned)(status))

typedef struct fuzz_model {
  /* FUZZ_BIT of every status that describes a problem of the parameters (several can apply at
   * once; the library may report any of them). 0: valid. */
  uint32_t reasons;
  /* When valid: */
  int64_t p, q;
  int64_t c_per_group, k_per_group;
  int64_t x_elems, w_elems, y_elems;
  int elem_bytes;    /* 4 for float32, 2 for float16 and bfloat16 */
  int tf32_operands; /* float32 data, DEFAULT math and C/G > 1 */
  int bias_rows;     /* IM2COL_GEMM's bias rows: 0 without bias, 2 with TF32 operands, else 1 */
} fuzz_model_t;

/* Bytes per element of a data type (convgemm.h); 4 for an unknown value. */
int fuzz_model_elem_bytes(convgemm_data_type_t type);

/* Fills *m for params. */
void fuzz_model_desc(const convgemm_conv2d_params_t* params, fuzz_model_t* m);

/* Whether IM2COL_GEMM can run a valid descriptor: P*Q and each padded input side at most
 * 2^31-1, groups * ((C/G)*R*S + bias rows, rounded up to 4) at most 2^31-1 column-matrix rows,
 * groups * (ceil((C/G) / CONVGEMM_IM2COL_CHANNELS_PER_BLOCK) + 1) at most 65535 row blocks. */
int fuzz_model_im2col_fits(const convgemm_conv2d_params_t* params, const fuzz_model_t* m);

/* DIRECT's tile kind for a valid descriptor that ROW_STRIP does not take, before any fallback
 * to GENERIC: DEPTHWISE when C/G == 1, else by K/G (>= 48: K64, >= 8: K16, else K1), as
 * cpu_plan_test pins down. */
convgemm_direct_tile_t fuzz_model_direct_tile(const fuzz_model_t* m);

/* Whether DIRECT's rule sends a valid descriptor to ROW_STRIP when one channel fits its budget
 * (direct_conv2d_plan.h): 2 <= C/G <= 4, R*S >= 25, K/G >= 72 and K/G at least 3/4 of its
 * 96-channel tiles. */
int fuzz_model_row_strip_suits(const convgemm_conv2d_params_t* params, const fuzz_model_t* m);

/* ROW_STRIP's 5-column groups a strip row: min(ceil(Q/5), 32). */
int64_t fuzz_model_row_strip_row_groups(const fuzz_model_t* m);

/* ROW_STRIP's staged rows: (rows - 1) * stride_h + (R - 1) * dilation_h + 1, where rows is the
 * most output rows a strip of 32 groups (starting at a multiple of 32) spans, at most P. */
fuzz_wide_t fuzz_model_row_strip_halo_h(const convgemm_conv2d_params_t* params,
                                        const fuzz_model_t* m);

/* ROW_STRIP's shared-memory bytes for c_chunk channels and window pitch row_ld: 128 bytes of
 * tile slots, c_chunk*R*S filter rows of 104 floats, c_chunk*halo_h*row_ld window floats and
 * c_chunk*R*S int tap offsets. */
fuzz_wide_t fuzz_model_row_strip_smem(const convgemm_conv2d_params_t* params, fuzz_wide_t halo_h,
                                      fuzz_wide_t row_ld, int64_t c_chunk);

/* The staged input window along one axis: (tile - 1) * stride + (filter - 1) * dilation + 1. */
fuzz_wide_t fuzz_model_direct_halo(int64_t tile, int64_t stride, int64_t filter,
                                   int64_t dilation);

/* DIRECT's shared-memory bytes for c_chunk channels (direct_conv2d_plan.h): the filter slice
 * (c_chunk * R * S rows of w_ld floats) plus the window (c_chunk * halo_h * halo_w floats);
 * DEPTHWISE: two stages of (R*S rounded up to 4, window). */
fuzz_wide_t fuzz_model_direct_smem(const convgemm_conv2d_params_t* params,
                                   convgemm_direct_tile_t tile, int w_ld, fuzz_wide_t halo_h,
                                   fuzz_wide_t halo_w, int64_t c_chunk);

#ifdef __cplusplus
}
#endif

#endif /* CONVGEMM_TESTS_FUZZ_MODEL_H_ */
