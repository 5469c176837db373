// DepthToSpace and SpaceToDepth (kernels/data_movement.h): blocks of b x b pixels moved between the
// channel and the spatial dimensions of a 4-D [N, C, H, W] tensor, any element type.
//
//   DepthToSpace  [N, C, H, W] -> [N, C / b^2, H * b, W * b]; C divisible by b^2. Attributes
//                 blocksize (required, > 0) and, from opset 11, mode: "DCR" (depth-column-row, the
//                 default and opset 1's only order) or "CRD" (column-row-depth).
//   SpaceToDepth  [N, C, H, W] -> [N, C * b^2, H / b, W / b]; H and W divisible by b. Attribute
//                 blocksize (required, > 0); one order, the inverse of DCR.
// Attributes: blocksize, and DepthToSpace's mode as "DCR" or "CRD". The shape rules read the input's
// current dims, so they re-infer at any batch.
#include "engine/op_registry.h"
#include "kernels/cpu/data_movement_ref.h"
#include "octet/build_config.h"
#if OCTET_HAVE_CUDA
#include "kernels/cuda/data_movement_cuda.h"
#endif

namespace octet {
namespace {

std::string where(const Node& node) { return detail::concat("node '", node.name, "' (", to_string(node.op), ")"); }

int64_t read_blocksize(const OnnxNode& node) {
  OCTET_CHECK(node.has("blocksize"), node.where(), ": attribute blocksize is required");
  const int64_t b = node.get_int("blocksize", 0);
  OCTET_CHECK(b > 0, node.where(), ": blocksize ", b, " must be positive");
  return b;
}

// The input must be [N, C, H, W]: ONNX defines both operators on 4-D tensors only.
const Dims& input_nchw(const Graph& graph, const Node& node) {
  const Dims& x = graph.value(node.inputs[0]).dims;
  OCTET_CHECK(x.size() == 4, where(node), ": input dims ", to_string(x), " are not 4-D [N, C, H, W]");
  return x;
}

// ---- DepthToSpace ------------------------------------------------------------------------------------
void import_depth_to_space(OnnxNode& node) {
  node.refuse_outputs_past(1, "the operator has one output");
  const ValueId x = node.required_input(0, "input");
  const int64_t b = read_blocksize(node);
  const std::string mode = node.opset() >= 11 ? node.get_string("mode", "DCR") : "DCR";
  OCTET_CHECK(mode == "DCR" || mode == "CRD", node.where(), ": mode '", mode, "' is not DCR or CRD");
  OpAttributes a;
  a.set("blocksize", b).set("mode", mode);
  node.emit(OpKind::DepthToSpace, {x}, a);
}

std::vector<Dims> infer_depth_to_space(const Graph& graph, const Node& node) {
  const Dims& x = input_nchw(graph, node);
  const int64_t b = std::get<OpAttributes>(node.attrs).i("blocksize");
  OCTET_CHECK(x[1] % (b * b) == 0, where(node), ": channels ", x[1], " of input ", to_string(x),
              " are not divisible by blocksize^2 = ", b * b);
  return {{x[0], x[1] / (b * b), x[2] * b, x[3] * b}};
}

bool is_crd(const OpAttributes& a) { return a.s("mode") == "CRD"; }

void run_depth_to_space_cpu(const OpKernelArgs& a) {
  kernels::depth_to_space_ref(a.inputs[0], a.in_dims(0), a.attrs().i("blocksize"), is_crd(a.attrs()),
                              element_size(a.in_type(0)), a.outputs[0]);
}

#if OCTET_HAVE_CUDA
void run_depth_to_space_cuda(const OpKernelArgs& a) {
  kernels::strided_copy_cuda(a.inputs[0], numel(a.in_dims(0)),
                             kernels::depth_to_space_view(a.in_dims(0), a.attrs().i("blocksize"), is_crd(a.attrs())),
                             a.outputs[0], element_size(a.in_type(0)), a.stream);
}
#endif

// ---- SpaceToDepth ------------------------------------------------------------------------------------
void import_space_to_depth(OnnxNode& node) {
  node.refuse_outputs_past(1, "the operator has one output");
  const ValueId x = node.required_input(0, "input");
  OpAttributes a;
  a.set("blocksize", read_blocksize(node));
  node.emit(OpKind::SpaceToDepth, {x}, a);
}

std::vector<Dims> infer_space_to_depth(const Graph& graph, const Node& node) {
  const Dims& x = input_nchw(graph, node);
  const int64_t b = std::get<OpAttributes>(node.attrs).i("blocksize");
  OCTET_CHECK(x[2] % b == 0 && x[3] % b == 0, where(node), ": height and width of input ", to_string(x),
              " are not divisible by blocksize ", b);
  return {{x[0], x[1] * b * b, x[2] / b, x[3] / b}};
}

void run_space_to_depth_cpu(const OpKernelArgs& a) {
  kernels::space_to_depth_ref(a.inputs[0], a.in_dims(0), a.attrs().i("blocksize"), element_size(a.in_type(0)),
                              a.outputs[0]);
}

#if OCTET_HAVE_CUDA
void run_space_to_depth_cuda(const OpKernelArgs& a) {
  kernels::strided_copy_cuda(a.inputs[0], numel(a.in_dims(0)),
                             kernels::space_to_depth_view(a.in_dims(0), a.attrs().i("blocksize")), a.outputs[0],
                             element_size(a.in_type(0)), a.stream);
}
#endif

}  // namespace

const OpDef& define_DepthToSpace() {
  static const OpDef def = [] {
    OpDef d;
    d.onnx_types = {"DepthToSpace"};
    d.import = import_depth_to_space;
    d.types = OpDef::Types::kAnyData;
    d.infer = infer_depth_to_space;
    d.run_cpu = run_depth_to_space_cpu;
#if OCTET_HAVE_CUDA
    d.run_cuda = run_depth_to_space_cuda;
#endif
    d.cuda_relative_error = 0.0;  // elements are copied, never computed
    // calibrated (the default): dim 0 stays the batch, so a layer reading the output may run INT8.
    return d;
  }();
  return def;
}

const OpDef& define_SpaceToDepth() {
  static const OpDef def = [] {
    OpDef d;
    d.onnx_types = {"SpaceToDepth"};
    d.import = import_space_to_depth;
    d.types = OpDef::Types::kAnyData;
    d.infer = infer_space_to_depth;
    d.run_cpu = run_space_to_depth_cpu;
#if OCTET_HAVE_CUDA
    d.run_cuda = run_space_to_depth_cuda;
#endif
    d.cuda_relative_error = 0.0;  // elements are copied, never computed
    // calibrated (the default): dim 0 stays the batch, so a layer reading the output may run INT8.
    return d;
  }();
  return def;
}

}  // namespace octet
