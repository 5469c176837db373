// BatchSource: where sample batches come from, independent of how they are stored.
//
// A source yields preprocessed float32 samples in NCHW with their labels (-1 when unknown), in a
// deterministic order, a batch at a time, holding only what the current batch needs in memory.
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

class BatchSource {
 public:
  virtual ~BatchSource() = default;
  virtual int64_t size() const = 0;         // samples in the source
  virtual Dims sample_dims() const = 0;     // [C, H, W]
  virtual void reset() = 0;                 // back to the first sample
  // Fills `batch` with up to max_batch samples; false when the source is exhausted.
  virtual bool next(int64_t max_batch, Batch& batch) = 0;
  virtual std::string describe() const = 0;  // for progress lines: "IDX t10k-images-idx3-ubyte.gz (10000 images)"
};

// Picks a reader from what `path` is. Today: IDX files (`*-idx3-ubyte[.gz]`).
std::unique_ptr<BatchSource> open_batch_source(const std::string& path, const Preprocessing& preprocessing);

}  // namespace octet
