// HDF5 reader and pack writer (datasets/hdf5_source.h, datasets/hdf5_writer.h).
//
// Files are written here with the HDF5 C++ API, the way other tools write them (fixed-length string
// attributes, contiguous or chunked data, any label integer type), and read back through
// open_hdf5_source; expected tensors are computed in the test from the stored values. The pack
// tests check the round trip bit for bit, the attributes, streaming and the atomic replace.
#include <H5Cpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>

#include "datasets/hdf5_source.h"
#include "datasets/hdf5_writer.h"
#include "datasets/image_transform.h"
#include "octet/build_config.h"
#include "tests/support/error_text.h"

namespace fs = std::filesystem;

namespace octet {
namespace {

// ---- helpers -------------------------------------------------------------------------------------

class Hdf5Test : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("octet_hdf5_" + std::to_string(::getpid()) + "_" + info->test_suite_name() + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  fs::path dir_;
};

std::vector<hsize_t> h5_dims(const Dims& dims) { return std::vector<hsize_t>(dims.begin(), dims.end()); }

// Writes `values` as dataset `name` of `dims`, stored as `file_type`; chunked and compressed when
// chunk is given, contiguous otherwise.
template <typename T>
H5::DataSet write_dataset(H5::H5File& file, const std::string& name, const Dims& dims, const std::vector<T>& values,
                          const H5::PredType& memory_type, const H5::PredType& file_type,
                          std::optional<Dims> chunk = std::nullopt) {
  EXPECT_EQ(values.size(), static_cast<size_t>(numel(dims)));
  const std::vector<hsize_t> extent = h5_dims(dims);
  H5::DSetCreatPropList creation;
  if (chunk) {
    const std::vector<hsize_t> c = h5_dims(*chunk);
    creation.setChunk(static_cast<int>(c.size()), c.data());
    creation.setDeflate(6);
  }
  H5::DataSet dataset =
      file.createDataSet(name, file_type, H5::DataSpace(static_cast<int>(extent.size()), extent.data()), creation);
  dataset.write(values.data(), memory_type);
  return dataset;
}

// A fixed-length, NUL-padded string attribute, the way h5py writes numpy bytes.
void set_fixed_string_attribute(const H5::H5Object& object, const std::string& name, const std::string& value) {
  const H5::StrType type(H5::PredType::C_S1, value.size() + 3);
  std::string padded = value;
  padded.resize(value.size() + 3, '\0');
  object.createAttribute(name, type, H5::DataSpace(H5S_SCALAR)).write(type, padded.data());
}

std::optional<std::string> string_attribute(const H5::DataSet& dataset, const std::string& name) {
  if (!dataset.attrExists(name)) return std::nullopt;
  const H5::Attribute attribute = dataset.openAttribute(name);
  std::string value;
  attribute.read(attribute.getStrType(), value);
  return value;
}

std::vector<uint8_t> pattern_bytes(int64_t count, int64_t seed) {
  std::vector<uint8_t> bytes(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i)
    bytes[static_cast<size_t>(i)] = static_cast<uint8_t>((i * 37 + seed * 11 + i / 7) % 256);
  return bytes;
}

std::vector<float> pattern_floats(int64_t count) {
  std::vector<float> values(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) values[static_cast<size_t>(i)] = std::sin(0.37f * static_cast<float>(i)) * 3.0f;
  return values;
}

struct ReadBack {
  Dims sample_dims;
  std::vector<float> images;  // every sample, NCHW, concatenated
  std::vector<int64_t> labels;
  int64_t batches = 0;
};

ReadBack read_all(BatchSource& source, int64_t batch_size) {
  ReadBack all;
  all.sample_dims = source.sample_dims();
  Batch batch;
  while (source.next(batch_size, batch)) {
    EXPECT_EQ(batch.images.dims()[0], static_cast<int64_t>(batch.labels.size()));
    EXPECT_LE(batch.images.dims()[0], batch_size);
    const float* data = batch.images.data<float>();
    all.images.insert(all.images.end(), data, data + batch.images.numel());
    all.labels.insert(all.labels.end(), batch.labels.begin(), batch.labels.end());
    ++all.batches;
  }
  return all;
}

ReadBack read_file(const std::string& path, const SourceOptions& options = {}, int64_t batch_size = 1000) {
  auto source = open_hdf5_source(path, options);
  return read_all(*source, batch_size);
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

using test::error_of;

Preprocessing rgb_preprocessing() {
  Preprocessing p;
  p.channels = 3;
  p.channel_order = "rgb";
  p.scale = 1.0f / 255.0f;
  p.mean = {0.485f, 0.456f, 0.406f};
  p.std = {0.229f, 0.224f, 0.225f};
  return p;
}

float normalised(uint8_t pixel, const Preprocessing& p, int64_t c) {
  return (static_cast<float>(pixel) * p.scale - p.mean_of(c)) / p.std_of(c);
}

// ---- uint8 pixels ------------------------------------------------------------------------------

TEST_F(Hdf5Test, Uint8NhwcRgbGoesThroughTheImageTransform) {
  const int64_t n = 5, h = 5, w = 6, c = 3;  // H is no channel count, so the shape rule says NHWC
  const std::vector<uint8_t> pixels = pattern_bytes(n * h * w * c, 1);
  {
    H5::H5File file(path("rgb.h5"), H5F_ACC_TRUNC);
    write_dataset(file, "images", {n, h, w, c}, pixels, H5::PredType::NATIVE_UINT8, H5::PredType::STD_U8LE);
  }
  SourceOptions options;
  options.preprocessing = rgb_preprocessing();
  const ReadBack got = read_file(path("rgb.h5"), options);
  ASSERT_EQ(got.sample_dims, (Dims{c, h, w}));
  ASSERT_EQ(got.images.size(), pixels.size());
  EXPECT_EQ(got.labels, std::vector<int64_t>(n, -1));

  std::vector<float> transformed(pixels.size());
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x) {
          const uint8_t pixel = pixels[static_cast<size_t>(((i * h + y) * w + x) * c + ch)];
          EXPECT_FLOAT_EQ(got.images[static_cast<size_t>(((i * c + ch) * h + y) * w + x)],
                          normalised(pixel, options.preprocessing, ch));
        }
    const ImageU8 image{h, w, c, "rgb", pixels.data() + i * h * w * c};
    preprocess_image(image, options.preprocessing, transformed.data() + i * c * h * w, "test");
  }
  EXPECT_TRUE(same_bits(got.images, transformed)) << "a uint8 pack must preprocess exactly like the images";
}

TEST_F(Hdf5Test, Uint8NchwIsInterleavedAndChannelOrderApplies) {
  // (N, 3, 5, 7): the last dim is no channel count, so NCHW. The model reads bgr, the data is rgb
  // (the default for 3 channels): output channel 0 is stored channel 2.
  const int64_t n = 3, c = 3, h = 5, w = 7;
  const std::vector<uint8_t> pixels = pattern_bytes(n * c * h * w, 2);
  {
    H5::H5File file(path("nchw.h5"), H5F_ACC_TRUNC);
    write_dataset(file, "images", {n, c, h, w}, pixels, H5::PredType::NATIVE_UINT8, H5::PredType::STD_U8LE);
  }
  SourceOptions options;
  options.preprocessing = rgb_preprocessing();
  options.preprocessing.channel_order = "bgr";
  const ReadBack got = read_file(path("nchw.h5"), options, 2);
  ASSERT_EQ(got.sample_dims, (Dims{c, h, w}));
  EXPECT_EQ(got.batches, 2);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t p = 0; p < h * w; ++p) {
        const uint8_t pixel = pixels[static_cast<size_t>((i * c + (2 - ch)) * h * w + p)];
        EXPECT_FLOAT_EQ(got.images[static_cast<size_t>((i * c + ch) * h * w + p)],
                        normalised(pixel, options.preprocessing, ch));
      }
}

