// GGUF, llama.cpp's single-file model format (versions 2 and 3, little-endian):
//
//   magic "GGUF" | u32 version | u64 tensor_count | u64 kv_count
//   kv_count x   { string key | u32 value_type | value }
//   tensor_count x { string name | u32 n_dims | u64 ne[n_dims] | u32 ggml_type | u64 offset }
//   padding to `general.alignment` (default 32) | tensor data
//
// A string is a u64 byte length and the bytes (no terminator). A value is a scalar
// (u8 i8 u16 i16 u32 i32 f32 bool u64 i64 f64), a string, or an array: u32 element
// type, u64 count, the elements (arrays may nest). ne[0] is the fastest-varying
// dimension, so a [rows][cols] matrix is stored with ne = {cols, rows}; TensorInfo.shape
// is the row-major order (reversed). Offsets are relative to the start of the data
// section and multiples of the alignment.
//
// Everything is checked before it is used: counts and string lengths against the
// bytes that remain, tensor extents against the file, types against the formats s1
// reads. Bad input is an s1::Error naming the file and the field; never a crash.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/mapped_file.h"
#include "formats/safetensors.h"  // TensorInfo

namespace s1 {

enum class GgufType : uint32_t {
  UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6, BOOL = 7,
  STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12,
};
const char* gguf_type_name(GgufType t);

// ggml tensor type ids (the subset s1 reads, plus names for the error messages).
// F32 0, F16 1, Q4_0 2, Q4_1 3, Q5_0 6, Q5_1 7, Q8_0 8, Q4_K 12, Q5_K 13, Q6_K 14,
// I32 26, I64 27, BF16 30.
std::optional<DType> dtype_from_ggml(uint32_t ggml_type);
uint32_t ggml_from_dtype(DType t);  // throws for dtypes GGUF cannot hold
const char* ggml_type_name(uint32_t ggml_type);  // "Q2_K", "IQ4_XS", ... or "unknown"

struct GgufValue {
  GgufType type = GgufType::UINT8;
  GgufType elem = GgufType::UINT8;  // ARRAY: element type
  uint64_t u = 0;                   // unsigned integers and bool
  int64_t i = 0;                    // signed integers
  double f = 0;                     // FLOAT32 / FLOAT64
  std::string s;                    // STRING
  // ARRAY elements, by element type: nested arrays as values; strings as strings;
  // integers and bools packed as int64 (u64 keeps its bit pattern); floats as double.
  // Packed, so that a long array costs about what its bytes in the file cost.
  std::vector<GgufValue> items;
  std::vector<std::string> strs;
  std::vector<int64_t> ints;
  std::vector<double> floats;

  size_t size() const { return items.size() + strs.size() + ints.size() + floats.size(); }  // ARRAY length
  bool is_integer() const;
  bool is_signed() const;  // INT8 .. INT64
  bool is_float() const { return type == GgufType::FLOAT32 || type == GgufType::FLOAT64; }
  // Integer value of any integer type (u64 above INT64_MAX fails); false when not an integer.
  bool to_int(int64_t* out) const;
  std::string to_string() const;  // for `s1 info` / debugging (arrays abbreviated)
};

struct GgufFileInfo {
  uint32_t version = 0;
  uint64_t alignment = 32;
  uint64_t data_offset = 0;  // start of the tensor data section in the file
};

// Limits on what a well-formed file can hold; anything beyond is a corrupt or hostile
// count, refused before anything is allocated for it.
struct GgufLimits {
  uint64_t max_kv = 1u << 16;
  uint64_t max_tensors = 1u << 20;
  uint64_t max_string = 64u << 20;       // chat templates are a few KB; a vocabulary entry < 1 KB
  uint64_t max_array = 1u << 26;         // vocabularies: ~150k entries
  uint32_t max_depth = 4;                // nested arrays
  uint32_t max_dims = 4;                 // GGML_MAX_DIMS
};

struct GgufParsed {
  GgufFileInfo info;
  std::map<std::string, GgufValue> kv;
  std::vector<std::string> kv_order;  // keys in file order
  std::vector<TensorInfo> tensors;    // file order; data points into the image
};

// Parses and validates a whole GGUF image held in memory. `what` names the file in
// errors. Throws s1::Error; never reads out of bounds.
GgufParsed parse_gguf(const uint8_t* data, size_t size, const std::string& what, const GgufLimits& lim = {});

// True when the file starts with the GGUF magic (false for folders / unreadable files).
bool is_gguf_file(const std::string& path);

class GgufFile {
 public:
  explicit GgufFile(const std::string& path);
  const std::string& path() const { return map_.path(); }
  const GgufFileInfo& info() const { return p_.info; }
  const std::vector<TensorInfo>& tensors() const { return p_.tensors; }
  const std::map<std::string, GgufValue>& metadata() const { return p_.kv; }
  const std::vector<std::string>& keys() const { return p_.kv_order; }

  const GgufValue* find(const std::string& key) const;
  const TensorInfo* find_tensor(const std::string& name) const;
  // Typed getters: nullopt when the key is absent; an s1::Error naming the key when it
  // has the wrong type.
  std::optional<std::string> get_string(const std::string& key) const;
  std::optional<int64_t> get_int(const std::string& key) const;
  std::optional<double> get_float(const std::string& key) const;  // any float or integer
  std::optional<bool> get_bool(const std::string& key) const;
  std::optional<std::vector<std::string>> get_string_array(const std::string& key) const;
  std::optional<std::vector<int64_t>> get_int_array(const std::string& key) const;
  std::optional<std::vector<double>> get_float_array(const std::string& key) const;

 private:
  MappedFile map_;
  GgufParsed p_;
  std::map<std::string, size_t> tensor_index_;
};

// Writes a GGUF v3 file: metadata (in the order given) then tensors, every tensor's
// data aligned to `alignment`. For s1 convert and the tests. Tensor shapes are
// row-major ([rows][cols]); the writer reverses them into ne order. Written to
// PATH.partial and renamed at the end.
struct GgufTensorToWrite {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  const void* data;
  size_t nbytes;
};
class GgufWriter {
 public:
  void add(const std::string& key, GgufValue v);
  void add_string(const std::string& key, const std::string& v);
  void add_u32(const std::string& key, uint32_t v);
  void add_i32(const std::string& key, int32_t v);
  void add_f32(const std::string& key, float v);
  void add_bool(const std::string& key, bool v);
  void add_string_array(const std::string& key, const std::vector<std::string>& v);
  void add_i32_array(const std::string& key, const std::vector<int32_t>& v);
  void add_tensor(GgufTensorToWrite t);  // the bytes must stay valid until write()
  void set_alignment(uint32_t a) { alignment_ = a; }
  // The whole file as bytes (tests) or written to disk.
  std::vector<uint8_t> to_bytes() const;
  void write(const std::string& path) const;

 private:
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::vector<GgufTensorToWrite> tensors_;
  uint32_t alignment_ = 32;
};

}  // namespace s1
