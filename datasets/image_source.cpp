#include "datasets/image_source.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <opencv2/imgcodecs.hpp>
#include <set>
#include <system_error>
#include <tuple>
#include <utility>

#include "datasets/image_transform.h"
#include "datasets/prefetch.h"

namespace octet {
namespace {

namespace fs = std::filesystem;

std::string in_quotes(const std::string& s) { return "'" + s + "'"; }

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  const auto space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  size_t begin = 0, end = s.size();
  while (begin < end && space(s[begin])) ++begin;
  while (end > begin && space(s[end - 1])) --end;
  return s.substr(begin, end - begin);
}

// The files a source reads, kept small: per file a name, a label and (lists) a line number, not
// the paths and message prefixes, which are built when needed. A million files cost tens of MB.
struct ImageFiles {
  std::string root;       // folder: the folder itself; list: the list's folder
  std::string list_path;  // empty for a folder
  // Folder: relative to root. List: as written, relative to root or absolute.
  std::vector<std::string> names;
  std::vector<int64_t> lines;              // list only: each name's line
  std::vector<int64_t> labels;             // -1 where unknown
  std::map<size_t, std::string> problems;  // defects known at open, e.g. "does not exist"

  size_t size() const { return names.size(); }
  std::string path(size_t i) const { return (fs::path(root) / names[i]).string(); }
  // How messages name file i: "'dir/cat/a.png'" or "list.txt:12: 'a.png'".
  std::string origin(size_t i) const {
    if (list_path.empty()) return in_quotes(path(i));
    return list_path + ":" + std::to_string(lines[i]) + ": " + in_quotes(names[i]);
  }
};

std::vector<uint8_t> read_file_bytes(const std::string& path, const std::string& origin) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  OCTET_CHECK(file != nullptr, origin, " cannot be opened (", std::error_code(errno, std::generic_category()).message(),
              ")");
  std::error_code ec;
  const uintmax_t expected = fs::file_size(path, ec);
  std::vector<uint8_t> bytes(ec ? 0 : static_cast<size_t>(expected));
  const size_t got = std::fread(bytes.data(), 1, bytes.size(), file.get());
  OCTET_CHECK(!std::ferror(file.get()) && got == bytes.size(), origin, " cannot be read (", got, " of ", bytes.size(),
              " bytes)");
  OCTET_CHECK(!bytes.empty(), origin, " is an empty file");
  return bytes;
}