TEST_F(Hdf5Test, Uint8ChannelOrderAttributeAndRgbaAlpha) {
  // bgra NHWC pixels with the attribute saying so; the model reads rgb: channel 0 <- stored 2,
  // alpha (stored 3) never read. Then the same bytes declared rgba: channel c <- stored c.
  const int64_t n = 2, h = 6, w = 5, c = 4;
  const std::vector<uint8_t> pixels = pattern_bytes(n * h * w * c, 3);
  for (const std::string order : {"bgra", "rgba"}) {
    const std::string file_path = path(order + ".h5");
    {
      H5::H5File file(file_path, H5F_ACC_TRUNC);
      const H5::DataSet images =
          write_dataset(file, "images", {n, h, w, c}, pixels, H5::PredType::NATIVE_UINT8, H5::PredType::STD_U8LE);
      if (order == "bgra") set_fixed_string_attribute(images, "channel_order", order);
    }
    SourceOptions options;
    options.preprocessing = rgb_preprocessing();
    const ReadBack got = read_file(file_path, options);
    ASSERT_EQ(got.sample_dims, (Dims{3, h, w})) << order;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t ch = 0; ch < 3; ++ch)
        for (int64_t p = 0; p < h * w; ++p) {
          const int64_t stored = order == "bgra" ? 2 - ch : ch;
          const uint8_t pixel = pixels[static_cast<size_t>((i * h * w + p) * c + stored)];
          EXPECT_FLOAT_EQ(got.images[static_cast<size_t>((i * 3 + ch) * h * w + p)],
                          normalised(pixel, options.preprocessing, ch))
              << order;
        }
  }
}

