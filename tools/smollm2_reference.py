#!/usr/bin/env python3
"""Reference logits and greedy continuations of SmolLM2-135M-Instruct (Q4_1 GGUF),
computed by Hugging Face transformers -- code we did not write -- for tests/gguf.

Run by hand, never by CI (needs torch, transformers, gguf, accelerate: several GB):
    python3 -m venv /tmp/refvenv
    /tmp/refvenv/bin/pip install torch transformers gguf accelerate
    bash scripts/fetch-smollm2.sh
    /tmp/refvenv/bin/python tools/smollm2_reference.py

transformers reads the GGUF with `gguf_file=` (it dequantises every tensor to f32
with the gguf package and undoes llama.cpp's Q/K row permutation), builds the
tokenizer from the GGUF vocabulary, and renders the GGUF's chat template. The model
then runs in float32 on the CPU.

Writes into --out (default tests/data/smollm2):
  reference.json   per chat prompt: the messages, the prompt ids, 64 greedy ids (no
                   stop at end-of-turn), and for every position of prompt + continuation
                   the top-16 logits and max|logit| (teacher-forced, one full forward)
  full_logits.f32  little-endian float32, the whole vocabulary's logits at the last
                   prompt position of the first two prompts (offsets in reference.json)
"""
import argparse
import hashlib
import importlib.metadata
import json
import os
import struct

import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer

PROMPTS = [
    [{"role": "user", "content": "What is the capital of France?"}],
    [{"role": "user", "content": "If I have 3 apples and buy 12 more, how many apples do I have?"}],
    [{"role": "system", "content": "You are a poet."},
     {"role": "user", "content": "Write a short poem about the sea."}],
]
GREEDY = 64
TOP_K = 16
FULL_LOGITS_CASES = 2


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="models/SmolLM2-135M-Instruct.Q4_1.gguf")
    ap.add_argument("--out", default="tests/data/smollm2")
    a = ap.parse_args()
    d, f = os.path.split(os.path.abspath(a.model))
    torch.manual_seed(0)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    tok = AutoTokenizer.from_pretrained(d, gguf_file=f)
    model = AutoModelForCausalLM.from_pretrained(d, gguf_file=f, dtype=torch.float32)
    model.eval()

    os.makedirs(a.out, exist_ok=True)
    cases = []
    full = []
    with torch.no_grad():
        for ci, messages in enumerate(PROMPTS):
            text = tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
            prompt_ids = tok(text, add_special_tokens=False)["input_ids"]
            # Greedy decoding with the KV cache, never stopping at <|im_end|>.
            ids = torch.tensor([prompt_ids])
            out = model(input_ids=ids, use_cache=True)
            past = out.past_key_values
            nxt = int(out.logits[0, -1].argmax())
            greedy = [nxt]
            for _ in range(GREEDY - 1):
                out = model(input_ids=torch.tensor([[nxt]]), past_key_values=past, use_cache=True)
                past = out.past_key_values
                nxt = int(out.logits[0, -1].argmax())
                greedy.append(nxt)
            # Teacher-forced logits of every position in one forward pass.
            seq = prompt_ids + greedy[:-1]
            logits = model(input_ids=torch.tensor([seq]), use_cache=False).logits[0].float()
            top = []
            max_abs = []
            for p in range(logits.shape[0]):
                v, i = torch.topk(logits[p], TOP_K)
                top.append([[int(ii), round(float(vv), 5)] for ii, vv in zip(i, v)])
                max_abs.append(round(float(logits[p].abs().max()), 5))
            case = {
                "messages": messages,
                "prompt_text": text,
                "prompt_ids": prompt_ids,
                "greedy_ids": greedy,
                "greedy_text": tok.decode(greedy),
                "top_logits": top,
                "max_abs_logit": max_abs,
                "full_logits_position": -1,
                "full_logits_offset": -1,
            }
            if ci < FULL_LOGITS_CASES:
                pos = len(prompt_ids) - 1
                case["full_logits_position"] = pos
                case["full_logits_offset"] = sum(len(x) for x in full)
                full.append(logits[pos].tolist())
            cases.append(case)
            print(f"case {ci}: {len(prompt_ids)} prompt ids; greedy: {tok.decode(greedy)!r}")

    with open(os.path.join(a.out, "full_logits.f32"), "wb") as fo:
        for row in full:
            fo.write(struct.pack("<%df" % len(row), *row))
    ref = {
        "made_by": "tools/smollm2_reference.py (transformers, float32, CPU)",
        "versions": {name: importlib.metadata.version(name) for name in ("torch", "transformers", "gguf", "accelerate")},
        "model_file": os.path.basename(a.model),
        "model_sha256": sha256(a.model),
        "vocab_size": int(model.config.vocab_size),
        "top_k": TOP_K,
        "cases": cases,
    }
    with open(os.path.join(a.out, "reference.json"), "w") as fo:
        json.dump(ref, fo, ensure_ascii=False, separators=(",", ":"))
        fo.write("\n")


if __name__ == "__main__":
    main()
