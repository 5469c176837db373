// Shape rules, one function per operator family. Every rule reads only the node's attributes
// (normalised at import: explicit pads, positive axes, 1-D lifted to 2-D) and its inputs' current
// dims, so re-running them at another batch size needs nothing from the ONNX model.
#include "engine/shape_inference.h"

#include "engine/op_registry.h"

#include <algorithm>
#include <string>
#include <vector>

namespace octet {
namespace {

std::string describe(const Node& node) {
  return detail::concat("node '", node.name, "' (", to_string(node.op), ")");
}

bool has_input(const Node& node, size_t index) {
  return node.inputs.size() > index && node.inputs[index] != kNoValue;
}

const Dims& input_dims(const Graph& graph, const Node& node, size_t index) {
  OCTET_CHECK(has_input(node, index), describe(node), ": input ", index, " is missing");
  return graph.value(node.inputs[index]).dims;
}

void require_inputs(const Node& node, size_t count) {
  for (size_t i = 0; i < count; ++i)
    OCTET_CHECK(has_input(node, i), describe(node), ": input ", i, " is missing");
}

void require_rank(const Node& node, const Dims& dims, size_t rank, const char* what) {
  OCTET_CHECK(dims.size() == rank, describe(node), ": ", what, " must have rank ", rank, ", got ",
              to_string(dims));
}

// A fused residual (input 3 of Conv/Gemm/MatMul) is added element by element to the output.
void check_residual(const Graph& graph, const Node& node, bool has_residual, const Dims& out) {
  if (!has_residual) return;
  const Dims& residual = input_dims(graph, node, 3);
  OCTET_CHECK(residual == out, describe(node), ": fused residual ", to_string(residual),
              " does not match the output ", to_string(out));
}

// One spatial dimension of a convolution or pooling window.
struct Window {
  int64_t input = 0, kernel = 1, stride = 1, pad_begin = 0, pad_end = 0, dilation = 1;
};

int64_t effective_kernel(const Window& w) { return (w.kernel - 1) * w.dilation + 1; }

int64_t window_output_size(const Node& node, const Window& w, bool ceil_mode, const char* axis) {
  OCTET_CHECK(w.kernel >= 1 && w.stride >= 1 && w.dilation >= 1, describe(node), ": kernel ", w.kernel,
              ", stride ", w.stride, " and dilation ", w.dilation, " along ", axis, " must be positive");
  const int64_t padded = w.input + w.pad_begin + w.pad_end;
  const int64_t span = padded - effective_kernel(w);
  OCTET_CHECK(span >= 0, describe(node), ": the ", axis, " window (effective size ", effective_kernel(w),
              ") is larger than the padded input (", padded, ")");
  if (!ceil_mode) return span / w.stride + 1;
  int64_t out = (span + w.stride - 1) / w.stride + 1;
  // ONNX (and PyTorch): the last window must start inside the input or the left padding.
  if ((out - 1) * w.stride >= w.input + w.pad_begin) --out;
  return out;
}

// The spatial dims of an [N,C,H,W] or (1-D, lifted) [N,C,L] tensor as (H, W).
void spatial_hw(const Node& node, const Dims& x, int spatial_rank, int64_t& h, int64_t& w) {
  OCTET_CHECK(spatial_rank == 1 || spatial_rank == 2, describe(node), ": spatial rank ", spatial_rank,
              " is not 1 or 2");
  require_rank(node, x, static_cast<size_t>(spatial_rank) + 2, "the input");
  h = spatial_rank == 2 ? x[2] : 1;
  w = x.back();
}

Dims spatial_output(const Dims& x, int spatial_rank, int64_t channels, int64_t oh, int64_t ow) {
  if (spatial_rank == 1) return {x[0], channels, ow};
  return {x[0], channels, oh, ow};
}

std::vector<Dims> infer_conv(const Graph& graph, const Node& node) {
  require_inputs(node, 2);
  const auto& a = std::get<ConvAttrs>(node.attrs);
  const Dims& x = input_dims(graph, node, 0);
  const Dims& w = input_dims(graph, node, 1);
  int64_t h = 0, wd = 0;
  spatial_hw(node, x, a.spatial_rank, h, wd);
  require_rank(node, w, x.size(), "the weights");
  const int64_t k = w[0];
  OCTET_CHECK(a.group >= 1 && k % a.group == 0, describe(node), ": ", k, " output channels are not divisible by group ",
              a.group);
  OCTET_CHECK(x[1] == w[1] * a.group, describe(node), ": input ", to_string(x), " has ", x[1],
              " channels, weights ", to_string(w), " with group ", a.group, " expect ", w[1] * a.group);
  const int64_t r = a.spatial_rank == 2 ? w[2] : 1;
  OCTET_CHECK(r == a.kernel_h && w.back() == a.kernel_w, describe(node), ": kernel ", a.kernel_h, "x", a.kernel_w,
              " does not match the weights ", to_string(w));
  if (has_input(node, 2)) {
    const Dims& b = input_dims(graph, node, 2);
    OCTET_CHECK(b == Dims{k}, describe(node), ": bias ", to_string(b), " must be [", k, "]");
  }
  const int64_t oh = window_output_size(node, {h, a.kernel_h, a.stride_h, a.pad_top, a.pad_bottom, a.dilation_h},
                                        false, "height");
  const int64_t ow = window_output_size(node, {wd, a.kernel_w, a.stride_w, a.pad_left, a.pad_right, a.dilation_w},
                                        false, "width");
  Dims out = spatial_output(x, a.spatial_rank, k, oh, ow);
  check_residual(graph, node, a.epilogue.has_residual, out);
  return {out};
}

std::vector<Dims> infer_pool(const Graph& graph, const Node& node) {
  require_inputs(node, 1);
  const auto& a = std::get<PoolAttrs>(node.attrs);
  const Dims& x = input_dims(graph, node, 0);
  int64_t h = 0, w = 0;
  spatial_hw(node, x, a.spatial_rank, h, w);
  const int64_t oh = window_output_size(node, {h, a.kernel_h, a.stride_h, a.pad_top, a.pad_bottom, a.dilation_h},
                                        a.ceil_mode, "height");
  const int64_t ow = window_output_size(node, {w, a.kernel_w, a.stride_w, a.pad_left, a.pad_right, a.dilation_w},
                                        a.ceil_mode, "width");
  return {spatial_output(x, a.spatial_rank, x[1], oh, ow)};
}

std::vector<Dims> infer_global_pool(const Graph& graph, const Node& node) {
  const Dims& x = input_dims(graph, node, 0);
  OCTET_CHECK(x.size() >= 3, describe(node), ": input ", to_string(x), " must be [N, C, spatial...]");
  Dims out = x;
  std::fill(out.begin() + 2, out.end(), 1);
  return {out};
}

std::vector<Dims> infer_batchnorm(const Graph& graph, const Node& node) {
  require_inputs(node, 5);
  const Dims& x = input_dims(graph, node, 0);
  OCTET_CHECK(x.size() >= 2, describe(node), ": input ", to_string(x), " must be [N, C, ...]");
  static const char* const kParams[] = {"scale", "bias", "mean", "var"};
  for (size_t i = 1; i < 5; ++i) {
    const Dims& p = input_dims(graph, node, i);
    OCTET_CHECK(p == Dims{x[1]}, describe(node), ": ", kParams[i - 1], " ", to_string(p), " must be [", x[1], "]");
  }
  return {x};
}

std::vector<Dims> infer_gemm(const Graph& graph, const Node& node) {
  require_inputs(node, 2);
  const auto& a = std::get<GemmAttrs>(node.attrs);
  const Dims& da = input_dims(graph, node, 0);
  const Dims& db = input_dims(graph, node, 1);
  require_rank(node, da, 2, "A");
  require_rank(node, db, 2, "B");
  const int64_t m = a.trans_a ? da[1] : da[0];
  const int64_t ka = a.trans_a ? da[0] : da[1];
  const int64_t kb = a.trans_b ? db[1] : db[0];
  const int64_t n = a.trans_b ? db[0] : db[1];
  OCTET_CHECK(ka == kb, describe(node), ": inner dimensions differ: A ", to_string(da), (a.trans_a ? " (transposed)" : ""),
              ", B ", to_string(db), (a.trans_b ? " (transposed)" : ""));
  const Dims out{m, n};
  if (has_input(node, 2)) {
    const Dims& c = input_dims(graph, node, 2);
    OCTET_CHECK(broadcast_dims(c, out, describe(node) + ": C") == out, describe(node), ": C ", to_string(c),
                " does not broadcast to ", to_string(out));
  }
  check_residual(graph, node, a.epilogue.has_residual, out);
  return {out};
}

// numpy.matmul: 1-D operands are promoted to matrices and the added dimension removed again.
std::vector<Dims> infer_matmul(const Graph& graph, const Node& node) {
  require_inputs(node, 2);
  const auto& attrs = std::get<GemmAttrs>(node.attrs);
  Dims a = input_dims(graph, node, 0);
  Dims b = input_dims(graph, node, 1);
  OCTET_CHECK(!a.empty() && !b.empty(), describe(node), ": operands ", to_string(a), " and ", to_string(b),
              " must have rank >= 1");
  const bool a_vector = a.size() == 1;
  const bool b_vector = b.size() == 1;
  if (a_vector) a.insert(a.begin(), 1);
  if (b_vector) b.push_back(1);
  const int64_t m = a[a.size() - 2], k = a.back();
  const int64_t kb = b[b.size() - 2], n = b.back();
  OCTET_CHECK(k == kb, describe(node), ": inner dimensions differ: ", to_string(input_dims(graph, node, 0)), " x ",
              to_string(input_dims(graph, node, 1)));
  Dims out = broadcast_dims(Dims(a.begin(), a.end() - 2), Dims(b.begin(), b.end() - 2), describe(node));
  if (!a_vector) out.push_back(m);
  if (!b_vector) out.push_back(n);
  check_residual(graph, node, attrs.epilogue.has_residual, out);
  return {out};
}

std::vector<Dims> infer_binary(const Graph& graph, const Node& node) {
  require_inputs(node, 2);
  return {broadcast_dims(input_dims(graph, node, 0), input_dims(graph, node, 1), describe(node))};
}

std::vector<Dims> infer_same_as_input(const Graph& graph, const Node& node) {
  return {input_dims(graph, node, 0)};
}

bool has_batched_input(const Graph& graph) {
  return std::find(graph.input_batched.begin(), graph.input_batched.end(), true) != graph.input_batched.end();
}

// Why a Reshape that worked at import fails at another batch: its target is a literal that may
// fix the batch (exporters write [1, 2048] where they should write [-1, 2048]).
std::string literal_batch_hint(const Graph& graph) {
  if (!has_batched_input(graph)) return {};
  return detail::concat("; the target shape is a literal in the model: if it fixes the batch size, the model only "
                        "runs at that batch (re-export it with -1 or 0 in dim 0); current batch ",
                        graph.batch);
}

// ONNX Reshape: 0 copies the input dimension (unless allowzero), -1 takes what is left.
Dims reshape_to_shape(const Graph& graph, const Node& node, const ReshapeAttrs& a, const Dims& x) {
  Dims out = a.shape;
  int64_t inferred_at = -1;
  int64_t known = 1;
  bool has_zero = false;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      OCTET_CHECK(inferred_at < 0, describe(node), ": shape ", to_string(a.shape), " has more than one -1");
      inferred_at = static_cast<int64_t>(i);
      continue;
    }
    OCTET_CHECK(out[i] >= 0, describe(node), ": shape ", to_string(a.shape), " has a negative dimension other than -1");
    if (out[i] == 0 && !a.allowzero) {
      OCTET_CHECK(i < x.size(), describe(node), ": shape ", to_string(a.shape), " copies dimension ", i,
                  " (a 0) but the input ", to_string(x), " has rank ", x.size());
      out[i] = x[i];
    }
    has_zero = has_zero || out[i] == 0;
    known *= out[i];
  }
  OCTET_CHECK(!(a.allowzero && has_zero && inferred_at >= 0), describe(node), ": shape ", to_string(a.shape),
              " with allowzero has both a 0 and a -1");
  const int64_t elements = numel(x);
  if (inferred_at >= 0) {
    OCTET_CHECK(known > 0 && elements % known == 0, describe(node), ": cannot reshape ", to_string(x), " (",
                elements, " elements) to ", to_string(a.shape), literal_batch_hint(graph));
    out[static_cast<size_t>(inferred_at)] = elements / known;
  }
  OCTET_CHECK(numel(out) == elements, describe(node), ": cannot reshape ", to_string(x), " (", elements,
              " elements) to ", to_string(a.shape), " (", numel(out), " elements)", literal_batch_hint(graph));
  return out;
}

