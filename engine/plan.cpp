// Plan files (engine/plan.h has the layout).
//
// Every structure is described once, by a `*_fields(io, item)` function templated on the direction:
// PlanWriter appends each field, PlanReader reads it back into the same place. Writing and reading
// therefore cannot disagree on the order of fields, and a field added to one direction is in both.
// Attributes go through std::visit with one attr_fields overload per alternative of NodeAttributes,
// so a new alternative without an overload fails to compile (no default case anywhere).
#include "engine/plan.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <type_traits>
#include <utility>

#include "engine/error.h"
#include "engine/file_util.h"
#include "octet/build_config.h"

namespace octet {
namespace {

constexpr char kMagic[8] = {'O', 'C', 'T', 'E', 'T', 'P', 'L', 'N'};
constexpr size_t kHeaderBytes = sizeof kMagic + 4 + 8 + 8;  // magic, format version, payload size, checksum

uint64_t fnv1a_64(const char* data, size_t size) {
  uint64_t hash = 14695981039346656037ull;
  for (size_t i = 0; i < size; ++i) {
    hash ^= static_cast<uint8_t>(data[i]);
    hash *= 1099511628211ull;
  }
  return hash;
}

// ---- enum validation: a byte read from a file must name an enumerator --------------------------
// (switches without default: a new enumerator makes the compiler point here)

bool is_known(DataType t) {
  switch (t) {
    case DataType::kFloat32:
    case DataType::kInt8:
    case DataType::kUInt8:
    case DataType::kInt32:
    case DataType::kInt64:
    case DataType::kBool: return true;
  }
  return false;
}

bool is_known(OpKind op) {
  switch (op) {
#define OCTET_OP(kind, onnx_name) case OpKind::kind:
#define OCTET_REGISTERED_OP(kind, name) case OpKind::kind:
#include "engine/ops.def"
    return true;
  }
  return false;
}

bool is_known(Precision p) {
  switch (p) {
    case Precision::kFloat32:
    case Precision::kInt8: return true;
  }
  return false;
}

bool is_known(Activation a) {
  switch (a) {
    case Activation::kNone:
    case Activation::kRelu:
    case Activation::kClip:
    case Activation::kLeakyRelu:
    case Activation::kSigmoid:
    case Activation::kHardSigmoid:
    case Activation::kHardSwish:
    case Activation::kXSigmoid:
    case Activation::kXHardSigmoid:
    case Activation::kGelu:
    case Activation::kXClipDiv: return true;
  }
  return false;
}

bool is_known(ReshapeAttrs::Rule r) {
  switch (r) {
    case ReshapeAttrs::Rule::kShape:
    case ReshapeAttrs::Rule::kFlatten:
    case ReshapeAttrs::Rule::kSqueeze:
    case ReshapeAttrs::Rule::kUnsqueeze: return true;
  }
  return false;
}

bool is_known(BackendKind b) {
  switch (b) {
    case BackendKind::kCpu:
    case BackendKind::kCuda: return true;
  }
  return false;
}

// ---- the two directions --------------------------------------------------------------------------

class PlanWriter {
 public:
  static constexpr bool kReading = false;

  void u8(const uint8_t& v) { out_.push_back(static_cast<char>(v)); }
  void boolean(const bool& v) { u8(v ? 1 : 0); }
  void u32(const uint32_t& v) { little_endian(v, 4); }
  void u64(const uint64_t& v) { little_endian(v, 8); }
  void i32(const int32_t& v) { little_endian(static_cast<uint32_t>(v), 4); }
  void i64(const int64_t& v) { little_endian(static_cast<uint64_t>(v), 8); }
  void f32(const float& v) {
    uint32_t bits = 0;
    std::memcpy(&bits, &v, sizeof bits);
    u32(bits);
  }
  template <typename Enum>
  void enumeration(const Enum& e) {
    u8(static_cast<uint8_t>(e));
  }
  void str(const std::string& s) {
    u32(static_cast<uint32_t>(s.size()));
    out_.append(s);
  }
  // items: u64 count, then each item through `item_fields`.
  template <typename T, typename Fields>
  void vector(const std::vector<T>& items, size_t /*min_item_bytes*/, Fields&& item_fields) {
    u64(items.size());
    for (const T& item : items) item_fields(const_cast<T&>(item));  // the writer only reads `item`
  }
  void bools(const std::vector<bool>& items) {
    u64(items.size());
    for (bool b : items) boolean(b);
  }
  void bytes(const void* data, size_t size) {
    u64(size);
    out_.append(static_cast<const char*>(data), size);
  }
  template <typename T, typename Fields>
  void optional(const std::optional<T>& item, Fields&& item_fields) {
    boolean(item.has_value());
    if (item) item_fields(const_cast<T&>(*item));
  }
  void tensor(const Tensor& t) {
    enumeration(t.type());
    dims(t.dims());
    bytes(t.raw(), t.bytes());
  }
  void dims(const Dims& d) {
    vector(d, 8, [&](int64_t& v) { i64(v); });
  }
  template <typename K, typename V, typename Fields>
  void map(const std::map<K, V>& items, size_t /*min_item_bytes*/, Fields&& item_fields) {
    u64(items.size());
    for (const auto& [key, value] : items) item_fields(const_cast<K&>(key), const_cast<V&>(value));
  }

