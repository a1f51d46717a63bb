// Loading a Hugging Face tokenizer folder: tokenizer.json (the `tokenizers` format)
// or the older vocab.json + merges.txt pair, plus tokenizer_config.json for added
// tokens and bos/eos/pad. Every problem is an s1::Error naming the file.
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/mapped_file.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_impl.h"

namespace s1 {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

json parse_json_file(const std::string& path) {
  std::string text = read_text_file(path);
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    fail(path, ": invalid JSON: ", e.what());
  }
}

// bos_token and friends: "text", {"content": "text", ...} or null.
std::string token_string(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
  return {};
}

bool get_bool(const json& obj, const char* key, bool dflt) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return dflt;
  return it->get<bool>();
}

tok::AddedToken parse_added_token(const json& o, int32_t id) {
  tok::AddedToken t;
  t.id = id;
  t.content = o.at("content").get<std::string>();
  t.special = get_bool(o, "special", false);
  t.lstrip = get_bool(o, "lstrip", false);
  t.rstrip = get_bool(o, "rstrip", false);
  t.single_word = get_bool(o, "single_word", false);
  t.normalized = get_bool(o, "normalized", !t.special);  // HF's default
  return t;
}

struct Config {
  std::string tokenizer_class;
  bool add_prefix_space = false;
  std::vector<tok::AddedToken> added;
};

Config load_config(const std::string& path, tok::TokenizerData& impl) {
  Config c;
  json j = parse_json_file(path);
  try {
    if (!j.is_object()) fail(path, ": expected a JSON object");
    if (j.contains("bos_token")) impl.bos = token_string(j["bos_token"]);
    if (j.contains("eos_token")) impl.eos = token_string(j["eos_token"]);
    if (j.contains("pad_token")) impl.pad = token_string(j["pad_token"]);
    impl.add_bos = get_bool(j, "add_bos_token", false);
    c.add_prefix_space = get_bool(j, "add_prefix_space", false);
    if (j.contains("tokenizer_class") && j["tokenizer_class"].is_string())
      c.tokenizer_class = j["tokenizer_class"].get<std::string>();
    if (j.contains("added_tokens_decoder")) {
      for (const auto& [key, val] : j["added_tokens_decoder"].items()) {
        int32_t id;
        try {
          id = std::stoi(key);
        } catch (const std::exception&) {
          fail(path, ": added_tokens_decoder key \"", key, "\" is not a token id");
        }
        c.added.push_back(parse_added_token(val, id));
      }
    }
  } catch (const json::exception& e) {
    fail(path, ": unexpected structure: ", e.what());
  }
  return c;
}

// Byte-level normalizers we support: none, NFC, or a Sequence of those.
tok::Normalization parse_normalizer(const json& n, const std::string& path) {
  if (n.is_null()) return tok::Normalization::None;
  std::string type = n.at("type").get<std::string>();
  if (type == "NFC") return tok::Normalization::NFC;
  if (type == "Sequence") {
    tok::Normalization r = tok::Normalization::None;
    for (const json& sub : n.at("normalizers"))
      if (parse_normalizer(sub, path) == tok::Normalization::NFC) r = tok::Normalization::NFC;
    return r;
  }
  fail(path, ": unsupported normalizer type \"", type, "\" (supported: NFC, Sequence)");
}

// Regex-escapes a literal Split pattern ({"String": ...}).
std::string escape_literal(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x80 && !std::isalnum(static_cast<unsigned char>(c))) out += '\\';
    out += c;
  }
  return out;
}

