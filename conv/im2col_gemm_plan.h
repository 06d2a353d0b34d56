/*
 * IM2COL_GEMM: how the convolution is cut into chunks and where everything lives in the caller's
 * workspace. Decided on the host from the descriptor and the workspace size (CPU-tested).
 *
 * Per group g the GEMM is, in cuBLAS's column-major terms,
 *   D (pixels x K/G, ld = P*Q: the NCHW output plane itself, no transpose pass)
 *     = A (pixels x krg_pad, ld = col_ld: the chunk's column matrix, pixel index fastest)
 *     * B (krg_pad x K/G, ld = krg_pad: the packed filter, one column per output channel)
 * with krg_pad >= (C/G)*R*S + bias_rows, a multiple of 4. The bias rides in the GEMM: the column
 * matrix carries bias_rows rows of ones and the packed filter the bias (DEFAULT math on float32:
 * its TF32 high part and the TF32 remainder, so bias is added with fp32 accuracy; IEEE and 16-bit
 * data: the bias itself, exact in the fp32 accumulator, so added before the one rounding of y).
 * NOTES: cuBLASLt's BIAS epilogue can't do this: it adds one value per row of D (a pixel here),
 * and the bias varies along D's columns (output channels).
 *
 * A, B and D have the descriptor's data type; byte sizes below count its element size (4, or 2
 * for float16 and bfloat16: the same workspace holds twice the pixels).
 *
 * A chunk is either a run of pixels of one image (col_ld = pixels_per_chunk) or, when an image
 * has fewer pixels than a chunk, whole images (col_ld = P*Q rounded up to 4, one column-matrix
 * block per image). Chunks alternate between `buffers` column buffers; with two, chunk i+1's
 * im2col overlaps chunk i's GEMM on a second stream.
 */
#ifndef CONVGEMM_IM2COL_GEMM_PLAN_H_
#define CONVGEMM_IM2COL_GEMM_PLAN_H_

#include <stddef.h>
#include <stdint.h>

#include "conv/internal.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
  /* cuBLASLt workspace per stream (its TF32/FP32 kernels for these shapes ask for < 1 KiB). */
  CONVGEMM_IM2COL_CUBLAS_WORKSPACE = 1 << 20,
  /* Smallest chunk the minimum workspace allows (pixels). */
  CONVGEMM_IM2COL_MIN_PIXELS = 128,
  /* Alignment of every region of the workspace. */
  CONVGEMM_IM2COL_ALIGN = 256,
  /* Most images one chunk holds (the im2col grid's z extent). */
  CONVGEMM_IM2COL_MAX_IMAGES = 65535,
  /* Most blocks along the im2col grid's y extent: groups * (channel blocks + 1). */
  CONVGEMM_IM2COL_MAX_ROW_BLOCKS = 65535
};

typedef struct convgemm_im2col_gemm_plan {
  int64_t krg;               /* (C/G)*R*S: data rows per group */
  int64_t bias_rows;         /* 0 without bias; 2 with TF32 operands (hi, lo), else 1 */
  int64_t krg_pad;           /* rows per group: krg + bias_rows rounded up to 4 */
  int64_t rows;              /* G * krg_pad: rows of the column matrix */
  int64_t pq;                /* P*Q */
  int64_t col_ld;            /* column-matrix leading dimension (pixels), a multiple of 4 */
  int64_t pixels_per_chunk;  /* pixels of one image per chunk (= pq when whole images) */
  int64_t images_per_chunk;  /* 1, or more when whole images fit in a chunk */
  int64_t chunks_per_image;  /* ceil(pq / pixels_per_chunk) (1 when whole images) */
  int64_t chunks;            /* total chunks */
  int buffers;               /* column buffers: 2 overlaps im2col with GEMM, 1 does not */
  int gemm_sms;              /* SMs each GEMM spreads over (0: all), leaving the rest to the
                                im2col of the next chunk on the other stream */
  size_t filter_offset;      /* packed filter (G, K/G, krg_pad) elements */
  size_t cublas_offset;      /* `buffers` cuBLASLt workspaces of CONVGEMM_IM2COL_CUBLAS_WORKSPACE */
  size_t col_offset;         /* `buffers` column buffers of col_bytes */
  size_t col_bytes;          /* one column buffer: rows * col_ld * images_per_chunk elements */
  size_t workspace_bytes;    /* everything above */
} convgemm_im2col_gemm_plan_t;

/* SUCCESS, or NOT_SUPPORTED with the reason: the kernels index pixels and rows with 32 bits and
 * the im2col grid has at most 65535 row blocks. */
convgemm_status_t convgemm_im2col_gemm_supports(const struct convgemm_conv_desc* desc);

/* The same test without reporting (for AUTO, whose successful queries leave the last error). */
int convgemm_im2col_gemm_fits(const struct convgemm_conv_desc* desc);

/* Bytes of one column buffer the preferred workspace aims for: three times L2. NOTES: an
 * L2-resident buffer (a third of L2) was measured slower (problem 55 on an H100: 10.7 ms at 7.6K
 * pixels per chunk against 8.2 ms at 64K): per-chunk costs (launch gaps, partial waves of both
 * kernels) outweigh re-reading the column matrix from HBM (docs/optimization_log.md). */
int64_t convgemm_im2col_target_col_bytes(const convgemm_device_info_t* info);

/* The least and the preferred workspace for `desc`. */
void convgemm_im2col_gemm_workspace(const struct convgemm_conv_desc* desc,
                                    const convgemm_device_info_t* info, size_t* min_bytes,
                                    size_t* preferred_bytes);

/* The plan for a workspace of `workspace_bytes` (at least the minimum): the largest chunk up to
 * the preferred one that fits, two buffers when two fit. */
void convgemm_im2col_gemm_make_plan(const struct convgemm_conv_desc* desc,
                                    const convgemm_device_info_t* info, size_t workspace_bytes,
                                    convgemm_im2col_gemm_plan_t* plan);

/* The plan for chunks of up to `pixels` pixels (a multiple of 4) and `buffers` buffers, whatever
 * workspace that takes (for tuning tools). */
void convgemm_im2col_gemm_plan_for_chunk(const struct convgemm_conv_desc* desc, int64_t pixels,
                                         int buffers, convgemm_im2col_gemm_plan_t* plan);

#ifdef __cplusplus
}
#endif

#endif /* CONVGEMM_IM2COL_GEMM_PLAN_H_ */