TEST_F(Hdf5Test, Uint8GrayRank3AndNhwcSingleChannel) {
  // (N, H, W) and (N, H, W, 1) hold the same gray images.
  const int64_t n = 4, h = 28, w = 28;
  const std::vector<uint8_t> pixels = pattern_bytes(n * h * w, 4);
  {
    H5::H5File file(path("gray.h5"), H5F_ACC_TRUNC);
    write_dataset(file, "rank3", {n, h, w}, pixels, H5::PredType::NATIVE_UINT8, H5::PredType::STD_U8LE);
    write_dataset(file, "nhwc", {n, h, w, 1}, pixels, H5::PredType::NATIVE_UINT8, H5::PredType::STD_U8LE);
  }
  Preprocessing p;
  p.scale = 1.0f / 255.0f;
  p.mean = {0.2860f};
  p.std = {0.3530f};
  std::vector<float> expected(pixels.size());
  for (size_t i = 0; i < pixels.size(); ++i) expected[i] = normalised(pixels[i], p, 0);
  for (const std::string name : {"rank3", "nhwc"}) {
    SourceOptions options;
    options.preprocessing = p;
    options.hdf5_images = name;
    const ReadBack got = read_file(path("gray.h5"), options, 3);
    EXPECT_EQ(got.sample_dims, (Dims{1, h, w})) << name;
    ASSERT_EQ(got.images.size(), expected.size()) << name;
    for (size_t i = 0; i < expected.size(); ++i) ASSERT_FLOAT_EQ(got.images[i], expected[i]) << name << " " << i;
  }
}

// ---- float samples -------------------------------------------------------------------------------

TEST_F(Hdf5Test, Float32NchwIsTakenAsIsBitForBit) {
  const int64_t n = 6, c = 3, h = 4, w = 5;
  std::vector<float> values = pattern_floats(n * c * h * w);
  values[0] = -0.0f;
  values[1] = std::numeric_limits<float>::denorm_min();
  values[2] = std::numeric_limits<float>::infinity();
  values[3] = std::numeric_limits<float>::quiet_NaN();
  const std::vector<int64_t> labels{3, 1, 4, 1, 5, 9};
  {
    H5::H5File file(path("f32.h5"), H5F_ACC_TRUNC);
    write_dataset(file, "images", {n, c, h, w}, values, H5::PredType::NATIVE_FLOAT, H5::PredType::IEEE_F32LE,
                  Dims{4, c, h, w});
    write_dataset(file, "labels", {n}, labels, H5::PredType::NATIVE_INT64, H5::PredType::STD_I64LE);
  }
  SourceOptions options;
  options.preprocessing = rgb_preprocessing();  // ignored for float samples but their size
  auto source = open_hdf5_source(path("f32.h5"), options);
  EXPECT_EQ(source->size(), n);
  EXPECT_EQ(source->sample_dims(), (Dims{c, h, w}));
  EXPECT_NE(source->describe().find("f32.h5"), std::string::npos);
  EXPECT_NE(source->describe().find("float32 NCHW"), std::string::npos) << source->describe();
  const ReadBack got = read_all(*source, 4);
  EXPECT_TRUE(same_bits(got.images, values));
  EXPECT_EQ(got.labels, labels);
}

TEST_F(Hdf5Test, Float32NhwcIsTransposed) {
  const int64_t n = 3, h = 6, w = 5, c = 3;
  const std::vector<float> nhwc = pattern_floats(n * h * w * c);
  {
    H5::H5File file(path("nhwc.h5"), H5F_ACC_TRUNC);
    write_dataset(file, "images", {n, h, w, c}, nhwc, H5::PredType::NATIVE_FLOAT, H5::PredType::IEEE_F32BE);
  }
  const ReadBack got = read_file(path("nhwc.h5"), {}, 2);
  ASSERT_EQ(got.sample_dims, (Dims{c, h, w}));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t p = 0; p < h * w; ++p)
        ASSERT_EQ(got.images[static_cast<size_t>((i * c + ch) * h * w + p)],
                  nhwc[static_cast<size_t>((i * h * w + p) * c + ch)]);
}

TEST_F(Hdf5Test, LayoutAttributeOverridesTheShapeRule) {
  // (N, 3, 4, 3): dim 1 is a channel count, so the rule says NCHW; the attribute says NHWC.
  const int64_t n = 2, h = 3, w = 4, c = 3;
  const std::vector<float> nhwc = pattern_floats(n * h * w * c);
  {
    H5::H5File file(path("layout.h5"), H5F_ACC_TRUNC);
    const H5::DataSet with =
        write_dataset(file, "with", {n, h, w, c}, nhwc, H5::PredType::NATIVE_FLOAT, H5::PredType::IEEE_F32LE);
    set_fixed_string_attribute(with, "layout", "NHWC");
    write_dataset(file, "without", {n, h, w, c}, nhwc, H5::PredType::NATIVE_FLOAT, H5::PredType::IEEE_F32LE);
  }
  SourceOptions options;
  options.hdf5_images = "without";
  const ReadBack rule = read_file(path("layout.h5"), options);
  EXPECT_EQ(rule.sample_dims, (Dims{h, w, c}));
  EXPECT_TRUE(same_bits(rule.images, nhwc));
  options.hdf5_images = "with";
  const ReadBack attributed = read_file(path("layout.h5"), options);
  EXPECT_EQ(attributed.sample_dims, (Dims{c, h, w}));
  EXPECT_EQ(attributed.images[1], nhwc[static_cast<size_t>(c)]);  // channel 0, pixel 1
}

