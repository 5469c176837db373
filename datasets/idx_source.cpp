#include "datasets/idx_source.h"

#include <sys/stat.h>
#include <zlib.h>

#include <memory>

#include "datasets/image_transform.h"
#include "engine/file_util.h"

namespace octet {
namespace {

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// A gzip-or-raw file read sequentially (zlib reads uncompressed files transparently).
class GzReader {
 public:
  explicit GzReader(const std::string& path) : path_(path), file_(gzopen(path.c_str(), "rb")) {
    OCTET_CHECK(file_ != nullptr, "cannot open '", path, "'");
  }
  ~GzReader() { gzclose(file_); }
  GzReader(const GzReader&) = delete;
  GzReader& operator=(const GzReader&) = delete;

  // Reads exactly n bytes; Error naming the file and what was being read when fewer arrive.
  void read(void* dst, size_t n, const char* what) {
    const int got = gzread(file_, dst, static_cast<unsigned>(n));
    OCTET_CHECK(got >= 0, "'", path_, "': read error while reading ", what);
    OCTET_CHECK(static_cast<size_t>(got) == n, "'", path_, "' is truncated: ", what, " needs ", n, " bytes, ",
                got, " remain");
  }
  void rewind_to(long offset) {
    OCTET_CHECK(gzseek(file_, offset, SEEK_SET) == offset, "'", path_, "': cannot seek");
  }

 private:
  std::string path_;
  gzFile file_;
};

Dims read_idx_header(GzReader& in, const std::string& path) {
  unsigned char magic[4];
  in.read(magic, 4, "the magic number");
  OCTET_CHECK(magic[0] == 0 && magic[1] == 0, "'", path, "' is not an IDX file (bad magic number ",
              int(magic[0]), " ", int(magic[1]), " ", int(magic[2]), " ", int(magic[3]), ")");
  OCTET_CHECK(magic[2] == 0x08, "'", path, "': IDX data type 0x", std::hex, int(magic[2]),
              " is not supported (octet reads unsigned bytes, 0x08)");
  OCTET_CHECK(magic[3] >= 1 && magic[3] <= 4, "'", path, "': IDX rank ", int(magic[3]), " is not supported");
  Dims dims(magic[3]);
  for (auto& d : dims) {
    unsigned char b[4];
    in.read(b, 4, "the dimensions");
    d = (int64_t(b[0]) << 24) | (int64_t(b[1]) << 16) | (int64_t(b[2]) << 8) | int64_t(b[3]);
  }
  return dims;
}

class IdxSource final : public BatchSource {
 public:
  IdxSource(const std::string& images_path, const Preprocessing& preprocessing)
      : path_(images_path), pre_(preprocessing), in_(images_path) {
    dims_ = read_idx_header(in_, path_);
    OCTET_CHECK(dims_.size() == 3, "'", path_, "': IDX images must have rank 3 [N, H, W], found ", to_string(dims_));
    header_bytes_ = 4 + 4 * static_cast<long>(dims_.size());
    sample_dims_ = preprocessed_dims(pre_, dims_[1], dims_[2]);
    const std::string labels_path = idx_labels_path_for(path_);
    if (!labels_path.empty()) {
      IdxArray labels = read_idx_file(labels_path);
      OCTET_CHECK(labels.dims.size() == 1 && labels.dims[0] == dims_[0], "'", labels_path, "' has ",
                  to_string(labels.dims), " labels for ", dims_[0], " images in '", path_, "'");
      labels_.assign(labels.data.begin(), labels.data.end());
    }
  }

  int64_t size() const override { return dims_[0]; }
  Dims sample_dims() const override { return sample_dims_; }
  void reset() override {
    in_.rewind_to(header_bytes_);
    position_ = 0;
  }
  std::string describe() const override {
    return "IDX '" + path_ + "' (" + std::to_string(dims_[0]) + " images, " +
           (labels_.empty() ? "no labels" : "labelled") + ")";
  }

  bool next(int64_t max_batch, Batch& batch) override {
    OCTET_CHECK(max_batch > 0, "batch size must be positive, got ", max_batch);
    const int64_t n = std::min(max_batch, size() - position_);
    if (n <= 0) return false;
    const int64_t pixels = dims_[1] * dims_[2];
    raw_.resize(static_cast<size_t>(n * pixels));
    in_.read(raw_.data(), raw_.size(), "image data");
    Dims batch_dims{n};
    batch_dims.insert(batch_dims.end(), sample_dims_.begin(), sample_dims_.end());
    if (batch.images.type() != DataType::kFloat32 || batch.images.dims() != batch_dims)
      batch.images = Tensor(DataType::kFloat32, batch_dims);
    const int64_t sample_elems = numel(sample_dims_);
    for (int64_t i = 0; i < n; ++i) {
      const ImageU8 image{dims_[1], dims_[2], 1, "gray", raw_.data() + i * pixels};
      preprocess_image(image, pre_, batch.images.data<float>() + i * sample_elems,
                       path_ + " image " + std::to_string(position_ + i));
    }
    batch.labels.assign(static_cast<size_t>(n), -1);
    if (!labels_.empty())
      for (int64_t i = 0; i < n; ++i) batch.labels[static_cast<size_t>(i)] = labels_[static_cast<size_t>(position_ + i)];
    position_ += n;
    return true;
  }

 private:
  std::string path_;
  Preprocessing pre_;
  GzReader in_;
  Dims dims_;         // [N, H, W] as stored
  Dims sample_dims_;  // [C, H, W] after preprocessing
  long header_bytes_ = 0;
  std::vector<int64_t> labels_;
  std::vector<uint8_t> raw_;
  int64_t position_ = 0;
};

}  // namespace

IdxArray read_idx_file(const std::string& path) {
  GzReader in(path);
  IdxArray array;
  array.dims = read_idx_header(in, path);
  array.data.resize(static_cast<size_t>(numel(array.dims)));
  in.read(array.data.data(), array.data.size(), "the data");
  return array;
}

std::string idx_labels_path_for(const std::string& images_path) {
  const std::string marker = "-images-idx3-ubyte";
  const size_t at = images_path.rfind(marker);
  if (at == std::string::npos) return "";
  std::string labels = images_path;
  labels.replace(at, marker.size(), "-labels-idx1-ubyte");
  return file_exists(labels) ? labels : "";
}

bool looks_like_idx_images(const std::string& path) {
  return path.find("-idx3-ubyte") != std::string::npos || ends_with(path, ".idx3");
}

std::unique_ptr<BatchSource> open_idx_source(const std::string& images_path, const SourceOptions& options) {
  return std::make_unique<IdxSource>(images_path, options.preprocessing);
}

}  // namespace octet
