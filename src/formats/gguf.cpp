#include "formats/gguf.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>

#include "core/error.h"

namespace s1 {

namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian u32

struct GgmlTypeName {
  uint32_t id;
  const char* name;
};
// Names of ggml's tensor types, so that an unsupported one is reported by name.
constexpr GgmlTypeName kGgmlNames[] = {
    {0, "F32"},      {1, "F16"},     {2, "Q4_0"},    {3, "Q4_1"},     {6, "Q5_0"},    {7, "Q5_1"},
    {8, "Q8_0"},     {9, "Q8_1"},    {10, "Q2_K"},   {11, "Q3_K"},    {12, "Q4_K"},   {13, "Q5_K"},
    {14, "Q6_K"},    {15, "Q8_K"},   {16, "IQ2_XXS"}, {17, "IQ2_XS"}, {18, "IQ3_XXS"}, {19, "IQ1_S"},
    {20, "IQ4_NL"},  {21, "IQ3_S"},  {22, "IQ2_S"},  {23, "IQ4_XS"},  {24, "I8"},      {25, "I16"},
    {26, "I32"},     {27, "I64"},    {28, "F64"},    {29, "IQ1_M"},   {30, "BF16"},    {34, "TQ1_0"},
    {35, "TQ2_0"},   {39, "MXFP4"},
};

// Bounds-checked little-endian cursor over the header.
class Cursor {
 public:
  Cursor(const uint8_t* d, size_t n, const std::string& what, const GgufLimits& lim)
      : d_(d), n_(n), what_(what), lim_(lim) {}
  size_t pos() const { return pos_; }
  size_t left() const { return n_ - pos_; }

