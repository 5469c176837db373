#include "datasets/hdf5_util.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "engine/tensor.h"

namespace octet::hdf5 {
namespace {

// The innermost cause of the last HDF5 failure on this thread. HDF5 calls the "automatic error
// handler" when an API function fails, before any other call (a close during stack unwinding,
// say) clears the error stack, so this is the one moment the cause can be read.
thread_local std::string last_cause;

herr_t record_innermost(unsigned n, const H5E_error2_t* error, void*) {
  // Walking upward, entry 0 is the innermost: the most specific description ("file signature
  // not found", "object 'x' doesn't exist").
  if (n == 0 && error->desc != nullptr) last_cause = error->desc;
  return 0;
}

herr_t capture_stack(hid_t stack, void*) {
  last_cause.clear();
  H5Ewalk2(stack, H5E_WALK_UPWARD, record_innermost, nullptr);
  return 0;
}

struct DatasetWalk {
  std::vector<std::string>* out;
};

herr_t visit_link(hid_t group, const char* name, const H5L_info_t* info, void* data) {
  if (info->type != H5L_TYPE_HARD) return 0;
  const hid_t object = H5Oopen(group, name, H5P_DEFAULT);
  if (object < 0) return 0;
  if (H5Iget_type(object) == H5I_DATASET) {
    const H5::DataSet dataset(object);  // takes a reference of its own; `object` is closed below
    const H5::DataSpace space = dataset.getSpace();
    Dims dims(static_cast<size_t>(std::max(0, space.getSimpleExtentNdims())));
    std::vector<hsize_t> extent(dims.size());
    space.getSimpleExtentDims(extent.data());
    std::copy(extent.begin(), extent.end(), dims.begin());
    static_cast<DatasetWalk*>(data)->out->push_back("/" + std::string(name) + " " + to_string(dims) + " " +
                                                    type_name(dataset.getDataType()));
  }
  H5Oclose(object);
  return 0;
}

}  // namespace

void capture_errors() { H5Eset_auto2(H5E_DEFAULT, capture_stack, nullptr); }

std::string describe_failure(const H5::Exception& e) {
  std::string text = e.getDetailMsg();
  if (!last_cause.empty() && text.find(last_cause) == std::string::npos) text += " (" + last_cause + ")";
  return text;
}

void require_hdf5_file(const std::string& path) {
  struct stat st {};
  OCTET_CHECK(::stat(path.c_str(), &st) == 0, "'", path, "' does not exist");
  OCTET_CHECK(!S_ISDIR(st.st_mode), "'", path, "' is a directory, not an HDF5 file");
  std::FILE* probe = std::fopen(path.c_str(), "rb");
  OCTET_CHECK(probe != nullptr, "'", path, "' cannot be opened: ", std::strerror(errno));
  std::fclose(probe);
  capture_errors();
  const htri_t is_hdf5 = H5Fis_hdf5(path.c_str());
  OCTET_CHECK(is_hdf5 >= 0, "'", path, "' cannot be read as HDF5",
              last_cause.empty() ? std::string() : " (" + last_cause + ")");
  OCTET_CHECK(is_hdf5 > 0, "'", path, "' is not an HDF5 file (no HDF5 signature)");
}

std::string type_name(const H5::DataType& type) {
  const size_t bits = type.getSize() * 8;
  switch (type.getClass()) {
    case H5T_INTEGER:
      return (H5Tget_sign(type.getId()) == H5T_SGN_NONE ? "uint" : "int") + std::to_string(bits);
    case H5T_FLOAT:
      return "float" + std::to_string(bits);
    case H5T_STRING:
      return "string";
    case H5T_COMPOUND:
      return "compound";
    case H5T_ENUM:
      return "enum";
    case H5T_ARRAY:
      return "array";
    case H5T_BITFIELD:
      return "bitfield";
    case H5T_OPAQUE:
      return "opaque";
    case H5T_REFERENCE:
      return "reference";
    case H5T_VLEN:
      return "vlen";
    case H5T_TIME:
      return "time";
    case H5T_NO_CLASS:
    case H5T_NCLASSES:
      break;
  }
  return "unknown type";
}

std::vector<std::string> list_datasets(const H5::H5File& file) {
  std::vector<std::string> out;
  DatasetWalk walk{&out};
  H5Lvisit(file.getId(), H5_INDEX_NAME, H5_ITER_INC, visit_link, &walk);
  return out;
}

std::optional<std::string> read_string_attribute(const H5::H5Object& object, const std::string& name,
                                                 const std::string& file, const std::string& object_name) {
  if (!object.attrExists(name)) return std::nullopt;
  const H5::Attribute attribute = object.openAttribute(name);
  OCTET_CHECK(attribute.getTypeClass() == H5T_STRING, "'", file, "': attribute '", name, "' of '", object_name,
              "' must be a string, found ", type_name(attribute.getDataType()));
  std::string value;
  attribute.read(attribute.getStrType(), value);
  while (!value.empty() && (value.back() == '\0' || value.back() == ' ')) value.pop_back();
  return value;
}

void write_string_attribute(const H5::H5Object& object, const std::string& name, const std::string& value) {
  H5::StrType type(H5::PredType::C_S1, H5T_VARIABLE);
  type.setCset(H5T_CSET_UTF8);
  object.createAttribute(name, type, H5::DataSpace(H5S_SCALAR)).write(type, value);
}

}  // namespace octet::hdf5
