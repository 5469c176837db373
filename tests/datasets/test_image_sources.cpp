// Image folder and image list sources, the shared image transform and the prefetcher.
//
// Every image is written by the test (cv::imwrite / cv::imencode) into a fresh temporary folder.
// Pixel values are chosen so that expected tensors are computed by hand (comments show the
// arithmetic) or encode the image's identity (a gray image filled with its number), which makes the
// order and the labels checkable sample by sample.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <regex>
#include <thread>

#include "datasets/image_source.h"
#include "datasets/image_transform.h"
#include "datasets/prefetch.h"
#include "tests/support/error_text.h"

namespace fs = std::filesystem;

namespace octet {
namespace {

// A fresh folder per test, removed afterwards.
class TempFolder {
 public:
  TempFolder() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::temp_directory_path() /
            ("octet-image-sources-" + std::to_string(::getpid()) + "-" + info->test_suite_name() + "-" + info->name());
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempFolder() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

 private:
  fs::path path_;
};

void write_image(const fs::path& path, const cv::Mat& image) {
  fs::create_directories(path.parent_path());
  ASSERT_TRUE(cv::imwrite(path.string(), image)) << path;
}

// A gray image whose every pixel is `id`: the sample it gives (identity preprocessing) says which
// file it came from.
void write_id_png(const fs::path& path, int id, int height = 4, int width = 4) {
  write_image(path, cv::Mat(height, width, CV_8UC1, cv::Scalar(id)));
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

// The first half of a valid PNG: libpng fails on the missing image data.
void write_truncated_png(const fs::path& path) {
  std::vector<uchar> png;
  ASSERT_TRUE(cv::imencode(".png", cv::Mat(16, 16, CV_8UC1, cv::Scalar(7)), png));
  write_bytes(path, std::string(png.begin(), png.begin() + static_cast<long>(png.size() / 2)));
}

Preprocessing gray_identity() {
  Preprocessing p;
  p.channels = 1;
  p.channel_order = "gray";
  return p;
}

SourceOptions options_with(const Preprocessing& p, int threads = 2, int prefetch = 2, bool skip_bad = false) {
  SourceOptions o;
  o.preprocessing = p;
  o.threads = threads;
  o.prefetch_batches = prefetch;
  o.skip_bad = skip_bad;
  return o;
}

struct Pass {
  std::vector<float> values;  // every sample's floats, concatenated
  std::vector<int64_t> labels;
  std::vector<int64_t> batch_sizes;
};

Pass read_all(BatchSource& source, int64_t batch_size) {
  Pass pass;
  Batch batch;
  while (source.next(batch_size, batch)) {
    const float* data = batch.images.data<float>();
    pass.values.insert(pass.values.end(), data, data + batch.images.numel());
    pass.labels.insert(pass.labels.end(), batch.labels.begin(), batch.labels.end());
    pass.batch_sizes.push_back(batch.images.dims()[0]);
  }
  return pass;
}

// The first pixel of every sample: the image's id for write_id_png images.
std::vector<int> ids_of(const Pass& pass, int64_t sample_numel) {
  std::vector<int> ids;
  for (size_t i = 0; i < pass.values.size(); i += static_cast<size_t>(sample_numel))
    ids.push_back(static_cast<int>(pass.values[i]));
  return ids;
}

using test::error_of;

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// ---- the transform ------------------------------------------------------------------------------

// A 4x10 BGR image, resize shorter side 2, center crop 2x2, rgb, scale 0.5, mean (10, 20, 30),
// std (2, 4, 8), computed by hand.
TEST(ImageTransform, StepsInTheDocumentedOrder_Bgr4x10_Resize2_Crop2_Rgb_HandComputed) {
  // Each 2x2 block (by, bx) holds base + {0, 2, 4, 6} with base_B = 10*bx + 40*by, G = B + 100,
  // R = B + 150, so the block's mean is base + 3.
  cv::Mat bgr(4, 10, CV_8UC3);
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 10; ++x) {
      const int b = 10 * (x / 2) + 40 * (y / 2) + 2 * (2 * (y % 2) + x % 2);
      bgr.at<cv::Vec3b>(y, x) =
          cv::Vec3b(static_cast<uchar>(b), static_cast<uchar>(b + 100), static_cast<uchar>(b + 150));
    }
  Preprocessing p;
  p.channels = 3;
  p.channel_order = "rgb";
  p.resize_shorter = 2;              // 4x10 -> 2 x int(2 * 10 / 4) = 2x5: an exact 2x downscale, the block means
  p.crop_width = p.crop_height = 2;  // left = (5 - 2) / 2 = 1 (rounded down), top = 0
  p.scale = 0.5f;
  p.mean = {10, 20, 30};
  p.std = {2, 4, 8};
  ASSERT_EQ(preprocessed_dims(p, 4, 10), (Dims{3, 2, 2}));
  // Resized B = [[3, 13, 23, 33, 43], [43, 53, 63, 73, 83]]; crop columns 1..2: [[13, 23], [53, 63]].
  // R = B + 150: 163 173 203 213 -> *0.5 = 81.5 86.5 101.5 106.5 -> (x - 10) / 2
  // G = B + 100: 113 123 153 163 -> 56.5 61.5 76.5 81.5 -> (x - 20) / 4
  // B:            13  23  53  63 ->  6.5 11.5 26.5 31.5 -> (x - 30) / 8
  const std::vector<float> expected{35.75f,  38.25f,  45.75f,   48.25f,   9.125f,   10.375f,
                                    14.125f, 15.375f, -2.9375f, -2.3125f, -0.4375f, 0.1875f};
  std::vector<float> out(12);
  ImageU8 image{4, 10, 3, "bgr", bgr.data};
  preprocess_image(image, p, out.data(), "tiny.png");
  EXPECT_EQ(out, expected);
}

TEST(ImageTransform, ResizeShorterSideTruncatesTheLongerSideAsTorchvision) {
  Preprocessing p;
  p.channels = 3;
  p.channel_order = "rgb";
  p.resize_shorter = 256;
  EXPECT_EQ(preprocessed_dims(p, 375, 500), (Dims{3, 256, 341}));  // 256 * 500 / 375 = 341.33
  EXPECT_EQ(preprocessed_dims(p, 500, 375), (Dims{3, 341, 256}));
  EXPECT_EQ(preprocessed_dims(p, 300, 300), (Dims{3, 256, 256}));
  p.resize_shorter = 224;
  EXPECT_EQ(preprocessed_dims(p, 300, 400), (Dims{3, 224, 298}));  // 298.67 truncates to 298
  p.crop_width = 200;
  p.crop_height = 100;
  EXPECT_EQ(preprocessed_dims(p, 300, 400), (Dims{3, 100, 200}));
  p.resize_shorter = 0;
  p.resize_width = 30;
  p.resize_height = 20;
  p.crop_width = p.crop_height = 0;
  EXPECT_EQ(preprocessed_dims(p, 300, 400), (Dims{3, 20, 30}));
}

// Folding the colour conversion into the final loop must equal converting first (the documented
// order), bit for bit: cvtColor, resize, crop, float, written out plainly here.
TEST(ImageTransform, ChannelMappingAfterResizeEqualsConvertingFirst) {
  std::mt19937 rng(7);
  cv::Mat bgr(37, 53, CV_8UC3), gray(37, 53, CV_8UC1);
  for (int i = 0; i < 37 * 53 * 3; ++i) bgr.data[i] = static_cast<uchar>(rng() & 255);
  for (int i = 0; i < 37 * 53; ++i) gray.data[i] = static_cast<uchar>(rng() & 255);
  Preprocessing p;
  p.channels = 3;
  p.channel_order = "rgb";
  p.resize_shorter = 24;  // 37x53 -> 24 x int(24 * 53 / 37) = 24x34
  p.crop_width = 20;
  p.crop_height = 16;
  p.scale = 1.0f / 255.0f;
  p.mean = {0.485f, 0.456f, 0.406f};
  p.std = {0.229f, 0.224f, 0.225f};

  const auto documented_order = [&](const cv::Mat& decoded, int code) {
    cv::Mat converted, resized;
    cv::cvtColor(decoded, converted, code);
    cv::resize(converted, resized, cv::Size(34, 24), 0, 0, cv::INTER_LINEAR);
    const cv::Mat crop = resized(cv::Rect((34 - 20) / 2, (24 - 16) / 2, 20, 16));
    std::vector<float> out;
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < 16; ++y)
        for (int x = 0; x < 20; ++x)
          out.push_back((static_cast<float>(crop.at<cv::Vec3b>(y, x)[c]) * p.scale - p.mean[c]) / p.std[c]);
    return out;
  };
  std::vector<float> out(3 * 16 * 20);
  preprocess_image(ImageU8{37, 53, 3, "bgr", bgr.data}, p, out.data(), "bgr");
  EXPECT_TRUE(same_bits(out, documented_order(bgr, cv::COLOR_BGR2RGB)));
  preprocess_image(ImageU8{37, 53, 1, "gray", gray.data}, p, out.data(), "gray");
  EXPECT_TRUE(same_bits(out, documented_order(gray, cv::COLOR_GRAY2RGB)));
}

TEST(ImageTransform, ChannelRules_GrayReplicates_AlphaDropped_RgbSwapped_ColourToGrayRefused) {
  Preprocessing rgb;
  rgb.channels = 3;
  rgb.channel_order = "rgb";
  const uint8_t gray_pixel[] = {9};
  std::vector<float> out(3);
  preprocess_image(ImageU8{1, 1, 1, "gray", gray_pixel}, rgb, out.data(), "g");
  EXPECT_EQ(out, (std::vector<float>{9, 9, 9}));
  const uint8_t bgra_pixel[] = {1, 2, 3, 4};
  preprocess_image(ImageU8{1, 1, 4, "bgra", bgra_pixel}, rgb, out.data(), "a");
  EXPECT_EQ(out, (std::vector<float>{3, 2, 1}));
  Preprocessing bgr = rgb;
  bgr.channel_order = "bgr";
  const uint8_t rgb_pixel[] = {1, 2, 3};
  preprocess_image(ImageU8{1, 1, 3, "rgb", rgb_pixel}, bgr, out.data(), "r");
  EXPECT_EQ(out, (std::vector<float>{3, 2, 1}));
  preprocess_image(ImageU8{1, 1, 3, "bgr", rgb_pixel}, bgr, out.data(), "b");
  EXPECT_EQ(out, (std::vector<float>{1, 2, 3}));

  const std::string message = error_of([&] {
    preprocess_image(ImageU8{1, 1, 3, "bgr", rgb_pixel}, gray_identity(), out.data(), "photo.jpg");
  });
  EXPECT_NE(message.find("photo.jpg"), std::string::npos) << message;
  EXPECT_NE(message.find("colour image"), std::string::npos) << message;
  const uint8_t two[] = {1, 2};
  EXPECT_NE(error_of([&] {
              preprocess_image(ImageU8{1, 1, 2, "gray", two}, rgb, out.data(), "two.png");
            }).find("two.png"),
            std::string::npos);
}

TEST(ImageTransform, CropLargerThanTheImageAndWrongModelSizeAreRefused) {
  const uint8_t pixels[16] = {};
  std::vector<float> out(64);
  Preprocessing p = gray_identity();
  p.crop_width = p.crop_height = 5;
  std::string message = error_of([&] {
    preprocess_image(ImageU8{4, 4, 1, "gray", pixels}, p, out.data(), "small.png");
  });
  EXPECT_NE(message.find("small.png"), std::string::npos) << message;
  EXPECT_NE(message.find("5x5 center crop does not fit the 4x4 image"), std::string::npos) << message;
  p = gray_identity();
  p.height = p.width = 28;
  message = error_of([&] { preprocess_image(ImageU8{4, 4, 1, "gray", pixels}, p, out.data(), "small.png"); });
  EXPECT_NE(message.find("small.png: preprocessing turns this 4x4 image into 4x4, the model expects 28x28"),
            std::string::npos)
      << message;
}

// ---- image folders ------------------------------------------------------------------------------

TEST(ImageFolderSource, LabelsFromSortedSubfolders_InTorchvisionOrder_HiddenNamesIgnored) {
  TempFolder dir;
  const fs::path root = dir.path();
  write_id_png(root / "b_dog" / "2.png", 21);
  write_id_png(root / "b_dog" / "10.png", 20);  // "10.png" < "2.png": byte order, not numeric
  write_id_png(root / "a_cat" / "x.png", 10);
  write_id_png(root / "a_cat" / "X.PNG", 11);  // upper-case extension is an image too; 'X' < 'x'
  write_id_png(root / "c_bird" / "z0.png", 30);
  write_id_png(root / "c_bird" / "a" / "y.png", 31);  // deeper folder after the files of c_bird itself
  write_id_png(root / ".hidden_folder" / "q.png", 99);
  write_bytes(root / "a_cat" / ".DS_Store", "not an image, but hidden");
  auto source = open_image_folder_source(dir.str(), options_with(gray_identity()));
  EXPECT_EQ(source->size(), 6);
  EXPECT_EQ(source->sample_dims(), (Dims{1, 4, 4}));
  EXPECT_NE(source->describe().find("3 classes"), std::string::npos) << source->describe();
  const Pass pass = read_all(*source, 4);
  EXPECT_EQ(ids_of(pass, 16), (std::vector<int>{11, 10, 20, 21, 30, 31}));
  EXPECT_EQ(pass.labels, (std::vector<int64_t>{0, 0, 1, 1, 2, 2}));
  EXPECT_EQ(pass.batch_sizes, (std::vector<int64_t>{4, 2}));
  EXPECT_EQ(source->skipped(), 0);
}

TEST(ImageFolderSource, ImagesDirectlyInTheFolderHaveNoLabels) {
  TempFolder dir;
  write_id_png(dir.path() / "b.png", 2);
  write_id_png(dir.path() / "a.jpg", 1);  // JPEG of a constant gray image decodes exactly
  auto source = open_image_folder_source(dir.str(), options_with(gray_identity()));
  const Pass pass = read_all(*source, 8);
  EXPECT_EQ(ids_of(pass, 16), (std::vector<int>{1, 2}));
  EXPECT_EQ(pass.labels, (std::vector<int64_t>{-1, -1}));
  EXPECT_NE(source->describe().find("no labels"), std::string::npos);
}

TEST(ImageFolderSource, ImagesBothInTheRootAndInSubfoldersAreAnError) {
  TempFolder dir;
  write_id_png(dir.path() / "loose.png", 1);
  write_id_png(dir.path() / "cat" / "a.png", 2);
  const std::string message = error_of([&] { open_image_folder_source(dir.str(), options_with(gray_identity())); });
  EXPECT_NE(message.find("loose.png"), std::string::npos) << message;
  EXPECT_NE(message.find("cat/a.png"), std::string::npos) << message;
}

TEST(ImageFolderSource, ThreadsOneAndFourGiveBitIdenticalBatches_Jpeg_Rgb_Resize_Crop_Normalise) {
  TempFolder dir;
  std::mt19937 rng(1);
  for (int i = 0; i < 40; ++i) {
    const int h = 20 + static_cast<int>(rng() % 30), w = 20 + static_cast<int>(rng() % 30);
    cv::Mat image(h, w, CV_8UC3);
    for (int k = 0; k < h * w * 3; ++k) image.data[k] = static_cast<uchar>((k * 7 + i * 13 + (rng() & 31)) & 255);
    write_image(dir.path() / ("class" + std::to_string(i % 3)) / ("img" + std::to_string(i) + ".jpg"), image);
  }
  Preprocessing p;
  p.channels = 3;
  p.channel_order = "rgb";
  p.resize_shorter = 20;
  p.crop_width = p.crop_height = 16;
  p.scale = 1.0f / 255.0f;
  p.mean = {0.485f, 0.456f, 0.406f};
  p.std = {0.229f, 0.224f, 0.225f};
  auto one = open_image_folder_source(dir.str(), options_with(p, 1, 0));
  auto four = open_image_folder_source(dir.str(), options_with(p, 4, 3));
  const Pass a = read_all(*one, 7);
  const Pass b = read_all(*four, 7);
  ASSERT_EQ(a.values.size(), 40u * 3 * 16 * 16);
  EXPECT_TRUE(same_bits(a.values, b.values));
  EXPECT_EQ(a.labels, b.labels);
  // Another batch size gives the same samples.
  four->reset();
  EXPECT_TRUE(same_bits(read_all(*four, 5).values, a.values));
}

TEST(ImageFolderSource, ResetInTheMiddleOfAPassStartsAgainFromTheFirstSample) {
  TempFolder dir;
  for (int i = 0; i < 30; ++i) write_id_png(dir.path() / ("im" + std::to_string(100 + i) + ".png"), i);
  auto source = open_image_folder_source(dir.str(), options_with(gray_identity(), 3, 2));
  Batch batch;
  ASSERT_TRUE(source->next(4, batch));
  ASSERT_TRUE(source->next(4, batch));
  source->reset();
  const Pass pass = read_all(*source, 4);
  std::vector<int> expected(30);
  for (int i = 0; i < 30; ++i) expected[static_cast<size_t>(i)] = i;
  EXPECT_EQ(ids_of(pass, 16), expected);
}

// 200 images, prefetch 2 batches of 4, a slow consumer: the source never holds more than
// prefetch * batch = 8 decoded samples; with the batch handed out that is (prefetch + 1) batches.
TEST(ImageFolderSource, PrefetchIsBoundedWhateverTheDatasetSize) {
  TempFolder dir;
  for (int i = 0; i < 200; ++i) write_id_png(dir.path() / ("im" + std::to_string(1000 + i) + ".png"), i % 250);
  auto source = open_image_folder_source(dir.str(), options_with(gray_identity(), 2, 2));
  Batch batch;
  int64_t samples = 0;
  while (source->next(4, batch)) {
    samples += batch.images.dims()[0];
    std::this_thread::sleep_for(std::chrono::microseconds(300));  // let the workers run ahead as far as they may
  }
  EXPECT_EQ(samples, 200);
  const int64_t peak = image_source_peak_buffered_samples(*source);
  EXPECT_LE(peak, 2 * 4);
  EXPECT_GE(peak, 4);  // it did prefetch
}

// ---- image lists --------------------------------------------------------------------------------

TEST(ImageListSource, SpacesCommentsLabelsAndRelativePaths) {
  TempFolder dir;
  write_id_png(dir.path() / "images" / "my cat 1.png", 1);
  write_id_png(dir.path() / "images" / "dog.png", 2);
  write_id_png(dir.path() / "hash#name.png", 3);
  write_id_png(dir.path() / "elsewhere" / "abs.png", 4);
  const std::string absolute = (dir.path() / "elsewhere" / "abs.png").string();
  write_bytes(dir.path() / "lists" / "calib.txt",
              "# calibration images\n"
              "../images/my cat 1.png 7\n"
              "\n"
              "   ../images/dog.png   # no label, trailing comment\n"
              "../hash#name.png\t2\r\n" +
                  absolute + " 0\n");
  auto source = open_image_list_source((dir.path() / "lists" / "calib.txt").string(), options_with(gray_identity()));
  EXPECT_EQ(source->size(), 4);
  EXPECT_NE(source->describe().find("3 labelled"), std::string::npos) << source->describe();
  const Pass pass = read_all(*source, 3);
  EXPECT_EQ(ids_of(pass, 16), (std::vector<int>{1, 2, 3, 4}));
  EXPECT_EQ(pass.labels, (std::vector<int64_t>{7, -1, 2, 0}));
}

TEST(ImageListSource, MissingFileNamesTheListAndTheLine) {
  TempFolder dir;
  write_id_png(dir.path() / "a.png", 1);
  const std::string list = (dir.path() / "list.txt").string();
  write_bytes(list, "a.png 0\n# comment\nnope.png 1\n");
  const std::string message = error_of([&] { open_image_list_source(list, options_with(gray_identity())); });
  EXPECT_NE(message.find(list + ":3: 'nope.png' does not exist"), std::string::npos) << message;
}

TEST(ImageListSource, EmptyListAndNegativeLabelsAreErrors) {
  TempFolder dir;
  const std::string list = (dir.path() / "list.txt").string();
  write_bytes(list, "# only a comment\n\n");
  EXPECT_NE(error_of([&] { open_image_list_source(list, options_with(gray_identity())); }).find("has no entries"),
            std::string::npos);
  write_id_png(dir.path() / "a.png", 1);
  write_bytes(list, "a.png -3\n");
  EXPECT_NE(error_of([&] { open_image_list_source(list, options_with(gray_identity())); }).find(list + ":1: label -3"),
            std::string::npos);
}

// ---- bad inputs ---------------------------------------------------------------------------------

TEST(BadImageInput, TruncatedPngNamesTheFile_ErrorRepeatsUntilReset) {
  TempFolder dir;
  write_id_png(dir.path() / "a.png", 1);
  write_truncated_png(dir.path() / "b.png");
  write_id_png(dir.path() / "c.png", 3);
  auto source = open_image_folder_source(dir.str(), options_with(gray_identity()));
  Batch batch;
  const std::string expected = "'" + (dir.path() / "b.png").string() + "' is not a readable image";
  std::string message = error_of([&] { source->next(8, batch); });
  EXPECT_NE(message.find(expected), std::string::npos) << message;
  message = error_of([&] { source->next(8, batch); });
  EXPECT_NE(message.find(expected), std::string::npos) << message;
  source->reset();
  ASSERT_TRUE(source->next(1, batch));  // a.png is fine
  EXPECT_EQ(batch.images.data<float>()[0], 1.0f);
  EXPECT_NE(error_of([&] { source->next(1, batch); }).find(expected), std::string::npos);
}

TEST(BadImageInput, TruncatedFirstImageFailsAtOpen) {
  TempFolder dir;
  write_truncated_png(dir.path() / "a.png");
  write_id_png(dir.path() / "b.png", 1);
  const std::string message = error_of([&] { open_image_folder_source(dir.str(), options_with(gray_identity())); });
  EXPECT_NE(message.find("a.png' is not a readable image"), std::string::npos) << message;
}

TEST(BadImageInput, TextFileInTheFolderIsNotAnImage) {
  TempFolder dir;
  write_id_png(dir.path() / "a.png", 1);
  write_bytes(dir.path() / "notes.txt", "hello");
  const std::string message = error_of([&] { open_image_folder_source(dir.str(), options_with(gray_identity())); });
  EXPECT_NE(message.find("notes.txt' is not an image"), std::string::npos) << message;
}

TEST(BadImageInput, EmptyFolderNamesIt) {
  TempFolder dir;
  std::string message = error_of([&] { open_image_folder_source(dir.str(), options_with(gray_identity())); });
  EXPECT_NE(message.find("image folder '" + dir.str() + "' is empty"), std::string::npos) << message;
  write_bytes(dir.path() / ".gitkeep", "");
  fs::create_directories(dir.path() / "empty_class");
  message = error_of([&] { open_image_folder_source(dir.str(), options_with(gray_identity())); });
  EXPECT_NE(message.find("is empty"), std::string::npos) << message;
  message = error_of([&] { open_image_folder_source(dir.str() + "/missing", options_with(gray_identity())); });
  EXPECT_NE(message.find("missing' does not exist"), std::string::npos) << message;
}

TEST(BadImageInput, ColourImageForAGrayModelNamesTheFile) {
  TempFolder dir;
  write_id_png(dir.path() / "a.png", 1);
  write_image(dir.path() / "b.png", cv::Mat(4, 4, CV_8UC3, cv::Scalar(1, 2, 3)));
  auto source = open_image_folder_source(dir.str(), options_with(gray_identity()));
  const std::string message = error_of([&] { read_all(*source, 4); });
  EXPECT_NE(message.find("b.png': a colour image (bgr) for a model that reads gray images"), std::string::npos)
      << message;
}

TEST(BadImageInput, SixteenBitImageAndDifferentSizesWithoutResize) {
  TempFolder dir;
  write_id_png(dir.path() / "a.png", 1);
  write_image(dir.path() / "b.png", cv::Mat(4, 4, CV_16UC1, cv::Scalar(1000)));
  auto source = open_image_folder_source(dir.str(), options_with(gray_identity()));
  std::string message = error_of([&] { read_all(*source, 4); });
  EXPECT_NE(message.find("b.png' has 16-bit samples; octet reads 8-bit images"), std::string::npos) << message;

  fs::remove(dir.path() / "b.png");
  write_id_png(dir.path() / "c.png", 2, 5, 4);
  source = open_image_folder_source(dir.str(), options_with(gray_identity()));
  message = error_of([&] { read_all(*source, 4); });
  EXPECT_NE(message.find("c.png' gives a [1, 5, 4] sample, the first image gave [1, 4, 4]"), std::string::npos)
      << message;
}

TEST(BadImageInput, SkipBadLeavesEachOutOnceWithAWarningAndFillsTheBatches) {
  TempFolder dir;
  for (int i = 0; i < 6; ++i) write_id_png(dir.path() / ("good" + std::to_string(i) + ".png"), 10 + i);
  write_truncated_png(dir.path() / "good2a_truncated.png");
  write_bytes(dir.path() / "good3a_readme.txt", "text");
  write_image(dir.path() / "good4a_colour.png", cv::Mat(4, 4, CV_8UC3, cv::Scalar(1, 2, 3)));
  write_image(dir.path() / "a_16bit.png", cv::Mat(4, 4, CV_16UC1, cv::Scalar(1000)));  // first in order
  testing::internal::CaptureStderr();
  auto source = open_image_folder_source(dir.str(), options_with(gray_identity(), 3, 1, true));
  const Pass first = read_all(*source, 4);
  const std::string warnings = testing::internal::GetCapturedStderr();
  EXPECT_EQ(source->size(), 10);
  EXPECT_EQ(source->skipped(), 4);
  EXPECT_EQ(ids_of(first, 16), (std::vector<int>{10, 11, 12, 13, 14, 15}));
  EXPECT_EQ(first.batch_sizes, (std::vector<int64_t>{4, 2}));
  for (const char* name : {"good2a_truncated.png", "good3a_readme.txt", "good4a_colour.png", "a_16bit.png"})
    EXPECT_TRUE(
        std::regex_search(warnings, std::regex("warning: '" + (dir.path() / name).string() + "'[^\n]*; skipped\n")))
        << warnings;

  testing::internal::CaptureStderr();
  source->reset();
  const Pass second = read_all(*source, 4);
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");  // warned once
  EXPECT_EQ(source->skipped(), 4);                        // counted once
  EXPECT_TRUE(same_bits(first.values, second.values));
}

TEST(BadImageInput, SkipBadListEntryAndNothingReadable) {
  TempFolder dir;
  write_id_png(dir.path() / "a.png", 1);
  const std::string list = (dir.path() / "list.txt").string();
  write_bytes(list, "missing.png 0\na.png 1\n");
  testing::internal::CaptureStderr();
  auto source = open_image_list_source(list, options_with(gray_identity(), 1, 2, true));
  const std::string warnings = testing::internal::GetCapturedStderr();
  EXPECT_NE(warnings.find(list + ":1: 'missing.png' does not exist"), std::string::npos) << warnings;
  EXPECT_EQ(source->skipped(), 1);
  EXPECT_EQ(read_all(*source, 4).labels, (std::vector<int64_t>{1}));

  write_bytes(list, "missing.png 0\n");
  testing::internal::CaptureStderr();
  const std::string message =
      error_of([&] { open_image_list_source(list, options_with(gray_identity(), 1, 2, true)); });
  testing::internal::GetCapturedStderr();
  EXPECT_NE(message.find("none of its 1 entries is a readable image"), std::string::npos) << message;
}

// ---- the prefetcher on its own ------------------------------------------------------------------

TEST(SamplePrefetcher, IndexOrderWhateverTheThreadTiming) {
  std::mt19937 rng(3);
  std::vector<int> delays_us(500);
  for (int& d : delays_us) d = static_cast<int>(rng() % 200);
  SamplePrefetcher prefetcher(500, {1, 1, 2}, 4, 3, [&](int64_t index, float* out, int64_t& label) {
    std::this_thread::sleep_for(std::chrono::microseconds(delays_us[static_cast<size_t>(index)]));
    out[0] = static_cast<float>(index);
    out[1] = -static_cast<float>(index);
    label = index % 10;
    return true;
  });
  EXPECT_EQ(prefetcher.threads(), 4);
  Batch batch;
  int64_t expected = 0;
  while (prefetcher.next(7, batch)) {
    ASSERT_EQ(batch.images.dims()[1], 1);
    for (int64_t i = 0; i < batch.images.dims()[0]; ++i, ++expected) {
      ASSERT_EQ(batch.images.data<float>()[2 * i], static_cast<float>(expected));
      ASSERT_EQ(batch.labels[static_cast<size_t>(i)], expected % 10);
    }
  }
  EXPECT_EQ(expected, 500);
  EXPECT_LE(prefetcher.peak_buffered_samples(), 3 * 7);
}

TEST(SamplePrefetcher, WorkerExceptionIsRethrownOnTheConsumerForTheFirstBadSampleInOrder) {
  const auto produce = [](int64_t index, float* out, int64_t&) {
    if (index == 80) throw Error("sample 80 failed");
    if (index == 57) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // finishes after 80 has failed
      throw Error("sample 57 failed");
    }
    out[0] = static_cast<float>(index);
    return true;
  };
  SamplePrefetcher prefetcher(100, {1}, 4, 4, produce);
  Batch batch;
  int64_t delivered = 0;
  std::string message;
  try {
    while (prefetcher.next(8, batch)) delivered += batch.images.dims()[0];
  } catch (const Error& e) {
    message = e.what();
  }
  EXPECT_EQ(message, "sample 57 failed");
  EXPECT_EQ(delivered, 56);  // the batches before the one holding sample 57
  EXPECT_EQ(error_of([&] { prefetcher.next(8, batch); }), "sample 57 failed");
  prefetcher.reset();
  ASSERT_TRUE(prefetcher.next(8, batch));
  EXPECT_EQ(batch.images.data<float>()[0], 0.0f);
}