// Appends the steps of a pre_tokenizer to the pipeline; returns whether a ByteLevel
// step was seen (the byte->unicode mapping this model needs).
bool parse_pre_tokenizer(const json& p, tok::PreTokenizerPipeline& pipe, const std::string& path) {
  if (p.is_null()) return false;
  std::string type = p.at("type").get<std::string>();
  if (type == "Sequence") {
    bool byte_level = false;
    for (const json& sub : p.at("pretokenizers")) byte_level |= parse_pre_tokenizer(sub, pipe, path);
    return byte_level;
  }
  if (type == "ByteLevel") {
    if (get_bool(p, "add_prefix_space", true)) pipe.add_prefix_space();
    if (get_bool(p, "use_regex", true)) pipe.add_regex_split(tok::builtin_pattern(PreTokenizer::Gpt2), path);
    return true;
  }
  if (type == "Split") {
    const json& pat = p.at("pattern");
    std::string behavior = p.value("behavior", "Isolated");
    if (behavior != "Isolated")
      fail(path, ": unsupported Split behavior \"", behavior, "\" in pre_tokenizer (supported: Isolated)");
    if (get_bool(p, "invert", false)) fail(path, ": unsupported Split with invert=true in pre_tokenizer");
    if (pat.contains("Regex"))
      pipe.add_regex_split(pat["Regex"].get<std::string>(), path);
    else if (pat.contains("String"))
      pipe.add_regex_split(escape_literal(pat["String"].get<std::string>()), path);
    else
      fail(path, ": Split pattern has neither Regex nor String");
    return false;
  }
  fail(path, ": unsupported pre_tokenizer type \"", type, "\" (supported: ByteLevel, Split, Sequence)");
}

// The vocabulary (150k entries) and merges (150k) make up nearly all of a
// tokenizer.json. Building them as a JSON DOM (std::map nodes) and copying them out
// would dominate load time, so a parser callback takes them straight into our
// containers and drops them from the DOM; the rest of the file stays a small DOM.
class BigPartsCollector {
 public:
  // vocab_path/merges_path: the object keys leading to the vocabulary / merges
  // ({} = the root object itself, as in vocab.json).
  BigPartsCollector(std::vector<std::string> vocab_path, std::vector<std::string> merges_path)
      : vocab_path_(std::move(vocab_path)), merges_path_(std::move(merges_path)) {}

  json parse(const std::string& text, const std::string& file) {
    json j;
    try {
      j = json::parse(text, [this](int depth, json::parse_event_t ev, json& v) { return on_event(depth, ev, v); });
    } catch (const json::exception& e) {
      fail(file, ": invalid JSON: ", e.what());
    }
    if (!error_.empty()) fail(file, ": ", error_);
    return j;
  }

  tok::StringIdMap vocab;
  std::vector<std::pair<std::string, std::string>> merges;
  bool saw_vocab = false, saw_merges = false;

