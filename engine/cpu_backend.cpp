// The CPU backend (engine/cpu_backend.h): validates a Graph once, allocates one host buffer per
// value the nodes write, and runs the nodes in order with the kernels of kernels/cpu.
//
// Validation at creation (engine/node_validation.h) checks everything a kernel relies on (input
// counts, float32 where the kernel computes, every dimension of every output against the operator's
// rule), so run() only checks the caller's input tensors and never indexes out of bounds. Errors
// name the node or tensor.
//
// Threads: BackendOptions::threads (0 = all hardware threads) sizes the kernels' parallel_for and,
// on the fast path, OpenBLAS (kernels/cpu/sgemm.h: set once here, process-wide). Both never run at
// the same time, so a context keeps at most that many cores busy.
//
// BackendOptions::batch_invariant (fast path only): convolutions plan one image per sgemm
// (kernels/cpu/conv_im2col.h), Gemm and MatMul sum each output on its own (kernels/cpu/gemm_sgemm.h),
// and every other kernel already computes a sample from that sample alone in a fixed order. So no
// operation's shape depends on N, and OpenBLAS, given the same shape and thread count, splits and
// sums the same way; parallel_for only splits independent outputs between threads.
// BackendOptions::reproducible (fast path only): convolutions, Gemm and MatMul through octet's
// blocked sgemm, which sums every output in k order (the reference's arithmetic and the CUDA
// backend's with the same option), never OpenBLAS.
//
// INT8 layers (Node::precision kInt8, quantize/qscheme.h): int8 values are NCHW int8 buffers
// (kernels/int8_layout.h). Conv and Gemm run conv2d_int8_ref with `reference`, conv2d_int8_im2col
// otherwise (both exact integer sums, so the two agree bit for bit and are batch-invariant); a Gemm
// is the 1x1 convolution with n = M, c = K_in, k = N_out (kernels/int8_conv.h). MaxPool,
// AveragePool, GlobalAveragePool, Concat, Add (two tensors of one shape) and Mul (a channel scale,
// engine/channel_scale.h) run the int8 reference kernels on either path.
// QuantizeLinear uses its output's scale, DequantizeLinear its input's.
#include "engine/cpu_backend.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <utility>
#include <vector>

#include "engine/node_validation.h"
#include "engine/op_registry.h"
#include "kernels/cpu/conv_im2col.h"
#include "kernels/cpu/conv_ref.h"
#include "kernels/cpu/elementwise_ref.h"
#include "kernels/cpu/gemm_ref.h"
#include "kernels/cpu/gemm_sgemm.h"
#include "kernels/cpu/int8_ref.h"
#include "kernels/cpu/parallel.h"
#include "kernels/cpu/pool_ref.h"
#include "kernels/cpu/sgemm.h"
#include "kernels/cpu/tensor_ops_ref.h"
#include "kernels/shapes.h"

