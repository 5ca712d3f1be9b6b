"""The streaming pipeline as a Python user calls it (``edgecraft.device.stream_file`` and
``stream_recording``), and the recording readers under it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.io import wavfile
from stream_models import TONE_LABELS, tone_detector, tone_recording

from edgecraft.device import (
    Battery,
    Event,
    StreamError,
    StreamOptions,
    read_csv,
    read_events,
    read_wav,
    stream_file,
    stream_recording,
)
from edgecraft.formats import write_tflite
from edgecraft.ir.graph import Graph
from edgecraft.models.motion import SHAKE_LABELS, shake_detector, shake_recording

BURSTS = [2.0, 5.0, 8.0]


@pytest.fixture(scope="module")
def tone() -> tuple[Graph, np.ndarray]:
    return tone_detector(), tone_recording(BURSTS, 10.0)


def test_recording_in_memory_detections_and_power(tone: tuple[Graph, np.ndarray]) -> None:
    graph, samples = tone
    out = stream_recording(graph, TONE_LABELS, samples,
                           StreamOptions(board="nano33ble", battery=Battery(220, 3.0)), model="tone")
    assert [d["label"] for d in out["detections"]] == ["tone"] * 3
    for d, burst in zip(out["detections"], BURSTS, strict=True):
        assert burst < d["time_s"] <= burst + 1.4
    assert out["stats"]["inferences"] == 37 and len(out["windows"]) == 37 and out["features"] == "kws-mfcc"
    assert out["window_s"] == 1.0 and out["stride_s"] == 0.25 and out["model"] == "tone"
    p = out["power"]
    assert p["board"] == "nano33ble" and p["inferences_per_s"] == pytest.approx(3.7) and p["feature_ms"] > 0
    assert p["battery_life_h"] == pytest.approx(660 / p["average_mw"], rel=1e-3)


def test_file_gives_the_same_record_as_memory(tone: tuple[Graph, np.ndarray], tmp_path: Path) -> None:
    graph, samples = tone
    (tmp_path / "tone.tflite").write_bytes(write_tflite(graph))
    wavfile.write(tmp_path / "bursts.wav", 16000, samples)
    opts = StreamOptions(stride_ms=500, duty_ms=900)
    from_file = stream_file(tmp_path / "tone.tflite", TONE_LABELS, wav=tmp_path / "bursts.wav", options=opts)
    in_memory = stream_recording(graph, TONE_LABELS, samples, opts,
                                 model=str(tmp_path / "tone.tflite"))
    assert from_file == in_memory
    assert from_file["stats"]["duty_skipped"] > 0 and from_file["stride_s"] == 0.5


def test_tuning_with_events_sets_the_post_processing(tone: tuple[Graph, np.ndarray]) -> None:
    graph, samples = tone
    events = tuple(Event(b, b + 0.4, "tone") for b in BURSTS)
    out = stream_recording(graph, TONE_LABELS, samples,
                           StreamOptions(events=events, max_fa_per_hour=0))
    op = out["tuning"]["operating_point"]
    assert op["fa_per_hour"] == 0 and op["frr"] == 0 and out["postprocessing"]["threshold"] == op["threshold"]
    with pytest.raises(StreamError, match="does not know: cat"):
        stream_recording(graph, TONE_LABELS, samples,
                         StreamOptions(events=(Event(1.0, 2.0, "cat"),)))


def test_motion_in_memory() -> None:
    out = stream_recording(shake_detector(), SHAKE_LABELS, shake_recording([3.0, 8.0], 12.0),
                           StreamOptions(suppression_ms=3000))
    assert [d["label"] for d in out["detections"]] == ["shake", "shake"] and out["features"] == "imu"


@pytest.mark.parametrize(("labels", "samples", "options", "message"), [
    (["a", "b", "c"], "audio", StreamOptions(), "3 labels"),
    (TONE_LABELS, "audio", StreamOptions(features="imu"), "needs an audio front end"),
    (TONE_LABELS, "motion", StreamOptions(features="kws-mfcc"), "needs a motion front end"),
    (TONE_LABELS, "audio", StreamOptions(features="nope"), "unknown feature preset"),
    (TONE_LABELS, "audio", StreamOptions(battery=Battery(220, 3.0)), "needs a board"),
    (TONE_LABELS, "audio", StreamOptions(board="qemu-m4"), "no power figures"),
    (TONE_LABELS, "audio", StreamOptions(stride_ms=0.01), "stride"),
    (TONE_LABELS, "float", StreamOptions(), "int16"),
])
def test_bad_input_raises_stream_error(labels: list[str], samples: str, options: StreamOptions,
                                       message: str) -> None:
    x = {"audio": np.zeros(16000, np.int16), "float": np.zeros(16000, np.float32),
         "motion": np.zeros((200, 3), np.float32)}[samples]
    with pytest.raises(StreamError, match=message):
        stream_recording(tone_detector(), labels, x, options)


def test_stream_file_needs_exactly_one_recording(tmp_path: Path) -> None:
    with pytest.raises(StreamError, match="exactly one recording"):
        stream_file(tmp_path / "m.tflite", TONE_LABELS)


def test_readers(tmp_path: Path) -> None:
    """WAV channel pick and resampling, CSV with and without a time column, events."""
    t = np.arange(22050) / 22050
    stereo = np.stack([10000 * np.sin(2 * np.pi * 440 * t), np.zeros_like(t)], 1).astype(np.int16)
    wavfile.write(tmp_path / "s.wav", 22050, stereo)
    left = read_wav(tmp_path / "s.wav", 0, 16000)
    assert left.dtype == np.int16 and len(left) == 16000 and 9000 < np.abs(left).max() <= 10100
    assert not read_wav(tmp_path / "s.wav", 1, 16000).any()
    with pytest.raises(StreamError, match="channel"):
        read_wav(tmp_path / "s.wav", 2, 16000)
    with pytest.raises(StreamError, match="does not exist"):
        read_wav(tmp_path / "none.wav", 0, 16000)
    (tmp_path / "a.csv").write_text("time,x,y,z\n0.00,1,2,3\n0.02,4,5,6\n0.04,7,8,9\n")
    data, rate = read_csv(tmp_path / "a.csv", 3, None, 100.0)
    assert data.tolist() == [[1, 2, 3], [4, 5, 6], [7, 8, 9]] and rate == pytest.approx(50.0)
    (tmp_path / "b.csv").write_text("1,2,3\n4,5,6\n")
    assert read_csv(tmp_path / "b.csv", 3, None, 100.0)[1] == 100.0
    with pytest.raises(StreamError, match="expects 2"):
        read_csv(tmp_path / "b.csv", 2, None, 100.0)
    (tmp_path / "e.csv").write_text("start_s,end_s,label\n1.0,1.5,yes\n")
    assert read_events(tmp_path / "e.csv") == [Event(1.0, 1.5, "yes")]
    (tmp_path / "bad.csv").write_text("1.0,yes\n")
    with pytest.raises(StreamError, match=r"bad\.csv:1"):
        read_events(tmp_path / "bad.csv")
