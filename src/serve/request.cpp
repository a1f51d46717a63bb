#include "serve/request.h"

#include <cmath>
#include <limits>

namespace s1::serve {

namespace {

using json = nlohmann::json;

// Validation failures unwind to parse_request as this (never escapes it).
struct Reject {
  ApiError e;
};
[[noreturn]] void reject(std::string msg, std::string param, std::string code = "") {
  throw Reject{bad_request(std::move(msg), std::move(param), std::move(code))};
}

const char* type_name(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::string: return "a string";
    case json::value_t::array: return "an array";
    case json::value_t::object: return "an object";
    case json::value_t::number_float: return "a number";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "an integer";
    default: return "an unsupported value";
  }
}

// Fields given as null are treated as absent (OpenAI clients send null for "not set").
const json* field(const json& o, const char* name) {
  auto it = o.find(name);
  if (it == o.end() || it->is_null()) return nullptr;
  return &*it;
}

bool get_bool(const json& o, const char* name, bool def) {
  const json* v = field(o, name);
  if (!v) return def;
  if (!v->is_boolean()) reject(std::string("'") + name + "' must be a boolean, got " + type_name(*v), name);
  return v->get<bool>();
}

double get_number(const json& o, const char* name, double def, double lo, double hi) {
  const json* v = field(o, name);
  if (!v) return def;
  if (!v->is_number()) reject(std::string("'") + name + "' must be a number, got " + type_name(*v), name);
  const double x = v->get<double>();
  if (!std::isfinite(x) || x < lo || x > hi)
    reject(std::string("'") + name + "' must be between " + json(lo).dump() + " and " + json(hi).dump() + ", got " +
               v->dump(),
           name);
  return x;
}

// An integer (a float with an integral value, e.g. 16.0, is accepted as vLLM does).
std::optional<int64_t> get_int(const json& o, const char* name, int64_t lo, int64_t hi) {
  const json* v = field(o, name);
  if (!v) return std::nullopt;
  int64_t x = 0;
  if (v->is_number_integer()) {
    if (v->is_number_unsigned() && v->get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()))
      x = std::numeric_limits<int64_t>::max();
    else
      x = v->get<int64_t>();
  } else if (v->is_number_float() && std::isfinite(v->get<double>()) && std::floor(v->get<double>()) == v->get<double>() &&
             std::fabs(v->get<double>()) < 9e15) {
    x = int64_t(v->get<double>());
  } else {
    reject(std::string("'") + name + "' must be an integer, got " + type_name(*v), name);
  }
  if (x < lo || x > hi)
    reject(std::string("'") + name + "' must be between " + std::to_string(lo) + " and " + std::to_string(hi) +
               ", got " + std::to_string(x),
           name);
  return x;
}

std::optional<std::string> get_string(const json& o, const char* name, size_t max_bytes) {
  const json* v = field(o, name);
  if (!v) return std::nullopt;
  if (!v->is_string()) reject(std::string("'") + name + "' must be a string, got " + type_name(*v), name);
  const auto& s = v->get_ref<const std::string&>();
  if (s.size() > max_bytes)
    reject(std::string("'") + name + "' is too long (" + std::to_string(s.size()) + " bytes, at most " +
               std::to_string(max_bytes) + ")",
           name);
  return s;
}

// A message's content: a string, or a list of text parts [{"type":"text","text":...}].
std::string message_content(const json& c, size_t i) {
  const std::string param = "messages[" + std::to_string(i) + "].content";
  if (c.is_null()) return "";
  if (c.is_string()) return c.get<std::string>();
  if (!c.is_array()) reject("'" + param + "' must be a string or a list of text parts, got " + type_name(c), param);
  std::string out;
  for (const auto& part : c) {
    if (!part.is_object()) reject("'" + param + "' parts must be objects", param);
    const json* t = field(part, "type");
    if (!t || !t->is_string() || *t != "text")
      reject("'" + param + "': only text parts ({\"type\": \"text\"}) are supported", param);
    const json* text = field(part, "text");
    if (!text || !text->is_string()) reject("'" + param + "': a text part needs a string 'text'", param);
    out += text->get<std::string>();
  }
  return out;
}

