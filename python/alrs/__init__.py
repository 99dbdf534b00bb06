"""alrs from Python, over libalrs: learned learning-rate controllers for your
own training loop (Controller, Session; alrs.torch.LearnedLR for PyTorch) and
alrs's child-training environment for your own agents (Env).

    import alrs
    c = alrs.Controller("controller.bin")
    env = alrs.Env("--model mlp --steps 500 --val-size 1000")
"""
from ._lib import AlrsError
from ._lib import version as _version
from .controller import Controller, Session, controller_dirs, installed_controllers
from .env import Env
from .spaces import Box, Discrete

__version__ = _version().decode().split()[0]


def version():
    """'1.2.1 (git 1a2b3c4d5e6f)': libalrs's version and commit."""
    return _version().decode()


__all__ = ["AlrsError", "Box", "Controller", "Discrete", "Env", "Session", "controller_dirs",
           "installed_controllers", "version"]
