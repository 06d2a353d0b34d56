/* IM2COL_GEMM's host-side chunking and workspace layout (see im2col_gemm_plan.h). */
#include "conv/im2col_gemm_plan.h"

#include "im2col/im2col.h"

static int64_t round_up(int64_t a, int64_t b) { return (a + b - 1) / b * b; }
static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

int64_t convgemm_im2col_target_col_bytes(const convgemm_device_info_t* info) {
  return (int64_t)info->l2_bytes * 3;
}

/* Row layout and the sizes that do not depend on the chunk. */
static void plan_rows(const struct convgemm_conv_desc* d, convgemm_im2col_gemm_plan_t* plan) {
  const convgemm_conv2d_params_t* p = &d->params;
  plan->krg = d->c_per_group * p->r * p->s;
  /* Two bias rows (TF32 high part and remainder) only for TF32 operands; a 16-bit bias is exact
   * in the GEMM's fp32 accumulator as it is. */
  plan->bias_rows = !p->has_bias ? 0 : d->tf32_operands ? 2 : 1;
  plan->krg_pad = round_up(plan->krg + plan->bias_rows, 4);
  plan->rows = p->groups * plan->krg_pad;
  plan->pq = d->p * d->q;
}

/* round_up that stays at INT64_MAX instead of overflowing. */
static int64_t sat_round_up(int64_t x, int64_t m) {
  return x > INT64_MAX - m ? INT64_MAX : round_up(x, m);
}

/* Fills the chunk geometry for chunks of up to `pixels` pixels and `buffers` buffers. */
static void plan_chunks(const struct convgemm_conv_desc* d, int64_t pixels, int buffers,
                        convgemm_im2col_gemm_plan_t* plan) {
  const int64_t pq_pad = round_up(plan->pq, 4);
  if (pixels >= pq_pad) {
    plan->images_per_chunk =
        min64(min64(d->params.n, pixels / pq_pad), CONVGEMM_IM2COL_MAX_IMAGES);
    plan->pixels_per_chunk = plan->pq;
    plan->col_ld = pq_pad;
    plan->chunks_per_image = 1;
    plan->chunks = ceil_div(d->params.n, plan->images_per_chunk);
  } else {
    plan->images_per_chunk = 1;
    plan->pixels_per_chunk = pixels;
    plan->col_ld = pixels;
    plan->chunks_per_image = ceil_div(plan->pq, pixels);
    plan->chunks = d->params.n * plan->chunks_per_image;
  }
  plan->buffers = buffers;
  plan->gemm_sms = 0;
  /* Saturating (conv/internal.h): K and the rows may each approach 2^31, and a workspace of
   * INT64_MAX bytes is simply one no caller has. */
  const int64_t filter_bytes =
      convgemm_sat_mul(convgemm_sat_mul(d->params.k, plan->krg_pad), d->elem_bytes);
  const int64_t col_bytes = convgemm_sat_mul(
      convgemm_sat_mul(plan->rows, plan->col_ld),
      convgemm_sat_mul(plan->images_per_chunk, d->elem_bytes));
  plan->col_bytes = (size_t)col_bytes;
  plan->filter_offset = 0;
  const int64_t cublas_offset = sat_round_up(filter_bytes, CONVGEMM_IM2COL_ALIGN);
  const int64_t col_offset = convgemm_sat_add(
      cublas_offset, (int64_t)buffers * CONVGEMM_IM2COL_CUBLAS_WORKSPACE);
  plan->cublas_offset = (size_t)cublas_offset;
  plan->col_offset = (size_t)col_offset;
  plan->workspace_bytes = (size_t)convgemm_sat_add(
      col_offset, convgemm_sat_mul(buffers, sat_round_up(col_bytes, CONVGEMM_IM2COL_ALIGN)));
}

/* Pixels per chunk of the preferred plan: the target buffer size, at least the minimum chunk,
 * a multiple of 4; whole images when they fit. */
static int64_t preferred_pixels(const struct convgemm_conv_desc* d,
                                const convgemm_device_info_t* info,
                                const convgemm_im2col_gemm_plan_t* plan) {
  const int64_t bytes_per_pixel = plan->rows * d->elem_bytes;
  int64_t pixels = convgemm_im2col_target_col_bytes(info) / bytes_per_pixel / 4 * 4;
  if (pixels < CONVGEMM_IM2COL_MIN_PIXELS) pixels = CONVGEMM_IM2COL_MIN_PIXELS;
  const int64_t all = round_up(plan->pq, 4) * d->params.n;
  return pixels < all ? pixels : all;
}

static int64_t min_pixels(const convgemm_im2col_gemm_plan_t* plan) {
  return min64(CONVGEMM_IM2COL_MIN_PIXELS, round_up(plan->pq, 4));
}