json parse_messages(const json& o, const RequestLimits& lim) {
  const json* m = field(o, "messages");
  if (!m) reject("'messages' is required", "messages");
  if (!m->is_array()) reject(std::string("'messages' must be an array, got ") + type_name(*m), "messages");
  if (m->empty()) reject("'messages' must not be empty", "messages");
  if (m->size() > lim.max_messages)
    reject("too many messages (" + std::to_string(m->size()) + ", at most " + std::to_string(lim.max_messages) + ")",
           "messages");
  json out = json::array();
  for (size_t i = 0; i < m->size(); ++i) {
    const json& msg = (*m)[i];
    const std::string p = "messages[" + std::to_string(i) + "]";
    if (!msg.is_object()) reject("'" + p + "' must be an object", p);
    const json* role = field(msg, "role");
    if (!role || !role->is_string()) reject("'" + p + ".role' must be a string", p + ".role");
    std::string r = role->get<std::string>();
    if (r == "developer") r = "system";  // OpenAI's newer name for the system role
    if (r != "system" && r != "user" && r != "assistant")
      reject("'" + p + ".role' must be system, developer, user or assistant, got '" + role->get<std::string>() + "'",
             p + ".role");
    if (field(msg, "tool_calls")) reject("tool calls are not supported", p + ".tool_calls");
    const json* c = field(msg, "content");
    out.push_back({{"role", r}, {"content", c ? message_content(*c, i) : std::string()}});
  }
  return out;
}

void parse_prompt(const json& o, ParsedRequest& r, const RequestLimits& lim) {
  const json* p = field(o, "prompt");
  if (!p) reject("'prompt' is required", "prompt");
  if (p->is_string()) {
    r.prompt_text = p->get<std::string>();
    return;
  }
  if (!p->is_array()) reject(std::string("'prompt' must be a string or a list of token ids, got ") + type_name(*p), "prompt");
  if (p->size() == 1 && (*p)[0].is_string()) {  // ["text"]: one prompt
    r.prompt_text = (*p)[0].get<std::string>();
    return;
  }
  if (p->size() > lim.max_prompt_ids) reject("'prompt' has too many token ids", "prompt");
  for (const auto& v : *p) {
    if (v.is_string() || v.is_array()) reject("only one prompt per request is supported (n = 1)", "prompt");
    if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > std::numeric_limits<int32_t>::max())
      reject("'prompt' token ids must be non-negative integers", "prompt");
    r.prompt_ids.push_back(int32_t(v.get<int64_t>()));
  }
  if (r.prompt_ids.empty()) reject("'prompt' must not be empty", "prompt");
}

void parse_stop(const json& o, ParsedRequest& r, const RequestLimits& lim) {
  const json* s = field(o, "stop");
  if (!s) return;
  std::vector<json> items;
  if (s->is_string()) items.push_back(*s);
  else if (s->is_array()) items.assign(s->begin(), s->end());
  else reject(std::string("'stop' must be a string or a list of strings, got ") + type_name(*s), "stop");
  if (items.size() > lim.max_stop) reject("'stop' has more than " + std::to_string(lim.max_stop) + " strings", "stop");
  for (const auto& it : items) {
    if (!it.is_string()) reject("'stop' must be a string or a list of strings", "stop");
    const auto& str = it.get_ref<const std::string&>();
    if (str.empty()) continue;  // an empty stop string stops nothing
    if (str.size() > lim.max_stop_bytes) reject("a 'stop' string is too long", "stop");
    r.stop.push_back(str);
  }
}

