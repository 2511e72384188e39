#!/usr/bin/env python3
"""Writes pytorch_<arch>.safetensors: small models in PyTorch's state_dict layout, saved by
Python's safetensors from numpy (no rnnd metadata but the vocabulary, as a PyTorch user
would add it), with the logits that torch_layout_reference.py computes for a token
sequence stored beside them as the tensor `expected_logits` and the tokens in metadata.

Run: python3 make_pytorch_layout_fixture.py   (needs numpy and safetensors)
"""
import json
import os

import numpy as np
from safetensors.numpy import save_file

from torch_layout_reference import forward

VOCAB, HIDDEN, LAYERS, EMBED = 10, 6, 2, 4
GATES = {"lstm": 4, "gru": 3, "rnn-tanh": 1}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    rng = np.random.RandomState(3)
    tokens = [int(t) for t in rng.randint(0, VOCAB, size=12)]
    for arch, gates in GATES.items():
        embed = EMBED if arch == "gru" else 0
        t = {}
        if embed:
            t["emb.weight"] = rng.uniform(-0.5, 0.5, (VOCAB, embed))
        for l in range(LAYERS):
            inp = (embed or VOCAB) if l == 0 else HIDDEN
            t[f"rnn.weight_ih_l{l}"] = rng.uniform(-0.5, 0.5, (gates * HIDDEN, inp))
            t[f"rnn.weight_hh_l{l}"] = rng.uniform(-0.5, 0.5, (gates * HIDDEN, HIDDEN))
            t[f"rnn.bias_ih_l{l}"] = rng.uniform(-0.5, 0.5, gates * HIDDEN)
            t[f"rnn.bias_hh_l{l}"] = rng.uniform(-0.5, 0.5, gates * HIDDEN)
        t["out.weight"] = rng.uniform(-0.5, 0.5, (VOCAB, HIDDEN))
        t["out.bias"] = rng.uniform(-0.5, 0.5, VOCAB)
        t = {k: v.astype(np.float32) for k, v in t.items()}
        logits = forward({k: v.astype(np.float64) for k, v in t.items()}, arch, LAYERS, HIDDEN, tokens, VOCAB)
        t["expected_logits"] = logits.astype(np.float32)
        meta = {"vocabulary": json.dumps([ord(c) for c in "\nabcdefghi"]), "tokens": json.dumps(tokens)}
        save_file(t, os.path.join(here, f"pytorch_{arch}.safetensors"), metadata=meta)
    print("wrote", ", ".join(f"pytorch_{a}.safetensors" for a in GATES))


if __name__ == "__main__":
    main()
