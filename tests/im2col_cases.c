/* gpu_im2col_gemm_test's extra cases and workspace sizes (im2col_cases.h). */
#include "tests/im2col_cases.h"

#include <stdio.h>

typedef struct extra_row {
  const char* name;
  int64_t n, c, h, w, k, r, s, pad, groups;
  int has_bias;
} extra_row_t;

/* P*Q below IM2COL_GEMM's smallest chunk (128 pixels) puts whole images in a chunk.
 *   name                                                    n   c   h   w    k  r  s pad  g bias */
static const extra_row_t kRows[] = {
    {"whole images, groups 1, N=5, P*Q=42",                  5,  4,  6,  7,  32, 3, 3, 1, 1, 1},
    {"whole images, groups 2, N=5, P*Q=25",                  5,  8,  5,  5,  16, 3, 3, 1, 2, 0},
    {"whole images, depthwise C=K=G=8, N=4",                 4,  8,  4,  4,   8, 3, 3, 1, 8, 1},
    {"whole images, groups 3, C/G*R*S=18 (+2 bias rows)",    3,  6,  5,  5,   9, 3, 3, 1, 3, 1},
    {"P*Q=1, N=40: up to 40 images per chunk",              40,  3,  3,  3,   8, 3, 3, 0, 1, 1},
    {"P*Q=128, exactly the smallest chunk",                  2,  8,  8, 16,  32, 1, 1, 0, 1, 0},
    {"P*Q=129, a one-pixel last chunk",                      2,  8,  3, 43,  32, 1, 1, 0, 1, 1},
    {"P*Q=437, pixel chunks with a partial last one",        2,  5, 19, 23,  40, 3, 3, 1, 1, 1},
    {"C/G*R*S=2: bias rows pad 4 (DEFAULT) and 3 -> 4",      2,  2, 11, 11,  33, 1, 1, 0, 1, 1},
    {"C/G*R*S=3: bias rows 5 -> 8 (DEFAULT) and 4",          2,  1, 10, 12,  32, 1, 3, 0, 1, 1},
    {"C/G*R*S=4: 4 without bias, 6 -> 8, 5 -> 8",            2,  1, 12, 12,  32, 2, 2, 0, 1, 1},
    {"C/G*R*S=6: bias rows 8 (DEFAULT) and 7 -> 8",          2,  6,  9, 13,  32, 1, 1, 0, 1, 1},
    {"K/G=256, one image",                                   1,  4,  8,  8, 256, 3, 3, 1, 1, 1},
};

int im2col_extra_case_count(void) { return (int)(sizeof kRows / sizeof kRows[0]); }

void im2col_extra_case(int i, direct_case_t* out) {
  const extra_row_t* row = &kRows[i];
  out->name = row->name;
  out->seed = 3000 + (uint64_t)i;
  convgemm_conv2d_params_init(&out->params, row->n, row->c, row->h, row->w, row->k, row->r,
                              row->s);
  out->params.pad_h = out->params.pad_w = row->pad;
  out->params.groups = row->groups;
  out->params.has_bias = row->has_bias;
}

int im2col_same_geometry(const convgemm_im2col_gemm_plan_t* a,
                         const convgemm_im2col_gemm_plan_t* b) {
  return a->buffers == b->buffers && a->col_ld == b->col_ld &&
         a->pixels_per_chunk == b->pixels_per_chunk && a->images_per_chunk == b->images_per_chunk;
}

void im2col_describe_plan(const convgemm_im2col_gemm_plan_t* plan, char* buf, size_t size) {
  snprintf(buf, size,
           "buffers %d, %lld pixels x %lld images per chunk (col_ld %lld), %lld chunks, %zu bytes",
           plan->buffers, (long long)plan->pixels_per_chunk, (long long)plan->images_per_chunk,
           (long long)plan->col_ld, (long long)plan->chunks, plan->workspace_bytes);
}

static int64_t round_up4(int64_t a) { return (a + 3) / 4 * 4; }

/* Appends `bytes` (at least min_bytes) unless its plan is one already listed. */
static int add_size(const struct convgemm_conv_desc* d, const convgemm_device_info_t* info,
                    size_t min_bytes, size_t bytes, size_t* sizes, int count) {
  if (count >= IM2COL_MAX_WORKSPACES || bytes < min_bytes) return count;
  convgemm_im2col_gemm_plan_t plan, other;
  convgemm_im2col_gemm_make_plan(d, info, bytes, &plan);
  for (int i = 0; i < count; ++i) {
    convgemm_im2col_gemm_make_plan(d, info, sizes[i], &other);
    if (im2col_same_geometry(&plan, &other)) return count;
  }
  sizes[count] = bytes;
  return count + 1;
}

/* The workspace of chunks of `pixels` pixels and `buffers` buffers. */
static size_t chunk_bytes(const struct convgemm_conv_desc* d, int64_t pixels, int buffers) {
  convgemm_im2col_gemm_plan_t plan;
  convgemm_im2col_gemm_plan_for_chunk(d, pixels, buffers, &plan);
  return plan.workspace_bytes;
}