TEST_F(Hdf5Test, Float64IsConvertedToFloat32) {
  const std::vector<double> values{0.1, -2.5, 1e-3, 7.0, 3.25, -0.75};
  {
    H5::H5File file(path("f64.h5"), H5F_ACC_TRUNC);
    write_dataset(file, "images", {3, 1, 1, 2}, values, H5::PredType::NATIVE_DOUBLE, H5::PredType::IEEE_F64LE);
  }
  const ReadBack got = read_file(path("f64.h5"));
  ASSERT_EQ(got.images.size(), values.size());
  for (size_t i = 0; i < values.size(); ++i) EXPECT_EQ(got.images[i], static_cast<float>(values[i]));
}

TEST_F(Hdf5Test, FloatSampleSizeMustMatchThePreprocessing) {
  {
    H5::H5File file(path("small.h5"), H5F_ACC_TRUNC);
    write_dataset(file, "images", {2, 1, 8, 8}, pattern_floats(128), H5::PredType::NATIVE_FLOAT,
                  H5::PredType::IEEE_F32LE);
  }
  SourceOptions options;
  options.preprocessing.height = 28;
  options.preprocessing.width = 28;
  const std::string message = error_of([&] { open_hdf5_source(path("small.h5"), options); });
  EXPECT_NE(message.find("small.h5"), std::string::npos) << message;
  EXPECT_NE(message.find("28x28"), std::string::npos) << message;
}

// ---- labels --------------------------------------------------------------------------------------

template <typename T>
class Hdf5LabelTypes : public Hdf5Test {};
using LabelTypes = ::testing::Types<uint8_t, int8_t, uint16_t, int16_t, uint32_t, int32_t, uint64_t, int64_t>;
TYPED_TEST_SUITE(Hdf5LabelTypes, LabelTypes);

template <typename T>
const H5::PredType& native_type_of();
template <>
const H5::PredType& native_type_of<uint8_t>() {
  return H5::PredType::NATIVE_UINT8;
}
template <>
const H5::PredType& native_type_of<int8_t>() {
  return H5::PredType::NATIVE_INT8;
}
template <>
const H5::PredType& native_type_of<uint16_t>() {
  return H5::PredType::NATIVE_UINT16;
}
template <>
const H5::PredType& native_type_of<int16_t>() {
  return H5::PredType::NATIVE_INT16;
}
template <>
const H5::PredType& native_type_of<uint32_t>() {
  return H5::PredType::NATIVE_UINT32;
}
template <>
const H5::PredType& native_type_of<int32_t>() {
  return H5::PredType::NATIVE_INT32;
}
template <>
const H5::PredType& native_type_of<uint64_t>() {
  return H5::PredType::NATIVE_UINT64;
}
template <>
const H5::PredType& native_type_of<int64_t>() {
  return H5::PredType::NATIVE_INT64;
}

TYPED_TEST(Hdf5LabelTypes, AreReadAsInt64) {
  const int64_t n = 9;
  std::vector<TypeParam> labels(n);
  for (int64_t i = 0; i < n; ++i) labels[static_cast<size_t>(i)] = static_cast<TypeParam>((i * 5) % 10 + 100);
  {
    H5::H5File file(this->path("labels.h5"), H5F_ACC_TRUNC);
    write_dataset(file, "images", {n, 1, 2, 2}, pattern_bytes(n * 4, 5), H5::PredType::NATIVE_UINT8,
                  H5::PredType::STD_U8LE);
    write_dataset(file, "classes", {n}, labels, native_type_of<TypeParam>(), native_type_of<TypeParam>());
  }
  SourceOptions options;
  options.hdf5_labels = "classes";
  const ReadBack got = read_file(this->path("labels.h5"), options, 4);
  ASSERT_EQ(got.labels.size(), static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) EXPECT_EQ(got.labels[static_cast<size_t>(i)], (i * 5) % 10 + 100);
}

TEST_F(Hdf5Test, AbsentLabelsMeanUnlabelled) {
  {
    H5::H5File file(path("nolabels.h5"), H5F_ACC_TRUNC);
    write_dataset(file, "images", {3, 1, 2, 2}, pattern_bytes(12, 6), H5::PredType::NATIVE_UINT8,
                  H5::PredType::STD_U8LE);
    write_dataset(file, "labels", {3}, std::vector<int32_t>{1, 2, 3}, H5::PredType::NATIVE_INT32,
                  H5::PredType::STD_I32LE);
  }
  SourceOptions options;
  options.hdf5_labels = "targets";  // not in the file
  EXPECT_EQ(read_file(path("nolabels.h5"), options).labels, std::vector<int64_t>(3, -1));
  options.hdf5_labels = "";
  EXPECT_EQ(read_file(path("nolabels.h5"), options).labels, std::vector<int64_t>(3, -1));
  auto source = open_hdf5_source(path("nolabels.h5"), options);
  EXPECT_NE(source->describe().find("no labels"), std::string::npos) << source->describe();
}

