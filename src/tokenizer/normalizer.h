// Unicode normalisation applied to text before pre-tokenisation (tokenizer.json
// "normalizer"). Byte-level BPE models use none or NFC (Qwen2).
#pragma once
#include <string>
#include <string_view>

namespace s1::tok {

enum class Normalization { None, NFC };

// Normalises valid UTF-8 text. Returns `text` itself when nothing changes (the
// common, all-ASCII case), otherwise a view of `storage`.
std::string_view normalize(Normalization n, std::string_view text, std::string& storage);

}  // namespace s1::tok