int im2col_workspace_sizes(const struct convgemm_conv_desc* d, const convgemm_device_info_t* info,
                           size_t* sizes) {
  size_t min_bytes = 0, pref_bytes = 0;
  convgemm_im2col_gemm_workspace(d, info, &min_bytes, &pref_bytes);
  int count = 0;
  sizes[count++] = min_bytes;
  count = add_size(d, info, min_bytes, pref_bytes, sizes, count);
  if (count < 2 && pref_bytes != min_bytes) sizes[count++] = pref_bytes; /* same plan, kept */

  const int64_t pq = d->p * d->q;
  const int64_t pq_pad = round_up4(pq);
  const int64_t smallest =
      pq_pad < CONVGEMM_IM2COL_MIN_PIXELS ? pq_pad : CONVGEMM_IM2COL_MIN_PIXELS;
  /* Two buffers of the smallest chunk. */
  count = add_size(d, info, min_bytes, chunk_bytes(d, smallest, 2), sizes, count);
  /* Pixel chunks that do not divide P*Q, one buffer and two. */
  const int64_t pixel_chunks[3] = {smallest + 4, 200, round_up4(pq / 2 + 1)};
  for (int i = 0; i < 3; ++i) {
    const int64_t c = pixel_chunks[i];
    if (c < smallest || c >= pq_pad || pq % c == 0) continue;
    count = add_size(d, info, min_bytes, chunk_bytes(d, c, 1 + i % 2), sizes, count);
  }
  /* Two and three whole images per chunk (one buffer, then two). */
  if (d->params.n >= 2)
    count = add_size(d, info, min_bytes, chunk_bytes(d, 2 * pq_pad, 1), sizes, count);
  if (d->params.n >= 3)
    count = add_size(d, info, min_bytes, chunk_bytes(d, 3 * pq_pad, 2), sizes, count);
  /* An odd size halfway. */
  count = add_size(d, info, min_bytes, ((min_bytes + pref_bytes) / 2) | 1, sizes, count);

  /* Ascending (insertion sort: a handful of entries). */
  for (int i = 1; i < count; ++i)
    for (int j = i; j > 0 && sizes[j - 1] > sizes[j]; --j) {
      const size_t t = sizes[j];
      sizes[j] = sizes[j - 1];
      sizes[j - 1] = t;
    }
  return count;
}

void im2col_coverage_add(const struct convgemm_conv_desc* d, const convgemm_device_info_t* info,
                         im2col_coverage_t* cov) {
  size_t sizes[IM2COL_MAX_WORKSPACES];
  const int count = im2col_workspace_sizes(d, info, sizes);
  for (int i = 0; i < count; ++i) {
    convgemm_im2col_gemm_plan_t plan;
    convgemm_im2col_gemm_make_plan(d, info, sizes[i], &plan);
    cov->one_buffer += plan.buffers == 1;
    cov->two_buffers += plan.buffers == 2;
    if (plan.images_per_chunk > 1) {
      cov->multi_image_groups_1 += d->params.groups == 1;
      cov->multi_image_groups_n += d->params.groups > 1;
      cov->multi_image_partial_last += d->params.n % plan.images_per_chunk != 0;
    }
    if (plan.pixels_per_chunk < plan.pq) {
      cov->pixel_chunks_partial_last += plan.pq % plan.pixels_per_chunk != 0;
      cov->one_pixel_last_chunk += plan.pq % plan.pixels_per_chunk == 1;
      cov->three_or_more_chunks_per_image += plan.chunks_per_image >= 3;
    }
    cov->single_chunk += plan.chunks == 1;
    if (plan.bias_rows == 2) {
      cov->bias_default_padded += plan.krg_pad > plan.krg + 2;
      cov->bias_default_exact += plan.krg_pad == plan.krg + 2;
    }
    if (plan.bias_rows == 1) {
      cov->bias_ieee_padded += plan.krg_pad > plan.krg + 1;
      cov->bias_ieee_exact += plan.krg_pad == plan.krg + 1;
    }
  }
}

int im2col_coverage_complete(const im2col_coverage_t* cov, char* buf, size_t size) {
  snprintf(buf, size,
           "buffers 1/2 %d/%d; several images per chunk: groups 1 %d, groups > 1 %d, partial "
           "last chunk %d; pixel chunks: partial last %d, one-pixel last %d, 3+ per image %d; "
           "one chunk %d; bias rows DEFAULT padded/exact %d/%d, IEEE %d/%d",
           cov->one_buffer, cov->two_buffers, cov->multi_image_groups_1, cov->multi_image_groups_n,
           cov->multi_image_partial_last, cov->pixel_chunks_partial_last,
           cov->one_pixel_last_chunk, cov->three_or_more_chunks_per_image, cov->single_chunk,
           cov->bias_default_padded, cov->bias_default_exact, cov->bias_ieee_padded,
           cov->bias_ieee_exact);
  return cov->one_buffer > 0 && cov->two_buffers > 0 && cov->multi_image_groups_1 > 0 &&
         cov->multi_image_groups_n > 0 && cov->multi_image_partial_last > 0 &&
         cov->pixel_chunks_partial_last > 0 && cov->one_pixel_last_chunk > 0 &&
         cov->three_or_more_chunks_per_image > 0 && cov->single_chunk > 0 &&
         cov->bias_default_padded > 0 && cov->bias_default_exact > 0 &&
         cov->bias_ieee_padded > 0 && cov->bias_ieee_exact > 0;
}