TEST_F(Hdf5Test, LabelsOfAnotherLengthNameFileAndBothDatasets) {
  {
    H5::H5File file(path("short.h5"), H5F_ACC_TRUNC);
    write_dataset(file, "pixels", {4, 1, 2, 2}, pattern_bytes(16, 7), H5::PredType::NATIVE_UINT8,
                  H5::PredType::STD_U8LE);
    write_dataset(file, "targets", {3}, std::vector<int32_t>{1, 2, 3}, H5::PredType::NATIVE_INT32,
                  H5::PredType::STD_I32LE);
    write_dataset(file, "scores", {4}, std::vector<float>{1, 2, 3, 4}, H5::PredType::NATIVE_FLOAT,
                  H5::PredType::IEEE_F32LE);
  }
  SourceOptions options;
  options.hdf5_images = "pixels";
  options.hdf5_labels = "targets";
  std::string message = error_of([&] { open_hdf5_source(path("short.h5"), options); });
  EXPECT_NE(message.find("short.h5"), std::string::npos) << message;
  EXPECT_NE(message.find("'targets'"), std::string::npos) << message;
  EXPECT_NE(message.find("'pixels'"), std::string::npos) << message;
  EXPECT_NE(message.find("[3]"), std::string::npos) << message;
  options.hdf5_labels = "scores";
  message = error_of([&] { open_hdf5_source(path("short.h5"), options); });
  EXPECT_NE(message.find("'scores'"), std::string::npos) << message;
  EXPECT_NE(message.find("float32"), std::string::npos) << message;
}

// ---- bad input -----------------------------------------------------------------------------------

TEST_F(Hdf5Test, MissingImagesDatasetNamesFileAndDatasetAndListsTheFile) {
  {
    H5::H5File file(path("other.h5"), H5F_ACC_TRUNC);
    write_dataset(file, "x_train", {2, 1, 2, 2}, pattern_bytes(8, 8), H5::PredType::NATIVE_UINT8,
                  H5::PredType::STD_U8LE);
    file.createGroup("meta");
    write_dataset(file, "meta/y_train", {2}, std::vector<int64_t>{0, 1}, H5::PredType::NATIVE_INT64,
                  H5::PredType::STD_I64LE);
  }
  for (const std::string name : {"images", "nested/images", "meta"}) {
    SourceOptions options;
    options.hdf5_images = name;
    const std::string message = error_of([&] { open_hdf5_source(path("other.h5"), options); });
    EXPECT_NE(message.find(path("other.h5")), std::string::npos) << message;
    EXPECT_NE(message.find("no dataset '" + name + "'"), std::string::npos) << message;
    EXPECT_NE(message.find("/x_train [2, 1, 2, 2] uint8"), std::string::npos) << message;
    EXPECT_NE(message.find("/meta/y_train [2] int64"), std::string::npos) << message;
  }
}

