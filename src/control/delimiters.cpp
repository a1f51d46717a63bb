#include "control/delimiters.h"

#include "core/error.h"

namespace s1::control {

Family parse_family(std::string_view name) {
  if (name == "s1") return Family::S1;
  if (name == "s1-steps") return Family::S1Steps;
  if (name == "r1") return Family::R1;
  if (name == "none") return Family::None;
  fail("unknown thinking family '", name, "' (known: s1, s1-steps, r1, none)");
}

const char* family_name(Family f) {
  switch (f) {
    case Family::S1: return "s1";
    case Family::S1Steps: return "s1-steps";
    case Family::R1: return "r1";
    case Family::None: return "none";
  }
  return "?";
}

Delimiters family_delimiters(Family f) {
  switch (f) {
    case Family::S1:
      // eval/lm-evaluation-harness vllm_causallms.py defaults; the model ends thinking by
      // emitting <|im_start|> (the first token of "<|im_start|>answer").
      return {"<|im_start|>think", "<|im_start|>answer", {"<|im_start|>"}, "<|im_start|>answer\nFinal Answer:"};
    case Family::S1Steps:
      // eval/commands.sh step-conditional "+BF": thinking_start=<|im_start|>,
      // until_thinking=<|im_start|>0 (the countdown reached "0 steps left").
      return {"<|im_start|>", "<|im_start|>answer", {"<|im_start|>0"}, "<|im_start|>answer\nFinal Answer:"};
    case Family::R1:
      // The R1-Distill / QwQ templates end the generation prompt with "<think>\n".
      return {"<think>\n", "</think>", {"</think>"}, "</think>\n\n"};
    case Family::None:
      return {};
  }
  return {};
}

Family detect_family(const std::string& template_source, const Tokenizer& tok) {
  auto single = [&](const char* t) { return tok.token_id(t).has_value(); };
  if ((single("<think>") && single("</think>")) || template_source.find("</think>") != std::string::npos)
    return Family::R1;
  if (single("<|im_start|>")) return Family::S1;
  return Family::None;
}

}  // namespace s1::control
