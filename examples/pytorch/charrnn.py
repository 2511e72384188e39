#!/usr/bin/env python3
"""Train rnnd's char-RNNs in PyTorch, alone or under torchrun, and go back to rnnd.

When a model outgrows one machine, its training belongs on a distributed engine; this is
the same model (rnnd's cells, gate orders and tensor names), so a file goes both ways:

    rnnctl export bard /srv/export/bard.safetensors
    torchrun --nproc-per-node 4 charrnn.py --init-from /srv/export/bard.safetensors \\
        --data shakespeare.txt --seconds 3600 --out /srv/import/bard2.safetensors
    rnnctl import bard2 /srv/import/bard2.safetensors

Alone it runs on one process; under torchrun every rank trains its own share of the batch
streams with DistributedDataParallel (gloo on CPUs, nccl on GPUs) and rank 0 writes --out.
--eval prints the loss of a text without training (the round-trip test compares it with
rnnd's own).
"""
import argparse
import json
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from safetensors import safe_open

CELLS = {"lstm": (nn.LSTM, {}), "gru": (nn.GRU, {}), "rnn-tanh": (nn.RNN, {"nonlinearity": "tanh"}),
         "rnn-relu": (nn.RNN, {"nonlinearity": "relu"})}


class CharModel(nn.Module):
    """rnnd's model: one-hot input (or an embedding), stacked cells, a linear decoder."""

    def __init__(self, vocab, arch, hidden, layers, embed=0, dropout=0.0):
        super().__init__()
        self.vocab, self.arch, self.hidden, self.layers, self.embed = vocab, arch, hidden, layers, embed
        cell, extra = CELLS[arch]
        self.emb = nn.Embedding(vocab, embed) if embed else None
        self.rnn = cell(embed or vocab, hidden, num_layers=layers, batch_first=True, dropout=dropout, **extra)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, x, state=None):
        inp = self.emb(x) if self.emb is not None else F.one_hot(x, self.vocab).to(torch.float32)
        y, state = self.rnn(inp, state)
        return self.out(y), state


class Vocabulary:
    """rnnd's vocabularies: bytes (256), or characters by code point with index 0 for the
    unknown (U+FFFD in those rnnd makes)."""

    def __init__(self, kind, chars=None):
        self.kind, self.chars = kind, chars
        self.index = {c: i for i, c in enumerate(chars)} if chars else None

    @staticmethod
    def of_text(text):
        return Vocabulary("characters", ["\ufffd"] + sorted(set(text) - {"\ufffd"}))

    def __len__(self):
        return 256 if self.kind == "bytes" else len(self.chars)

    def encode(self, text):
        if self.kind == "bytes":
            return list(text.encode("utf-8"))
        return [self.index.get(c, 0) for c in text]

    def metadata(self):
        if self.kind == "bytes":
            return {"vocabulary_kind": "bytes"}
        return {"vocabulary_kind": "characters", "vocabulary": json.dumps([ord(c) for c in self.chars])}


