// Curation inputs: every source adapter (CSV and JSONL), eval-set text through the
// n-gram and quality rules. Bad input must be an s1::Error, never a crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "curate/io.h"
#include "curate/pipeline.h"
#include "curate/text_rules.h"
#include "util/csv.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  s1::curate::IngestOptions o;
  for (const char* adapter : {"aime_csv", "s1", "math", "agieval", "olympiadbench"}) {
    for (const char* path : {"f.csv", "f.jsonl"}) {
      try {
        s1::curate::read_source_text(adapter, text, path, o);
      } catch (const s1::Error&) {
      }
    }
  }
  try {
    s1::util::parse_csv(text, "f.csv", s1::util::CsvQuotes::Lenient);
  } catch (const s1::Error&) {
  }
  s1::curate::word_ngram_hashes(text, 8);
  s1::curate::quality_reason(text, "AIME");
  s1::curate::quality_reason(text, "");
  s1::curate::api_error_marker(text);
  s1::curate::last_boxed(text);
  return 0;
}
