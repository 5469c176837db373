// NHWC image inputs fed as NCHW (engine/input_layout.h).
#include "engine/input_layout.h"

#include <utility>

#include "engine/error.h"
#include "engine/shape_inference.h"

namespace octet {
namespace {

bool is_channel_count(int64_t n) { return n == 1 || n == 3; }

}  // namespace

bool is_nhwc_image_input(const Dims& dims) {
  return dims.size() == 4 && is_channel_count(dims[3]) && !is_channel_count(dims[1]);
}

void feed_input_as_nchw(Graph& g, size_t index) {
  OCTET_CHECK(index < g.inputs.size(), "input ", index, " of a graph with ", g.inputs.size(), " inputs");
  const ValueId nhwc = g.inputs[index];
  const Dims& d = g.value(nhwc).dims;
  OCTET_CHECK(is_nhwc_image_input(d), "input '", g.value(nhwc).name, "' ", to_string(d), " is not an NHWC image");
  Value nchw;
  nchw.name = g.value(nhwc).name;
  nchw.type = g.value(nhwc).type;
  nchw.dims = {d[0], d[3], d[1], d[2]};
  g.value(nhwc).name += ":nhwc";
  const ValueId input = g.add_value(std::move(nchw));
  Node transpose;
  transpose.name = g.value(input).name + ":to_nhwc";
  transpose.op = OpKind::Transpose;
  transpose.inputs = {input};
  transpose.outputs = {nhwc};
  transpose.attrs = TransposeAttrs{{0, 2, 3, 1}};
  g.nodes.insert(g.nodes.begin(), std::move(transpose));
  g.inputs[index] = input;
  infer_shapes(g);
}

}  // namespace octet