def load(path):
    """A model and vocabulary from an rnnd export (or any file in its layout)."""
    with safe_open(path, "pt") as f:
        meta = f.metadata() or {}
    tensors = load_file(path)
    arch = meta.get("architecture")
    hh = tensors["rnn.weight_hh_l0"]
    hidden = hh.shape[1]
    if arch is None:
        arch = {1: "rnn-tanh", 3: "gru", 4: "lstm"}[hh.shape[0] // hidden]
    layers = sum(1 for k in tensors if k.startswith("rnn.weight_hh_l"))
    embed = tensors["emb.weight"].shape[1] if "emb.weight" in tensors else 0
    vocab_size = tensors["out.weight"].shape[0]
    if meta.get("vocabulary_kind") == "bytes" or ("vocabulary" not in meta and vocab_size == 256):
        vocabulary = Vocabulary("bytes")
    else:
        vocabulary = Vocabulary("characters", [chr(c) for c in json.loads(meta["vocabulary"])])
    model = CharModel(vocab_size, arch, hidden, layers, embed, float(meta.get("dropout", 0) or 0))
    model.load_state_dict(tensors)
    return model, vocabulary


def save(model, vocabulary, path):
    """The model in rnnd's layout, for `rnnctl import`."""
    inner = model.module if hasattr(model, "module") else model
    meta = {"architecture": inner.arch, "layers": str(inner.layers), "hidden_size": str(inner.hidden),
            "embedding_size": str(inner.embed), "vocabulary_size": str(inner.vocab)}
    meta.update(vocabulary.metadata())
    tensors = {k: v.detach().contiguous() for k, v in inner.state_dict().items()}
    tmp = path + ".tmp"
    save_file(tensors, tmp, metadata=meta)
    os.replace(tmp, path)


def streams(ids, batch, seq):
    """`batch` contiguous streams of the token ids, cut to whole sequences."""
    per = (len(ids) - 1) // batch // seq * seq
    if per < seq:
        raise SystemExit(f"the text is too short for batch {batch} x seq {seq}")
    x = torch.tensor(ids[:batch * per], dtype=torch.long).view(batch, per)
    y = torch.tensor(ids[1:batch * per + 1], dtype=torch.long).view(batch, per)
    return x, y, per // seq


def evaluate(model, ids, seq=256):
    """Mean loss in nats per predicted character, one stream from a zero state."""
    model.eval()
    x = torch.tensor(ids[:-1], dtype=torch.long).view(1, -1)
    y = torch.tensor(ids[1:], dtype=torch.long).view(1, -1)
    total, state = 0.0, None
    with torch.inference_mode():
        for k in range(0, x.shape[1], seq):
            logits, state = model(x[:, k:k + seq], state)
            total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y[:, k:k + seq].reshape(-1),
                                     reduction="sum").item()
    return total / y.numel()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", help="training text (UTF-8)")
    ap.add_argument("--init-from", help="start from this rnnd export instead of a new model")
    ap.add_argument("--out", help="write the trained model here, for rnnctl import")
    ap.add_argument("--eval", help="print the loss of this text (a file) and exit")
    ap.add_argument("--arch", default="lstm", choices=sorted(CELLS))
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--embed", type=int, default=0)
    ap.add_argument("--dropout", type=float, default=0.0)
    ap.add_argument("--batch", type=int, default=50, help="streams per batch, over all ranks")
    ap.add_argument("--seq", type=int, default=50)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--clip", type=float, default=5.0)
    ap.add_argument("--steps", type=int, default=0)
    ap.add_argument("--seconds", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    rank, world = 0, 1
    device = torch.device("cpu")
    if distributed:
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        torch.distributed.init_process_group(backend)
        rank, world = torch.distributed.get_rank(), torch.distributed.get_world_size()
        if backend == "nccl":
            device = torch.device("cuda", int(os.environ["LOCAL_RANK"]))
            torch.cuda.set_device(device)
    torch.manual_seed(args.seed)

    if args.init_from:
        model, vocabulary = load(args.init_from)
    else:
        if not args.data:
            raise SystemExit("give --data (and --out), or --init-from")
        vocabulary = Vocabulary.of_text(open(args.data, encoding="utf-8").read())
        model = CharModel(len(vocabulary), args.arch, args.hidden, args.layers, args.embed, args.dropout)
    if args.eval:
        print(f"loss={evaluate(model, vocabulary.encode(open(args.eval, encoding='utf-8').read())):.12f}")
        return
    if not args.data:
        raise SystemExit("give --data to train on")
    ids = vocabulary.encode(open(args.data, encoding="utf-8").read())
    if args.batch % world:
        raise SystemExit(f"--batch {args.batch} must be a multiple of the {world} ranks")
    x, y, steps_per_epoch = streams(ids, args.batch, args.seq)
    share = args.batch // world  # this rank's streams
    x, y = x[rank * share:(rank + 1) * share].to(device), y[rank * share:(rank + 1) * share].to(device)
    model = model.to(device)
    if distributed:
        model = nn.parallel.DistributedDataParallel(model, device_ids=[device] if device.type == "cuda" else None)
    opt = torch.optim.RMSprop(model.parameters(), lr=args.lr, alpha=0.95, eps=1e-8)
    model.train()
    state, step, k, start = None, 0, 0, time.perf_counter()
    while (args.steps and step < args.steps) or (args.seconds and time.perf_counter() - start < args.seconds):
        if k == steps_per_epoch:
            k, state = 0, None
        if state is not None:
            state = tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()
        logits, state = model(x[:, k * args.seq:(k + 1) * args.seq], state)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y[:, k * args.seq:(k + 1) * args.seq].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if args.clip > 0:
            nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        opt.step()
        step, k = step + 1, k + 1
        if rank == 0 and step % 100 == 0:
            print(f"step {step} loss {loss.item():.4f}", flush=True)
    if rank == 0:
        print(f"trained {step} steps on {world} rank(s) in {time.perf_counter() - start:.1f} s", flush=True)
        if args.out:
            save(model, vocabulary, args.out)
            print(f"wrote {args.out}: rnnctl import NAME {args.out}")
    if distributed:
        torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main()
