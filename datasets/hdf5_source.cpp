#include "datasets/hdf5_source.h"

#include <algorithm>
#include <optional>

#include "datasets/hdf5_util.h"
#include "datasets/image_transform.h"

namespace octet {
namespace {

enum class Layout { kNCHW, kNHWC };
enum class Element { kUInt8, kFloat };

bool is_channel_count(hsize_t d) { return d == 1 || d == 3 || d == 4; }

// The dataset `name` when it exists and is a dataset; a missing intermediate group makes HDF5's
// link lookup fail rather than answer false, which means "absent" here too.
std::optional<H5::DataSet> open_dataset_if_present(const H5::H5File& file, const std::string& name) {
  if (name.empty()) return std::nullopt;
  try {
    if (!file.nameExists(name)) return std::nullopt;
    if (file.childObjType(name) != H5O_TYPE_DATASET) return std::nullopt;
  } catch (const H5::Exception&) {
    return std::nullopt;
  }
  return file.openDataSet(name);
}

std::vector<hsize_t> extent_of(const H5::DataSet& dataset) {
  const H5::DataSpace space = dataset.getSpace();
  std::vector<hsize_t> dims(static_cast<size_t>(std::max(0, space.getSimpleExtentNdims())));
  space.getSimpleExtentDims(dims.data());
  return dims;
}

Dims to_dims(const std::vector<hsize_t>& extent) { return Dims(extent.begin(), extent.end()); }

// Enough chunk cache for two of the dataset's chunks, so a batch that ends inside a chunk finds
// it still decompressed when the next batch starts; HDF5's 1 MiB default holds no chunk of a
// 224x224 RGB float sample.
H5::DSetAccPropList chunk_cache_for(const H5::DataSet& dataset) {
  H5::DSetAccPropList access;
  const H5::DSetCreatPropList creation = dataset.getCreatePlist();
  if (creation.getLayout() != H5D_CHUNKED) return access;
  std::vector<hsize_t> chunk(extent_of(dataset).size());
  creation.getChunk(static_cast<int>(chunk.size()), chunk.data());
  size_t chunk_bytes = dataset.getDataType().getSize();
  for (hsize_t d : chunk) chunk_bytes *= static_cast<size_t>(d);
  constexpr size_t kMinCache = size_t(1) << 20, kMaxCache = size_t(256) << 20;
  const size_t cache = std::clamp(2 * chunk_bytes, kMinCache, kMaxCache);
  // 521 hash slots is HDF5's default; w0 = 1 evicts fully read chunks first (reads are sequential).
  access.setChunkCache(521, cache, 1.0);
  return access;
}

class Hdf5Source final : public BatchSource {
 public:
  Hdf5Source(const std::string& path, const SourceOptions& options)
      : path_(path), images_name_(options.hdf5_images), labels_name_(options.hdf5_labels), pre_(options.preprocessing) {
    hdf5::require_hdf5_file(path_);
    hdf5::guarded(path_, "cannot open the file", [&] { file_ = H5::H5File(path_, H5F_ACC_RDONLY); });
    hdf5::guarded(path_, "cannot read dataset '" + images_name_ + "'", [&] { open_images(); });
    hdf5::guarded(path_, "cannot read dataset '" + labels_name_ + "'", [&] { open_labels(); });
  }

  int64_t size() const override { return count_; }
  Dims sample_dims() const override { return sample_dims_; }
  void reset() override { position_ = 0; }
  std::string describe() const override {
    return "HDF5 '" + path_ + "' dataset '" + images_name_ + "' (" + std::to_string(count_) + " " + element_name_ +
           (layout_ == Layout::kNCHW ? " NCHW " : " NHWC ") +
           (element_ == Element::kUInt8 ? "images" : "preprocessed samples") + ", " +
           (labels_ ? "labels '" + labels_name_ + "'" : std::string("no labels")) + ")";
  }

