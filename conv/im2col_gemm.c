/*
 * IM2COL_GEMM's driver: pack the filter, then per chunk of output pixels im2col into a column
 * buffer and one strided-batched cuBLASLt GEMM that writes the NCHW output in place (layouts in
 * im2col_gemm_plan.h). With two buffers the chunks alternate between the handle's two streams,
 * forked from the caller's stream after the packing and joined back at the end, so the call
 * stays asynchronous and ordered on the caller's stream. Tensors, column buffers and the packed
 * filter all hold the descriptor's data type; pointer arithmetic here is in bytes.
 */
#include "conv/im2col_gemm.h"

#include <stdint.h>

#include "gemm/cublaslt_gemm.h"
#include "gemm/pack_filter.h"
#include "im2col/im2col.h"

static convgemm_status_t launch_fail(cudaError_t e, const char* what) {
  return convgemm_fail(CONVGEMM_STATUS_CUDA_ERROR, "IM2COL_GEMM %s failed: %s (%s)", what,
                       cudaGetErrorName(e), cudaGetErrorString(e));
}

#define CUDA_TRY(call, what)                          \
  do {                                                \
    const cudaError_t cuda_try_error_ = (call);       \
    if (cuda_try_error_ != cudaSuccess)               \
      return launch_fail(cuda_try_error_, what);      \
  } while (0)

/* The GEMMs of one chunk: batched over groups (one image) or over images (groups == 1); with
 * several images and several groups, one batched-over-groups GEMM per image. */
static convgemm_status_t chunk_gemms(struct convgemm_handle* h, const struct convgemm_conv_desc* d,
                                     const convgemm_im2col_gemm_plan_t* plan, const char* col,
                                     const void* packed, char* y, int64_t n0, int64_t images,
                                     int64_t pix0, int64_t pixels, void* cublas_ws,
                                     cudaStream_t stream) {
  const int64_t e = d->elem_bytes; /* col and y are walked in bytes */
  const int64_t k_total = d->params.k;
  const int64_t groups = d->params.groups;
  convgemm_gemm_shape_t s;
  s.m = pixels;
  s.n = d->k_per_group;
  s.k = plan->krg_pad;
  s.lda = plan->col_ld;
  s.ldb = plan->krg_pad;
  s.ldd = plan->pq;
  s.tf32 = d->tf32_operands;
  s.sm_count = plan->gemm_sms;
  s.data_type = d->params.data_type;
  char* y_chunk = y + (n0 * k_total * plan->pq + pix0) * e;
  if (groups == 1 && images > 1) {
    s.batch = images;
    s.stride_a = plan->rows * plan->col_ld;
    s.stride_b = 0;
    s.stride_d = k_total * plan->pq;
    return convgemm_gemm_run(h->gemm, &s, col, packed, y_chunk, cublas_ws,
                             CONVGEMM_IM2COL_CUBLAS_WORKSPACE, stream);
  }
  s.batch = groups;
  s.stride_a = plan->krg_pad * plan->col_ld;
  s.stride_b = d->k_per_group * plan->krg_pad;
  s.stride_d = d->k_per_group * plan->pq;
  for (int64_t i = 0; i < images; ++i)
    CONVGEMM_TRY(convgemm_gemm_run(h->gemm, &s, col + i * plan->rows * plan->col_ld * e, packed,
                                   y_chunk + i * k_total * plan->pq * e, cublas_ws,
                                   CONVGEMM_IM2COL_CUBLAS_WORKSPACE, stream));
  return CONVGEMM_STATUS_SUCCESS;
}

