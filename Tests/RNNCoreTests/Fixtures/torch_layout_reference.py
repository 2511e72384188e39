"""numpy forward pass of a char model stored in PyTorch's state_dict layout, written from
PyTorch's documented equations for nn.RNN, nn.LSTM (gates i, f, g, o) and nn.GRU (r, z, n),
so that RNNCore's reading of that layout is checked against an independent implementation.
"""
import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def forward(tensors, arch, layers, hidden, tokens, vocab):
    """Returns logits (len(tokens), vocab) at batch 1 from a zero state."""
    emb = tensors.get("emb.weight")
    xs = [emb[t] if emb is not None else np.eye(vocab)[t] for t in tokens]
    for l in range(layers):
        Wih, Whh = tensors[f"rnn.weight_ih_l{l}"], tensors[f"rnn.weight_hh_l{l}"]
        bih, bhh = tensors[f"rnn.bias_ih_l{l}"], tensors[f"rnn.bias_hh_l{l}"]
        h, c, out = np.zeros(hidden), np.zeros(hidden), []
        for x in xs:
            gi, gh = Wih @ x + bih, Whh @ h + bhh
            H = hidden
            if arch == "lstm":
                i, f, g, o = sigmoid(gi[:H] + gh[:H]), sigmoid(gi[H:2*H] + gh[H:2*H]), \
                    np.tanh(gi[2*H:3*H] + gh[2*H:3*H]), sigmoid(gi[3*H:] + gh[3*H:])
                c = f * c + i * g
                h = o * np.tanh(c)
            elif arch == "gru":
                r, z = sigmoid(gi[:H] + gh[:H]), sigmoid(gi[H:2*H] + gh[H:2*H])
                n = np.tanh(gi[2*H:] + r * gh[2*H:])
                h = (1 - z) * n + z * h
            elif arch == "rnn-relu":
                h = np.maximum(gi + gh, 0)
            else:
                h = np.tanh(gi + gh)
            out.append(h)
        xs = out
    return np.stack([tensors["out.weight"] @ h + tensors["out.bias"] for h in xs])
