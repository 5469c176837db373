#include "datasets/image_transform.h"

#include <array>
#include <vector>

#include "octet/build_config.h"

#if OCTET_OPENCV
#include <opencv2/imgproc.hpp>
#endif

namespace octet {
namespace {

struct Size2D {
  int64_t height = 0, width = 0;
  bool operator==(const Size2D& o) const { return height == o.height && width == o.width; }
  bool operator!=(const Size2D& o) const { return !(*this == o); }
};

std::string to_text(Size2D s) { return std::to_string(s.width) + "x" + std::to_string(s.height); }

// Step 3. The longer side is int(S * long / short), truncated: that is the expression torchvision's
// Resize(int) evaluates (_compute_resized_output_size), so a model trained there sees the same size
// (500x375 -> 341x256). Integer division gives the same value as Python's float division followed by
// int() for every size an image can have (the quotient is never within one ulp of the next integer).
Size2D resized_size(const Preprocessing& p, Size2D image) {
  if (p.resize_shorter > 0) {
    const int64_t s = p.resize_shorter;
    if (image.width <= image.height) return {s * image.height / image.width, s};
    return {s, s * image.width / image.height};
  }
  if (p.resize_width > 0) return {p.resize_height, p.resize_width};
  return image;
}

Size2D cropped_size(const Preprocessing& p, Size2D resized) {
  if (p.crop_width > 0) return {p.crop_height, p.crop_width};
  return resized;
}

int64_t channels_of_order(const std::string& order) {
  if (order == "gray") return 1;
  if (order == "bgr" || order == "rgb") return 3;
  if (order == "bgra") return 4;
  return 0;
}

// Step 2 as a map: output channel c (in p.channel_order) reads interleaved input channel map[c].
// Swapping, replicating and dropping channels commute exactly with a per-channel resize and a crop,
// so applying the map while writing floats gives the same numbers as converting first, without an
// extra pass over the full-size picture (and a gray picture is resized once, not three times).
std::array<int64_t, 3> channel_map(const ImageU8& image, const Preprocessing& p, const std::string& origin) {
  const int64_t expected = channels_of_order(image.channel_order);
  OCTET_CHECK(expected != 0, origin, ": images with channel order '", image.channel_order,
              "' are not supported (gray, bgr, rgb or bgra)");
  OCTET_CHECK(image.channels == expected, origin, ": a ", image.channel_order, " image must have ", expected,
              " channels, this one has ", image.channels);
  const std::string& in = image.channel_order;
  const std::string& want = p.channel_order;
  OCTET_CHECK(p.channels == (want == "gray" ? 1 : 3), origin, ": preprocessing asks for ", p.channels,
              " channels in order '", want, "'");
  if (want == "gray") {
    OCTET_CHECK(in == "gray", origin, ": a colour image (", in,
                ") for a model that reads gray images; octet does not convert colour to gray, since a colour "
                "picture for a gray model is almost always the wrong data set");
    return {0, 0, 0};
  }
  OCTET_CHECK(want == "rgb" || want == "bgr", origin, ": channel order '", want, "' is not one of gray, rgb, bgr");
  if (in == "gray") return {0, 0, 0};
  // bgr and bgra store blue first; rgb stores red first. Alpha (channel 3) is never read.
  const bool input_red_first = in == "rgb";
  const bool output_red_first = want == "rgb";
  if (input_red_first == output_red_first) return {0, 1, 2};
  return {2, 1, 0};
}

}  // namespace

Dims preprocessed_dims(const Preprocessing& p, int64_t height, int64_t width) {
  const Size2D out = cropped_size(p, resized_size(p, {height, width}));
  return {p.channels, out.height, out.width};
}

void preprocess_image(const ImageU8& image, const Preprocessing& p, float* out, const std::string& origin) {
  OCTET_CHECK(image.height > 0 && image.width > 0 && image.data != nullptr, origin, ": the image is empty");
  const std::array<int64_t, 3> source_channel = channel_map(image, p, origin);

  const Size2D original{image.height, image.width};
  const Size2D resized = resized_size(p, original);
  const Size2D result = cropped_size(p, resized);
  OCTET_CHECK(result.height <= resized.height && result.width <= resized.width, origin, ": the ", to_text(result),
              " center crop does not fit the ", to_text(resized), " image",
              resized != original ? " after resizing" : "");
  OCTET_CHECK((p.height == 0 || p.height == result.height) && (p.width == 0 || p.width == result.width), origin,
              ": preprocessing turns this ", to_text(original), " image into ", to_text(result), ", the model expects ",
              p.width, "x", p.height, " (set a resize and/or center crop)");

  // Step 3 (the only step that needs OpenCV). A resize to the size the image already has is no resize.
  const int64_t channels = image.channels;
  const uint8_t* pixels = image.data;
  int64_t row_stride = image.width * channels;
#if OCTET_OPENCV
  cv::Mat scaled;  // lives until the floats are written
#endif
  if (resized != original) {
#if OCTET_OPENCV
    // cv::Mat wraps the caller's bytes without copying; resize only reads them.
    const cv::Mat source(static_cast<int>(image.height), static_cast<int>(image.width),
                         CV_8UC(static_cast<int>(channels)), const_cast<uint8_t*>(image.data));
    cv::resize(source, scaled, cv::Size(static_cast<int>(resized.width), static_cast<int>(resized.height)), 0, 0,
               cv::INTER_LINEAR);
    pixels = scaled.data;
    row_stride = static_cast<int64_t>(scaled.step[0]);
#else
    OCTET_CHECK(false, origin, ": resizing ", to_text(original), " to ", to_text(resized),
                " needs OpenCV, and this octet was built without it (OCTET_OPENCV=OFF)");
#endif
  }

  // Step 4: the crop's top-left corner, offsets rounded down.
  const int64_t top = (resized.height - result.height) / 2;
  const int64_t left = (resized.width - result.width) / 2;

  // Steps 5-7. A 256-entry table per channel holds (v * scale - mean) / std for every byte value v:
  // the same float expression, evaluated once per value instead of once per pixel. One pass over
  // the cropped pixels writes all output planes (CHW), reading each pixel's bytes once.
  const int64_t out_channels = p.channels;
  std::array<std::array<float, 256>, 3> tables;
  for (int64_t c = 0; c < out_channels; ++c) {
    const float mean = p.mean_of(c), stddev = p.std_of(c);
    for (int v = 0; v < 256; ++v)
      tables[static_cast<size_t>(c)][static_cast<size_t>(v)] = (static_cast<float>(v) * p.scale - mean) / stddev;
  }
  const int64_t plane = result.height * result.width;
  for (int64_t y = 0; y < result.height; ++y) {
    const uint8_t* row = pixels + (top + y) * row_stride + left * channels;
    float* dst = out + y * result.width;
    if (out_channels == 1) {
      const float* t0 = tables[0].data();
      const int64_t s0 = source_channel[0];
      for (int64_t x = 0; x < result.width; ++x) dst[x] = t0[row[x * channels + s0]];
    } else {
      const float *t0 = tables[0].data(), *t1 = tables[1].data(), *t2 = tables[2].data();
      const int64_t s0 = source_channel[0], s1 = source_channel[1], s2 = source_channel[2];
      for (int64_t x = 0; x < result.width; ++x) {
        const uint8_t* pixel = row + x * channels;
        dst[x] = t0[pixel[s0]];
        dst[plane + x] = t1[pixel[s1]];
        dst[2 * plane + x] = t2[pixel[s2]];
      }
    }
  }
}

}  // namespace octet
