#include "datasets/hdf5_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>

#include "datasets/hdf5_util.h"
#include "octet/build_config.h"

namespace octet {
namespace {

constexpr int64_t kChunkBytes = int64_t(1) << 20;  // HDF5's default chunk cache size
constexpr int64_t kMaxChunkSamples = 1024;
constexpr int64_t kBatchBytes = int64_t(32) << 20;
constexpr int64_t kMaxBatchSamples = 256;
constexpr hsize_t kLabelChunk = 4096;
constexpr int kGzipLevel = 4;  // most of gzip-9's ratio on float data at a fraction of the time
constexpr int64_t kUnknownLabel = -1;

int64_t sample_bytes(const Dims& sample) { return std::max<int64_t>(1, numel(sample)) * int64_t(sizeof(float)); }

std::vector<hsize_t> with_count(hsize_t n, const Dims& sample) {
  std::vector<hsize_t> dims{n};
  for (int64_t d : sample) dims.push_back(static_cast<hsize_t>(d));
  return dims;
}

H5::DSetCreatPropList compressed_chunks(const std::vector<hsize_t>& chunk) {
  H5::DSetCreatPropList creation;
  creation.setChunk(static_cast<int>(chunk.size()), chunk.data());
  // Shuffle groups the bytes of each float by significance, which is what lets gzip find runs.
  creation.setShuffle();
  creation.setDeflate(kGzipLevel);
  return creation;
}

H5::LinkCreatPropList with_intermediate_groups() {
  H5::LinkCreatPropList links;
  links.setCreateIntermediateGroup(true);  // names such as "val/images"
  return links;
}

// Appends `n` samples of `data` (n x the dataset's other dims) at row `at`, growing the dataset.
void append_rows(const H5::DataSet& dataset, hsize_t at, std::vector<hsize_t> count, const H5::PredType& memory_type,
                 const void* data) {
  std::vector<hsize_t> extent = count;
  extent[0] = at + count[0];
  dataset.extend(extent.data());
  H5::DataSpace file_space = dataset.getSpace();
  std::vector<hsize_t> start(count.size(), 0);
  start[0] = at;
  file_space.selectHyperslab(H5S_SELECT_SET, count.data(), start.data());
  const H5::DataSpace memory_space(static_cast<int>(count.size()), count.data());
  dataset.write(data, memory_type, memory_space, file_space);
}

class PackFile {
 public:
  PackFile(const std::string& temp_path, const std::string& images_name, const std::string& labels_name)
      : file_(temp_path, H5F_ACC_TRUNC), images_name_(images_name), labels_name_(labels_name) {}

  void create_images(const Dims& sample, const std::string& preprocessing_json, const std::string& source) {
    std::vector<hsize_t> chunk = with_count(0, sample);
    chunk[0] = static_cast<hsize_t>(std::clamp<int64_t>(kChunkBytes / sample_bytes(sample), 1, kMaxChunkSamples));
    for (hsize_t& d : chunk) d = std::max<hsize_t>(d, 1);  // a chunk needs positive dims
    std::vector<hsize_t> max_extent = with_count(H5S_UNLIMITED, sample);
    const std::vector<hsize_t> extent = with_count(0, sample);
    const H5::DataSpace space(static_cast<int>(extent.size()), extent.data(), max_extent.data());
    images_ = file_.createDataSet(images_name_, H5::PredType::IEEE_F32LE, space, compressed_chunks(chunk),
                                  H5::DSetAccPropList::DEFAULT, with_intermediate_groups());
    hdf5::write_string_attribute(*images_, "layout", "NCHW");
    hdf5::write_string_attribute(*images_, "preprocessing", preprocessing_json);
    hdf5::write_string_attribute(*images_, "source", source);
    hdf5::write_string_attribute(*images_, "octet_version", OCTET_VERSION_STRING);
    sample_ = sample;
  }

  bool has_images() const { return images_.has_value(); }
  const Dims& sample() const { return sample_; }

  void append(const Batch& batch) {
    const int64_t n = batch.images.dims()[0];
    append_rows(*images_, written_, with_count(static_cast<hsize_t>(n), sample_), H5::PredType::NATIVE_FLOAT,
                batch.images.data<float>());
    const bool any_known =
        std::any_of(batch.labels.begin(), batch.labels.end(), [](int64_t label) { return label != kUnknownLabel; });
    if (any_known && !labels_ && !labels_name_.empty()) create_labels();
    if (labels_)
      append_rows(*labels_, written_, {static_cast<hsize_t>(n)}, H5::PredType::NATIVE_INT64, batch.labels.data());
    written_ += static_cast<hsize_t>(n);
  }

  int64_t written() const { return static_cast<int64_t>(written_); }
  void close() { file_.close(); }

