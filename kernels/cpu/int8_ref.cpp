// INT8 CPU kernels (kernels/cpu/int8_ref.h). Every number goes through quantize/qscheme.h.
#include "kernels/cpu/int8_ref.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"
#include "kernels/cpu/parallel.h"
#include "kernels/cpu/pool_window.h"
#include "quantize/qscheme.h"

namespace octet::kernels {

namespace {

// The conv/GEMM epilogue of one output element (kernels/int8_conv.h), shared by the reference and
// the im2col path so both evaluate exactly the same expression.
class Int8EpilogueWriter {
 public:
  Int8EpilogueWriter(const Int8ConvEpilogue& epilogue, void* out) : e_(epilogue), out_(out) {}

  // index: the NCHW offset of the output (and of the residual); k: its output channel.
  void write(int64_t index, int64_t k, int32_t acc) const {
    const float bias = e_.bias ? e_.bias[k] : 0.0f;
    float residual = 0.0f;
    if (e_.residual_int8) residual = quant::dequantize(e_.residual_int8[index], e_.residual_scale);
    if (e_.residual_f32) residual = e_.residual_f32[index];
    const float y = quant::epilogue_value(acc, e_.combined_scale[k], bias, residual, e_.activation, e_.rounding);
    if (e_.output_int8) {
      static_cast<int8_t*>(out_)[index] = quant::quantize(y, e_.output_scale);
    } else {
      static_cast<float*>(out_)[index] = y;
    }
  }