// The maximum thinking under its three names (s1 / this server, vLLM, llama.cpp); -1 is
// llama.cpp's "unlimited". Several names must agree.
void parse_thinking(const json& o, ParsedRequest& r, const RequestLimits& lim) {
  ThinkingParams& t = r.thinking;
  const char* const names[] = {"max_thinking_tokens", "thinking_token_budget", "thinking_budget_tokens"};
  std::optional<int64_t> maxv;
  const char* max_from = nullptr;
  for (const char* n : names) {
    auto v = get_int(o, n, -1, lim.max_tokens_limit);
    if (!v) continue;
    t.requested = true;
    const std::optional<int64_t> cap = *v < 0 ? std::nullopt : v;
    if (max_from && cap != maxv)
      reject(std::string("'") + max_from + "' and '" + n + "' give different thinking budgets", n);
    maxv = cap;
    max_from = n;
  }
  t.max_thinking = maxv;
  if (auto v = get_int(o, "min_thinking_tokens", 0, lim.max_tokens_limit)) {
    t.requested = true;
    t.min_thinking = *v;
  }
  if (auto v = get_int(o, "num_ignore", 0, lim.max_num_ignore)) {
    t.requested = true;
    t.num_ignore = int(*v);
  }
  if (auto v = get_string(o, "ignore_str", lim.max_text_param_bytes)) {
    t.requested = true;
    t.ignore_str = *v;
  }
  if (auto v = get_string(o, "thinking_end_str", lim.max_text_param_bytes)) {
    t.requested = true;
    t.end_str = *v;
  }
  if (auto v = get_string(o, "budget_mode", 16)) {
    if (*v != "harness" && *v != "readme") reject("'budget_mode' must be harness or readme", "budget_mode");
    t.requested = true;
    t.budget_mode = *v;
  }
  if (t.max_thinking && t.min_thinking > *t.max_thinking)
    reject("'min_thinking_tokens' (" + std::to_string(t.min_thinking) + ") is above the thinking budget (" +
               std::to_string(*t.max_thinking) + ")",
           "min_thinking_tokens");
}

void reject_unsupported(const json& o, Endpoint ep) {
  if (auto n = get_int(o, "n", 1, 1 << 20); n && *n != 1) reject("only n = 1 is supported", "n");
  if (auto n = get_int(o, "best_of", 1, 1 << 20); n && *n != 1) reject("only best_of = 1 is supported", "best_of");
  if (get_bool(o, "echo", false)) reject("'echo' is not supported", "echo");
  const json* lp = field(o, "logprobs");
  if (lp && !(lp->is_boolean() && !lp->get<bool>()) && !(lp->is_number_integer() && lp->get<int64_t>() == 0))
    reject("'logprobs' is not supported", "logprobs");
  if (field(o, "top_logprobs")) reject("'top_logprobs' is not supported", "top_logprobs");
  if (const json* t = field(o, "tools"); t && !(t->is_array() && t->empty())) reject("'tools' are not supported", "tools");
  if (const json* rf = field(o, "response_format")) {
    const json* ty = rf->is_object() ? field(*rf, "type") : nullptr;
    if (!ty || !ty->is_string() || *ty != "text") reject("only response_format {\"type\": \"text\"} is supported", "response_format");
  }
  if (get_number(o, "presence_penalty", 0, -2, 2) != 0) reject("'presence_penalty' is not supported", "presence_penalty");
  if (get_number(o, "frequency_penalty", 0, -2, 2) != 0) reject("'frequency_penalty' is not supported", "frequency_penalty");
  if (const json* lb = field(o, "logit_bias"); lb && !(lb->is_object() && lb->empty()))
    reject("'logit_bias' is not supported", "logit_bias");
  if (ep == Endpoint::Completions && field(o, "suffix")) reject("'suffix' is not supported", "suffix");
}

