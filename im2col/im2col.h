/*
 * On-the-fly im2col: the column matrix of one chunk of output pixels, written into the caller's
 * workspace for the GEMM to consume right away (while it is in L2).
 *
 * Column matrix of a chunk, column-major (pixel index fastest), one block per image of the chunk:
 *   col[img][row][pix], row = g*krg_pad + j, pix < pixels (leading dimension col_ld)
 *   j <  krg:               x[n][g*C/G + c][p*stride_h - pad_h + r*dilation_h]
 *                                          [q*stride_w - pad_w + s*dilation_w], j = (c*R + r)*S + s,
 *                           zero where that falls in the padding
 *   krg <= j < krg+bias_rows: 1 (the bias rows: the packed filter holds the bias there)
 *   otherwise:              0 (padding of krg_pad to a multiple of 4)
 * where (p, q) = ((pix0 + pix) / Q, (pix0 + pix) % Q) and n = n0 + img. The column matrix has
 * x's element type (float32, float16 or bfloat16: data_type). In DEFAULT math on float32 data the
 * values are rounded to TF32 (ties away) here, so cuBLAS's TF32 GEMM sees exact TF32 operands;
 * 16-bit values are copied as they are.
 */
#ifndef CONVGEMM_IM2COL_IM2COL_H_
#define CONVGEMM_IM2COL_IM2COL_H_

#include <stdint.h>

#include <cuda_runtime_api.h>

#include "conv/convgemm.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The launch's grid: x = 1024-pixel blocks, y = groups * (ceil((C/G) / this) + 1) (at most
 * 65535), z = images of the chunk (at most 65535). Each thread stores 4 pixels at once (a float4,
 * or 8 bytes of 16-bit values), so col_ld must be a multiple of 4 and col 16-byte (float32) or
 * 8-byte (16-bit) aligned (else cudaErrorInvalidValue). */
enum { CONVGEMM_IM2COL_CHANNELS_PER_BLOCK = 2 };

typedef struct convgemm_im2col_args {
  const void* x;           /* (N, C, H, W) elements of data_type */
  void* col;               /* (images, rows, col_ld) elements of data_type */
  int64_t c, h, w;         /* input channels and plane */
  int64_t r, s, pad_h, pad_w, stride_h, stride_w, dilation_h, dilation_w;
  int64_t groups, c_per_group;
  int64_t p, q;            /* output plane */
  int64_t krg, bias_rows, krg_pad;
  int64_t col_ld;
  int64_t n0;              /* first image of the chunk */
  int64_t images;          /* images in the chunk */
  int64_t pix0;            /* first pixel (within each image) of the chunk */
  int64_t pixels;          /* pixels per image in the chunk (<= col_ld) */
  int round_tf32;          /* float32 data in DEFAULT math (never set for 16-bit data) */
  convgemm_data_type_t data_type; /* of x and col (last: the fields before keep their offsets) */
} convgemm_im2col_args_t;

/* Queues the im2col of one chunk on `stream`; returns the launch's error. */
cudaError_t convgemm_im2col_launch(const convgemm_im2col_args_t* args, cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif /* CONVGEMM_IM2COL_IM2COL_H_ */
