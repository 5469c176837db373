// LayerNormalization, CPU reference (kernels/normalization.h): y = X normalised per row of s.n
// elements, scaled and shifted. bias may be nullptr (no B).
#pragma once

#include "kernels/normalization.h"

namespace octet::kernels {

void layer_norm_ref(const float* x, const float* scale, const float* bias, const LayerNormShape& s, float* y);

}  // namespace octet::kernels
