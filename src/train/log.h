// The training log (DIR/train_log.jsonl, one JSON object per optimizer step) and the
// loss curve drawn from it (DIR/loss.svg).
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace s1::train {

// Keeps only the records with step <= last_step (a resumed run repeats the steps after
// its checkpoint). A missing file is fine.
void truncate_log(const std::string& path, int64_t last_step);
void append_log(const std::string& path, const nlohmann::json& record);
// Draws loss per step from the log; returns false when the log has no records.
bool write_loss_svg(const std::string& log_path, const std::string& svg_path);

}  // namespace s1::train