convgemm_status_t convgemm_im2col_gemm_enqueue(struct convgemm_handle* h,
                                               const struct convgemm_conv_desc* d,
                                               const convgemm_im2col_gemm_plan_t* plan,
                                               const void* x, const void* w, const void* bias,
                                               void* y, void* workspace, cudaStream_t stream,
                                               int stages) {
  const convgemm_conv2d_params_t* p = &d->params;
  char* ws = (char*)workspace;
  void* packed = ws + plan->filter_offset;
  const int round_tf32 = d->tf32_operands;

  if (stages & CONVGEMM_IM2COL_STAGE_GEMM) {
    convgemm_pack_filter_args_t pack = {w, bias, packed, p->k, plan->krg, plan->krg_pad,
                                        plan->bias_rows, round_tf32, p->data_type};
    CUDA_TRY(convgemm_pack_filter_launch(&pack, stream), "filter packing launch");
  }

  /* Fork: the handle's streams start after the packing (and whatever preceded it). */
  const int forked = plan->buffers > 1;
  if (forked) {
    CUDA_TRY(cudaEventRecord(h->fork, stream), "recording the fork event");
    for (int i = 0; i < plan->buffers; ++i)
      CUDA_TRY(cudaStreamWaitEvent(h->streams[i], h->fork, 0), "waiting for the fork event");
  }

  convgemm_im2col_args_t im = {0};
  im.x = x;
  im.c = p->c; im.h = p->h; im.w = p->w;
  im.r = p->r; im.s = p->s;
  im.pad_h = p->pad_h; im.pad_w = p->pad_w;
  im.stride_h = p->stride_h; im.stride_w = p->stride_w;
  im.dilation_h = p->dilation_h; im.dilation_w = p->dilation_w;
  im.groups = p->groups; im.c_per_group = d->c_per_group;
  im.p = d->p; im.q = d->q;
  im.krg = plan->krg; im.bias_rows = plan->bias_rows; im.krg_pad = plan->krg_pad;
  im.col_ld = plan->col_ld;
  im.round_tf32 = round_tf32;
  im.data_type = p->data_type;

  const size_t col_stride = (plan->col_bytes + CONVGEMM_IM2COL_ALIGN - 1) /
                            CONVGEMM_IM2COL_ALIGN * CONVGEMM_IM2COL_ALIGN;
  convgemm_status_t status = CONVGEMM_STATUS_SUCCESS;
  for (int64_t chunk = 0; chunk < plan->chunks && status == CONVGEMM_STATUS_SUCCESS; ++chunk) {
    const int b = (int)(chunk % plan->buffers);
    cudaStream_t s = forked ? h->streams[b] : stream;
    im.col = ws + plan->col_offset + (size_t)b * col_stride;
    if (plan->images_per_chunk > 1) {
      im.n0 = chunk * plan->images_per_chunk;
      im.images = p->n - im.n0 < plan->images_per_chunk ? p->n - im.n0 : plan->images_per_chunk;
      im.pix0 = 0;
      im.pixels = plan->pq;
    } else {
      im.n0 = chunk / plan->chunks_per_image;
      im.images = 1;
      im.pix0 = (chunk % plan->chunks_per_image) * plan->pixels_per_chunk;
      im.pixels = plan->pq - im.pix0 < plan->pixels_per_chunk ? plan->pq - im.pix0
                                                              : plan->pixels_per_chunk;
    }
    if (stages & CONVGEMM_IM2COL_STAGE_IM2COL) {
      const cudaError_t e = convgemm_im2col_launch(&im, s);
      if (e != cudaSuccess) {
        status = launch_fail(e, "im2col launch");
        break;
      }
    }
    if (stages & CONVGEMM_IM2COL_STAGE_GEMM)
      status = chunk_gemms(h, d, plan, (const char*)im.col, packed, (char*)y, im.n0, im.images,
                           im.pix0, im.pixels,
                           ws + plan->cublas_offset + (size_t)b * CONVGEMM_IM2COL_CUBLAS_WORKSPACE,
                           s);
  }

  /* Join, also after a failure, so the caller's stream never runs ahead of queued work. */
  if (forked) {
    for (int i = 0; i < plan->buffers; ++i) {
      cudaError_t e = cudaEventRecord(h->join[i], h->streams[i]);
      if (e == cudaSuccess) e = cudaStreamWaitEvent(stream, h->join[i], 0);
      if (e != cudaSuccess && status == CONVGEMM_STATUS_SUCCESS)
        status = launch_fail(e, "joining the streams");
    }
  }
  return status;
}

