"""A learned controller (alrs learn's controller.bin) and a session of it
driving one training run, over libalrs (include/alrs/alrs.h)."""
import ctypes
import os
import sys

from . import _lib


def controller_dirs():
    """Where installed controllers are looked for, in order: each of
    $ALRS_CONTROLLERS (colon-separated), share/alrs/controllers beside the
    loaded libalrs (its prefix), then under this Python's prefix, /usr/local
    and /usr."""
    dirs = [d for d in os.environ.get("ALRS_CONTROLLERS", "").split(":") if d]
    libdir = os.path.dirname(os.path.realpath(_lib.library_path()))
    dirs.append(os.path.normpath(os.path.join(libdir, "..", "share", "alrs", "controllers")))
    dirs.append(os.path.normpath(os.path.join(libdir, "..", "..", "share", "alrs", "controllers")))
    for prefix in (sys.prefix, "/usr/local", "/usr"):
        dirs.append(os.path.join(prefix, "share", "alrs", "controllers"))
    return list(dict.fromkeys(dirs))


def installed_controllers():
    """The names of the installed controllers (Controller.named opens them)."""
    names = set()
    for d in controller_dirs():
        if os.path.isdir(d):
            names.update(f[:-4] for f in os.listdir(d) if f.endswith(".bin"))
    return sorted(names)


class Controller:
    """An alrs controller checkpoint, opened (any version alrs reads)."""

    def __init__(self, path):
        self.path = str(path)
        self._handle = None  # (so that __del__ of a half-made object is harmless)
        handle = ctypes.c_void_p()
        _lib.check(_lib.controller_open(self.path.encode(), ctypes.byref(handle)))
        self._handle = handle
        info = _lib.ControllerInfo()
        _lib.check(_lib.controller_describe(self._handle, ctypes.byref(info)))
        self.info = {
            "format_version": info.format_version,
            "n_features": info.n_features,
            "features": info.features.decode(),
            "action_kind": info.action_kind.decode(),
            "n_actions": info.n_actions,
            "factors": list(info.factors[:info.n_actions]) if info.action_kind == b"discrete" else [],
            "delta": info.delta,
            "base": info.base.decode(),
            "residual_range": info.residual_range,
            "lr_min": info.lr_min,
            "lr_max": info.lr_max,
            "action_every": info.action_every,
            "steps": info.steps,
            "updates": info.updates,
            "learned_on": self._learned_on(),
        }

    def _learned_on(self):
        """What it learned on: model, optimizer, dataset, rates, val_size,
        classes, tasks, default_lr ("" and 0 where the file does not say:
        format 2 and older)."""
        o = _lib.ControllerOrigin()
        _lib.check(_lib.controller_learned_on(self._handle, ctypes.byref(o)))
        return {"model": o.model.decode(), "optimizer": o.optimizer.decode(),
                "dataset": o.dataset.decode(), "rates": list(o.rates[:o.n_rates]),
                "val_size": o.val_size, "classes": o.classes, "tasks": o.tasks.decode(),
                "default_lr": o.default_lr}

    def describe(self):
        """A few lines a person reads: what it observes, what its actions do,
        and what it learned on."""
        i, o = self.info, self.info["learned_on"]
        actions = ("factors " + ", ".join("%g" % f for f in i["factors"])
                   if i["action_kind"] == "discrete" else "delta %g" % i["delta"])
        lines = ["controller %s (format %d, %d PPO updates)" % (self.path, i["format_version"],
                                                                 i["updates"]),
                 "observes: %s (%d values); acts every %d steps (%s actions, %s)"
                 % (i["features"], i["n_features"], i["action_every"], i["action_kind"], actions),
                 "rates within [%g, %g]%s" % (i["lr_min"], i["lr_max"],
                                              ", residual on " + i["base"] if i["base"] else "")]
        if o["model"]:
            lines.append("learned on: %s, %s, %s (%d classes), %d validation images, %d steps, "
                         "initial rates %s" % (o["model"], o["optimizer"], o["dataset"],
                                               o["classes"], o["val_size"], i["steps"],
                                               ", ".join("%g" % r for r in o["rates"])))
        else:
            lines.append("learned on: not recorded (a format %d file)" % i["format_version"])
        if o["tasks"]:
            lines.append("tasks: " + o["tasks"])
        if o["default_lr"]:
            lines.append("default initial rate: %g" % o["default_lr"])
        return "\n".join(lines)

    @classmethod
    def named(cls, name):
        """An installed controller by name ("fashion-mnist-lenet5" opens
        share/alrs/controllers/fashion-mnist-lenet5.bin; controller_dirs()
        says where it looks)."""
        dirs = controller_dirs()
        for d in dirs:
            path = os.path.join(d, name + ".bin")
            if os.path.isfile(path):
                return cls(path)
        raise FileNotFoundError("alrs: no installed controller %r (looked for %s.bin in %s)"
                                % (name, name, ", ".join(dirs)))

    @property
    def run_stats(self):
        """What it observes between observations, a set of "batch_losses",
        "grad_norms", "update_ratio" (empty: observe() needs none of them)."""
        bits = _lib.controller_run_stats(self._handle)
        return {name for bit, name in ((_lib.RUN_BATCH_LOSSES, "batch_losses"),
                                       (_lib.RUN_GRAD_NORMS, "grad_norms"),
                                       (_lib.RUN_UPDATE_RATIO, "update_ratio")) if bits & bit}

    @property
    def action_every(self):
        """Training steps per action while it learned: observe this often."""
        return self.info["action_every"]

    def session(self, initial_lr, total_steps, n_probs, policy="mode", seed=0):
        return Session(self, initial_lr, total_steps, n_probs, policy, seed)

    def close(self):
        if self._handle:
            _lib.controller_close(self._handle)
            self._handle = None

    def __del__(self):
        self.close()

    def __repr__(self):
        i = self.info
        return ("Controller(%r: %s actions, features %s%s)"
                % (self.path, i["action_kind"], i["features"],
                   ", residual on " + i["base"] if i["base"] else ""))


