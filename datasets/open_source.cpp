// open_batch_source: the reader is picked from what the path is (datasets/batch_source.h).
#include <filesystem>

#include "datasets/batch_source.h"
#include "datasets/idx_source.h"
#include "octet/build_config.h"
#if OCTET_OPENCV
#include "datasets/image_source.h"
#endif
#if OCTET_HDF5
#include "datasets/hdf5_source.h"
#endif

namespace octet {
namespace {

std::string lower_extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

[[maybe_unused]] [[noreturn]] void missing_feature(const std::string& path, const char* what, const char* option) {
  throw Error(detail::concat("dataset '", path, "' is ", what, ", but this octet was built without ", option,
                             "; on a machine that has it, `octet dataset pack` turns it into an HDF5 file"));
}

}  // namespace

std::unique_ptr<BatchSource> open_batch_source(const std::string& path, const SourceOptions& options) {
  namespace fs = std::filesystem;
  std::error_code ec;
  OCTET_CHECK(fs::exists(path, ec), "dataset '", path, "' does not exist");
  validate_preprocessing(options.preprocessing, "preprocessing for '" + path + "'");
  const std::string ext = lower_extension(path);
  if (fs::is_directory(path, ec)) {
#if OCTET_OPENCV
    return open_image_folder_source(path, options);
#else
    missing_feature(path, "an image folder", "OpenCV");
#endif
  }
  if (ext == ".txt" || ext == ".lst") {
#if OCTET_OPENCV
    return open_image_list_source(path, options);
#else
    missing_feature(path, "an image list", "OpenCV");
#endif
  }
  if (ext == ".h5" || ext == ".hdf5") {
#if OCTET_HDF5
    return open_hdf5_source(path, options);
#else
    missing_feature(path, "an HDF5 file", "HDF5");
#endif
  }
  if (looks_like_idx_images(path)) return open_idx_source(path, options);
  OCTET_CHECK(false, "dataset '", path,
              "': octet reads an image folder, an image list (.txt/.lst), IDX images (*-idx3-ubyte[.gz]) "
              "or HDF5 (.h5/.hdf5); this is none of them");
  return nullptr;
}

}  // namespace octet
