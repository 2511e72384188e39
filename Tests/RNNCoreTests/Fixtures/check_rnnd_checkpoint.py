#!/usr/bin/env python3
"""Loads a checkpoint that rnnd wrote with Python's safetensors, checks its names, shapes
and metadata as PyTorch's state_dict would have them, recomputes the logits for the tokens
in its metadata (`test_tokens`) with torch_layout_reference.py and compares them with the
`test_logits` metadata that rnnd stored. Prints OK and exits 0, or says what differs.

Usage: check_rnnd_checkpoint.py FILE
"""
import json
import sys

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file

from torch_layout_reference import forward


def main(path):
    tensors = load_file(path)
    with safe_open(path, "np") as f:
        meta = f.metadata()
    arch, layers, hidden = meta["architecture"], int(meta["layers"]), int(meta["hidden_size"])
    vocab, embed = int(meta["vocabulary_size"]), int(meta["embedding_size"])
    gates = {"lstm": 4, "gru": 3}.get(arch, 1)
    expected = {"out.weight": (vocab, hidden), "out.bias": (vocab,)}
    if embed:
        expected["emb.weight"] = (vocab, embed)
    for l in range(layers):
        inp = (embed or vocab) if l == 0 else hidden
        expected.update({f"rnn.weight_ih_l{l}": (gates * hidden, inp), f"rnn.weight_hh_l{l}": (gates * hidden, hidden),
                         f"rnn.bias_ih_l{l}": (gates * hidden,), f"rnn.bias_hh_l{l}": (gates * hidden,)})
    shapes = {k: tuple(v.shape) for k, v in tensors.items()}
    if shapes != expected:
        sys.exit(f"names or shapes differ: got {shapes}, expected {expected}")
    if any(v.dtype != np.float32 for v in tensors.values()):
        sys.exit("every tensor should be float32")
    tokens = json.loads(meta["test_tokens"])
    ours = np.array(json.loads(meta["test_logits"]), dtype=np.float64).reshape(len(tokens), vocab)
    ref = forward({k: v.astype(np.float64) for k, v in tensors.items()}, arch, layers, hidden, tokens, vocab)
    err = np.abs(ours - ref).max() / max(np.abs(ref).max(), 1e-12)
    if err > 1e-5:
        sys.exit(f"logits differ from the numpy reference by {err:.3g} (relative)")
    print(f"OK {arch} {len(tensors)} tensors, logits match to {err:.2g}")


if __name__ == "__main__":
    main(sys.argv[1])
