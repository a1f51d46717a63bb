#!/usr/bin/env python3
"""Random GGUF quantisation blocks and their values as decoded by the `gguf` Python
package (gguf-py, maintained with llama.cpp) -- an implementation we did not write --
for tests/gguf/test_quant_blocks.cpp. Run by hand:

    /tmp/refvenv/bin/pip install gguf numpy
    /tmp/refvenv/bin/python tools/gguf_blocks_reference.py > tests/data/gguf/blocks-gguf-py.json

Each block is random bytes, except that its f16 scale fields are set to finite
values of ordinary size (random bytes would make some of them inf / NaN).
"""
import importlib.metadata
import json
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T
from gguf.quants import dequantize

# type: (elements per block, bytes per block, byte offsets of its f16 fields)
FORMATS = {
    "Q4_0": (T.Q4_0, [0]),
    "Q4_1": (T.Q4_1, [0, 2]),
    "Q5_0": (T.Q5_0, [0]),
    "Q5_1": (T.Q5_1, [0, 2]),
    "Q8_0": (T.Q8_0, [0]),
    "Q4_K": (T.Q4_K, [0, 2]),
    "Q5_K": (T.Q5_K, [0, 2]),
    "Q6_K": (T.Q6_K, [208]),
}
BLOCKS = 3


def main():
    rng = np.random.default_rng(20250207)
    out = {"made_by": "tools/gguf_blocks_reference.py with gguf-py " + importlib.metadata.version("gguf"),
           "formats": {}}
    for name, (qt, halves) in FORMATS.items():
        elems, size = gguf.GGML_QUANT_SIZES[qt]
        raw = rng.integers(0, 256, size=(BLOCKS, size), dtype=np.uint8)
        for b in range(BLOCKS):
            for off in halves:
                h = np.array([rng.normal(0, 0.05)], dtype=np.float16).view(np.uint8)
                raw[b, off:off + 2] = h
        vals = dequantize(raw.reshape(-1), qt).reshape(-1).astype(np.float32)
        assert vals.size == BLOCKS * elems
        out["formats"][name] = {
            "block_elements": int(elems),
            "block_bytes": int(size),
            "hex": raw.reshape(-1).tobytes().hex(),
            "values": [float(v) for v in vals],
        }
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
