"""alrs.Env against gymnasium's documented Env contract (run by
tests/test_python.sh; gymnasium is not in Debian's archive, so the checks of
gymnasium.utils.env_checker.check_env are written out here from its docs):
  - reset(*, seed=None, options=None) -> (obs, info): keyword-only; obs in
    observation_space; info a dict; reset(seed=S) seeds np_random, twice the
    same seed gives the same observation and the same np_random state, and a
    reset without a seed does not re-seed it;
  - step(action) -> (obs, reward, terminated, truncated, info): obs in the
    space, a float reward, bool flags, a dict; an episode ends within
    max_steps;
  - spaces: observations a float32 Box of the observation's shape; actions a
    Discrete, or a bounded float32 Box; sample() is in the space, seed()
    makes it reproducible;
  - metadata["render_modes"], render_mode, spec, unwrapped, close() twice.
Usage: test_env_contract.py DATA_DIR"""
import inspect
import sys

import numpy as np

import alrs

DATA = sys.argv[1]
CHILD = ("--model mlp --hidden 16 --val-split 100 --val-size 40 --batch 32 --steps 20 "
         "--action-every 5 --backend native --threads 1 --lr 1e-2 --data-dir " + DATA)
from tally import check, finish  # noqa: E402 (beside this file)


def check_spaces(env):
    obs_space, act_space = env.observation_space, env.action_space
    check(obs_space.dtype == np.float32 and obs_space.shape == (env.obs_size,),
          "observation space: a float32 Box of the observation's shape, got %r" % obs_space)
    if isinstance(act_space, alrs.Discrete):
        check(act_space.n >= 2 and act_space.shape == (), "a Discrete action space")
    else:
        check(act_space.dtype == np.float32 and act_space.is_bounded("both"),
              "a continuous action space is a bounded float32 Box, got %r" % act_space)
    act_space.seed(7)
    first = [act_space.sample() for _ in range(5)]
    act_space.seed(7)
    check(all(np.array_equal(a, b) for a, b in zip(first, [act_space.sample() for _ in range(5)])),
          "action_space.seed makes sample() reproducible")
    check(all(act_space.contains(a) for a in first), "sample() is in the space")


def check_reset(env):
    params = inspect.signature(env.reset).parameters
    check(params["seed"].kind == inspect.Parameter.KEYWORD_ONLY and
          params["options"].kind == inspect.Parameter.KEYWORD_ONLY and
          params["seed"].default is None and params["options"].default is None,
          "reset(*, seed=None, options=None)")
    obs, info = env.reset(seed=123)
    check(isinstance(obs, np.ndarray) and obs.dtype == np.float32 and
          env.observation_space.contains(obs), "reset's observation is in the space: %r" % (obs,))
    check(isinstance(info, dict), "reset's info is a dict")
    state = env.np_random.bit_generator.state
    again, _ = env.reset(seed=123)
    check(np.array_equal(obs, again), "the same seed gives the same observation")
    check(env.np_random.bit_generator.state == state, "reset(seed=S) seeds np_random the same way")
    env.np_random.random()  # the generator moves on ...
    moved = env.np_random.bit_generator.state
    env.reset()
    check(env.np_random.bit_generator.state != state and env.np_random_seed == 123,
          "reset() without a seed does not re-seed np_random")
    check(moved != state, "np_random is a generator in use")
    env.reset(seed=5, options={})
    check(True, "reset takes options")


def check_steps(env):
    obs, _ = env.reset(seed=1)
    n = 0
    while True:
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        n += 1
        ok = (isinstance(obs, np.ndarray) and obs.dtype == np.float32 and
              env.observation_space.contains(obs) and isinstance(reward, float) and
              np.isfinite(reward) and type(terminated) is bool and type(truncated) is bool and
              isinstance(info, dict))
        if not ok:
            check(False, "step %d returns (obs, float reward, bool, bool, dict): %r"
                  % (n, (obs, reward, terminated, truncated, info)))
            return
        if terminated or truncated:
            break
        if n > env.max_steps:
            check(False, "no end after max_steps %d" % env.max_steps)
            return
    check(n == env.max_steps, "an episode of max_steps agent steps, got %d" % n)


def check_reproducible_resets(flags):
    """Without seeds after the first, two environments go through the same
    children (the seeds come from np_random)."""
    runs = []
    for _ in range(2):
        env = alrs.Env(flags)
        env.reset(seed=9)
        obs, _ = env.reset()
        runs.append(obs)
        env.close()
    check(np.array_equal(runs[0], runs[1]), "resets after reset(seed=9) are reproducible")


def check_misc(env):
    check("render_modes" in env.metadata and env.render_mode is None and env.spec is None,
          "metadata, render_mode, spec")
    check(env.unwrapped is env, "unwrapped is the environment itself")
    env.close()
    env.close()
    check(True, "close() twice")


for flags in (CHILD, CHILD + " --action continuous"):
    env = alrs.Env(flags)
    check_spaces(env)
    check_reset(env)
    check_steps(env)
    check_misc(env)
check_reproducible_resets(CHILD)
try:
    bad = alrs.Env(CHILD + " --action continuous")
    bad.reset(seed=1)
    bad.step(np.array([1.5], dtype=np.float32))
    check(False, "an action outside [-1, 1] is refused")
except ValueError as e:
    check("[-1, 1]" in str(e), "the refusal names the bounds: %s" % e)
finish("test_env_contract: ")
