#include "kernels/shapes.h"

namespace octet {
namespace {
// [N,C,H,W] -> (H, W); [N,C,L] -> (1, L)
void spatial_hw(const Dims& dims, int64_t& h, int64_t& w) {
  OCTET_CHECK(dims.size() == 3 || dims.size() == 4, "expected a 3-D or 4-D tensor, got ", to_string(dims));
  h = dims.size() == 4 ? dims[2] : 1;
  w = dims.back();
}
}  // namespace

Conv2dShape make_conv2d_shape(const ConvAttrs& attrs, const Dims& x_dims, const Dims& w_dims,
                              const Dims& y_dims) {
  Conv2dShape s;
  s.n = x_dims[0];
  s.c = x_dims[1];
  spatial_hw(x_dims, s.h, s.w);
  s.k = w_dims[0];
  spatial_hw(y_dims, s.oh, s.ow);
  s.r = attrs.kernel_h;
  s.s = attrs.kernel_w;
  s.stride_h = attrs.stride_h;
  s.stride_w = attrs.stride_w;
  s.pad_top = attrs.pad_top;
  s.pad_left = attrs.pad_left;
  s.dilation_h = attrs.dilation_h;
  s.dilation_w = attrs.dilation_w;
  s.groups = attrs.group;
  return s;
}

Conv2dShape gemm_as_conv2d_shape(int64_t m, int64_t k_in, int64_t n_out) {
  Conv2dShape s;
  s.n = m;
  s.c = k_in;
  s.h = s.w = s.oh = s.ow = 1;
  s.k = n_out;
  return s;
}

Conv2dShape int8_layer_shape(const Graph& graph, const Node& node) {
  const Dims& x = graph.value(node.inputs.at(0)).dims;
  const Dims& w = graph.value(node.inputs.at(1)).dims;
  if (node.op == OpKind::Gemm) return gemm_as_conv2d_shape(x.at(0), x.at(1), w.at(0));
  return make_conv2d_shape(std::get<ConvAttrs>(node.attrs), x, w, graph.value(node.outputs.at(0)).dims);
}

Pool2dShape make_pool2d_shape(const PoolAttrs& attrs, const Dims& x_dims, const Dims& y_dims) {
  Pool2dShape s;
  s.n = x_dims[0];
  s.c = x_dims[1];
  spatial_hw(x_dims, s.h, s.w);
  spatial_hw(y_dims, s.oh, s.ow);
  s.kernel_h = attrs.kernel_h;
  s.kernel_w = attrs.kernel_w;
  s.stride_h = attrs.stride_h;
  s.stride_w = attrs.stride_w;
  s.pad_top = attrs.pad_top;
  s.pad_left = attrs.pad_left;
  s.pad_bottom = attrs.pad_bottom;
  s.pad_right = attrs.pad_right;
  s.dilation_h = attrs.dilation_h;
  s.dilation_w = attrs.dilation_w;
  s.count_include_pad = attrs.count_include_pad;
  return s;
}

}  // namespace octet
