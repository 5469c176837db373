#include "tools/octet/plot.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <set>

#include "engine/error.h"
#include "octet/build_config.h"

#if OCTET_OPENCV
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#endif

namespace octet::cli {

bool plot_available() { return OCTET_OPENCV != 0; }

std::vector<std::string> plot_file_names(const std::vector<std::string>& tensor_names) {
  constexpr size_t kMaxStem = 180;
  std::vector<std::string> names;
  std::set<std::string> taken;  // lower case, so names differing only in case do not collide on macOS/Windows
  const auto lower = [](std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  for (const std::string& tensor : tensor_names) {
    std::string stem;
    for (char c : tensor.substr(0, kMaxStem)) {
      const bool keep = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
      stem += keep ? c : '_';
    }
    if (stem.empty()) stem = "tensor";
    if (stem[0] == '.') stem[0] = '_';
    std::string name = stem + ".png";
    for (int n = 2; taken.count(lower(name)); ++n) name = stem + "_" + std::to_string(n) + ".png";
    taken.insert(lower(name));
    names.push_back(name);
  }
  return names;
}

#if OCTET_OPENCV

namespace {

constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;
const cv::Scalar kWhite(255, 255, 255);
const cv::Scalar kBlack(0, 0, 0);
const cv::Scalar kGrid(225, 225, 225);
const cv::Scalar kGray(90, 90, 90);
const cv::Scalar kBars(180, 119, 31);    // BGR of #1f77b4
const cv::Scalar kAmax(40, 39, 214);     // BGR of #d62728
const cv::Scalar kAbsmax(14, 127, 255);  // BGR of #ff7f0e

struct Text {
  double scale;
  int thickness;
};
constexpr Text kTitle{0.62, 2};
constexpr Text kLabel{0.45, 1};

cv::Size text_size(const std::string& text, Text style) {
  int baseline = 0;
  return cv::getTextSize(text, kFont, style.scale, style.thickness, &baseline);
}

void put(cv::Mat& img, const std::string& text, cv::Point origin, Text style, const cv::Scalar& color) {
  cv::putText(img, text, origin, kFont, style.scale, color, style.thickness, cv::LINE_AA);
}

// `text` shortened in the middle ("/layer4/.../Relu_output_0") until it fits `width` pixels.
std::string fit_width(const std::string& text, int width, Text style) {
  if (text_size(text, style).width <= width) return text;
  for (size_t keep = text.size() - 1; keep > 1; --keep) {
    const size_t head = (keep + 1) / 2, tail = keep - head;
    const std::string s = text.substr(0, head) + "..." + text.substr(text.size() - tail);
    if (text_size(s, style).width <= width) return s;
  }
  return "...";
}

std::string format(const char* spec, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, spec, value);
  return buf;
}

// A round tick step (1, 2 or 5 times a power of ten) giving about six ticks over [0, span].
double tick_step(double span) {
  const double raw = span / 6.0;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double norm = raw / magnitude;
  return (norm < 1.5 ? 1.0 : norm < 3.0 ? 2.0 : norm < 7.0 ? 5.0 : 10.0) * magnitude;
}

void dashed_vertical(cv::Mat& img, int x, int y0, int y1, const cv::Scalar& color) {
  for (int y = y0; y < y1; y += 10) cv::line(img, {x, y}, {x, std::min(y + 6, y1)}, color, 2, cv::LINE_AA);
}

// A label beside a vertical line at `x`: right of it when it fits before `right`, else left of it;
// on a white box so grid and bars do not cross the text.
void line_label(cv::Mat& img, const std::string& text, int x, int baseline_y, int left, int right,
                const cv::Scalar& color) {
  const cv::Size size = text_size(text, kLabel);
  int x0 = x + 6;
  if (x0 + size.width > right - 2) x0 = std::max(left + 2, x - 6 - size.width);
  cv::rectangle(img, {x0 - 3, baseline_y - size.height - 4}, {x0 + size.width + 3, baseline_y + 5}, kWhite,
                cv::FILLED);
  put(img, text, {x0, baseline_y}, kLabel, color);
}

}  // namespace

std::string render_histogram_png(const HistogramPlot& plot) {
  cv::Mat img(kPlotHeight, kPlotWidth, CV_8UC3, kWhite);
  const int left = 84, right = kPlotWidth - 24, top = 74, bottom = kPlotHeight - 64;
  const int plot_w = right - left, plot_h = bottom - top;
  const Histogram& h = plot.histogram;
  const bool has_bins = h.range > 0.0f && h.counts.size() == static_cast<size_t>(kHistogramBins);

  // ---- title and the line under it ----
  put(img, fit_width(plot.tensor, kPlotWidth - 24, kTitle), {12, 28}, kTitle, kBlack);
  std::string info = plot.method + " amax " + format("%.5g", plot.amax) + "   abs-max " + format("%.5g", plot.absmax) +
                     "   clipped " + format("%.4f", 100.0 * plot.saturation) + "% of " +
                     (plot.count >= 1000000 ? format("%.3g M", static_cast<double>(plot.count) / 1e6)
                                            : format("%.0f", static_cast<double>(plot.count))) +
                     " values   " + std::to_string(kHistogramBins) + " bins of " + format("%.4g", h.bin_width());
  put(img, fit_width(info, kPlotWidth - 24, kLabel), {12, 54}, kLabel, kGray);

  // ---- axes: x is |x| over [0, x_max], y is log10(count + 1) over [0, y_max] decades ----
  const double x_max = std::max({static_cast<double>(h.range), static_cast<double>(plot.absmax),
                                 static_cast<double>(plot.amax), 1e-30});
  const double x_span = has_bins || plot.absmax > 0.0f ? x_max : 1.0;
  double v_max = 0.0;
  if (has_bins)
    for (uint64_t c : h.counts) v_max = std::max(v_max, std::log10(static_cast<double>(c) + 1.0));
  const int decades = std::max(1, static_cast<int>(std::ceil(v_max - 1e-9)));
  const auto x_pixel = [&](double value) {
    return left + static_cast<int>(std::lround(std::min(value / x_span, 1.0) * plot_w));
  };
  const auto y_pixel = [&](double v) { return bottom - static_cast<int>(std::lround(v / decades * plot_h)); };

  for (int k = 0; k <= decades; ++k) {
    const int y = y_pixel(k);
    if (k > 0) cv::line(img, {left, y}, {right, y}, kGrid, 1);
    const std::string label = k == 0 ? "1" : k == 1 ? "10" : k == 2 ? "100" : "1e" + std::to_string(k);
    const cv::Size size = text_size(label, kLabel);
    cv::line(img, {left - 5, y}, {left, y}, kBlack, 1);
    put(img, label, {left - 9 - size.width, y + size.height / 2}, kLabel, kBlack);
  }
  const double step = tick_step(x_span);
  for (int k = 0; k * step <= x_span * (1 + 1e-9); ++k) {
    const int x = x_pixel(k * step);
    if (k > 0) cv::line(img, {x, top}, {x, bottom}, kGrid, 1);
    cv::line(img, {x, bottom}, {x, bottom + 5}, kBlack, 1);
    const std::string label = format("%.4g", k * step);
    const cv::Size size = text_size(label, kLabel);
    put(img, label, {x - size.width / 2, bottom + 9 + size.height}, kLabel, kBlack);
  }

  // ---- bars: the tallest bin of each pixel column ----
  if (has_bins) {
    std::vector<double> column(static_cast<size_t>(plot_w), -1.0);
    for (int i = 0; i < kHistogramBins; ++i) {
      const uint64_t c = h.counts[static_cast<size_t>(i)];
      if (c == 0) continue;
      const double centre = (i + 0.5) * static_cast<double>(h.range) / kHistogramBins;
      const int col = std::min(plot_w - 1, static_cast<int>(centre / x_span * plot_w));
      column[static_cast<size_t>(col)] =
          std::max(column[static_cast<size_t>(col)], std::log10(static_cast<double>(c) + 1.0));
    }
    for (int col = 0; col < plot_w; ++col) {
      const double v = column[static_cast<size_t>(col)];
      if (v < 0.0) continue;
      // A count of 1 still gets a visible bar of at least two pixels.
      const int y = std::min(bottom - 2, y_pixel(v));
      // Column 0 would be hidden under the axis line; bin 0 (the zeros of a ReLU) matters.
      const int x = std::max(left + 1, left + col);
      cv::line(img, {x, bottom}, {x, y}, kBars, 1);
    }
  } else {
    const std::string note = "all values are 0: no histogram to draw";
    const cv::Size size = text_size(note, kLabel);
    put(img, note, {left + (plot_w - size.width) / 2, top + plot_h / 2}, kLabel, kGray);
  }
  cv::rectangle(img, {left, top}, {right, bottom}, kBlack, 1);

  // ---- the chosen amax and the abs-max ----
  const int x_abs = x_pixel(plot.absmax), x_amax = x_pixel(plot.amax);
  dashed_vertical(img, x_abs, top, bottom, kAbsmax);
  cv::line(img, {x_amax, top}, {x_amax, bottom}, kAmax, 2, cv::LINE_AA);
  line_label(img, "amax " + format("%.5g", plot.amax) + " (" + plot.method + ")", x_amax, top + 20, left, right, kAmax);
  line_label(img, "abs-max " + format("%.5g", plot.absmax), x_abs, top + 42, left, right, kAbsmax);

  // ---- axis titles ----
  const std::string x_title = "|x|";
  put(img, x_title, {left + (plot_w - text_size(x_title, kLabel).width) / 2, kPlotHeight - 14}, kLabel, kBlack);
  const std::string y_title = "count per bin + 1 (log scale)";
  const cv::Size y_size = text_size(y_title, kLabel);
  cv::Mat patch(y_size.height + 8, y_size.width + 4, CV_8UC3, kWhite);
  put(patch, y_title, {2, y_size.height + 2}, kLabel, kBlack);
  cv::Mat rotated;
  cv::rotate(patch, rotated, cv::ROTATE_90_COUNTERCLOCKWISE);
  const int y0 = top + std::max(0, (plot_h - rotated.rows) / 2);
  rotated.copyTo(img(cv::Rect(6, y0, rotated.cols, std::min(rotated.rows, kPlotHeight - y0))));

  std::vector<uchar> png;
  OCTET_CHECK(cv::imencode(".png", img, png), "cannot encode the plot of tensor '", plot.tensor, "' as PNG");
  return std::string(png.begin(), png.end());
}

std::string render_sqnr_png(const SqnrPlot& plot) {
  constexpr int kWidth = 1100;
  cv::Mat img(kPlotHeight, kWidth, CV_8UC3, kWhite);
  const int left = 70, right = kWidth - 24, top = 64, bottom = kPlotHeight - 56;
  const int plot_w = right - left, plot_h = bottom - top;
  put(img, fit_width(plot.title, kWidth - 24, kTitle), {12, 28}, kTitle, kBlack);
  put(img, "SQNR of each tensor against the reference, in graph order (blue: INT8 layer, gray: FP32 layer)", {12, 52},
      kLabel, kGray);

  double y_max = 10;
  for (double v : plot.sqnr_db)
    if (std::isfinite(v)) y_max = std::max(y_max, v);
  double y_min = 0;
  for (double v : plot.sqnr_db)
    if (std::isfinite(v)) y_min = std::min(y_min, v);
  const double step = tick_step(y_max - y_min);
  y_max = std::ceil(y_max / step) * step;
  y_min = std::floor(y_min / step) * step;
  const size_t n = plot.tensors.size();
  const auto x_pixel = [&](size_t i) {
    return left + (n > 1 ? static_cast<int>(std::lround(static_cast<double>(i) / (n - 1) * plot_w)) : plot_w / 2);
  };
  const auto y_pixel = [&](double v) {
    const double clipped = std::isfinite(v) ? v : y_max;
    return bottom - static_cast<int>(std::lround((clipped - y_min) / (y_max - y_min) * plot_h));
  };
  for (double v = y_min; v <= y_max + 1e-9; v += step) {
    const int y = y_pixel(v);
    cv::line(img, {left, y}, {right, y}, kGrid, 1);
    const std::string label = format("%.0f", v);
    const cv::Size size = text_size(label, kLabel);
    put(img, label, {left - 9 - size.width, y + size.height / 2}, kLabel, kBlack);
  }
  for (size_t i = 1; i < n; ++i)
    cv::line(img, {x_pixel(i - 1), y_pixel(plot.sqnr_db[i - 1])}, {x_pixel(i), y_pixel(plot.sqnr_db[i])}, kGrid * 0.6,
             1, cv::LINE_AA);
  for (size_t i = 0; i < n; ++i)
    cv::circle(img, {x_pixel(i), y_pixel(plot.sqnr_db[i])}, 3, plot.int8[i] ? kBars : kGray, cv::FILLED, cv::LINE_AA);
  // The marked tensors: a numbered red ring at each, the names in a legend at the top right (labels
  // beside the points collide where the losses sit close together).
  std::vector<std::string> legend;
  for (size_t k = 0; k < plot.marked.size(); ++k) {
    const size_t i = plot.marked[k];
    if (i >= n) continue;
    const cv::Point p{x_pixel(i), y_pixel(plot.sqnr_db[i])};
    cv::circle(img, p, 6, kAmax, 2, cv::LINE_AA);
    put(img, std::to_string(k + 1), {p.x + 7, p.y - 7}, kLabel, kAmax);
    legend.push_back(std::to_string(k + 1) + "  " + fit_width(plot.tensors[i], 300, kLabel) + "  " +
                     format("%.1f dB", plot.sqnr_db[i]));
  }
  if (!legend.empty()) {
    int width = 0;
    for (const std::string& line : legend) width = std::max(width, text_size(line, kLabel).width);
    const int row = 18, x0 = right - width - 16, y0 = top + 8;
    cv::rectangle(img, {x0 - 6, y0}, {right - 6, y0 + row * static_cast<int>(legend.size() + 1) + 4}, kWhite,
                  cv::FILLED);
    cv::rectangle(img, {x0 - 6, y0}, {right - 6, y0 + row * static_cast<int>(legend.size() + 1) + 4}, kGrid, 1);
    put(img, "largest SQNR losses", {x0, y0 + row - 2}, kLabel, kBlack);
    for (size_t k = 0; k < legend.size(); ++k)
      put(img, legend[k], {x0, y0 + row * static_cast<int>(k + 2) - 2}, kLabel, kAmax);
  }
  cv::rectangle(img, {left, top}, {right, bottom}, kBlack, 1);
  const std::string x_title = "tensor (graph order), " + std::to_string(n) + " compared";
  put(img, x_title, {left + (plot_w - text_size(x_title, kLabel).width) / 2, kPlotHeight - 16}, kLabel, kBlack);
  put(img, "dB", {12, top + plot_h / 2}, kLabel, kBlack);
  std::vector<uchar> png;
  OCTET_CHECK(cv::imencode(".png", img, png), "cannot encode the SQNR plot as PNG");
  return std::string(png.begin(), png.end());
}

#else

std::string render_histogram_png(const HistogramPlot& plot) {
  OCTET_CHECK(false, "cannot plot tensor '", plot.tensor, "': this octet was built without OpenCV, which draws the "
              "PNGs (install libopencv-dev and rebuild with OCTET_OPENCV=ON)");
  return {};
}

std::string render_sqnr_png(const SqnrPlot& plot) {
  OCTET_CHECK(false, "cannot draw '", plot.title, "': this octet was built without OpenCV, which draws the PNGs "
              "(install libopencv-dev and rebuild with OCTET_OPENCV=ON)");
  return {};
}

#endif

}  // namespace octet::cli
