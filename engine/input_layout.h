// Models whose image input is NHWC, [N, H, W, C] with C of 1 or 3 (TensorFlow and Keras exports,
// Caffe conversions such as MTCNN and open_nsfw). octet's data sources give [C, H, W] samples
// (datasets/preprocessing.h), so the commands that feed images to a model (calibrate, eval) run such
// a model behind a Transpose from NCHW: the user's model and the engines built from it stay as they
// are, only the feeding changes.
#pragma once

#include <cstddef>

#include "engine/graph.h"

namespace octet {

// [N, H, W, C] with C of 1 or 3 and H not (an NCHW input of 1 or 3 channels is never taken as NHWC).
bool is_nhwc_image_input(const Dims& dims);

// Feeds input `index` of `graph` ([N, H, W, C]) as [N, C, H, W], in place (the weights are not
// copied): a new input under the model's input name, then Transpose(perm 0, 2, 3, 1) into the
// model's tensor, renamed "<name>:nhwc". The new input holds the same values as the model's, so its
// calibration statistics (and scale, by the model's input name) are the model's input's.
void feed_input_as_nchw(Graph& graph, size_t index = 0);

}  // namespace octet