  const std::string& bytes_written() const { return out_; }

 private:
  void little_endian(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  std::string out_;
};

class PlanReader {
 public:
  static constexpr bool kReading = true;

  PlanReader(const std::string& path, const char* data, size_t size) : path_(path), data_(data), size_(size) {}

  void u8(uint8_t& v) { v = static_cast<uint8_t>(take(1)[0]); }
  void boolean(bool& v) {
    uint8_t b = 0;
    u8(b);
    check(b <= 1, "a flag holds ", int{b});
    v = b == 1;
  }
  void u32(uint32_t& v) { v = static_cast<uint32_t>(little_endian(4)); }
  void u64(uint64_t& v) { v = little_endian(8); }
  void i32(int32_t& v) { v = static_cast<int32_t>(static_cast<uint32_t>(little_endian(4))); }
  void i64(int64_t& v) { v = static_cast<int64_t>(little_endian(8)); }
  void f32(float& v) {
    uint32_t bits = 0;
    u32(bits);
    std::memcpy(&v, &bits, sizeof v);
  }
  template <typename Enum>
  void enumeration(Enum& e) {
    uint8_t raw = 0;
    u8(raw);
    e = static_cast<Enum>(raw);
    check(is_known(e), "unknown enumerator ", int{raw}, " at offset ", pos_ - 1);
  }
  void str(std::string& s) {
    uint32_t size = 0;
    u32(size);
    const char* p = take(size);
    s.assign(p, size);
  }
  template <typename T, typename Fields>
  void vector(std::vector<T>& items, size_t min_item_bytes, Fields&& item_fields) {
    const size_t count = checked_count(min_item_bytes);
    items.assign(count, T{});
    for (T& item : items) item_fields(item);
  }
  void bools(std::vector<bool>& items) {
    const size_t count = checked_count(1);
    items.assign(count, false);
    for (size_t i = 0; i < count; ++i) {
      bool b = false;
      boolean(b);
      items[i] = b;
    }
  }
  template <typename T, typename Fields>
  void optional(std::optional<T>& item, Fields&& item_fields) {
    bool present = false;
    boolean(present);
    item.reset();
    if (!present) return;
    item.emplace();
    item_fields(*item);
  }
  void tensor(Tensor& t) {
    DataType type = DataType::kFloat32;
    Dims d;
    enumeration(type);
    dims(d);
    const size_t size = checked_count(1);
    const char* p = take(size);
    if (size == 0 && d.empty()) {  // a default-constructed (empty) tensor
      t = Tensor();
      return;
    }
    // The element count, multiplied with a bound so that crafted dims cannot overflow it.
    uint64_t expected = element_size(type);
    for (int64_t extent : d) {
      check(extent >= 0, "a tensor dimension is ", extent);
      expected = extent == 0 ? 0 : (expected > size / static_cast<uint64_t>(extent) ? size + 1 : expected * extent);
    }
    check(expected == size, "a ", to_string(type), " tensor of dims ", to_string(d), " holds ", size, " bytes");
    t = Tensor(type, d);
    if (size) std::memcpy(t.raw(), p, size);
  }
  void dims(Dims& d) {
    vector(d, 8, [&](int64_t& v) { i64(v); });
  }
  template <typename K, typename V, typename Fields>
  void map(std::map<K, V>& items, size_t min_item_bytes, Fields&& item_fields) {
    const size_t count = checked_count(min_item_bytes);
    items.clear();
    for (size_t i = 0; i < count; ++i) {
      K key{};
      V value{};
      item_fields(key, value);
      check(items.emplace(std::move(key), std::move(value)).second, "a repeated map key");
    }
  }