ParsedRequest parse(Endpoint ep, std::string_view body, const RequestLimits& lim) {
  json o = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (o.is_discarded()) reject("the request body is not valid JSON", "", "invalid_json");
  if (!o.is_object()) reject(std::string("the request body must be a JSON object, got ") + type_name(o), "");

  ParsedRequest r;
  r.endpoint = ep;
  const json* model = field(o, "model");
  if (!model) reject("'model' is required", "model");
  if (!model->is_string()) reject(std::string("'model' must be a string, got ") + type_name(*model), "model");
  r.model = model->get<std::string>();
  if (r.model != lim.model_id)
    throw Reject{{404, "The model '" + r.model.substr(0, 200) + "' does not exist (this server serves '" + lim.model_id + "')",
                  "invalid_request_error", "model", "model_not_found"}};

  reject_unsupported(o, ep);
  if (ep == Endpoint::Chat) {
    r.messages = parse_messages(o, lim);
    if (const json* k = field(o, "chat_template_kwargs")) {
      if (!k->is_object()) reject("'chat_template_kwargs' must be an object", "chat_template_kwargs");
      for (const auto& [key, v] : k->items()) {
        if (!(v.is_boolean() || v.is_number() || (v.is_string() && v.get_ref<const std::string&>().size() <= 1024)))
          reject("'chat_template_kwargs' values must be booleans, numbers or short strings", "chat_template_kwargs");
        if (key == "messages" || key == "add_generation_prompt")
          reject("'chat_template_kwargs' must not set '" + key + "'", "chat_template_kwargs");
        r.template_kwargs[key] = v;
      }
    }
  } else {
    parse_prompt(o, r, lim);
  }

  r.stream = get_bool(o, "stream", false);
  if (const json* so = field(o, "stream_options")) {
    if (!so->is_object()) reject("'stream_options' must be an object", "stream_options");
    r.include_usage = get_bool(*so, "include_usage", false);
  }

  // max_completion_tokens is the newer name; both given must agree.
  auto mt = get_int(o, "max_tokens", 1, std::numeric_limits<int64_t>::max());
  auto mct = get_int(o, "max_completion_tokens", 1, std::numeric_limits<int64_t>::max());
  if (mt && mct && *mt != *mct) reject("'max_tokens' and 'max_completion_tokens' differ", "max_completion_tokens");
  r.max_tokens = mct ? mct : mt;
  if (r.max_tokens && *r.max_tokens > lim.max_tokens_limit)
    reject("'max_tokens' is " + std::to_string(*r.max_tokens) + ", above this server's limit of " +
               std::to_string(lim.max_tokens_limit),
           mct ? "max_completion_tokens" : "max_tokens");
  r.min_tokens = get_int(o, "min_tokens", 0, lim.max_tokens_limit).value_or(0);
  if (r.max_tokens && r.min_tokens > *r.max_tokens) reject("'min_tokens' is above 'max_tokens'", "min_tokens");

  SamplingParams& s = r.sampling;
  s.temperature = float(get_number(o, "temperature", 1.0, 0.0, 2.0));
  s.top_p = float(get_number(o, "top_p", 1.0, 0.0, 1.0));
  if (s.top_p <= 0) reject("'top_p' must be above 0", "top_p");
  const int64_t top_k = get_int(o, "top_k", -1, 1 << 30).value_or(0);
  s.top_k = top_k < 0 ? 0 : int(top_k);  // -1 (vLLM) and 0: off
  s.min_p = float(get_number(o, "min_p", 0.0, 0.0, 1.0));
  if (const json* seed = field(o, "seed")) {
    if (!seed->is_number_integer()) reject(std::string("'seed' must be an integer, got ") + type_name(*seed), "seed");
    s.seed = seed->is_number_unsigned() ? seed->get<uint64_t>() : uint64_t(seed->get<int64_t>());
    r.seed_given = true;
  }
  parse_stop(o, r, lim);
  parse_thinking(o, r, lim);
  if (r.max_tokens && r.thinking.min_thinking > *r.max_tokens)
    reject("'min_thinking_tokens' is above 'max_tokens'", "min_thinking_tokens");
  return r;
}

}  // namespace

ParseResult parse_request(Endpoint endpoint, std::string_view body, const RequestLimits& limits) {
  try {
    return parse(endpoint, body, limits);
  } catch (const Reject& r) {
    return r.e;
  } catch (const std::exception& e) {
    // nlohmann type errors on paths not guarded above: still a 400, never a crash.
    return bad_request(std::string("malformed request: ") + e.what());
  }
}

}  // namespace s1::serve
