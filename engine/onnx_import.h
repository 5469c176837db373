// ONNX import: a model file (or bytes) into the graph IR.
//
// Supported: the default-domain opsets 1..21, each operator with the semantics of its version at the
// model's opset, for the operators in engine/ops.def plus Flatten, Reshape, Squeeze, Unsqueeze,
// Identity, Dropout (inference) and Constant. Validation happens here,
// once: every node is checked before any is converted, and a model with unsupported operators fails
// with one message listing each such node (name, op type, opset). Shapes are inferred at batch 1 (or
// the model's fixed batch) and compared with the shapes the model declares for its outputs and
// value_info; a contradiction fails naming the tensor and the node that produces it.
//
// Errors: Error for a file that is missing, truncated, not ONNX or inconsistent; UnsupportedError
// for valid ONNX that octet does not implement (the message names the node and the reason).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "engine/graph.h"

namespace onnx {
class TensorProto;
}

namespace octet {

struct ImportOptions {
  // Graph inputs given a fixed value at import: they become constants, as TensorRT requires the
  // values of shape tensors at build time. Lets a model whose Reshape shape, Clip bounds, Pad pads or
  // Squeeze axes arrive as inputs be imported once those values are known. Names that are not graph
  // inputs are an Error.
  std::map<std::string, Tensor> constant_inputs;

  // Input dims fixed at import (trtexec's --shapes): input name -> every dim of that input. A dim
  // the model fixes must agree, except dim 0 (the batch), which a model exported at a fixed batch of 1
  // may be given anew; `batch`, when set, takes dim 0 of a batched input. A name that is not a runtime
  // input is an Error listing the inputs.
  std::map<std::string, Dims> input_shapes;
  // Dim 0 of the inputs not in input_shapes whose batch is symbolic or a fixed 1; 0 keeps the model's
  // (1 when symbolic). Every other symbolic dim must come from input_shapes.
  int64_t batch = 0;
};

// "name:1x3x640x640,name2:1x3" (trtexec's --shapes spelling) as a map; Error naming the entry that
// does not parse.
std::map<std::string, Dims> parse_input_shapes(const std::string& text);

Graph import_onnx_file(const std::string& path, const ImportOptions& options = {});
// `origin` names the source in error messages (a path, or "<memory>").
Graph import_onnx_bytes(const std::string& bytes, const std::string& origin, const ImportOptions& options = {});

// A TensorProto (initializer, Constant value, or a conformance test's input_N.pb) as a host tensor.
// Raw and typed storage, float/int8/uint8/int32/int64/bool. External data is refused.
Tensor tensor_from_proto(const onnx::TensorProto& proto, const std::string& context);
// Reads a serialized TensorProto file (the .pb files of ONNX's backend tests).
Tensor read_tensor_proto_file(const std::string& path);
// The inverse of tensor_from_proto (raw_data storage).
void tensor_to_proto(const Tensor& tensor, const std::string& name, onnx::TensorProto& proto);

// The ONNX operator types (default domain) the importer accepts, sorted.
const std::vector<std::string>& supported_onnx_operators();

}  // namespace octet
