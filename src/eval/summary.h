// summary.json: per (method, budget) point accuracy with its bootstrap interval, mean
// thinking / answer tokens, maj@k / cov@k, forced ends and Waits; per method the paper's
// Control / Scaling / Performance; and how noisy the benchmark's size makes all of it.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "eval/sample.h"

namespace s1::eval {

struct SweepConfig;

nlohmann::json build_summary(const SweepConfig& cfg, const std::vector<SampleRecord>& records);

// The summary as a plain-text table (what `s1 eval` prints at the end).
std::string summary_table(const nlohmann::json& summary);

}  // namespace s1::eval
