// Data movement of elements of any type (element_bytes each, every octet DataType): Slice, Split,
// Gather, Expand, Tile, DepthToSpace, SpaceToDepth. Row-major; x is the input, y the output.
//
//   Slice         per dimension d, y coordinate i reads x coordinate start_d + i * step_d for
//                 i < count_d (resolve_slice turns ONNX's starts/ends/axes/steps into these).
//   Split         output k is x[..., offset_k : offset_k + size_k, ...] along `axis`.
//   Gather        x viewed as [outer, n, inner] around `axis` (n = x_dims[axis]), indices of any dims:
//                   y[o, j, k] = x[o, wrap(indices[j]), k],  wrap(v) = v < 0 ? v + n : v
//                 so y's dims are x_dims[:axis] + index_dims + x_dims[axis+1:].
//   Expand        numpy broadcasting, dims aligned on the right: x coordinate = y coordinate where
//                 x's dimension is > 1, else 0.
//   Tile          y_dims[d] = x_dims[d] * repeats[d]; x coordinate = y coordinate mod x_dims[d].
//   DepthToSpace  x [N, C, H, W], blocksize b, C' = C / b^2, y [N, C', H*b, W*b]:
//                   y[n, c, h, w] = x[n, src, h / b, w / b],  bh = h mod b, bw = w mod b,
//                   DCR: src = (bh * b + bw) * C' + c      CRD: src = c * b^2 + bh * b + bw
//   SpaceToDepth  x [N, C, H, W], y [N, C*b^2, H/b, W/b]:
//                   y[n, (bh * b + bw) * C + c, h, w] = x[n, c, h * b + bh, w * b + bw]
//
// The CPU reference (kernels/cpu/data_movement_ref.h) states each formula as its own loop. The CUDA
// kernels (kernels/cuda/data_movement_cuda.h) run all but Gather and Split as one strided copy,
//   y[i] = x[offset + sum_d coordinate_d(i) * stride_d]     (coordinates of i in view.dims),
// with the StridedView each operator's formula is (the *_view functions below: host code, so a test
// checks them against the reference on a machine without a GPU).
#pragma once

#include <cstdint>
#include <vector>

#include "engine/error.h"
#include "engine/tensor.h"