  bool next(int64_t max_batch, Batch& batch) override {
    OCTET_CHECK(max_batch > 0, "batch size must be positive, got ", max_batch);
    const int64_t n = std::min(max_batch, count_ - position_);
    if (n <= 0) return false;
    Dims batch_dims{n};
    batch_dims.insert(batch_dims.end(), sample_dims_.begin(), sample_dims_.end());
    if (batch.images.type() != DataType::kFloat32 || batch.images.dims() != batch_dims)
      batch.images = Tensor(DataType::kFloat32, batch_dims);
    batch.labels.assign(static_cast<size_t>(n), -1);
    const std::string range = "samples " + std::to_string(position_) + ".." + std::to_string(position_ + n - 1);
    hdf5::guarded(path_, "cannot read " + range + " of dataset '" + images_name_ + "'",
                  [&] { read_images(n, batch.images.data<float>()); });
    if (labels_)
      hdf5::guarded(path_, "cannot read " + range + " of dataset '" + labels_name_ + "'", [&] {
        read_slab(*labels_, {static_cast<hsize_t>(n)}, H5::PredType::NATIVE_INT64, batch.labels.data());
      });
    position_ += n;
    return true;
  }

 private:
  void open_images() {
    std::optional<H5::DataSet> images = open_dataset_if_present(file_, images_name_);
    if (!images) fail_missing_images();
    const std::vector<hsize_t> extent = extent_of(*images);
    OCTET_CHECK(extent.size() == 3 || extent.size() == 4, "'", path_, "': dataset '", images_name_,
                "' must have rank 4, (N, C, H, W) or (N, H, W, C), or rank 3, (N, H, W); found ",
                to_string(to_dims(extent)));
    layout_ = layout_of(*images, extent);
    count_ = static_cast<int64_t>(extent[0]);
    if (extent.size() == 3) {
      stored_ = {1, static_cast<int64_t>(extent[1]), static_cast<int64_t>(extent[2])};
    } else if (layout_ == Layout::kNCHW) {
      stored_ = {static_cast<int64_t>(extent[1]), static_cast<int64_t>(extent[2]), static_cast<int64_t>(extent[3])};
    } else {
      stored_ = {static_cast<int64_t>(extent[3]), static_cast<int64_t>(extent[1]), static_cast<int64_t>(extent[2])};
    }
    OCTET_CHECK(numel(stored_) > 0, "'", path_, "': dataset '", images_name_, "' has empty samples ",
                to_string(to_dims(extent)));

    const H5::DataType type = images->getDataType();
    element_name_ = hdf5::type_name(type);
    if (type.getClass() == H5T_FLOAT) {
      element_ = Element::kFloat;
      sample_dims_ = stored_;
      check_float_sample_size();
    } else if (type.getClass() == H5T_INTEGER && type.getSize() == 1 && H5Tget_sign(type.getId()) == H5T_SGN_NONE) {
      element_ = Element::kUInt8;
      channel_order_ = pixel_channel_order(*images);
      sample_dims_ = preprocessed_dims(pre_, stored_[1], stored_[2]);
    } else {
      OCTET_CHECK(false, "'", path_, "': dataset '", images_name_, "' holds ", element_name_,
                  "; octet reads uint8 pixels or floating-point samples (float32, as `octet dataset pack` writes)");
    }
    // Reopened with a chunk cache fitted to this dataset's chunks.
    images_ = file_.openDataSet(images_name_, chunk_cache_for(*images));
    images_extent_ = extent;
  }

  [[noreturn]] void fail_missing_images() const {
    const std::vector<std::string> datasets = hdf5::list_datasets(file_);
    std::string listing;
    constexpr size_t kShown = 20;
    for (size_t i = 0; i < std::min(datasets.size(), kShown); ++i) listing += (i ? ", " : "") + datasets[i];
    if (datasets.size() > kShown) listing += ", and " + std::to_string(datasets.size() - kShown) + " more";
    throw Error(
        detail::concat("'", path_, "' has no dataset '", images_name_, "' (",
                       datasets.empty() ? std::string("the file has no datasets") : "datasets in the file: " + listing,
                       "); name the images dataset with --hdf5-images"));
  }

