"""alrs's child-training environment for any agent, with gymnasium's reset /
step signatures: one episode is one training run of a child network, an
action every action_every training steps changes its learning rate.

    env = alrs.Env("--model mlp --steps 500 --val-size 1000 --features paper,progress")
    obs, info = env.reset(seed=1)                # obs: numpy float32
    while True:
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        if terminated or truncated:
            break

The flags are those of `alrs learn` (the child run, --features, --action,
--factors, --base, --reward, --lr or --initial-lrs, ...) plus --threads N.
reset(seed=S) starts the child network that `alrs train --seed S` starts.

As gymnasium's Env: observations are numpy float32 arrays in
observation_space; reset(seed=S) also seeds np_random (a numpy Generator),
and reset() without a seed draws the next child's seed from it, so a run of
resets is reproducible from the first seed; a continuous action (--action
continuous or absolute) is a float32 in action_space = Box(-1, 1): the
squashed value, the tanh of what alrs's Gaussian policy draws.
"""
import ctypes
import math

import numpy as np

from . import _lib
from .spaces import Box, Discrete


class Env:
    metadata = {"render_modes": []}
    render_mode = None
    spec = None

    def __init__(self, flags="", **kwargs):
        """flags: a string of alrs learn flags; keyword arguments add more
        (model="mlp", val_size=1000 -> --model mlp --val-size 1000)."""
        words = [flags] if flags else []
        for key, value in kwargs.items():
            words.append("--%s %s" % (key.replace("_", "-"), value))
        self.flags = " ".join(words)
        self._handle = None  # (so that __del__ of a half-made object is harmless)
        handle = ctypes.c_void_p()
        _lib.check(_lib.env_create(self.flags.encode(), ctypes.byref(handle)))
        self._handle = handle
        info = _lib.EnvInfo()
        _lib.check(_lib.env_describe(self._handle, ctypes.byref(info)))
        self.obs_size, self.max_steps = info.obs_size, info.max_steps
        self.action_every = info.action_every
        names = [_lib.env_feature_name(self._handle, k).decode() for k in range(info.obs_size)]
        # the features (log losses, slopes, ...) have no bounds of their own
        self.observation_space = Box(-math.inf, math.inf, (info.obs_size,), names)
        self.action_space = (Discrete(info.n_actions) if info.n_actions > 0
                             else Box(-1.0, 1.0, (1,)))
        self._obs = (ctypes.c_double * info.obs_size)()
        self._np_random = None
        self._np_random_seed = None

    @property
    def np_random(self):
        """The environment's numpy Generator (gymnasium's np_random): seeded by
        reset(seed=...), made unseeded on first use otherwise."""
        if self._np_random is None:
            self._seed_np_random(None)
        return self._np_random

    @np_random.setter
    def np_random(self, value):
        self._np_random, self._np_random_seed = value, -1

    @property
    def np_random_seed(self):
        """The seed np_random was made from (-1 when set from outside)."""
        if self._np_random is None:
            self._seed_np_random(None)
        return self._np_random_seed

    def _seed_np_random(self, seed):
        # as gymnasium.utils.seeding.np_random: PCG64 over a SeedSequence
        sequence = np.random.SeedSequence(seed)
        self._np_random = np.random.Generator(np.random.PCG64(sequence))
        self._np_random_seed = sequence.entropy

    @property
    def unwrapped(self):
        return self

    def reset(self, *, seed=None, options=None):
        """A new episode: the child network of `alrs train --seed SEED`, with
        SEED = seed, or drawn from np_random when no seed is given. Returns
        (observation, info)."""
        if seed is not None:
            if not isinstance(seed, (int, np.integer)) or seed < 0:
                raise ValueError("alrs.Env.reset: seed must be a non-negative int, got %r"
                                 % (seed,))
            self._seed_np_random(int(seed))
            child_seed = int(seed)
        else:
            child_seed = int(self.np_random.integers(0, 2**31))
        if options is not None and not isinstance(options, dict):
            raise TypeError("alrs.Env.reset: options must be a dict or None")
        _lib.check(_lib.env_reset(self._handle, child_seed, self._obs, self.obs_size))
        return self._observation(), self._info()

    def step(self, action):
        """One agent step: (observation, reward, terminated, truncated, info)."""
        if isinstance(self.action_space, Discrete):
            value = float(int(action))
        else:
            a = np.asarray(action, dtype=np.float64).reshape(-1)
            if a.size != 1 or not (-1.0 <= a[0] <= 1.0):
                raise ValueError("alrs.Env.step: a continuous action is one value in [-1, 1], "
                                 "got %r" % (action,))
            value = math.atanh(a[0]) if abs(a[0]) < 1 else math.copysign(math.inf, a[0])
        reward = ctypes.c_double()
        term, trunc = ctypes.c_int(), ctypes.c_int()
        _lib.check(_lib.env_step(self._handle, value, self._obs, self.obs_size,
                                 ctypes.byref(reward), ctypes.byref(term), ctypes.byref(trunc)))
        return (self._observation(), float(reward.value), bool(term.value), bool(trunc.value),
                self._info())

    def _observation(self):
        return np.array(self._obs, dtype=np.float32)

    def _info(self):
        st = _lib.EnvState()
        _lib.check(_lib.env_state_get(self._handle, ctypes.byref(st)))
        return {"child_steps": st.child_steps, "lr": st.lr, "train_loss": st.train_loss,
                "val_loss": st.val_loss, "val_acc": st.val_acc, "diverged": bool(st.diverged)}

    def test(self):
        """(loss, accuracy) on the test set at the episode's best validation point."""
        loss, acc = ctypes.c_double(), ctypes.c_double()
        _lib.check(_lib.env_test(self._handle, ctypes.byref(loss), ctypes.byref(acc)))
        return loss.value, acc.value

    def render(self):
        """Nothing to render (render_modes is empty), as gymnasium allows."""
        return None

    def close(self):
        if self._handle:
            _lib.env_free(self._handle)
            self._handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):
        self.close()
