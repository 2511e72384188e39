#!/usr/bin/env python3
"""Writes seed_minchar.safetensors: min-char-rnn (Karpathy's seed, as in
scripts/reference/minchar_numpy.py) run for a few iterations in float64 numpy, for RNNCore to
reproduce number for number.

The initial weights are drawn as the seed draws them (randn * 0.01, biases 0) and rounded
to float32 before use, so that the Swift engine, which runs in float32, starts from
exactly the same values. For each checked iteration k the state before it is stored, so
that each check is one well-conditioned step (over several free-running steps Adagrad's
g/sqrt(g^2 + 1e-8) amplifies rounding: numpy's own float32 run ends 5% away from its float64
run after 4 iterations). Stored (all F32), for k in the checked iterations:
  step{k}.before.{Wxh,Whh,Why,bh,by}, step{k}.before.m{...}, step{k}.before.hprev
  step{k}.grad.{dWxh,dWhh,dWhy,dbh,dby}     clipped gradients
  step{k}.after.{Wxh,Whh,Why,bh,by}         weights after the Adagrad update
and in __metadata__: the text, the vocabulary (code points), the loss of every iteration
of the free-running loop, hidden size, sequence length, learning rate, the checked steps.

Run: python3 make_seed_fixture.py   (needs numpy and safetensors)
"""
import json
import os

import numpy as np
from safetensors.numpy import save_file

TEXT = (
    "the seed of rnnd is a lecture note on recurrent networks.\n"
    "a recurrent network reads a character, updates its hidden state,\n"
    "and predicts the next character; trained with backpropagation\n"
    "through time, it learns to write text that looks like its input.\n"
)
HIDDEN, SEQ, LR, ITERS, SEED = 100, 25, 0.1, 4, 7
CHECKED = (1, ITERS)


def main():
    data = TEXT
    chars = sorted(set(data))
    V = len(chars)
    ix = {c: i for i, c in enumerate(chars)}
    rng = np.random.RandomState(SEED)
    f32 = lambda a: a.astype(np.float32).astype(np.float64)
    Wxh = f32(rng.randn(HIDDEN, V) * 0.01)
    Whh = f32(rng.randn(HIDDEN, HIDDEN) * 0.01)
    Why = f32(rng.randn(V, HIDDEN) * 0.01)
    bh = np.zeros((HIDDEN, 1))
    by = np.zeros((V, 1))
    out = {}

    def lossFun(inputs, targets, hprev):  # verbatim from the seed, Python 3
        xs, hs, ys, ps = {}, {}, {}, {}
        hs[-1] = np.copy(hprev)
        loss = 0
        for t in range(len(inputs)):
            xs[t] = np.zeros((V, 1))
            xs[t][inputs[t]] = 1
            hs[t] = np.tanh(np.dot(Wxh, xs[t]) + np.dot(Whh, hs[t - 1]) + bh)
            ys[t] = np.dot(Why, hs[t]) + by
            ps[t] = np.exp(ys[t]) / np.sum(np.exp(ys[t]))
            loss += -np.log(ps[t][targets[t], 0])
        dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
        dbh, dby = np.zeros_like(bh), np.zeros_like(by)
        dhnext = np.zeros_like(hs[0])
        for t in reversed(range(len(inputs))):
            dy = np.copy(ps[t])
            dy[targets[t]] -= 1
            dWhy += np.dot(dy, hs[t].T)
            dby += dy
            dh = np.dot(Why.T, dy) + dhnext
            dhraw = (1 - hs[t] * hs[t]) * dh
            dbh += dhraw
            dWxh += np.dot(dhraw, xs[t].T)
            dWhh += np.dot(dhraw, hs[t - 1].T)
            dhnext = np.dot(Whh.T, dhraw)
        for dparam in [dWxh, dWhh, dWhy, dbh, dby]:
            np.clip(dparam, -5, 5, out=dparam)
        return loss, dWxh, dWhh, dWhy, dbh, dby, hs[len(inputs) - 1]

    mems = [np.zeros_like(a) for a in (Wxh, Whh, Why, bh, by)]
    hprev = np.zeros((HIDDEN, 1))
    p, losses = 0, []
    for n in range(1, ITERS + 1):
        if p + SEQ + 1 >= len(data):
            hprev, p = np.zeros((HIDDEN, 1)), 0
        if n in CHECKED:
            names = ("Wxh", "Whh", "Why", "bh", "by")
            out.update({f"step{n}.before.{k}": v.copy() for k, v in zip(names, (Wxh, Whh, Why, bh, by))})
            out.update({f"step{n}.before.m{k}": v.copy() for k, v in zip(names, mems)})
            out[f"step{n}.before.hprev"] = hprev.copy()
        inputs = [ix[c] for c in data[p:p + SEQ]]
        targets = [ix[c] for c in data[p + 1:p + SEQ + 1]]
        loss, dWxh, dWhh, dWhy, dbh, dby, hprev = lossFun(inputs, targets, hprev)
        losses.append(loss)
        if n in CHECKED:
            out.update({f"step{n}.grad.{k}": v.copy() for k, v in
                        dict(dWxh=dWxh, dWhh=dWhh, dWhy=dWhy, dbh=dbh, dby=dby).items()})
        for param, dparam, mem in zip([Wxh, Whh, Why, bh, by], [dWxh, dWhh, dWhy, dbh, dby], mems):
            mem += dparam * dparam
            param += -LR * dparam / np.sqrt(mem + 1e-8)
        if n in CHECKED:
            out.update({f"step{n}.after.{k}": v.copy() for k, v in
                        dict(Wxh=Wxh, Whh=Whh, Why=Why, bh=bh, by=by).items()})
        p += SEQ
    meta = dict(text=data, vocabulary=json.dumps([ord(c) for c in chars]), losses=json.dumps(losses),
                hidden=str(HIDDEN), seq=str(SEQ), lr=str(LR), iterations=str(ITERS),
                checked_steps=json.dumps(list(CHECKED)))
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seed_minchar.safetensors")
    save_file({k: np.ascontiguousarray(v.astype(np.float32)) for k, v in out.items()}, path, metadata=meta)
    print(f"wrote {path}: V={V}, losses={[float(x) for x in losses]}")


if __name__ == "__main__":
    main()