// Decodes one image file to 8-bit pixels; Error naming the file for anything else.
cv::Mat decode_image_file(const std::string& path, const std::string& origin) {
  const std::vector<uint8_t> bytes = read_file_bytes(path, origin);
  cv::Mat image;
  try {
    image = cv::imdecode(cv::Mat(1, static_cast<int>(bytes.size()), CV_8U, const_cast<uint8_t*>(bytes.data())),
                         cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    throw Error(detail::concat(origin, " is not a readable image (OpenCV: ", e.err, ")"));
  }
  OCTET_CHECK(!image.empty(), origin,
              " is not a readable image (corrupt, truncated, or a format this OpenCV build cannot decode)");
  OCTET_CHECK(image.depth() == CV_8U, origin, " has ", image.elemSize1() * 8, "-bit samples; octet reads 8-bit images");
  OCTET_CHECK(image.channels() == 1 || image.channels() == 3 || image.channels() == 4, origin, " has ",
              image.channels(), " channels; octet reads images with 1, 3 or 4");
  if (!image.isContinuous()) image = image.clone();
  return image;
}

ImageU8 view_of(const cv::Mat& image) {
  ImageU8 view;
  view.height = image.rows;
  view.width = image.cols;
  view.channels = image.channels();
  view.channel_order = view.channels == 1 ? "gray" : view.channels == 3 ? "bgr" : "bgra";
  view.data = image.data;
  return view;
}

class ImageSource final : public BatchSource {
 public:
  ImageSource(std::string what, ImageFiles files, std::string labels_text, const SourceOptions& options)
      : what_(std::move(what)),
        labels_text_(std::move(labels_text)),
        files_(std::move(files)),
        options_(options),
        left_out_(files_.size(), 0) {
    validate_preprocessing(options_.preprocessing, what_);
    for (const auto& [i, problem] : files_.problems) {
      const std::string message = files_.origin(i) + " " + problem;
      OCTET_CHECK(options_.skip_bad, message, "; --skip-bad leaves such files out");
      leave_out(i, message);
    }
    sample_dims_ = probe_sample_dims();
    prefetcher_ = std::make_unique<SamplePrefetcher>(
        size(), sample_dims_, options_.threads, options_.prefetch_batches,
        [this](int64_t index, float* out, int64_t& label) { return produce(index, out, label); });
  }

  int64_t size() const override { return static_cast<int64_t>(files_.size()); }
  Dims sample_dims() const override { return sample_dims_; }
  void reset() override { prefetcher_->reset(); }
  bool next(int64_t max_batch, Batch& batch) override { return prefetcher_->next(max_batch, batch); }
  std::string describe() const override {
    return what_ + " (" + std::to_string(size()) + " images, " + labels_text_ + ")";
  }
  int64_t skipped() const override { return skipped_.load(); }
  int64_t peak_buffered_samples() const { return prefetcher_->peak_buffered_samples(); }

 private:
  // The first image that can be read fixes the sample dims (and shows at open that the data is usable).
  Dims probe_sample_dims() {
    std::vector<float> sample;
    for (size_t i = 0; i < files_.size(); ++i) {
      if (left_out_[i]) continue;
      try {
        const std::string origin = files_.origin(i);
        const cv::Mat image = decode_image_file(files_.path(i), origin);
        const Dims dims = preprocessed_dims(options_.preprocessing, image.rows, image.cols);
        sample.resize(static_cast<size_t>(numel(dims)));
        preprocess_image(view_of(image), options_.preprocessing, sample.data(), origin);
        return dims;
      } catch (const Error& e) {
        if (!options_.skip_bad) throw;
        leave_out(i, e.what());
      }
    }
    throw Error(detail::concat(what_, ": none of its ", files_.size(), " entries is a readable image"));
  }

  // Runs on the prefetcher's workers, each index on one thread at a time.
  bool produce(int64_t index, float* out, int64_t& label) {
    const size_t i = static_cast<size_t>(index);
    if (left_out_[i]) return false;  // known bad from open or an earlier pass
    try {
      const std::string origin = files_.origin(i);
      const cv::Mat image = decode_image_file(files_.path(i), origin);
      const Preprocessing& p = options_.preprocessing;
      // With the model's size given, preprocess_image names the mismatch itself; otherwise every image
      // must agree with the first.
      if (p.height == 0 || p.width == 0) {
        const Dims dims = preprocessed_dims(p, image.rows, image.cols);
        OCTET_CHECK(dims == sample_dims_, origin, " gives a ", to_string(dims), " sample, the first image gave ",
                    to_string(sample_dims_), " (a resize and/or center crop makes every image the same size)");
      }
      preprocess_image(view_of(image), p, out, origin);
    } catch (const Error& e) {
      if (!options_.skip_bad) throw;
      leave_out(i, e.what());
      return false;
    }
    label = files_.labels[i];
    return true;
  }

  void leave_out(size_t index, const std::string& message) {
    left_out_[index] = 1;
    skipped_.fetch_add(1);
    // One write per line, so lines from different workers do not interleave.
    const std::string line = "warning: " + message + "; skipped\n";
    std::fwrite(line.data(), 1, line.size(), stderr);
  }

  const std::string what_;
  const std::string labels_text_;
  const ImageFiles files_;
  const SourceOptions options_;
  // One byte per entry: workers write different entries concurrently (std::vector<bool> would race).
  std::vector<char> left_out_;
  std::atomic<int64_t> skipped_{0};
  Dims sample_dims_;
  std::unique_ptr<SamplePrefetcher> prefetcher_;  // last: destroyed (workers joined) before the rest
};

// ---- image folder -------------------------------------------------------------------------------

struct FoundFile {
  std::string class_name;  // top-level subfolder; "" directly in the root
  std::string directory;   // relative to the root: "", "cat", "cat/young"
  std::string name;
  int64_t label = -1;
  std::string relative_path() const { return directory.empty() ? name : directory + "/" + name; }
};

struct FolderScan {
  std::vector<FoundFile> files;
  std::vector<std::string> top_level_folders;  // sorted
};

void scan_folder(const fs::path& dir, const std::string& relative, const std::string& class_name,
                 std::set<fs::path>& visited, FolderScan& scan) {
  std::error_code ec;
  const fs::path canonical = fs::canonical(dir, ec);
  OCTET_CHECK(!ec, "cannot read folder ", in_quotes(dir.string()), ": ", ec.message());
  if (!visited.insert(canonical).second) return;  // a link back to a folder already read

  std::vector<std::string> subfolders;
  fs::directory_iterator it(dir, ec);
  OCTET_CHECK(!ec, "cannot read folder ", in_quotes(dir.string()), ": ", ec.message());
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    OCTET_CHECK(!ec, "cannot read folder ", in_quotes(dir.string()), ": ", ec.message());
    const std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    std::error_code status_ec;
    if (fs::is_directory(it->path(), status_ec)) {  // follows links
      subfolders.push_back(name);
    } else {
      // Files, and also broken links or special files: reading them names the problem.
      scan.files.push_back({class_name, relative, name, -1});
    }
  }
  std::sort(subfolders.begin(), subfolders.end());
  if (relative.empty()) scan.top_level_folders = subfolders;
  for (const std::string& sub : subfolders)
    scan_folder(dir / sub, relative.empty() ? sub : relative + "/" + sub, class_name.empty() ? sub : class_name,
                visited, scan);
}

