"""A ring buffer fed by chunks of any size, and the window/stride scheduler on top of it."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


class RingBuffer:
    """Fixed-capacity FIFO of samples; each sample is a scalar or a row of ``channels`` values.

    ``push`` accepts any number of samples (more than the capacity keeps the newest);
    ``latest(n)`` returns the newest ``n`` in time order. Storage is one preallocated array,
    as on a device.
    """

    def __init__(self, capacity: int, channels: int = 0, dtype: str | np.dtype = "float32") -> None:
        if capacity <= 0:
            raise ValueError("capacity must be positive")
        shape = (capacity, channels) if channels else (capacity,)
        self.data = np.zeros(shape, dtype)
        self.capacity = capacity
        self.head = 0  # index the next sample goes to
        self.size = 0
        self.total = 0  # samples pushed since creation

    def push(self, chunk: np.ndarray) -> None:
        """Append samples (``(n,)`` or ``(n, channels)``)."""
        x = np.asarray(chunk, self.data.dtype)
        if x.shape[1:] != self.data.shape[1:]:
            raise ValueError(f"chunk rows must have shape {self.data.shape[1:]}, got {x.shape[1:]}")
        n = len(x)
        self.total += n
        if n >= self.capacity:
            self.data[:] = x[-self.capacity:]
            self.head, self.size = 0, self.capacity
            return
        first = min(n, self.capacity - self.head)
        self.data[self.head:self.head + first] = x[:first]
        self.data[: n - first] = x[first:]
        self.head = (self.head + n) % self.capacity
        self.size = min(self.capacity, self.size + n)

    def latest(self, n: int) -> np.ndarray:
        """The newest ``n`` samples, oldest first (a copy)."""
        if n > self.size:
            raise ValueError(f"only {self.size} samples buffered, asked for {n}")
        idx = (self.head - n + np.arange(n)) % self.capacity
        return self.data[idx]

    def __len__(self) -> int:
        return self.size


class Windower:
    """Emits a window of ``window`` samples every ``stride`` new samples.

    ``feed(chunk)`` yields ``(end, window)`` pairs, ``end`` being the index (in samples since the
    start) one past the window's last sample. The first window ends at sample ``window``.
    """

    def __init__(self, window: int, stride: int, channels: int = 0, dtype: str | np.dtype = "float32"
                 ) -> None:
        if window <= 0 or stride <= 0:
            raise ValueError("window and stride must be positive")
        self.window = window
        self.stride = stride
        self.ring = RingBuffer(window + stride, channels, dtype)
        self.next_end = window

    def feed(self, chunk: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
        """Push ``chunk`` and yield every window completed by it."""
        x = np.asarray(chunk, self.ring.data.dtype)
        pos = 0
        while pos < len(x):
            # push only up to the next window end so the ring never overwrites what it needs
            take = min(len(x) - pos, self.next_end - self.ring.total)
            self.ring.push(x[pos:pos + take])
            pos += take
            if self.ring.total == self.next_end:
                yield self.next_end, self.ring.latest(self.window)
                self.next_end += self.stride

    @property
    def samples_seen(self) -> int:
        """Samples fed so far."""
        return self.ring.total
