// ConvTranspose (opsets 1-21), 2-D, FP32 (kernels/conv_transpose.h states the formula). Import resolves
// every way ONNX lets a model give the geometry into explicit pads and output padding:
//   - pads as given (default 0), output_padding (default 0);
//   - output_shape: total_padding = stride * (in - 1) + output_padding + (k - 1) * dilation + 1 -
//     output_shape, split as auto_pad says (SAME_UPPER: the smaller half first; otherwise the larger),
//     halves by floor division; a negative pad extends the output (output_shape past what the input
//     gives, as ONNX's reference allows);
//   - auto_pad SAME_UPPER / SAME_LOWER without output_shape: output_shape = in * stride, split likewise;
//     VALID: no padding.
// Attributes kept: kernel, strides, dilations, pads [top, left, bottom, right], output_padding, group;
// the shape rule recomputes the output size from them, so a new batch re-infers.
#include "engine/op_registry.h"
#include "kernels/cpu/conv_transpose_ref.h"
#include "octet/build_config.h"
#if OCTET_HAVE_CUDA
#include "kernels/cuda/conv_transpose_cuda.h"
#endif

namespace octet {
namespace {

void import_conv_transpose(OnnxNode& node) {
  const ValueId x = node.required_input(0, "X");
  const ValueId w = node.required_input(1, "W");
  const ValueId b = node.input(2);
  const Dims& xd = node.dims(x);
  const Dims& wd = node.dims(w);
  if (xd.size() != 4)
    OCTET_UNSUPPORTED(node.where(), ": input ", to_string(xd), " is not [N, C, H, W] (octet's ConvTranspose is 2-D)");
  OCTET_CHECK(wd.size() == 4, node.where(), ": weights ", to_string(wd), " must be [C, M / group, kH, kW]");
  const Dims kernel = node.get_ints("kernel_shape", {wd[2], wd[3]});
  const Dims strides = node.get_ints("strides", {1, 1});
  const Dims dilations = node.get_ints("dilations", {1, 1});
  const Dims output_padding = node.get_ints("output_padding", {0, 0});
  Dims pads = node.get_ints("pads", {0, 0, 0, 0});
  const auto check_size = [&](const char* what, const Dims& list, size_t size) {
    OCTET_CHECK(list.size() == size, node.where(), ": ", what, " ", to_string(list), " must have ", size,
                " entries for a 2-D ConvTranspose");
  };
  check_size("kernel_shape", kernel, 2);
  check_size("strides", strides, 2);
  check_size("dilations", dilations, 2);
  check_size("output_padding", output_padding, 2);
  check_size("pads", pads, 4);
  OCTET_CHECK(kernel[0] == wd[2] && kernel[1] == wd[3], node.where(), ": kernel_shape ", to_string(kernel),
              " does not match the weights ", to_string(wd));
  const std::string auto_pad = node.get_string("auto_pad", "NOTSET");
  if (auto_pad != "NOTSET" && auto_pad != "VALID" && auto_pad != "SAME_UPPER" && auto_pad != "SAME_LOWER")
    OCTET_CHECK(false, node.where(), ": auto_pad '", auto_pad, "' is not NOTSET, SAME_UPPER, SAME_LOWER or VALID");
  Dims output_shape = node.get_ints("output_shape", {});
  if (output_shape.size() == 4) output_shape = {output_shape[2], output_shape[3]};  // older exporters write N, C too
  if (output_shape.empty() && (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER"))
    output_shape = {xd[2] * strides[0], xd[3] * strides[1]};
  if (auto_pad == "VALID") pads = {0, 0, 0, 0};
  if (!output_shape.empty()) {
    OCTET_CHECK(output_shape.size() == 2, node.where(), ": output_shape ", to_string(output_shape), " must give H, W");
    for (size_t i = 0; i < 2; ++i) {
      const int64_t full = strides[i] * (xd[i + 2] - 1) + output_padding[i] + (kernel[i] - 1) * dilations[i] + 1;
      // Negative when output_shape is larger than the input gives: the output then extends past the
      // last input cell (ONNX's reference computes the halves with floor division, as here).
      const int64_t total = full - output_shape[i];
      const int64_t floor_half = total >= 0 ? total / 2 : -((1 - total) / 2);
      pads[i] = auto_pad == "SAME_UPPER" ? floor_half : total - floor_half;
      pads[i + 2] = total - pads[i];
    }
  }
  const int64_t group = node.get_int("group", 1);
  OCTET_CHECK(group >= 1 && xd[1] % group == 0 && wd[0] == xd[1], node.where(), ": weights ", to_string(wd),
              " do not fit input ", to_string(xd), " with group ", group);
  for (size_t i = 0; i < 2; ++i)
    OCTET_CHECK(strides[i] >= 1 && dilations[i] >= 1 && output_padding[i] >= 0 &&
                    (!output_shape.empty() || (pads[i] >= 0 && pads[i + 2] >= 0)),
                node.where(), ": strides and dilations must be positive, pads and output_padding non-negative");
  OpAttributes a;
  a.set("kernel", kernel).set("strides", strides).set("dilations", dilations).set("pads", pads);
  a.set("output_padding", output_padding).set("group", group);
  std::vector<ValueId> inputs{x, w};
  if (b != kNoValue) inputs.push_back(b);
  node.emit(OpKind::ConvTranspose, std::move(inputs), std::move(a));
}

std::vector<Dims> infer_conv_transpose(const Graph& graph, const Node& node) {
  const auto& a = std::get<OpAttributes>(node.attrs);
  const Dims& x = graph.value(node.inputs[0]).dims;
  const Dims& w = graph.value(node.inputs[1]).dims;
  const std::string where = detail::concat("node '", node.name, "' (ConvTranspose)");
  OCTET_CHECK(x.size() == 4 && w.size() == 4 && w[0] == x[1], where, ": weights ", to_string(w), " do not fit input ",
              to_string(x));
  const Dims& k = a.ints("kernel");
  const Dims& s = a.ints("strides");
  const Dims& d = a.ints("dilations");
  const Dims& p = a.ints("pads");
  const Dims& op = a.ints("output_padding");
  const int64_t m = w[1] * a.i("group");
  if (node.inputs.size() > 2 && node.inputs[2] != kNoValue)
    OCTET_CHECK(graph.value(node.inputs[2]).dims == Dims{m}, where, ": bias ", to_string(graph.value(node.inputs[2]).dims),
                " must be [", m, "]");
  Dims y{x[0], m, 0, 0};
  for (size_t i = 0; i < 2; ++i) {
    y[i + 2] = s[i] * (x[i + 2] - 1) + op[i] + (k[i] - 1) * d[i] + 1 - p[i] - p[i + 2];
    OCTET_CHECK(y[i + 2] >= 1, where, ": the pads leave no output along axis ", i + 2);
  }
  return {y};
}

kernels::ConvTranspose2dShape shape_of(const OpKernelArgs& args) {
  const OpAttributes& a = args.attrs();
  const Dims& x = args.in_dims(0);
  const Dims& y = args.out_dims();
  kernels::ConvTranspose2dShape s;
  s.n = x[0];
  s.c = x[1];
  s.h = x[2];
  s.w = x[3];
  s.m = y[1];
  s.oh = y[2];
  s.ow = y[3];
  s.kh = a.ints("kernel")[0];
  s.kw = a.ints("kernel")[1];
  s.group = a.i("group");
  s.stride_h = a.ints("strides")[0];
  s.stride_w = a.ints("strides")[1];
  s.dilation_h = a.ints("dilations")[0];
  s.dilation_w = a.ints("dilations")[1];
  s.pad_top = a.ints("pads")[0];
  s.pad_left = a.ints("pads")[1];
  return s;
}

const float* bias_of(const OpKernelArgs& args) { return args.has_input(2) ? args.in<float>(2) : nullptr; }

void run_cpu(const OpKernelArgs& args) {
  kernels::conv_transpose2d_ref(shape_of(args), args.in<float>(0), args.in<float>(1), bias_of(args), args.out<float>());
}

#if OCTET_HAVE_CUDA
void run_cuda(const OpKernelArgs& args) {
  kernels::conv_transpose2d_cuda(shape_of(args), args.in<float>(0), args.in<float>(1), bias_of(args),
                                 args.out<float>(), args.stream);
}
#endif

// Every input cell times every weight of its group's filters.
int64_t macs(const Graph& graph, const Node& node) {
  const Dims& x = graph.value(node.inputs[0]).dims;
  const Dims& w = graph.value(node.inputs[1]).dims;
  return numel(x) * w[1] * w[2] * w[3];
}

}  // namespace

const OpDef& define_ConvTranspose() {
  static const OpDef def = [] {
    OpDef d;
    d.onnx_types = {"ConvTranspose"};
    d.import = import_conv_transpose;
    d.min_inputs = 2;
    d.max_inputs = 3;
    d.infer = infer_conv_transpose;
    d.run_cpu = run_cpu;
#if OCTET_HAVE_CUDA
    d.run_cuda = run_cuda;
#endif
    d.macs = macs;
    return d;
  }();
  return def;
}

}  // namespace octet
