// Output extent of a sliding window (convolution or pooling) along one spatial axis.
//
//   span = dilation * (kernel - 1) + 1                       cells one window covers
//   out  = floor((in + pad_begin + pad_end - span) / stride) + 1           (ceil_mode = false)
//   out  = ceil ((in + pad_begin + pad_end - span) / stride) + 1           (ceil_mode = true)
// and with ceil_mode ONNX drops the last window when it would start past the input and the left
// padding, i.e. when (out - 1) * stride >= in + pad_begin. Convolution never uses ceil_mode.
// Returns 0 when not even one window fits (the caller reports that as an error).
#pragma once

#include <cstdint>

namespace octet::kernels {

inline int64_t window_output_extent(int64_t in, int64_t kernel, int64_t stride, int64_t pad_begin,
                                    int64_t pad_end, int64_t dilation, bool ceil_mode) {
  const int64_t span = dilation * (kernel - 1) + 1;
  const int64_t room = in + pad_begin + pad_end - span;
  if (room < 0 || stride < 1) return 0;
  int64_t out = (ceil_mode ? (room + stride - 1) / stride : room / stride) + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad_begin) --out;
  return out;
}

}  // namespace octet::kernels