  Layout layout_of(const H5::DataSet& images, const std::vector<hsize_t>& extent) const {
    const std::optional<std::string> attribute = hdf5::read_string_attribute(images, "layout", path_, images_name_);
    if (attribute) {
      OCTET_CHECK(*attribute == "NCHW" || *attribute == "NHWC", "'", path_, "': dataset '", images_name_,
                  "' has layout attribute '", *attribute, "'; octet reads NCHW or NHWC");
      OCTET_CHECK(extent.size() == 4, "'", path_, "': dataset '", images_name_, "' has layout ", *attribute,
                  " but rank ", extent.size());
      return *attribute == "NCHW" ? Layout::kNCHW : Layout::kNHWC;
    }
    if (extent.size() == 3) return Layout::kNCHW;  // (N, H, W): one channel, nothing to transpose
    return is_channel_count(extent[3]) && !is_channel_count(extent[1]) ? Layout::kNHWC : Layout::kNCHW;
  }

  void check_float_sample_size() const {
    OCTET_CHECK((pre_.height == 0 || pre_.height == stored_[1]) && (pre_.width == 0 || pre_.width == stored_[2]), "'",
                path_, "': dataset '", images_name_, "' holds preprocessed samples of ", to_string(stored_),
                " (C, H, W), but the preprocessing asks for ", pre_.height, "x", pre_.width,
                "; float samples are used as they are, so pack again with the model's preprocessing");
  }

  std::string pixel_channel_order(const H5::DataSet& images) const {
    const int64_t channels = stored_[0];
    const std::optional<std::string> attribute =
        hdf5::read_string_attribute(images, "channel_order", path_, images_name_);
    std::string order;
    if (attribute) {
      order = *attribute;
    } else if (channels == 1) {
      order = "gray";
    } else if (channels == 3) {
      order = "rgb";
    } else if (channels == 4) {
      order = "rgba";
    }
    const int64_t expected = order == "gray"                      ? 1
                             : order == "rgb" || order == "bgr"   ? 3
                             : order == "rgba" || order == "bgra" ? 4
                                                                  : 0;
    OCTET_CHECK(expected != 0 || !attribute, "'", path_, "': dataset '", images_name_, "' has channel_order '", order,
                "'; octet reads gray, rgb, bgr, rgba or bgra");
    OCTET_CHECK(expected == channels, "'", path_, "': dataset '", images_name_, "' holds uint8 images with ", channels,
                " channels", attribute ? " but channel_order '" + order + "'" : std::string(),
                "; octet reads 1 (gray), 3 (rgb, bgr) or 4 (rgba, bgra) channels");
    return order;
  }

  void open_labels() {
    std::optional<H5::DataSet> labels = open_dataset_if_present(file_, labels_name_);
    if (!labels) return;
    const std::vector<hsize_t> extent = extent_of(*labels);
    const std::string both = "dataset '" + labels_name_ + "' for the " + std::to_string(count_) +
                             " samples of dataset '" + images_name_ + "'";
    OCTET_CHECK(labels->getTypeClass() == H5T_INTEGER, "'", path_, "': labels ", both, " holds ",
                hdf5::type_name(labels->getDataType()), "; labels must be integers");
    OCTET_CHECK(extent.size() == 1 && static_cast<int64_t>(extent[0]) == count_, "'", path_, "': labels ", both,
                " has shape ", to_string(to_dims(extent)), "; it must be [", count_, "]");
    labels_ = file_.openDataSet(labels_name_, chunk_cache_for(*labels));
  }

  // Reads `count` (dims after the first: whole) starting at sample position_ into `out`.
  void read_slab(const H5::DataSet& dataset, std::vector<hsize_t> count, const H5::PredType& memory_type,
                 void* out) const {
    std::vector<hsize_t> start(count.size(), 0);
    start[0] = static_cast<hsize_t>(position_);
    H5::DataSpace file_space = dataset.getSpace();
    file_space.selectHyperslab(H5S_SELECT_SET, count.data(), start.data());
    const H5::DataSpace memory_space(static_cast<int>(count.size()), count.data());
    dataset.read(out, memory_type, memory_space, file_space);
  }

  std::vector<hsize_t> slab_count(int64_t n) const {
    std::vector<hsize_t> count = images_extent_;
    count[0] = static_cast<hsize_t>(n);
    return count;
  }

