// The GGUF reader: llama.cpp's vocab-only GPT-2 file, a written file with every value
// and tensor type, and corrupted copies (truncated, bad magic, unknown type, misaligned
// offsets, absurd counts and lengths): each a clear s1::Error, never a crash.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/error.h"
#include "formats/gguf.h"

namespace s1 {
namespace {

const std::string kData = S1_TEST_DATA;
const std::string kGpt2 = kData + "/llama.cpp-tokenizer/ggml-vocab-gpt-2.gguf";

template <typename F>
void expect_error(F&& f, std::initializer_list<std::string> parts) {
  try {
    f();
    ADD_FAILURE() << "expected an s1::Error mentioning " << *parts.begin();
  } catch (const Error& e) {
    const std::string msg = e.what();
    for (const auto& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "message: " << msg << "\nmissing: " << p;
  }
}

GgufParsed parse(const std::vector<uint8_t>& b) { return parse_gguf(b.data(), b.size(), "test.gguf"); }

TEST(GgufReader, Gpt2VocabFile) {
  GgufFile f(kGpt2);
  EXPECT_EQ(f.info().version, 3u);
  EXPECT_EQ(f.tensors().size(), 0u);
  EXPECT_EQ(f.keys().size(), 16u);
  EXPECT_EQ(f.get_string("general.architecture"), "gpt2");
  EXPECT_EQ(f.get_int("gpt2.block_count"), 12);
  EXPECT_EQ(f.get_int("gpt2.embedding_length"), 768);
  EXPECT_EQ(f.get_string("tokenizer.ggml.model"), "gpt2");
  EXPECT_EQ(f.get_string("tokenizer.ggml.pre"), "gpt-2");
  EXPECT_EQ(f.get_int("tokenizer.ggml.bos_token_id"), 50256);
  EXPECT_EQ(f.get_int("tokenizer.ggml.eos_token_id"), 50256);
  auto tokens = f.get_string_array("tokenizer.ggml.tokens");
  ASSERT_TRUE(tokens);
  EXPECT_EQ(tokens->size(), 50257u);
  EXPECT_EQ((*tokens)[50256], "<|endoftext|>");
  EXPECT_EQ(f.get_string_array("tokenizer.ggml.merges")->size(), 50000u);
  auto types = f.get_int_array("tokenizer.ggml.token_type");
  ASSERT_TRUE(types);
  EXPECT_EQ(types->size(), 50257u);
  EXPECT_EQ((*types)[50256], 3);
  EXPECT_EQ(f.find("tokenizer.ggml.token_type")->elem, GgufType::INT32);
  EXPECT_TRUE(f.get_float("gpt2.attention.layer_norm_epsilon").has_value());
  EXPECT_FALSE(f.get_string("no.such.key").has_value());
  expect_error([&] { f.get_string("gpt2.block_count"); }, {"gpt2.block_count", "expected a string"});
  expect_error([&] { f.get_int("general.architecture"); }, {"general.architecture", "expected an integer"});
  expect_error([&] { f.get_string_array("tokenizer.ggml.token_type"); }, {"array of strings"});
}

GgufValue num(GgufType t, int64_t i, uint64_t u = 0, double f = 0) {
  GgufValue v;
  v.type = t;
  v.i = i;
  v.u = u;
  v.f = f;
  return v;
}

// A small file with every metadata type and one tensor of each dtype.
struct Sample {
  std::vector<std::vector<uint8_t>> data;
  GgufWriter w;
  explicit Sample(uint32_t alignment = 32) {
    w.set_alignment(alignment);
    w.add("u8", num(GgufType::UINT8, 0, 200));
    w.add("i8", num(GgufType::INT8, -100));
    w.add("u16", num(GgufType::UINT16, 0, 60000));
    w.add("i16", num(GgufType::INT16, -30000));
    w.add("u32", num(GgufType::UINT32, 0, 4000000000u));
    w.add("i32", num(GgufType::INT32, -2000000000));
    w.add("u64", num(GgufType::UINT64, 0, 1ull << 60));
    w.add("i64", num(GgufType::INT64, -(1ll << 60)));
    w.add("f32", num(GgufType::FLOAT32, 0, 0, 0.5));
    w.add("f64", num(GgufType::FLOAT64, 0, 0, 1e-300));
    w.add_bool("bool", true);
    w.add_string("str", "héllo");
    w.add_string_array("strs", {"a", "", "ccc"});
    w.add_i32_array("ints", {1, -2, 3});
    GgufValue nested;
    nested.type = GgufType::ARRAY;
    nested.elem = GgufType::ARRAY;
    for (int k = 0; k < 2; ++k) {
      GgufValue inner;
      inner.type = GgufType::ARRAY;
      inner.elem = GgufType::FLOAT32;
      inner.floats = {double(k), k + 0.25};
      nested.items.push_back(inner);
    }
    w.add("nested", nested);
    const DType types[] = {DType::F32,  DType::F16,  DType::BF16, DType::Q8_0, DType::Q4_0, DType::Q4_1, DType::Q5_0,
                           DType::Q5_1, DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::I32};
    for (DType t : types) {
      const int64_t rows = 3, cols = int64_t(dtype_block(t)) * 2;
      const size_t n = size_t(rows * cols) / dtype_block(t) * dtype_size(t);
      data.emplace_back(n);
      for (size_t i = 0; i < n; ++i) data.back()[i] = uint8_t(i * 7 + size_t(t));
      w.add_tensor({std::string("t.") + dtype_name(t), t, {rows, cols}, data.back().data(), n});
    }
  }
};

TEST(GgufReader, WriterRoundTripEveryType) {
  for (uint32_t align : {32u, 64u, 1u}) {
    Sample s(align);
    auto bytes = s.w.to_bytes();
    GgufParsed p = parse(bytes);
    EXPECT_EQ(p.info.version, 3u);
    EXPECT_EQ(p.info.alignment, align);
    EXPECT_EQ(p.info.data_offset % align, 0u);
    const auto& kv = p.kv;
    EXPECT_EQ(kv.at("u8").u, 200u);
    EXPECT_EQ(kv.at("i8").i, -100);
    EXPECT_EQ(kv.at("u16").u, 60000u);
    EXPECT_EQ(kv.at("i16").i, -30000);
    EXPECT_EQ(kv.at("u32").u, 4000000000u);
    EXPECT_EQ(kv.at("i32").i, -2000000000);
    EXPECT_EQ(kv.at("u64").u, 1ull << 60);
    EXPECT_EQ(kv.at("i64").i, -(1ll << 60));
    EXPECT_EQ(kv.at("f32").f, 0.5);
    EXPECT_EQ(kv.at("f64").f, 1e-300);
    EXPECT_EQ(kv.at("bool").u, 1u);
    EXPECT_EQ(kv.at("str").s, "héllo");
    EXPECT_EQ(kv.at("strs").strs, (std::vector<std::string>{"a", "", "ccc"}));
    EXPECT_EQ(kv.at("ints").ints, (std::vector<int64_t>{1, -2, 3}));
    EXPECT_EQ(kv.at("ints").size(), 3u);
    ASSERT_EQ(kv.at("nested").items.size(), 2u);
    EXPECT_EQ(kv.at("nested").items[1].floats, (std::vector<double>{1, 1.25}));
    EXPECT_EQ(p.kv_order.front(), "u8");
    ASSERT_EQ(p.tensors.size(), s.data.size());
    for (size_t k = 0; k < p.tensors.size(); ++k) {
      const auto& t = p.tensors[k];
      EXPECT_EQ(t.shape, (std::vector<int64_t>{3, int64_t(dtype_block(t.dtype)) * 2})) << t.name;
      EXPECT_EQ(size_t(t.data - bytes.data()) % align, 0u) << t.name;
      ASSERT_EQ(t.nbytes, s.data[k].size());
      EXPECT_EQ(std::memcmp(t.data, s.data[k].data(), t.nbytes), 0) << t.name;
    }
  }
}

TEST(GgufReader, FileGetters) {
  Sample s;
  const std::string path = ::testing::TempDir() + "/s1-gguf-getters.gguf";
  s.w.write(path);
  GgufFile f(path);
  EXPECT_EQ(f.get_int("u64"), int64_t(1) << 60);
  EXPECT_EQ(f.get_float("i32"), -2000000000.0);
  EXPECT_EQ(f.get_bool("bool"), true);
  EXPECT_EQ(f.get_int_array("ints"), (std::vector<int64_t>{1, -2, 3}));
  EXPECT_EQ(f.get_float_array("ints"), (std::vector<double>{1, -2, 3}));
  ASSERT_NE(f.find_tensor("t.Q4_K"), nullptr);
  EXPECT_EQ(f.find_tensor("t.Q4_K")->dtype, DType::Q4_K);
  EXPECT_TRUE(is_gguf_file(path));
  EXPECT_FALSE(is_gguf_file(kData + "/llama.cpp-tokenizer/ggml-vocab-gpt-2.gguf.inp"));
  std::remove(path.c_str());
}

// Byte position just after the first occurrence of `needle` in b.
size_t after(const std::vector<uint8_t>& b, const std::string& needle) {
  for (size_t i = 0; i + needle.size() <= b.size(); ++i)
    if (std::memcmp(b.data() + i, needle.data(), needle.size()) == 0) return i + needle.size();
  ADD_FAILURE() << "not found: " << needle;
  return 0;
}
template <typename T>
void poke(std::vector<uint8_t>& b, size_t at, T v) {
  std::memcpy(b.data() + at, &v, sizeof(T));
}

// A file with one 2-D Q8_0 tensor "w" (ne = {64, 2}) after a couple of metadata keys.
std::vector<uint8_t> small_file() {
  static std::vector<uint8_t> blocks(4 * 34, 1);
  GgufWriter w;
  w.add_string("general.architecture", "llama");
  w.add_i32_array("arr", {1, 2, 3});
  w.add_tensor({"w", DType::Q8_0, {2, 64}, blocks.data(), blocks.size()});
  return w.to_bytes();
}
// Offsets in small_file() of the tensor info fields of "w".
struct WInfo {
  size_t ndims, ne0, ne1, type, offset;
};
WInfo w_info(const std::vector<uint8_t>& b) {
  // the tensor name is the last string "w" of the header: u64 length 1, then 'w'
  const std::string key = std::string("\x01\0\0\0\0\0\0\0w", 9);
  size_t p = after(b, key);
  return {p, p + 4, p + 12, p + 20, p + 24};
}

TEST(GgufReader, EveryTruncationIsAnError) {
  const auto full = small_file();
  const GgufParsed p = parse(full);
  // The last tensor ends before the file's trailing alignment padding: a file cut inside
  // that padding still holds every tensor; any shorter prefix must be refused.
  const size_t needed = p.info.data_offset + p.tensors.back().nbytes;
  ASSERT_LT(needed, full.size());
  for (size_t n = 0; n < full.size(); ++n) {
    std::vector<uint8_t> b(full.begin(), full.begin() + n);
    if (n < needed) EXPECT_THROW(parse(b), Error) << "prefix of " << n << " bytes";
    else EXPECT_NO_THROW(parse(b)) << "prefix of " << n << " bytes";
  }
  std::vector<uint8_t> b(full.begin(), full.begin() + needed - 1);
  expect_error([&] { parse(b); }, {"test.gguf", "tensor 'w'", "past the end"});
  b.assign(full.begin(), full.begin() + 30);
  expect_error([&] { parse(b); }, {"test.gguf", "truncated"});
}

TEST(GgufReader, BadMagicAndVersion) {
  auto b = small_file();
  b[0] = 'X';
  expect_error([&] { parse(b); }, {"test.gguf", "not a GGUF file", "magic"});
  b = small_file();
  poke<uint32_t>(b, 4, 1);
  expect_error([&] { parse(b); }, {"version 1"});
  poke<uint32_t>(b, 4, 7);
  expect_error([&] { parse(b); }, {"unsupported GGUF version 7"});
  poke<uint32_t>(b, 4, 0x03000000u);
  expect_error([&] { parse(b); }, {"big-endian"});
  std::vector<uint8_t> tiny = {'G', 'G'};
  expect_error([&] { parse(tiny); }, {"not a GGUF file"});
}

TEST(GgufReader, UnknownTensorType) {
  auto b = small_file();
  const WInfo wi = w_info(b);
  poke<uint32_t>(b, wi.type, 10);  // Q2_K: a real ggml type s1 does not read
  expect_error([&] { parse(b); }, {"tensor 'w'", "Q2_K", "cannot read"});
  poke<uint32_t>(b, wi.type, 9999);
  expect_error([&] { parse(b); }, {"tensor 'w'", "unknown (9999)"});
}

TEST(GgufReader, MisalignedAndOutOfRangeOffsets) {
  auto b = small_file();
  const WInfo wi = w_info(b);
  poke<uint64_t>(b, wi.offset, 4);
  expect_error([&] { parse(b); }, {"tensor 'w'", "not a multiple of the alignment 32"});
  poke<uint64_t>(b, wi.offset, 1ull << 62);
  expect_error([&] { parse(b); }, {"tensor 'w'", "past the end"});
}

TEST(GgufReader, AbsurdCountsAndLengths) {
  auto b = small_file();
  poke<uint64_t>(b, 16, 1ull << 40);  // metadata count
  expect_error([&] { parse(b); }, {"implausible metadata count"});
  b = small_file();
  poke<uint64_t>(b, 16, 5000);  // plausible count, but the entries cannot fit
  expect_error([&] { parse(b); }, {"truncated"});
  b = small_file();
  poke<uint64_t>(b, 8, 1ull << 50);  // tensor count
  expect_error([&] { parse(b); }, {"implausible tensor count"});
  b = small_file();
  poke<uint64_t>(b, 8, 100000);
  expect_error([&] { parse(b); }, {"tensor infos cannot fit"});
  b = small_file();
  poke<uint64_t>(b, 24, ~0ull);  // length of the first key
  expect_error([&] { parse(b); }, {"implausible string length"});
  b = small_file();
  poke<uint64_t>(b, 24, 1ull << 20);  // plausible length, past the end of the file
  expect_error([&] { parse(b); }, {"truncated"});
  // Array count: after key "arr" and its type (9) and element type (5)
  b = small_file();
  size_t p = after(b, "arr") + 8;
  poke<uint64_t>(b, p, 1ull << 40);
  expect_error([&] { parse(b); }, {"metadata 'arr'", "implausible array length"});
  poke<uint64_t>(b, p, 1ull << 24);
  expect_error([&] { parse(b); }, {"metadata 'arr'", "truncated"});
  // Unknown value / element types
  b = small_file();
  poke<uint32_t>(b, after(b, "arr") + 4, 13);
  expect_error([&] { parse(b); }, {"metadata 'arr'", "unknown value type 13"});
  b = small_file();
  poke<uint32_t>(b, after(b, "arr"), 77);
  expect_error([&] { parse(b); }, {"metadata 'arr'", "unknown value type 77"});
  // Tensor dimensions
  b = small_file();
  WInfo wi = w_info(b);
  poke<uint32_t>(b, wi.ndims, 9);
  expect_error([&] { parse(b); }, {"tensor 'w'", "9 dimensions"});
  b = small_file();
  poke<uint64_t>(b, wi.ne1, 1ull << 50);
  expect_error([&] { parse(b); }, {"tensor 'w'", "implausible dimensions"});
  b = small_file();
  poke<uint64_t>(b, wi.ne0, 48);
  expect_error([&] { parse(b); }, {"tensor 'w'", "not a whole number of Q8_0 blocks"});
  b = small_file();
  poke<uint64_t>(b, wi.ne1, 0);
  expect_error([&] { parse(b); }, {"tensor 'w'", "zero dimension"});
  b = small_file();
  poke<uint64_t>(b, wi.ne1, 3);  // one row more than the data holds
  expect_error([&] { parse(b); }, {"tensor 'w'", "past the end"});
}

TEST(GgufReader, StructuralErrors) {
  std::vector<uint8_t> blocks(2 * 34, 0);
  {
    GgufWriter w;
    w.add_string("k", "a");
    w.add_string("k", "b");
    expect_error([&] { parse(w.to_bytes()); }, {"'k' appears twice"});
  }
  {
    GgufWriter w;
    w.add_tensor({"x", DType::Q8_0, {2, 32}, blocks.data(), blocks.size()});
    w.add_tensor({"x", DType::Q8_0, {2, 32}, blocks.data(), blocks.size()});
    expect_error([&] { parse(w.to_bytes()); }, {"tensor 'x' appears twice"});
  }
  {
    GgufWriter w;
    w.add("general.alignment", num(GgufType::UINT32, 0, 48));
    expect_error([&] { parse(w.to_bytes()); }, {"general.alignment 48", "power of two"});
  }
  {
    GgufWriter w;
    w.add_string("general.alignment", "32");
    expect_error([&] { parse(w.to_bytes()); }, {"general.alignment must be a u32"});
  }
  {
    GgufWriter w;
    GgufValue b;
    b.type = GgufType::BOOL;
    w.add("flag", b);
    auto bytes = w.to_bytes();
    bytes[after(bytes, "flag") + 4] = 2;
    expect_error([&] { parse(bytes); }, {"metadata 'flag'", "neither 0 nor 1"});
  }
  {
    // nested arrays deeper than the limit
    GgufValue v;
    v.type = GgufType::ARRAY;
    v.elem = GgufType::UINT8;
    v.ints = {1};
    for (int d = 0; d < 6; ++d) {
      GgufValue a;
      a.type = GgufType::ARRAY;
      a.elem = GgufType::ARRAY;
      a.items = {v};
      v = a;
    }
    GgufWriter w;
    w.add("deep", v);
    expect_error([&] { parse(w.to_bytes()); }, {"metadata 'deep'", "nested deeper"});
  }
  {
    // two tensors whose data overlap
    GgufWriter w;
    w.add_tensor({"a", DType::Q8_0, {2, 32}, blocks.data(), blocks.size()});
    w.add_tensor({"b", DType::Q8_0, {2, 32}, blocks.data(), blocks.size()});
    auto bytes = w.to_bytes();
    const std::string key = std::string("\x01\0\0\0\0\0\0\0b", 9);
    poke<uint64_t>(bytes, after(bytes, key) + 4 + 16 + 4, 64);  // b's offset: inside a (68 bytes)
    expect_error([&] { parse(bytes); }, {"overlap"});
  }
}

}  // namespace
}  // namespace s1
