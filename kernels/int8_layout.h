// Memory layouts of INT8 tensors.
//
// The graph IR is logically NCHW everywhere. Backends store INT8 values as they like:
//   CPU   int8 activations NCHW, unpadded (the plainest indexing for the reference loops);
//         int8 weights KCRS (Conv) / [N_out, K_in] (Gemm), as the graph holds them.
//   CUDA  int8 activations NHWC with the channel count padded to a multiple of kInt8ChannelPad
//         ("NHWCp"): element (n, c, h, w) at ((n*H + h)*W + w)*Cp + c, Cp = padded_channels(C).
//         The pad channels [C, Cp) of every pixel hold 0: each kernel that writes an NHWCp tensor
//         writes zeros there, so any reader may include them in a dot product.
//         A 2-D INT8 value [N, C] (Gemm input/output, a flattened [N, C, 1, 1]) is NHWCp with H = W = 1.
//         int8 weights [K][R][S][Cgp], Cgp = padded_channels(C / groups), pad zero: one output
//         channel's filter is a contiguous row whose inner index (r, s, c) follows the input's
//         NHWC order, so implicit-GEMM kernels walk both in the same order.
//         FP32 activations stay NCHW: an INT8-in/FP32-out layer writes NCHW float directly.
// Four channels make a 32-bit word, the unit of __dp4a; tensor-core kernels take 16-byte steps
// where C is a multiple of 16 and fall back to words otherwise.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

namespace octet::kernels {

constexpr int64_t kInt8ChannelPad = 4;

inline int64_t padded_channels(int64_t channels) {
  return (channels + kInt8ChannelPad - 1) / kInt8ChannelPad * kInt8ChannelPad;
}

// NCHW int8 -> NHWCp int8 (pad channels 0). Host; used to upload and by tests.
inline std::vector<int8_t> nchw_to_nhwc_padded(const int8_t* x, int64_t n, int64_t c, int64_t h, int64_t w) {
  const int64_t cp = padded_channels(c);
  std::vector<int8_t> y(static_cast<size_t>(n * h * w * cp), 0);
  for (int64_t in = 0; in < n; ++in)
    for (int64_t ic = 0; ic < c; ++ic)
      for (int64_t ih = 0; ih < h; ++ih)
        for (int64_t iw = 0; iw < w; ++iw)
          y[static_cast<size_t>(((in * h + ih) * w + iw) * cp + ic)] = x[((in * c + ic) * h + ih) * w + iw];
  return y;
}

// NHWCp int8 -> NCHW int8 (pad channels dropped).
inline std::vector<int8_t> nhwc_padded_to_nchw(const int8_t* x, int64_t n, int64_t c, int64_t h, int64_t w) {
  const int64_t cp = padded_channels(c);
  std::vector<int8_t> y(static_cast<size_t>(n * c * h * w));
  for (int64_t in = 0; in < n; ++in)
    for (int64_t ic = 0; ic < c; ++ic)
      for (int64_t ih = 0; ih < h; ++ih)
        for (int64_t iw = 0; iw < w; ++iw)
          y[static_cast<size_t>(((in * c + ic) * h + ih) * w + iw)] = x[((in * h + ih) * w + iw) * cp + ic];
  return y;
}

// KCRS int8 weights (C = input channels per group) -> [K][R][S][Cgp] (pad 0), the CUDA layout.
inline std::vector<int8_t> kcrs_to_krsc_padded(const int8_t* w, int64_t k, int64_t c_per_group, int64_t r,
                                               int64_t s) {
  const int64_t cgp = padded_channels(c_per_group);
  std::vector<int8_t> y(static_cast<size_t>(k * r * s * cgp), 0);
  for (int64_t ik = 0; ik < k; ++ik)
    for (int64_t ic = 0; ic < c_per_group; ++ic)
      for (int64_t ir = 0; ir < r; ++ir)
        for (int64_t is = 0; is < s; ++is)
          y[static_cast<size_t>(((ik * r + ir) * s + is) * cgp + ic)] = w[((ik * c_per_group + ic) * r + ir) * s + is];
  return y;
}

}  // namespace octet::kernels
