// Builds octet Graphs directly (no ONNX) for shape-inference and pass tests.
#pragma once

#include <string>
#include <vector>

#include "engine/graph.h"

namespace octet::test {

class GraphBuilder {
 public:
  // A runtime float input; `batched` marks dim 0 as the batch.
  ValueId input(const std::string& name, Dims dims, bool batched = false) {
    Value v;
    v.name = name;
    v.dims = std::move(dims);
    const ValueId id = graph.add_value(std::move(v));
    graph.inputs.push_back(id);
    graph.input_batched.push_back(batched);
    return id;
  }

  ValueId constant(const std::string& name, Tensor tensor) {
    Value v;
    v.name = name;
    v.type = tensor.type();
    v.dims = tensor.dims();
    v.initializer = std::move(tensor);
    return graph.add_value(std::move(v));
  }

  ValueId constant(const std::string& name, Dims dims, const std::vector<float>& values) {
    Tensor t(DataType::kFloat32, std::move(dims));
    for (size_t i = 0; i < values.size() && i < static_cast<size_t>(t.numel()); ++i) t.data<float>()[i] = values[i];
    return constant(name, std::move(t));
  }

  // Appends a node whose one output is a new float value named `name` + ":0" (dims left empty
  // until infer_shapes runs). Returns the output.
  ValueId node(OpKind op, const std::string& name, std::vector<ValueId> inputs, NodeAttributes attrs = {}) {
    Value out;
    out.name = name + ":0";
    const ValueId id = graph.add_value(std::move(out));
    Node n;
    n.name = name;
    n.op = op;
    n.inputs = std::move(inputs);
    n.outputs = {id};
    n.attrs = std::move(attrs);
    graph.nodes.push_back(std::move(n));
    return id;
  }

  void output(ValueId id) { graph.outputs.push_back(id); }

  Graph graph;
};

}  // namespace octet::test
