// Steps 2-7 of datasets/preprocessing.h applied to one decoded 8-bit image.
//
// Shared by every reader that holds pixels (image files after decoding, IDX, uint8 HDF5), so the
// same picture gives the same tensor bit for bit whichever way it was stored. Resizing needs OpenCV
// (OCTET_OPENCV); without it a resize request is an Error naming `origin`. Crop, colour order,
// scaling and normalisation need nothing.
#pragma once

#include <cstdint>
#include <string>

#include "datasets/preprocessing.h"

namespace octet {

// A decoded image: height x width x channels bytes, interleaved (HWC), rows contiguous.
struct ImageU8 {
  int64_t height = 0, width = 0, channels = 0;
  std::string channel_order;  // of the data: "gray" (1 channel), "bgr" or "rgb" (3), "bgra" (4)
  const uint8_t* data = nullptr;
};

// The [C, H, W] sample dims `p` produces from an image of `height` x `width` (after resize and crop).
Dims preprocessed_dims(const Preprocessing& p, int64_t height, int64_t width);

// Writes numel(preprocessed_dims(...)) floats to `out` (CHW). Channel rules: gray -> rgb/bgr
// replicates the gray value; bgr <-> rgb swaps; bgra drops alpha; colour -> gray is refused (a
// colour picture for a gray model is almost always the wrong data set), as is any other channel
// count. Throws Error naming `origin` for a refused conversion, or when the result's size differs
// from p.height x p.width (when set).
void preprocess_image(const ImageU8& image, const Preprocessing& p, float* out, const std::string& origin);

}  // namespace octet
