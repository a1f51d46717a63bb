// Model requests for the curation stages (traces, attempts, grading, classification):
// each request is answered from the cache table when it has been answered before,
// otherwise by one call to the model — from a pool of worker threads, under a rate
// limit, with retries and exponential backoff on retryable failures. Every answer is
// committed (cache row + calls row + the stage's own rows) in one transaction, written
// by the calling thread in batches, so a kill loses at most the requests in flight.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "curate/db.h"
#include "llm/client.h"

namespace s1::curate {

struct Job {
  int64_t qid = 0;
  std::string role;  // e.g. "trace", "attempt:qwen7b", "grade:trace", "classify#0"
  llm::Request req;
};

struct RunnerOptions {
  int concurrency = 4;
  double rpm = 0;          // requests per minute started, 0 = unlimited
  int retries = 4;         // retries of a retryable ClientError
  double backoff_s = 1.0;  // first wait; doubled each retry
  std::string label = "requests";
  bool quiet = false;
};

struct RunStats {
  int64_t jobs = 0, cache_hits = 0, calls = 0, failures = 0;
};

// The cache key: sha256 of the client's id and the request's canonical JSON.
std::string cache_key(const llm::Client& client, const llm::Request& req);

// `store(job, response, error)` runs on the calling thread inside the open
// transaction; `response` is null when the request failed for good (error says why).
using StoreFn = std::function<void(const Job&, const llm::Response*, const std::string& error)>;
RunStats run_jobs(Db& db, llm::Client& client, const std::vector<Job>& jobs, const RunnerOptions& opts,
                  const StoreFn& store);

nlohmann::json response_to_json(const llm::Response& r);
llm::Response response_from_json(const nlohmann::json& j);

}  // namespace s1::curate
