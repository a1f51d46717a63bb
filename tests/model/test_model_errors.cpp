// Bad checkpoints: every failure is one s1::Error that names the file or tensor.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/mapped_file.h"
#include "formats/safetensors.h"
#include "model/model.h"

namespace s1 {
namespace {
namespace fs = std::filesystem;

const std::string kModel = std::string(S1_TEST_DATA) + "/reference/models/qwen2-tied/f32";

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

// A scratch copy of the fixture model that a test may corrupt.
struct TempModel {
  fs::path dir;
  TempModel() {
    dir = fs::temp_directory_path() / ("s1-test-" + std::to_string(::getpid()) + "-" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
    for (auto& e : fs::directory_iterator(kModel)) fs::copy_file(e.path(), dir / e.path().filename());
  }
  ~TempModel() { fs::remove_all(dir); }
  std::string st() const { return (dir / "model.safetensors").string(); }
  void write(const std::string& file, const std::string& bytes) const {
    std::ofstream(dir / file, std::ios::binary | std::ios::trunc) << bytes;
  }
};

TEST(ModelErrors, MissingFolder) {
  EXPECT_NE(error_of([] { Model::load("/nonexistent/model", make_cpu_backend(1)); }).find("no such file"),
            std::string::npos);
}

TEST(ModelErrors, TruncatedSafetensors) {
  TempModel m;
  std::string bytes = read_text_file(m.st());
  m.write("model.safetensors", bytes.substr(0, bytes.size() / 2));
  std::string e = error_of([&] { Model::load(m.dir.string(), make_cpu_backend(1)); });
  EXPECT_NE(e.find("model.safetensors"), std::string::npos) << e;
  EXPECT_NE(e.find("past the end"), std::string::npos) << e;
}

TEST(ModelErrors, HeaderLengthLies) {
  TempModel m;
  std::string bytes = read_text_file(m.st());
  bytes[7] = char(0x7f);  // absurd header length
  m.write("model.safetensors", bytes);
  EXPECT_NE(error_of([&] { Model::load(m.dir.string(), make_cpu_backend(1)); }).find("header length"), std::string::npos);
  m.write("model.safetensors", std::string("abc"));
  EXPECT_NE(error_of([&] { Model::load(m.dir.string(), make_cpu_backend(1)); }).find("not a safetensors file"),
            std::string::npos);
}

TEST(ModelErrors, UnknownDtypeAndBadShape) {
  std::string header = R"({"a":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}})";
  std::string img(8, '\0');
  img[0] = char(header.size());
  img += header + "xx";
  auto e = error_of([&] { parse_safetensors(reinterpret_cast<const uint8_t*>(img.data()), img.size(), "x.safetensors"); });
  EXPECT_NE(e.find("unsupported dtype F8_E4M3"), std::string::npos) << e;
  EXPECT_NE(e.find("'a'"), std::string::npos) << e;

  header = R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})";
  img = std::string(8, '\0');
  img[0] = char(header.size());
  img += header + "12345678";
  e = error_of([&] { parse_safetensors(reinterpret_cast<const uint8_t*>(img.data()), img.size(), "x.safetensors"); });
  EXPECT_NE(e.find("span 8"), std::string::npos) << e;
}

TEST(ModelErrors, ShapeContradictsConfig) {
  TempModel m;
  std::string cfg = read_text_file((m.dir / "config.json").string());
  auto pos = cfg.find("\"intermediate_size\": 128");
  ASSERT_NE(pos, std::string::npos);
  cfg.replace(pos, 24, "\"intermediate_size\": 96");
  m.write("config.json", cfg);
  std::string e = error_of([&] { Model::load(m.dir.string(), make_cpu_backend(1)); });
  EXPECT_NE(e.find("gate_proj"), std::string::npos) << e;
  EXPECT_NE(e.find("config.json implies"), std::string::npos) << e;
}

TEST(ModelErrors, MissingTensor) {
  TempModel m;
  std::string cfg = read_text_file((m.dir / "config.json").string());
  auto pos = cfg.find("\"num_hidden_layers\": 2");
  cfg.replace(pos, 22, "\"num_hidden_layers\": 3");
  m.write("config.json", cfg);
  std::string e = error_of([&] { Model::load(m.dir.string(), make_cpu_backend(1)); });
  EXPECT_NE(e.find("missing tensor 'model.layers.2."), std::string::npos) << e;
}

TEST(ModelErrors, UnsupportedArchitecture) {
  TempModel m;
  m.write("config.json", R"({"architectures":["MistralForCausalLM"],"model_type":"mistral"})");
  EXPECT_NE(error_of([&] { Model::load(m.dir.string(), make_cpu_backend(1)); }).find("MistralForCausalLM"),
            std::string::npos);
}

TEST(ModelErrors, ContextOverflowAndBadIds) {
  auto model = Model::load(kModel, make_cpu_backend(1));
  KVCache kv(*model, 4);
  std::vector<float> logits(model->config().vocab_size);
  std::vector<int32_t> five = {1, 2, 3, 4, 5};
  EXPECT_NE(error_of([&] { model->forward(kv, five, logits.data()); }).find("context full"), std::string::npos);
  std::vector<int32_t> bad = {100000};
  EXPECT_NE(error_of([&] { model->forward(kv, bad, logits.data()); }).find("outside the vocabulary"), std::string::npos);
}

}  // namespace
}  // namespace s1