class Session:
    """One training run driven by a controller: observe() at step 0 and every
    action_every steps; rate(step) for each training step."""

    def __init__(self, controller, initial_lr, total_steps, n_probs, policy="mode", seed=0):
        self.controller = controller  # kept alive: the session reads its bytes
        self.n_probs = int(n_probs)
        self.total_steps = int(total_steps)
        cfg = _lib.SessionConfig(float(initial_lr), self.total_steps, self.n_probs,
                                 policy.encode(), int(seed))
        self._handle = None  # (so that __del__ of a half-made object is harmless)
        self._last_step = None  # this object's last observation (for run statistics' length)
        handle = ctypes.c_void_p()
        _lib.check(_lib.session_create(controller._handle, ctypes.byref(cfg), ctypes.byref(handle)))
        self._handle = handle

    def observe(self, step, val_loss, probs, out_weights, train_loss=float("nan"),
                batch_losses=None, grad_norms=None, update_ratio=None):
        """Takes what the loop has after a validation: the step (training steps
        done), the validation loss, the softmax probabilities of the validation
        images (the same images in the same order each time), the output
        layer's weights, and the mean training loss since the last observation
        (ignored at step 0). A controller whose run_stats is not empty also
        needs, after step 0, what the loop measured since the last
        observation: each step's batch loss, each step's gradient norm (all
        trained parameters, before the optimizer), |w - w_last| / |w_last|."""
        p_buf, p_ptr, n_p = _lib.float_array(probs, "probs")
        w_buf, w_ptr, n_w = _lib.float_array(out_weights, "out_weights")
        if step == 0 and train_loss != train_loss:  # NaN: unused at the first observation
            train_loss = 0.0
        o = _lib.Observation(int(step), float(train_loss), float(val_loss), p_ptr, n_p, w_ptr, n_w)
        since = int(step) - self._last_step if self._last_step is not None else 0
        run = self._run_stats(since, batch_losses, grad_norms, update_ratio)
        _lib.check(_lib.session_observe_run(self._handle, ctypes.byref(o),
                                            ctypes.byref(run[0]) if run else None))
        self._last_step = int(step)
        del p_buf, w_buf, run

    @staticmethod
    def _run_stats(since, batch_losses, grad_norms, update_ratio):
        """The RunStats of the given values and the buffers it points to (None
        when none is given); its n_steps is the length of the lists, or
        `since` (the steps since the last observation) without them."""
        if batch_losses is None and grad_norms is None and update_ratio is None:
            return None
        lists = [None if v is None else [float(x) for x in v] for v in (batch_losses, grad_norms)]
        lengths = {len(v) for v in lists if v is not None}
        if len(lengths) > 1:
            raise ValueError("Session.observe: %d batch losses but %d gradient norms (one of "
                             "each per step)" % (len(lists[0]), len(lists[1])))
        n = lengths.pop() if lengths else since
        bufs = [None if v is None else (ctypes.c_double * n)(*v) for v in lists]
        ptrs = [None if b is None else ctypes.cast(b, _lib.c_double_p) for b in bufs]
        ratio = 0.0 if update_ratio is None else float(update_ratio)
        return _lib.RunStats(n, ptrs[0], ptrs[1], ratio), bufs

    def rate(self, step):
        """The rate of training step `step` (0-based)."""
        lr = ctypes.c_double()
        _lib.check(_lib.session_rate(self._handle, int(step), ctypes.byref(lr)))
        return lr.value

    def features(self):
        """The last observation's raw features."""
        n = self.controller.info["n_features"]
        out = (ctypes.c_double * n)()
        _lib.check(_lib.session_features(self._handle, out, n))
        return list(out)

    def state(self):
        """The session's state as bytes (for a checkpoint of the training run)."""
        n = _lib.session_state_size(self._handle)
        buf = ctypes.create_string_buffer(n)
        _lib.check(_lib.session_save(self._handle, buf, n))
        return buf.raw

    def restore(self, state):
        buf = ctypes.create_string_buffer(bytes(state), len(state))
        _lib.check(_lib.session_restore(self._handle, buf, len(state)))

    def close(self):
        if self._handle:
            _lib.session_free(self._handle)
            self._handle = None

    def __del__(self):
        self.close()
