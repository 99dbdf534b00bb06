"""LearnedLR inside torch's SequentialLR, after a LinearLR warm-up (run by
tests/test_python.sh): a small net of two param groups (rates 0.1 and
0.01) trains; at every step each group's rate must be its own initial rate
times the warm-up's factor, then times the controller's factor, taken from
an independent alrs.Session fed the same validations. Midway the run is
saved with torch.save; a fresh process loads it, goes on, and must set the
same rates as the uninterrupted run, bit for bit.
Usage: test_sequential_lr.py CONTROLLER WORKDIR [resume]"""
import json
import math
import subprocess
import sys

import torch
import torch.nn.functional as F

import alrs
from alrs.torch import LearnedLR

CONTROLLER, WORK = sys.argv[1], sys.argv[2]
RESUMING = len(sys.argv) > 3
WARM, LEARNED, SPLIT = 6, 24, 17       # warm-up steps, LearnedLR's steps, save after step
RATES, START_FACTOR, SEED = (0.1, 0.01), 0.25, 3
torch.set_num_threads(1)


def data():
    g = torch.Generator().manual_seed(0)
    x, val_x = torch.randn(256, 12, generator=g), torch.randn(40, 12, generator=g)
    return x, (x[:, 0] > 0).long() + 2 * (x[:, 1] > 0).long(), val_x, torch.randint(0, 4, (40,), generator=g)


def build():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(12, 16), torch.nn.ReLU(), torch.nn.Linear(16, 4))
    opt = torch.optim.SGD([{"params": model[0].parameters(), "lr": RATES[0]},
                           {"params": model[2].parameters(), "lr": RATES[1]}], momentum=0.9)
    warm = torch.optim.lr_scheduler.LinearLR(opt, start_factor=START_FACTOR, total_iters=WARM)
    learned = LearnedLR(opt, CONTROLLER, total_steps=LEARNED, policy="sample", seed=SEED)
    seq = torch.optim.lr_scheduler.SequentialLR(opt, [warm, learned], milestones=[WARM])
    reference = alrs.Controller(CONTROLLER).session(RATES[0], LEARNED, 40 * 4, "sample", SEED)
    return model, opt, learned, seq, reference


def expected(step, reference):
    """Each group's rate at global step `step`."""
    if step < WARM:
        factor = START_FACTOR + (1 - START_FACTOR) * step / WARM
    else:
        factor = reference.rate(step - WARM) / RATES[0]
    return [r * factor for r in RATES]


def observe_both(model, learned, reference, val_x, val_y, train_losses):
    """The scheduler's own validation, and the same by hand into the reference."""
    t = learned.last_epoch
    learned.observe_model(model, val_x, val_y, model[2])
    with torch.no_grad():
        model.eval()
        logits = model(val_x)
        model.train()
    mean = sum(train_losses) / len(train_losses) if t > 0 else float("nan")
    reference.observe(t, F.cross_entropy(logits, val_y).item(), torch.softmax(logits, 1),
                      model[2].weight, mean)


def run(start, model, opt, learned, seq, reference, losses):
    x, y, val_x, val_y = data()
    rates, ok = [], True
    for step in range(start, WARM + LEARNED):
        got = [g["lr"] for g in opt.param_groups]
        want = expected(step, reference)
        if not all(math.isclose(a, b, rel_tol=1e-12) for a, b in zip(got, want)):
            print("FAIL: step %d: the groups' rates are %s, the factors give %s"
                  % (step, got, want), file=sys.stderr)
            ok = False
        rates.append(got)
        idx = torch.arange(step * 16, step * 16 + 16) % len(x)
        loss = F.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        learned.add_loss(loss.item())
        losses.append(loss.item())
        seq.step()
        if learned.wants_observation():
            observe_both(model, learned, reference, val_x, val_y, losses)
            losses.clear()
        if step + 1 == SPLIT and not RESUMING:
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(),
                        "seq": seq.state_dict(), "reference": reference.state(),
                        "losses": list(losses)}, WORK + "/checkpoint.pt")
    return rates, ok


def main():
    model, opt, learned, seq, reference = build()
    if RESUMING:
        ck = torch.load(WORK + "/checkpoint.pt")
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        seq.load_state_dict(ck["seq"])
        reference.restore(ck["reference"])
        rates, ok = run(SPLIT, model, opt, learned, seq, reference, ck["losses"])
        print(json.dumps(rates))
        return 0 if ok else 1
    assert isinstance(learned, torch.optim.lr_scheduler._LRScheduler)
    rates, ok = run(0, model, opt, learned, seq, reference, [])
    distinct = {round(r[0] / RATES[0], 12) for r in rates[WARM:]}
    if len(distinct) < 2:
        print("FAIL: the controller never changed the rate (%s): a weak test" % distinct,
              file=sys.stderr)
        ok = False
    if not all(math.isclose(r[1] / r[0], RATES[1] / RATES[0], rel_tol=1e-12) for r in rates):
        print("FAIL: the groups lost their ratio: %s" % rates[-1], file=sys.stderr)
        ok = False
    resumed = subprocess.run([sys.executable, __file__, CONTROLLER, WORK, "resume"],
                             capture_output=True, text=True)
    if resumed.returncode != 0:
        print("FAIL: the resumed process: " + resumed.stderr[-2000:], file=sys.stderr)
        return 1
    if json.loads(resumed.stdout.strip().splitlines()[-1]) != rates[SPLIT:]:
        print("FAIL: the resumed run's rates differ from the uninterrupted run's", file=sys.stderr)
        return 1
    print("test_sequential_lr: %d steps (%d warm-up) of two groups follow LinearLR then the "
          "controller's factor; resumed in a fresh process after step %d with the same rates"
          % (WARM + LEARNED, WARM, SPLIT))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
