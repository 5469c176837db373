// PNG plots: calibration histograms (`octet inspect FILE.h5 --plot DIR`) and the SQNR of every
// tensor along a network (`octet compare --mark all --plot FILE.png`).
//
// One 900x500 image per tensor: the counts of the 2048 |x| bins on a log10(count + 1) axis against
// |x| from 0 to the histogram's range, a vertical line at the chosen amax ("amax 1.234 (entropy)")
// and one at the observed abs-max, the tensor's name as the title (shortened in the middle when it
// does not fit) and a line with the saturation and value count. Where several bins share a pixel
// column the tallest is drawn, so a lone outlier bin stays visible.
//
// Drawing needs OpenCV (imgproc, imgcodecs); plot_available() says whether this build has it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "calibration/histogram.h"

namespace octet::cli {

struct HistogramPlot {
  std::string tensor;
  Histogram histogram;
  float absmax = 0.0f;      // observed, marked with its own line
  float amax = 0.0f;        // chosen by `method`
  std::string method;       // label of the amax line
  double saturation = 0.0;  // share of values with |x| > amax
  uint64_t count = 0;       // values seen
};

constexpr int kPlotWidth = 900;
constexpr int kPlotHeight = 500;

bool plot_available();

// The PNG file's bytes. Error when this build has no OpenCV.
std::string render_histogram_png(const HistogramPlot& plot);

// SQNR (dB) of each compared tensor in graph order: a line over the tensors, INT8-produced points and
// FP32 ones in two colours, the `marked` tensors (where the error grows most) labelled in red.
// Infinite SQNR (identical tensors) is drawn at the top edge.
struct SqnrPlot {
  std::string title;
  std::vector<std::string> tensors;
  std::vector<double> sqnr_db;
  std::vector<bool> int8;    // the producing layer ran INT8
  std::vector<size_t> marked;  // indices into tensors
};
std::string render_sqnr_png(const SqnrPlot& plot);

// One file name per tensor name, in order: characters outside [A-Za-z0-9._-] become '_', names are
// cut to 180 characters, a leading '.' becomes '_' (no hidden files), and names equal to an earlier
// one ignoring case get "_2", "_3", ... ; each ends in ".png".
std::vector<std::string> plot_file_names(const std::vector<std::string>& tensor_names);

}  // namespace octet::cli