Dims reshape_flatten(const Node& node, const ReshapeAttrs& a, const Dims& x) {
  OCTET_CHECK(a.axis >= 0 && a.axis <= static_cast<int64_t>(x.size()), describe(node), ": Flatten axis ", a.axis,
              " is out of range for ", to_string(x));
  const auto split = x.begin() + a.axis;
  return {numel(Dims(x.begin(), split)), numel(Dims(split, x.end()))};
}

Dims reshape_squeeze(const Node& node, const ReshapeAttrs& a, const Dims& x) {
  Dims out;
  for (size_t i = 0; i < x.size(); ++i) {
    const bool listed = std::find(a.axes.begin(), a.axes.end(), static_cast<int64_t>(i)) != a.axes.end();
    const bool squeeze = a.axes.empty() ? x[i] == 1 : listed;
    if (listed)
      OCTET_CHECK(x[i] == 1, describe(node), ": cannot squeeze axis ", i, " of ", to_string(x), " (size ", x[i], ")");
    if (!squeeze) out.push_back(x[i]);
  }
  for (int64_t axis : a.axes)
    OCTET_CHECK(axis >= 0 && axis < static_cast<int64_t>(x.size()), describe(node), ": squeeze axis ", axis,
                " is out of range for ", to_string(x));
  return out;
}