std::string list_of_extensions() {
  std::string text;
  for (const std::string& ext : image_file_extensions()) text += (text.empty() ? "" : " ") + ext;
  return text;
}

// ---- image list ---------------------------------------------------------------------------------

bool parse_label(const std::string& field, int64_t& label) {
  size_t at = field[0] == '-' || field[0] == '+' ? 1 : 0;
  if (at == field.size() || field.size() - at > 18) return false;
  for (size_t i = at; i < field.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(field[i]))) return false;
  label = std::stoll(field);
  return true;
}

// The line without its comment: '#' at the start or after whitespace begins one.
std::string strip_comment(const std::string& line) {
  for (size_t i = 0; i < line.size(); ++i)
    if (line[i] == '#' && (i == 0 || std::isspace(static_cast<unsigned char>(line[i - 1])))) return line.substr(0, i);
  return line;
}

}  // namespace

const std::vector<std::string>& image_file_extensions() {
  static const std::vector<std::string> extensions{".jpg", ".jpeg", ".png", ".bmp",  ".ppm",
                                                   ".pgm", ".pnm",  ".tif", ".tiff", ".webp"};
  return extensions;
}

bool has_image_extension(const std::string& path) {
  const std::string ext = lower(fs::path(path).extension().string());
  const auto& known = image_file_extensions();
  return std::find(known.begin(), known.end(), ext) != known.end();
}