void convgemm_im2col_gemm_workspace(const struct convgemm_conv_desc* desc,
                                    const convgemm_device_info_t* info, size_t* min_bytes,
                                    size_t* preferred_bytes) {
  convgemm_im2col_gemm_plan_t plan;
  plan_rows(desc, &plan);
  plan_chunks(desc, min_pixels(&plan), 1, &plan);
  *min_bytes = plan.workspace_bytes;
  plan_chunks(desc, preferred_pixels(desc, info, &plan), 2, &plan);
  *preferred_bytes = plan.workspace_bytes;
}

void convgemm_im2col_gemm_make_plan(const struct convgemm_conv_desc* desc,
                                    const convgemm_device_info_t* info, size_t workspace_bytes,
                                    convgemm_im2col_gemm_plan_t* plan) {
  plan_rows(desc, plan);
  const int64_t preferred = preferred_pixels(desc, info, plan);
  const int64_t smallest = min_pixels(plan);
  const int64_t bytes_per_pixel = plan->rows * desc->elem_bytes;
  /* No workspace has 2^63 bytes; larger claims are treated as that much (the size arithmetic
   * below is signed). */
  if (workspace_bytes > (size_t)INT64_MAX) workspace_bytes = (size_t)INT64_MAX;
  for (int buffers = 2; buffers >= 1; --buffers) {
    plan_chunks(desc, smallest, buffers, plan);
    if (plan->workspace_bytes > workspace_bytes) continue;
    /* The largest chunk up to the preferred one whose buffers fit in what is left. */
    const int64_t per_buffer = ((int64_t)(workspace_bytes - plan->col_offset)) / buffers /
                               CONVGEMM_IM2COL_ALIGN * CONVGEMM_IM2COL_ALIGN;
    int64_t pixels = min64(preferred, per_buffer / bytes_per_pixel / 4 * 4);
    if (pixels < smallest) pixels = smallest;
    plan_chunks(desc, pixels, buffers, plan);
    while (plan->workspace_bytes > workspace_bytes && pixels > smallest) {
      pixels = pixels - 4 < smallest ? smallest : pixels - 4;
      plan_chunks(desc, pixels, buffers, plan);
    }
    return;
  }
  plan_chunks(desc, smallest, 1, plan); /* below the minimum: the caller checked; keep it defined */
}

/* The reason IM2COL_GEMM can't run `desc`, or NULL; *value is the offending number. */
static const char* unsupported_reason(const struct convgemm_conv_desc* desc, int64_t* value) {
  const convgemm_conv2d_params_t* p = &desc->params;
  convgemm_im2col_gemm_plan_t plan;
  plan_rows(desc, &plan);
  const int64_t row_blocks =
      p->groups * (ceil_div(desc->c_per_group, CONVGEMM_IM2COL_CHANNELS_PER_BLOCK) + 1);
  if (plan.pq > INT32_MAX) {
    *value = plan.pq;
    return "IM2COL_GEMM needs P*Q <= 2^31-1 output pixels per image, got %lld";
  }
  if (p->h + 2 * p->pad_h > INT32_MAX || p->w + 2 * p->pad_w > INT32_MAX) {
    *value = (p->h + 2 * p->pad_h > INT32_MAX) ? p->h + 2 * p->pad_h : p->w + 2 * p->pad_w;
    return "IM2COL_GEMM needs each side of the padded input plane <= 2^31-1, got %lld";
  }
  if (plan.rows > INT32_MAX) {
    *value = plan.rows;
    return "IM2COL_GEMM needs groups * ((C/G)*R*S + bias rows, padded to 4) <= 2^31-1 column-"
           "matrix rows, got %lld";
  }
  if (row_blocks > CONVGEMM_IM2COL_MAX_ROW_BLOCKS) {
    *value = row_blocks;
    return "IM2COL_GEMM needs groups * (ceil((C/G) / 2) + 1) <= 65535 im2col row blocks, got "
           "%lld";
  }
  return NULL;
}

int convgemm_im2col_gemm_fits(const struct convgemm_conv_desc* desc) {
  int64_t value;
  return unsupported_reason(desc, &value) == NULL;
}

convgemm_status_t convgemm_im2col_gemm_supports(const struct convgemm_conv_desc* desc) {
  int64_t value = 0;
  const char* reason = unsupported_reason(desc, &value);
  if (reason == NULL) return CONVGEMM_STATUS_SUCCESS;
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#endif
  return convgemm_fail(CONVGEMM_STATUS_NOT_SUPPORTED, reason, (long long)value);
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
}

void convgemm_im2col_gemm_plan_for_chunk(const struct convgemm_conv_desc* desc, int64_t pixels,
                                         int buffers, convgemm_im2col_gemm_plan_t* plan) {
  plan_rows(desc, plan);
  plan_chunks(desc, pixels, buffers, plan);
}
