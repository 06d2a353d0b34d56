/*
 * What every convolution kernel needs to know about the shape (32-bit: each dimension is at most
 * 2^31-1, validated at descriptor creation; offsets built from them are 64-bit in the kernels),
 * and how a kernel's linear tile index splits into (k tile, q tile, p tile, group, image).
 */
#ifndef CONVGEMM_CONV_CONV_GEOMETRY_CUH_
#define CONVGEMM_CONV_CONV_GEOMETRY_CUH_

#include <cstdint>

#include "conv/internal.h"

namespace convgemm {

struct ConvGeometry {
  int n, c, in_h, in_w, k, r, s;  // in_h, in_w: H, W
  int pad_h, pad_w, stride_h, stride_w, dilation_h, dilation_w;
  int groups, cg, kg, p, q;       // cg, kg: C/G, K/G; p, q: output height, width
};

inline ConvGeometry conv_geometry(const struct convgemm_conv_desc& d) {
  const convgemm_conv2d_params_t& p = d.params;
  ConvGeometry g;
  g.n = (int)p.n; g.c = (int)p.c; g.in_h = (int)p.h; g.in_w = (int)p.w;
  g.k = (int)p.k; g.r = (int)p.r; g.s = (int)p.s;
  g.pad_h = (int)p.pad_h; g.pad_w = (int)p.pad_w;
  g.stride_h = (int)p.stride_h; g.stride_w = (int)p.stride_w;
  g.dilation_h = (int)p.dilation_h; g.dilation_w = (int)p.dilation_w;
  g.groups = (int)p.groups; g.cg = (int)d.c_per_group; g.kg = (int)d.k_per_group;
  g.p = (int)d.p; g.q = (int)d.q;
  return g;
}

// Tile order, fastest first: k tile, q tile, p tile, group, image (the k tiles of one pixel tile
// run side by side and share its input window in L2).
struct TileCoord {
  int kt, qt, pt, g, n;
};

__device__ __forceinline__ TileCoord split_tile(int64_t tile, int k_tiles, int q_tiles,
                                                int p_tiles, int groups) {
  TileCoord c;
  c.kt = (int)(tile % k_tiles); tile /= k_tiles;
  c.qt = (int)(tile % q_tiles); tile /= q_tiles;
  c.pt = (int)(tile % p_tiles); tile /= p_tiles;
  c.g = (int)(tile % groups);   tile /= groups;
  c.n = (int)tile;
  return c;
}

}  // namespace convgemm

#endif  // CONVGEMM_CONV_CONV_GEOMETRY_CUH_
