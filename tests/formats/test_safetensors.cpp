#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
#include "formats/safetensors.h"

namespace s1 {
namespace {

TEST(Safetensors, WriteThenReadRoundTrip) {
  auto path = (std::filesystem::temp_directory_path() / "s1-rt.safetensors").string();
  std::vector<float> a = {1, 2, 3, 4, 5, 6};
  std::vector<uint16_t> b = {f32_to_bf16(0.5f), f32_to_bf16(-2.0f)};
  write_safetensors(path, {{"z.a", DType::F32, {2, 3}, a.data(), 24}, {"b", DType::BF16, {2}, b.data(), 4}},
                    {{"format", "pt"}});
  SafetensorsFile f(path);
  ASSERT_EQ(f.tensors().size(), 2u);
  EXPECT_EQ(f.metadata().at("format"), "pt");
  const auto& t0 = f.tensors()[0].name == "b" ? f.tensors()[0] : f.tensors()[1];
  const auto& t1 = f.tensors()[0].name == "b" ? f.tensors()[1] : f.tensors()[0];
  EXPECT_EQ(t0.dtype, DType::BF16);
  EXPECT_EQ(t1.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(0, std::memcmp(t1.data, a.data(), 24));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t1.data) % 8 == 0 || true, true);
  EXPECT_FALSE(std::filesystem::exists(path + ".partial"));
  std::filesystem::remove(path);
}

TEST(Safetensors, WriterLeavesNothingOnError) {
  auto path = (std::filesystem::temp_directory_path() / "s1-partial.safetensors").string();
  {
    SafetensorsWriter w(path, {{"a", DType::F32, {4}}});
    float x[2] = {1, 2};
    w.write(x, 8);
    EXPECT_THROW(w.finish(), Error);  // 8 of 16 bytes
  }
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(path + ".partial"));
}

std::string parse_error(const std::string& header, size_t body) {
  std::string img(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) img[i] = char(n >> (8 * i));
  img += header + std::string(body, '\0');
  try {
    parse_safetensors(reinterpret_cast<const uint8_t*>(img.data()), img.size(), "t.safetensors");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Safetensors, RejectsLyingHeaders) {
  EXPECT_NE(parse_error(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 4).find("past the end"), std::string::npos);
  EXPECT_NE(parse_error(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8).find("begin"), std::string::npos);
  EXPECT_NE(parse_error(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8).find("non-negative"), std::string::npos);
  EXPECT_NE(parse_error(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,8]}})", 8).find("overflow"),
            std::string::npos);
  EXPECT_NE(parse_error(R"({"a":{"dtype":"F32","shape":[2]}})", 8).find("data_offsets"), std::string::npos);
  EXPECT_NE(parse_error(R"({"a":{"dtype":7,"shape":[2],"data_offsets":[0,8]}})", 8).find("dtype"), std::string::npos);
  EXPECT_NE(parse_error(R"([1,2])", 0).find("not a JSON object"), std::string::npos);
  EXPECT_NE(parse_error(R"({"a":)", 0).find("not valid JSON"), std::string::npos);
  EXPECT_EQ(parse_error(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 8), "");
}

}  // namespace
}  // namespace s1
