"""LearnedLR: a learned alrs controller as a torch.optim.lr_scheduler
scheduler for your own PyTorch training loop.

    from alrs.torch import LearnedLR
    sched = LearnedLR(optimizer, "controller.bin", total_steps=1000)
    sched.observe_model(model, val_x, val_y, model.fc3)      # the fresh network
    for step in range(1000):
        loss = train_step(...); optimizer.step(); sched.step(loss=loss.item())
        if sched.wants_observation():                        # every action_every steps
            sched.observe_model(model, val_x, val_y, model.fc3)

It is a subclass of torch's scheduler base class (last_epoch, base_lrs,
get_lr, get_last_lr, state_dict), so it goes into SequentialLR after a
warm-up. The controller chooses a rate for the session's initial rate (the
first group's, unless initial_lr is given); every param group gets its own
initial rate times the controller's factor, rate / initial rate, so the
groups keep their ratios. libalrs computes the observation features with
alrs's own code.
"""
import math
import warnings

import torch
import torch.nn.functional as F
from torch.optim import lr_scheduler

from .controller import Controller

# LRScheduler from torch 2.0 on; _LRScheduler before (Debian's 1.13)
_Base = getattr(lr_scheduler, "LRScheduler", None) or lr_scheduler._LRScheduler

# state_dict keys that must match the scheduler a state is loaded into
_RUN_KEYS = ("initial_lr", "total_steps", "n_probs", "policy", "seed", "observe_every")