TEST_F(Hdf5Test, NotAnHdf5FileNamesTheFile) {
  std::ofstream(path("fake.h5")) << "this is text, not HDF5\n";
  std::string message = error_of([&] { open_hdf5_source(path("fake.h5"), {}); });
  EXPECT_NE(message.find(path("fake.h5")), std::string::npos) << message;
  EXPECT_NE(message.find("not an HDF5 file"), std::string::npos) << message;

  message = error_of([&] { open_hdf5_source(path("absent.h5"), {}); });
  EXPECT_NE(message.find(path("absent.h5")), std::string::npos) << message;
  EXPECT_NE(message.find("does not exist"), std::string::npos) << message;

  // A real HDF5 file cut short: the signature is there, the rest is not.
  {
    H5::H5File file(path("whole.h5"), H5F_ACC_TRUNC);
    write_dataset(file, "images", {64, 1, 16, 16}, pattern_floats(64 * 256), H5::PredType::NATIVE_FLOAT,
                  H5::PredType::IEEE_F32LE);
  }
  const std::string bytes = [&] {
    std::ifstream in(path("whole.h5"), std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }();
  std::ofstream(path("cut.h5"), std::ios::binary) << bytes.substr(0, 1500);
  message = error_of([&] { read_file(path("cut.h5")); });
  EXPECT_NE(message.find(path("cut.h5")), std::string::npos) << message;
}

TEST_F(Hdf5Test, WrongRankOrElementTypeIsRefused) {
  {
    H5::H5File file(path("bad.h5"), H5F_ACC_TRUNC);
    write_dataset(file, "flat", {4, 10}, pattern_floats(40), H5::PredType::NATIVE_FLOAT, H5::PredType::IEEE_F32LE);
    write_dataset(file, "int16", {2, 1, 2, 2}, std::vector<int16_t>(8, 1), H5::PredType::NATIVE_INT16,
                  H5::PredType::STD_I16LE);
    const H5::DataSet odd = write_dataset(file, "odd_layout", {2, 1, 2, 2}, pattern_floats(8),
                                          H5::PredType::NATIVE_FLOAT, H5::PredType::IEEE_F32LE);
    set_fixed_string_attribute(odd, "layout", "CHWN");
    write_dataset(file, "two_channels", {2, 2, 5, 5}, pattern_bytes(100, 9), H5::PredType::NATIVE_UINT8,
                  H5::PredType::STD_U8LE);
  }
  const std::vector<std::pair<std::string, std::string>> cases{
      {"flat", "rank"}, {"int16", "int16"}, {"odd_layout", "CHWN"}, {"two_channels", "2 channels"}};
  for (const auto& [name, expected] : cases) {
    SourceOptions options;
    options.hdf5_images = name;
    const std::string message = error_of([&] { open_hdf5_source(path("bad.h5"), options); });
    EXPECT_NE(message.find("bad.h5"), std::string::npos) << message;
    EXPECT_NE(message.find("'" + name + "'"), std::string::npos) << message;
    EXPECT_NE(message.find(expected), std::string::npos) << message;
  }
}

// ---- streaming -----------------------------------------------------------------------------------

TEST_F(Hdf5Test, BatchByBatchEqualsOneBatch) {
  // 1000 samples in chunks of 64 that batches of 7 cut anywhere; a reset starts over.
  const int64_t n = 1000, c = 2, h = 3, w = 5;
  const std::vector<float> values = pattern_floats(n * c * h * w);
  std::vector<int16_t> labels(n);
  for (int64_t i = 0; i < n; ++i) labels[static_cast<size_t>(i)] = static_cast<int16_t>(i % 13);
  {
    H5::H5File file(path("many.h5"), H5F_ACC_TRUNC);
    write_dataset(file, "images", {n, c, h, w}, values, H5::PredType::NATIVE_FLOAT, H5::PredType::IEEE_F32LE,
                  Dims{64, c, h, w});
    write_dataset(file, "labels", {n}, labels, H5::PredType::NATIVE_INT16, H5::PredType::STD_I16LE, Dims{100});
  }
  auto source = open_hdf5_source(path("many.h5"), {});
  const ReadBack whole = read_all(*source, 1000);
  source->reset();
  const ReadBack sevens = read_all(*source, 7);
  EXPECT_EQ(whole.batches, 1);
  EXPECT_EQ(sevens.batches, (n + 6) / 7);
  EXPECT_TRUE(same_bits(whole.images, values));
  EXPECT_TRUE(same_bits(sevens.images, values));
  EXPECT_EQ(sevens.labels, whole.labels);
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(whole.labels[static_cast<size_t>(i)], i % 13);
}

// ---- pack ----------------------------------------------------------------------------------------

// In-memory samples as a BatchSource; can pretend to have skipped samples and can fail midway.
class VectorSource : public BatchSource {
 public:
  VectorSource(Dims sample, std::vector<float> values, std::vector<int64_t> labels)
      : sample_(std::move(sample)), values_(std::move(values)), labels_(std::move(labels)) {}

  int64_t delivered() const { return static_cast<int64_t>(labels_.size()); }
  int64_t size() const override { return delivered() + skipped_; }
  Dims sample_dims() const override { return sample_; }
  void reset() override {
    position_ = 0;
    batches_ = 0;
  }
  std::string describe() const override { return "test vectors (" + std::to_string(delivered()) + " samples)"; }
  int64_t skipped() const override { return position_ == delivered() ? skipped_ : 0; }

  bool next(int64_t max_batch, Batch& batch) override {
    if (fail_after_batches_ >= 0 && batches_ == fail_after_batches_) throw Error("test source: simulated failure");
    const int64_t n = std::min(max_batch, delivered() - position_);
    if (n <= 0) return false;
    Dims dims{n};
    dims.insert(dims.end(), sample_.begin(), sample_.end());
    batch.images = Tensor(DataType::kFloat32, dims);
    const int64_t elems = numel(sample_);
    std::memcpy(batch.images.data<float>(), values_.data() + position_ * elems, sizeof(float) * n * elems);
    batch.labels.assign(labels_.begin() + position_, labels_.begin() + position_ + n);
    position_ += n;
    ++batches_;
    return true;
  }

  int64_t skipped_ = 0;
  int64_t fail_after_batches_ = -1;

 private:
  Dims sample_;
  std::vector<float> values_;
  std::vector<int64_t> labels_;
  int64_t position_ = 0, batches_ = 0;
};

VectorSource make_source(int64_t n, const Dims& sample, bool labelled) {
  std::vector<float> values = pattern_floats(n * numel(sample));
  values[0] = -0.0f;
  values[1] = std::numeric_limits<float>::denorm_min();
  values[2] = std::numeric_limits<float>::quiet_NaN();
  values[3] = -std::numeric_limits<float>::infinity();
  std::vector<int64_t> labels(static_cast<size_t>(n), -1);
  if (labelled)
    for (int64_t i = 0; i < n; ++i) labels[static_cast<size_t>(i)] = (i * 7) % 10;
  return VectorSource(sample, std::move(values), std::move(labels));
}

std::vector<float> values_of(VectorSource& source) { return read_all(source, 1 << 20).images; }

TEST_F(Hdf5Test, PackReadsBackBitForBitWithAttributes) {
  const Dims sample{3, 8, 8};
  VectorSource source = make_source(600, sample, true);  // three write batches of at most 256
  const ReadBack expected = read_all(source, 1 << 20);
  Preprocessing p = rgb_preprocessing();
  p.height = 8;
  p.width = 8;
  std::vector<std::pair<int64_t, int64_t>> progress;
  pack_to_hdf5(source, path("pack.h5"), p, "images", "labels",
               [&](int64_t done, int64_t total) { progress.emplace_back(done, total); });

  SourceOptions options;
  options.preprocessing = p;
  const ReadBack got = read_file(path("pack.h5"), options, 100);
  EXPECT_EQ(got.sample_dims, sample);
  EXPECT_TRUE(same_bits(got.images, expected.images));
  EXPECT_EQ(got.labels, expected.labels);
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.back(), std::make_pair(int64_t(600), int64_t(600)));
  EXPECT_GT(progress.size(), 1u);

  const H5::H5File file(path("pack.h5"), H5F_ACC_RDONLY);
  const H5::DataSet images = file.openDataSet("images");
  EXPECT_EQ(string_attribute(images, "layout"), "NCHW");
  EXPECT_EQ(string_attribute(images, "preprocessing"), preprocessing_to_json(p));
  EXPECT_EQ(string_attribute(images, "source"), source.describe());
  EXPECT_EQ(string_attribute(images, "octet_version"), OCTET_VERSION_STRING);
  EXPECT_EQ(hdf5_packed_preprocessing(path("pack.h5"), "images"), preprocessing_to_json(p));
  EXPECT_EQ(images.getDataType(), H5::PredType::IEEE_F32LE);
  EXPECT_EQ(file.openDataSet("labels").getDataType(), H5::PredType::STD_I64LE);

  // Chunked, shuffled and deflated, and extendible along N.
  const H5::DSetCreatPropList creation = images.getCreatePlist();
  ASSERT_EQ(creation.getLayout(), H5D_CHUNKED);
  EXPECT_TRUE(creation.allFiltersAvail());
  std::vector<H5Z_filter_t> filters;
  for (int i = 0; i < creation.getNfilters(); ++i) {
    unsigned flags = 0, filter_config = 0;
    size_t values = 0;
    filters.push_back(creation.getFilter(i, flags, values, nullptr, 0, nullptr, filter_config));
  }
  EXPECT_EQ(filters, (std::vector<H5Z_filter_t>{H5Z_FILTER_SHUFFLE, H5Z_FILTER_DEFLATE}));
  hsize_t extent[4], max_extent[4];
  images.getSpace().getSimpleExtentDims(extent, max_extent);
  EXPECT_EQ(extent[0], 600u);
  EXPECT_EQ(max_extent[0], H5S_UNLIMITED);
}

