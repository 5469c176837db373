// HDF5 tensor datasets as a BatchSource (built when octet/build_config.h has OCTET_HDF5 1).
//
// What octet reads from a file (dataset names from SourceOptions::hdf5_images / hdf5_labels; a name
// may be a path such as "/val/images"):
//   images  rank 4, (N, C, H, W) or (N, H, W, C). Which of the two:
//             - the images dataset's string attribute `layout`, "NCHW" or "NHWC", when present;
//             - otherwise NHWC when the last dim is 1, 3 or 4 and dim 1 is not (numpy/PIL/h5py
//               image stacks are NHWC), else NCHW.
//           Element type:
//             - uint8: pixels. Each sample goes through datasets/image_transform.h preprocess_image
//               (steps 2-7 of datasets/preprocessing.h), so a uint8 pack of pixels gives the same
//               tensors as the image files they came from. The pixels' channel order is the string
//               attribute `channel_order` (gray | rgb | bgr | rgba | bgra) when present, else gray
//               for 1 channel, rgb for 3 and rgba for 4 (the numpy/PIL convention).
//             - floating point (float32; float64/float16 converted to float32 by HDF5, rounding to
//               nearest): already preprocessed, taken as the model's input as is. Only an NHWC
//               dataset is transposed to NCHW; the preprocessing's height/width, when set, must match.
//           Any other element type is an Error naming the file, the dataset and the type.
//   labels  optional: a rank-1 integer dataset (any width and signedness, read as int64) of length
//           N; -1 means unknown. Absent (or an empty name) = unlabelled. A labels dataset of another
//           length, rank or type is an Error naming the file and both datasets.
//
// Streaming: each next() reads one hyperslab of batch samples (and their labels), never the whole
// dataset; besides the batch, memory holds HDF5's chunk cache (sized to two of the file's chunks,
// at least 1 MiB and at most 256 MiB) and one batch of raw elements.
//
// Errors name the file: a missing file, a file that is not HDF5, a missing images dataset (the
// message lists the datasets the file has), a wrong rank or type, a read failure. HDF5's own error
// printing to stderr is switched off; its failures become octet::Error.
//
// The serial HDF5 library is not thread-safe: one HDF5 source or writer at a time per thread of
// the process, with no two threads inside HDF5 at once.
#pragma once

#include <memory>
#include <string>

#include "datasets/batch_source.h"

namespace octet {

std::unique_ptr<BatchSource> open_hdf5_source(const std::string& path, const SourceOptions& options);

// The JSON of the `preprocessing` string attribute that `octet dataset pack` records on the images
// dataset (datasets/hdf5_writer.h), or "" when the dataset has none. Lets a caller warn when a
// float pack was made with other preprocessing than the model's. Error naming the file when the
// file or the dataset cannot be opened.
std::string hdf5_packed_preprocessing(const std::string& path, const std::string& images_name);

}  // namespace octet
