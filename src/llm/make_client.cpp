#include <cstdlib>

#include "llm/client.h"

namespace s1::llm {

std::unique_ptr<Client> make_client(const std::string& spec, const LocalOptions& local_defaults,
                                    const EndpointOptions& endpoint_defaults) {
  if (spec.rfind("local:", 0) == 0) {
    LocalOptions o = local_defaults;
    o.model_path = spec.substr(6);
    if (o.model_path.empty()) fail("--llm local:PATH: the path is empty");
    return make_local_client(o);
  }
  if (spec.rfind("http://", 0) == 0 || spec.rfind("https://", 0) == 0) {
    EndpointOptions o = endpoint_defaults;
    size_t hash = spec.find('#');
    o.base_url = spec.substr(0, hash);
    if (hash != std::string::npos) o.model = spec.substr(hash + 1);
    if (const char* k = std::getenv("OPENAI_API_KEY")) o.api_key = k;
    return make_endpoint_client(o);
  }
  fail("LLM '", spec, "': expected local:PATH or an http(s):// endpoint URL (optionally #model)");
}

}  // namespace s1::llm