 private:
  const Int8ConvEpilogue& e_;
  void* out_;
};

}  // namespace

void conv2d_int8_ref(const Conv2dShape& shape, const int8_t* x, const int8_t* w, const Int8ConvEpilogue& epilogue,
                     void* out) {
  const Conv2dShape& p = shape;
  const int64_t cg = p.c_per_group();
  const int64_t kg = p.k_per_group();
  const Int8EpilogueWriter writer(epilogue, out);
  for (int64_t n = 0; n < p.n; ++n) {
    for (int64_t k = 0; k < p.k; ++k) {
      const int64_t c_begin = (k / kg) * cg;
      for (int64_t oh = 0; oh < p.oh; ++oh) {
        for (int64_t ow = 0; ow < p.ow; ++ow) {
          int32_t acc = 0;
          for (int64_t cc = 0; cc < cg; ++cc) {
            for (int64_t r = 0; r < p.r; ++r) {
              const int64_t ih = oh * p.stride_h - p.pad_top + r * p.dilation_h;
              if (ih < 0 || ih >= p.h) continue;
              for (int64_t s = 0; s < p.s; ++s) {
                const int64_t iw = ow * p.stride_w - p.pad_left + s * p.dilation_w;
                if (iw < 0 || iw >= p.w) continue;
                acc += int32_t{x[((n * p.c + c_begin + cc) * p.h + ih) * p.w + iw]} *
                       int32_t{w[((k * cg + cc) * p.r + r) * p.s + s]};
              }
            }
          }
          writer.write(((n * p.k + k) * p.oh + oh) * p.ow + ow, k, acc);
        }
      }
    }
  }
}

namespace {

// The im2col path works on int16 lanes, not int8: x86-64's baseline SIMD (SSE2, which this build
// targets) has no int8 multiply, but pmaddwd multiplies int16 pairs and adds neighbours into int32,
// and GCC emits it for an int32 sum of int16 x int16 products over contiguous arrays. The same loop
// over int8 arrays vectorises about 2.6x slower (40 vs 15 Gop/s per core in a micro-benchmark of
// 64 x 3136 x 576 dot products on the build machine). int8 widens to int16 exactly, so the sums
// are still the reference's integers.
using Lane = int16_t;

// Rows are zero-padded to a whole number of 16-byte registers: the zeros add nothing and the
// vector loop needs no scalar tail (first layers have rows of 27 or 147 lanes).
constexpr int64_t kRowAlign = 8;
// A tile of column rows should stay in L2 while every output channel's weights pass over it.
constexpr int64_t kTileBytes = 128 * 1024;
constexpr int64_t kMaxTileRows = 64;

// The column matrix of one group: one row per output pixel of the whole batch, so a Gemm (one
// pixel per image) and a batch of small images tile as well as one large image.
struct ColumnLayout {
  int64_t row_length = 0;  // C/groups * R * S
  int64_t padded_row = 0;  // row_length rounded up to kRowAlign
  int64_t pixels = 0;      // OH * OW of one image
  int64_t rows = 0;        // N * pixels; row q is pixel q % pixels of image q / pixels
  int64_t tile_rows = 0;
};

ColumnLayout column_layout(const Conv2dShape& p) {
  ColumnLayout l;
  l.row_length = p.c_per_group() * p.r * p.s;
  l.padded_row = (l.row_length + kRowAlign - 1) / kRowAlign * kRowAlign;
  l.pixels = p.oh * p.ow;
  l.rows = p.n * l.pixels;
  const int64_t fitting = kTileBytes / (l.padded_row * static_cast<int64_t>(sizeof(Lane)));
  l.tile_rows = std::clamp<int64_t>(fitting, 4, kMaxTileRows);
  return l;
}

// Weights [K][C/groups * R * S] (KCRS rows are already contiguous) widened to [K][padded_row].
std::vector<Lane> widen_weights(const Conv2dShape& p, const ColumnLayout& l, const int8_t* w) {
  std::vector<Lane> wide(static_cast<size_t>(p.k * l.padded_row), 0);
  for (int64_t k = 0; k < p.k; ++k)
    for (int64_t i = 0; i < l.row_length; ++i) wide[static_cast<size_t>(k * l.padded_row + i)] = w[k * l.row_length + i];
  return wide;
}

// Rows [row_begin, row_begin + count) of group g's column matrix:
//   tile[i][(c*R + r)*S + s] = x[n][g*C/groups + c][ih][iw], 0 in the padding and past row_length,
// for row q = row_begin + i = n * pixels + oh * OW + ow (ih, iw as Conv2dShape).
void gather_rows(const Conv2dShape& p, const ColumnLayout& l, const int8_t* x, int64_t group, int64_t row_begin,
                 int64_t count, Lane* tile) {
  const int64_t cg = p.c_per_group();
  for (int64_t i = 0; i < count; ++i) {
    const int64_t q = row_begin + i;
    const int64_t n = q / l.pixels;
    const int64_t oh = (q % l.pixels) / p.ow;
    const int64_t ow = q % p.ow;
    Lane* row = tile + i * l.padded_row;
    for (int64_t c = 0; c < cg; ++c) {
      const int8_t* x_plane = x + (n * p.c + group * cg + c) * p.h * p.w;
      for (int64_t r = 0; r < p.r; ++r) {
        const int64_t ih = oh * p.stride_h - p.pad_top + r * p.dilation_h;
        Lane* cells = row + (c * p.r + r) * p.s;
        for (int64_t s = 0; s < p.s; ++s) {
          const int64_t iw = ow * p.stride_w - p.pad_left + s * p.dilation_w;
          const bool inside = ih >= 0 && ih < p.h && iw >= 0 && iw < p.w;
          cells[s] = inside ? x_plane[ih * p.w + iw] : Lane{0};
        }
      }
    }
    std::fill(row + l.row_length, row + l.padded_row, Lane{0});
  }
}

int32_t dot_row(const Lane* __restrict w, const Lane* __restrict col, int64_t length) {
  int32_t acc = 0;
  for (int64_t i = 0; i < length; ++i) acc += int32_t{w[i]} * int32_t{col[i]};
  return acc;
}

// Four weight rows (w, w + stride, ...) against one column row: each column lane is loaded once
// for four products.
void dot_four_rows(const Lane* __restrict w, int64_t stride, const Lane* __restrict col, int64_t length,
                   int32_t* acc) {
  const Lane* __restrict w0 = w;
  const Lane* __restrict w1 = w + stride;
  const Lane* __restrict w2 = w + 2 * stride;
  const Lane* __restrict w3 = w + 3 * stride;
  int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  for (int64_t i = 0; i < length; ++i) {
    const int32_t v = col[i];
    a0 += int32_t{w0[i]} * v;
    a1 += int32_t{w1[i]} * v;
    a2 += int32_t{w2[i]} * v;
    a3 += int32_t{w3[i]} * v;
  }
  acc[0] = a0;
  acc[1] = a1;
  acc[2] = a2;
  acc[3] = a3;
}

// Every output channel of `group` for the tile's rows, through the epilogue. out_base[i]: the NCHW
// offset of row i's pixel in channel 0 (channel k adds k * pixels).
void convolve_tile(const Conv2dShape& p, const ColumnLayout& l, const Lane* wide_w, const Lane* tile,
                   const int64_t* out_base, int64_t count, int64_t group, const Int8EpilogueWriter& writer) {
  const int64_t kg = p.k_per_group();
  const int64_t k_begin = group * kg;
  const int64_t k_end = k_begin + kg;
  int64_t k = k_begin;
  for (; k + 4 <= k_end; k += 4) {
    const Lane* w = wide_w + k * l.padded_row;
    for (int64_t i = 0; i < count; ++i) {
      int32_t acc[4];
      dot_four_rows(w, l.padded_row, tile + i * l.padded_row, l.padded_row, acc);
      for (int64_t j = 0; j < 4; ++j) writer.write(out_base[i] + (k + j) * l.pixels, k + j, acc[j]);
    }
  }
  for (; k < k_end; ++k) {
    const Lane* w = wide_w + k * l.padded_row;
    for (int64_t i = 0; i < count; ++i)
      writer.write(out_base[i] + k * l.pixels, k, dot_row(w, tile + i * l.padded_row, l.padded_row));
  }
}

}  // namespace

void conv2d_int8_im2col(const Conv2dShape& shape, const int8_t* x, const int8_t* w, const Int8ConvEpilogue& epilogue,
                        void* out, int threads) {
  const Conv2dShape& p = shape;
  const ColumnLayout l = column_layout(p);
  if (l.rows == 0 || p.k == 0) return;
  const std::vector<Lane> wide_w = widen_weights(p, l, w);
  const Int8EpilogueWriter writer(epilogue, out);
  const int64_t tiles = (l.rows + l.tile_rows - 1) / l.tile_rows;
  // Tiles are independent (each computes every channel of its own output pixels), so threads
  // split them without sharing anything but the read-only weights.
  parallel_for(tiles, resolve_thread_count(threads), 1, [&](int64_t tile_begin, int64_t tile_end) {
    std::vector<Lane> tile(static_cast<size_t>(l.tile_rows * l.padded_row));
    std::vector<int64_t> out_base(static_cast<size_t>(l.tile_rows));
    for (int64_t t = tile_begin; t < tile_end; ++t) {
      const int64_t row_begin = t * l.tile_rows;
      const int64_t count = std::min(l.tile_rows, l.rows - row_begin);
      for (int64_t i = 0; i < count; ++i) {
        const int64_t q = row_begin + i;
        out_base[static_cast<size_t>(i)] = q / l.pixels * p.k * l.pixels + q % l.pixels;
      }
      for (int64_t g = 0; g < p.groups; ++g) {
        gather_rows(p, l, x, g, row_begin, count, tile.data());
        convolve_tile(p, l, wide_w.data(), tile.data(), out_base.data(), count, g, writer);
      }
    }
  });
}

void maxpool2d_int8_ref(const Pool2dShape& shape, const int8_t* x, int8_t* y) {
  const Pool2dShape& p = shape;
  for (int64_t plane = 0; plane < p.n * p.c; ++plane) {
    const int8_t* x_plane = x + plane * p.h * p.w;
    for (int64_t oh = 0; oh < p.oh; ++oh) {
      for (int64_t ow = 0; ow < p.ow; ++ow) {
        // Starting at -128 is the same as starting at the first cell, and gives -128 to a window
        // with no cell inside the input.
        int8_t best = static_cast<int8_t>(quant::kInt8Min);
        for_each_pool_cell(p, x_plane, oh, ow, [&](int8_t v) { best = std::max(best, v); });
        y[(plane * p.oh + oh) * p.ow + ow] = best;
      }
    }
  }
}

void avgpool2d_int8_ref(const Pool2dShape& shape, const int8_t* x, float input_scale, float output_scale, int8_t* y) {
  const Pool2dShape& p = shape;
  for (int64_t plane = 0; plane < p.n * p.c; ++plane) {
    const int8_t* x_plane = x + plane * p.h * p.w;
    for (int64_t oh = 0; oh < p.oh; ++oh) {
      for (int64_t ow = 0; ow < p.ow; ++ow) {
        const int64_t count = pool_window_count(p, oh, ow);
        int32_t sum = 0;
        for_each_pool_cell(p, x_plane, oh, ow, [&](int8_t v) { sum += v; });
        y[(plane * p.oh + oh) * p.ow + ow] =
            count == 0 ? int8_t{0}
                       : quant::average_pool_value(sum, static_cast<int32_t>(count), input_scale, output_scale);
      }
    }
  }
}

void global_avgpool_int8_ref(const int8_t* x, int64_t n, int64_t c, int64_t h, int64_t w, float input_scale,
                             float output_scale, int8_t* y) {
  const int64_t cells = h * w;
  // An int32 sum of 128 * cells is exact below 2^31, i.e. for planes up to 16 Mi cells.
  OCTET_CHECK(cells > 0 && cells < (int64_t{1} << 24), "INT8 GlobalAveragePool: a plane of ", cells,
              " cells is outside the exact int32 sum (1 to 16777215)");
  for (int64_t plane = 0; plane < n * c; ++plane) {
    int32_t sum = 0;
    for (int64_t i = 0; i < cells; ++i) sum += x[plane * cells + i];
    y[plane] = quant::average_pool_value(sum, static_cast<int32_t>(cells), input_scale, output_scale);
  }
}

void channel_scale_int8_ref(const int8_t* x, const float* gate, bool gate_batched, int64_t n, int64_t c, int64_t h,
                            int64_t w, float input_scale, float output_scale, int8_t* y) {
  const int64_t plane = h * w;
  for (int64_t image = 0; image < n; ++image)
    for (int64_t channel = 0; channel < c; ++channel) {
      const float g = gate[(gate_batched ? image * c : 0) + channel];
      const int64_t base = (image * c + channel) * plane;
      for (int64_t i = 0; i < plane; ++i)
        y[base + i] = quant::quantize(quant::dequantize(x[base + i], input_scale) * g, output_scale);
    }
}

void concat_int8_ref(const std::vector<const int8_t*>& inputs, const std::vector<int64_t>& channels,
                     const std::vector<float>& input_scales, int64_t n, int64_t h, int64_t w, float output_scale,
                     int8_t* y) {
  OCTET_CHECK(inputs.size() == channels.size() && inputs.size() == input_scales.size(), "INT8 Concat: ",
              inputs.size(), " inputs, ", channels.size(), " channel counts, ", input_scales.size(), " scales");
  int64_t total_channels = 0;
  for (int64_t ch : channels) total_channels += ch;
  const int64_t plane = h * w;
  for (int64_t in = 0; in < n; ++in) {
    int8_t* y_image = y + in * total_channels * plane;
    for (size_t i = 0; i < inputs.size(); ++i) {
      const int64_t count = channels[i] * plane;
      const int8_t* x = inputs[i] + in * count;
      for (int64_t e = 0; e < count; ++e) y_image[e] = quant::requantize(x[e], input_scales[i], output_scale);
      y_image += count;
    }
  }
}

void add_int8_ref(const int8_t* a, float a_scale, const int8_t* b, float b_scale, int64_t count, float output_scale,
                  int8_t* y) {
  for (int64_t i = 0; i < count; ++i) y[i] = quant::add_int8(a[i], a_scale, b[i], b_scale, output_scale);
}

void quantize_ref(const float* x, int64_t count, float scale, int8_t* y) {
  for (int64_t i = 0; i < count; ++i) y[i] = quant::quantize(x[i], scale);
}

void dequantize_ref(const int8_t* x, int64_t count, float scale, float* y) {
  for (int64_t i = 0; i < count; ++i) y[i] = quant::dequantize(x[i], scale);
}

std::vector<float> quantize_weights_per_channel(const float* w, int64_t channels, int64_t row_length, int8_t* q) {
  std::vector<float> scales(static_cast<size_t>(channels));
  for (int64_t c = 0; c < channels; ++c) {
    const float* row = w + c * row_length;
    float amax = 0.0f;
    for (int64_t i = 0; i < row_length; ++i) amax = std::max(amax, std::fabs(row[i]));
    const float scale = quant::scale_from_amax(amax);
    scales[static_cast<size_t>(c)] = scale;
    for (int64_t i = 0; i < row_length; ++i) q[c * row_length + i] = quant::quantize(row[i], scale);
  }
  return scales;
}

}  // namespace octet::kernels
