"""The Python package over libalrs (run by tests/test_python.sh):
  1. parity: a recorded child run (`test_api record DIR`: its observations,
     the C session's rates, and `alrs train --schedule controller:`'s
     trace.csv) fed through alrs.Session and through alrs.torch.LearnedLR
     gives the same rates, to the last printed digit; LearnedLR's state_dict
     taken midway and loaded into a new scheduler goes on identically;
  2. alrs.Env: a random agent's rates and losses equal `alrs train --schedule
     replay:` of its rates, a scripted agent keeping a residual cosine base
     equals `alrs train --schedule cosine`, with the same seed; the spaces;
  3. bad input raises alrs.AlrsError with libalrs's status and message;
  4. with PyTorch installed, LearnedLR drives a real torch optimizer.
Usage: test_alrs.py ALRS_PROGRAM RECORD_DIR"""
import csv
import math
import os
import random
import subprocess
import sys

import alrs

try:
    import torch
    from alrs.torch import LearnedLR
except ImportError:  # the LearnedLR parts are skipped
    torch = None

ALRS, DIR = sys.argv[1], sys.argv[2]
SOURCE_V1 = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "results",
                         "paper-design-lenet5-controller", "controller.bin")
CHILD = ("--model mlp --hidden 32,16 --val-split 100 --val-size 60 --batch 32 --steps 40 "
         "--backend native --threads 1 --data-dir " + os.path.join(DIR, "data"))
STEPS, EVERY, SEED = 40, 5, 5
from tally import check, finish  # noqa: E402 (beside this file)


def recorded():
    """The observations of the recorded run: (step, train, val, probs, weights)."""
    rows = []
    with open(os.path.join(DIR, "recorded.txt")) as f:
        for line in f:
            w = line.split()
            step, train, val, n = int(w[0]), float(w[1]), float(w[2]), int(w[3])
            probs = [float(x) for x in w[4:4 + n]]
            m = int(w[4 + n])
            weights = [float(x) for x in w[5 + n:5 + n + m]]
            rows.append((step, train, val, probs, weights))
    return rows


def c_rates():
    with open(os.path.join(DIR, "rates.txt")) as f:
        return [float(line.split()[1]) for line in f]


def trace(path):
    with open(path) as f:
        return list(csv.DictReader(f))


CONTROLLER = os.path.join(DIR, "plain", "controller.bin")
OBS = recorded()
N_PROBS = len(OBS[0][3])


def session_rates():
    s = alrs.Controller(CONTROLLER).session(1e-2, STEPS, N_PROBS, seed=SEED)
    rates, k = [], 0
    for step in range(STEPS):
        if k < len(OBS) and OBS[k][0] == step:
            st, train, val, probs, weights = OBS[k]
            s.observe(st, val, probs, weights, train)
            k += 1
        rates.append(s.rate(step))
    return rates


def two_group_optimizer(lr):
    """A torch optimizer of two param groups at the same rate."""
    return torch.optim.SGD([{"params": [torch.zeros(1, requires_grad=True)]},
                            {"params": [torch.zeros(1, requires_grad=True)]}], lr=lr)


def scheduler_rates(split_at=None):
    """Rates LearnedLR sets, step by step; with split_at, its state is moved
    into a fresh scheduler after that many observations."""
    opt = two_group_optimizer(1e-2)
    sched = LearnedLR(opt, CONTROLLER, total_steps=STEPS, n_probs=N_PROBS, seed=SEED)
    rates, k = [], 0
    _, _, val, probs, weights = OBS[k]
    sched.observe(val, probs, weights)
    k += 1
    for step in range(STEPS):
        rates.append(opt.param_groups[1]["lr"])
        opt.step()
        sched.step()
        if sched.wants_observation():
            st, train, val, probs, weights = OBS[k]
            assert st == sched.last_step
            sched.observe(val, probs, weights, train_loss=train)
            k += 1
            if k == split_at:
                state = sched.state_dict()
                sched = LearnedLR(opt, CONTROLLER, total_steps=STEPS, n_probs=N_PROBS, seed=SEED)
                sched.load_state_dict(state)
    check(sched.get_last_lr()[0] == rates[-1], "get_last_lr is the last rate set")
    return rates


