#!/usr/bin/python3
"""What one LearnedLR.observe_model costs against one training step: LeNet-5
(examples/pytorch/lenet5_learned_lr.py), Adam, batch 128, a validation of
--val-size images (random pixels: the cost does not depend on them).

    PYTHONPATH=build/python examples/pytorch/validation_cost.py --threads 1

Prints the mean training step, one observe_model (forward pass, softmax,
loss, the features in libalrs) and the ratio; docs/API.md quotes it."""
import argparse
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lenet5_learned_lr import DEFAULT_CONTROLLER, LeNet5  # noqa: E402

from alrs.torch import LearnedLR  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--val-size", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = LeNet5()
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    sched = LearnedLR(opt, DEFAULT_CONTROLLER, total_steps=10 * args.repeat)
    x, y = torch.rand(args.batch, 1, 28, 28), torch.randint(0, 10, (args.batch,))
    vx, vy = torch.rand(args.val_size, 1, 28, 28), torch.randint(0, 10, (args.val_size,))

    def train_step():
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(5):  # warm: allocations, thread pools
        train_step()
    sched.observe_model(model, vx, vy, model.out)
    steps = observes = 0.0
    for _ in range(args.repeat):
        t = time.perf_counter()
        for _ in range(sched.observe_every):
            sched.step(loss=train_step())
        steps += time.perf_counter() - t
        t = time.perf_counter()
        sched.observe_model(model, vx, vy, model.out)
        observes += time.perf_counter() - t
    step = steps / (args.repeat * sched.observe_every)
    observe = observes / args.repeat
    print("threads %d: a training step (batch %d) %.1f ms; observe_model (%d images) %.1f ms = "
          "%.1f training steps; with an observation every %d steps the validations add %.0f%%"
          % (args.threads, args.batch, 1e3 * step, args.val_size, 1e3 * observe, observe / step,
             sched.observe_every, 100 * observe / (step * sched.observe_every)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
