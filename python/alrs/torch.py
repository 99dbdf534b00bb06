"""LearnedLR: a learned alrs controller as a torch.optim.lr_scheduler-style
scheduler for your own PyTorch training loop.

    from alrs.torch import LearnedLR
    sched = LearnedLR(optimizer, "controller.bin", total_steps=1000, n_probs=2000 * 10)
    sched.observe(val_loss, val_probs, model.fc3.weight)          # before the first step
    for step in range(1000):
        loss = train_step(...); optimizer.step(); sched.step(loss.item())
        if sched.wants_observation():                             # every action_every steps
            sched.observe(val_loss, val_probs, model.fc3.weight)

The rate of every step comes from the controller through libalrs, which
computes the observation features with alrs's own code. The module needs
PyTorch only for the optimizer it drives (any object with param_groups works).
"""
from .controller import Controller


class LearnedLR:
    def __init__(self, optimizer, controller, total_steps, n_probs, initial_lr=None,
                 policy="mode", seed=0, observe_every=None):
        """optimizer: its param_groups' "lr" is set at every step. controller:
        a path or a Controller. n_probs: validation images x classes, the size
        of each observation's probabilities. initial_lr: the first group's
        "initial_lr" (set to its lr when missing, as torch's schedulers do)
        unless given. observe_every: the controller's action interval unless
        given (a warning-free match to how it learned)."""
        self.optimizer = optimizer
        self.controller = controller if isinstance(controller, Controller) else Controller(controller)
        self.total_steps = int(total_steps)
        # as torch's schedulers: each group keeps its "initial_lr", so a
        # scheduler made again to resume starts from the run's first rate
        for g in optimizer.param_groups:
            g.setdefault("initial_lr", g["lr"])
        self.initial_lr = float(initial_lr if initial_lr is not None
                                else optimizer.param_groups[0]["initial_lr"])
        self.observe_every = int(observe_every or self.controller.action_every)
        self.policy, self.seed = policy, int(seed)
        self.session = self.controller.session(self.initial_lr, self.total_steps, n_probs,
                                               policy, seed)
        self.n_probs = int(n_probs)
        self.last_step = 0          # training steps done
        self._loss_sum, self._loss_count = 0.0, 0
        self._last_lr = [self.initial_lr for _ in optimizer.param_groups]
        self._observed = False

    def wants_observation(self):
        """True when the loop should validate and call observe(): after every
        observe_every steps and after the last one."""
        s = self.last_step
        return s > 0 and (s % self.observe_every == 0 or s == self.total_steps)

    def observe(self, val_loss, val_probs, out_weights, train_loss=None):
        """Feeds a validation: the loss, the softmax probabilities of the
        validation images (a tensor or array of n_probs values, the same images
        in the same order every time) and the output layer's weight tensor.
        train_loss: the mean training loss since the last observation (by
        default the mean of the losses given to step())."""
        if train_loss is None:
            train_loss = self._loss_sum / self._loss_count if self._loss_count else float("nan")
        self.session.observe(self.last_step, float(val_loss), val_probs, out_weights,
                             float(train_loss))
        self._loss_sum, self._loss_count = 0.0, 0
        self._observed = True
        if self.last_step < self.total_steps:
            self._set_rate(self.session.rate(self.last_step))

    def step(self, loss=None):
        """After optimizer.step(): counts the step (and its training loss, for
        the next observation) and sets the next step's rate."""
        if not self._observed:
            raise RuntimeError("LearnedLR: observe() the fresh network before the first step")
        if loss is not None:
            self._loss_sum += float(loss)
            self._loss_count += 1
        self.last_step += 1
        if self.last_step < self.total_steps and not self.wants_observation():
            self._set_rate(self.session.rate(self.last_step))

    def _set_rate(self, lr):
        for g in self.optimizer.param_groups:
            g["lr"] = lr
        self._last_lr = [lr for _ in self.optimizer.param_groups]

    def get_last_lr(self):
        return list(self._last_lr)

    def state_dict(self):
        return {"last_step": self.last_step, "loss_sum": self._loss_sum,
                "loss_count": self._loss_count, "last_lr": list(self._last_lr),
                "observed": self._observed, "session": self.session.state(),
                "controller": self.controller.path, "initial_lr": self.initial_lr,
                "total_steps": self.total_steps, "n_probs": self.n_probs,
                "policy": self.policy, "seed": self.seed}

    def load_state_dict(self, state):
        for key in ("initial_lr", "total_steps", "n_probs", "policy", "seed"):
            if state[key] != getattr(self, key):
                raise ValueError("LearnedLR.load_state_dict: %s is %r here, %r in the state"
                                 % (key, getattr(self, key), state[key]))
        self.session.restore(state["session"])
        self.last_step = state["last_step"]
        self._loss_sum, self._loss_count = state["loss_sum"], state["loss_count"]
        self._observed = state["observed"]
        self._last_lr = list(state["last_lr"])
        for g, lr in zip(self.optimizer.param_groups, self._last_lr):
            g["lr"] = lr


__all__ = ["LearnedLR"]