/* ---- the CUDA graph of a call ------------------------------------------------------------
 * A call enqueues 2-3 launches per chunk (hundreds for problem 55); queued one by one their host
 * cost rivals the GPU time. So a call is captured once into a CUDA graph and replayed with one
 * launch. The handle keeps a few graphs, one per descriptor (least recently used replaced); a
 * call with the same descriptor but other pointers re-captures and updates that graph's
 * executable in place (same shapes, so the same kernels and topology), re-instantiating only if
 * the update is refused.
 *
 * The graph is only an optimization, and a capture can fail for reasons outside this call.
 * Synchronizing a device or context while any of its streams is capturing is invalid and
 * invalidates the capture, whichever thread does it and whatever the capture mode (ThreadLocal
 * only keeps other threads' unsafe calls from being refused): another thread's
 * cudaDeviceSynchronize, synchronous cudaMemcpy or legacy-stream free can break ours. Seen with
 * 8 threads, each with its own handle, when each handle still had a cuBLASLt handle of its own
 * (cublasLtDestroy synchronizes the context): a capture failing with
 * cudaErrorStreamCaptureInvalidated in round 297 of 300, and about one run in sixteen crashing
 * inside the driver (conv/context_state.c). convgemm_destroy no longer synchronizes, but the
 * caller's threads may. So a capture, update or instantiation that
 * fails costs only the graph: the capture is ended (the handle's streams leave capture mode), the
 * partial graph and the slot are dropped (a later call captures again), the runtime error our
 * own failed call left is cleared, and this call enqueues the same launches directly (same
 * kernels and numbers, more host time). A real error (a sticky fault of earlier work, a bad
 * argument, cuBLASLt refusing the shape) fails the direct enqueue too and is reported there. */

static int same_params(const convgemm_conv2d_params_t* a, const convgemm_conv2d_params_t* b) {
  return a->n == b->n && a->c == b->c && a->h == b->h && a->w == b->w && a->k == b->k &&
         a->r == b->r && a->s == b->s && a->pad_h == b->pad_h && a->pad_w == b->pad_w &&
         a->stride_h == b->stride_h && a->stride_w == b->stride_w &&
         a->dilation_h == b->dilation_h && a->dilation_w == b->dilation_w &&
         a->groups == b->groups && a->has_bias == b->has_bias && a->data_type == b->data_type &&
         a->math_mode == b->math_mode;
}

static int same_pointers(const convgemm_im2col_graph_t* g, const void* x, const void* w,
                         const void* bias, const void* y, const void* workspace,
                         size_t workspace_bytes) {
  return g->x == x && g->w == w && g->bias == bias && g->y == y && g->workspace == workspace &&
         g->workspace_bytes == workspace_bytes;
}

static void drop_graph(convgemm_im2col_graph_t* g) {
  if (g->exec != NULL) cudaGraphExecDestroy(g->exec);
  g->exec = NULL;
}

/* Captures the call (origin: the handle's first stream) into a graph, or returns NULL. The
 * capture is ended on every path after it began. */
static cudaGraph_t capture(struct convgemm_handle* h, const struct convgemm_conv_desc* d,
                           const convgemm_im2col_gemm_plan_t* plan, const void* x,
                           const void* w, const void* bias, void* y, void* workspace) {
  cudaStream_t origin = h->streams[0];
  if (cudaStreamBeginCapture(origin, cudaStreamCaptureModeThreadLocal) != cudaSuccess) {
    cudaGetLastError(); /* our own failed call; a sticky error stays and the fallback sees it */
    return NULL;
  }
  /* The origin is also the first chunk stream; forking and joining through it is legal. */
  const convgemm_status_t status = convgemm_im2col_gemm_enqueue(
      h, d, plan, x, w, bias, y, workspace, origin, CONVGEMM_IM2COL_STAGES_ALL);
  cudaGraph_t graph = NULL;
  const cudaError_t e = cudaStreamEndCapture(origin, &graph);
  /* A CUDA_ERROR status and a failed end are runtime calls of ours that failed: clear the error
   * they left, or the next `kernel<<<>>>; cudaGetLastError()` of this thread would report it. */
  if (e != cudaSuccess || status == CONVGEMM_STATUS_CUDA_ERROR) cudaGetLastError();
  if (e != cudaSuccess || status != CONVGEMM_STATUS_SUCCESS) {
    if (graph != NULL) cudaGraphDestroy(graph);
    return NULL;
  }
  return graph;
}

