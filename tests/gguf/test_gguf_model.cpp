// GGUF files as models and vocabularies:
//  - llama.cpp's vocab-only GPT-2 GGUF tokenizes its 46 .inp strings exactly as its .out
//    vectors say, through the library and through `s1 tokenize -m FILE.gguf`;
//  - the five tiny transformers reference models, written as GGUF (llama.cpp's names and,
//    for llama, its permuted Q/K rows) and loaded back, still match transformers' logits;
//  - quantised exports load and stay close; bad model files give clear errors.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "backend/cpu/q8_interleaved.h"
#include "core/error.h"
#include "core/mapped_file.h"
#include "formats/safetensors.h"
#include "model/gguf_model.h"

namespace s1 {
namespace {
namespace fs = std::filesystem;

const std::string kData = S1_TEST_DATA;
const std::string kGpt2 = kData + "/llama.cpp-tokenizer/ggml-vocab-gpt-2.gguf";
const std::string kModels = kData + "/reference/models/";

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

struct Case {
  std::string text;
  std::vector<int32_t> ids;
};
std::vector<Case> gpt2_cases() {
  const std::string inp = read_text_file(kGpt2 + ".inp");
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::istringstream out(read_text_file(kGpt2 + ".out"));
  std::vector<Case> cases;
  size_t pos = 0;
  for (std::string line; std::getline(out, line);) {
    size_t e = inp.find(sep, pos);
    if (e == std::string::npos) break;
    Case c;
    c.text = inp.substr(pos, e - pos);
    pos = e + sep.size();
    std::istringstream ls(line);
    for (int32_t id; ls >> id;) c.ids.push_back(id);
    cases.push_back(std::move(c));
  }
  return cases;
}

TEST(GgufVocab, Gpt2MatchesLlamaCppVectors) {
  GgufFile f(kGpt2);
  ASSERT_TRUE(gguf_has_tokenizer(f));
  Tokenizer tok = gguf_tokenizer(f);
  EXPECT_EQ(tok.vocab_size(), 50257);
  EXPECT_TRUE(tok.is_special(50256));  // <|endoftext|>, token type CONTROL
  EXPECT_EQ(tok.bos_token(), "<|endoftext|>");
  EXPECT_EQ(tok.eos_token(), "<|endoftext|>");
  auto cases = gpt2_cases();
  ASSERT_EQ(cases.size(), 46u);
  size_t pass = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    auto got = tok.encode(cases[i].text);
    EXPECT_EQ(got, cases[i].ids) << "case " << i << ": " << cases[i].text;
    pass += got == cases[i].ids;
    EXPECT_EQ(tok.decode(got), cases[i].text);
  }
  std::cout << "[ INFO     ] llama.cpp gpt-2 vectors via the GGUF reader: " << pass << "/" << cases.size() << "\n";
  EXPECT_EQ(gguf_chat_template(f), "");
  EXPECT_NE(error_of([&] { gguf_model_config(f); }).find("architecture \"gpt2\" is not supported"), std::string::npos);
}

TEST(GgufVocab, CliTokenizeGpt2) {
  const fs::path dir = fs::temp_directory_path() / ("s1-gguf-cli-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto cases = gpt2_cases();
  size_t pass = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::string in = (dir / "in.txt").string(), out = (dir / "out.json").string();
    std::ofstream(in, std::ios::binary) << cases[i].text;
    const std::string cmd = std::string(S1_BINARY) + " tokenize -m " + kGpt2 + " " + in + " > " + out + " 2>&1";
    const int status = std::system(cmd.c_str());
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << read_text_file(out);
    auto j = nlohmann::json::parse(read_text_file(out));
    auto got = j.get<std::vector<int32_t>>();
    EXPECT_EQ(got, cases[i].ids) << "case " << i;
    pass += got == cases[i].ids;
  }
  fs::remove_all(dir);
  std::cout << "[ INFO     ] s1 tokenize -m ggml-vocab-gpt-2.gguf: " << pass << "/" << cases.size() << "\n";
}

TEST(GgufVocab, Errors) {
  const fs::path p = fs::temp_directory_path() / ("s1-gguf-vocab-" + std::to_string(::getpid()) + ".gguf");
  auto write = [&](auto&& fill) {
    GgufWriter w;
    fill(w);
    w.write(p.string());
    return GgufFile(p.string());
  };
  {
    auto f = write([](GgufWriter& w) {
      w.add_string("tokenizer.ggml.model", "llama");
      w.add_string_array("tokenizer.ggml.tokens", {"a"});
    });
    EXPECT_NE(error_of([&] { gguf_tokenizer(f); }).find("tokenizer.ggml.model \"llama\" is not supported"),
              std::string::npos);
  }
  {
    auto f = write([](GgufWriter& w) {
      w.add_string("tokenizer.ggml.model", "gpt2");
      w.add_string("tokenizer.ggml.pre", "falcon");
      w.add_string_array("tokenizer.ggml.tokens", {"a"});
    });
    EXPECT_NE(error_of([&] { gguf_tokenizer(f); }).find("tokenizer.ggml.pre \"falcon\""), std::string::npos);
  }
  {
    auto f = write([](GgufWriter& w) {
      w.add_string("tokenizer.ggml.model", "gpt2");
      w.add_string("tokenizer.ggml.pre", "gpt-2");
      w.add_string_array("tokenizer.ggml.tokens", {"a", "b"});
      w.add_i32_array("tokenizer.ggml.token_type", {1});
    });
    EXPECT_NE(error_of([&] { gguf_tokenizer(f); }).find("token_type has 1 entries for 2 tokens"), std::string::npos);
  }
  {
    auto f = write([](GgufWriter& w) {
      w.add_string("tokenizer.ggml.model", "gpt2");
      w.add_string("tokenizer.ggml.pre", "gpt-2");
      w.add_string_array("tokenizer.ggml.tokens", {"a", "b"});
      w.add_u32("tokenizer.ggml.eos_token_id", 7);
    });
    EXPECT_NE(error_of([&] { gguf_tokenizer(f); }).find("eos_token_id 7 is outside the vocabulary"), std::string::npos);
  }
  fs::remove(p);
}

TEST(GgufVocab, SmolLmPreTokenizerSplitsDigits) {
  // Byte-level vocabulary with a merge "1 2": the smollm pre-tokenizer splits digits one
  // by one before BPE, so "12" is never merged; gpt-2 would merge it.
  std::vector<std::string> tokens = {"1", "2", "12", "a", "Ġ", "Ġa"};
  std::vector<std::string> merges = {"1 2", "Ġ a"};
  Tokenizer smol = Tokenizer::from_vocab(tokens, merges, {}, PreTokenizer::SmolLM);
  Tokenizer gpt2 = Tokenizer::from_vocab(tokens, merges, {}, PreTokenizer::Gpt2);
  EXPECT_EQ(smol.encode("12 a"), (std::vector<int32_t>{0, 1, 5}));
  EXPECT_EQ(gpt2.encode("12 a"), (std::vector<int32_t>{2, 5}));
}

TEST(GgufNames, MappingBothWays) {
  EXPECT_EQ(gguf_to_hf_name("token_embd.weight"), "model.embed_tokens.weight");
  EXPECT_EQ(gguf_to_hf_name("blk.12.attn_output.weight"), "model.layers.12.self_attn.o_proj.weight");
  EXPECT_EQ(gguf_to_hf_name("blk.0.attn_q.bias"), "model.layers.0.self_attn.q_proj.bias");
  EXPECT_EQ(gguf_to_hf_name("blk.3.ffn_norm.weight"), "model.layers.3.post_attention_layernorm.weight");
  EXPECT_EQ(gguf_to_hf_name("blk.3.attn_k_norm.weight"), "model.layers.3.self_attn.k_norm.weight");
  EXPECT_EQ(gguf_to_hf_name("rope_freqs.weight"), "");
  EXPECT_EQ(gguf_to_hf_name("blk.x.attn_q.weight"), "");
  EXPECT_EQ(hf_to_gguf_name("lm_head.weight"), "output.weight");
  EXPECT_EQ(hf_to_gguf_name("model.layers.7.mlp.down_proj.weight"), "blk.7.ffn_down.weight");
  EXPECT_EQ(hf_to_gguf_name(gguf_to_hf_name("blk.5.ffn_gate.weight")), "blk.5.ffn_gate.weight");
}

struct RefLogits {
  std::vector<int32_t> ids;
  std::vector<float> logits;
  int64_t B = 0, T = 0;
};
RefLogits reference(const std::string& name) {
  SafetensorsFile f(kModels + name + "/reference.safetensors");
  RefLogits r;
  for (const auto& t : f.tensors()) {
    if (t.name == "input_ids") {
      r.B = t.shape[0];
      r.T = t.shape[1];
      for (int64_t i = 0; i < t.numel(); ++i) {
        int64_t x;
        std::memcpy(&x, t.data + 8 * i, 8);
        r.ids.push_back(int32_t(x));
      }
    } else if (t.name == "logits_f32_weights") {
      r.logits.resize(size_t(t.numel()));
      std::memcpy(r.logits.data(), t.data, t.nbytes);
    }
  }
  return r;
}

// Max |logit - reference| over every batch row, relative to max |reference logit|.
double rel_error(Model& m, const RefLogits& r) {
  const int64_t V = m.config().vocab_size;
  double worst = 0, scale = 0;
  for (float x : r.logits) scale = std::max(scale, double(std::fabs(x)));
  for (int64_t b = 0; b < r.B; ++b) {
    KVCache kv(m, r.T);
    std::vector<float> got(size_t(r.T * V));
    m.forward(kv, std::span<const int32_t>(r.ids.data() + b * r.T, size_t(r.T)), got.data(), true);
    for (int64_t i = 0; i < r.T * V; ++i)
      worst = std::max(worst, double(std::fabs(got[i] - r.logits[size_t(b * r.T * V + i)])));
  }
  return worst / scale;
}

class GgufRoundTrip : public ::testing::TestWithParam<std::string> {};

TEST_P(GgufRoundTrip, F32ExportMatchesTransformers) {
  const std::string name = GetParam();
  auto src = Model::load(kModels + name + "/f32", make_cpu_backend(2));
  const std::string path = (fs::temp_directory_path() / ("s1-rt-" + std::to_string(::getpid()) + "-" + name + ".gguf")).string();
  GgufExportOptions o;
  o.matrix_type = DType::F32;
  write_gguf_model(*src, path, o);
  {
    GgufFile f(path);
    EXPECT_NE(f.find_tensor("token_embd.weight"), nullptr);
    EXPECT_EQ(f.find_tensor("output.weight") == nullptr, src->config().tied_embeddings);
    EXPECT_EQ(f.get_string("general.architecture"), arch_name(src->config().arch));
  }
  auto m = Model::load(path, make_cpu_backend(2));
  const ModelConfig &a = src->config(), &b = m->config();
  EXPECT_EQ(a.arch, b.arch);
  EXPECT_EQ(a.layers, b.layers);
  EXPECT_EQ(a.hidden, b.hidden);
  EXPECT_EQ(a.heads, b.heads);
  EXPECT_EQ(a.kv_heads, b.kv_heads);
  EXPECT_EQ(a.head_dim, b.head_dim);
  EXPECT_EQ(a.qkv_bias, b.qkv_bias);
  EXPECT_EQ(a.qk_norm, b.qk_norm);
  EXPECT_EQ(a.tied_embeddings, b.tied_embeddings);
  EXPECT_EQ(a.rope.type, b.rope.type);
  EXPECT_NEAR(a.rope.factor, b.rope.factor, 1e-6);
  EXPECT_NEAR(a.rms_eps, b.rms_eps, 1e-9 + 1e-6 * a.rms_eps);
  const double err = rel_error(*m, reference(name));
  EXPECT_LE(err, 1e-4) << name;
  std::cout << "[ INFO     ] " << name << " via GGUF F32: max |logit error| / max|logit| = " << err << "\n";
  fs::remove(path);
}

TEST_P(GgufRoundTrip, QuantisedExportsStayClose) {
  const std::string name = GetParam();
  auto src = Model::load(kModels + name + "/f32", make_cpu_backend(2));
  const RefLogits ref = reference(name);
  for (auto [t, tol] : {std::pair{DType::Q8_0, 0.05}, std::pair{DType::Q5_1, 0.3}, std::pair{DType::F16, 0.01}}) {
    const std::string path = (fs::temp_directory_path() / ("s1-rtq-" + std::to_string(::getpid()) + ".gguf")).string();
    GgufExportOptions o;
    o.matrix_type = t;
    write_gguf_model(*src, path, o);
    auto m = Model::load(path, make_cpu_backend(2));
    EXPECT_EQ(file_dtype(m->weights().layers[0].w_up.dtype), t);
    const double err = rel_error(*m, ref);
    EXPECT_LE(err, tol) << name << " " << dtype_name(t);
    std::cout << "[ INFO     ] " << name << " via GGUF " << dtype_name(t) << ": relative logit error " << err << "\n";
    fs::remove(path);
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, GgufRoundTrip,
                         ::testing::Values("llama-untied", "llama3-rope-scaled", "qwen2-tied", "qwen2-untied-mqa",
                                           "qwen3-tied"));

TEST(GgufModel, LlamaQkRowsArePermutedOnDiskAndRestoredAtLoad) {
  auto src = Model::load(kModels + "llama-untied/f32", make_cpu_backend(1));
  const std::string path = (fs::temp_directory_path() / ("s1-perm-" + std::to_string(::getpid()) + ".gguf")).string();
  GgufExportOptions o;
  o.matrix_type = DType::F32;
  write_gguf_model(*src, path, o);
  const ModelConfig& c = src->config();
  const WeightMatrix& hf = src->weights().layers[0].wq;
  {
    GgufFile f(path);
    const TensorInfo* q = f.find_tensor("blk.0.attn_q.weight");
    ASSERT_NE(q, nullptr);
    const int64_t hd = c.head_dim, half = hd / 2, cols = c.hidden;
    const float* disk = reinterpret_cast<const float*>(q->data);
    const float* orig = static_cast<const float*>(hf.data);
    // stored row h*hd + 2j + s == HF row h*hd + s*half + j
    for (int64_t h = 0; h < c.heads; ++h)
      for (int64_t j = 0; j < half; ++j)
        for (int64_t s = 0; s < 2; ++s)
          ASSERT_EQ(std::memcmp(disk + (h * hd + 2 * j + s) * cols, orig + (h * hd + s * half + j) * cols, cols * 4), 0);
  }
  auto m = Model::load(path, make_cpu_backend(1));
  EXPECT_EQ(std::memcmp(m->weights().layers[0].wq.data, hf.data, hf.bytes()), 0);
  EXPECT_EQ(std::memcmp(m->weights().layers[0].wk.data, src->weights().layers[0].wk.data,
                        src->weights().layers[0].wk.bytes()),
            0);
  fs::remove(path);
}

// A Q8_0 file, loaded (its matrices reordered in memory as Q8_0_IL where the CPU has
// VNNI) and written again as Q8_0: every tensor byte for byte the same.
TEST(GgufModel, Q8_0ReExportIsByteExact) {
  auto src = Model::load(kModels + "qwen2-untied-mqa/f32", make_cpu_backend(1));
  const std::string tag = std::to_string(::getpid());
  const std::string p1 = (fs::temp_directory_path() / ("s1-q8a-" + tag + ".gguf")).string();
  const std::string p2 = (fs::temp_directory_path() / ("s1-q8b-" + tag + ".gguf")).string();
  GgufExportOptions o;
  o.matrix_type = DType::Q8_0;
  write_gguf_model(*src, p1, o);
  auto loaded = Model::load(p1, make_cpu_backend(1));
  EXPECT_EQ(loaded->weights().layers[0].w_down.dtype, cpu::q8_il_path() ? DType::Q8_0_IL : DType::Q8_0);
  write_gguf_model(*loaded, p2, o);
  {
    GgufFile a(p1), b(p2);
    ASSERT_EQ(a.tensors().size(), b.tensors().size());
    for (const auto& t : a.tensors()) {
      const TensorInfo* u = b.find_tensor(t.name);
      ASSERT_NE(u, nullptr) << t.name;
      ASSERT_EQ(t.nbytes, u->nbytes) << t.name;
      EXPECT_EQ(std::memcmp(t.data, u->data, t.nbytes), 0) << t.name;
    }
  }
  fs::remove(p1);
  fs::remove(p2);
}

TEST(GgufModel, Errors) {
  EXPECT_NE(error_of([] { Model::load(kGpt2, make_cpu_backend(1)); }).find("not supported"), std::string::npos);
  auto src = Model::load(kModels + "qwen2-tied/f32", make_cpu_backend(1));
  const std::string path = (fs::temp_directory_path() / ("s1-err-" + std::to_string(::getpid()) + ".gguf")).string();
  GgufExportOptions o;
  o.matrix_type = DType::F32;
  write_gguf_model(*src, path, o);
  std::string bytes = read_text_file(path);
  auto patched = [&](const std::string& from, const std::string& to) {
    std::string b = bytes;
    size_t at = b.find(from);
    EXPECT_NE(at, std::string::npos);
    EXPECT_EQ(from.size(), to.size());
    b.replace(at, from.size(), to);
    std::ofstream(path, std::ios::binary | std::ios::trunc) << b;
  };
  patched("qwen2.block_count", "qwen2.block_xount");
  EXPECT_NE(error_of([&] { Model::load(path, make_cpu_backend(1)); }).find("missing metadata 'qwen2.block_count'"),
            std::string::npos);
  patched("blk.1.ffn_up.weight", "blk.1.ffn_xp.weight");
  EXPECT_NE(error_of([&] { Model::load(path, make_cpu_backend(1)); }).find("model.layers.1.mlp.up_proj.weight"),
            std::string::npos);
  // an architecture string of the same length that s1 does not know
  patched(std::string("\x05\0\0\0\0\0\0\0qwen2", 13), std::string("\x05\0\0\0\0\0\0\0gemma", 13));
  EXPECT_NE(error_of([&] { Model::load(path, make_cpu_backend(1)); }).find("architecture \"gemma\""), std::string::npos);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes.substr(0, bytes.size() / 2);
  EXPECT_NE(error_of([&] { Model::load(path, make_cpu_backend(1)); }).find("past the end"), std::string::npos);
  fs::remove(path);
}

}  // namespace
}  // namespace s1