class LearnedLR(_Base):
    def __init__(self, optimizer, controller, total_steps, n_probs=None, initial_lr=None,
                 policy="mode", seed=0, observe_every=None, last_epoch=-1, verbose=False):
        """optimizer: a torch optimizer; its groups' "initial_lr" (their lr
        when missing, as torch's schedulers) are the base_lrs. controller: a
        path or a Controller. total_steps: the training steps this scheduler
        drives (after a warm-up, those that follow it). n_probs: validation
        images x classes; by default the size of the first observation's
        probabilities. initial_lr: the rate the controller's session starts
        from, by default the first group's initial rate. observe_every: the
        controller's action interval unless given (then a multiple of it:
        libalrs refuses observations off the controller's interval)."""
        self.controller = controller if isinstance(controller, Controller) else Controller(controller)
        self.total_steps = int(total_steps)
        self.observe_every = int(observe_every or self.controller.action_every)
        self.policy, self.seed = policy, int(seed)
        self.n_probs = int(n_probs) if n_probs is not None else None
        if last_epoch == -1:
            for g in optimizer.param_groups:
                g.setdefault("initial_lr", g["lr"])
        self.initial_lr = float(initial_lr if initial_lr is not None
                                else optimizer.param_groups[0]["initial_lr"])
        self.session = None             # made at the first observation when n_probs is None
        if self.n_probs is not None:
            self._make_session()
        self.observed_step = None       # the step of the last observation (None: none yet)
        # what happened since the last observation: each step's training loss
        # (their mean is the observation's training loss) and, where the
        # controller observes them (Controller.run_stats), each step's gradient
        # norm and the parameters at the last observation
        self._run_stats = self.controller.run_stats
        self._batch_losses, self._grad_norms, self._last_params = [], [], None
        super().__init__(optimizer, last_epoch, verbose)

    def _make_session(self):
        self.session = self.controller.session(self.initial_lr, self.total_steps, self.n_probs,
                                               self.policy, self.seed)

    # ---- when observations are due -------------------------------------------

    @property
    def last_step(self):
        """Training steps this scheduler has driven (its last_epoch; -1 before
        it starts, as inside SequentialLR during the warm-up)."""
        return self.last_epoch

    def _due_at(self, step):
        return step >= 0 and (step % self.observe_every == 0 or step == self.total_steps)

    def wants_observation(self):
        """True when the loop should validate and call observe() now: at step
        0 (the network it starts from), every observe_every steps, and after
        the last step."""
        return self._due_at(self.last_epoch) and self.observed_step != self.last_epoch

    # ---- the scheduler --------------------------------------------------------

    def step(self, epoch=None, loss=None):
        """After optimizer.step(): counts the step (and `loss`, the training
        loss of the step, for the next observation) and sets the next step's
        rate. step(0) is SequentialLR's start of this scheduler at its
        milestone; no other epoch is taken."""
        if epoch is not None and (isinstance(epoch, float) or epoch != 0):
            raise TypeError("LearnedLR.step(%r): pass the training loss as step(loss=...); an "
                            "epoch is taken only as SequentialLR's start at 0" % (epoch,))
        if epoch == 0 and self.observed_step is not None:
            raise RuntimeError("LearnedLR.step(0): the controller has observed step %d already; "
                               "a session cannot start again" % self.observed_step)
        if epoch is None and self.last_epoch >= 0:
            if self.last_epoch + 1 > self.total_steps:
                raise RuntimeError("LearnedLR: step %d is past total_steps %d (the run it was "
                                   "made for)" % (self.last_epoch + 1, self.total_steps))
            if self.wants_observation():
                raise RuntimeError(
                    "LearnedLR: step %d was not observed (observe() at step 0 and every %d "
                    "steps, before the next step())" % (self.last_epoch, self.observe_every))
        if loss is not None:
            self.add_loss(loss)
        if epoch is None and self.last_epoch >= 0 and "grad_norms" in self._run_stats:
            self._grad_norms.append(self._grad_norm())
        with warnings.catch_warnings():
            # step(0) is SequentialLR's protocol, not the user's deprecated epoch
            warnings.filterwarnings("ignore", message="The epoch parameter")
            super().step(epoch)

    def add_loss(self, loss):
        """Counts a training step's loss toward the next observation's mean
        training loss (for a loop that steps a SequentialLR around this one)."""
        self._batch_losses.append(float(loss))

    def _params(self):
        return [p for g in self.optimizer.param_groups for p in g["params"]]

    @torch.no_grad()
    def _grad_norm(self):
        """The L2 norm of all the optimizer's gradients, as the step left them."""
        grads = [p.grad for p in self._params() if p.grad is not None]
        if not grads:
            raise RuntimeError("LearnedLR.step at step %d: the controller observes the gradient "
                               "norm, but no parameter has a gradient (call step() after "
                               "optimizer.step() and before zero_grad())" % (self.last_epoch + 1))
        return math.sqrt(sum(float(g.double().pow(2).sum()) for g in grads))

    @torch.no_grad()
    def _update_ratio(self, now):
        """|w - w_last| / |w_last| between the parameters `now` and those at
        the last observation (0 at the first)."""
        if self._last_params is None:
            return 0.0
        moved = sum(float((a.double() - b.double()).pow(2).sum())
                    for a, b in zip(now, self._last_params))
        size = math.sqrt(sum(float(b.double().pow(2).sum()) for b in self._last_params))
        return math.sqrt(moved) / size if size > 0 else 0.0

    def get_lr(self):
        """Each group's initial rate times the controller's factor for this
        step; the initial rates until the first observation (which sets the
        real ones), the last rates after the last step."""
        t = self.last_epoch
        if self.observed_step is None or t < 0:
            return list(self.base_lrs)
        if t >= self.total_steps:
            return [g["lr"] for g in self.optimizer.param_groups]
        rate = self.session.rate(t)
        # rate x (base / initial): exactly the controller's rate in the group it was made for
        return [rate * (base / self.initial_lr) for base in self.base_lrs]

    # ---- observations ---------------------------------------------------------

    def observe(self, val_loss, val_probs, out_weights, train_loss=None):
        """Feeds a validation: the loss, the softmax probabilities of the
        validation images (a tensor or array of n_probs values, the same images
        in the same order every time) and the output layer's weight tensor.
        train_loss: the mean training loss since the last observation (by
        default the mean of the losses given to step(loss=...) or add_loss)."""
        t = self.last_epoch
        if not self.wants_observation():
            raise RuntimeError("LearnedLR.observe at step %d: observations are due at step 0, "
                               "every %d steps and at step %d%s"
                               % (t, self.observe_every, self.total_steps,
                                  " (this one is taken)" if t == self.observed_step else ""))
        if train_loss is None and t > 0:
            if not self._batch_losses:
                raise ValueError("LearnedLR.observe at step %d: no training loss since step %d "
                                 "(give step(loss=...) or add_loss() each step, or train_loss=)"
                                 % (t, self.observed_step))
            train_loss = sum(self._batch_losses) / len(self._batch_losses)
        if self.session is None:
            self.n_probs = int(val_probs.numel() if hasattr(val_probs, "numel")
                               else len(val_probs))
            self._make_session()
        # the parameters now, kept as the next observation's w_last only once
        # this observation is taken (a refused one leaves everything as it was)
        params = ([p.detach().clone() for p in self._params()]
                  if "update_ratio" in self._run_stats else None)
        self.session.observe(t, float(val_loss), val_probs, out_weights,
                             float("nan") if train_loss is None else float(train_loss),
                             **self._measured(t, params))
        self._last_params = params
        self._batch_losses, self._grad_norms = [], []
        self.observed_step = t
        if t < self.total_steps:
            self._set_rates(self.get_lr())

    def _measured(self, t, params):
        """The run statistics the controller observes, for the observation at
        step t with the parameters `params` (none at the first: nothing was
        trained before it)."""
        need = self._run_stats
        if not need or self.observed_step is None:
            return {}
        losses = "batch_losses" in need
        if losses and len(self._batch_losses) != t - self.observed_step:
            raise ValueError("LearnedLR.observe at step %d: the controller observes every step's "
                             "training loss, and %d of the %d steps since step %d gave one "
                             "(step(loss=...) or add_loss() each step)"
                             % (t, len(self._batch_losses), t - self.observed_step,
                                self.observed_step))
        return {"batch_losses": self._batch_losses if losses else None,
                "grad_norms": self._grad_norms if "grad_norms" in need else None,
                "update_ratio": self._update_ratio(params) if "update_ratio" in need else None}

    @torch.no_grad()
    def observe_model(self, model, val_x, val_y, output_layer, train_loss=None, batch_size=1000):
        """Validates `model` on the fixed tensors val_x, val_y (the same images
        in the same order every time) in eval mode, and observes: the mean
        cross-entropy, the softmax probabilities (n_probs = images x classes)
        and output_layer's weight (a module with .weight, or the tensor).
        Returns (validation loss, validation accuracy)."""
        was_training = model.training
        model.eval()
        try:
            logits = torch.cat([model(val_x[i:i + batch_size])
                                for i in range(0, len(val_x), batch_size)])
        finally:
            model.train(was_training)
        val_loss = F.cross_entropy(logits, val_y).item()
        if not math.isfinite(val_loss):
            raise ValueError("LearnedLR.observe_model at step %d: the validation loss is %r "
                             "(the network diverged)" % (self.last_epoch, val_loss))
        weights = getattr(output_layer, "weight", output_layer)
        self.observe(val_loss, torch.softmax(logits.float(), 1), weights, train_loss)
        return val_loss, (logits.argmax(1) == val_y).float().mean().item()

    def _set_rates(self, values):
        for g, lr in zip(self.optimizer.param_groups, values):
            g["lr"] = lr
        # in place: SequentialLR holds this very list as its own last rates
        self._last_lr[:] = values

    # ---- checkpoints ----------------------------------------------------------

    def state_dict(self):
        """torch's scheduler state (every attribute but the optimizer) less
        the controller and session handles, plus the session's bytes."""
        state = {k: v for k, v in self.__dict__.items()
                 if k not in ("optimizer", "controller", "session")}
        state["session_state"] = self.session.state() if self.session is not None else None
        state["controller_path"] = self.controller.path
        return state

    def load_state_dict(self, state):
        for key in _RUN_KEYS:
            if key == "n_probs" and self.n_probs is None:
                continue
            if state[key] != getattr(self, key):
                raise ValueError("LearnedLR.load_state_dict: %s is %r here, %r in the state"
                                 % (key, getattr(self, key), state[key]))
        state = dict(state)
        session_state = state.pop("session_state")
        state.pop("controller_path", None)
        state["_last_lr"] = list(state["_last_lr"])
        if session_state is not None:
            # restored first: a state libalrs refuses (another controller's)
            # leaves this scheduler as it was
            session = self.session or self.controller.session(
                self.initial_lr, self.total_steps, state["n_probs"], self.policy, self.seed)
            session.restore(session_state)
            self.session = session
        self.__dict__.update(state)
        if self.observed_step is not None:
            # the rates it set, also into an optimizer that was not loaded too
            # (not before it started: a warm-up scheduler owns them then)
            for g, lr in zip(self.optimizer.param_groups, self._last_lr):
                g["lr"] = lr


__all__ = ["LearnedLR"]
