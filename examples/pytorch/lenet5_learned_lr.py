#!/usr/bin/python3
"""LeNet-5 on Fashion-MNIST in PyTorch, its learning rate chosen by a learned
alrs controller (alrs.torch.LearnedLR): the protocol alrs trains its own
children with (Adam, batch 128, a 50k/10k train/validation split, validation
every action_every steps on the first --val-size validation images, test
figures at the best validation point).

    PYTHONPATH=build/python examples/pytorch/lenet5_learned_lr.py \\
        --controller results/fashion-mnist-lenet5-controller/controller.bin

It checks, at every step, that the optimizer's rate is the one the
controller chose, and exits non-zero if not. Needs Debian's python3-torch.
"""
import argparse
import gzip
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from alrs.torch import LearnedLR

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CONTROLLER = os.path.join(HERE, "..", "..", "results", "fashion-mnist-lenet5-controller",
                                  "controller.bin")


def read_idx(path):
    with gzip.open(path) if path.endswith(".gz") else open(path, "rb") as f:
        data = f.read()
    magic, n = struct.unpack(">II", data[:8])
    if magic == 0x803:
        rows, cols = struct.unpack(">II", data[8:16])
        return np.frombuffer(data, np.uint8, offset=16).reshape(n, 1, rows, cols)
    return np.frombuffer(data, np.uint8, offset=8)


def load(data_dir):
    def path(name):
        p = os.path.join(data_dir, name)
        return p if os.path.exists(p) else p + ".gz"
    train_x = read_idx(path("train-images-idx3-ubyte")).astype(np.float32) / 255
    train_y = read_idx(path("train-labels-idx1-ubyte")).astype(np.int64)
    test_x = read_idx(path("t10k-images-idx3-ubyte")).astype(np.float32) / 255
    test_y = read_idx(path("t10k-labels-idx1-ubyte")).astype(np.int64)
    return train_x, train_y, test_x, test_y


class LeNet5(nn.Module):
    """alrs's lenet5: conv 6@5x5 pad 2, pool, conv 16@5x5, pool, conv 120@5x5, fc 84, fc 10."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 5, padding=2)
        self.c2 = nn.Conv2d(6, 16, 5)
        self.c3 = nn.Conv2d(16, 120, 5)
        self.f1 = nn.Linear(120, 84)
        self.out = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.max_pool2d(F.relu(self.c2(x)), 2)
        x = F.relu(self.c3(x)).flatten(1)
        return self.out(F.relu(self.f1(x)))


def evaluate(model, x, y, chunk=1000):
    model.eval()
    losses, probs, right = 0.0, [], 0
    with torch.no_grad():
        for i in range(0, len(x), chunk):
            logits = model(x[i:i + chunk])
            losses += F.cross_entropy(logits, y[i:i + chunk], reduction="sum").item()
            probs.append(torch.softmax(logits, 1))
            right += (logits.argmax(1) == y[i:i + chunk]).sum().item()
    model.train()
    return losses / len(x), torch.cat(probs), right / len(x)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--controller", default=DEFAULT_CONTROLLER)
    ap.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--val-size", type=int, default=2000)
    ap.add_argument("--lr", type=float, default=1e-2, help="initial (or base) rate")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    train_x, train_y, test_x, test_y = load(args.data_dir)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(train_x))
    val_idx, train_idx = order[:10000][:args.val_size], order[10000:]
    tx, ty = torch.from_numpy(train_x[train_idx]), torch.from_numpy(train_y[train_idx])
    vx, vy = torch.from_numpy(train_x[val_idx]), torch.from_numpy(train_y[val_idx])
    model = LeNet5()
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    sched = LearnedLR(opt, args.controller, total_steps=args.steps, n_probs=len(vx) * 10,
                      seed=args.seed)
    print("controller:", sched.controller)

    def observe():
        val_loss, probs, acc = evaluate(model, vx, vy)
        sched.observe(val_loss, probs, model.out.weight)
        return val_loss, acc

    best = (math.inf, None)
    val_loss, _ = observe()
    follows = True
    batches = torch.randperm(len(tx), generator=torch.Generator().manual_seed(args.seed))
    for step in range(args.steps):
        i = (step * args.batch) % (len(tx) - args.batch)
        idx = batches[i:i + args.batch]
        follows &= opt.param_groups[0]["lr"] == sched.session.rate(step)
        loss = F.cross_entropy(model(tx[idx]), ty[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step(loss=loss.item())
        if sched.wants_observation():
            val_loss, acc = observe()
            if val_loss < best[0]:
                best = (val_loss, {k: v.clone() for k, v in model.state_dict().items()})
            if sched.last_step % (10 * sched.observe_every) == 0 or sched.last_step == args.steps:
                print("step %4d  lr %.4g  train %.4f  val %.4f  acc %.4f"
                      % (sched.last_step, sched.get_last_lr()[0], loss.item(), val_loss, acc))
    model.load_state_dict(best[1])
    test_loss, _, test_acc = evaluate(model, torch.from_numpy(test_x), torch.from_numpy(test_y))
    print("best validation loss %.4f; test loss %.4f, accuracy %.4f (at best)"
          % (best[0], test_loss, test_acc))
    if not follows:
        print("lenet5_learned_lr: the optimizer's rate left the controller's", file=sys.stderr)
        return 1
    print("the optimizer's rate was the controller's at all %d steps" % args.steps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
