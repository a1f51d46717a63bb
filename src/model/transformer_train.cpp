// Training forward / backward. The forward mirrors Model::forward_chunk line for line
// (same Backend calls, same switches); the backward walks it in reverse:
//   x_out = x_mid + down(silu(g) * u),  [g | u] = rmsnorm(x_mid)·[Wg; Wu]
//   x_mid = x_in + Wo·attention(rope(qnorm(q)), rope(knorm(k)), v),  [q|k|v] = rmsnorm(x_in)·[Wq; Wk; Wv] (+b)
// Weight gradients use dW += dYᵀ·X, input gradients dX = dY·W (train_kernels::gemm_acc).
#include "model/transformer_train.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "model/model.h"
#include "model/train_kernels.h"

namespace s1 {
namespace tk = train_kernels;

namespace {
constexpr int64_t kHeadChunk = 256;  // logit rows per pass through the output head

WeightMatrix f32_matrix(const float* p, int64_t rows, int64_t cols) { return WeightMatrix{DType::F32, p, rows, cols}; }

void zero(std::vector<float>& v, size_t n) { v.assign(n, 0.0f); }

size_t bytes_of(const std::vector<float>& v) { return v.size() * sizeof(float); }
}  // namespace

TrainGraph::TrainGraph(const ParamLayout& layout, Backend& be, bool checkpoint_activations)
    : lay_(layout), c_(layout.config()), be_(be), ckpt_(checkpoint_activations),
      inv_freq_(rope_inv_freq(layout.config().rope, layout.config().head_dim)),
      acts_(size_t(layout.config().layers)) {}

void TrainGraph::embed(const float* P, const std::vector<int32_t>& ids, std::vector<float>& x) {
  const int64_t H = c_.hidden;
  x.resize(ids.size() * size_t(H));
  be_.embed(ids.data(), int(ids.size()), f32_matrix(P + lay_.embed, c_.vocab_size, H), x.data());
}

void TrainGraph::layer_forward(size_t l, const float* P, Acts& A, int64_t n, std::vector<float>& xout) {
  const ModelConfig& c = c_;
  const auto& o = lay_.layers[l];
  const int64_t H = c.hidden, Q = c.q_dim(), KV = c.kv_dim(), I = c.intermediate, QKV = Q + 2 * KV;
  const int nh = int(c.heads), nkv = int(c.kv_heads), D = int(c.head_dim);
  const float eps = float(c.rms_eps);
  const size_t N = size_t(n);

  A.h1.resize(N * H);
  be_.rmsnorm(A.xin.data(), P + o.attn_norm, int(n), int(H), eps, A.h1.data());
  A.qkv.resize(N * QKV);
  be_.matmul(A.h1.data(), int(n), f32_matrix(P + o.wqkv, QKV, H), A.qkv.data());
  if (o.bqkv != ParamLayout::kNone) be_.add_bias(A.qkv.data(), int(n), int(QKV), P + o.bqkv);
  A.q.resize(N * Q);
  A.k.resize(N * KV);
  A.v.resize(N * KV);
  for (size_t t = 0; t < N; ++t) {
    const float* r = A.qkv.data() + t * QKV;
    std::memcpy(A.q.data() + t * Q, r, Q * sizeof(float));
    std::memcpy(A.k.data() + t * KV, r + Q, KV * sizeof(float));
    std::memcpy(A.v.data() + t * KV, r + Q + KV, KV * sizeof(float));
  }
  if (c.qk_norm) {
    be_.rmsnorm(A.q.data(), P + o.q_norm, int(n) * nh, D, eps, A.q.data());
    be_.rmsnorm(A.k.data(), P + o.k_norm, int(n) * nkv, D, eps, A.k.data());
  }
  A.att.resize(N * Q);
  const AttentionShape shape{nh, nkv, D, Q, KV, D};
  for (const auto& s : segs_) {
    be_.rope(A.q.data() + s.off * Q, int(s.len), nh, D, Q, 0, inv_freq_.data());
    be_.rope(A.k.data() + s.off * KV, int(s.len), nkv, D, KV, 0, inv_freq_.data());
    be_.attention(A.q.data() + s.off * Q, int(s.len), A.k.data() + s.off * KV, A.v.data() + s.off * KV, 0, shape,
                  A.att.data() + s.off * Q);
  }
  tmp_.resize(N * H);
  be_.matmul(A.att.data(), int(n), f32_matrix(P + o.wo, H, Q), tmp_.data());
  if (o.bo != ParamLayout::kNone) be_.add_bias(tmp_.data(), int(n), int(H), P + o.bo);
  A.xmid = A.xin;
  be_.add(A.xmid.data(), tmp_.data(), N * H);

  A.h2.resize(N * H);
  be_.rmsnorm(A.xmid.data(), P + o.ffn_norm, int(n), int(H), eps, A.h2.data());
  A.gu.resize(N * 2 * I);
  be_.matmul(A.h2.data(), int(n), f32_matrix(P + o.wgu, 2 * I, H), A.gu.data());
  if (o.bgu != ParamLayout::kNone) be_.add_bias(A.gu.data(), int(n), int(2 * I), P + o.bgu);
  A.act.resize(N * I);
  for (size_t t = 0; t < N; ++t) {
    const float* g = A.gu.data() + t * 2 * I;
    be_.swiglu(g, g + I, size_t(I), A.act.data() + t * I);
  }
  be_.matmul(A.act.data(), int(n), f32_matrix(P + o.wdown, H, I), tmp_.data());
  if (o.bdown != ParamLayout::kNone) be_.add_bias(tmp_.data(), int(n), int(H), P + o.bdown);
  xout = A.xmid;
  be_.add(xout.data(), tmp_.data(), N * H);
}

void TrainGraph::layer_backward(size_t l, const float* P, float* G, const Acts& A, int64_t n, std::vector<float>& dx) {
  const ModelConfig& c = c_;
  const auto& o = lay_.layers[l];
  const int64_t H = c.hidden, Q = c.q_dim(), KV = c.kv_dim(), I = c.intermediate, QKV = Q + 2 * KV;
  const int nh = int(c.heads), nkv = int(c.kv_heads), D = int(c.head_dim);
  const float eps = float(c.rms_eps);
  const int th = be_.threads();
  const size_t N = size_t(n);

  // MLP: x_out = x_mid + act·Wdownᵀ
  tk::gemm_acc(H, I, n, dx.data(), 1, H, A.act.data(), I, G + o.wdown, I, th);
  if (o.bdown != ParamLayout::kNone) tk::colsum_acc(dx.data(), n, H, G + o.bdown);
  zero(dact_, N * I);
  tk::gemm_acc(n, I, H, dx.data(), H, 1, P + o.wdown, I, dact_.data(), I, th);
  dgu_.resize(N * 2 * I);
  tk::swiglu_backward(A.gu.data(), dact_.data(), n, I, dgu_.data());
  tk::gemm_acc(2 * I, H, n, dgu_.data(), 1, 2 * I, A.h2.data(), H, G + o.wgu, H, th);
  if (o.bgu != ParamLayout::kNone) tk::colsum_acc(dgu_.data(), n, 2 * I, G + o.bgu);
  zero(dh_, N * H);
  tk::gemm_acc(n, H, 2 * I, dgu_.data(), 2 * I, 1, P + o.wgu, H, dh_.data(), H, th);
  tk::rmsnorm_backward(A.xmid.data(), P + o.ffn_norm, dh_.data(), n, H, eps, dx.data(), G + o.ffn_norm);

  // Attention: x_mid = x_in + att·Woᵀ
  tk::gemm_acc(H, Q, n, dx.data(), 1, H, A.att.data(), Q, G + o.wo, Q, th);
  if (o.bo != ParamLayout::kNone) tk::colsum_acc(dx.data(), n, H, G + o.bo);
  zero(datt_, N * Q);
  tk::gemm_acc(n, Q, H, dx.data(), H, 1, P + o.wo, Q, datt_.data(), Q, th);
  dq_.resize(N * Q);
  dk_.resize(N * KV);
  dv_.resize(N * KV);
  for (const auto& s : segs_) {
    tk::attention_backward(A.q.data() + s.off * Q, A.k.data() + s.off * KV, A.v.data() + s.off * KV,
                           datt_.data() + s.off * Q, s.len, nh, nkv, D, dq_.data() + s.off * Q,
                           dk_.data() + s.off * KV, dv_.data() + s.off * KV, th);
    tk::rope_backward(dq_.data() + s.off * Q, s.len, nh, D, Q, inv_freq_.data());
    tk::rope_backward(dk_.data() + s.off * KV, s.len, nkv, D, KV, inv_freq_.data());
  }
  if (c.qk_norm) {
    // The norms saw q and k before rope, as the projections left them (in qkv).
    for (int which = 0; which < 2; ++which) {
      const int64_t W = which == 0 ? Q : KV, col = which == 0 ? 0 : Q;
      std::vector<float>& dgrad = which == 0 ? dq_ : dk_;
      pre_.resize(N * W);
      for (size_t t = 0; t < N; ++t) std::memcpy(pre_.data() + t * W, A.qkv.data() + t * QKV + col, W * sizeof(float));
      zero(dpre_, N * W);
      tk::rmsnorm_backward(pre_.data(), P + (which == 0 ? o.q_norm : o.k_norm), dgrad.data(), n * (W / D), D, eps,
                           dpre_.data(), G + (which == 0 ? o.q_norm : o.k_norm));
      dgrad.swap(dpre_);
    }
  }
  dqkv_.resize(N * QKV);
  for (size_t t = 0; t < N; ++t) {
    float* r = dqkv_.data() + t * QKV;
    std::memcpy(r, dq_.data() + t * Q, Q * sizeof(float));
    std::memcpy(r + Q, dk_.data() + t * KV, KV * sizeof(float));
    std::memcpy(r + Q + KV, dv_.data() + t * KV, KV * sizeof(float));
  }
  tk::gemm_acc(QKV, H, n, dqkv_.data(), 1, QKV, A.h1.data(), H, G + o.wqkv, H, th);
  if (o.bqkv != ParamLayout::kNone) tk::colsum_acc(dqkv_.data(), n, QKV, G + o.bqkv);
  zero(dh_, N * H);
  tk::gemm_acc(n, H, QKV, dqkv_.data(), QKV, 1, P + o.wqkv, H, dh_.data(), H, th);
  tk::rmsnorm_backward(A.xin.data(), P + o.attn_norm, dh_.data(), n, H, eps, dx.data(), G + o.attn_norm);
}

double TrainGraph::forward_backward(const float* P, float* G, std::span<const TrainSequence> batch, float loss_scale) {
  const ModelConfig& c = c_;
  const int64_t H = c.hidden, V = c.vocab_size;
  const float eps = float(c.rms_eps);
  const int th = be_.threads();
  std::vector<int32_t> ids, targets;
  segs_.clear();
  for (const auto& s : batch) {
    if (s.ids.size() != s.targets.size()) fail("training sequence: ", s.ids.size(), " ids but ", s.targets.size(), " targets");
    if (s.ids.empty()) continue;
    segs_.push_back({int64_t(ids.size()), int64_t(s.ids.size())});
    for (int32_t id : s.ids)
      if (id < 0 || id >= V) fail("token id ", id, " is outside the vocabulary (0..", V - 1, ")");
    for (int32_t tg : s.targets)
      if (tg != kIgnoreIndex && (tg < 0 || tg >= V)) fail("target id ", tg, " is outside the vocabulary (0..", V - 1, ")");
    ids.insert(ids.end(), s.ids.begin(), s.ids.end());
    targets.insert(targets.end(), s.targets.begin(), s.targets.end());
  }
  const int64_t n = int64_t(ids.size());
  if (n == 0) return 0.0;
  const size_t N = size_t(n);

  // Forward, keeping each layer's input (and, without checkpointing, everything).
  std::vector<float> x;
  embed(P, ids, x);
  act_bytes_ = 0;
  for (size_t l = 0; l < acts_.size(); ++l) {
    Acts& A = ckpt_ ? work_ : acts_[l];
    acts_[l].xin = x;
    if (ckpt_) A.xin = x;
    layer_forward(l, P, A, n, x);
    act_bytes_ += bytes_of(acts_[l].xin);
    if (!ckpt_)
      for (const auto* v : {&A.h1, &A.qkv, &A.q, &A.k, &A.v, &A.att, &A.xmid, &A.h2, &A.gu, &A.act}) act_bytes_ += bytes_of(*v);
  }

  // Head and loss, only on rows that have a target, a chunk of rows at a time.
  std::vector<int64_t> rows;
  for (int64_t t = 0; t < n; ++t)
    if (targets[size_t(t)] != kIgnoreIndex) rows.push_back(t);
  std::vector<float> dx(N * H, 0.0f), xr, hf, logits, dhf, dxr;
  std::vector<int32_t> tg;
  double loss = 0;
  for (size_t r0 = 0; r0 < rows.size(); r0 += kHeadChunk) {
    const int64_t m = int64_t(std::min<size_t>(kHeadChunk, rows.size() - r0));
    xr.resize(size_t(m * H));
    tg.resize(size_t(m));
    for (int64_t i = 0; i < m; ++i) {
      const int64_t t = rows[r0 + size_t(i)];
      std::memcpy(xr.data() + i * H, x.data() + t * H, H * sizeof(float));
      tg[size_t(i)] = targets[size_t(t)];
    }
    hf.resize(size_t(m * H));
    be_.rmsnorm(xr.data(), P + lay_.final_norm, int(m), int(H), eps, hf.data());
    logits.resize(size_t(m * V));
    be_.matmul(hf.data(), int(m), f32_matrix(P + lay_.lm_head, V, H), logits.data());
    loss += tk::cross_entropy_backward(logits.data(), tg.data(), m, V, loss_scale, th);
    tk::gemm_acc(V, H, m, logits.data(), 1, V, hf.data(), H, G + lay_.lm_head, H, th);
    zero(dhf, size_t(m * H));
    tk::gemm_acc(m, H, V, logits.data(), V, 1, P + lay_.lm_head, H, dhf.data(), H, th);
    zero(dxr, size_t(m * H));
    tk::rmsnorm_backward(xr.data(), P + lay_.final_norm, dhf.data(), m, H, eps, dxr.data(), G + lay_.final_norm);
    for (int64_t i = 0; i < m; ++i) {
      const int64_t t = rows[r0 + size_t(i)];
      for (int64_t j = 0; j < H; ++j) dx[size_t(t * H + j)] += dxr[size_t(i * H + j)];
    }
  }
  act_bytes_ += bytes_of(logits);

  // Layers in reverse; with checkpointing, each layer is first recomputed from its input.
  std::vector<float> scratch;
  for (size_t l = acts_.size(); l-- > 0;) {
    if (ckpt_) {
      work_.xin = acts_[l].xin;
      layer_forward(l, P, work_, n, scratch);
    }
    layer_backward(l, P, G, ckpt_ ? work_ : acts_[l], n, dx);
  }
  // Embedding rows gather; their gradient scatters back (tied: into the same rows as the head's).
  float* ge = G + lay_.embed;
  for (int64_t t = 0; t < n; ++t) {
    float* row = ge + int64_t(ids[size_t(t)]) * H;
    for (int64_t j = 0; j < H; ++j) row[j] += dx[size_t(t * H + j)];
  }
  return loss;
}

void TrainGraph::forward_logits(const float* P, std::span<const int32_t> ids_in, float* logits) {
  const ModelConfig& c = c_;
  const int64_t H = c.hidden, V = c.vocab_size, n = int64_t(ids_in.size());
  std::vector<int32_t> ids(ids_in.begin(), ids_in.end());
  for (int32_t id : ids)
    if (id < 0 || id >= V) fail("token id ", id, " is outside the vocabulary (0..", V - 1, ")");
  segs_ = {{0, n}};
  std::vector<float> x;
  embed(P, ids, x);
  for (size_t l = 0; l < acts_.size(); ++l) {
    work_.xin = x;
    layer_forward(l, P, work_, n, x);
  }
  std::vector<float> hf(size_t(n * H));
  be_.rmsnorm(x.data(), P + lay_.final_norm, int(n), int(H), float(c.rms_eps), hf.data());
  be_.matmul(hf.data(), int(n), f32_matrix(P + lay_.lm_head, V, H), logits);
}

}  // namespace s1