namespace octet {

namespace {

// What creation works out once per node for run().
struct NodePlan {
  ActivationParams activation;        // the activation ops (ValidatedNode::activation)
  kernels::Conv2dIm2colPlan conv;     // FP32 Conv on the fast path
  // INT8 Conv/Gemm: input_scale * weight_scale[k], multiplied once here (quantize/qscheme.h).
  std::vector<float> combined_scale;
};

bool is_int8_conv_or_gemm(const Node& node) {
  return node.precision == Precision::kInt8 && (node.op == OpKind::Conv || node.op == OpKind::Gemm);
}

// The differences from the CUDA backend (engine/node_validation.h): no MaxPool Indices; pools whose
// pads reach past the window are run (the reference defines their empty windows).
constexpr BackendCapabilities kCpuCapabilities{"CPU", /*maxpool_indices=*/false, /*pool_pads_past_window=*/true};

class CpuContext final : public ExecutionContext {
 public:
  CpuContext(const Graph& graph, const BackendOptions& options)
      : graph_(graph),
        reference_(options.reference),
        batch_invariant_(options.batch_invariant && !options.reference),
        reproducible_(options.reproducible && !options.reference),
        threads_(kernels::resolve_thread_count(options.threads)) {
    validate_wiring(graph_);
    plans_.resize(graph_.nodes.size());
    size_t workspace_floats = 0;
    for (size_t i = 0; i < graph_.nodes.size(); ++i) {
      const Node& node = graph_.nodes[i];
      plans_[i].activation = validate_node(graph_, node, kCpuCapabilities).activation;
      if (is_int8_conv_or_gemm(node)) {
        plans_[i].combined_scale = combined_scales(node);
      } else if (node.op == OpKind::Conv && !reference_) {
        // A zero budget plans one image per sgemm (kernels/cpu/conv_im2col.h).
        plans_[i].conv = kernels::plan_conv2d_im2col(
            conv_shape(node), batch_invariant_ ? 0 : kernels::kIm2colWorkspaceBudgetFloats, reproducible_);
        workspace_floats = std::max(workspace_floats, plans_[i].conv.workspace_floats);
      }
    }
    allocate();
    workspace_.resize(workspace_floats);
    if (!reference_) kernels::blas_set_threads(threads_);
  }

  std::vector<Tensor> run(const std::vector<Tensor>& inputs) override {
    bind_inputs(inputs);
    for (size_t i = 0; i < graph_.nodes.size(); ++i) {
      const Node& node = graph_.nodes[i];
      run_node(i);
      if (!observer_) continue;
      for (ValueId id : node.outputs) {
        if (id == kNoValue) continue;  // an omitted optional output
        const Value& v = graph_.value(id);
        observer_(node, id, TensorView{v.type, v.dims, bound_[static_cast<size_t>(id)], MemoryLocation::kHost});
      }
    }
    std::vector<Tensor> outputs;
    outputs.reserve(graph_.outputs.size());
    for (ValueId id : graph_.outputs) {
      const Value& v = graph_.value(id);
      Tensor out(v.type, v.dims);
      if (out.bytes() > 0) std::memcpy(out.raw(), bound_[static_cast<size_t>(id)], out.bytes());
      outputs.push_back(std::move(out));
    }
    for (ValueId id : graph_.inputs) bound_[static_cast<size_t>(id)] = nullptr;
    return outputs;
  }

  void set_observer(NodeObserver observer) override { observer_ = std::move(observer); }
  BackendKind kind() const override { return BackendKind::kCpu; }

  std::vector<double> profile_nodes(const std::vector<Tensor>& inputs, int iterations) override {
    OCTET_CHECK(iterations >= 1, "profile_nodes: iterations ", iterations, " must be >= 1");
    bind_inputs(inputs);
    std::vector<std::vector<double>> ms(graph_.nodes.size());
    for (int it = 0; it < iterations; ++it) {
      for (size_t i = 0; i < graph_.nodes.size(); ++i) {
        const auto start = std::chrono::steady_clock::now();
        run_node(i);
        ms[i].push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
      }
    }
    for (ValueId id : graph_.inputs) bound_[static_cast<size_t>(id)] = nullptr;
    std::vector<double> medians;
    for (std::vector<double>& m : ms) {
      std::nth_element(m.begin(), m.begin() + static_cast<std::ptrdiff_t>(m.size() / 2), m.end());
      medians.push_back(m[m.size() / 2]);
    }
    return medians;
  }

 private:
  // One buffer per value a node writes; constants and graph inputs are read where they are.
  void allocate() {
    buffers_.resize(graph_.values.size());
    bound_.assign(graph_.values.size(), nullptr);
    for (size_t i = 0; i < graph_.values.size(); ++i)
      if (graph_.values[i].is_constant()) bound_[i] = graph_.values[i].initializer->raw();
    for (const Node& node : graph_.nodes) {
      for (ValueId id : node.outputs) {
        if (id == kNoValue) continue;
        const Value& v = graph_.value(id);
        buffers_[static_cast<size_t>(id)] = Tensor(v.type, v.dims);
        bound_[static_cast<size_t>(id)] = buffers_[static_cast<size_t>(id)].raw();
      }
    }
  }

