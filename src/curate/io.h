// Small file helpers of the curation layer.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "util/hash.h"
#include "util/progress.h"

namespace s1::curate {

std::string read_file(const std::string& path);  // throws s1::Error naming the path
// Writes to PATH.tmp and renames: a reader never sees half a file.
void write_file_atomic(const std::string& path, std::string_view data);
// Calls fn(object, line number) for each non-blank line of JSONL text, at most `limit`
// objects when limit > 0; a line that is not a JSON object is an error naming path:line.
void for_each_jsonl_object(const std::string& text, const std::string& path, int64_t limit,
                           const std::function<void(nlohmann::json&&, size_t line)>& fn);
// A JSON value as text: strings as they are, null as "", anything else dumped.
std::string json_text(const nlohmann::json& v);
// JSON text that never throws on invalid UTF-8 in user data (bad bytes become U+FFFD).
inline std::string dump_safe(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }
// The content of the last \boxed{...} / \fbox{...} (balanced braces), "" when none.
std::string last_boxed(std::string_view s);
// s1's question_hash: the first 16 hex digits of sha256(question).
inline std::string question_hash(std::string_view q) { return util::sha256_hex(q).substr(0, 16); }
using util::sha256_hex;
// One plain line "curate: ..." on stderr.
inline void note(const std::string& line) { util::note("curate", line); }

}  // namespace s1::curate
