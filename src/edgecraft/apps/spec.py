"""An application's spec: one ``app.toml`` in the application's directory.

Sections (every key is optional unless marked)::

    [app]           name, kind (required: kws, wakeword, gesture, anomaly, person, sine)
    [data]          generator = "gesture" with [data.params] ..., or path = "data" (a folder of
                    labelled files: data/<label>/*.wav|*.csv|*.png|*.jpg)
    [front_end]     preset = "imu" (a dsp preset, or "none") with [front_end.params] overrides
    [model]         family = "cnn1d" and size = "small", or factory = "model.py:build"
    [training]      epochs, batch_size, learning_rate, patience, seed, validation,
                    schedule (constant, cosine), [training.augmentation] noise, shift,
                    gain, copies, flip
    [optimization]  method = "ptq" | "qat", qat_epochs, pruning (final sparsity, 0..0.9)
    [target]        board = "nano33ble"
    [stream]        window_ms, stride_ms, smoothing_ms, threshold, suppression_ms, min_count, ignore,
                    max_fa_per_hour, steps (sine: inferences per sweep of x)
    [quick]         "training.epochs" = 2, "data.params.people" = 4, ... (what --quick changes)

:func:`load_spec` reads and checks it; every mistake is a :class:`SpecError` whose message is
one line naming the file, the key and what is allowed.
"""

from __future__ import annotations

import copy
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SPEC_FILE = "app.toml"
KINDS = ("kws", "wakeword", "gesture", "anomaly", "person", "sine")
TASKS = {
    "kws": "classify",
    "wakeword": "classify",
    "gesture": "classify",
    "anomaly": "anomaly",
    "person": "classify",
    "sine": "regress",
}
SECTIONS = ("app", "data", "front_end", "model", "training", "optimization", "target", "stream", "quick")
METHODS = ("ptq", "qat")


class SpecError(ValueError):
    """An application spec that cannot be used; the message is one line saying what to fix."""


@dataclass(frozen=True)
class Augmentation:
    """Augmentation of the raw training samples: ``copies`` extra versions of each, with
    Gaussian noise (``noise`` times the sample's RMS), a circular time shift of up to ``shift``
    of its length and a gain drawn from ``1 +- gain``.

    Images differ: the copies get gain and noise only, and every epoch the training loop
    moves each picture by up to ``shift`` of its size in both directions (edges repeated) and,
    with ``flip``, mirrors it left-right half the time, so no two epochs see the same pictures."""

    noise: float = 0.0
    shift: float = 0.0
    gain: float = 0.0
    copies: int = 0
    flip: bool = False


@dataclass(frozen=True)
class Training:
    """The training loop's settings (see :mod:`edgecraft.apps.training`)."""

    epochs: int = 30
    batch_size: int = 64
    learning_rate: float = 3e-3
    patience: int = 8  # epochs without a better validation loss before stopping
    seed: int = 0
    augmentation: Augmentation = field(default_factory=Augmentation)
    #: ``constant`` learning rate, or ``cosine``: from ``learning_rate`` down to 0 over ``epochs``
    schedule: str = "constant"


@dataclass(frozen=True)
class Optimization:
    """How the float model becomes full int8."""

    method: str = "ptq"
    qat_epochs: int = 3
    pruning: float = 0.0


@dataclass(frozen=True)
class StreamSettings:
    """The device loop's post-processing (names as ``edgecraft stream``'s options)."""

    window_ms: float | None = None
    stride_ms: float | None = None
    smoothing_ms: float = 500.0
    threshold: float = 0.6
    suppression_ms: float = 1000.0
    min_count: int = 1
    ignore: tuple[str, ...] = ()
    #: when set, training tunes threshold, smoothing, suppression and min_count on the data's
    #: tuning recording (training speakers only) for at most this many false accepts per hour
    max_fa_per_hour: float | None = None
    #: sine: inferences per sweep of x over [0, 2 pi) (TFLM's kInferencesPerCycle)
    steps: int = 20


@dataclass(frozen=True)
class AppSpec:
    """A checked application spec. ``root`` is the application's directory."""

    root: Path
    name: str
    kind: str
    generator: str | None
    data_path: Path | None
    data_params: dict[str, Any]
    preset: str
    front_end_params: dict[str, Any]
    family: str
    size: str
    factory: str | None
    training: Training
    optimization: Optimization
    board: str
    stream: StreamSettings
    quick: bool = False

    @property
    def task(self) -> str:
        """``classify``, ``regress`` or ``anomaly``."""
        return TASKS[self.kind]

    @property
    def out(self) -> Path:
        """Where training writes: model, labels, metrics, report, C project."""
        return self.root / ("build-quick" if self.quick else "build")


def _where(path: Path, key: str) -> str:
    return f"{path}: {key}"