  void bind_inputs(const std::vector<Tensor>& inputs) {
    OCTET_CHECK(inputs.size() == graph_.inputs.size(), "the graph takes ", graph_.inputs.size(), " inputs, got ",
                inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
      const ValueId id = graph_.inputs[i];
      const Value& v = graph_.value(id);
      OCTET_CHECK(inputs[i].type() == v.type, "input '", v.name, "' must be ", to_string(v.type), ", got ",
                  to_string(inputs[i].type()));
      OCTET_CHECK(inputs[i].dims() == v.dims, "input '", v.name, "' must have dims ", to_string(v.dims), ", got ",
                  to_string(inputs[i].dims()));
      bound_[static_cast<size_t>(id)] = inputs[i].raw();
    }
  }

  const Value& value(ValueId id) const { return graph_.value(id); }
  const Value& input_value(const Node& node, size_t i) const { return value(node.inputs[i]); }
  const void* input_data(const Node& node, size_t i) const {
    if (i >= node.inputs.size() || node.inputs[i] == kNoValue) return nullptr;
    return bound_[static_cast<size_t>(node.inputs[i])];
  }
  const float* input_f32(const Node& node, size_t i) const { return static_cast<const float*>(input_data(node, i)); }
  const Value& output_value(const Node& node) const { return value(node.outputs[0]); }
  void* output_data(const Node& node) { return buffers_[static_cast<size_t>(node.outputs[0])].raw(); }
  float* output_f32(const Node& node) { return static_cast<float*>(output_data(node)); }
  const int8_t* input_i8(const Node& node, size_t i) const { return static_cast<const int8_t*>(input_data(node, i)); }
  int8_t* output_i8(const Node& node) { return static_cast<int8_t*>(output_data(node)); }
  // The scale of an INT8 value; validation guarantees it is set on every INT8 operand read here.
  float scale_of(ValueId id) const { return *value(id).scale; }
  float input_scale(const Node& node, size_t i) const { return scale_of(node.inputs[i]); }
  float output_scale(const Node& node) const { return scale_of(node.outputs[0]); }
  bool is_int8(const Node& node) const { return node.precision == Precision::kInt8; }

  Conv2dShape conv_shape(const Node& node) const {
    return make_conv2d_shape(std::get<ConvAttrs>(node.attrs), input_value(node, 0).dims, input_value(node, 1).dims,
                             output_value(node).dims);
  }

