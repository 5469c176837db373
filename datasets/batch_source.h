// BatchSource: where sample batches come from, independent of how they are stored.
//
// A source yields preprocessed float32 samples in NCHW with their labels (-1 when unknown), in a
// deterministic order, a batch at a time, holding only a bounded number of batches in memory
// (readers that decode prefetch a few batches ahead on a small thread pool).
//
// Readers, picked by open_batch_source from what the path is:
//   folder            images found recursively, sorted by path; when images sit in class
//                     subfolders, the sorted subfolder names give the labels (torchvision ImageFolder)
//   .txt / .lst       an image list: one "path [label]" per line, paths relative to the list's
//                     folder, spaces allowed in paths (the label is the last field when it is an
//                     integer), '#' starts a comment
//   *-idx3-ubyte[.gz] IDX images (MNIST, Fashion-MNIST), labels from the matching idx1 file
//   .h5 / .hdf5       an images dataset (N,C,H,W) or (N,H,W,C), uint8 or float32, optional labels
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "datasets/preprocessing.h"
#include "engine/tensor.h"

namespace octet {

struct Batch {
  Tensor images;                // float32 [n, C, H, W]
  std::vector<int64_t> labels;  // n entries; -1 where unknown
};

struct SourceOptions {
  Preprocessing preprocessing;
  // A sample that cannot be read (corrupt image, non-image file, missing list entry, wrong channels)
  // is an Error naming the file (and list line) unless skip_bad: then it is left out with a warning
  // on stderr and counted in skipped().
  bool skip_bad = false;
  int threads = 0;           // decoding threads; 0 = hardware threads
  int prefetch_batches = 2;  // batches decoded ahead of the consumer
  std::string hdf5_images = "images";  // HDF5 dataset names
  std::string hdf5_labels = "labels";  // optional; absent = no labels
};

class BatchSource {
 public:
  virtual ~BatchSource() = default;
  virtual int64_t size() const = 0;       // samples in the source (before any skipped)
  virtual Dims sample_dims() const = 0;   // [C, H, W]
  virtual void reset() = 0;               // back to the first sample
  // Fills `batch` with up to max_batch samples; false when the source is exhausted.
  virtual bool next(int64_t max_batch, Batch& batch) = 0;
  virtual std::string describe() const = 0;  // "IDX 't10k-images-idx3-ubyte.gz' (10000 images, labelled)"
  virtual int64_t skipped() const { return 0; }  // samples left out under skip_bad so far
};

// Picks a reader from what `path` is (see above); Error naming the path when none fits.
std::unique_ptr<BatchSource> open_batch_source(const std::string& path, const SourceOptions& options);

}  // namespace octet
