"""ctypes bindings of libalrs (include/alrs/alrs.h): the one place that knows
the C declarations. Everything else in the package goes through these."""
import ctypes
import ctypes.util
import os
import sys

try:  # written by CMake for the build tree and the install; absent in a pip install
    from . import _paths
except ImportError:
    _paths = None

SONAME = "libalrs.so.1"


class AlrsError(RuntimeError):
    """A libalrs call failed; .status is the alrs_status name."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def _prefix_candidates():
    """libalrs under the usual prefixes: this Python's (a venv's, then the
    one it was made from), /usr/local and /usr, each with Debian's
    multiarch directory too."""
    arch = getattr(sys.implementation, "_multiarch", "")
    out = []
    for prefix in dict.fromkeys([sys.prefix, sys.base_prefix, "/usr/local", "/usr"]):
        for libdir in ("lib", "lib/" + arch if arch else None, "lib64"):
            if libdir:
                out.append(os.path.join(prefix, libdir, SONAME))
    return out


def library_candidates():
    """Where libalrs is looked for, in order: $ALRS_LIBRARY, the path CMake
    wrote (build tree or install), the usual prefixes, the loader's search."""
    found = ctypes.util.find_library("alrs")
    return ([os.environ.get("ALRS_LIBRARY", "")] +
            (_paths.library_candidates() if _paths else []) + _prefix_candidates() +
            ([found] if found else []))


def _load():
    tried = []
    for path in library_candidates():
        if not path:
            continue
        if os.path.exists(path) or "/" not in path:
            try:
                return ctypes.CDLL(path)
            except OSError as e:
                tried.append("%s (%s)" % (path, e))
                continue
        tried.append(path)
    raise ImportError("alrs: libalrs not found (tried: %s); set ALRS_LIBRARY to its path"
                      % ", ".join(tried))


lib = _load()


def library_path():
    """The file of the libalrs that was loaded."""
    return lib._name

c_double_p = ctypes.POINTER(ctypes.c_double)
c_float_p = ctypes.POINTER(ctypes.c_float)


class ControllerInfo(ctypes.Structure):
    _fields_ = [("format_version", ctypes.c_int), ("n_features", ctypes.c_int),
                ("features", ctypes.c_char * 64), ("action_kind", ctypes.c_char * 16),
                ("n_actions", ctypes.c_int), ("factors", ctypes.c_double * 16),
                ("delta", ctypes.c_double), ("base", ctypes.c_char * 256),
                ("residual_range", ctypes.c_double), ("lr_min", ctypes.c_double),
                ("lr_max", ctypes.c_double), ("action_every", ctypes.c_int),
                ("steps", ctypes.c_long), ("updates", ctypes.c_long)]


class ControllerOrigin(ctypes.Structure):
    _fields_ = [("model", ctypes.c_char * 64), ("optimizer", ctypes.c_char * 64),
                ("dataset", ctypes.c_char * 64), ("n_rates", ctypes.c_int),
                ("rates", ctypes.c_double * 8), ("val_size", ctypes.c_long),
                ("classes", ctypes.c_int), ("tasks", ctypes.c_char * 1024),
                ("default_lr", ctypes.c_double)]


class SessionConfig(ctypes.Structure):
    _fields_ = [("initial_lr", ctypes.c_double), ("total_steps", ctypes.c_long),
                ("n_probs", ctypes.c_size_t), ("policy", ctypes.c_char_p),
                ("seed", ctypes.c_ulonglong)]


class Observation(ctypes.Structure):
    _fields_ = [("step", ctypes.c_long), ("train_loss", ctypes.c_double),
                ("val_loss", ctypes.c_double), ("probs", c_float_p),
                ("n_probs", ctypes.c_size_t), ("out_weights", c_float_p),
                ("n_out_weights", ctypes.c_size_t)]


class RunStats(ctypes.Structure):
    _fields_ = [("n_steps", ctypes.c_size_t), ("batch_losses", c_double_p),
                ("grad_norms", c_double_p), ("update_ratio", ctypes.c_double)]


# alrs_controller_run_stats's bits: what a controller observes between observations
RUN_BATCH_LOSSES, RUN_GRAD_NORMS, RUN_UPDATE_RATIO = 1, 2, 4


