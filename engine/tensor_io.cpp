#include "engine/tensor_io.h"

#include <onnx/onnx_pb.h>

#include <cstring>
#include <regex>

#include "engine/file_util.h"
#include "engine/onnx_import.h"

namespace octet {
namespace {

// NumPy dtype strings for octet's types (little-endian; one-byte types use '|').
const char* npy_descr(DataType type) {
  switch (type) {
    case DataType::kFloat32: return "<f4";
    case DataType::kInt8: return "|i1";
    case DataType::kUInt8: return "|u1";
    case DataType::kInt32: return "<i4";
    case DataType::kInt64: return "<i8";
    case DataType::kBool: return "|b1";
  }
  return "";
}

DataType type_from_npy_descr(const std::string& descr, const std::string& origin) {
  for (DataType t : {DataType::kFloat32, DataType::kInt8, DataType::kUInt8, DataType::kInt32, DataType::kInt64,
                     DataType::kBool}) {
    const std::string d = npy_descr(t);
    // '<' and '|' are both little-endian/irrelevant for one-byte types; NumPy writes either.
    if (descr == d || (d[0] == '|' && descr.substr(1) == d.substr(1) && descr[0] == '<')) return t;
  }
  OCTET_CHECK(false, "'", origin, "': unsupported .npy dtype '", descr,
              "' (octet reads float32, int8, uint8, int32, int64, bool, little-endian)");
  return DataType::kFloat32;
}

std::string encode_tensor_proto(const Tensor& tensor, const std::string& name) {
  onnx::TensorProto proto;
  tensor_to_proto(tensor, name, proto);
  return proto.SerializeAsString();
}

}  // namespace

std::string encode_npy(const Tensor& tensor) {
  // NumPy's tuple syntax: "()" for a scalar, "(5,)" for rank 1, "(2, 3)" otherwise.
  std::string shape;
  const Dims& dims = tensor.dims();
  for (size_t i = 0; i < dims.size(); ++i) shape += (i ? ", " : "") + std::to_string(dims[i]);
  if (dims.size() == 1) shape += ",";
  std::string header = std::string("{'descr': '") + npy_descr(tensor.type()) +
                       "', 'fortran_order': False, 'shape': (" + shape + "), }";
  // Version 1.0: magic, 2 version bytes, uint16 header length; header padded with spaces and a
  // newline so the data starts on a 64-byte boundary.
  const size_t preamble = 10;
  const size_t total = (preamble + header.size() + 1 + 63) / 64 * 64;
  header.append(total - preamble - header.size() - 1, ' ');
  header.push_back('\n');
  std::string out = std::string("\x93NUMPY\x01\x00", 8);
  const uint16_t len = static_cast<uint16_t>(header.size());
  out.push_back(static_cast<char>(len & 0xff));
  out.push_back(static_cast<char>(len >> 8));
  out += header;
  out.append(static_cast<const char*>(tensor.raw()), tensor.bytes());
  return out;
}

Tensor decode_npy(const std::string& bytes, const std::string& origin) {
  OCTET_CHECK(bytes.size() >= 10 && bytes.compare(0, 6, "\x93NUMPY") == 0, "'", origin,
              "' is not a .npy file (bad magic)");
  const int major = static_cast<unsigned char>(bytes[6]);
  OCTET_CHECK(major >= 1 && major <= 3, "'", origin, "': unsupported .npy version ", major);
  size_t header_len = 0, offset = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
    offset = 10;
  } else {
    OCTET_CHECK(bytes.size() >= 12, "'", origin, "' is truncated");
    for (int i = 3; i >= 0; --i) header_len = (header_len << 8) | static_cast<unsigned char>(bytes[8 + i]);
    offset = 12;
  }
  OCTET_CHECK(offset + header_len <= bytes.size(), "'", origin, "' is truncated (header)");
  const std::string header = bytes.substr(offset, header_len);

  std::smatch m;
  OCTET_CHECK(std::regex_search(header, m, std::regex("'descr':\\s*'([^']+)'")), "'", origin,
              "': .npy header has no descr");
  const DataType type = type_from_npy_descr(m[1], origin);
  OCTET_CHECK(!std::regex_search(header, std::regex("'fortran_order':\\s*True")), "'", origin,
              "': Fortran-order arrays are not supported (save with np.ascontiguousarray)");
  OCTET_CHECK(std::regex_search(header, m, std::regex("'shape':\\s*\\(([^)]*)\\)")), "'", origin,
              "': .npy header has no shape");
  Dims dims;
  const std::string shape = m[1];
  const std::regex number("\\d+");
  for (std::sregex_iterator it(shape.begin(), shape.end(), number), end; it != end; ++it)
    dims.push_back(std::stoll(it->str()));

  Tensor tensor(type, dims);
  const size_t data_offset = offset + header_len;
  OCTET_CHECK(bytes.size() - data_offset == tensor.bytes(), "'", origin, "' holds ", bytes.size() - data_offset,
              " data bytes, shape ", to_string(dims), " of ", to_string(type), " needs ", tensor.bytes());
  std::memcpy(tensor.raw(), bytes.data() + data_offset, tensor.bytes());
  return tensor;
}

Tensor read_tensor_file(const std::string& path) {
  if (ends_with(path, ".npy")) return decode_npy(read_file(path), path);
  if (ends_with(path, ".pb")) return read_tensor_proto_file(path);
  OCTET_CHECK(false, "'", path, "': unknown tensor file type (use .npy or .pb, an ONNX TensorProto)");
  return {};
}

void write_tensor_file(const std::string& path, const Tensor& tensor, const std::string& name) {
  if (ends_with(path, ".npy")) return write_file_atomic(path, encode_npy(tensor));
  if (ends_with(path, ".pb")) return write_file_atomic(path, encode_tensor_proto(tensor, name));
  OCTET_CHECK(false, "'", path, "': unknown tensor file type (use .npy or .pb, an ONNX TensorProto)");
}

}  // namespace octet