  void read_images(int64_t n, float* out) {
    const int64_t channels = stored_[0], height = stored_[1], width = stored_[2];
    const int64_t plane = height * width, stored_elems = channels * plane;
    if (element_ == Element::kFloat) {
      if (layout_ == Layout::kNCHW) {
        read_slab(images_, slab_count(n), H5::PredType::NATIVE_FLOAT, out);
        return;
      }
      floats_.resize(static_cast<size_t>(n * stored_elems));
      read_slab(images_, slab_count(n), H5::PredType::NATIVE_FLOAT, floats_.data());
      for (int64_t i = 0; i < n; ++i) {
        const float* hwc = floats_.data() + i * stored_elems;
        float* chw = out + i * stored_elems;
        for (int64_t p = 0; p < plane; ++p)
          for (int64_t c = 0; c < channels; ++c) chw[c * plane + p] = hwc[p * channels + c];
      }
      return;
    }
    pixels_.resize(static_cast<size_t>(n * stored_elems));
    read_slab(images_, slab_count(n), H5::PredType::NATIVE_UINT8, pixels_.data());
    const int64_t sample_elems = numel(sample_dims_);
    // preprocess_image takes interleaved pixels without alpha handling for rgba: planar samples
    // are interleaved and rgba drops its alpha into this scratch image first.
    const bool planar = layout_ == Layout::kNCHW && channels > 1;
    const bool drop_alpha = channel_order_ == "rgba";
    const int64_t image_channels = drop_alpha ? 3 : channels;
    for (int64_t i = 0; i < n; ++i) {
      const uint8_t* sample = pixels_.data() + i * stored_elems;
      const uint8_t* hwc = sample;
      if (planar || drop_alpha) {
        interleaved_.resize(static_cast<size_t>(plane * image_channels));
        for (int64_t p = 0; p < plane; ++p)
          for (int64_t c = 0; c < image_channels; ++c)
            interleaved_[static_cast<size_t>(p * image_channels + c)] =
                planar ? sample[c * plane + p] : sample[p * channels + c];
        hwc = interleaved_.data();
      }
      const ImageU8 image{height, width, image_channels, drop_alpha ? "rgb" : channel_order_, hwc};
      preprocess_image(image, pre_, out + i * sample_elems,
                       "'" + path_ + "' dataset '" + images_name_ + "' sample " + std::to_string(position_ + i));
    }
  }

  std::string path_, images_name_, labels_name_;
  Preprocessing pre_;
  H5::H5File file_;
  H5::DataSet images_;
  std::optional<H5::DataSet> labels_;
  std::vector<hsize_t> images_extent_;  // as stored, N first
  Layout layout_ = Layout::kNCHW;
  Element element_ = Element::kFloat;
  std::string element_name_;   // "uint8", "float32", ...
  std::string channel_order_;  // of uint8 pixels
  int64_t count_ = 0;
  Dims stored_;       // [C, H, W] of a stored sample
  Dims sample_dims_;  // [C, H, W] of a produced sample
  int64_t position_ = 0;
  std::vector<float> floats_;         // one batch of NHWC float samples before the transpose
  std::vector<uint8_t> pixels_;       // one batch of uint8 samples as stored
  std::vector<uint8_t> interleaved_;  // one sample as HWC without alpha
};

}  // namespace

std::unique_ptr<BatchSource> open_hdf5_source(const std::string& path, const SourceOptions& options) {
  return std::make_unique<Hdf5Source>(path, options);
}

std::string hdf5_packed_preprocessing(const std::string& path, const std::string& images_name) {
  hdf5::require_hdf5_file(path);
  return hdf5::guarded(path, "cannot read dataset '" + images_name + "'", [&] {
    const H5::H5File file(path, H5F_ACC_RDONLY);
    const std::optional<H5::DataSet> images = open_dataset_if_present(file, images_name);
    OCTET_CHECK(images.has_value(), "'", path, "' has no dataset '", images_name, "'");
    return hdf5::read_string_attribute(*images, "preprocessing", path, images_name).value_or("");
  });
}

}  // namespace octet
