"""Action and observation spaces described in plain Python, with the
attributes and methods of gymnasium's Discrete and Box that agents use."""
import math
import random


class Discrete:
    """Actions 0 .. n-1."""

    def __init__(self, n):
        self.n = int(n)
        self.shape = ()

    def sample(self, rng=random):
        return rng.randrange(self.n)

    def contains(self, x):
        return isinstance(x, int) and 0 <= x < self.n

    def __repr__(self):
        return "Discrete(%d)" % self.n


class Box:
    """Real vectors of `shape` within [low, high] (infinite bounds allowed)."""

    def __init__(self, low, high, shape, names=None):
        self.low, self.high, self.shape = float(low), float(high), tuple(shape)
        self.names = list(names) if names else None

    def sample(self, rng=random):
        n = 1
        for d in self.shape:
            n *= d
        lo = self.low if math.isfinite(self.low) else -1.0
        hi = self.high if math.isfinite(self.high) else 1.0
        return [rng.uniform(lo, hi) for _ in range(n)]

    def contains(self, x):
        values = list(x) if hasattr(x, "__len__") else [x]
        return all(self.low <= float(v) <= self.high for v in values)

    def __repr__(self):
        return "Box(%g, %g, %s)" % (self.low, self.high, self.shape)