Dims reshape_unsqueeze(const Node& node, const ReshapeAttrs& a, const Dims& x) {
  const int64_t rank = static_cast<int64_t>(x.size() + a.axes.size());
  std::vector<bool> inserted(static_cast<size_t>(rank), false);
  for (int64_t axis : a.axes) {
    OCTET_CHECK(axis >= 0 && axis < rank, describe(node), ": unsqueeze axis ", axis, " is out of range for output rank ",
                rank);
    OCTET_CHECK(!inserted[static_cast<size_t>(axis)], describe(node), ": unsqueeze axis ", axis, " is repeated");
    inserted[static_cast<size_t>(axis)] = true;
  }
  Dims out;
  size_t next = 0;
  for (int64_t i = 0; i < rank; ++i) out.push_back(inserted[static_cast<size_t>(i)] ? 1 : x[next++]);
  return out;
}

std::vector<Dims> infer_reshape(const Graph& graph, const Node& node) {
  const auto& a = std::get<ReshapeAttrs>(node.attrs);
  const Dims& x = input_dims(graph, node, 0);
  switch (a.rule) {
    case ReshapeAttrs::Rule::kShape: return {reshape_to_shape(graph, node, a, x)};
    case ReshapeAttrs::Rule::kFlatten: return {reshape_flatten(node, a, x)};
    case ReshapeAttrs::Rule::kSqueeze: return {reshape_squeeze(node, a, x)};
    case ReshapeAttrs::Rule::kUnsqueeze: return {reshape_unsqueeze(node, a, x)};
  }
  return {x};
}