def _take(
    table: dict[str, Any], key: str, kind: type | tuple[type, ...], default: Any, path: Path, prefix: str
) -> Any:
    if key not in table:
        return default
    v = table[key]
    ok = isinstance(v, kind) and not (isinstance(v, bool) and kind in (int, float, (int, float)))
    if not ok:
        names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        raise SpecError(f"{_where(path, prefix + key)} must be a {names}, got {v!r}")
    return v


def _known(table: dict[str, Any], allowed: tuple[str, ...], path: Path, prefix: str) -> None:
    extra = sorted(set(table) - set(allowed))
    if extra:
        raise SpecError(f"{_where(path, prefix + extra[0])} is not a known key; known: {', '.join(allowed)}")


def _positive(v: float, key: str, path: Path, allow_zero: bool = False) -> None:
    if v < 0 or (v == 0 and not allow_zero):
        raise SpecError(f"{_where(path, key)} must be {'>= 0' if allow_zero else '> 0'}, got {v}")


def apply_quick(doc: dict[str, Any], path: Path) -> dict[str, Any]:
    """``doc`` with the ``[quick]`` table's dotted keys written over it."""
    out = copy.deepcopy(doc)
    for dotted, value in doc.get("quick", {}).items():
        parts = dotted.split(".")
        node = out
        for p in parts[:-1]:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise SpecError(f"{_where(path, 'quick.' + dotted)}: {p} is not a table")
        node[parts[-1]] = value
    return out


def read_doc(root: Path) -> tuple[Path, dict[str, Any]]:
    """The parsed ``app.toml`` of the application directory ``root``."""
    path = root / SPEC_FILE
    if not root.is_dir():
        raise SpecError(
            f"{root} is not an application directory (make one with `edgecraft app new KIND DIR`)"
        )
    if not path.is_file():
        raise SpecError(f"{root} has no {SPEC_FILE} (make one with `edgecraft app new KIND DIR`)")
    try:
        return path, tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise SpecError(f"{path} is not valid TOML: {e}") from None


def load_spec(root: str | Path, quick: bool = False) -> AppSpec:
    """Read and check ``root/app.toml``; with ``quick`` the ``[quick]`` overrides apply."""
    root = Path(root)
    path, doc = read_doc(root)
    _known(doc, SECTIONS, path, "")
    for s in SECTIONS:
        if s in doc and not isinstance(doc[s], dict):
            raise SpecError(f"{_where(path, s)} must be a table ([{s}])")
    if quick:
        doc = apply_quick(doc, path)
    app, data, fe = doc.get("app", {}), doc.get("data", {}), doc.get("front_end", {})
    model, tr, opt = doc.get("model", {}), doc.get("training", {}), doc.get("optimization", {})
    tgt, st = doc.get("target", {}), doc.get("stream", {})
    _known(app, ("name", "kind"), path, "app.")
    kind = _take(app, "kind", str, None, path, "app.")
    if kind not in KINDS:
        raise SpecError(f"{_where(path, 'app.kind')} must be one of {', '.join(KINDS)}, got {kind!r}")
    name = _take(app, "name", str, root.name, path, "app.")

    _known(data, ("generator", "path", "params"), path, "data.")
    generator = _take(data, "generator", str, None, path, "data.")
    dpath = _take(data, "path", str, None, path, "data.")
    if (generator is None) == (dpath is None):
        raise SpecError(f'{_where(path, "data")} needs exactly one of generator = "{kind}" or path = "DIR"')
    if generator is not None and generator not in KINDS:
        raise SpecError(
            f"{_where(path, 'data.generator')} must be one of {', '.join(KINDS)}, got {generator!r}"
        )
    data_path = (root / dpath) if dpath is not None else None
    if data_path is not None and not data_path.is_dir():
        raise SpecError(f"{_where(path, 'data.path')}: folder {data_path} does not exist")
    params = _take(data, "params", dict, {}, path, "data.")

    _known(fe, ("preset", "params"), path, "front_end.")
    preset = _take(fe, "preset", str, "none", path, "front_end.")
    fe_params = _take(fe, "params", dict, {}, path, "front_end.")

    _known(model, ("family", "size", "factory"), path, "model.")
    factory = _take(model, "factory", str, None, path, "model.")
    if factory is not None and ":" not in factory:
        raise SpecError(f"{_where(path, 'model.factory')} must be FILE.py:FUNCTION, got {factory!r}")
    family = _take(model, "family", str, "", path, "model.")
    size = _take(model, "size", str, "small", path, "model.")
    if size not in ("tiny", "small", "medium", "large"):
        raise SpecError(f"{_where(path, 'model.size')} must be tiny, small, medium or large, got {size!r}")
    if factory is None and not family:
        raise SpecError(f'{_where(path, "model")} needs family = "..." or factory = "model.py:build"')

    training = _training(tr, path)
    _known(opt, ("method", "qat_epochs", "pruning"), path, "optimization.")
    method = _take(opt, "method", str, "ptq", path, "optimization.")
    if method not in METHODS:
        raise SpecError(f"{_where(path, 'optimization.method')} must be ptq or qat, got {method!r}")
    pruning = float(_take(opt, "pruning", (int, float), 0.0, path, "optimization."))
    if not 0 <= pruning <= 0.9:
        raise SpecError(f"{_where(path, 'optimization.pruning')} must be in 0..0.9, got {pruning}")
    qat_epochs = _take(opt, "qat_epochs", int, 3, path, "optimization.")
    _positive(qat_epochs, "optimization.qat_epochs", path)

    _known(tgt, ("board",), path, "target.")
    board = _take(tgt, "board", str, "nano33ble", path, "target.")
    return AppSpec(
        root,
        name,
        kind,
        generator,
        data_path,
        dict(params),
        preset,
        dict(fe_params),
        family,
        size,
        factory,
        training,
        Optimization(method, qat_epochs, pruning),
        board,
        _stream(st, path),
        quick,
    )