  template <typename T>
  T get(const char* field) {
    if (sizeof(T) > left())
      fail(what_, ": truncated: the file ends inside ", field, " (offset ", pos_, ", file size ", n_, ")");
    T v;
    std::memcpy(&v, d_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }

  std::string str(const char* field) {
    const uint64_t len = get<uint64_t>(field);
    if (len > lim_.max_string)
      fail(what_, ": ", field, " has an implausible string length ", len, " (at offset ", pos_ - 8, ")");
    if (len > left())
      fail(what_, ": truncated: ", field, " says ", len, " bytes but only ", left(), " remain (offset ", pos_ - 8, ")");
    std::string s(reinterpret_cast<const char*>(d_ + pos_), size_t(len));
    pos_ += size_t(len);
    return s;
  }

  // The smallest encoding of one value of type t (to bound array counts).
  static uint64_t min_size(GgufType t) {
    switch (t) {
      case GgufType::UINT8: case GgufType::INT8: case GgufType::BOOL: return 1;
      case GgufType::UINT16: case GgufType::INT16: return 2;
      case GgufType::UINT32: case GgufType::INT32: case GgufType::FLOAT32: return 4;
      case GgufType::UINT64: case GgufType::INT64: case GgufType::FLOAT64: case GgufType::STRING: return 8;
      case GgufType::ARRAY: return 12;
    }
    return 1;
  }

  GgufType type(const std::string& where) {
    uint32_t t = get<uint32_t>("a value type");
    if (t > uint32_t(GgufType::FLOAT64)) fail(what_, ": ", where, ": unknown value type ", t);
    return GgufType(t);
  }

  GgufValue value(GgufType t, const std::string& where, uint32_t depth) {
    GgufValue v;
    v.type = t;
    switch (t) {
      case GgufType::UINT8: v.u = get<uint8_t>(where.c_str()); break;
      case GgufType::INT8: v.i = get<int8_t>(where.c_str()); break;
      case GgufType::UINT16: v.u = get<uint16_t>(where.c_str()); break;
      case GgufType::INT16: v.i = get<int16_t>(where.c_str()); break;
      case GgufType::UINT32: v.u = get<uint32_t>(where.c_str()); break;
      case GgufType::INT32: v.i = get<int32_t>(where.c_str()); break;
      case GgufType::UINT64: v.u = get<uint64_t>(where.c_str()); break;
      case GgufType::INT64: v.i = get<int64_t>(where.c_str()); break;
      case GgufType::FLOAT32: v.f = get<float>(where.c_str()); break;
      case GgufType::FLOAT64: v.f = get<double>(where.c_str()); break;
      case GgufType::BOOL: {
        uint8_t b = get<uint8_t>(where.c_str());
        if (b > 1) fail(what_, ": ", where, ": bool value ", int(b), " is neither 0 nor 1");
        v.u = b;
        break;
      }
      case GgufType::STRING: v.s = str(where.c_str()); break;
      case GgufType::ARRAY: {
        if (depth >= lim_.max_depth) fail(what_, ": ", where, ": arrays nested deeper than ", lim_.max_depth);
        v.elem = type(where);
        const uint64_t n = get<uint64_t>(where.c_str());
        if (n > lim_.max_array) fail(what_, ": ", where, ": implausible array length ", n);
        // Every element needs at least min_size bytes: a count that cannot fit in the rest of
        // the file is refused before anything is reserved for it.
        if (n > left() / min_size(v.elem))
          fail(what_, ": truncated: ", where, " claims ", n, " elements of type ", gguf_type_name(v.elem), " but only ",
               left(), " bytes remain");
        switch (v.elem) {
          case GgufType::STRING:
            v.strs.reserve(size_t(n));
            for (uint64_t k = 0; k < n; ++k) v.strs.push_back(str(where.c_str()));
            break;
          case GgufType::ARRAY:
            v.items.reserve(size_t(n));
            for (uint64_t k = 0; k < n; ++k) v.items.push_back(value(v.elem, where, depth + 1));
            break;
          case GgufType::FLOAT32:
          case GgufType::FLOAT64:
            v.floats.reserve(size_t(n));
            for (uint64_t k = 0; k < n; ++k) v.floats.push_back(value(v.elem, where, depth + 1).f);
            break;
          default:
            v.ints.reserve(size_t(n));
            for (uint64_t k = 0; k < n; ++k) {
              GgufValue e = value(v.elem, where, depth + 1);
              v.ints.push_back(e.is_signed() ? e.i : int64_t(e.u));
            }
            break;
        }
        break;
      }
    }
    return v;
  }

 private:
  const uint8_t* d_;
  size_t n_;
  size_t pos_ = 0;
  const std::string& what_;
  const GgufLimits& lim_;
};

std::string dims_str(const std::vector<uint64_t>& ne) {
  std::string s = "[";
  for (size_t i = 0; i < ne.size(); ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "]";
}

}  // namespace

const char* gguf_type_name(GgufType t) {
  switch (t) {
    case GgufType::UINT8: return "u8";
    case GgufType::INT8: return "i8";
    case GgufType::UINT16: return "u16";
    case GgufType::INT16: return "i16";
    case GgufType::UINT32: return "u32";
    case GgufType::INT32: return "i32";
    case GgufType::FLOAT32: return "f32";
    case GgufType::BOOL: return "bool";
    case GgufType::STRING: return "string";
    case GgufType::ARRAY: return "array";
    case GgufType::UINT64: return "u64";
    case GgufType::INT64: return "i64";
    case GgufType::FLOAT64: return "f64";
  }
  return "?";
}

std::optional<DType> dtype_from_ggml(uint32_t t) {
  switch (t) {
    case 0: return DType::F32;
    case 1: return DType::F16;
    case 2: return DType::Q4_0;
    case 3: return DType::Q4_1;
    case 6: return DType::Q5_0;
    case 7: return DType::Q5_1;
    case 8: return DType::Q8_0;
    case 12: return DType::Q4_K;
    case 13: return DType::Q5_K;
    case 14: return DType::Q6_K;
    case 26: return DType::I32;
    case 27: return DType::I64;
    case 30: return DType::BF16;
    default: return std::nullopt;
  }
}

uint32_t ggml_from_dtype(DType t) {
  switch (t) {
    case DType::F32: return 0;
    case DType::F16: return 1;
    case DType::Q4_0: return 2;
    case DType::Q4_1: return 3;
    case DType::Q5_0: return 6;
    case DType::Q5_1: return 7;
    case DType::Q8_0: return 8;
    case DType::Q4_K: return 12;
    case DType::Q5_K: return 13;
    case DType::Q6_K: return 14;
    case DType::I32: return 26;
    case DType::I64: return 27;
    case DType::BF16: return 30;
    case DType::Q8_0_IL: break;  // an in-memory layout; written back as Q8_0 (gguf_export.cpp)
  }
  fail("dtype ", dtype_name(t), " has no GGUF type");
}

const char* ggml_type_name(uint32_t t) {
  for (const auto& n : kGgmlNames)
    if (n.id == t) return n.name;
  return "unknown";
}

bool GgufValue::is_integer() const {
  switch (type) {
    case GgufType::UINT8: case GgufType::INT8: case GgufType::UINT16: case GgufType::INT16:
    case GgufType::UINT32: case GgufType::INT32: case GgufType::UINT64: case GgufType::INT64: return true;
    default: return false;
  }
}

bool GgufValue::is_signed() const {
  return type == GgufType::INT8 || type == GgufType::INT16 || type == GgufType::INT32 || type == GgufType::INT64;
}

bool GgufValue::to_int(int64_t* out) const {
  switch (type) {
    case GgufType::UINT8: case GgufType::UINT16: case GgufType::UINT32: case GgufType::UINT64:
      if (u > uint64_t(std::numeric_limits<int64_t>::max())) return false;
      *out = int64_t(u);
      return true;
    case GgufType::INT8: case GgufType::INT16: case GgufType::INT32: case GgufType::INT64:
      *out = i;
      return true;
    default: return false;
  }
}

std::string GgufValue::to_string() const {
  switch (type) {
    case GgufType::STRING: return s.size() > 80 ? "\"" + s.substr(0, 77) + "...\"" : "\"" + s + "\"";
    case GgufType::BOOL: return u ? "true" : "false";
    case GgufType::FLOAT32: case GgufType::FLOAT64: return cat(f);
    case GgufType::ARRAY: {
      return cat("[", gguf_type_name(elem), " x ", size(), "]");
    }
    default: {
      int64_t v;
      return to_int(&v) ? std::to_string(v) : std::to_string(u);
    }
  }
}

GgufParsed parse_gguf(const uint8_t* data, size_t size, const std::string& what, const GgufLimits& lim) {
  GgufParsed out;
  Cursor c(data, size, what, lim);
  if (size < 4) fail(what, ": not a GGUF file (", size, " bytes)");
  const uint32_t magic = c.get<uint32_t>("the magic");
  if (magic != kMagic) {
    if (size >= 8 && std::memcmp(data, "GGUF", 4) != 0 && std::memcmp(data, "GGML", 4) != 0 &&
        std::memcmp(data, "ggjt", 4) != 0)
      fail(what, ": not a GGUF file (bad magic; expected \"GGUF\")");
    fail(what, ": not a GGUF file (bad magic; old GGML/GGJT files are not supported, expected \"GGUF\")");
  }
  out.info.version = c.get<uint32_t>("the version");
  if (out.info.version == 1) fail(what, ": GGUF version 1 is not supported (re-convert the file; versions 2 and 3 are)");
  if (out.info.version != 2 && out.info.version != 3) {
    // A big-endian file reads its version byte-swapped (0x03000000).
    if (out.info.version == 0x02000000u || out.info.version == 0x03000000u)
      fail(what, ": big-endian GGUF files are not supported");
    fail(what, ": unsupported GGUF version ", out.info.version, " (supported: 2, 3)");
  }
  const uint64_t n_tensors = c.get<uint64_t>("the tensor count");
  const uint64_t n_kv = c.get<uint64_t>("the metadata count");
  if (n_tensors > lim.max_tensors) fail(what, ": implausible tensor count ", n_tensors);
  if (n_kv > lim.max_kv) fail(what, ": implausible metadata count ", n_kv);
  // A key-value pair takes at least 8 + 4 + 1 bytes, a tensor info at least 8 + 4 + 4 + 8.
  if (n_kv > c.left() / 13) fail(what, ": truncated: ", n_kv, " metadata entries cannot fit in ", c.left(), " bytes");

  for (uint64_t k = 0; k < n_kv; ++k) {
    std::string key = c.str("a metadata key");
    if (key.empty()) fail(what, ": metadata entry ", k, " has an empty key");
    const std::string where = "metadata '" + key + "'";
    GgufType t = c.type(where);
    GgufValue v = c.value(t, where, 0);
    if (out.kv.count(key)) fail(what, ": metadata key '", key, "' appears twice");
    out.kv_order.push_back(key);
    out.kv.emplace(std::move(key), std::move(v));
  }

  if (auto it = out.kv.find("general.alignment"); it != out.kv.end()) {
    const GgufValue& a = it->second;
    if (a.type != GgufType::UINT32)
      fail(what, ": general.alignment must be a u32, not ", gguf_type_name(a.type));
    if (a.u == 0 || (a.u & (a.u - 1)) != 0 || a.u > (1u << 20))
      fail(what, ": general.alignment ", a.u, " is not a power of two (up to 1 MiB)");
    out.info.alignment = a.u;
  }

  if (n_tensors > c.left() / 24)
    fail(what, ": truncated: ", n_tensors, " tensor infos cannot fit in ", c.left(), " bytes");
  struct Raw {
    std::string name;
    std::vector<uint64_t> ne;
    uint32_t type;
    uint64_t offset;
  };
  std::vector<Raw> raw;
  raw.reserve(size_t(n_tensors));
  for (uint64_t k = 0; k < n_tensors; ++k) {
    Raw r;
    r.name = c.str("a tensor name");
    const std::string where = "tensor '" + r.name + "'";
    const uint32_t nd = c.get<uint32_t>(where.c_str());
    if (nd == 0 || nd > lim.max_dims) fail(what, ": ", where, " has ", nd, " dimensions (1..", lim.max_dims, " allowed)");
    for (uint32_t d = 0; d < nd; ++d) r.ne.push_back(c.get<uint64_t>(where.c_str()));
    r.type = c.get<uint32_t>(where.c_str());
    r.offset = c.get<uint64_t>(where.c_str());
    raw.push_back(std::move(r));
  }

  const uint64_t align = out.info.alignment;
  const uint64_t header_end = c.pos();
  uint64_t data_off = (header_end + align - 1) / align * align;
  if (n_tensors > 0 && data_off > size)
    fail(what, ": truncated: the tensor data would start at ", data_off, " but the file has ", size, " bytes");
  data_off = std::min<uint64_t>(data_off, size);
  out.info.data_offset = data_off;
  const uint64_t data_size = size - data_off;

  std::map<std::string, size_t> seen;
  for (auto& r : raw) {
    const std::string where = cat(what, ": tensor '", r.name, "'");
    if (r.name.empty()) fail(what, ": a tensor has an empty name");
    if (seen.count(r.name)) fail(where, " appears twice");
    seen[r.name] = out.tensors.size();
    auto dt = dtype_from_ggml(r.type);
    if (!dt)
      fail(where, " has tensor type ", ggml_type_name(r.type), " (", r.type,
           "), which s1 cannot read (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K, I32, I64)");
    const uint64_t block = dtype_block(*dt);
    uint64_t numel = 1;
    for (uint64_t d : r.ne) {
      if (d == 0) fail(where, " has a zero dimension ", dims_str(r.ne));
      if (d > (uint64_t(1) << 40) || numel > (uint64_t(1) << 40) / d)
        fail(where, " has implausible dimensions ", dims_str(r.ne));
      numel *= d;
    }
    if (r.ne[0] % block != 0)
      fail(where, ": its rows of ", r.ne[0], " elements are not a whole number of ", dtype_name(*dt), " blocks (", block,
           ")");
    const uint64_t nbytes = numel / block * dtype_size(*dt);
    if (r.offset % align != 0)
      fail(where, ": data offset ", r.offset, " is not a multiple of the alignment ", align);
    if (r.offset > data_size || nbytes > data_size - r.offset)
      fail(where, ": data [", r.offset, ", ", r.offset + nbytes, ") lies past the end of the data section (", data_size,
           " bytes); truncated file?");
    TensorInfo t;
    t.name = r.name;
    t.dtype = *dt;
    for (auto it = r.ne.rbegin(); it != r.ne.rend(); ++it) t.shape.push_back(int64_t(*it));
    t.data = data + data_off + r.offset;
    t.nbytes = size_t(nbytes);
    t.file = what;
    out.tensors.push_back(std::move(t));
  }
  // Tensors must not overlap: sort the extents and check neighbours.
  std::vector<std::pair<uint64_t, uint64_t>> ext;
  for (size_t k = 0; k < raw.size(); ++k) ext.emplace_back(raw[k].offset, raw[k].offset + out.tensors[k].nbytes);
  std::sort(ext.begin(), ext.end());
  for (size_t k = 1; k < ext.size(); ++k)
    if (ext[k].first < ext[k - 1].second)
      fail(what, ": tensor data overlap: [", ext[k - 1].first, ", ", ext[k - 1].second, ") and [", ext[k].first, ", ",
           ext[k].second, ")");
  return out;
}

bool is_gguf_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  char m[4] = {};
  f.read(m, 4);
  return f.gcount() == 4 && std::memcmp(m, "GGUF", 4) == 0;
}

GgufFile::GgufFile(const std::string& path) : map_(path) {
  p_ = parse_gguf(map_.data(), map_.size(), path);
  for (size_t i = 0; i < p_.tensors.size(); ++i) tensor_index_[p_.tensors[i].name] = i;
}

const GgufValue* GgufFile::find(const std::string& key) const {
  auto it = p_.kv.find(key);
  return it == p_.kv.end() ? nullptr : &it->second;
}

const TensorInfo* GgufFile::find_tensor(const std::string& name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &p_.tensors[it->second];
}

std::optional<std::string> GgufFile::get_string(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (v->type != GgufType::STRING) fail(path(), ": metadata '", key, "' is a ", gguf_type_name(v->type), ", expected a string");
  return v->s;
}

std::optional<int64_t> GgufFile::get_int(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  int64_t x;
  if (!v->to_int(&x)) fail(path(), ": metadata '", key, "' is a ", gguf_type_name(v->type), ", expected an integer");
  return x;
}

std::optional<double> GgufFile::get_float(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (v->is_float()) return v->f;
  int64_t x;
  if (!v->to_int(&x)) fail(path(), ": metadata '", key, "' is a ", gguf_type_name(v->type), ", expected a number");
  return double(x);
}

std::optional<bool> GgufFile::get_bool(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (v->type != GgufType::BOOL) fail(path(), ": metadata '", key, "' is a ", gguf_type_name(v->type), ", expected a bool");
  return v->u != 0;
}

std::optional<std::vector<std::string>> GgufFile::get_string_array(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (v->type != GgufType::ARRAY || v->elem != GgufType::STRING)
    fail(path(), ": metadata '", key, "' must be an array of strings");
  return v->strs;
}

std::optional<std::vector<int64_t>> GgufFile::get_int_array(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  GgufValue probe;
  probe.type = v->elem;
  if (v->type != GgufType::ARRAY || !probe.is_integer()) fail(path(), ": metadata '", key, "' must be an array of integers");
  if (v->elem == GgufType::UINT64)
    for (int64_t x : v->ints)
      if (x < 0) fail(path(), ": metadata '", key, "' holds an integer out of range");
  return v->ints;
}

std::optional<std::vector<double>> GgufFile::get_float_array(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  GgufValue probe;
  probe.type = v->elem;
  if (v->type != GgufType::ARRAY || !(probe.is_integer() || probe.is_float()))
    fail(path(), ": metadata '", key, "' must be an array of numbers");
  if (probe.is_float()) return v->floats;
  std::vector<double> out;
  out.reserve(v->ints.size());
  for (int64_t x : v->ints) out.push_back(v->elem == GgufType::UINT64 ? double(uint64_t(x)) : double(x));
  return out;
}

// ---------------------------------------------------------------- writer

namespace {

struct Out {
  std::vector<uint8_t> b;
  template <typename T>
  void put(T v) {
    uint8_t tmp[sizeof(T)];
    std::memcpy(tmp, &v, sizeof(T));
    b.insert(b.end(), tmp, tmp + sizeof(T));
  }
  void str(const std::string& s) {
    put<uint64_t>(s.size());
    b.insert(b.end(), s.begin(), s.end());
  }
  void value(const GgufValue& v) {
    switch (v.type) {
      case GgufType::UINT8: put<uint8_t>(uint8_t(v.u)); break;
      case GgufType::INT8: put<int8_t>(int8_t(v.i)); break;
      case GgufType::UINT16: put<uint16_t>(uint16_t(v.u)); break;
      case GgufType::INT16: put<int16_t>(int16_t(v.i)); break;
      case GgufType::UINT32: put<uint32_t>(uint32_t(v.u)); break;
      case GgufType::INT32: put<int32_t>(int32_t(v.i)); break;
      case GgufType::UINT64: put<uint64_t>(v.u); break;
      case GgufType::INT64: put<int64_t>(v.i); break;
      case GgufType::FLOAT32: put<float>(float(v.f)); break;
      case GgufType::FLOAT64: put<double>(v.f); break;
      case GgufType::BOOL: put<uint8_t>(v.u ? 1 : 0); break;
      case GgufType::STRING: str(v.s); break;
      case GgufType::ARRAY: {
        put<uint32_t>(uint32_t(v.elem));
        put<uint64_t>(v.size());
        for (const auto& x : v.items) value(x);
        for (const auto& x : v.strs) str(x);
        GgufValue e;
        e.type = v.elem;
        for (int64_t x : v.ints) {
          e.i = x;
          e.u = uint64_t(x);
          value(e);
        }
        for (double x : v.floats) {
          e.f = x;
          value(e);
        }
        break;
      }
    }
  }
};

GgufValue scalar(GgufType t) {
  GgufValue v;
  v.type = t;
  return v;
}

}  // namespace

void GgufWriter::add(const std::string& key, GgufValue v) { kv_.emplace_back(key, std::move(v)); }
void GgufWriter::add_string(const std::string& key, const std::string& s) {
  GgufValue v = scalar(GgufType::STRING);
  v.s = s;
  add(key, std::move(v));
}
void GgufWriter::add_u32(const std::string& key, uint32_t x) {
  GgufValue v = scalar(GgufType::UINT32);
  v.u = x;
  add(key, std::move(v));
}
void GgufWriter::add_i32(const std::string& key, int32_t x) {
  GgufValue v = scalar(GgufType::INT32);
  v.i = x;
  add(key, std::move(v));
}
void GgufWriter::add_f32(const std::string& key, float x) {
  GgufValue v = scalar(GgufType::FLOAT32);
  v.f = x;
  add(key, std::move(v));
}
void GgufWriter::add_bool(const std::string& key, bool x) {
  GgufValue v = scalar(GgufType::BOOL);
  v.u = x;
  add(key, std::move(v));
}
void GgufWriter::add_string_array(const std::string& key, const std::vector<std::string>& xs) {
  GgufValue v = scalar(GgufType::ARRAY);
  v.elem = GgufType::STRING;
  v.strs = xs;
  add(key, std::move(v));
}
void GgufWriter::add_i32_array(const std::string& key, const std::vector<int32_t>& xs) {
  GgufValue v = scalar(GgufType::ARRAY);
  v.elem = GgufType::INT32;
  v.ints.assign(xs.begin(), xs.end());
  add(key, std::move(v));
}
void GgufWriter::add_tensor(GgufTensorToWrite t) {
  uint64_t n = 1;
  for (int64_t d : t.shape) n *= uint64_t(d);
  if (t.shape.empty() || t.shape.back() % int64_t(dtype_block(t.dtype)) != 0 ||
      n / dtype_block(t.dtype) * dtype_size(t.dtype) != t.nbytes)
    fail("GGUF writer: tensor '", t.name, "' has ", t.nbytes, " bytes, which does not match its shape and dtype ",
         dtype_name(t.dtype));
  tensors_.push_back(std::move(t));
}

// The header (magic .. tensor infos + padding) and each tensor's offset in the data section.
static std::vector<uint8_t> gguf_header(const std::vector<std::pair<std::string, GgufValue>>& kv,
                                        const std::vector<GgufTensorToWrite>& tensors, uint32_t alignment,
                                        std::vector<uint64_t>* offsets, uint64_t* data_bytes) {
  Out o;
  o.put<uint32_t>(kMagic);
  o.put<uint32_t>(3);
  o.put<uint64_t>(tensors.size());
  const bool has_align = std::any_of(kv.begin(), kv.end(), [](auto& e) { return e.first == "general.alignment"; });
  const bool add_align = alignment != 32 && !has_align;
  o.put<uint64_t>(kv.size() + (add_align ? 1 : 0));
  for (const auto& [k, v] : kv) {
    o.str(k);
    o.put<uint32_t>(uint32_t(v.type));
    o.value(v);
  }
  if (add_align) {
    o.str("general.alignment");
    o.put<uint32_t>(uint32_t(GgufType::UINT32));
    o.put<uint32_t>(alignment);
  }
  auto up = [&](uint64_t x) { return (x + alignment - 1) / alignment * alignment; };
  uint64_t off = 0;
  for (const auto& t : tensors) {
    o.str(t.name);
    o.put<uint32_t>(uint32_t(t.shape.size()));
    for (auto it = t.shape.rbegin(); it != t.shape.rend(); ++it) o.put<uint64_t>(uint64_t(*it));
    o.put<uint32_t>(ggml_from_dtype(t.dtype));
    o.put<uint64_t>(off);
    offsets->push_back(off);
    off = up(off + t.nbytes);
  }
  o.b.resize(size_t(up(o.b.size())), 0);
  *data_bytes = off;
  return o.b;
}

std::vector<uint8_t> GgufWriter::to_bytes() const {
  std::vector<uint64_t> offs;
  uint64_t data_bytes = 0;
  std::vector<uint8_t> b = gguf_header(kv_, tensors_, alignment_, &offs, &data_bytes);
  const size_t base = b.size();
  b.resize(base + size_t(data_bytes), 0);
  for (size_t k = 0; k < tensors_.size(); ++k)
    if (tensors_[k].nbytes) std::memcpy(b.data() + base + offs[k], tensors_[k].data, tensors_[k].nbytes);
  return b;
}

void GgufWriter::write(const std::string& path) const {
  // Header in memory, tensor bytes streamed from where they are.
  std::vector<uint64_t> offs;
  uint64_t data_bytes = 0;
  const std::vector<uint8_t> head = gguf_header(kv_, tensors_, alignment_, &offs, &data_bytes);
  const std::string tmp = path + ".partial";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) fail(tmp, ": cannot create");
  bool ok = std::fwrite(head.data(), 1, head.size(), f) == head.size();
  static const uint8_t zeros[256] = {};
  uint64_t at = 0;
  for (size_t k = 0; k < tensors_.size() && ok; ++k) {
    for (uint64_t pad = offs[k] - at; ok && pad > 0;) {
      const size_t w = size_t(std::min<uint64_t>(pad, sizeof zeros));
      ok = std::fwrite(zeros, 1, w, f) == w;
      pad -= w;
    }
    ok = ok && (tensors_[k].nbytes == 0 || std::fwrite(tensors_[k].data, 1, tensors_[k].nbytes, f) == tensors_[k].nbytes);
    at = offs[k] + tensors_[k].nbytes;
  }
  for (uint64_t pad = data_bytes - at; ok && pad > 0;) {
    const size_t w = size_t(std::min<uint64_t>(pad, sizeof zeros));
    ok = std::fwrite(zeros, 1, w, f) == w;
    pad -= w;
  }
  ok = std::fclose(f) == 0 && ok;
  if (!ok) {
    std::remove(tmp.c_str());
    fail(tmp, ": write failed (disk full?)");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) fail(path, ": cannot rename from ", tmp);
}

}  // namespace s1
