// The local engine behind the Client interface. One model, one request at a time (a
// mutex): the CPU kernels already use every core for one sequence.
#include <algorithm>
#include <mutex>

#include "decode/controller.h"
#include "decode/generator.h"
#include "llm/client.h"
#include "llm/engine.h"
#include "llm/stop_strings.h"

namespace s1::llm {

namespace {

// Ends generation at a stop string and keeps the model from stopping before min_tokens.
class StopController : public Controller {
 public:
  StopController(const Tokenizer& tok, const std::vector<int32_t>& stop_ids, std::vector<std::string> stops,
                 int64_t min_tokens)
      : dec_(tok), stop_ids_(stop_ids), match_(std::move(stops)), min_tokens_(min_tokens) {}
  bool allow_stop(int32_t) override { return emitted_ >= min_tokens_; }
  void on_token(int32_t id, bool) override {
    ++emitted_;
    if (std::find(stop_ids_.begin(), stop_ids_.end(), id) != stop_ids_.end()) return;  // eos: not text
    match_.push(dec_.push(id));
  }
  std::optional<std::string> stop_reason() const override {
    if (match_.stopped()) return std::string("stop_string");
    return std::nullopt;
  }
  void finish() { match_.push(dec_.flush()); }
  const StopMatcher& matcher() const { return match_; }

 private:
  StreamDecoder dec_;
  const std::vector<int32_t>& stop_ids_;
  StopMatcher match_;
  int64_t min_tokens_;
  int64_t emitted_ = 0;
};

class LocalClient : public Client {
 public:
  explicit LocalClient(const LocalOptions& o)
      : opts_(o), eng_(Engine::open(o.model_path, EngineOptions{o.threads, o.chat_template, o.quant})) {}

  Response complete(const Request& req) override {
    if (req.max_tokens < 0) throw ClientError("max_tokens must be >= 0", 400, false);
    std::vector<int32_t> prompt;
    try {
      prompt = encode_prompt(req);
    } catch (const Error& e) {
      throw ClientError(cat("cannot build the prompt: ", e.what()), 400, false);
    }
    if (prompt.empty()) throw ClientError("the prompt is empty", 400, false);
    int64_t ctx = std::min<int64_t>(opts_.max_context, eng_.model->config().max_position);
    if (int64_t(prompt.size()) >= ctx)
      throw ClientError(cat("the prompt has ", prompt.size(), " tokens; the context holds ", ctx), 400, false);

    std::lock_guard<std::mutex> lock(mu_);
    KVCache kv(*eng_.model, std::min<int64_t>(ctx, int64_t(prompt.size()) + req.max_tokens + 1));
    GenerateParams gp;
    gp.max_new_tokens = req.max_tokens;
    gp.sampling.temperature = float(req.temperature);
    gp.sampling.top_p = float(req.top_p);
    gp.sampling.seed = req.seed.value_or(0);
    gp.stop_ids = eng_.stop_ids;
    gp.valid_vocab = eng_.valid_vocab;
    StopController ctl(eng_.tokenizer, eng_.stop_ids, req.stop, req.min_tokens);
    GenerateResult g;
    try {
      g = generate(*eng_.model, kv, prompt, gp, &ctl);
    } catch (const Error& e) {
      throw ClientError(cat("local generation failed: ", e.what()), 500, false);
    }
    ctl.finish();
    Response r;
    r.text = ctl.matcher().text();
    r.stop = ctl.matcher().which();
    r.finish_reason = (g.stop_reason == "length" || g.stop_reason == "context") ? "length" : "stop";
    r.prompt_tokens = int64_t(prompt.size());
    r.completion_tokens = int64_t(g.output_ids.size());
    return r;
  }

  std::string id() const override { return "local:" + opts_.model_path; }
  const Tokenizer* tokenizer() const override { return &eng_.tokenizer; }

 private:
  std::vector<int32_t> encode_prompt(const Request& req) const {
    if (!req.messages.empty()) {
      nlohmann::json msgs = nlohmann::json::array();
      for (const auto& m : req.messages) msgs.push_back({{"role", m.role}, {"content", m.content}});
      return eng_.tokenizer.encode(eng_.chat_template.apply(msgs, true));
    }
    std::vector<int32_t> ids;
    if (eng_.tokenizer.add_bos())
      if (auto b = eng_.tokenizer.token_id(eng_.tokenizer.bos_token())) ids.push_back(*b);
    auto body = eng_.tokenizer.encode(req.prompt);
    ids.insert(ids.end(), body.begin(), body.end());
    return ids;
  }

  LocalOptions opts_;
  Engine eng_;
  std::mutex mu_;
};

}  // namespace

std::unique_ptr<Client> make_local_client(const LocalOptions& opts) { return std::make_unique<LocalClient>(opts); }

}  // namespace s1::llm