std::vector<Dims> infer_transpose(const Graph& graph, const Node& node) {
  const auto& a = std::get<TransposeAttrs>(node.attrs);
  const Dims& x = input_dims(graph, node, 0);
  Dims perm = a.perm;
  if (perm.empty())
    for (int64_t i = static_cast<int64_t>(x.size()) - 1; i >= 0; --i) perm.push_back(i);
  OCTET_CHECK(perm.size() == x.size(), describe(node), ": perm ", to_string(perm), " does not fit input ", to_string(x));
  Dims sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i)
    OCTET_CHECK(sorted[i] == static_cast<int64_t>(i), describe(node), ": perm ", to_string(perm),
                " is not a permutation of 0..", x.size() - 1);
  Dims out;
  for (int64_t p : perm) out.push_back(x[static_cast<size_t>(p)]);
  return {out};
}

std::vector<Dims> infer_concat(const Graph& graph, const Node& node) {
  const auto& a = std::get<ConcatAttrs>(node.attrs);
  OCTET_CHECK(!node.inputs.empty(), describe(node), ": no inputs");
  Dims out = input_dims(graph, node, 0);
  OCTET_CHECK(a.axis >= 0 && a.axis < static_cast<int64_t>(out.size()), describe(node), ": axis ", a.axis,
              " is out of range for ", to_string(out));
  const auto axis = static_cast<size_t>(a.axis);
  for (size_t i = 1; i < node.inputs.size(); ++i) {
    const Dims& d = input_dims(graph, node, i);
    bool fits = d.size() == out.size();
    for (size_t j = 0; fits && j < d.size(); ++j) fits = j == axis || d[j] == out[j];
    OCTET_CHECK(fits, describe(node), ": input ", i, " ", to_string(d), " does not match ",
                to_string(input_dims(graph, node, 0)), " outside axis ", a.axis);
    out[axis] += d[axis];
  }
  return {out};
}