namespace octet::kernels {

// ---- Slice -------------------------------------------------------------------------------------------
struct SliceAxis {
  int64_t start = 0;  // x coordinate of y coordinate 0 (meaningless when count == 0)
  int64_t step = 1;
  int64_t count = 0;  // y's dimension
};

// ONNX Slice (opset 10+; opset 1 is the case steps = 1): for each listed axis, with n = x_dims[axis],
//   start += n if start < 0;  end += n if end < 0;
//   step > 0: start, end clamped to [0, n];       count = max(0, ceil((end - start) / step))
//   step < 0: start clamped to [0, n-1], end to [-1, n-1];  count = max(0, ceil((start - end) / -step))
// and count = 0 when n = 0. Unlisted axes are taken whole. `axes` are non-negative and distinct, steps
// non-zero (the importer normalises them). Huge starts, ends and steps (INT64_MAX/INT64_MIN style)
// only clamp: the counts are computed as 1 + (end - start -/+ 1) / step, which cannot overflow.
inline std::vector<SliceAxis> resolve_slice(const Dims& x_dims, const Dims& axes, const Dims& starts, const Dims& ends,
                                            const Dims& steps) {
  OCTET_CHECK(starts.size() == axes.size() && ends.size() == axes.size() && steps.size() == axes.size(),
              "Slice: ", axes.size(), " axes with ", starts.size(), " starts, ", ends.size(), " ends, ", steps.size(),
              " steps");
  std::vector<SliceAxis> out(x_dims.size());
  for (size_t d = 0; d < x_dims.size(); ++d) out[d] = {0, 1, x_dims[d]};
  const auto clamp = [](int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : (v > hi ? hi : v); };
  for (size_t i = 0; i < axes.size(); ++i) {
    OCTET_CHECK(axes[i] >= 0 && axes[i] < static_cast<int64_t>(x_dims.size()) && steps[i] != 0, "Slice: axis ",
                axes[i], " with step ", steps[i], " does not fit ", to_string(x_dims));
    const int64_t n = x_dims[static_cast<size_t>(axes[i])];
    const int64_t step = steps[i];
    int64_t start = starts[i] < 0 ? starts[i] + n : starts[i];
    int64_t end = ends[i] < 0 ? ends[i] + n : ends[i];
    int64_t count = 0;
    if (n == 0) {
      start = 0;  // nothing to take, whichever the direction
    } else if (step > 0) {
      start = clamp(start, 0, n);
      end = clamp(end, 0, n);
      count = end > start ? 1 + (end - start - 1) / step : 0;
    } else {
      start = clamp(start, 0, n - 1);
      end = clamp(end, -1, n - 1);
      count = start > end ? 1 + (end - start + 1) / step : 0;
    }
    out[static_cast<size_t>(axes[i])] = {start, step, count};
  }
  return out;
}

// ---- the strided view of the CUDA copy ------------------------------------------------------------
struct StridedView {
  Dims dims;           // y's elements in this view's coordinates, outermost first (numel = y's)
  Dims strides;        // x elements per step of each coordinate: negative reverses, 0 broadcasts
  int64_t offset = 0;  // x element of coordinate 0
};

// The same view with size-1 dimensions dropped and neighbours merged where they step x as one
// dimension would (strides[d] == strides[d+1] * dims[d+1]), so the kernel divides less.
inline StridedView simplify(const StridedView& v) {
  StridedView s;
  s.offset = v.offset;
  for (size_t d = 0; d < v.dims.size(); ++d) {
    if (v.dims[d] == 1) continue;
    if (!s.dims.empty() && s.strides.back() == v.strides[d] * v.dims[d]) {
      s.dims.back() *= v.dims[d];
      s.strides.back() = v.strides[d];
    } else {
      s.dims.push_back(v.dims[d]);
      s.strides.push_back(v.strides[d]);
    }
  }
  return s;
}

inline StridedView slice_view(const Dims& x_dims, const std::vector<SliceAxis>& axes) {
  const Dims xs = contiguous_strides(x_dims);
  StridedView v;
  for (size_t d = 0; d < x_dims.size(); ++d) {
    v.dims.push_back(axes[d].count);
    // A dimension of one element never steps (and its step may be huge: a step past the end).
    v.strides.push_back(axes[d].count > 1 ? axes[d].step * xs[d] : 0);
    v.offset += axes[d].start * xs[d];
  }
  return v;
}

inline StridedView expand_view(const Dims& x_dims, const Dims& y_dims) {
  OCTET_CHECK(x_dims.size() <= y_dims.size(), "Expand: input ", to_string(x_dims), " has more dims than ",
              to_string(y_dims));
  const Dims xs = contiguous_strides(x_dims);
  const size_t lead = y_dims.size() - x_dims.size();  // y's leading dims that x lacks: broadcast
  StridedView v;
  v.dims = y_dims;
  for (size_t d = 0; d < y_dims.size(); ++d)
    v.strides.push_back(d < lead || x_dims[d - lead] == 1 ? 0 : xs[d - lead]);
  return v;
}

// y's dimension d of x_dims[d] * repeats[d] split row-major into (repeat, coordinate in x).
inline StridedView tile_view(const Dims& x_dims, const Dims& repeats) {
  const Dims xs = contiguous_strides(x_dims);
  StridedView v;
  for (size_t d = 0; d < x_dims.size(); ++d) {
    v.dims.insert(v.dims.end(), {repeats[d], x_dims[d]});
    v.strides.insert(v.strides.end(), {0, xs[d]});
  }
  return v;
}

// y [N, C', H*b, W*b] as [N, C', H, bh, W, bw].
inline StridedView depth_to_space_view(const Dims& x_dims, int64_t b, bool crd) {
  const int64_t n = x_dims[0], c = x_dims[1], h = x_dims[2], w = x_dims[3], cp = c / (b * b);
  StridedView v;
  v.dims = {n, cp, h, b, w, b};
  v.strides = crd ? Dims{c * h * w, b * b * h * w, w, b * h * w, 1, h * w}
                  : Dims{c * h * w, h * w, w, b * cp * h * w, 1, cp * h * w};
  return v;
}

// y [N, C*b^2, H/b, W/b] as [N, bh, bw, C, H/b, W/b].
inline StridedView space_to_depth_view(const Dims& x_dims, int64_t b) {
  const int64_t n = x_dims[0], c = x_dims[1], h = x_dims[2], w = x_dims[3];
  StridedView v;
  v.dims = {n, b, b, c, h / b, w / b};
  v.strides = {c * h * w, w, 1, h * w, b * w, b};
  return v;
}

}  // namespace octet::kernels
