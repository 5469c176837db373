// pack_to_hdf5: a BatchSource's preprocessed samples and labels written to an HDF5 file (the file
// behind `octet dataset pack`), so image sets travel to machines without OpenCV and are decoded
// once. Built when octet/build_config.h has OCTET_HDF5 1.
//
// The file (read back by datasets/hdf5_source.h, or by h5py: f["images"][...]):
//   /<images_name>  float32 [N, C, H, W], the source's samples bit for bit.
//                   Extendible (max dims [unlimited, C, H, W]), chunked [k, C, H, W] with
//                   k = clamp(1 MiB / sample bytes, 1, 1024) so one chunk fits HDF5's default 1 MiB
//                   chunk cache of any reader; shuffle filter + gzip level 4 (lossless).
//                   String attributes (scalar, variable-length UTF-8):
//                     layout         "NCHW"
//                     preprocessing  JSON of the preprocessing the source applied
//                                    (preprocessing_to_json, datasets/preprocessing.h)
//                     source         the source's describe()
//                     octet_version  OCTET_VERSION_STRING of the octet that wrote the file
//   /<labels_name>  int64 [N], written only when some sample has a known label (and labels_name is
//                   not empty); -1 marks a sample whose label is unknown (the fill value). Chunked
//                   by 4096, shuffle + gzip 4.
// N counts the samples the source delivered: with skip_bad it is size() minus skipped().
//
// Streaming: the source is read a batch at a time (at most 256 samples and about 32 MiB); each
// batch extends the datasets and is written, so memory stays bounded whatever N is.
//
// Atomic: the file is written as "<out_path>.tmp.<pid>", flushed to disk and renamed over
// out_path only when complete. An error (from the source or HDF5) removes the temporary file and
// leaves any earlier out_path untouched; a process killed midway leaves at most the temporary.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "datasets/batch_source.h"

namespace octet {

// Called after every batch: samples consumed so far (written + skipped) and source.size().
using PackProgress = std::function<void(int64_t done, int64_t total)>;

// Packs the whole source, from its first sample (it is reset first). Error naming out_path (or
// the source, for inconsistent batches: samples of differing size) on failure.
void pack_to_hdf5(BatchSource& source, const std::string& out_path, const Preprocessing& preprocessing,
                  const std::string& images_name = "images", const std::string& labels_name = "labels",
                  PackProgress progress = {});

}  // namespace octet
