// Small hand-made tokenizer folders for unit and error tests, written to a fresh
// temporary directory per test.
#pragma once
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/byte_mapping.h"

namespace s1::test {

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("s1_tok_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string str() const { return path_.string(); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  void write(const std::string& name, const std::string& content) const {
    std::ofstream(path_ / name, std::ios::binary) << content;
  }

 private:
  std::filesystem::path path_;
};

// A byte-level vocabulary: the 256 byte characters (ids 0..255, in byte order) and
// the result of every merge, numbered in merge order.
struct ToyModel {
  std::vector<std::pair<std::string, std::string>> merges;  // byte-level text
  nlohmann::json vocab = nlohmann::json::object();

  explicit ToyModel(std::vector<std::pair<std::string, std::string>> m) : merges(std::move(m)) {
    int id = 0;
    for (int b = 0; b < 256; ++b) vocab[tok::bytes_to_byte_level(std::string(1, static_cast<char>(b)))] = id++;
    for (auto& [a, c] : merges)
      if (!vocab.contains(a + c)) vocab[a + c] = id++;
  }
  int id(const std::string& byte_level) const { return vocab.at(byte_level).get<int>(); }

  // tokenizer.json with the Qwen2 pipeline. pair_merges: ["a","b"] instead of "a b".
  nlohmann::json tokenizer_json(const nlohmann::json& added = nlohmann::json::array(), bool pair_merges = false) const {
    nlohmann::json m = nlohmann::json::array();
    for (auto& [a, c] : merges) m.push_back(pair_merges ? nlohmann::json::array({a, c}) : nlohmann::json(a + " " + c));
    return {
        {"version", "1.0"},
        {"added_tokens", added},
        {"normalizer", {{"type", "NFC"}}},
        {"pre_tokenizer",
         {{"type", "Sequence"},
          {"pretokenizers",
           {{{"type", "Split"},
             {"pattern",
              {{"Regex",
                R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"}}},
             {"behavior", "Isolated"},
             {"invert", false}},
            {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}}}}}},
        {"decoder", {{"type", "ByteLevel"}}},
        {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", m}}},
    };
  }
  std::string merges_txt(bool version_header) const {
    std::string s = version_header ? "#version: 0.2\n" : "";
    for (auto& [a, c] : merges) s += a + " " + c + "\n";
    return s;
  }
};

inline nlohmann::json added_token(int id, const std::string& content, bool special, bool lstrip = false,
                                  bool rstrip = false, bool single_word = false, bool normalized = false) {
  return {{"id", id},          {"content", content},       {"special", special},      {"lstrip", lstrip},
          {"rstrip", rstrip}, {"single_word", single_word}, {"normalized", normalized}};
}

}  // namespace s1::test