  void run_node(size_t index) {
    const Node& node = graph_.nodes[index];
    switch (node.op) {
      case OpKind::Conv:
        if (is_int8(node)) {
          run_int8_conv(node, plans_[index].combined_scale);
        } else {
          run_conv(node, plans_[index].conv);
        }
        break;
      case OpKind::Gemm:
        if (is_int8(node)) {
          run_int8_conv(node, plans_[index].combined_scale);
        } else {
          run_gemm(node);
        }
        break;
      case OpKind::MatMul: run_matmul(node); break;
      case OpKind::Add:
        if (is_int8(node)) {
          kernels::add_int8_ref(input_i8(node, 0), input_scale(node, 0), input_i8(node, 1), input_scale(node, 1),
                                numel(output_value(node).dims), output_scale(node), output_i8(node));
        } else {
          run_binary(node, kernels::BinaryOp::kAdd);
        }
        break;
      case OpKind::Sub: run_binary(node, kernels::BinaryOp::kSub); break;
      case OpKind::Mul:
        if (is_int8(node)) {
          run_int8_channel_scale(node);
        } else {
          run_binary(node, kernels::BinaryOp::kMul);
        }
        break;
      case OpKind::Div: run_binary(node, kernels::BinaryOp::kDiv); break;
      case OpKind::Relu:
      case OpKind::Clip:
      case OpKind::LeakyRelu:
      case OpKind::Sigmoid:
      case OpKind::HardSigmoid:
      case OpKind::HardSwish:
        kernels::activation_ref(plans_[index].activation, input_f32(node, 0), output_f32(node),
                                numel(output_value(node).dims));
        break;
      case OpKind::BatchNormalization:
        kernels::batchnorm_ref(input_f32(node, 0), input_value(node, 0).dims, input_f32(node, 1), input_f32(node, 2),
                               input_f32(node, 3), input_f32(node, 4), std::get<BatchNormAttrs>(node.attrs).epsilon,
                               output_f32(node));
        break;
      case OpKind::MaxPool:
        if (is_int8(node)) {
          kernels::maxpool2d_int8_ref(pool_shape(node), input_i8(node, 0), output_i8(node));
        } else {
          kernels::maxpool2d_ref(pool_shape(node), input_f32(node, 0), output_f32(node));
        }
        break;
      case OpKind::AveragePool:
        if (is_int8(node)) {
          kernels::avgpool2d_int8_ref(pool_shape(node), input_i8(node, 0), input_scale(node, 0), output_scale(node),
                                      output_i8(node));
        } else {
          kernels::avgpool2d_ref(pool_shape(node), input_f32(node, 0), output_f32(node));
        }
        break;
      case OpKind::GlobalAveragePool:
        if (is_int8(node)) {
          run_int8_global_avgpool(node);
        } else {
          kernels::global_avgpool_ref(input_f32(node, 0), input_value(node, 0).dims, output_f32(node));
        }
        break;
      case OpKind::GlobalMaxPool:
        kernels::global_maxpool_ref(input_f32(node, 0), input_value(node, 0).dims, output_f32(node));
        break;
      case OpKind::Reshape:
      case OpKind::Identity:
        kernels::copy_ref(input_data(node, 0), buffers_[static_cast<size_t>(node.outputs[0])].bytes(),
                          output_data(node));
        break;
      case OpKind::Transpose:
        kernels::transpose_ref(input_data(node, 0), input_value(node, 0).dims,
                               std::get<TransposeAttrs>(node.attrs).perm, element_size(output_value(node).type),
                               output_data(node));
        break;
      case OpKind::Concat:
        if (is_int8(node)) {
          run_int8_concat(node);
        } else {
          run_concat(node);
        }
        break;
      case OpKind::Softmax: {
        const auto& a = std::get<SoftmaxAttrs>(node.attrs);
        kernels::softmax_ref(input_f32(node, 0), input_value(node, 0).dims, a.axis, a.coerce_2d, output_f32(node));
        break;
      }
      case OpKind::Pad: {
        const auto& a = std::get<PadAttrs>(node.attrs);
        kernels::pad_ref(input_f32(node, 0), input_value(node, 0).dims, a.pads, a.value, output_f32(node));
        break;
      }
      case OpKind::QuantizeLinear:
        kernels::quantize_ref(input_f32(node, 0), numel(output_value(node).dims), output_scale(node),
                              output_i8(node));
        break;
      case OpKind::DequantizeLinear:
        kernels::dequantize_ref(input_i8(node, 0), numel(output_value(node).dims), input_scale(node, 0),
                                output_f32(node));
        break;
#define OCTET_REGISTERED_OP(kind, name) case OpKind::kind:
#include "engine/ops.def"
        run_registered(node);
        break;
    }
  }

  // A registered operator (engine/op_registry.h): its CPU kernel on this context's buffers.
  void run_registered(const Node& node) {
    OpKernelArgs args{graph_, node, {}, {}, threads_};
    args.inputs.reserve(node.inputs.size());
    for (size_t i = 0; i < node.inputs.size(); ++i) args.inputs.push_back(input_data(node, i));
    args.outputs.reserve(node.outputs.size());
    for (ValueId id : node.outputs)
      args.outputs.push_back(id == kNoValue ? nullptr : buffers_[static_cast<size_t>(id)].raw());
    run_registered_cpu(args);
  }

