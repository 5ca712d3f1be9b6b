"""Visual wake words, synthesized: does the picture hold a person? A person is a figure drawn
in a random pose, size, place, colour and lighting (head, torso, arms, legs) over a cluttered
background of random rectangles, ellipses, gradients and noise; the "non_person" pictures
have the same clutter (and sometimes a lone ball or box) without the figure. Images are
``size x size`` RGB uint8, as an ImageFolder of real photos would give (``person/``,
``non_person/``: use ``data.path`` for those).
"""

from __future__ import annotations

import numpy as np

from edgecraft.apps.data import Dataset, Split, split_indices

PARAMS = {"images": 600, "test_images": 200, "size": 96}
LABELS = ["non_person", "person"]


def _ellipse(img: np.ndarray, cy: float, cx: float, ry: float, rx: float, colour: np.ndarray) -> None:
    h, w, _ = img.shape
    yy, xx = np.mgrid[:h, :w]
    img[((yy - cy) / max(ry, 0.5)) ** 2 + ((xx - cx) / max(rx, 0.5)) ** 2 <= 1] = colour


def _bar(
    img: np.ndarray, y0: float, x0: float, y1: float, x1: float, width: float, colour: np.ndarray
) -> None:
    h, w, _ = img.shape
    yy, xx = np.mgrid[:h, :w]
    d = np.array([y1 - y0, x1 - x0])
    length = max(np.hypot(*d), 1e-6)
    t = np.clip(((yy - y0) * d[0] + (xx - x0) * d[1]) / length**2, 0, 1)
    dist = np.hypot(yy - (y0 + t * d[0]), xx - (x0 + t * d[1]))
    img[dist <= width / 2] = colour


def background(size: int, rng: np.random.Generator) -> np.ndarray:
    """Clutter: a gradient, rectangles and ellipses of random colours, sensor noise."""
    g = np.linspace(0, 1, size)[:, None, None] * rng.uniform(-80, 80, 3) + rng.uniform(40, 200, 3)
    img = np.broadcast_to(g, (size, size, 3)).copy()
    for _ in range(int(rng.integers(2, 7))):
        colour = rng.uniform(0, 255, 3)
        y, x = rng.uniform(0, size, 2)
        if rng.random() < 0.5:
            a, b = rng.uniform(size / 16, size / 3, 2)
            img[int(max(y - a, 0)) : int(y + a), int(max(x - b, 0)) : int(x + b)] = colour
        else:
            ry, rx = rng.uniform(size / 20, size / 5, 2)
            _ellipse(img, y, x, ry, rx, colour)
    return img


def figure(img: np.ndarray, rng: np.random.Generator) -> None:
    """Draw a person: head, torso, two arms and two legs in a random pose."""
    size = img.shape[0]
    scale = rng.uniform(0.55, 0.95) * size
    cx, top = rng.uniform(0.25, 0.75) * size, rng.uniform(0.02, 0.3) * size
    skin, cloth, legs = rng.uniform(60, 240, 3), rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    head = 0.09 * scale
    neck = top + 2 * head
    hip = neck + 0.35 * scale
    _bar(img, neck, cx, hip, cx, 0.2 * scale, cloth)
    for side in (-1, 1):
        a = rng.uniform(0.2, 2.6)
        _bar(
            img,
            neck + 0.03 * scale,
            cx,
            neck + 0.03 * scale + 0.3 * scale * np.cos(a),
            cx + side * 0.3 * scale * np.sin(a),
            0.08 * scale,
            cloth,
        )
        b = rng.uniform(0.05, 0.5)
        _bar(
            img,
            hip,
            cx + side * 0.04 * scale,
            hip + 0.4 * scale * np.cos(b),
            cx + side * 0.4 * scale * np.sin(b),
            0.09 * scale,
            legs,
        )
    _ellipse(img, top + head, cx, head, 0.8 * head, skin)


def image(person: bool, size: int, rng: np.random.Generator) -> np.ndarray:
    """One ``(size, size, 3)`` uint8 picture with or without a person."""
    img = background(size, rng)
    if person:
        figure(img, rng)
    elif rng.random() < 0.5:  # a distractor: a lone ball or box of person-like size
        cy, cx = rng.uniform(0.2, 0.8, 2) * size
        ry, rx = rng.uniform(0.05, 0.2, 2) * size
        _ellipse(img, cy, cx, ry, rx, rng.uniform(0, 255, 3))
    img = img * rng.uniform(0.6, 1.3) + rng.normal(0, rng.uniform(2, 10), img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def generate(seed: int, images: int, test_images: int, size: int) -> Dataset:
    """Half with a person, half without; the test pictures are drawn apart from training."""
    rng = np.random.default_rng(seed)
    y = np.arange(images) % 2
    x = np.stack([image(bool(v), size, rng) for v in y])
    yt = np.arange(test_images) % 2
    xt = np.stack([image(bool(v), size, rng) for v in yt])
    tr, va = split_indices(images, 0.15, rng)
    return Dataset(
        list(LABELS), Split(x[tr], y[tr]), Split(x[va], y[va]), Split(xt, yt), "pictures drawn apart"
    )