TEST_F(Hdf5Test, PackOfUint8PixelsReadsLikeThePixels) {
  // What `octet dataset pack` does to a uint8 HDF5 set: the pack's floats are what the uint8
  // reader produced, so calibration on either gives the same tensors.
  const int64_t n = 300, h = 10, w = 9, c = 3;
  std::vector<int64_t> labels(n);
  for (int64_t i = 0; i < n; ++i) labels[static_cast<size_t>(i)] = i % 4;
  {
    H5::H5File file(path("pixels.h5"), H5F_ACC_TRUNC);
    write_dataset(file, "images", {n, h, w, c}, pattern_bytes(n * h * w * c, 10), H5::PredType::NATIVE_UINT8,
                  H5::PredType::STD_U8LE, Dims{50, h, w, c});
    write_dataset(file, "labels", {n}, labels, H5::PredType::NATIVE_INT64, H5::PredType::STD_I64LE);
  }
  SourceOptions options;
  options.preprocessing = rgb_preprocessing();
  const ReadBack pixels = read_file(path("pixels.h5"), options);
  auto source = open_hdf5_source(path("pixels.h5"), options);
  pack_to_hdf5(*source, path("packed.h5"), options.preprocessing);
  const ReadBack packed = read_file(path("packed.h5"), options, 64);
  EXPECT_EQ(packed.sample_dims, pixels.sample_dims);
  EXPECT_TRUE(same_bits(packed.images, pixels.images));
  EXPECT_EQ(packed.labels, labels);
}

TEST_F(Hdf5Test, PackWithoutLabelsHasNoLabelsDataset) {
  VectorSource source = make_source(10, {1, 4, 4}, false);
  pack_to_hdf5(source, path("unlabelled.h5"), Preprocessing{});
  const H5::H5File file(path("unlabelled.h5"), H5F_ACC_RDONLY);
  EXPECT_FALSE(file.nameExists("labels"));
  EXPECT_EQ(read_file(path("unlabelled.h5")).labels, std::vector<int64_t>(10, -1));
}

