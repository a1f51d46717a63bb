// The decoder forward pass, once for every family:
//   x = embed(ids)
//   per layer: h = rmsnorm(x); q,k,v = h·Wq,k,v (+bias); [Qwen3: per-head rmsnorm of q,k]
//              rope(q,k); k,v -> cache; x += attention(q, cache)·Wo (+bias)
//              h = rmsnorm(x); x += (silu(h·Wg) * (h·Wu))·Wd
//   logits = rmsnorm(x)·W_head
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>

#include "backend/cpu/q8_interleaved.h"
#include "backend/cpu/quant.h"
#include "backend/cpu/weight_layout.h"
#include "core/error.h"
#include "model/model.h"

namespace s1 {

namespace {
// Prefill runs in chunks so that scratch memory stays bounded for long prompts.
constexpr int kMaxChunk = 256;
}  // namespace

std::vector<double> rope_inv_freq(const RopeConfig& r, int64_t head_dim) {
  std::vector<double> f(static_cast<size_t>(head_dim / 2));
  for (int64_t i = 0; i < head_dim / 2; ++i) f[i] = 1.0 / std::pow(r.theta, double(2 * i) / double(head_dim));
  if (r.type == RopeType::Linear) {
    for (auto& x : f) x /= r.factor;
  } else if (r.type == RopeType::Llama3) {
    // transformers' _compute_llama3_parameters: long wavelengths are slowed by `factor`,
    // short ones kept, the band between interpolated smoothly.
    const double old_ctx = double(r.original_max_position);
    const double low_wl = old_ctx / r.low_freq_factor, high_wl = old_ctx / r.high_freq_factor;
    for (auto& x : f) {
      const double wl = 2 * M_PI / x;
      if (wl < high_wl) continue;
      if (wl > low_wl) {
        x /= r.factor;
        continue;
      }
      const double smooth = (old_ctx / wl - r.low_freq_factor) / (r.high_freq_factor - r.low_freq_factor);
      x = (1 - smooth) * x / r.factor + smooth * x;
    }
  }
  return f;
}

KVCache::KVCache(const Model& m, int64_t max_ctx)
    : be_(m.backend()), layers_(m.config().layers), kv_heads_(m.config().kv_heads), head_dim_(m.config().head_dim),
      kv_dim_(m.config().kv_dim()), max_ctx_(max_ctx), bf16_(m.kv_bf16()), elem_(m.kv_bf16() ? 2 : 4),
      k_(static_cast<size_t>(layers_), nullptr), v_(static_cast<size_t>(layers_), nullptr) {
  if (max_ctx <= 0) fail("context size must be positive, got ", max_ctx);
}

KVCache::~KVCache() {
  if (arena_) be_.free(arena_);
}

size_t KVCache::bytes_per_token() const { return size_t(2 * layers_ * kv_dim_) * elem_; }

void KVCache::truncate(int64_t n) {
  if (n < 0 || n > pos_) fail("KV cache truncate to ", n, " outside 0..", pos_);
  pos_ = n;
}

void KVCache::fill_zeros_for_benchmark(int64_t n) {
  if (n > max_ctx_) fail("benchmark position ", n, " exceeds the context size ", max_ctx_);
  reserve(n);
  // Whole key blocks from the one holding pos_ (blocks are contiguous in both layouts).
  std::vector<float> zeros(size_t(head_dim_) * 1024, 0.0f);
  const int64_t from = pos_ / 16 * 16, to = (n + 15) / 16 * 16;
  for (int64_t l = 0; l < layers_; ++l)
    for (int64_t h = 0; h < kv_heads_; ++h)
      for (int64_t p = from; p < to; p += 1024) {
        // whole blocks: (h * cap_ + p) * head_dim_ elements in, in either layout
        const size_t cnt = size_t(std::min<int64_t>(1024, to - p)) * head_dim_ * elem_ / sizeof(float);
        const size_t at = size_t(h * cap_ + p) * head_dim_ * elem_;
        be_.copy(reinterpret_cast<float*>(k_[size_t(l)] + at), zeros.data(), cnt);
        be_.copy(reinterpret_cast<float*>(v_[size_t(l)] + at), zeros.data(), cnt);
      }
  pos_ = n;
}

void KVCache::reserve(int64_t n) {
  if (n <= cap_) return;
  // Grow geometrically (amortised copies) but never past max_ctx (rounded up to whole
  // 16-position key blocks).
  const int64_t cap = (std::min(max_ctx_, std::max<int64_t>({n, 2 * cap_, 256})) + 15) / 16 * 16;
  // One allocation for every layer's keys and values, so that even a short context's
  // cache is in huge pages (per-layer buffers under 2 MB got 4 KB ones).
  const size_t per = size_t(cap) * size_t(kv_dim_) * elem_;  // bytes of one layer's keys (or values)
  float* fresh = be_.alloc(per * size_t(2 * layers_) / sizeof(float));
  // whole key blocks (and value pairs): the same count serves both
  const size_t used = size_t((pos_ + 15) / 16 * 16) * size_t(head_dim_) * elem_;
  for (int64_t l = 0; l < layers_; ++l) {
    for (int kv = 0; kv < 2; ++kv) {
      uint8_t* to = reinterpret_cast<uint8_t*>(fresh) + (size_t(2 * l) + size_t(kv)) * per;
      uint8_t*& from = kv == 0 ? k_[size_t(l)] : v_[size_t(l)];
      if (from)
        for (int64_t h = 0; h < kv_heads_; ++h)
          be_.copy(reinterpret_cast<float*>(to + size_t(h * cap * head_dim_) * elem_),
                   reinterpret_cast<const float*>(from + size_t(h * cap_ * head_dim_) * elem_), used / sizeof(float));
      from = to;
    }
  }
  if (arena_) be_.free(arena_);
  arena_ = fresh;
  cap_ = cap;
}

Model::Model(ModelConfig cfg, std::unique_ptr<TensorSource> src, std::shared_ptr<Backend> backend, std::string path,
             const LoadOptions& opts)
    : cfg_(std::move(cfg)), src_(std::move(src)), be_(std::move(backend)), path_(std::move(path)) {
  w_ = bind_weights(cfg_, *src_);
  if (opts.quantize == DType::Q8_0) {
    auto q8 = [&](WeightMatrix& m) {
      if (m.dtype == DType::Q8_0) return;
      if (m.dtype != DType::F32 && m.dtype != DType::BF16 && m.dtype != DType::F16)
        fail("--quant q8_0 re-encodes f32 / f16 / bf16 weights; this model's weights are already ", dtype_name(m.dtype));
      if (!cpu::can_quantize_q8_0(m)) fail("cannot quantize a ", m.rows, "x", m.cols, " matrix to Q8_0 (columns must be a multiple of 32)");
      auto buf = make_streamed_buffer(size_t(m.rows) * size_t(m.cols / 32) * sizeof(cpu::BlockQ8_0));
      cpu::quantize_q8_0(m, reinterpret_cast<cpu::BlockQ8_0*>(buf.get()), be_->threads());
      m = WeightMatrix{DType::Q8_0, buf.get(), m.rows, m.cols};
      owned_.push_back(std::move(buf));
    };
    // The embedding table stays as stored (one row is read per token); the output head,
    // read whole every token, is quantised -- its own copy when the two are tied.
    q8(w_.lm_head);
    for (auto& L : w_.layers)
      for (WeightMatrix* m : {&L.wq, &L.wk, &L.wv, &L.wo, &L.w_gate, &L.w_up, &L.w_down}) q8(*m);
  } else if (opts.quantize != DType::F32) {
    fail("quantize at load supports q8_0 only, not ", dtype_name(opts.quantize));
  }
  if (opts.streamed_copy && streamed_copies_enabled()) copy_to_streamed_memory(opts.col_block, opts.q8_interleave);
  kv_bf16_ = choose_kv_bf16(opts.kv_cache);
  inv_freq_ = rope_inv_freq(cfg_.rope, cfg_.head_dim);
}

bool Model::choose_kv_bf16(LoadOptions::KvCache want) const {
  if (want == LoadOptions::KvCache::Auto)
    if (const char* e = std::getenv("S1_KV_CACHE")) {
      if (std::strcmp(e, "f32") == 0) want = LoadOptions::KvCache::F32;
      else if (std::strcmp(e, "bf16") == 0) want = LoadOptions::KvCache::BF16;
      else fail("S1_KV_CACHE=", e, ": expected f32 or bf16");
    }
  if (want != LoadOptions::KvCache::Auto) return want == LoadOptions::KvCache::BF16;
  // Auto: a model whose weights are all f32 keeps an f32 cache (reference runs, the
  // fixtures); any other, bf16 where attention reads it at full speed.
  bool all_f32 = w_.lm_head.dtype == DType::F32;
  for (const auto& L : w_.layers) all_f32 = all_f32 && L.wq.dtype == DType::F32 && L.w_down.dtype == DType::F32;
  return !all_f32 && be_->supports_bf16_kv();
}

void Model::copy_to_streamed_memory(int64_t col_block, bool q8_interleave) {
  // The matrices every token reads whole; the embedding table is read a row per token
  // and stays mapped (unless it is also the output head). Long rows are stored
  // column-blocked (WeightMatrix::col_block) for the one-token matmuls, and Q8_0 blocks
  // reordered for int8 dot products (Q8_0_IL) where the CPU has them.
  std::vector<WeightMatrix*> mats = {&w_.lm_head};
  for (auto& L : w_.layers)
    for (WeightMatrix* m : {&L.wq, &L.wk, &L.wv, &L.wo, &L.w_gate, &L.w_up, &L.w_down}) mats.push_back(m);
  size_t total = 0;
  for (WeightMatrix* m : mats) total += (m->bytes() + 63) / 64 * 64;
  if (total == 0) return;
  // Leave room for the KV cache and the page cache: copy only what fits easily. (Matrices
  // quantised at load already sit in streamed memory; they are copied once more, into
  // the new layout, and their first buffers freed.)
  const uint64_t avail = available_memory_bytes();
  if (avail == 0 || total > avail / 10 * 7) return;
  StreamedBuffer buf = make_streamed_buffer(total);
  size_t off = 0;
  const bool tied = w_.embed.data == w_.lm_head.data;
  for (WeightMatrix* m : mats) {
    // Q8_0_IL has its own default segments: its kernel's input is 2 bytes a column, so
    // rows stay whole up to 2560 columns (cpu::q8_il_decode_col_block).
    const bool il = q8_interleave && cpu::q8_il_path() && m->dtype == DType::Q8_0;
    const int64_t block = il && col_block < 0 ? cpu::q8_il_decode_col_block(m->cols) : cpu::decode_col_block(*m, col_block);
    *m = cpu::copy_col_blocked(*m, block, buf.get() + off);
    if (il && cpu::can_interleave_q8_0(*m)) *m = cpu::interleave_q8_0_in_place(*m);
    off += (m->bytes() + 63) / 64 * 64;
  }
  if (tied) w_.embed = w_.lm_head;
  owned_.clear();
  owned_.push_back(std::move(buf));
  streamed_copy_ = true;
}

Model::~Model() {
  for (float* p : {x_, x_next_, xn_, xb_, q_, att_, gate_, up_, logits_})
    if (p) be_->free(p);
}

void Model::ensure_scratch(int n) {
  if (n <= scratch_n_) return;
  for (float* p : {x_, x_next_, xn_, xb_, q_, att_, gate_, up_, logits_})
    if (p) be_->free(p);
  const size_t N = size_t(n);
  x_ = be_->alloc(N * cfg_.hidden);
  x_next_ = be_->alloc(N * cfg_.hidden);
  xn_ = be_->alloc(N * cfg_.hidden);
  xb_ = be_->alloc(N * std::max(cfg_.hidden, cfg_.q_dim()));
  q_ = be_->alloc(N * cfg_.q_dim());
  att_ = be_->alloc(N * cfg_.q_dim());
  // gate / up also hold new keys / values before they enter the cache
  gate_ = be_->alloc(N * std::max(cfg_.intermediate, cfg_.kv_dim()));
  up_ = be_->alloc(N * std::max(cfg_.intermediate, cfg_.kv_dim()));
  // (host backends write the logits straight into the caller's array: Model::head)
  logits_ = be_->host_memory() ? nullptr : be_->alloc(N * cfg_.vocab_size);
  scratch_n_ = n;
}

void Model::forward(KVCache& kv, std::span<const int32_t> tokens, float* logits, bool all_logits) {
  if (tokens.empty()) fail("forward: no tokens");
  if (kv.pos() + int64_t(tokens.size()) > kv.max_ctx())
    fail("context full: ", kv.pos(), " + ", tokens.size(), " tokens exceed the context size ", kv.max_ctx());
  for (int32_t id : tokens)
    if (id < 0 || id >= cfg_.vocab_size) fail("token id ", id, " is outside the vocabulary (0..", cfg_.vocab_size - 1, ")");
  for (size_t i = 0; i < tokens.size(); i += kMaxChunk) {
    const int n = static_cast<int>(std::min<size_t>(kMaxChunk, tokens.size() - i));
    const bool last = i + n == tokens.size();
    float* out = all_logits ? logits + i * cfg_.vocab_size : (last ? logits : nullptr);
    forward_chunk(kv, tokens.data() + i, n, out, all_logits);
  }
}

void Model::forward_chunk(KVCache& kv, const int32_t* ids, int n, float* logits, bool all_logits) {
  Backend& be = *be_;
  const ModelConfig& c = cfg_;
  ensure_scratch(n);
  kv.reserve(kv.pos() + n);
  const int64_t pos0 = kv.pos();
  const int64_t KV = c.kv_dim();
  const AttentionShape shape = attention_shape(kv);
  // This chunk's keys and values land in scratch (the gate / up buffers, idle until the
  // MLP), are rotated there, then copied into the cache.
  auto pass = [&] {
    run_layers(
        ids, n,
        [&](int64_t l) {
          if (n == 1) prefetch_kv_during_qkv(kv, l);
          return std::pair{gate_, up_};
        },
        [&](int64_t l, float* k_new, float* v_new) {
          be.rope(q_, n, int(c.heads), int(c.head_dim), c.q_dim(), pos0, inv_freq_.data());
          be.rope(k_new, n, int(c.kv_heads), int(c.head_dim), KV, pos0, inv_freq_.data());
          store_kv(kv, l, k_new, v_new, n, pos0);
          be.attention(q_, n, kv.k_[l], kv.v_[l], pos0, shape, att_);
        });
    // Only the rows whose logits are wanted go through the (large) output head.
    if (logits) head(all_logits ? x_ : x_ + int64_t(n - 1) * c.hidden, all_logits ? n : 1, logits);
  };
  // One decoded token: ~100 short parallel calls, which the backend can start cheaply
  // inside a session (Backend::token_session); prefill's few long ones need not.
  if (n == 1)
    be.token_session(pass);
  else
    pass();
  kv.pos_ = pos0 + n;
}

void Model::forward_batch(std::span<KVCache* const> kvs, std::span<const int32_t> tokens, float* logits) {
  const int n = int(tokens.size());
  if (n == 0) fail("forward_batch: no sequences");
  if (kvs.size() != tokens.size()) fail("forward_batch: ", kvs.size(), " caches for ", tokens.size(), " tokens");
  for (int i = 0; i < n; ++i) {
    if (tokens[i] < 0 || tokens[i] >= cfg_.vocab_size)
      fail("token id ", tokens[i], " is outside the vocabulary (0..", cfg_.vocab_size - 1, ")");
    if (kvs[i]->pos() + 1 > kvs[i]->max_ctx()) fail("context full: sequence ", i, " is at ", kvs[i]->pos(), " of ", kvs[i]->max_ctx());
    for (int j = 0; j < i; ++j)
      if (kvs[j] == kvs[i]) fail("forward_batch: sequence ", i, " shares its cache with sequence ", j);
  }
  if (n > kMaxChunk) fail("forward_batch: at most ", kMaxChunk, " sequences at once, got ", n);
  Backend& be = *be_;
  const ModelConfig& c = cfg_;
  ensure_scratch(n);
  for (KVCache* kv : kvs) kv->reserve(kv->pos() + 1);
  const int64_t Q = c.q_dim(), KV = c.kv_dim();
  // New keys and values land in scratch first (the gate / up buffers, idle until the
  // MLP), then each row is rotated at its own position and
  // copied into its own cache.
  run_layers(
      tokens.data(), n, [&](int64_t) { return std::pair{gate_, up_}; },
      [&](int64_t l, float* k_new, float* v_new) {
        for (int i = 0; i < n; ++i) {
          KVCache& kv = *kvs[i];
          const int64_t pos = kv.pos();
          float* q = q_ + i * Q;
          be.rope(q, 1, int(c.heads), int(c.head_dim), Q, pos, inv_freq_.data());
          be.rope(k_new + i * KV, 1, int(c.kv_heads), int(c.head_dim), KV, pos, inv_freq_.data());
          store_kv(kv, l, k_new + i * KV, v_new + i * KV, 1, pos);
          be.attention(q, 1, kv.k_[l], kv.v_[l], pos, attention_shape(kv), att_ + i * Q);
        }
      });
  for (KVCache* kv : kvs) kv->pos_ += 1;
  head(x_, n, logits);
}

void Model::prefetch_kv_during_qkv(const KVCache& kv, int64_t l) {
  // One-token decode: the layer's cache, cold since the previous token (the whole model's
  // weights streamed through the caches since), is attended right after the Q/K/V matmul.
  // Head by head, keys then values, so a thread's share is one head's.
  const size_t used = size_t((kv.pos_ + 15) / 16 * 16) * size_t(kv.head_dim_) * kv.elem_;
  const size_t head = size_t(kv.cap_ * kv.head_dim_) * kv.elem_;
  Backend::Region regions[32];
  const int64_t heads = std::min<int64_t>(kv.kv_heads_, 16);
  for (int64_t h = 0; h < heads; ++h) {
    regions[2 * h] = {kv.k_[size_t(l)] + size_t(h) * head, used};
    regions[2 * h + 1] = {kv.v_[size_t(l)] + size_t(h) * head, used};
  }
  be_->prefetch_during_next(std::span<const Backend::Region>(regions, size_t(2 * heads)));
}

Model::DecodeReads Model::decode_reads(const KVCache& kv) const {
  DecodeReads out;
  out.weights.push_back({w_.lm_head.data, w_.lm_head.bytes()});
  for (const auto& L : w_.layers)
    for (const WeightMatrix* m : {&L.wq, &L.wk, &L.wv, &L.wo, &L.w_gate, &L.w_up, &L.w_down})
      out.weights.push_back({m->data, m->bytes()});
  // a kv head's first kv.pos() positions: its run's first bytes in either layout (KVCache::k_index)
  const size_t used = size_t(kv.pos_) * size_t(kv.head_dim_) * kv.elem_;
  const size_t head = size_t(kv.cap_ * kv.head_dim_) * kv.elem_;
  out.kv_heads.resize(size_t(kv.kv_heads_));
  if (used > 0)
    for (int64_t h = 0; h < kv.kv_heads_; ++h)
      for (int64_t l = 0; l < kv.layers_; ++l)
        for (const uint8_t* base : {kv.k_[size_t(l)], kv.v_[size_t(l)]})
          out.kv_heads[size_t(h)].push_back({base + size_t(h) * head, used});
  return out;
}

AttentionShape Model::attention_shape(const KVCache& kv) const {
  const ModelConfig& c = cfg_;
  return AttentionShape{int(c.heads), int(c.kv_heads), int(c.head_dim), c.q_dim(), c.head_dim, kv.cap_ * c.head_dim,
                        !kv.bf16_, kv.bf16_};
}

void Model::store_kv(KVCache& kv, int64_t l, const float* k_rows, const float* v_rows, int n, int64_t pos0) {
  const int64_t KV = cfg_.kv_dim(), D = cfg_.head_dim;
  for (int t = 0; t < n; ++t)
    for (int64_t h = 0; h < cfg_.kv_heads; ++h) {
      const float* k = k_rows + t * KV + h * D;
      const float* v = v_rows + t * KV + h * D;
      if (kv.bf16_) {  // a key's dimension pairs are 32 apart, a value's dimensions 2
        be_->store_bf16(reinterpret_cast<uint16_t*>(kv.k_[l]) + kv.k_index(h, pos0 + t), 32, 2, k, size_t(D));
        be_->store_bf16(reinterpret_cast<uint16_t*>(kv.v_[l]) + kv.v_index(h, pos0 + t), 2, 1, v, size_t(D));
      } else {
        be_->copy_strided(reinterpret_cast<float*>(kv.k_[l]) + kv.k_index(h, pos0 + t), 16, k, size_t(D));
        be_->copy(reinterpret_cast<float*>(kv.v_[l]) + kv.v_index(h, pos0 + t), v, size_t(D));
      }
    }
}

void Model::run_layers(const int32_t* ids, int n, const std::function<std::pair<float*, float*>(int64_t)>& kv_rows,
                       const std::function<void(int64_t, float*, float*)>& attend) {
  Backend& be = *be_;
  const ModelConfig& c = cfg_;
  const int H = int(c.hidden);
  const float eps = float(c.rms_eps);

  // x_ += y, then xn_ = rmsnorm(x_) * w: into x_next_, which becomes x_ (see add_rmsnorm)
  auto residual = [&](const float* y, const std::vector<float>& w) {
    be.add_rmsnorm(x_, y, x_next_, w.data(), n, H, eps, xn_);
    std::swap(x_, x_next_);
  };
  be.embed(ids, n, w_.embed, x_);
  for (int64_t l = 0; l < c.layers; ++l) {
    const LayerWeights& L = w_.layers[l];
    auto [k_new, v_new] = kv_rows(l);

    if (l == 0)
      be.rmsnorm(x_, L.attn_norm.data(), n, H, eps, xn_);
    else
      residual(xb_, L.attn_norm);  // the last layer's MLP output joins the stream
    // (the Q/K/V biases added by the matmul call itself, where its rows are computed)
    const bool qb = c.qkv_bias;
    be.matmul_same_input(xn_, n, {{&L.wq, q_, qb ? L.bq.data() : nullptr}, {&L.wk, k_new, qb ? L.bk.data() : nullptr},
                                  {&L.wv, v_new, qb ? L.bv.data() : nullptr}});
    if (c.qk_norm) {
      be.rmsnorm(q_, L.q_norm.data(), n * int(c.heads), int(c.head_dim), eps, q_);
      be.rmsnorm(k_new, L.k_norm.data(), n * int(c.kv_heads), int(c.head_dim), eps, k_new);
    }
    attend(l, k_new, v_new);  // rope, cache, attention -> att_
    be.matmul(att_, n, L.wo, xb_);
    if (c.o_bias) be.add_bias(xb_, n, H, L.bo.data());

    residual(xb_, L.ffn_norm);
    const bool mb = c.mlp_bias;
    be.mlp(xn_, n, {&L.w_gate, gate_, mb ? L.b_gate.data() : nullptr}, {&L.w_up, up_, mb ? L.b_up.data() : nullptr},
           {&L.w_down, xb_, mb ? L.b_down.data() : nullptr});
  }
  if (c.layers > 0) be.add(x_, xb_, size_t(n) * H);  // the last layer's MLP output
}

void Model::head(const float* rows, int nrows, float* logits) {
  Backend& be = *be_;
  be.rmsnorm(rows, w_.final_norm.data(), nrows, int(cfg_.hidden), float(cfg_.rms_eps), xb_);
  if (be.host_memory()) return be.matmul(xb_, nrows, w_.lm_head, logits);
  be.matmul(xb_, nrows, w_.lm_head, logits_);
  be.to_host(logits, logits_, size_t(nrows) * cfg_.vocab_size);
}

}  // namespace s1