class EnvInfo(ctypes.Structure):
    _fields_ = [("obs_size", ctypes.c_int), ("n_actions", ctypes.c_int),
                ("max_steps", ctypes.c_int), ("action_every", ctypes.c_int)]


class EnvState(ctypes.Structure):
    _fields_ = [("child_steps", ctypes.c_long), ("lr", ctypes.c_double),
                ("train_loss", ctypes.c_double), ("val_loss", ctypes.c_double),
                ("val_acc", ctypes.c_double), ("diverged", ctypes.c_int)]


def _declare(name, restype, *argtypes):
    fn = getattr(lib, name)
    fn.restype = restype
    fn.argtypes = list(argtypes)
    return fn


vp = ctypes.c_void_p
status = ctypes.c_int
version = _declare("alrs_version", ctypes.c_char_p)
last_error = _declare("alrs_last_error", ctypes.c_char_p)
status_name = _declare("alrs_status_name", ctypes.c_char_p, ctypes.c_int)
controller_open = _declare("alrs_controller_open", status, ctypes.c_char_p, ctypes.POINTER(vp))
controller_close = _declare("alrs_controller_close", None, vp)
controller_describe = _declare("alrs_controller_describe", status, vp,
                               ctypes.POINTER(ControllerInfo))
controller_learned_on = _declare("alrs_controller_learned_on", status, vp,
                                 ctypes.POINTER(ControllerOrigin))
session_create = _declare("alrs_session_create", status, vp, ctypes.POINTER(SessionConfig),
                          ctypes.POINTER(vp))
session_free = _declare("alrs_session_free", None, vp)
session_observe = _declare("alrs_session_observe", status, vp, ctypes.POINTER(Observation))
session_observe_run = _declare("alrs_session_observe_run", status, vp,
                               ctypes.POINTER(Observation), ctypes.POINTER(RunStats))
controller_run_stats = _declare("alrs_controller_run_stats", ctypes.c_uint, vp)
session_rate = _declare("alrs_session_rate", status, vp, ctypes.c_long, c_double_p)
session_features = _declare("alrs_session_features", status, vp, c_double_p, ctypes.c_size_t)
session_state_size = _declare("alrs_session_state_size", ctypes.c_size_t, vp)
session_save = _declare("alrs_session_save", status, vp, ctypes.c_void_p, ctypes.c_size_t)
session_restore = _declare("alrs_session_restore", status, vp, ctypes.c_void_p, ctypes.c_size_t)
env_create = _declare("alrs_env_create", status, ctypes.c_char_p, ctypes.POINTER(vp))
env_free = _declare("alrs_env_free", None, vp)
env_describe = _declare("alrs_env_describe", status, vp, ctypes.POINTER(EnvInfo))
env_feature_name = _declare("alrs_env_feature_name", ctypes.c_char_p, vp, ctypes.c_int)
env_reset = _declare("alrs_env_reset", status, vp, ctypes.c_ulonglong, c_double_p,
                     ctypes.c_size_t)
env_step = _declare("alrs_env_step", status, vp, ctypes.c_double, c_double_p, ctypes.c_size_t,
                    c_double_p, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int))
env_state_get = _declare("alrs_env_state_get", status, vp, ctypes.POINTER(EnvState))
env_test = _declare("alrs_env_test", status, vp, c_double_p, c_double_p)


def check(rc):
    """Raises AlrsError with libalrs's message when rc is not ALRS_OK."""
    if rc != 0:
        raise AlrsError(status_name(rc).decode(), last_error().decode())


def float_array(values, what):
    """A contiguous float32 buffer of any sequence, numpy array or torch
    tensor, and a pointer to it (the buffer must outlive the call)."""
    try:
        import numpy as np
        if hasattr(values, "detach"):  # a torch tensor
            values = values.detach().cpu().numpy()
        arr = np.ascontiguousarray(values, dtype=np.float32).ravel()
        return arr, arr.ctypes.data_as(c_float_p), arr.size
    except ImportError:
        flat = list(values)
        arr = (ctypes.c_float * len(flat))(*flat)
        return arr, ctypes.cast(arr, c_float_p), len(flat)
