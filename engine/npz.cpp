#include "engine/npz.h"

#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <set>

#include "engine/error.h"
#include "engine/file_util.h"
#include "engine/tensor_io.h"

namespace octet {
namespace {

// Zip record signatures and the fields octet writes (APPNOTE 6.3: version 2.0, no flags).
constexpr uint32_t kLocalHeader = 0x04034b50, kCentralHeader = 0x02014b50, kEndOfCentral = 0x06054b50;
constexpr uint16_t kVersion = 20;
constexpr uint16_t kStored = 0, kDeflated = 8;
constexpr uint16_t kDosDate = (0 << 9) | (1 << 5) | 1;  // 1980-01-01: fixed, so archives are reproducible
constexpr size_t kLocalHeaderSize = 30, kCentralHeaderSize = 46, kEndSize = 22;

void put16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v & 0xff));
  out.push_back(static_cast<char>(v >> 8));
}
void put32(std::string& out, uint32_t v) {
  put16(out, static_cast<uint16_t>(v & 0xffff));
  put16(out, static_cast<uint16_t>(v >> 16));
}

uint32_t crc32_of(const std::string& bytes) {
  uLong crc = crc32(0L, Z_NULL, 0);
  size_t done = 0;
  while (done < bytes.size()) {  // zlib takes uInt lengths
    const uInt chunk = static_cast<uInt>(std::min<size_t>(bytes.size() - done, 1u << 30));
    crc = crc32(crc, reinterpret_cast<const Bytef*>(bytes.data() + done), chunk);
    done += chunk;
  }
  return static_cast<uint32_t>(crc);
}

// Bounds-checked little-endian reads from the archive.
class Reader {
 public:
  Reader(const std::string& bytes, const std::string& origin) : bytes_(bytes), origin_(origin) {}
  uint16_t u16(size_t at) const {
    need(at, 2);
    return static_cast<uint16_t>(byte(at) | byte(at + 1) << 8);
  }
  uint32_t u32(size_t at) const { return u16(at) | static_cast<uint32_t>(u16(at + 2)) << 16; }
  std::string slice(size_t at, size_t size) const {
    need(at, size);
    return bytes_.substr(at, size);
  }
  void need(size_t at, size_t size) const {
    OCTET_CHECK(at <= bytes_.size() && size <= bytes_.size() - at, "'", origin_,
                "' is not a valid .npz: a zip record runs past the end of the file");
  }

 private:
  uint32_t byte(size_t at) const { return static_cast<uint8_t>(bytes_[at]); }
  const std::string& bytes_;
  const std::string& origin_;
};

std::string inflate_raw(const std::string& packed, size_t size, const std::string& origin, const std::string& member) {
  std::string out(size, '\0');
  z_stream z{};
  OCTET_CHECK(inflateInit2(&z, -MAX_WBITS) == Z_OK, "zlib: inflateInit2 failed");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(packed.data()));
  z.avail_in = static_cast<uInt>(packed.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int status = inflate(&z, Z_FINISH);
  const size_t produced = z.total_out;
  inflateEnd(&z);
  OCTET_CHECK(status == Z_STREAM_END && produced == size, "'", origin, "': member '", member,
              "' does not inflate to its recorded size");
  return out;
}

}  // namespace