 private:
  bool on_event(int depth, json::parse_event_t ev, json& v) {
    using E = json::parse_event_t;
    const size_t d = static_cast<size_t>(depth);
    if (ev == E::key) {
      if (keys_.size() <= d) keys_.resize(d + 1);
      keys_[d] = v.get<std::string>();
    }
    // Where the containers themselves start (depth == path length). Anything but an
    // object / an array there is an error (and its contents are left alone).
    const bool starts = ev == E::object_start || ev == E::array_start;
    if (starts && d == vocab_path_.size() && path_is(vocab_path_)) {
      saw_vocab = true;
      vocab_is_object_ = ev == E::object_start;
      if (!vocab_is_object_) set_error("the vocabulary is not a JSON object (token -> id)");
    }
    if (starts && d == merges_path_.size() && path_is(merges_path_)) {
      saw_merges = true;
      merges_is_array_ = ev == E::array_start;
      if (!merges_is_array_) set_error("merges is not a JSON array");
    }

    if (vocab_is_object_ && d == vocab_path_.size() + 1 && path_is(vocab_path_)) {
      if (ev == E::key) return false;  // the entry is taken at its value, never stored in the DOM
      if (ev == E::value) {
        const std::string& tok = keys_[d];
        if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > INT32_MAX)
          set_error(cat("vocab entry \"", tok, "\" has id ", v.dump(), " (must be a non-negative integer)"));
        else
          vocab.insert_or_assign(tok, v.get<int32_t>());  // a repeated key: the last wins, as in a JSON DOM
        return false;
      }
      if (ev == E::object_start || ev == E::array_start) {
        set_error(cat("vocab entry \"", keys_[d], "\" has a non-integer id"));
        return false;
      }
    }
    if (merges_is_array_ && d == merges_path_.size() + 1 && path_is(merges_path_)) {
      // One merge: "a b" (a value here) or ["a", "b"] (an array, taken when it ends).
      if (ev == E::value || ev == E::array_end || ev == E::object_start) {
        take_merge(v, ev == E::object_start);
        return false;
      }
    }
    return true;
  }

  // Whether the latest keys at depths 1..n are `path` (the container being parsed).
  bool path_is(const std::vector<std::string>& path) const {
    for (size_t i = 0; i < path.size(); ++i)
      if (i + 1 >= keys_.size() || keys_[i + 1] != path[i]) return false;
    return true;
  }

  void take_merge(const json& m, bool is_object) {
    const size_t n = merges.size() + 1;
    if (!is_object && m.is_string()) {
      const std::string s = m.get<std::string>();
      size_t sp = s.find(' ');
      if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos)
        return set_error(cat("merge ", n, " (\"", s, "\") is not two tokens separated by one space"));
      merges.emplace_back(s.substr(0, sp), s.substr(sp + 1));
    } else if (!is_object && m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
    } else {
      set_error(cat("merge ", n, " is neither \"a b\" nor [\"a\", \"b\"]"));
      merges.emplace_back();  // keeps the numbering of later merges
    }
  }

  void set_error(std::string e) {
    if (error_.empty()) error_ = std::move(e);
  }

  std::vector<std::string> vocab_path_, merges_path_;
  std::vector<std::string> keys_;  // keys_[d]: the latest key seen at depth d
  bool vocab_is_object_ = false, merges_is_array_ = false;
  std::string error_;
};

void load_tokenizer_json(const std::string& path, tok::TokenizerData& impl, const Config& cfg) {
  BigPartsCollector big({"model", "vocab"}, {"model", "merges"});
  json j = big.parse(read_text_file(path), path);
  try {
    if (!j.is_object()) fail(path, ": expected a JSON object");
    const json& model = j.at("model");
    if (!model.is_object()) fail(path, ": \"model\" is not an object");
    if (model.contains("type") && model["type"] != "BPE")
      fail(path, ": unsupported model type ", model["type"].dump(), " (only BPE)");
    for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"})
      if (model.contains(key) && model[key].is_string() && !model[key].get<std::string>().empty())
        fail(path, ": unsupported BPE option ", key);
    if (get_bool(model, "byte_fallback", false)) fail(path, ": unsupported BPE option byte_fallback");
    if (!big.saw_vocab) fail(path, ": model.vocab is missing or not an object");
    if (!big.saw_merges && model.contains("merges")) fail(path, ": model.merges is not an array");
    impl.normalization = parse_normalizer(j.value("normalizer", json()), path);
    if (!parse_pre_tokenizer(j.value("pre_tokenizer", json()), impl.pre, path))
      fail(path, ": pre_tokenizer has no ByteLevel step (only byte-level BPE is supported)");
    if (j.contains("added_tokens") && !j["added_tokens"].is_null())
      for (const json& t : j["added_tokens"]) impl.added.push_back(parse_added_token(t, t.at("id").get<int32_t>()));
    impl.bpe.init(std::move(big.vocab), big.merges, get_bool(model, "ignore_merges", false), path);
  } catch (const json::exception& e) {
    fail(path, ": unexpected structure: ", e.what());
  }
  // tokenizer.json is authoritative; the config can only add ids it does not know.
  for (const auto& t : cfg.added) {
    bool known = false;
    for (const auto& a : impl.added) known |= a.id == t.id;
    if (!known) impl.added.push_back(t);
  }
}