  size_t left() const { return size_ - pos_; }

  // Error naming the file: the payload passed its checksum, so this is a plan written wrongly or
  // crafted; say so rather than crash later.
  template <typename... Parts>
  void check(bool condition, Parts&&... parts) const {
    if (!condition) throw Error(detail::concat("'", path_, "': plan is corrupt (", std::forward<Parts>(parts)..., ")"));
  }

 private:
  const char* take(size_t n) {
    if (n > left())
      throw Error(detail::concat("'", path_, "': truncated plan (needs ", n, " bytes at payload offset ", pos_, ", ",
                                 left(), " left)"));
    const char* p = data_ + pos_;
    pos_ += n;
    return p;
  }
  uint64_t little_endian(int n) {
    const char* p = take(static_cast<size_t>(n));
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * i);
    return v;
  }
  // A count read from the file, refused when `count` items of at least `min_item_bytes` each could
  // not fit in what is left (so a corrupt count never makes us allocate or read past the end).
  size_t checked_count(size_t min_item_bytes) {
    uint64_t count = 0;
    u64(count);
    const uint64_t fits = min_item_bytes == 0 ? left() : left() / min_item_bytes;
    if (count > fits)
      throw Error(detail::concat("'", path_, "': truncated plan (a count of ", count, " at payload offset ", pos_ - 8,
                                 ", only ", left(), " bytes left)"));
    return static_cast<size_t>(count);
  }