TEST(SamplePrefetcher, LeftOutSamplesArePassedOverAndBatchesStayFull) {
  SamplePrefetcher prefetcher(20, {1}, 2, 1, [](int64_t index, float* out, int64_t&) {
    out[0] = static_cast<float>(index);
    return index % 3 != 0;  // 0, 3, 6, ... left out: 13 of 20 remain
  });
  Batch batch;
  std::vector<int64_t> sizes;
  std::vector<float> values;
  while (prefetcher.next(5, batch)) {
    sizes.push_back(batch.images.dims()[0]);
    values.insert(values.end(), batch.images.data<float>(), batch.images.data<float>() + batch.images.numel());
  }
  EXPECT_EQ(sizes, (std::vector<int64_t>{5, 5, 3}));
  EXPECT_EQ(values, (std::vector<float>{1, 2, 4, 5, 7, 8, 10, 11, 13, 14, 16, 17, 19}));
}

TEST(SamplePrefetcher, PrefetchZeroProducesOnlyInsideNext) {
  std::atomic<int64_t> produced{0};
  SamplePrefetcher prefetcher(50, {1}, 3, 0, [&](int64_t, float*, int64_t&) {
    ++produced;
    return true;
  });
  Batch batch;
  ASSERT_TRUE(prefetcher.next(6, batch));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(produced.load(), 6);
  EXPECT_EQ(prefetcher.peak_buffered_samples(), 6);
}

TEST(SamplePrefetcher, ResetAndDestructionWhileWorkersAreBusyDoNotHang) {
  const auto slow = [](int64_t index, float* out, int64_t&) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    out[0] = static_cast<float>(index);
    return true;
  };
  for (int round = 0; round < 5; ++round) {
    SamplePrefetcher prefetcher(1000, {1}, 4, 4, slow);
    Batch batch;
    ASSERT_TRUE(prefetcher.next(16, batch));
    prefetcher.reset();
    ASSERT_TRUE(prefetcher.next(16, batch));
    EXPECT_EQ(batch.images.data<float>()[0], 0.0f);
    EXPECT_EQ(batch.images.data<float>()[15], 15.0f);
  }  // destroyed with work in flight
  SamplePrefetcher zero_threads(10, {1}, 0, 2, slow);
  EXPECT_GE(zero_threads.threads(), 1);  // 0 = hardware threads
  SamplePrefetcher empty(0, {1}, 2, 2, slow);
  Batch batch;
  EXPECT_FALSE(empty.next(4, batch));
}

}  // namespace
}  // namespace octet
