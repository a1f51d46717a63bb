// A loaded model: its config, its weights bound to roles, the files that back them,
// and the forward pass over a KV cache. The forward pass is written once for every
// supported family (Qwen2, Qwen3, Llama); the config's switches select bias, q/k norm,
// rope scaling and the tied head. Kernels come from a Backend.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "core/streamed_memory.h"
#include "model/config.h"
#include "model/weights.h"

namespace s1 {

class Model;

// Keys and values of every layer for one sequence. Grows on demand up to `max_ctx`.
class KVCache {
 public:
  KVCache(const Model& m, int64_t max_ctx);
  ~KVCache();
  KVCache(const KVCache&) = delete;
  KVCache& operator=(const KVCache&) = delete;

  int64_t pos() const { return pos_; }          // tokens already in the cache
  int64_t max_ctx() const { return max_ctx_; }
  void truncate(int64_t n);                      // forget positions >= n (n <= pos)
  // For benchmarks: make positions < n count as filled (zeros) without computing them;
  // decode speed at a position does not depend on the cached values.
  void fill_zeros_for_benchmark(int64_t n);
  size_t bytes_per_token() const;
  // Keys and values stored as bf16 (AttentionShape::bf16_kv), else f32: the model's choice
  // (Model::kv_bf16).
  bool bf16() const { return bf16_; }

 private:
  friend class Model;
  void reserve(int64_t n);
  // Element index of kv head h's position pos, dimension 0, in a layer's keys (the key's
  // other dimensions follow in the layout's order) and in its values.
  int64_t k_index(int64_t h, int64_t pos) const {
    return h * cap_ * head_dim_ + (bf16_ ? key_index_bf16(pos, 0, head_dim_) : key_block_index(pos, head_dim_));
  }
  int64_t v_index(int64_t h, int64_t pos) const {
    return h * cap_ * head_dim_ + (bf16_ ? value_index_bf16(pos, 0, head_dim_) : pos * head_dim_);
  }
  // Head-major: each layer's keys (and values) are [kv head][position...], so the thread
  // attending with one kv head reads one contiguous run of memory (positions interleaved
  // across heads halved decode attention's read rate, backend/README.md). f32 values are
  // [position][head_dim]; f32 keys are blocks of 16 positions, dimension-major inside a
  // block (AttentionShape::key_blocks); bf16 ones are AttentionShape::bf16_kv's pair
  // layouts. cap_ is a multiple of 16.
  Backend& be_;
  int64_t layers_, kv_heads_, head_dim_, kv_dim_, max_ctx_, cap_ = 0, pos_ = 0;
  bool bf16_ = false;
  size_t elem_ = 4;                      // bytes per element
  std::vector<uint8_t*> k_, v_;          // per layer, inside arena_
  float* arena_ = nullptr;
};

struct LoadOptions {
  // Copy the matrices read at every token out of their file mapping into anonymous
  // huge-page memory (core/streamed_memory.h: ~1.5x the per-core read rate of 4 KB file
  // pages here). Skipped when they would not fit in available memory, or with
  // S1_HUGE_PAGES=0 in the environment.
  bool streamed_copy = true;
  // Re-encode every weight matrix at load (DType::Q8_0: about half the bytes of bf16
  // per decoded token). F32 here means: keep the stored formats.
  DType quantize = DType::F32;
  // Columns per segment of the column-blocked layout given to long rows in the streamed
  // copy (backend/cpu/weight_layout.h); -1: the default, 0: plain rows everywhere.
  int64_t col_block = -1;
  // Q8_0 matrices of the streamed copy reordered for the CPU's int8 dot products
  // (DType::Q8_0_IL, backend/cpu/q8_interleaved.h) where it has AVX512-VNNI; the same
  // values. false (or S1_Q8_IL=0) keeps Q8_0 and its int16 kernel.
  bool q8_interleave = true;
  // The KV cache's element type. Auto: bf16 where the backend attends a bf16 cache at
  // full speed (AVX512-BF16) and the weights are not f32 -- what transformers keeps for a
  // bf16 model; f32 otherwise. The environment's S1_KV_CACHE=f32|bf16 overrides Auto.
  enum class KvCache { Auto, F32, BF16 };
  KvCache kv_cache = KvCache::Auto;
};

class Model {
 public:
  // A Hugging Face folder (config.json + safetensors). Throws s1::Error naming the file.
  static std::unique_ptr<Model> load(const std::string& path, std::shared_ptr<Backend> backend,
                                     const LoadOptions& opts = {});
  Model(ModelConfig cfg, std::unique_ptr<TensorSource> src, std::shared_ptr<Backend> backend, std::string path,
        const LoadOptions& opts = {});
  ~Model();

