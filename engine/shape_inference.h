// Shape inference: the output dims of every node from its input dims and attributes.
//
// Shapes in octet are concrete. infer_shapes() walks the nodes in order and sets the dims of every
// non-constant value; a contradiction (mismatched channels, a Reshape that cannot hold the element
// count, broadcasting that does not apply) throws Error naming the node. set_batch() changes dim 0
// of the batched graph inputs and re-infers, which is how one imported graph serves batch 1 and 128.
#pragma once

#include "engine/graph.h"

namespace octet {

// Output dims of one node given the current dims of its inputs (constants included). Throws Error
// naming the node when the inputs do not fit the operator.
std::vector<Dims> infer_node_shapes(const Graph& graph, const Node& node);

// Infers every node's outputs in order and stores them in graph.values.
void infer_shapes(Graph& graph);

// Sets dim 0 of every batched input to `batch` (>= 1) and re-infers. Throws Error when the graph
// has a fixed batch that differs, naming the input.
void set_batch(Graph& graph, int64_t batch);

// Numpy broadcasting of two shapes; throws Error (with `context` in the message) when they do not
// broadcast.
Dims broadcast_dims(const Dims& a, const Dims& b, const std::string& context);

}  // namespace octet
