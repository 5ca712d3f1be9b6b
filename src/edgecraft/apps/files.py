"""Folders of labelled files: ``DIR/<label>/<file>`` with WAV (audio clips), CSV (motion
recordings, cut into the front end's windows) or PNG/JPEG/BMP images (ImageFolder layout)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgecraft.apps.data import DataError, Dataset, Split, load_folder, split_indices
from edgecraft.dsp.audio import AudioFeatures
from edgecraft.dsp.image import ImagePreprocess
from edgecraft.dsp.motion import MotionFeatures, windows
from edgecraft.dsp.presets import Preset

IMAGES = (".png", ".jpg", ".jpeg", ".bmp")


def read_file(path: Path, cfg: Preset | None) -> np.ndarray:
    """One file as raw samples ``(k, ...)``: one audio clip, one image, or a CSV's windows."""
    from edgecraft.device.recordings import StreamError, read_csv, read_wav

    suffix = path.suffix.lower()
    try:
        if suffix == ".wav" and isinstance(cfg, AudioFeatures):
            clip = read_wav(path, 0, cfg.sample_rate)
            n = cfg.clip_samples or len(clip)
            return np.pad(clip[:n], (0, max(0, n - len(clip))))[None]
        if suffix == ".csv" and isinstance(cfg, MotionFeatures):
            data, _ = read_csv(path, cfg.axes, None, cfg.sample_rate)
            return windows(data, cfg)
        if suffix in IMAGES and isinstance(cfg, ImagePreprocess):
            from PIL import Image, UnidentifiedImageError

            try:
                with Image.open(path) as im:
                    return np.asarray(im.convert("RGB"))[None]
            except (UnidentifiedImageError, OSError) as e:
                raise DataError(f"cannot read {path} as an image: {e}") from None
    except StreamError as e:
        raise DataError(str(e)) from None
    kind = type(cfg).__name__ if cfg is not None else "no front end"
    raise DataError(f"{path}: a {suffix or 'file without suffix'} does not fit this app's front end ({kind})")


def read_labelled(
    path: Path, cfg: Preset | None, labels: list[str] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Raw samples and label indices of every file under ``path/<label>/``; with ``labels`` the
    folder names must be among them."""
    if not path.is_dir():
        raise DataError(f"{path} is not a folder; lay it out as {path}/<label>/<files>")
    found, files = load_folder(path)
    names = labels or found
    unknown = sorted(set(found) - set(names))
    if unknown:
        raise DataError(
            f"{path}/{unknown[0]}: the app has no label {unknown[0]!r}; its labels: {', '.join(names)}"
        )
    xs, ys = [], []
    for f, i in files:
        if f.name.startswith("."):
            continue
        r = read_file(f, cfg)
        xs.append(r)
        ys += [names.index(found[i])] * len(r)
    x = np.concatenate(xs) if xs else np.zeros((0,))
    if len(x) == 0:
        raise DataError(f"{path}: no samples (CSV recordings shorter than one window?)")
    return x, np.array(ys)


def folder_dataset(path: Path, cfg: Preset | None, seed: int) -> Dataset:
    """A folder as a dataset: ``path/train`` and ``path/test`` when both exist (validation is
    15 % of train), else one folder split 70/15/15 at random."""
    rng = np.random.default_rng(seed)
    if (path / "train").is_dir() and (path / "test").is_dir():
        labels, _ = load_folder(path / "train")
        x, y = read_labelled(path / "train", cfg, labels)
        xt, yt = read_labelled(path / "test", cfg, labels)
        tr, va = split_indices(len(x), 0.15, rng)
        return Dataset(labels, Split(x[tr], y[tr]), Split(x[va], y[va]), Split(xt, yt), f"{path / 'test'}")
    labels, _ = load_folder(path)
    x, y = read_labelled(path, cfg, labels)
    rest, te = split_indices(len(x), 0.15, rng)
    tr, va = split_indices(len(rest), 0.18, rng)
    return Dataset(
        labels,
        Split(x[rest[tr]], y[rest[tr]]),
        Split(x[rest[va]], y[rest[va]]),
        Split(x[te], y[te]),
        "15 % of the files at random",
    )
