// bench_image_pipeline — images/s of octet's JPEG folder pipeline against a plain OpenCV loop.
//
//   bench_image_pipeline [--dir PATH] [--images 500] [--threads 2] [--batch 32] [--prefetch 2] [--passes 3]
//
// Work per image, both sides: read + decode a 500x375 JPEG, BGR -> RGB, resize the shorter side to
// 256 (bilinear; 341x256), center crop 224x224, to float * 1/255, (x - mean) / std with the ImageNet
// mean/std, CHW float32 (the "imagenet" preset of datasets/preprocessing.h).
//   (a) octet: open_image_folder_source with `--threads` decoding threads, batches of `--batch`.
//   (b) the peer: one thread, cv::imread, cv::cvtColor, cv::resize, a crop ROI, Mat::convertTo,
//       then (x - mean) / std per channel into a CHW buffer of a batch — what a user writes by hand.
// cv::setNumThreads(1) for the whole run, so OpenCV's own parallel_for_ adds no threads to either
// side: (a) is parallel only through octet's workers, (b) is single-threaded.
//
// The images are generated once into --dir (photo-like: smooth colour fields, shapes, grain; JPEG
// quality 90) and reused by later runs. Each side runs one untimed pass (warm page cache), then
// `--passes` timed passes; the median pass is reported. Both sides' first batch is compared (max
// absolute difference) to show they do the same work.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <string>
#include <vector>

#include "datasets/image_source.h"
#include "datasets/preprocessing.h"

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

// A photo-like 500x375 picture: a smooth random colour field (a coarse random grid upscaled with
// bicubic interpolation), a few filled shapes with soft edges, and sensor-like grain. It compresses
// like a photograph (tens of KB at quality 90), unlike pure noise or flat colour.
cv::Mat photo_like_image(std::mt19937& rng) {
  cv::Mat coarse(6, 8, CV_8UC3);
  for (int i = 0; i < coarse.rows * coarse.cols * 3; ++i) coarse.data[i] = static_cast<uchar>(rng() & 255);
  cv::Mat image;
  cv::resize(coarse, image, cv::Size(500, 375), 0, 0, cv::INTER_CUBIC);
  for (int s = 0; s < 6; ++s) {
    const cv::Scalar colour(rng() & 255, rng() & 255, rng() & 255);
    const cv::Point centre(static_cast<int>(rng() % 500), static_cast<int>(rng() % 375));
    if (s % 2 == 0)
      cv::circle(image, centre, 10 + static_cast<int>(rng() % 80), colour, cv::FILLED, cv::LINE_AA);
    else
      cv::rectangle(image,
                    cv::Rect(centre.x, centre.y, 20 + static_cast<int>(rng() % 120), 20 + static_cast<int>(rng() % 90)),
                    colour, cv::FILLED, cv::LINE_AA);
  }
  cv::GaussianBlur(image, image, cv::Size(5, 5), 1.2);
  cv::Mat grain(image.size(), CV_16SC3);
  cv::randn(grain, 0, 6);
  cv::Mat out;
  image.convertTo(out, CV_16SC3);
  out += grain;
  out.convertTo(image, CV_8UC3);  // saturates
  return image;
}

std::vector<std::string> ensure_images(const fs::path& dir, int count) {
  fs::create_directories(dir);
  std::vector<std::string> paths;
  std::mt19937 rng(2024);
  int written = 0;
  for (int i = 0; i < count; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "img%05d.jpg", i);
    const fs::path path = dir / name;
    const cv::Mat image = photo_like_image(rng);  // drawn even when the file exists: same rng stream
    if (!fs::exists(path)) {
      if (!cv::imwrite(path.string(), image, {cv::IMWRITE_JPEG_QUALITY, 90})) {
        std::fprintf(stderr, "cannot write %s\n", path.string().c_str());
        std::exit(1);
      }
      ++written;
    }
    paths.push_back(path.string());
  }
  uintmax_t bytes = 0;
  for (const auto& p : paths) bytes += fs::file_size(p);
  std::printf("images: %d JPEG files 500x375 q90 in %s (%d written now), mean %.1f KB\n", count, dir.string().c_str(),
              written, static_cast<double>(bytes) / count / 1024.0);
  return paths;
}

// (b): the hand-written single-threaded OpenCV loop, filling batches of `batch` CHW samples.
class OpenCvLoop {
 public:
  OpenCvLoop(const octet::Preprocessing& p, int64_t batch) : p_(p), batch_(batch) {
    buffer_.resize(static_cast<size_t>(batch * 3 * 224 * 224));
  }