std::string encode_npz(const NamedTensors& tensors) {
  std::string archive, central;
  std::set<std::string> names;
  for (const auto& [name, tensor] : tensors) {
    OCTET_CHECK(!name.empty() && names.insert(name).second, ".npz: tensor names must be unique and non-empty ('",
                name, "')");
    const std::string member = name + ".npy";
    const std::string data = encode_npy(tensor);
    constexpr size_t kLimit = std::numeric_limits<uint32_t>::max();
    OCTET_CHECK(data.size() < kLimit && archive.size() < kLimit - data.size() - member.size() - kLocalHeaderSize &&
                    member.size() < 0xffff,
                ".npz: tensor '", name, "' would take the archive past 4 GiB (no zip64)");
    const auto offset = static_cast<uint32_t>(archive.size());
    const uint32_t crc = crc32_of(data);
    const auto size = static_cast<uint32_t>(data.size());
    // Local header, then the stored bytes.
    put32(archive, kLocalHeader);
    for (uint16_t v : {kVersion, uint16_t{0}, kStored, uint16_t{0}, kDosDate}) put16(archive, v);
    for (uint32_t v : {crc, size, size}) put32(archive, v);
    put16(archive, static_cast<uint16_t>(member.size()));
    put16(archive, 0);
    archive += member;
    archive += data;
    // Its central directory entry.
    put32(central, kCentralHeader);
    for (uint16_t v : {kVersion, kVersion, uint16_t{0}, kStored, uint16_t{0}, kDosDate}) put16(central, v);
    for (uint32_t v : {crc, size, size}) put32(central, v);
    put16(central, static_cast<uint16_t>(member.size()));
    for (int i = 0; i < 4; ++i) put16(central, 0);  // extra, comment, disk, internal attributes
    put32(central, 0);                               // external attributes
    put32(central, offset);
    central += member;
  }
  const auto central_offset = static_cast<uint32_t>(archive.size());
  archive += central;
  put32(archive, kEndOfCentral);
  put16(archive, 0);
  put16(archive, 0);
  put16(archive, static_cast<uint16_t>(tensors.size()));
  put16(archive, static_cast<uint16_t>(tensors.size()));
  put32(archive, static_cast<uint32_t>(central.size()));
  put32(archive, central_offset);
  put16(archive, 0);
  return archive;
}

NamedTensors decode_npz(const std::string& bytes, const std::string& origin) {
  const Reader r(bytes, origin);
  // The end record is the last 22 bytes, or earlier by the length of an archive comment.
  size_t end = std::string::npos;
  for (size_t at = bytes.size() >= kEndSize ? bytes.size() - kEndSize + 1 : 0; at-- > 0;) {
    if (r.u32(at) == kEndOfCentral) {
      end = at;
      break;
    }
    if (bytes.size() - at > kEndSize + 0xffff) break;
  }
  OCTET_CHECK(end != std::string::npos, "'", origin, "' is not a .npz (zip) archive: no end-of-directory record");
  const uint16_t count = r.u16(end + 10);
  size_t at = r.u32(end + 16);
  NamedTensors tensors;
  for (uint16_t i = 0; i < count; ++i) {
    OCTET_CHECK(r.u32(at) == kCentralHeader, "'", origin, "': damaged zip central directory (entry ", i, ")");
    const uint16_t method = r.u16(at + 10);
    const uint32_t crc = r.u32(at + 16), packed_size = r.u32(at + 20), size = r.u32(at + 24);
    const uint16_t name_size = r.u16(at + 28), extra_size = r.u16(at + 30), comment_size = r.u16(at + 32);
    const uint32_t local = r.u32(at + 42);
    const std::string member = r.slice(at + kCentralHeaderSize, name_size);
    at += kCentralHeaderSize + name_size + extra_size + comment_size;

    OCTET_CHECK(r.u32(local) == kLocalHeader, "'", origin, "': member '", member, "' has no local header");
    const size_t data_at = local + kLocalHeaderSize + r.u16(local + 26) + r.u16(local + 28);
    const std::string packed = r.slice(data_at, packed_size);
    OCTET_CHECK(method == kStored || method == kDeflated, "'", origin, "': member '", member,
                "' uses zip compression method ", method, " (octet reads stored and deflated members)");
    const std::string data = method == kStored ? packed : inflate_raw(packed, size, origin, member);
    OCTET_CHECK(data.size() == size && crc32_of(data) == crc, "'", origin, "': member '", member,
                "' fails its CRC-32 check");
    const bool npy = member.size() > 4 && member.compare(member.size() - 4, 4, ".npy") == 0;
    OCTET_CHECK(npy, "'", origin, "': member '", member, "' is not a .npy array");
    const std::string name = member.substr(0, member.size() - 4);
    tensors.emplace_back(name, decode_npy(data, origin + ":" + member));
  }
  return tensors;
}

NamedTensors read_npz_file(const std::string& path) { return decode_npz(read_file(path), path); }

void write_npz_file(const std::string& path, const NamedTensors& tensors) {
  write_file_atomic(path, encode_npz(tensors));
}

}  // namespace octet