/* Brings slot g up to date for this call (capture, then update or instantiate); 0 if that
 * failed, the slot then empty. */
static int refresh_graph(struct convgemm_handle* h, const struct convgemm_conv_desc* d,
                         const convgemm_im2col_gemm_plan_t* plan, convgemm_im2col_graph_t* g,
                         const void* x, const void* w, const void* bias, void* y,
                         void* workspace, size_t workspace_bytes) {
  cudaGraph_t graph = capture(h, d, plan, x, w, bias, y, workspace);
  if (graph == NULL) {
    drop_graph(g);
    return 0;
  }
  int updated = 0;
  /* Only a graph of the same plan (same workspace size, so the same chunks) can be updated;
   * another size changes the topology and is re-instantiated without a doomed update attempt
   * (compute-sanitizer reports refused updates as API errors). */
  if (g->exec != NULL && g->workspace_bytes == workspace_bytes) {
    cudaGraphExecUpdateResultInfo info;
    updated = cudaGraphExecUpdate(g->exec, graph, &info) == cudaSuccess;
    if (!updated) cudaGetLastError(); /* handled by re-instantiating below */
  }
  if (!updated) {
    drop_graph(g);
    if (cudaGraphInstantiate(&g->exec, graph, 0) != cudaSuccess) {
      cudaGetLastError(); /* our own failed call; the call falls back to direct launches */
      g->exec = NULL;
    }
  }
  cudaGraphDestroy(graph);
  if (g->exec == NULL) return 0;
  g->params = d->params;
  g->x = x;
  g->w = w;
  g->bias = bias;
  g->y = y;
  g->workspace = workspace;
  g->workspace_bytes = workspace_bytes;
  return 1;
}

convgemm_status_t convgemm_im2col_gemm_forward(struct convgemm_handle* h,
                                               const struct convgemm_conv_desc* d,
                                               const void* x, const void* w, const void* bias,
                                               void* y, void* workspace, size_t workspace_bytes,
                                               cudaStream_t stream) {
  convgemm_im2col_gemm_plan_t plan;
  convgemm_im2col_gemm_make_plan(d, &h->info, workspace_bytes, &plan);

  /* A caller capturing its own graph gets the launches themselves, captured into its graph. */
  enum cudaStreamCaptureStatus capturing = cudaStreamCaptureStatusNone;
  CUDA_TRY(cudaStreamIsCapturing(stream, &capturing), "querying the stream's capture status");
  if (capturing != cudaStreamCaptureStatusNone)
    return convgemm_im2col_gemm_enqueue(h, d, &plan, x, w, bias, y, workspace, stream,
                                        CONVGEMM_IM2COL_STAGES_ALL);

  /* The slot of this descriptor, else the least recently used one. */
  convgemm_im2col_graph_t* g = &h->im2col_graphs[0];
  int found = 0;
  for (int i = 0; i < CONVGEMM_IM2COL_GRAPHS && !found; ++i) {
    convgemm_im2col_graph_t* slot = &h->im2col_graphs[i];
    if (slot->exec != NULL && same_params(&slot->params, &d->params)) {
      g = slot;
      found = 1;
    } else if (slot->exec == NULL || (g->exec != NULL && slot->last_use < g->last_use)) {
      g = slot;
    }
  }
  if (!found) drop_graph(g);
  if ((g->exec == NULL || !same_pointers(g, x, w, bias, y, workspace, workspace_bytes)) &&
      !refresh_graph(h, d, &plan, g, x, w, bias, y, workspace, workspace_bytes))
    return convgemm_im2col_gemm_enqueue(h, d, &plan, x, w, bias, y, workspace, stream,
                                        CONVGEMM_IM2COL_STAGES_ALL);
  g->last_use = ++h->im2col_clock;
  CUDA_TRY(cudaGraphLaunch(g->exec, stream), "graph launch");
  return CONVGEMM_STATUS_SUCCESS;
}