  std::string path_;
  const char* data_;
  size_t size_;
  size_t pos_ = 0;
};

// ---- the fields of each structure, in file order ------------------------------------------------

template <typename Io>
void attr_fields(Io&, std::monostate&) {}

template <typename Io>
void attr_fields(Io& io, ActivationParams& a) {
  io.enumeration(a.kind);
  io.f32(a.alpha);
  io.f32(a.beta);
}

template <typename Io>
void epilogue_fields(Io& io, Epilogue& e) {
  attr_fields(io, e.activation);
  io.boolean(e.has_residual);
  io.f32(e.rounding.after_bias);
  io.f32(e.rounding.after_residual);
}

template <typename Io>
void attr_fields(Io& io, ConvAttrs& a) {
  for (int64_t* v : {&a.kernel_h, &a.kernel_w, &a.stride_h, &a.stride_w, &a.pad_top, &a.pad_left, &a.pad_bottom,
                     &a.pad_right, &a.dilation_h, &a.dilation_w, &a.group})
    io.i64(*v);
  io.i32(a.spatial_rank);
  epilogue_fields(io, a.epilogue);
}

template <typename Io>
void attr_fields(Io& io, GemmAttrs& a) {
  io.boolean(a.trans_a);
  io.boolean(a.trans_b);
  io.f32(a.alpha);
  io.f32(a.beta);
  epilogue_fields(io, a.epilogue);
}

template <typename Io>
void attr_fields(Io& io, PoolAttrs& a) {
  for (int64_t* v : {&a.kernel_h, &a.kernel_w, &a.stride_h, &a.stride_w, &a.pad_top, &a.pad_left, &a.pad_bottom,
                     &a.pad_right, &a.dilation_h, &a.dilation_w})
    io.i64(*v);
  io.boolean(a.ceil_mode);
  io.boolean(a.count_include_pad);
  io.i32(a.spatial_rank);
}

template <typename Io>
void attr_fields(Io& io, BatchNormAttrs& a) {
  io.f32(a.epsilon);
}

template <typename Io>
void attr_fields(Io& io, ReshapeAttrs& a) {
  io.enumeration(a.rule);
  io.dims(a.shape);
  io.boolean(a.allowzero);
  io.i64(a.axis);
  io.dims(a.axes);
}

template <typename Io>
void attr_fields(Io& io, TransposeAttrs& a) {
  io.dims(a.perm);
}

template <typename Io>
void attr_fields(Io& io, ConcatAttrs& a) {
  io.i64(a.axis);
}

template <typename Io>
void attr_fields(Io& io, SoftmaxAttrs& a) {
  io.i64(a.axis);
  io.boolean(a.coerce_2d);
}

template <typename Io>
void attr_fields(Io& io, PadAttrs& a) {
  io.dims(a.pads);
  io.f32(a.value);
}

// The alternative with index `index`, default-constructed (reading: the index comes from the file).
template <typename Variant, size_t... I>
Variant default_alternative(size_t index, std::index_sequence<I...>) {
  Variant result;
  ((index == I ? (void)result.template emplace<I>() : (void)0), ...);
  return result;
}

// A variant: its index (u8), then the alternative's fields through `fields`.
template <typename Io, typename Variant, typename Fields>
void variant_fields(Io& io, Variant& v, const char* what, Fields&& fields) {
  uint8_t index = static_cast<uint8_t>(v.index());
  io.u8(index);
  if constexpr (Io::kReading) {
    constexpr size_t kAlternatives = std::variant_size_v<Variant>;
    io.check(index < kAlternatives, what, " kind ", int{index}, " of ", kAlternatives);
    v = default_alternative<Variant>(index, std::make_index_sequence<kAlternatives>{});
  }
  std::visit(fields, v);
}

// A registered operator's attributes (engine/op_attributes.h): name, then the typed value.
template <typename Io>
void attr_fields(Io& io, OpAttributes& a) {
  io.map(a.entries, 4 + 1, [&](std::string& name, OpAttributes::Value& value) {
    io.str(name);
    variant_fields(io, value, "attribute value", [&](auto& v) {
      using T = std::decay_t<decltype(v)>;
      if constexpr (std::is_same_v<T, int64_t>) io.i64(v);
      else if constexpr (std::is_same_v<T, float>) io.f32(v);
      else if constexpr (std::is_same_v<T, std::string>) io.str(v);
      else if constexpr (std::is_same_v<T, Dims>) io.dims(v);
      else io.vector(v, 4, [&](float& f) { io.f32(f); });
    });
  });
}

template <typename Io>
void node_attributes_fields(Io& io, NodeAttributes& attrs) {
  variant_fields(io, attrs, "attribute", [&](auto& alternative) { attr_fields(io, alternative); });
}

template <typename Io>
void value_fields(Io& io, Value& v) {
  io.str(v.name);
  io.enumeration(v.type);
  io.dims(v.dims);
  io.optional(v.initializer, [&](Tensor& t) { io.tensor(t); });
  io.optional(v.scale, [&](float& s) { io.f32(s); });
}

template <typename Io>
void value_ids(Io& io, std::vector<ValueId>& ids) {
  io.vector(ids, 4, [&](ValueId& id) { io.i32(id); });
}

template <typename Io>
void node_fields(Io& io, Node& n) {
  io.str(n.name);
  io.enumeration(n.op);
  value_ids(io, n.inputs);
  value_ids(io, n.outputs);
  node_attributes_fields(io, n.attrs);
  io.enumeration(n.precision);
  io.vector(n.fused_nodes, 4, [&](std::string& s) { io.str(s); });
  io.vector(n.weight_scales, 4, [&](float& s) { io.f32(s); });
  io.str(n.tactic);
}

template <typename Io>
void graph_fields(Io& io, Graph& g) {
  io.vector(g.values, 4 + 1 + 8 + 1 + 1, [&](Value& v) { value_fields(io, v); });
  io.vector(g.nodes, 4 + 1 + 8 + 8 + 1 + 1, [&](Node& n) { node_fields(io, n); });
  value_ids(io, g.inputs);
  value_ids(io, g.outputs);
  io.bools(g.input_batched);
  io.i64(g.batch);
  io.str(g.batch_pinned_by);
  io.i64(g.opset);
  io.str(g.producer);
  io.map(g.metadata, 8, [&](std::string& key, std::string& value) {
    io.str(key);
    io.str(value);
  });
}

// Every ValueId of a graph just read names a value (kNoValue only where an input may be omitted), so
// a plan that passed the checksum but was written wrongly cannot index out of range later.
void check_value_ids(const PlanReader& reader, const Graph& g) {
  const auto in_range = [&](ValueId id) { return id >= 0 && static_cast<size_t>(id) < g.values.size(); };
  for (const Node& n : g.nodes) {
    for (ValueId id : n.inputs) reader.check(id == kNoValue || in_range(id), "node '", n.name, "' reads value ", id);
    for (ValueId id : n.outputs) reader.check(in_range(id), "node '", n.name, "' writes value ", id);
  }
  for (ValueId id : g.inputs) reader.check(in_range(id), "graph input ", id);
  for (ValueId id : g.outputs) reader.check(in_range(id), "graph output ", id);
  reader.check(g.input_batched.size() == g.inputs.size(), "input_batched has ", g.input_batched.size(),
               " entries for ", g.inputs.size(), " inputs");
  reader.check(g.batch >= 1, "batch ", g.batch);
}

template <typename Io>
void plan_settings_fields(Io& io, Plan& p) {
  io.enumeration(p.backend);
  io.str(p.gpu_arch);
  io.str(p.gpu_name);
  io.str(p.build_settings);
}

// ---- the header -----------------------------------------------------------------------------------

uint64_t read_u64_le(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}

// Checks magic, format version, size and checksum; returns the payload's offset and size.
std::pair<size_t, size_t> check_header(const std::string& path, const std::string& file) {
  const size_t magic_bytes = std::min(file.size(), sizeof kMagic);
  const bool magic_prefix = std::memcmp(file.data(), kMagic, magic_bytes) == 0;
  OCTET_CHECK(magic_prefix && file.size() > 0, "'", path, "' is not an octet plan (no OCTETPLN magic)");
  OCTET_CHECK(file.size() >= kHeaderBytes, "'", path, "': truncated plan (", file.size(), " bytes, the header alone is ",
              kHeaderBytes, ")");
  const uint32_t version = static_cast<uint32_t>(read_u64_le(file.data() + 8) & 0xffffffffu);
  OCTET_CHECK(version == kPlanFormatVersion, "'", path, "': plan format version ", version, ", this octet reads ",
              kPlanFormatVersion, ": rebuild it");
  const uint64_t payload_size = read_u64_le(file.data() + 12);
  const uint64_t checksum = read_u64_le(file.data() + 20);
  const uint64_t available = file.size() - kHeaderBytes;
  OCTET_CHECK(payload_size <= available, "'", path, "': truncated plan (payload of ", payload_size, " bytes, ",
              available, " present)");
  OCTET_CHECK(payload_size == available, "'", path, "': plan is corrupt (", available - payload_size,
              " bytes after the payload)");
  OCTET_CHECK(fnv1a_64(file.data() + kHeaderBytes, payload_size) == checksum, "'", path,
              "': plan is corrupt (checksum mismatch)");
  return {kHeaderBytes, static_cast<size_t>(payload_size)};
}

}  // namespace

void save_plan(const std::string& path, const Plan& plan) {
  PlanWriter payload;
  payload.str(OCTET_VERSION_STRING);  // the version that writes it, whatever plan.octet_version says
  Plan& p = const_cast<Plan&>(plan);  // the writer only reads
  plan_settings_fields(payload, p);
  graph_fields(payload, p.graph);
  const std::string& body = payload.bytes_written();

  PlanWriter header;
  for (char c : kMagic) header.u8(static_cast<uint8_t>(c));
  header.u32(kPlanFormatVersion);
  header.u64(body.size());
  header.u64(fnv1a_64(body.data(), body.size()));
  write_file_atomic(path, header.bytes_written() + body);
}

Plan load_plan(const std::string& path) {
  const std::string file = read_file(path);
  const auto [offset, size] = check_header(path, file);
  PlanReader reader(path, file.data() + offset, size);
  Plan plan;
  reader.str(plan.octet_version);
  OCTET_CHECK(plan.octet_version == OCTET_VERSION_STRING, "'", path, "': built by octet ", plan.octet_version,
              ", this is octet ", OCTET_VERSION_STRING, ": rebuild it");
  plan_settings_fields(reader, plan);
  graph_fields(reader, plan.graph);
  reader.check(reader.left() == 0, reader.left(), " bytes after the graph");
  check_value_ids(reader, plan.graph);
  return plan;
}

bool is_plan_file(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  char head[sizeof kMagic] = {};
  const size_t n = std::fread(head, 1, sizeof head, f);
  std::fclose(f);
  return n == sizeof kMagic && std::memcmp(head, kMagic, sizeof kMagic) == 0;
}

void check_plan_device(const Plan& plan, const std::string& path, const std::string& device_arch) {
  if (plan.backend != BackendKind::kCuda) return;
  OCTET_CHECK(plan.gpu_arch == device_arch, "'", path, "' was built for ", plan.gpu_arch,
              plan.gpu_name.empty() ? "" : " (" + plan.gpu_name + ")", ", this GPU is ", device_arch,
              ": rebuild the plan on this GPU");
}

}  // namespace octet
