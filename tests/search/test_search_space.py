"""The search space and the Pareto front, without Ray: seeded candidate lists, the default as
a candidate, the smallest candidate, dominance and the front."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from edgecraft.apps.features import front_end
from edgecraft.apps.spec import SpecError, load_spec
from edgecraft.apps.templates import new_app
from edgecraft.search import pareto
from edgecraft.search.space import (
    arch_choices,
    check_searchable,
    default_candidate,
    front_end_choices,
    key,
    reference_candidates,
    sample_candidates,
    shape_key,
    smallest_candidate,
)


@pytest.mark.parametrize("kind", ["gesture", "kws", "anomaly", "wakeword", "person"])
def test_candidates_are_seeded_distinct_and_around_the_default(kind: str, tmp_path: Path) -> None:
    new_app(kind, tmp_path / kind)
    spec = load_spec(tmp_path / kind)
    cfg = front_end(spec)
    a = sample_candidates(spec, cfg, 12, seed=3)
    assert a == sample_candidates(spec, cfg, 12, seed=3)
    assert a != sample_candidates(spec, cfg, 12, seed=4)
    d = default_candidate(spec)
    keys = {key(c) for c in a}
    assert len(keys) == 12 and key(d) not in keys
    fe, arch = front_end_choices(cfg), arch_choices(spec)
    for c in [d, *a]:
        assert all(v in fe[k] for k, v in c["front_end"].items())
        assert all(v in arch[k] for k, v in c["arch"].items())
    assert all(v in arch[k] for k, v in d["arch"].items())  # the template's model is in the space
    if spec.task != "classify":
        assert {c["method"] for c in a} == {"ptq"} and {c["pruning"] for c in a} == {0.0}
    # half the draws are the default changed in one parameter
    own = {k: getattr(cfg, "height" if k == "size" else k) for k in fe}
    changed = [sum(_differences(c, d, own)) for c in a]
    assert 0 not in changed and changed.count(1) >= 3
    # 16x8 is a choice of every space, and it changes the deployed graph
    assert {c["activations"] for c in a} == {"int8", "int16"} and d["activations"] == "int8"
    assert shape_key({**d, "activations": "int16"}) != shape_key(d)
    small = smallest_candidate(spec, cfg)
    for k, v in small["arch"].items():
        if k != "kernel":
            assert v == min(arch[k])


@pytest.mark.torch
def test_mlperf_reference_architectures_where_the_task_matches(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")

    from edgecraft.search.space import build

    refs = {}
    for kind in ("kws", "anomaly", "gesture"):
        new_app(kind, tmp_path / kind)
        refs[kind] = reference_candidates(load_spec(tmp_path / kind))
    assert refs["gesture"] == []
    (kws,) = refs["kws"]
    assert kws["reference"] == "MLPerf Tiny KWS DS-CNN" and not kws["default"]
    assert kws["arch"] == {"width": 64, "blocks": 4, "kernel": [10, 4]} and kws["front_end"] == {}
    net = build(load_spec(tmp_path / "kws"), kws, (49, 10), 12, None)
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 1 + 2 * 4 and convs[0].kernel_size == (10, 4) and convs[0].stride == (2, 2)
    assert all(c.out_channels == 64 for c in convs)
    (ad,) = refs["anomaly"]
    assert ad["reference"] == "MLPerf Tiny AD autoencoder"
    spec = load_spec(tmp_path / "anomaly")
    net = build(spec, ad, (5, 128), 640, None)
    widths = [m.out_features for m in net.modules() if isinstance(m, torch.nn.Linear)]
    assert widths == [128, 128, 128, 128, 8, 128, 128, 128, 128, 640]  # MLPerf Tiny's AD layers
    assert sum(isinstance(m, torch.nn.BatchNorm1d) for m in net.modules()) == 9


def _differences(c: dict[str, Any], d: dict[str, Any], own: dict[str, Any]) -> list[bool]:
    fe = {**own, **c["front_end"]}
    return [
        *(fe[k] != v for k, v in own.items()),
        *(c["arch"][k] != v for k, v in d["arch"].items()),
        *(c[k] != d[k] for k in ("method", "pruning", "activations", "lr")),
    ]


def test_the_search_refuses_what_it_cannot_vary(tmp_path: Path) -> None:
    new_app("sine", tmp_path / "sine")
    with pytest.raises(SpecError, match="classifiers and anomaly detectors"):
        check_searchable(load_spec(tmp_path / "sine"))


def _r(i: str, acc: float, lat: float, ram: int, energy: float | None = 1.0) -> dict[str, object]:
    return {
        "id": i,
        "accuracy": acc,
        "latency_ms": lat,
        "ram_bytes": ram,
        "flash_bytes": 0,
        "energy_uj": energy,
        "model": f"{i}.tflite",
        "config": {"id": i},
    }


def test_pareto_front_keeps_exactly_the_non_dominated() -> None:
    rs = [
        _r("a", 0.90, 2.0, 2000),
        _r("b", 0.95, 3.0, 3000),
        _r("c", 0.89, 2.5, 2500),  # worse than a everywhere
        _r("d", 0.90, 2.0, 2000),  # the same point as a: one of them stays
        _r("e", 0.80, 1.0, 4000),  # fastest, so on the front
        _r("f", 0.95, 3.0, 3000, 0.5),  # b with less energy: b is dominated
    ]
    assert [r["id"] for r in pareto.front(rs)] == ["f", "a", "e"]
    assert pareto.dominates(rs[0], rs[2]) and not pareto.dominates(rs[0], rs[3])
    assert set(pareto.point(rs[0])) == set(pareto.POINT_KEYS)
    # boards without power figures: energy None counts as equal for all
    assert [r["id"] for r in pareto.front([_r("x", 0.9, 1.0, 10, None), _r("y", 0.8, 2.0, 10, None)])] == [
        "x"
    ]


def test_half_the_trials_come_from_where_a_dominating_model_must_lie() -> None:
    from edgecraft.search.runner import choose

    def c(i: str, lat: float, ram: int) -> dict[str, object]:
        return {"id": i, "default": i == "default", "measured": {"latency_ms": lat, "ram_bytes": ram}}

    fitting = [
        c("default", 2.0, 1000),
        c("c000", 3.0, 900),  # slower
        c("c001", 1.0, 1200),  # more RAM
        c("c002", 5.0, 5000),
        c("c003", 1.5, 1000),  # no costlier
        c("c004", 0.5, 800),  # no costlier
        c("c005", 2.0, 999),  # no costlier
    ]
    # 5 trials: the default, 2 no costlier than it (the first drawn), 2 more in draw order
    assert [x["id"] for x in choose(fitting, 5)] == ["default", "c000", "c001", "c003", "c004"]
    assert [x["id"] for x in choose(fitting, 2)] == ["default", "c000"]  # (2 - 1) // 2 = 0 such
    assert [x["id"] for x in choose(fitting, 4)] == ["default", "c000", "c001", "c003"]
    assert [x["id"] for x in choose(fitting, 7)] == [x["id"] for x in fitting]
    assert choose(fitting[1:], 2) == fitting[1:3]  # the default does not fit: draw order


def test_candidates_that_train_as_the_default_are_kept_like_it(tmp_path: Path) -> None:
    from edgecraft.search.runner import trains_as_default

    new_app("gesture", tmp_path / "g")
    spec = load_spec(tmp_path / "g")
    d = default_candidate(spec)
    own = {k: getattr(front_end(spec), k) for k in front_end_choices(front_end(spec))}
    # differs only after the float training: pruning, QAT, 16x8; the front end written out
    assert trains_as_default(spec, {**d, "id": "c1", "default": False, "pruning": 0.3})
    assert trains_as_default(
        spec, {**d, "id": "c2", "front_end": own, "method": "qat", "activations": "int16"}
    )
    assert not trains_as_default(spec, {**d, "id": "c3", "lr": 2.0})
    assert not trains_as_default(spec, {**d, "id": "c4", "front_end": {**own, "peaks": own["peaks"] + 1}})
    assert not trains_as_default(spec, {**d, "id": "c5", "arch": {**d["arch"], "width": 8}})


def test_audio_sample_rate_and_window_are_searched_and_the_c_front_end_runs_them(tmp_path: Path) -> None:
    import ctypes
    import sys

    import numpy as np

    from edgecraft.dsp import c_sources, mfcc
    from edgecraft.search.space import candidate_front_end, resample_clips

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dsp"))
    from c_harness import build_host, ptr, symbol

    new_app("kws", tmp_path / "kws")
    cfg = front_end(load_spec(tmp_path / "kws"))
    fe = front_end_choices(cfg)
    assert fe["sample_rate"] == [8000, 12000, 16000] and fe["window_samples"] == [240, 360, 480]
    new_app("anomaly", tmp_path / "ad")  # its mel bands reach 8 kHz: 16 kHz is its only rate
    assert "sample_rate" not in front_end_choices(front_end(load_spec(tmp_path / "ad")))
    # 8 kHz: the same second in 8000 samples, 30 ms windows of 240 samples -> 25 frames, not 49
    c8 = candidate_front_end(cfg, {"front_end": {"sample_rate": 8000, "window_samples": 240}})
    assert (c8.sample_rate, c8.clip_samples, c8.shape) == (8000, 8000, (25, 10))
    t = np.arange(16000) / 16000
    clip = np.round(8000 * np.sin(2 * np.pi * 1000 * t)).astype(np.int16)
    (pcm,) = resample_clips(clip[None], 16000, 8000)
    assert pcm.dtype == np.int16 and len(pcm) == 8000
    assert np.argmax(np.abs(np.fft.rfft(pcm))) == 1000  # the 1 kHz tone stays at 1 kHz (1 Hz bins)
    # the device's C front end computes the 8 kHz features as the Python one does (on a voice:
    # harmonics of a gliding pitch in bursts, over low noise)
    f0 = np.cumsum(120 + 60 * np.sin(2 * np.pi * 1.5 * t)) / 16000
    voice = sum(np.sin(2 * np.pi * h * f0) / h for h in range(1, 12)) * np.sin(2 * np.pi * 1.2 * t) ** 2
    noisy = 6000 * voice + np.random.default_rng(0).normal(0, 30, len(t))
    (pcm,) = resample_clips(np.round(noisy).astype(np.int16)[None], 16000, 8000)
    lib = build_host(c_sources(c8, "search_8k"), tmp_path / "c")
    out = np.zeros(c8.shape, np.float32)
    scratch = np.zeros(2 * c8.fft_size + c8.mel_bins, np.float32)
    lib.ec_audio_features.restype = ctypes.c_int
    frames = lib.ec_audio_features(symbol(lib, "ec_search_8k"), ptr(pcm), len(pcm), ptr(scratch), ptr(out))
    assert frames == 25
    assert np.abs(out - mfcc(pcm, c8)).max() <= 1e-4