TEST_F(Hdf5Test, PackWithLabelsKnownOnlyLaterFillsUnknownWithMinusOne) {
  // The first write batch (256 samples) has no known label; the labels dataset starts later and the
  // earlier samples read back as -1.
  VectorSource source = make_source(600, {1, 2, 2}, true);
  const ReadBack original = read_all(source, 1 << 20);
  std::vector<int64_t> labels = original.labels;
  for (size_t i = 0; i < 300; ++i) labels[i] = -1;
  VectorSource late({1, 2, 2}, original.images, labels);
  pack_to_hdf5(late, path("late.h5"), Preprocessing{});
  EXPECT_EQ(read_file(path("late.h5")).labels, labels);
}

TEST_F(Hdf5Test, PackCountsOnlyDeliveredSamplesAndNestedNames) {
  VectorSource source = make_source(20, {2, 3, 3}, true);
  source.skipped_ = 5;  // size() says 25, as a source that left 5 unreadable files out
  std::pair<int64_t, int64_t> last;
  pack_to_hdf5(source, path("skipped.h5"), Preprocessing{}, "val/images", "val/labels",
               [&](int64_t done, int64_t total) {
                 last = {done, total};
               });
  EXPECT_EQ(last, std::make_pair(int64_t(25), int64_t(25)));
  SourceOptions options;
  options.hdf5_images = "val/images";
  options.hdf5_labels = "val/labels";
  auto packed = open_hdf5_source(path("skipped.h5"), options);
  EXPECT_EQ(packed->size(), 20);
  source.reset();
  const ReadBack expected = read_all(source, 1 << 20);
  const ReadBack got = read_all(*packed, 6);
  EXPECT_TRUE(same_bits(got.images, expected.images));
  EXPECT_EQ(got.labels, expected.labels);
}

TEST_F(Hdf5Test, PackOfAnEmptySourceIsAnEmptyDataset) {
  VectorSource source({1, 5, 5}, {}, {});
  pack_to_hdf5(source, path("empty.h5"), Preprocessing{});
  auto packed = open_hdf5_source(path("empty.h5"), {});
  EXPECT_EQ(packed->size(), 0);
  EXPECT_EQ(packed->sample_dims(), (Dims{1, 5, 5}));
  Batch batch;
  EXPECT_FALSE(packed->next(8, batch));
}

std::vector<std::string> files_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

TEST_F(Hdf5Test, FailedPackLeavesTheEarlierFileAndNoTemporary) {
  std::ofstream(path("out.h5")) << "the earlier file";
  VectorSource source = make_source(1000, {1, 8, 8}, true);
  source.fail_after_batches_ = 2;
  const std::string message = error_of([&] { pack_to_hdf5(source, path("out.h5"), Preprocessing{}); });
  EXPECT_NE(message.find("simulated failure"), std::string::npos) << message;
  std::ifstream in(path("out.h5"));
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "the earlier file");
  EXPECT_EQ(files_in(dir_), std::vector<std::string>{"out.h5"});

  // The same pack without the failure replaces the file.
  source.fail_after_batches_ = -1;
  pack_to_hdf5(source, path("out.h5"), Preprocessing{});
  EXPECT_EQ(files_in(dir_), std::vector<std::string>{"out.h5"});
  source.reset();
  EXPECT_TRUE(same_bits(read_file(path("out.h5")).images, values_of(source)));
}

TEST_F(Hdf5Test, PackRefusesSamplesOfDifferentSizes) {
  class Ragged : public VectorSource {
   public:
    Ragged() : VectorSource({1, 2, 2}, std::vector<float>(12, 1.0f), std::vector<int64_t>(3, 0)) {}
    bool next(int64_t, Batch& batch) override {
      if (calls_ == 2) return false;
      batch.images = Tensor(DataType::kFloat32, {1, 1, 2, calls_ == 0 ? 2 : 3});
      batch.labels = {0};
      ++calls_;
      return true;
    }
    int calls_ = 0;
  } source;
  const std::string message = error_of([&] { pack_to_hdf5(source, path("ragged.h5"), Preprocessing{}); });
  EXPECT_NE(message.find("test vectors"), std::string::npos) << message;
  EXPECT_NE(message.find("[1, 2, 3]"), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(path("ragged.h5")));
  EXPECT_TRUE(files_in(dir_).empty());
}

TEST_F(Hdf5Test, PackIntoAMissingFolderOrOntoAFolderNamesTheOutput) {
  VectorSource source = make_source(4, {1, 2, 2}, true);
  const std::string out = path("no/such/folder/out.h5");
  std::string message = error_of([&] { pack_to_hdf5(source, out, Preprocessing{}); });
  EXPECT_NE(message.find(out), std::string::npos) << message;
  fs::create_directories(path("folder"));
  message = error_of([&] { pack_to_hdf5(source, path("folder"), Preprocessing{}); });
  EXPECT_NE(message.find(path("folder") + "' is a folder"), std::string::npos) << message;
}

}  // namespace
}  // namespace octet
