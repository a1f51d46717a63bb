#include "formats/safetensors.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace s1 {

namespace {

// Headers of real checkpoints are a few hundred KB (the 32B model's shards are ~100 KB);
// anything past this is a corrupt or hostile length field.
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

bool parse_dtype(const std::string& s, DType* out) {
  if (s == "F32") *out = DType::F32;
  else if (s == "F16") *out = DType::F16;
  else if (s == "BF16") *out = DType::BF16;
  else if (s == "I64") *out = DType::I64;
  else if (s == "I32") *out = DType::I32;
  else return false;
  return true;
}

}  // namespace

int64_t TensorInfo::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::vector<TensorInfo> parse_safetensors(const uint8_t* data, size_t size, const std::string& what,
                                          std::map<std::string, std::string>* metadata) {
  if (size < 8) fail(what, ": not a safetensors file (", size, " bytes, shorter than the 8-byte header length)");
  uint64_t hlen = 0;
  for (int i = 7; i >= 0; --i) hlen = hlen << 8 | data[i];
  if (hlen > kMaxHeaderBytes) fail(what, ": safetensors header length ", hlen, " is implausible (corrupt file?)");
  if (hlen > size - 8) fail(what, ": truncated: header says ", hlen, " bytes but the file has ", size - 8, " after the length");
  const char* hbeg = reinterpret_cast<const char*>(data + 8);
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(hbeg, hbeg + hlen);
  } catch (const nlohmann::json::exception& e) {
    fail(what, ": safetensors header is not valid JSON: ", e.what());
  }
  if (!header.is_object()) fail(what, ": safetensors header is not a JSON object");
  const uint8_t* body = data + 8 + hlen;
  const uint64_t body_size = size - 8 - hlen;

  std::vector<TensorInfo> out;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const auto& v = it.value();
    if (name == "__metadata__") {
      if (!v.is_object()) fail(what, ": __metadata__ is not an object");
      if (metadata)
        for (auto m = v.begin(); m != v.end(); ++m)
          (*metadata)[m.key()] = m.value().is_string() ? m.value().get<std::string>() : m.value().dump();
      continue;
    }
    auto where = [&] { return cat(what, ": tensor '", name, "'"); };
    if (!v.is_object()) fail(where(), ": entry is not an object");
    auto dt = v.find("dtype");
    auto sh = v.find("shape");
    auto off = v.find("data_offsets");
    if (dt == v.end() || !dt->is_string()) fail(where(), ": missing or non-string dtype");
    if (sh == v.end() || !sh->is_array()) fail(where(), ": missing or non-array shape");
    if (off == v.end() || !off->is_array() || off->size() != 2) fail(where(), ": data_offsets must be [begin, end]");
    TensorInfo t;
    t.name = name;
    t.file = what;
    if (!parse_dtype(dt->get<std::string>(), &t.dtype))
      fail(where(), ": unsupported dtype ", dt->get<std::string>(), " (supported: F32, F16, BF16, I64, I32)");
    uint64_t numel = 1;
    for (const auto& d : *sh) {
      if (!d.is_number_unsigned() && !(d.is_number_integer() && d.get<int64_t>() >= 0))
        fail(where(), ": shape entries must be non-negative integers");
      uint64_t x = d.get<uint64_t>();
      if (x != 0 && numel > std::numeric_limits<uint64_t>::max() / x) fail(where(), ": shape overflows");
      numel *= x;
      t.shape.push_back(static_cast<int64_t>(x));
    }
    for (const auto& o : *off)
      if (!o.is_number_unsigned() && !(o.is_number_integer() && o.get<int64_t>() >= 0))
        fail(where(), ": data_offsets must be non-negative integers");
    uint64_t b = (*off)[0].get<uint64_t>(), e = (*off)[1].get<uint64_t>();
    if (b > e) fail(where(), ": data_offsets begin ", b, " > end ", e);
    if (e > body_size) fail(where(), ": data_offsets end ", e, " is past the end of the data (", body_size, " bytes); truncated file?");
    uint64_t esize = dtype_size(t.dtype);
    if (numel > std::numeric_limits<uint64_t>::max() / esize || numel * esize != e - b)
      fail(where(), ": shape and dtype need ", numel, " x ", esize, " bytes but data_offsets span ", e - b);
    t.data = body + b;
    t.nbytes = e - b;
    out.push_back(std::move(t));
  }
  return out;
}

SafetensorsFile::SafetensorsFile(const std::string& path) : map_(path) {
  tensors_ = parse_safetensors(map_.data(), map_.size(), path, &metadata_);
}

SafetensorsWriter::SafetensorsWriter(const std::string& path, const std::vector<Spec>& specs,
                                     const std::map<std::string, std::string>& metadata)
    : path_(path), tmp_(path + ".partial") {
  nlohmann::ordered_json h = nlohmann::ordered_json::object();
  if (!metadata.empty()) h["__metadata__"] = metadata;
  uint64_t off = 0;
  for (const auto& s : specs) {
    uint64_t n = 1;
    for (int64_t d : s.shape) n *= uint64_t(d);
    uint64_t bytes = n / dtype_block(s.dtype) * dtype_size(s.dtype);
    h[s.name] = {{"dtype", dtype_name(s.dtype)}, {"shape", s.shape}, {"data_offsets", {off, off + bytes}}};
    off += bytes;
  }
  expected_ = off;
  std::string hs = h.dump();
  while (hs.size() % 8 != 0) hs.push_back(' ');  // keeps tensor data 8-byte aligned
  f_ = std::fopen(tmp_.c_str(), "wb");
  if (!f_) fail(tmp_, ": cannot create");
  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = uint8_t(uint64_t(hs.size()) >> (8 * i));
  if (std::fwrite(len, 1, 8, f_) != 8 || std::fwrite(hs.data(), 1, hs.size(), f_) != hs.size())
    fail(tmp_, ": write failed (disk full?)");
}

SafetensorsWriter::~SafetensorsWriter() {
  if (f_) {  // not finished: an error happened; leave no half-written file behind
    std::fclose(f_);
    std::remove(tmp_.c_str());
  }
}

void SafetensorsWriter::write(const void* data, size_t nbytes) {
  if (written_ + nbytes > expected_) fail(tmp_, ": more tensor bytes written than declared");
  if (nbytes && std::fwrite(data, 1, nbytes, f_) != nbytes) fail(tmp_, ": write failed (disk full?)");
  written_ += nbytes;
}

void SafetensorsWriter::finish() {
  if (written_ != expected_) fail(tmp_, ": ", written_, " tensor bytes written, ", expected_, " declared");
  bool ok = std::fflush(f_) == 0;
  ok = std::fclose(f_) == 0 && ok;
  f_ = nullptr;
  if (!ok) {
    std::remove(tmp_.c_str());
    fail(tmp_, ": write failed (disk full?)");
  }
  // Write-then-rename: a crash never leaves a half-written file under the real name.
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0) fail(path_, ": cannot rename from ", tmp_);
}

void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  std::vector<const TensorToWrite*> order;
  for (const auto& t : tensors) order.push_back(&t);
  // sorted by name, as the reference writer does
  std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->name < b->name; });
  std::vector<SafetensorsWriter::Spec> specs;
  for (const auto* t : order) specs.push_back({t->name, t->dtype, t->shape});
  SafetensorsWriter w(path, specs, metadata);
  for (const auto* t : order) w.write(t->data, t->nbytes);
  w.finish();
}

}  // namespace s1
