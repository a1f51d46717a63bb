// The safetensors format: an 8-byte little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets}}, then the raw tensor bytes. Tensors are used
// in place from the memory map. Every size and offset in the header is checked
// against the file before anything is read through it.
#pragma once
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/mapped_file.h"

namespace s1 {

struct TensorInfo {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;  // into the mapped file
  size_t nbytes = 0;
  std::string file;  // for error messages

  int64_t numel() const;
};

// Parses and validates a whole safetensors image (header + data) held in memory.
// `what` names the file in errors. Throws s1::Error; never reads out of bounds.
std::vector<TensorInfo> parse_safetensors(const uint8_t* data, size_t size, const std::string& what,
                                          std::map<std::string, std::string>* metadata = nullptr);

class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::string& path);
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::string& path() const { return map_.path(); }

 private:
  MappedFile map_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
};

// Writes tensors (name, dtype, shape, bytes) as one safetensors file, names sorted as
// the reference writer does; header padded to 8 bytes. Used by make-model and train.
struct TensorToWrite {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  const void* data;
  size_t nbytes;
};
void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

// Streaming writer for files larger than memory: declare every tensor first (the
// header needs all offsets), then write their bytes in declaration order. The file
// appears under its name only after finish(); until then it is PATH.partial.
class SafetensorsWriter {
 public:
  struct Spec {
    std::string name;
    DType dtype;
    std::vector<int64_t> shape;
  };
  SafetensorsWriter(const std::string& path, const std::vector<Spec>& specs,
                    const std::map<std::string, std::string>& metadata = {});
  ~SafetensorsWriter();
  // Appends bytes of the current tensor; a tensor may be written in several pieces.
  void write(const void* data, size_t nbytes);
  void finish();

 private:
  std::string path_, tmp_;
  std::FILE* f_ = nullptr;
  uint64_t expected_ = 0, written_ = 0;
};

}  // namespace s1
