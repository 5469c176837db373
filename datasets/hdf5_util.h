// Helpers shared by octet's HDF5 reader and writer (datasets/hdf5_source.h, datasets/hdf5_writer.h):
// HDF5 failures as octet::Error naming the file, string attributes, dataset listings.
//
// Internal to .cpp files built with OCTET_HDF5 (it includes the HDF5 C++ API, H5Cpp.h).
#pragma once

#include <H5Cpp.h>

#include <optional>
#include <string>
#include <vector>

#include "engine/error.h"

namespace octet::hdf5 {

// Stops HDF5 from printing its error stack to stderr; instead the innermost cause of the last
// failure on this thread is kept for last_failure(). Idempotent, cheap: called on every entry.
void capture_errors();

// "H5Dread failed (inflate() failed)": the C++ API's message and HDF5's innermost cause.
std::string describe_failure(const H5::Exception& e);

// Runs f() and returns its result; an H5::Exception from it becomes
// Error("'<file>': <context>: <describe_failure>").
template <typename F>
auto guarded(const std::string& file, const std::string& context, F&& f) -> decltype(f()) {
  capture_errors();
  try {
    return f();
  } catch (const H5::Exception& e) {
    throw Error(detail::concat("'", file, "': ", context, ": ", describe_failure(e)));
  }
}

// Throws Error naming `path` unless it is a readable HDF5 file ("does not exist", "cannot be
// opened: <errno text>", "is not an HDF5 file").
void require_hdf5_file(const std::string& path);

// "uint8", "int16", "float32", "float64", "string", "compound", ...
std::string type_name(const H5::DataType& type);

// Every dataset reachable from the root as "/path [dims] type", in name order; datasets reached
// through several links are listed under each.
std::vector<std::string> list_datasets(const H5::H5File& file);

// The string attribute `name` of `object` (fixed or variable length; trailing NUL/space padding
// removed), nullopt when the object has none. Error naming `file` and `object_name` when the
// attribute is not a string.
std::optional<std::string> read_string_attribute(const H5::H5Object& object, const std::string& name,
                                                 const std::string& file, const std::string& object_name);

// A scalar variable-length UTF-8 string attribute (what h5py writes for a Python str).
void write_string_attribute(const H5::H5Object& object, const std::string& name, const std::string& value);

}  // namespace octet::hdf5