 private:
  // Created at the first known label: the samples before it read back as the fill value, -1.
  void create_labels() {
    const hsize_t extent = 0, max_extent = H5S_UNLIMITED;
    const H5::DataSpace space(1, &extent, &max_extent);
    H5::DSetCreatPropList creation = compressed_chunks({kLabelChunk});
    creation.setFillValue(H5::PredType::NATIVE_INT64, &kUnknownLabel);
    labels_ = file_.createDataSet(labels_name_, H5::PredType::STD_I64LE, space, creation, H5::DSetAccPropList::DEFAULT,
                                  with_intermediate_groups());
  }

  H5::H5File file_;
  std::string images_name_, labels_name_;
  std::optional<H5::DataSet> images_, labels_;
  Dims sample_;
  hsize_t written_ = 0;
};

void check_batch(const Batch& batch, const PackFile& pack, const BatchSource& source) {
  const Dims& dims = batch.images.dims();
  OCTET_CHECK(batch.images.type() == DataType::kFloat32 && dims.size() == 4, source.describe(), ": a batch came as ",
              to_string(batch.images.type()), " ", to_string(dims), ", expected float32 [n, C, H, W]");
  OCTET_CHECK(batch.labels.size() == static_cast<size_t>(dims[0]), source.describe(), ": a batch of ", dims[0],
              " samples came with ", batch.labels.size(), " labels");
  if (!pack.has_images()) return;
  const Dims sample(dims.begin() + 1, dims.end());
  OCTET_CHECK(sample == pack.sample(), source.describe(), ": samples from ", pack.written(), " on are ",
              to_string(sample), ", earlier ones ", to_string(pack.sample()),
              "; an HDF5 pack needs one sample size (set a resize and crop)");
}

// Writes the pack into `temp_path`; returns with the file closed.
void write_pack(BatchSource& source, const std::string& temp_path, const std::string& out_path,
                const Preprocessing& preprocessing, const std::string& images_name, const std::string& labels_name,
                const PackProgress& progress) {
  std::optional<PackFile> pack;
  hdf5::guarded(out_path, "cannot create '" + temp_path + "'",
                [&] { pack.emplace(temp_path, images_name, labels_name); });
  const std::string json = preprocessing_to_json(preprocessing), description = source.describe();
  source.reset();
  const Dims declared = source.sample_dims();
  const int64_t batch_size = std::clamp<int64_t>(kBatchBytes / sample_bytes(declared), 1, kMaxBatchSamples);
  Batch batch;
  while (source.next(batch_size, batch)) {
    check_batch(batch, *pack, source);
    if (batch.images.dims()[0] == 0) continue;
    hdf5::guarded(out_path, "cannot write dataset '" + images_name + "' of '" + temp_path + "'", [&] {
      if (!pack->has_images())
        pack->create_images(Dims(batch.images.dims().begin() + 1, batch.images.dims().end()), json, description);
      pack->append(batch);
    });
    if (progress) progress(pack->written() + source.skipped(), source.size());
  }
  hdf5::guarded(out_path, "cannot finish '" + temp_path + "'", [&] {
    if (!pack->has_images()) pack->create_images(declared, json, description);  // an empty source
    pack->close();
  });
}

// Forces the closed file's data to disk, so the rename never publishes a file whose blocks a crash
// could still lose.
void sync_to_disk(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  OCTET_CHECK(fd >= 0, "cannot reopen '", path, "': ", std::strerror(errno));
  const int synced = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  OCTET_CHECK(synced == 0, "cannot flush '", path, "' to disk: ", std::strerror(err));
}

}  // namespace

void pack_to_hdf5(BatchSource& source, const std::string& out_path, const Preprocessing& preprocessing,
                  const std::string& images_name, const std::string& labels_name, PackProgress progress) {
  OCTET_CHECK(!images_name.empty() && images_name != labels_name, "'", out_path,
              "': the images and labels datasets need two different names, got '", images_name, "' and '", labels_name,
              "'");
  struct stat existing {};
  OCTET_CHECK(::stat(out_path.c_str(), &existing) != 0 || !S_ISDIR(existing.st_mode), "'", out_path,
              "' is a folder; the pack needs a file name such as '", out_path, "/pack.h5'");
  const std::string temp_path = out_path + ".tmp." + std::to_string(::getpid());
  try {
    write_pack(source, temp_path, out_path, preprocessing, images_name, labels_name, progress);
    sync_to_disk(temp_path);
  } catch (...) {
    std::remove(temp_path.c_str());
    throw;
  }
  if (std::rename(temp_path.c_str(), out_path.c_str()) != 0) {
    const int err = errno;
    std::remove(temp_path.c_str());
    OCTET_CHECK(false, "cannot rename '", temp_path, "' to '", out_path, "': ", std::strerror(err));
  }
}

}  // namespace octet
