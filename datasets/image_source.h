// Image files as a BatchSource: a folder (recursive) or a list file. Needs OpenCV (OCTET_OPENCV).
//
// Decoding: cv::imdecode(IMREAD_UNCHANGED) of the file's bytes, 8-bit only; 1, 3 and 4 channels are
// gray, bgr and bgra. EXIF orientation is not applied (PIL's Image.open does not apply it either).
// Then preprocess_image (datasets/image_transform.h) in the order of datasets/preprocessing.h.
// Decoding and preprocessing run on SourceOptions::threads workers, prefetch_batches batches ahead
// (datasets/prefetch.h); the samples come out in the same order, bit for bit, for any thread count.
//
// Image folder:
//   - Files are found recursively (symbolic links followed, each directory visited once). Names
//     starting with '.' (".DS_Store", ".ipynb_checkpoints/") are ignored, files and folders alike.
//   - Images: .jpg .jpeg .png .bmp .ppm .pgm .pnm .tif .tiff .webp, case-insensitive. Any other file
//     is a bad input ("not an image").
//   - Labels, as torchvision's ImageFolder: when the images sit in subfolders, the sorted names of
//     the top-level subfolders are the classes 0, 1, 2, ... and every image at any depth below one
//     belongs to it. A class folder without images keeps its number (as ImageFolder numbers it),
//     with a warning. Images directly in the folder: no labels. Both at once: Error.
//   - Order: by label, then directory path, then file name, comparing bytes: the order in which
//     ImageFolder lists the same tree (sorted os.walk, sorted file names).
//   - An empty folder (nothing but hidden names) is an Error naming it.
// Image list (.txt / .lst):
//   - One image per line: `path [label]`. The label is the last whitespace-separated field when it
//     is an integer (>= 0, or -1 for unknown); the rest, trimmed, is the path, spaces allowed. A path
//     that itself ends in " <integer>" therefore needs an explicit label (-1 when unknown).
//   - Relative paths are relative to the list's folder. Lines without a label get -1.
//   - '#' starts a comment at the beginning of a line or after whitespace ("a#1.png" is a path);
//     blank lines are ignored. No extension check: the file named is decoded whatever its name.
//   - A list without entries is an Error.
// Bad inputs (each an Error naming the file, and for lists "list.txt:LINE: 'path'"): a corrupt,
// truncated or unreadable image, a non-image file in the folder, a list line naming a missing file,
// a 16-bit image, an image whose channels cannot become the model's (colour for a gray model), an
// image that preprocesses to other dims than the model's or the first image's. Non-image files and
// missing list entries are found at open; the others while decoding (from next()). With skip_bad
// each is left out with a warning on stderr and counted once in skipped(), however many passes.
// size() counts every entry, bad ones included: after a full pass size() - skipped() samples came out.
// sample_dims() is known at open: the first good image is decoded then to learn it (an Error when no
// image can be read).
// Memory: a source keeps one name, label (and list line) per file, tens of bytes, and decoded samples
// for prefetch_batches batches ahead plus the batch being handed out (datasets/prefetch.h states the
// exact bound), whatever the data set's size.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "datasets/batch_source.h"

namespace octet {

// The file extensions read as images, lower case with the dot; the test is case-insensitive.
const std::vector<std::string>& image_file_extensions();
bool has_image_extension(const std::string& path);

std::unique_ptr<BatchSource> open_image_folder_source(const std::string& dir, const SourceOptions& options);
std::unique_ptr<BatchSource> open_image_list_source(const std::string& list_path, const SourceOptions& options);

// Diagnostics and the memory-bound test: the most decoded samples an image source has held at once
// (datasets/prefetch.h, SamplePrefetcher::peak_buffered_samples). Error when `source` is not an image
// source.
int64_t image_source_peak_buffered_samples(const BatchSource& source);

}  // namespace octet