std::vector<std::pair<std::string, std::string>> load_merges_txt(const std::string& path) {
  std::string text = read_text_file(path);
  std::vector<std::pair<std::string, std::string>> merges;
  size_t pos = 0, line_no = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    std::string_view line(text.data() + pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    // "#version: 0.2" header (present when transformers re-saved the file) and blank lines.
    if (line.empty() || (line_no == 1 && line.starts_with("#version"))) continue;
    size_t sp = line.find(' ');
    if (sp == std::string_view::npos || sp == 0 || sp + 1 == line.size() ||
        line.find(' ', sp + 1) != std::string_view::npos)
      fail(path, ": line ", line_no, " (\"", line, "\") is not two tokens separated by one space");
    merges.emplace_back(std::string(line.substr(0, sp)), std::string(line.substr(sp + 1)));
  }
  return merges;
}

void load_vocab_and_merges(const std::string& vocab_path, const std::string& merges_path, tok::TokenizerData& impl,
                           const Config& cfg) {
  // No tokenizer.json: the pipeline is implied by the tokenizer class. Qwen2Tokenizer
  // does NFC + the Qwen2 regex; GPT2Tokenizer (and its relatives) the GPT-2 regex.
  const std::string& cls = cfg.tokenizer_class;
  PreTokenizer pre = PreTokenizer::Qwen2;
  if (cls.starts_with("GPT2") || cls.starts_with("Roberta") || cls.starts_with("CodeGen"))
    pre = PreTokenizer::Gpt2;
  else if (!cls.empty() && !cls.starts_with("Qwen2"))
    fail(vocab_path, ": tokenizer_class \"", cls,
         "\" is not supported with vocab.json + merges.txt (supported: Qwen2Tokenizer, GPT2Tokenizer)");
  impl.normalization = pre == PreTokenizer::Qwen2 ? tok::Normalization::NFC : tok::Normalization::None;
  if (cfg.add_prefix_space) impl.pre.add_prefix_space();
  impl.pre.add_regex_split(tok::builtin_pattern(pre), vocab_path);
  impl.added = cfg.added;
  BigPartsCollector big({}, {"\x01no merges in vocab.json"});
  json v = big.parse(read_text_file(vocab_path), vocab_path);
  if (!v.is_object()) fail(vocab_path, ": expected a JSON object (token -> id)");
  impl.bpe.init(std::move(big.vocab), load_merges_txt(merges_path), false, merges_path);
}

}  // namespace

bool Tokenizer::hf_folder_has_tokenizer(const std::string& dir) {
  fs::path d(dir);
  return file_exists((d / "tokenizer.json").string()) ||
         (file_exists((d / "vocab.json").string()) && file_exists((d / "merges.txt").string()));
}

Tokenizer Tokenizer::from_hf_folder(const std::string& dir) {
  fs::path d(dir);
  std::error_code ec;
  if (!fs::is_directory(d, ec)) fail(dir, ": tokenizer folder not found");
  const std::string tj = (d / "tokenizer.json").string();
  const std::string vj = (d / "vocab.json").string();
  const std::string mt = (d / "merges.txt").string();
  const std::string cf = (d / "tokenizer_config.json").string();
  auto impl = std::make_unique<Impl>();
  Config cfg;
  if (file_exists(cf)) cfg = load_config(cf, *impl);
  std::string where;
  if (file_exists(tj)) {
    load_tokenizer_json(tj, *impl, cfg);
    where = tj;
  } else if (file_exists(vj) && file_exists(mt)) {
    load_vocab_and_merges(vj, mt, *impl, cfg);
    where = vj;
  } else {
    fail(dir, ": no tokenizer.json, nor vocab.json + merges.txt");
  }
  impl->finalize(where);
  return Tokenizer(std::move(impl));
}

}  // namespace s1