def _training(tr: dict[str, Any], path: Path) -> Training:
    keys = ("epochs", "batch_size", "learning_rate", "patience", "seed", "augmentation", "schedule")
    _known(tr, keys, path, "training.")
    p = "training."
    epochs = _take(tr, "epochs", int, 30, path, p)
    batch = _take(tr, "batch_size", int, 64, path, p)
    lr = float(_take(tr, "learning_rate", (int, float), 3e-3, path, p))
    patience = _take(tr, "patience", int, 8, path, p)
    seed = _take(tr, "seed", int, 0, path, p)
    for k, v in (("epochs", epochs), ("batch_size", batch), ("learning_rate", lr), ("patience", patience)):
        _positive(v, p + k, path)
    schedule = _take(tr, "schedule", str, "constant", path, p)
    if schedule not in ("constant", "cosine"):
        raise SpecError(f"{_where(path, p + 'schedule')} must be constant or cosine, got {schedule!r}")
    aug = _take(tr, "augmentation", dict, {}, path, p)
    _known(aug, ("noise", "shift", "gain", "copies", "flip"), path, p + "augmentation.")
    a = p + "augmentation."
    augmentation = Augmentation(
        float(_take(aug, "noise", (int, float), 0.0, path, a)),
        float(_take(aug, "shift", (int, float), 0.0, path, a)),
        float(_take(aug, "gain", (int, float), 0.0, path, a)),
        _take(aug, "copies", int, 0, path, a),
        _take(aug, "flip", bool, False, path, a),
    )
    for k in ("noise", "shift", "gain", "copies"):
        _positive(getattr(augmentation, k), a + k, path, allow_zero=True)
    if augmentation.shift > 0.5 or augmentation.gain >= 1:
        raise SpecError(f"{_where(path, a + 'shift')} must be <= 0.5 and gain < 1")
    return Training(epochs, batch, lr, patience, seed, augmentation, schedule)


def _stream(st: dict[str, Any], path: Path) -> StreamSettings:
    keys = ("window_ms", "stride_ms", "smoothing_ms", "threshold", "suppression_ms", "min_count", "ignore",
            "max_fa_per_hour", "steps")
    _known(st, keys, path, "stream.")
    p = "stream."
    num = (int, float)
    window = _take(st, "window_ms", num, None, path, p)
    stride = _take(st, "stride_ms", num, None, path, p)
    for k, v in (("window_ms", window), ("stride_ms", stride)):
        if v is not None:
            _positive(v, p + k, path)
    smoothing = float(_take(st, "smoothing_ms", num, 500.0, path, p))
    suppression = float(_take(st, "suppression_ms", num, 1000.0, path, p))
    _positive(smoothing, p + "smoothing_ms", path, allow_zero=True)
    _positive(suppression, p + "suppression_ms", path, allow_zero=True)
    threshold = float(_take(st, "threshold", num, 0.6, path, p))
    if not 0 < threshold <= 1:
        raise SpecError(f"{_where(path, p + 'threshold')} must be in (0, 1], got {threshold}")
    min_count = _take(st, "min_count", int, 1, path, p)
    _positive(min_count, p + "min_count", path)
    max_fa = _take(st, "max_fa_per_hour", num, None, path, p)
    if max_fa is not None:
        _positive(max_fa, p + "max_fa_per_hour", path, allow_zero=True)
    steps = _take(st, "steps", int, 20, path, p)
    _positive(steps, p + "steps", path)
    ignore = _take(st, "ignore", list, [], path, p)
    if not all(isinstance(s, str) for s in ignore):
        raise SpecError(f"{_where(path, p + 'ignore')} must be a list of label names")
    return StreamSettings(
        None if window is None else float(window),
        None if stride is None else float(stride),
        smoothing,
        threshold,
        suppression,
        min_count,
        tuple(ignore),
        None if max_fa is None else float(max_fa),
        steps,
    )
