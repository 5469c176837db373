// A channel scale: Mul(x [N, C, H, W], gate [N or 1, C, 1, 1]), every channel of an activation
// multiplied by one float. It is the product of a squeeze-excitation block (MobileNetV3, EfficientNet,
// PP-LCNet, PP-OCR), where the gate is Sigmoid/HardSigmoid of a small Conv over the pooled x.
//
// It is the one Mul with an INT8 layer: x and y int8, the gate float
// (kernels/cpu/int8_ref.h channel_scale_int8_ref), so an INT8 engine keeps a squeeze-excitation
// block int8 from the convolution before it to the one after it instead of leaving it through float
// tensors and reformats. The calibrator taps its output (calibration/calibrator.cpp).
#pragma once

#include <cstddef>
#include <optional>

#include "engine/graph.h"

namespace octet {

// The input slot of the gate when `node` is a channel scale (either operand order), else nullopt.
// x is a float activation of rank 4 with H * W > 1 and the output's dims; the gate is float with
// dims [N, C, 1, 1] or [1, C, 1, 1].
std::optional<size_t> channel_scale_gate_slot(const Graph& graph, const Node& node);

// Puts x first in every channel scale (PyTorch's SqueezeExcitation writes Mul(gate, x)): Mul
// commutes, the products are the same floats, and INT8 layers read their int8 activation at slot 0.
void order_channel_scale_inputs(Graph& graph);

}  // namespace octet