  // Processes every path; returns the number of images.
  int64_t pass(const std::vector<std::string>& paths, std::vector<float>* first_batch = nullptr) {
    int64_t in_batch = 0, done = 0;
    for (const std::string& path : paths) {
      const cv::Mat bgr = cv::imread(path, cv::IMREAD_COLOR);
      if (bgr.empty()) {
        std::fprintf(stderr, "cannot read %s\n", path.c_str());
        std::exit(1);
      }
      cv::Mat rgb, resized, floats;
      cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
      const int s = 256;  // shorter side, longer truncated as torchvision does
      const cv::Size size =
          rgb.cols <= rgb.rows ? cv::Size(s, s * rgb.rows / rgb.cols) : cv::Size(s * rgb.cols / rgb.rows, s);
      cv::resize(rgb, resized, size, 0, 0, cv::INTER_LINEAR);
      const cv::Mat crop = resized(cv::Rect((resized.cols - 224) / 2, (resized.rows - 224) / 2, 224, 224));
      crop.convertTo(floats, CV_32FC3, p_.scale);
      std::vector<cv::Mat> planes(3);
      float* sample = buffer_.data() + in_batch * 3 * 224 * 224;
      for (int c = 0; c < 3; ++c) planes[static_cast<size_t>(c)] = cv::Mat(224, 224, CV_32F, sample + c * 224 * 224);
      cv::split(floats, planes);  // HWC -> CHW, straight into the batch
      for (int c = 0; c < 3; ++c) {
        planes[static_cast<size_t>(c)] -= p_.mean[static_cast<size_t>(c)];
        planes[static_cast<size_t>(c)] /= p_.std[static_cast<size_t>(c)];
      }
      ++done;
      if (++in_batch == batch_) {
        if (first_batch && first_batch->empty()) *first_batch = buffer_;
        in_batch = 0;
      }
    }
    return done;
  }

 private:
  octet::Preprocessing p_;
  int64_t batch_;
  std::vector<float> buffer_;
};

int64_t octet_pass(octet::BatchSource& source, int64_t batch_size, std::vector<float>* first_batch = nullptr) {
  source.reset();
  octet::Batch batch;
  int64_t done = 0;
  while (source.next(batch_size, batch)) {
    if (first_batch && first_batch->empty())
      first_batch->assign(batch.images.data<float>(), batch.images.data<float>() + batch.images.numel());
    done += batch.images.dims()[0];
  }
  return done;
}

template <typename F>
double median_images_per_s(int passes, F&& run_pass) {
  std::vector<double> rates;
  for (int i = 0; i < passes; ++i) {
    const auto start = Clock::now();
    const int64_t images = run_pass();
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    rates.push_back(static_cast<double>(images) / seconds);
  }
  std::sort(rates.begin(), rates.end());
  return rates[rates.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  fs::path dir = fs::temp_directory_path() / "octet-bench-jpeg";
  int images = 500, threads = 2, prefetch = 2, passes = 3;
  int64_t batch = 32;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--dir" && has_value)
      dir = argv[++i];
    else if (arg == "--images" && has_value)
      images = std::stoi(argv[++i]);
    else if (arg == "--threads" && has_value)
      threads = std::stoi(argv[++i]);
    else if (arg == "--batch" && has_value)
      batch = std::stoll(argv[++i]);
    else if (arg == "--prefetch" && has_value)
      prefetch = std::stoi(argv[++i]);
    else if (arg == "--passes" && has_value)
      passes = std::stoi(argv[++i]);
    else {
      std::fprintf(stderr,
                   "usage: bench_image_pipeline [--dir PATH] [--images N] [--threads N] [--batch N] [--prefetch N] "
                   "[--passes N]\n");
      return 2;
    }
  }
  cv::setNumThreads(1);
  const std::vector<std::string> paths = ensure_images(dir, images);

  try {
    octet::SourceOptions options;
    options.preprocessing = octet::preprocessing_preset("imagenet");
    options.threads = threads;
    options.prefetch_batches = prefetch;
    auto source = octet::open_image_folder_source(dir.string(), options);
    std::vector<float> octet_first, opencv_first;
    octet_pass(*source, batch, &octet_first);  // warm-up
    const double octet_rate = median_images_per_s(passes, [&] { return octet_pass(*source, batch); });

    OpenCvLoop loop(options.preprocessing, batch);
    loop.pass(paths, &opencv_first);  // warm-up
    const double opencv_rate = median_images_per_s(passes, [&] { return loop.pass(paths); });

    float max_diff = 0.0f;
    for (size_t i = 0; i < std::min(octet_first.size(), opencv_first.size()); ++i)
      max_diff = std::max(max_diff, std::fabs(octet_first[i] - opencv_first[i]));

    std::printf("work: decode + rgb + resize shorter 256 + center crop 224 + normalise, batch %lld, %d images\n",
                static_cast<long long>(batch), images);
    std::printf("octet image folder source, %d threads, prefetch %d: %8.1f images/s\n", threads, prefetch, octet_rate);
    std::printf("OpenCV loop, 1 thread:                        %8.1f images/s\n", opencv_rate);
    std::printf("ratio octet / OpenCV loop: %.2fx\n", octet_rate / opencv_rate);
    std::printf("first batch, max |octet - OpenCV loop|: %.3g\n", static_cast<double>(max_diff));
  } catch (const octet::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
