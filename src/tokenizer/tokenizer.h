// Byte-level BPE tokenizer (GPT-2 / Qwen2 / Llama-3 family).
// Owns: Unicode normalisation (NFC), the pre-tokenizer regex, the GPT-2 byte<->unicode
// mapping, merge ranks, added/special tokens, decoding and streaming decoding.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace s1 {

// Which pre-tokenizer split the text into words before BPE. SmolLM: every digit on
// its own (HF Digits individual_digits), then the GPT-2 regex (GGUF pre "smollm").
enum class PreTokenizer { Qwen2, Llama3, Gpt2, SmolLM };

// What a GGUF vocabulary says beyond its tokens (tokenizer_config.json's fields).
struct VocabSpecials {
  std::string bos, eos, pad;
  bool add_bos = false;
};

class Tokenizer {
 public:
  // A Hugging Face folder: tokenizer.json, or vocab.json + merges.txt; plus
  // tokenizer_config.json (added tokens, bos/eos) when present. Throws s1::Error.
  static Tokenizer from_hf_folder(const std::string& dir);
  static bool hf_folder_has_tokenizer(const std::string& dir);

  // Raw pieces, for formats that carry the vocabulary themselves (GGUF).
  // tokens[i] is the byte-level string of id i; merges are "a b" lines.
  static Tokenizer from_vocab(std::vector<std::string> tokens, const std::vector<std::string>& merges,
                              const std::vector<int32_t>& special_ids, PreTokenizer pre,
                              const VocabSpecials& specials = {});

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  // special_as_text=false: added tokens (e.g. "<|im_start|>") in the text map to their ids.
  // special_as_text=true: they are split like ordinary text (HF split_special_tokens=True).
  std::vector<int32_t> encode(std::string_view text, bool special_as_text = false) const;

  // Bytes of the ids concatenated (may end in a partial UTF-8 sequence only if the ids do).
  std::string decode(std::span<const int32_t> ids, bool skip_special = false) const;
  std::string token_bytes(int32_t id) const;  // raw bytes of one token ("" for unknown ids)

  int32_t vocab_size() const;  // max known id + 1
  std::optional<int32_t> token_id(std::string_view token_text) const;  // exact token (added or vocab)
  bool is_special(int32_t id) const;   // added token marked special
  bool is_added(int32_t id) const;

  // From tokenizer_config.json when present (empty otherwise).
  const std::string& bos_token() const;
  const std::string& eos_token() const;
  const std::string& pad_token() const;
  bool add_bos() const;  // tokenizer_config add_bos_token

 private:
  struct Impl;
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Turns a stream of ids into text pieces that are always whole UTF-8 sequences:
// bytes of an incomplete character are held back until it completes.
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tok, bool skip_special = false) : tok_(tok), skip_special_(skip_special) {}
  std::string push(int32_t id);  // text that became complete
  std::string flush();           // whatever is pending (invalid bytes become U+FFFD)

 private:
  const Tokenizer& tok_;
  bool skip_special_;
  std::string pending_;
};

}  // namespace s1