std::unique_ptr<BatchSource> open_image_folder_source(const std::string& dir, const SourceOptions& options) {
  const std::string what = "image folder " + in_quotes(dir);
  std::error_code ec;
  OCTET_CHECK(fs::is_directory(dir, ec), what, " does not exist or is not a folder");
  FolderScan scan;
  std::set<fs::path> visited;
  scan_folder(dir, "", "", visited, scan);
  OCTET_CHECK(!scan.files.empty(), what, " is empty (no files in it or its subfolders)");

  const FoundFile* in_root = nullptr;
  const FoundFile* in_subfolder = nullptr;
  std::map<std::string, int64_t> images_per_class;
  for (const FoundFile& f : scan.files) {
    if (!has_image_extension(f.name)) continue;
    (f.class_name.empty() ? in_root : in_subfolder) = &f;
    if (!f.class_name.empty()) ++images_per_class[f.class_name];
  }
  OCTET_CHECK(!(in_root && in_subfolder), what, " holds images both directly in it (",
              in_quotes(in_root->relative_path()), ") and in subfolders (", in_quotes(in_subfolder->relative_path()),
              "): with class subfolders every image must sit in one (the subfolder names are the labels)");

  const bool labelled = in_subfolder != nullptr;
  std::map<std::string, int64_t> class_label;
  if (labelled) {
    for (size_t c = 0; c < scan.top_level_folders.size(); ++c) {
      const std::string& name = scan.top_level_folders[c];
      class_label[name] = static_cast<int64_t>(c);
      if (images_per_class.count(name) == 0) {
        const std::string line = "warning: " + what + ": class folder " + in_quotes(name) + " (label " +
                                 std::to_string(c) + ") holds no images\n";
        std::fwrite(line.data(), 1, line.size(), stderr);
      }
    }
  }

  if (labelled)
    for (FoundFile& f : scan.files)
      if (!f.class_name.empty()) f.label = class_label.at(f.class_name);
  std::sort(scan.files.begin(), scan.files.end(), [](const FoundFile& a, const FoundFile& b) {
    return std::tie(a.label, a.directory, a.name) < std::tie(b.label, b.directory, b.name);
  });
  ImageFiles files;
  files.root = dir;
  files.names.reserve(scan.files.size());
  files.labels.reserve(scan.files.size());
  for (const FoundFile& f : scan.files) {
    if (!has_image_extension(f.name))
      files.problems[files.size()] = "is not an image (octet reads " + list_of_extensions() + ")";
    files.names.push_back(f.relative_path());
    files.labels.push_back(f.label);
  }

  const std::string labels_text =
      labelled ? std::to_string(scan.top_level_folders.size()) + " classes from subfolders" : "no labels";
  return std::make_unique<ImageSource>(what, std::move(files), labels_text, options);
}

std::unique_ptr<BatchSource> open_image_list_source(const std::string& list_path, const SourceOptions& options) {
  const std::string what = "image list " + in_quotes(list_path);
  std::ifstream in(list_path);
  OCTET_CHECK(in.good(), what, " cannot be opened");
  ImageFiles files;
  files.root = fs::path(list_path).parent_path().string();
  files.list_path = list_path;
  int64_t labelled = 0;
  std::string line;
  for (int64_t number = 1; std::getline(in, line); ++number) {
    const std::string text = trim(strip_comment(line));  // trim also drops a CRLF file's '\r'
    if (text.empty()) continue;
    const std::string at_line = list_path + ":" + std::to_string(number) + ": ";
    std::string path = text;
    const size_t split = text.find_last_of(" \t");
    int64_t label = -1;
    if (split != std::string::npos && parse_label(text.substr(split + 1), label)) {
      OCTET_CHECK(label >= -1, at_line, "label ", label, " must be >= 0 (or -1 for unknown)");
      path = trim(text.substr(0, split));
      if (label >= 0) ++labelled;
    }
    const size_t index = files.size();
    files.names.push_back(path);
    files.labels.push_back(label);
    files.lines.push_back(number);
    const std::string resolved = files.path(index);
    std::error_code ec;
    const fs::file_status status = fs::status(resolved, ec);
    if (!fs::exists(status))
      files.problems[index] =
          "does not exist" + (resolved == path ? std::string() : " (looked for " + in_quotes(resolved) + ")");
    else if (fs::is_directory(status))
      files.problems[index] = "is a folder, not an image file";
  }
  OCTET_CHECK(!in.bad(), what, ": read error");
  OCTET_CHECK(files.size() > 0, what, " has no entries (one 'path [label]' per line)");

  const int64_t n = static_cast<int64_t>(files.size());
  const std::string labels_text = labelled == n   ? "labelled"
                                  : labelled == 0 ? "no labels"
                                                  : std::to_string(labelled) + " labelled";
  return std::make_unique<ImageSource>(what, std::move(files), labels_text, options);
}

int64_t image_source_peak_buffered_samples(const BatchSource& source) {
  const auto* image_source = dynamic_cast<const ImageSource*>(&source);
  OCTET_CHECK(image_source != nullptr, source.describe(), " is not an image source");
  return image_source->peak_buffered_samples();
}

}  // namespace octet
