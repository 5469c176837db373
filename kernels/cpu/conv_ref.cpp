#include "kernels/cpu/conv_ref.h"

#include "kernels/cpu/epilogue.h"

namespace octet::kernels {

void conv2d_ref(const Conv2dShape& shape, const float* x, const float* w, const float* bias, const float* residual,
                const ActivationParams& activation, float* y) {
  const Conv2dShape& p = shape;
  const int64_t cg = p.c_per_group();
  const int64_t kg = p.k_per_group();
  for (int64_t n = 0; n < p.n; ++n) {
    for (int64_t k = 0; k < p.k; ++k) {
      const int64_t c_begin = (k / kg) * cg;
      for (int64_t oh = 0; oh < p.oh; ++oh) {
        for (int64_t ow = 0; ow < p.ow; ++ow) {
          float acc = 0.0f;
          for (int64_t cc = 0; cc < cg; ++cc) {
            for (int64_t r = 0; r < p.r; ++r) {
              const int64_t ih = oh * p.stride_h - p.pad_top + r * p.dilation_h;
              if (ih < 0 || ih >= p.h) continue;
              for (int64_t s = 0; s < p.s; ++s) {
                const int64_t iw = ow * p.stride_w - p.pad_left + s * p.dilation_w;
                if (iw < 0 || iw >= p.w) continue;
                acc += x[((n * p.c + c_begin + cc) * p.h + ih) * p.w + iw] * w[((k * cg + cc) * p.r + r) * p.s + s];
              }
            }
          }
          const int64_t out = ((n * p.k + k) * p.oh + oh) * p.ow + ow;
          y[out] = finish_epilogue(bias ? acc + bias[k] : acc, residual ? residual + out : nullptr, activation);
        }
      }
    }
  }
}

}  // namespace octet::kernels
