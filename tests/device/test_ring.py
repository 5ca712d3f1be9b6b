"""Ring buffer and windowing: any chunk sizes give the same windows."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.device.ring import RingBuffer, Windower


def test_ring_keeps_the_newest_in_order() -> None:
    r = RingBuffer(4)
    r.push(np.array([1, 2, 3]))
    assert r.latest(3).tolist() == [1, 2, 3]
    r.push(np.array([4, 5]))
    assert r.latest(4).tolist() == [2, 3, 4, 5] and len(r) == 4 and r.total == 5
    r.push(np.arange(10, 20))  # more than the capacity
    assert r.latest(4).tolist() == [16, 17, 18, 19]
    with pytest.raises(ValueError, match="only 4"):
        r.latest(5)


def test_ring_rows_for_multi_axis_data() -> None:
    r = RingBuffer(3, channels=2)
    r.push(np.array([[1, 2], [3, 4]]))
    r.push(np.array([[5, 6], [7, 8]]))
    assert r.latest(2).tolist() == [[5, 6], [7, 8]]
    with pytest.raises(ValueError, match="shape"):
        r.push(np.zeros((1, 3)))


@pytest.mark.parametrize("seed", range(5))
def test_windows_do_not_depend_on_chunk_sizes(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = np.arange(1000, dtype=np.float32)
    window, stride = int(rng.integers(1, 200)), int(rng.integers(1, 120))
    want = [(e, x[e - window:e].tolist()) for e in range(window, 1001, stride)]
    w = Windower(window, stride)
    got = []
    pos = 0
    while pos < len(x):
        n = int(rng.integers(1, 300))
        got += [(e, win.tolist()) for e, win in w.feed(x[pos:pos + n])]
        pos += n
    assert got == want
