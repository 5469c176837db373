// ConvTranspose, CPU reference: every output of Y by conv_transpose2d_output (kernels/conv_transpose.h).
#pragma once

#include "kernels/conv_transpose.h"

namespace octet::kernels {

// bias may be nullptr.
void conv_transpose2d_ref(const ConvTranspose2dShape& shape, const float* x, const float* w, const float* bias, float* y);

}  // namespace octet::kernels