  Pool2dShape pool_shape(const Node& node) const {
    return make_pool2d_shape(std::get<PoolAttrs>(node.attrs), input_value(node, 0).dims, output_value(node).dims);
  }

  void run_conv(const Node& node, const kernels::Conv2dIm2colPlan& plan) {
    const auto& a = std::get<ConvAttrs>(node.attrs);
    const Conv2dShape shape = conv_shape(node);
    if (reference_) {
      kernels::conv2d_ref(shape, input_f32(node, 0), input_f32(node, 1), input_f32(node, 2), input_f32(node, 3),
                          a.epilogue.activation, output_f32(node));
    } else {
      kernels::conv2d_im2col(plan, shape, input_f32(node, 0), input_f32(node, 1), input_f32(node, 2),
                             input_f32(node, 3), a.epilogue.activation, output_f32(node), workspace_.data(), threads_);
    }
  }

  std::vector<float> combined_scales(const Node& node) const {
    const float s_in = input_scale(node, 0);
    std::vector<float> combined;
    combined.reserve(node.weight_scales.size());
    for (float s_w : node.weight_scales) combined.push_back(s_in * s_w);
    return combined;
  }

  // INT8 Conv or Gemm (a Gemm as the 1x1 convolution, kernels/shapes.h int8_layer_shape): the
  // epilogue from the node (kernels/int8_conv.h). Bias is input 2 (float32),
  // the residual input 3 (int8 with its scale, or float32); the output is int8 with its scale, or
  // float32 for an INT8-in/FP32-out layer.
  void run_int8_conv(const Node& node, const std::vector<float>& combined_scale) {
    const Conv2dShape shape = int8_layer_shape(graph_, node);
    const Epilogue& fused = *epilogue_of(node);
    kernels::Int8ConvEpilogue epilogue;
    epilogue.combined_scale = combined_scale.data();
    epilogue.bias = input_f32(node, 2);
    if (input_data(node, 3)) {
      if (input_value(node, 3).type == DataType::kInt8) {
        epilogue.residual_int8 = input_i8(node, 3);
        epilogue.residual_scale = input_scale(node, 3);
      } else {
        epilogue.residual_f32 = input_f32(node, 3);
      }
    }
    epilogue.activation = fused.activation;
    epilogue.rounding = fused.rounding;
    epilogue.output_int8 = output_value(node).type == DataType::kInt8;
    if (epilogue.output_int8) epilogue.output_scale = output_scale(node);
    if (reference_) {
      kernels::conv2d_int8_ref(shape, input_i8(node, 0), input_i8(node, 1), epilogue, output_data(node));
    } else {
      kernels::conv2d_int8_im2col(shape, input_i8(node, 0), input_i8(node, 1), epilogue, output_data(node), threads_);
    }
  }

  void run_int8_global_avgpool(const Node& node) {
    const Dims& x = input_value(node, 0).dims;  // [N, C, H, W] (validated)
    kernels::global_avgpool_int8_ref(input_i8(node, 0), x[0], x[1], x[2], x[3], input_scale(node, 0),
                                     output_scale(node), output_i8(node));
  }

  // Channels (axis 1) of [N, C_i, H, W] or [N, C_i] (validated), each input requantized to the
  // output's scale.
  void run_int8_concat(const Node& node) {
    std::vector<const int8_t*> inputs;
    std::vector<int64_t> channels;
    std::vector<float> scales;
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      inputs.push_back(input_i8(node, i));
      channels.push_back(input_value(node, i).dims[1]);
      scales.push_back(input_scale(node, i));
    }
    const Dims& y = output_value(node).dims;
    const int64_t h = y.size() == 4 ? y[2] : 1;
    const int64_t w = y.size() == 4 ? y[3] : 1;
    kernels::concat_int8_ref(inputs, channels, scales, y[0], h, w, output_scale(node), output_i8(node));
  }

