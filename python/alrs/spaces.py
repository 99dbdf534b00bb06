"""Action and observation spaces with the attributes and methods of
gymnasium's Discrete and Box (shape, dtype, n / low, high, sample, contains,
seed, np_random), in numpy, so that gymnasium agents take them as they are."""
import numpy as np


class _Space:
    def __init__(self, shape, dtype, seed=None):
        self.shape, self.dtype = tuple(shape), np.dtype(dtype)
        self._np_random = None
        if seed is not None:
            self.seed(seed)

    @property
    def np_random(self):
        """The space's own generator (for sample), made on first use."""
        if self._np_random is None:
            self.seed()
        return self._np_random

    def seed(self, seed=None):
        """Seeds sample(); returns [seed] as gymnasium's spaces do."""
        self._np_random = np.random.default_rng(seed)
        return [seed]

    def __contains__(self, x):
        return self.contains(x)


class Discrete(_Space):
    """Actions 0 .. n-1 (numpy int64 scalars)."""

    def __init__(self, n, seed=None):
        self.n = int(n)
        self.start = 0
        super().__init__((), np.int64, seed)

    def sample(self, rng=None):
        """An action drawn from the space's np_random, or from rng (a numpy
        Generator or a random.Random)."""
        if rng is None:
            return np.int64(self.np_random.integers(self.n))
        if hasattr(rng, "integers"):
            return np.int64(rng.integers(self.n))
        return np.int64(rng.randrange(self.n))

    def contains(self, x):
        if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
            return 0 <= int(x) < self.n
        if isinstance(x, np.ndarray) and x.shape == () and np.issubdtype(x.dtype, np.integer):
            return 0 <= int(x) < self.n
        return False

    def __eq__(self, other):
        return isinstance(other, Discrete) and other.n == self.n

    def __repr__(self):
        return "Discrete(%d)" % self.n


class Box(_Space):
    """Real vectors of `shape` within [low, high] (float32 unless dtype says
    otherwise; an infinite bound where a value has none). names: what each
    value is."""

    def __init__(self, low, high, shape, names=None, dtype=np.float32, seed=None):
        super().__init__(shape, dtype, seed)
        self.low = np.full(self.shape, low, dtype=self.dtype)
        self.high = np.full(self.shape, high, dtype=self.dtype)
        self.names = list(names) if names else None

    def is_bounded(self, manner="both"):
        below, above = bool(np.all(np.isfinite(self.low))), bool(np.all(np.isfinite(self.high)))
        return {"both": below and above, "below": below, "above": above}[manner]

    def sample(self, rng=None):
        """Uniform within finite bounds; a normal draw where a bound is infinite."""
        rng = rng if rng is not None and hasattr(rng, "uniform") and hasattr(rng, "normal") \
            else self.np_random
        lo = np.where(np.isfinite(self.low), self.low, -1.0)
        hi = np.where(np.isfinite(self.high), self.high, 1.0)
        x = rng.uniform(lo, hi, self.shape)
        unbounded = ~(np.isfinite(self.low) & np.isfinite(self.high))
        x = np.where(unbounded, rng.normal(size=self.shape), x)
        return np.clip(x, self.low, self.high).astype(self.dtype)

    def contains(self, x):
        try:
            arr = np.asarray(x, dtype=self.dtype)
        except (TypeError, ValueError):
            return False
        return (arr.shape == self.shape and bool(np.all(np.isfinite(arr) | np.isinf(self.low)
                                                        | np.isinf(self.high)))
                and bool(np.all(arr >= self.low)) and bool(np.all(arr <= self.high)))

    def __eq__(self, other):
        return (isinstance(other, Box) and other.shape == self.shape and
                np.array_equal(other.low, self.low) and np.array_equal(other.high, self.high))

    def __repr__(self):
        return "Box(%s, %s, %s, %s)" % (self.low.min(), self.high.max(), self.shape,
                                        self.dtype.name)
