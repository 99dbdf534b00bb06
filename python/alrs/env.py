"""alrs's child-training environment for any agent, with gymnasium's reset /
step signatures: one episode is one training run of a child network, an
action every action_every training steps changes its learning rate.

    env = alrs.Env("--model mlp --steps 500 --val-size 1000 --features paper,progress")
    obs, info = env.reset(seed=1)
    while True:
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        if terminated or truncated:
            break

The flags are those of `alrs learn` (the child run, --features, --action,
--factors, --base, --reward, --lr or --initial-lrs, ...) plus --threads N.
reset(seed=S) starts the child network that `alrs train --seed S` starts.
"""
import ctypes
import math

from . import _lib
from .spaces import Box, Discrete


class Env:
    metadata = {"render_modes": []}

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
        self.observation_space = Box(-math.inf, math.inf, (info.obs_size,), names)
        self.action_space = (Discrete(info.n_actions) if info.n_actions > 0
                             else Box(-math.inf, math.inf, (1,)))
        self._obs = (ctypes.c_double * info.obs_size)()
        self._next_seed = 0

    def reset(self, seed=None, options=None):
        """A new episode; without a seed, the next of 0, 1, 2, ..."""
        if seed is None:
            seed, self._next_seed = self._next_seed, self._next_seed + 1
        _lib.check(_lib.env_reset(self._handle, int(seed), self._obs, self.obs_size))
        return list(self._obs), self._info()

    def step(self, action):
        if isinstance(self.action_space, Discrete):
            action = float(int(action))
        else:
            action = float(action[0] if hasattr(action, "__len__") else action)
        reward = ctypes.c_double()
        term, trunc = ctypes.c_int(), ctypes.c_int()
        _lib.check(_lib.env_step(self._handle, action, self._obs, self.obs_size,
                                 ctypes.byref(reward), ctypes.byref(term), ctypes.byref(trunc)))
        return list(self._obs), reward.value, bool(term.value), bool(trunc.value), self._info()

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

    def close(self):
        if self._handle:
            _lib.env_free(self._handle)
            self._handle = None

    def __del__(self):
        self.close()