def test_parity():
    want = c_rates()
    got = session_rates()
    check(got == want, "alrs.Session's rates equal the C session's")
    if torch is not None:
        check(scheduler_rates() == want, "LearnedLR's rates equal the C session's")
        check(scheduler_rates(split_at=4) == want, "LearnedLR after state_dict/load_state_dict")
    rows = trace(os.path.join(DIR, "train-plain-mode", "trace.csv"))
    check(len(rows) == STEPS // EVERY, "alrs train's trace has a row per validation")
    for r in rows:
        step = int(r["step"])
        check("%.9g" % got[step - 1] == r["lr"],
              "step %d: alrs train printed %s, Python %.9g" % (step, r["lr"], got[step - 1]))


def train_trace(schedule, out):
    subprocess.run([ALRS, "train"] + CHILD.split() +
                   ["--eval-every", str(EVERY), "--seed", str(SEED), "--lr", "1e-2",
                    "--schedule", schedule, "--out", out], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return trace(os.path.join(out, "trace.csv"))


def run_agent(env, choose):
    obs, info = env.reset(seed=SEED)
    check(len(obs) == env.obs_size and info["child_steps"] == 0, "reset's observation and info")
    lrs, vals = [], []
    while True:
        obs, reward, term, trunc, info = env.step(choose())
        lrs.append(info["lr"])
        vals.append(info["val_loss"])
        if term or trunc:
            return lrs, vals


def same_as(rows, lrs, vals, what):
    ok = len(rows) == len(lrs) and all(
        r["lr"] == "%.9g" % lr and r["val_loss"] == "%.6f" % v for r, lr, v in zip(rows, lrs, vals))
    check(ok, what)


def test_env():
    env = alrs.Env(CHILD + " --lr 1e-2 --features all --reward log-delta",
                   action_every=EVERY, factors="0.5,0.8,1,1.25,2")
    check(isinstance(env.action_space, alrs.Discrete) and env.action_space.n == 5, "action space")
    check(env.observation_space.shape == (11,) and env.observation_space.names[7] == "progress",
          "observation space")
    rng = random.Random(3)
    lrs, vals = run_agent(env, lambda: env.action_space.sample(rng))
    check(len(lrs) == STEPS // EVERY and env.max_steps == len(lrs), "an episode's agent steps")
    replay = os.path.join(DIR, "py-random.csv")
    with open(replay, "w") as f:
        f.write("step,lr\n")
        for t, lr in enumerate(lrs):
            f.write("%d,%.17g\n" % ((t + 1) * EVERY, lr))
    same_as(train_trace("replay:" + replay, os.path.join(DIR, "py-train-replay")), lrs, vals,
            "a random agent's run equals alrs train --schedule replay: of its rates")
    loss, acc = env.test()
    check(loss > 0 and 0 < acc <= 1, "test figures")
    rng = random.Random(3)
    again, _ = run_agent(env, lambda: env.action_space.sample(rng))
    check(again == lrs, "the same seed and actions give the same run")
    env.close()
    cosine = alrs.Env(CHILD + " --lr 1e-2 --base cosine", action_every=EVERY)
    lrs, vals = run_agent(cosine, lambda: 2)  # keep, among x1.05, /1.05, keep
    same_as(train_trace("cosine", os.path.join(DIR, "py-train-cosine")), lrs, vals,
            "an agent keeping a residual cosine base equals alrs train --schedule cosine")
    continuous = alrs.Env(CHILD + " --lr 1e-2 --action continuous", action_every=EVERY)
    check(isinstance(continuous.action_space, alrs.Box), "a continuous action space")
    run_agent(continuous, lambda: [0.3])


def raises(fn, status, needle, what):
    try:
        fn()
    except alrs.AlrsError as e:
        check(e.status == status and needle in str(e),
              "%s: wanted %s with '%s', got %s: %s" % (what, status, needle, e.status, e))
        return
    check(False, what + ": no error")


def test_learned_on():
    """What a controller learned on: Controller.info, describe(), alrs info."""
    c = alrs.Controller(CONTROLLER)
    o = c.info["learned_on"]
    check(c.info["format_version"] == 3 and o["model"] == "mlp --hidden 32,16" and
          o["optimizer"] == "adam" and o["dataset"] == "fashion-mnist" and o["classes"] == 10 and
          o["val_size"] == 60 and o["rates"] == [1e-2, 1e-3, 1e-4] and o["tasks"] == "" and
          o["default_lr"] == 1e-3, "Controller.info's learned_on: %s" % o)
    text = c.describe()
    check("learned on: mlp --hidden 32,16, adam, fashion-mnist (10 classes), 60 validation images, "
          "40 steps, initial rates 0.01, 0.001, 0.0001" in text and
          "default initial rate: 0.001" in text, "describe(): " + text)
    shown = subprocess.run([ALRS, "info", "--controller", CONTROLLER], capture_output=True,
                           text=True)
    check(shown.returncode == 0 and "model: mlp --hidden 32,16\n" in shown.stdout and
          "val_size: 60\n" in shown.stdout and "rates: 0.01,0.001,0.0001\n" in shown.stdout and
          "default_lr: 0.001\n" in shown.stdout,
          "alrs info --controller: " + shown.stdout + shown.stderr)
    old = alrs.Controller(SOURCE_V1)
    check(old.info["learned_on"]["model"] == "" and "not recorded (a format 1 file)" in old.describe(),
          "an old controller says it does not know: " + old.describe())


def test_bad_input():
    bad = os.path.join(DIR, "py-corrupt.bin")
    data = bytearray(open(CONTROLLER, "rb").read())
    data[200] ^= 0x5A
    open(bad, "wb").write(bytes(data))
    raises(lambda: alrs.Controller(bad), "file", "checksum mismatch", "a corrupt controller")
    raises(lambda: alrs.Controller("/nonexistent.bin"), "file", "/nonexistent.bin", "a missing one")
    c = alrs.Controller(CONTROLLER)
    s = c.session(1e-2, STEPS, N_PROBS)
    raises(lambda: s.rate(0), "call out of order", "no observation yet", "a rate before observing")
    _, _, val, probs, weights = OBS[0]
    raises(lambda: s.observe(0, val, probs[:-1], weights), "bad argument", "probabilities",
           "wrong probability count")
    raises(lambda: s.observe(0, float("nan"), probs, weights), "bad value", "not finite", "NaN loss")
    raises(lambda: c.session(5.0, STEPS, N_PROBS), "bad argument",
           "initial_lr 5 is outside the controller's bounds [1e-06, 1]", "an initial rate of 5")
    negative = list(probs)
    negative[0], negative[1] = -0.5, negative[1] + 0.5 + negative[0]
    raises(lambda: s.observe(0, val, negative, weights), "bad value", "probability 0 is -0.5",
           "a negative probability")
    logits = [(p - 0.1) * 20 for p in probs]
    raises(lambda: s.observe(0, val, logits, weights), "bad value", "not logits", "raw logits")
    off = list(probs)
    off[10] += 0.25
    raises(lambda: s.observe(0, val, off, weights), "bad value",
           "row 1 of the probabilities (10 classes) sums to", "a row that does not sum to 1")
    nan_weights = list(weights)
    nan_weights[5] = float("nan")
    raises(lambda: s.observe(0, val, probs, nan_weights), "bad value", "output-layer weight 5 is nan",
           "a NaN output weight")
    s.observe(0, val, probs, weights)
    raises(lambda: s.observe(0, val, probs, weights), "call out of order", "must increase",
           "the same step twice")
    raises(lambda: s.observe(3, val, probs, weights, 1.0), "call out of order",
           "step 3 is off the controller's interval (it acts every 5 steps", "an off-interval step")
    other = alrs.Controller(os.path.join(DIR, "residual", "controller.bin"))
    theirs = other.session(1e-2, STEPS, N_PROBS)
    theirs.observe(0, val, probs, weights)
    raises(lambda: s.restore(theirs.state()), "bad argument", "the state is of another controller",
           "a session state of another controller")
    raises(lambda: c.session(1e-2, STEPS, N_PROBS, policy="best"), "bad argument", "--policy best",
           "an unknown policy")
    raises(lambda: alrs.Env("--model nosuch"), "bad argument", "--model nosuch", "a bad flag")
    env = alrs.Env(CHILD + " --lr 1e-2", action_every=EVERY)
    raises(lambda: env.step(0), "call out of order", "reset first", "a step before reset")
    env.reset(seed=1)
    raises(lambda: env.step(7), "bad argument", "0..2", "an invalid action")


def test_torch():
    try:
        import torch
    except ImportError:
        print("test_alrs: PyTorch not installed: its part is skipped (apt-get install python3-torch)")
        return
    torch.manual_seed(0)
    model = torch.nn.Linear(N_PROBS // 60 * 0 + 100, 10)  # a 10x10-pixel classifier
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    sched = LearnedLR(opt, CONTROLLER, total_steps=STEPS, n_probs=N_PROBS, seed=SEED)
    x, y = torch.randn(60, 100), torch.randint(0, 10, (60,))
    with torch.no_grad():
        logits = model(x)
        sched.observe(torch.nn.functional.cross_entropy(logits, y), torch.softmax(logits, 1),
                      model.weight)
    follow = True
    for step in range(STEPS):
        follow &= opt.param_groups[0]["lr"] == sched.session.rate(step)
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step(loss=loss.item())
        if sched.wants_observation():
            with torch.no_grad():
                logits = model(x)
                sched.observe(torch.nn.functional.cross_entropy(logits, y),
                              torch.softmax(logits, 1), model.weight)
    check(follow, "a torch optimizer's rate is the controller's at every step")
    check(isinstance(sched, torch.optim.lr_scheduler._LRScheduler), "LearnedLR is a torch scheduler")
    test_scheduler_misuse(model, x, y)


def misused(fn, error, needle, what):
    try:
        fn()
    except error as e:
        check(needle in str(e), "%s: wanted '%s' in: %s" % (what, needle, e))
        return
    check(False, what + ": no " + error.__name__)


def test_scheduler_misuse(model, x, y):
    """LearnedLR's clear errors: a skipped observation, a step past
    total_steps, a missing training loss, the loss passed as an epoch."""
    opt = torch.optim.SGD(model.parameters(), lr=1e-2)
    sched = LearnedLR(opt, CONTROLLER, total_steps=EVERY + 1, n_probs=N_PROBS)
    misused(lambda: sched.step(), RuntimeError, "step 0 was not observed", "step before observing")
    sched.observe_model(model, x, y, model)
    misused(lambda: sched.step(0.7), TypeError, "step(loss=...)", "the loss as an epoch")
    for _ in range(EVERY):
        opt.step()
        sched.step()
    misused(lambda: sched.observe_model(model, x, y, model), ValueError, "no training loss since step 0",
            "observing without a training loss")
    misused(lambda: sched.step(loss=1.0), RuntimeError, "step %d was not observed" % EVERY,
            "a skipped observation")
    sched.observe_model(model, x, y, model, train_loss=1.0)
    misused(lambda: sched.observe_model(model, x, y, model, train_loss=1.0), RuntimeError,
            "this one is taken", "observing twice")
    opt.step()
    sched.step(loss=1.0)
    sched.observe_model(model, x, y, model)   # the end: step total_steps
    misused(lambda: sched.step(loss=1.0), RuntimeError, "step %d is past total_steps %d"
            % (EVERY + 2, EVERY + 1), "a step past total_steps")
    # a state_dict of another controller with the same interface is refused
    other = LearnedLR(torch.optim.SGD(model.parameters(), lr=1e-2),
                      os.path.join(DIR, "residual", "controller.bin"), total_steps=EVERY + 1,
                      n_probs=N_PROBS)
    try:
        other.load_state_dict(sched.state_dict())
        check(False, "LearnedLR.load_state_dict of another controller's state: no error")
    except alrs.AlrsError as e:
        check("the state is of another controller" in str(e), "another controller's state: %s" % e)
    check(other.last_epoch == 0 and other.observed_step is None, "a refused state changes nothing")

# the env-only controller's features (test_api's setup): the paper's seven, then
# relative (1), update-ratio (1), grad-norm (2), loss-spread (1)
UPDATE_RATIO_AT, GRAD_REL_AT, LOSS_SPREAD_AT = 8, 9, 11


def test_run_stats():
    """A controller that observes what a run measures between observations:
    LearnedLR measures each step's loss and gradient norm and the parameters'
    change itself, and the session's features follow their definitions from
    what this loop measured independently; a Session without them is refused."""
    controller = os.path.join(DIR, "env-only", "controller.bin")
    check(alrs.Controller(controller).run_stats == {"batch_losses", "grad_norms", "update_ratio"},
          "the env-only controller observes all three run statistics")
    check(alrs.Controller(CONTROLLER).run_stats == set(), "the plain controller none")
    torch.manual_seed(1)
    model = torch.nn.Linear(100, 10)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    sched = LearnedLR(opt, controller, total_steps=STEPS, n_probs=N_PROBS, seed=SEED)
    x, y = torch.randn(60, 100), torch.randint(0, 10, (60,))
    sched.observe_model(model, x, y, model)
    last = [p.detach().clone().double() for p in model.parameters()]
    losses, norms, grad0, worst = [], [], None, 0.0
    for step in range(STEPS):
        loss = torch.nn.functional.cross_entropy(model(x[step % 2::2]), y[step % 2::2])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        norms.append(math.sqrt(sum((p.grad.double() ** 2).sum().item() for p in model.parameters())))
        # step 1 gives no loss: the next observation is refused, and taken
        # once add_loss gives it; the refused one must not move w_last
        sched.step(loss=None if step == 1 else loss.item())
        if not sched.wants_observation():
            continue
        if step == EVERY - 1:
            misused(lambda: sched.observe_model(model, x, y, model), ValueError,
                    "gave one", "an observation with a step's loss missing")
            sched.add_loss(losses[1])
        sched.observe_model(model, x, y, model)
        now = [p.detach().clone().double() for p in model.parameters()]
        moved = math.sqrt(sum(((a - b) ** 2).sum().item() for a, b in zip(now, last)))
        ratio = moved / math.sqrt(sum((b ** 2).sum().item() for b in last))
        mean = sum(losses) / len(losses)
        spread = math.sqrt(sum((v - mean) ** 2 for v in losses) / len(losses)) / abs(mean)
        log_grad = math.log(sum(norms) / len(norms))
        grad0 = log_grad if grad0 is None else grad0
        f = sched.session.features()
        for got, want in ((f[UPDATE_RATIO_AT], math.log(ratio)), (f[GRAD_REL_AT], log_grad - grad0),
                          (f[LOSS_SPREAD_AT], spread)):
            worst = max(worst, abs(got - want) / max(1.0, abs(want)))
        last, losses, norms = now, [], []
    check(worst < 1e-9, "LearnedLR's run features equal this loop's measurements (worst %.2g)"
          % worst)
    s = alrs.Controller(controller).session(1e-2, STEPS, N_PROBS, seed=SEED)
    st, train, val, probs, weights = OBS[0]
    s.observe(st, val, probs, weights)
    st, train, val, probs, weights = OBS[1]
    raises(lambda: s.observe(st, val, probs, weights, train), "bad argument",
           "alrs_session_observe_run", "an observation without the run statistics")
    raises(lambda: s.observe(st, val, probs, weights, train, batch_losses=[1.0] * (EVERY - 1),
                             grad_norms=[1.0] * (EVERY - 1), update_ratio=0.01),
           "bad argument", "4 steps", "run statistics of the wrong number of steps")
    s.observe(st, val, probs, weights, train, batch_losses=[1.0, 1.1, 0.9, 1.0, 1.0],
              grad_norms=[2.0] * EVERY, update_ratio=0.01)


test_parity()
test_learned_on()
test_env()
test_bad_input()
test_torch()
if torch is not None:
    test_run_stats()
finish()