  const ModelConfig& config() const { return cfg_; }
  const ModelWeights& weights() const { return w_; }
  Backend& backend() const { return *be_; }
  const std::string& path() const { return path_; }
  const TensorSource& tensors() const { return *src_; }
  // Whether the per-token weights were copied into huge-page memory at load.
  bool weights_in_streamed_memory() const { return streamed_copy_; }
  // Whether its KV caches hold bf16 (LoadOptions::kv_cache).
  bool kv_bf16() const { return kv_bf16_; }
  // The memory the last token decoded into kv read (s1 bench --plain-read reads just
  // this): every weight matrix (the output head and each layer's seven; the norms' few KB
  // left out), whose rows the threads share, and per kv head the keys and values of its
  // kv.pos() positions in every layer, which one thread attends.
  struct DecodeReads {
    std::vector<Backend::Region> weights;
    std::vector<std::vector<Backend::Region>> kv_heads;
  };
  DecodeReads decode_reads(const KVCache& kv) const;

  // Runs `tokens` at positions kv.pos() .. and appends them to the cache. Writes the
  // logits (host memory, vocab_size floats per row) of the last token, or of every
  // token when all_logits. Throws s1::Error if the context would overflow.
  void forward(KVCache& kv, std::span<const int32_t> tokens, float* logits, bool all_logits = false);

  // Batched decoding: one token for each of several sequences, each with its own cache
  // (distinct caches, any positions), every weight read once for all of them. Writes
  // vocab_size logits per sequence, in order. Throws s1::Error like forward.
  void forward_batch(std::span<KVCache* const> kvs, std::span<const int32_t> tokens, float* logits);

 private:
  void forward_chunk(KVCache& kv, const int32_t* ids, int n, float* logits, bool all_logits);
  void ensure_scratch(int n);
  void copy_to_streamed_memory(int64_t col_block, bool q8_interleave);
  bool choose_kv_bf16(LoadOptions::KvCache want) const;
  void prefetch_kv_during_qkv(const KVCache& kv, int64_t l);
  AttentionShape attention_shape(const KVCache& kv) const;
  // Copies n rows of new keys / values (kv_dim apart, as the projections write them) into
  // the cache at positions pos0..pos0+n-1 of layer l.
  void store_kv(KVCache& kv, int64_t l, const float* k_rows, const float* v_rows, int n, int64_t pos0);
  // The layer stack over n rows of ids. kv_rows(l) says where the new keys / values go;
  // attend(l, k_new, v_new) applies rope, fills the caches and writes attention into att_.
  void run_layers(const int32_t* ids, int n, const std::function<std::pair<float*, float*>(int64_t)>& kv_rows,
                  const std::function<void(int64_t, float*, float*)>& attend);
  // final norm + output head over nrows rows -> host logits
  void head(const float* rows, int nrows, float* logits);

  ModelConfig cfg_;
  std::unique_ptr<TensorSource> src_;
  std::shared_ptr<Backend> be_;
  std::string path_;
  ModelWeights w_;
  std::vector<StreamedBuffer> owned_;  // re-encoded weights, or weights copied out of their files
  bool streamed_copy_ = false;
  bool kv_bf16_ = false;
  std::vector<double> inv_freq_;
  // scratch activations for up to scratch_n_ tokens: the residual stream x_ (and x_next_,
  // the two swapped at each residual step, Backend::add_rmsnorm), its normalised rows
  // xn_, the sublayers' outputs xb_
  int scratch_n_ = 0;
  float *x_ = nullptr, *x_next_ = nullptr, *xn_ = nullptr, *xb_ = nullptr, *q_ = nullptr, *att_ = nullptr,
        *gate_ = nullptr, *up_ = nullptr, *logits_ = nullptr;
};

// Rotary inverse frequencies for head_dim, with the config's scaling applied.
std::vector<double> rope_inv_freq(const RopeConfig& r, int64_t head_dim);

}  // namespace s1