std::vector<Dims> infer_softmax(const Graph& graph, const Node& node) {
  const auto& a = std::get<SoftmaxAttrs>(node.attrs);
  const Dims& x = input_dims(graph, node, 0);
  OCTET_CHECK(a.axis >= 0 && a.axis < static_cast<int64_t>(x.size()), describe(node), ": axis ", a.axis, " is out of range for ",
              to_string(x));
  return {x};
}

std::vector<Dims> infer_pad(const Graph& graph, const Node& node) {
  const auto& a = std::get<PadAttrs>(node.attrs);
  const Dims& x = input_dims(graph, node, 0);
  OCTET_CHECK(a.pads.size() == 2 * x.size(), describe(node), ": pads ", to_string(a.pads), " must have ",
              2 * x.size(), " entries for input ", to_string(x));
  Dims out = x;
  for (size_t i = 0; i < x.size(); ++i) {
    out[i] = x[i] + a.pads[i] + a.pads[i + x.size()];
    OCTET_CHECK(out[i] >= 0, describe(node), ": pads ", to_string(a.pads), " remove more than input ", to_string(x),
                " holds along axis ", i);
  }
  return {out};
}

}  // namespace

Dims broadcast_dims(const Dims& a, const Dims& b, const std::string& context) {
  const size_t rank = std::max(a.size(), b.size());
  Dims out(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    // Align from the right; a missing leading dimension acts as 1.
    const int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    OCTET_CHECK(da == db || da == 1 || db == 1, context, ": shapes ", to_string(a), " and ", to_string(b),
                " do not broadcast");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

std::vector<Dims> infer_node_shapes(const Graph& graph, const Node& node) {
  switch (node.op) {
    case OpKind::Conv: return infer_conv(graph, node);
    case OpKind::Gemm: return infer_gemm(graph, node);
    case OpKind::MatMul: return infer_matmul(graph, node);
    case OpKind::Add:
    case OpKind::Sub:
    case OpKind::Mul:
    case OpKind::Div: return infer_binary(graph, node);
    case OpKind::Relu:
    case OpKind::Clip:
    case OpKind::LeakyRelu:
    case OpKind::Sigmoid:
    case OpKind::HardSigmoid:
    case OpKind::HardSwish:
    case OpKind::Identity:
    case OpKind::QuantizeLinear:
    case OpKind::DequantizeLinear: return infer_same_as_input(graph, node);
    case OpKind::BatchNormalization: return infer_batchnorm(graph, node);
    case OpKind::MaxPool:
    case OpKind::AveragePool: return infer_pool(graph, node);
    case OpKind::GlobalAveragePool:
    case OpKind::GlobalMaxPool: return infer_global_pool(graph, node);
    case OpKind::Reshape: return infer_reshape(graph, node);
    case OpKind::Transpose: return infer_transpose(graph, node);
    case OpKind::Concat: return infer_concat(graph, node);
    case OpKind::Softmax: return infer_softmax(graph, node);
    case OpKind::Pad: return infer_pad(graph, node);
#define OCTET_REGISTERED_OP(kind, name) case OpKind::kind:
#include "engine/ops.def"
      return op_def(node.op).infer(graph, node);
  }
  OCTET_CHECK(false, describe(node), ": no shape rule for this operator");
  return {};
}

void infer_shapes(Graph& graph) {
  for (const Node& node : graph.nodes) {
    std::vector<Dims> dims = infer_node_shapes(graph, node);
    OCTET_CHECK(dims.size() >= node.outputs.size(), describe(node), ": has ", node.outputs.size(),
                " outputs, the shape rule gives ", dims.size());
    for (size_t i = 0; i < node.outputs.size(); ++i) {
      if (node.outputs[i] == kNoValue) continue;
      Value& out = graph.value(node.outputs[i]);
      // Constants (folded at import) keep the dims of their data.
      if (!out.is_constant()) out.dims = std::move(dims[i]);
    }
  }
}

void set_batch(Graph& graph, int64_t batch) {
  OCTET_CHECK(batch >= 1, "batch size ", batch, " must be at least 1");
  OCTET_CHECK(graph.batch_pinned_by.empty() || batch == graph.batch, "the model computes shapes from its input dims (",
              graph.batch_pinned_by, "), so it was specialised to batch ", graph.batch,
              " at import; import it again at batch ", batch, " (octet's commands do with --batch)");
  const bool batched = has_batched_input(graph);
  // A graph without a symbolic batch runs only at the batch its inputs fix. In a graph that has
  // one, inputs with a fixed dim 0 are side inputs (not batched) and keep their shape.
  for (size_t i = 0; i < graph.inputs.size(); ++i) {
    const Value& input = graph.value(graph.inputs[i]);
    const bool is_batched = i < graph.input_batched.size() && graph.input_batched[i];
    if (batched || input.dims.empty() || is_batched) continue;
    OCTET_CHECK(input.dims[0] == batch, "input '", input.name, "' has a fixed batch of ", input.dims[0],
                " (dim 0 of ", to_string(input.dims), " is not symbolic in the model); cannot run at batch ", batch);
  }
  // Re-infer on a copy of the dims so a failure leaves the graph at its previous batch.
  std::vector<Dims> saved;
  saved.reserve(graph.values.size());
  for (const Value& v : graph.values) saved.push_back(v.dims);
  const int64_t saved_batch = graph.batch;
  try {
    for (size_t i = 0; i < graph.inputs.size(); ++i)
      if (i < graph.input_batched.size() && graph.input_batched[i]) graph.value(graph.inputs[i]).dims.at(0) = batch;
    graph.batch = batch;
    infer_shapes(graph);
  } catch (...) {
    for (size_t i = 0; i < saved.size(); ++i) graph.values[i].dims = std::move(saved[i]);
    graph.batch = saved_batch;
    throw;
  }
}

}  // namespace octet