  void run_gemm(const Node& node) {
    const auto& a = std::get<GemmAttrs>(node.attrs);
    const Dims& a_dims = input_value(node, 0).dims;
    const Dims& y_dims = output_value(node).dims;
    const int64_t k = a.trans_a ? a_dims[0] : a_dims[1];
    const float* c = input_f32(node, 2);
    const Dims c_dims = c ? input_value(node, 2).dims : Dims{};
    if (reference_) {
      kernels::gemm_ref(a, y_dims[0], y_dims[1], k, input_f32(node, 0), input_f32(node, 1), c, c_dims,
                        input_f32(node, 3), output_f32(node));
    } else {
      kernels::gemm_sgemm(a, y_dims[0], y_dims[1], k, input_f32(node, 0), input_f32(node, 1), c, c_dims,
                          input_f32(node, 3), output_f32(node), threads_, k_ordered_gemms());
    }
  }

  void run_matmul(const Node& node) {
    const auto* a = std::get_if<GemmAttrs>(&node.attrs);
    const ActivationParams activation = a ? a->epilogue.activation : ActivationParams{};
    const Dims& a_dims = input_value(node, 0).dims;
    const Dims& b_dims = input_value(node, 1).dims;
    if (reference_) {
      kernels::matmul_ref(input_f32(node, 0), a_dims, input_f32(node, 1), b_dims, input_f32(node, 3), activation,
                          output_f32(node));
    } else {
      kernels::matmul_sgemm(input_f32(node, 0), a_dims, input_f32(node, 1), b_dims, input_f32(node, 3), activation,
                            output_f32(node), threads_, k_ordered_gemms());
    }
  }

  // x [N, C, H, W] int8 times the float gate [N or 1, C, 1, 1] (engine/channel_scale.h).
  void run_int8_channel_scale(const Node& node) {
    const Dims& x = input_value(node, 0).dims;
    kernels::channel_scale_int8_ref(input_i8(node, 0), input_f32(node, 1), input_value(node, 1).dims[0] != 1, x[0], x[1], x[2], x[3], input_scale(node, 0), output_scale(node), output_i8(node));
  }

  void run_binary(const Node& node, kernels::BinaryOp op) {
    kernels::binary_ref(op, input_f32(node, 0), input_value(node, 0).dims, input_f32(node, 1),
                        input_value(node, 1).dims, output_f32(node));
  }

  void run_concat(const Node& node) {
    std::vector<const void*> inputs;
    std::vector<Dims> dims;
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      inputs.push_back(input_data(node, i));
      dims.push_back(input_value(node, i).dims);
    }
    kernels::concat_ref(inputs, dims, std::get<ConcatAttrs>(node.attrs).axis, element_size(output_value(node).type),
                        output_data(node));
  }

  Graph graph_;  // a copy: the context owns everything a run needs, weights included
  bool reference_;
  bool batch_invariant_;
  bool reproducible_;  // BackendOptions::reproducible (fast path only: the reference always is)

  // Gemm and MatMul through sgemm_blocked (kernels/cpu/gemm_sgemm.h): batch-invariant, and k-ordered.
  bool k_ordered_gemms() const { return batch_invariant_ || reproducible_; }
  int threads_;
  std::vector<NodePlan> plans_;   // per node
  std::vector<Tensor> buffers_;   // per value: the outputs of nodes
  std::vector<const void*> bound_;  // per value: where run() reads it (constant, caller's input, buffer)
  std::vector<float> workspace_;  // im2col, sized for the largest convolution
  NodeObserver observer_;
};

}  // namespace

std::unique_ptr<ExecutionContext> create_cpu_context(const Graph& graph, const BackendOptions& options) {
  return std::make_unique<CpuContext>(graph, options);
}

}  // namespace octet
