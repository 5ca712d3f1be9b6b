"""Artifacts: packing, Ed25519 signatures, tamper detection, weights-only deltas."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from edgecraft.fleet import artifacts
from edgecraft.fleet.artifacts import ArtifactError, Signer
from edgecraft.fleet.sim import classifier_model, task_weights
from edgecraft.formats import read_tflite_bytes
from edgecraft.runtime import Interpreter


@pytest.fixture
def signer(tmp_path: Path) -> Signer:
    return Signer.load_or_create(tmp_path / "key.pem")


def test_key_is_private_and_reloads(tmp_path: Path, signer: Signer) -> None:
    path = tmp_path / "key.pem"
    assert path.stat().st_mode & 0o777 == 0o600
    assert Signer.load_or_create(path).public_key_hex == signer.public_key_hex


def test_pack_sign_verify(signer: Signer) -> None:
    model = classifier_model(task_weights())
    blob, manifest = artifacts.pack(model, "1.0.0", ["esp32"], {"accuracy": 0.97})
    blob2, _ = artifacts.pack(model, "1.0.0", ["esp32"], {"accuracy": 0.97})
    assert blob == blob2  # deterministic: the same content gives the same signed bytes
    sig = signer.sign(blob)
    artifacts.verify(blob, artifacts.sha256(blob), sig, signer.public_key_hex)
    got, files = artifacts.open_artifact(blob)
    assert got == manifest and set(files) == {"model.tflite"}
    assert manifest["model_sha256"] == artifacts.sha256(files["model.tflite"])
    # The self-test vectors are what the runtime computes for the packed model.
    interp = Interpreter(read_tflite_bytes(files["model.tflite"]))
    case = manifest["selftest"][0]
    y = interp.run([np.asarray(case["inputs"][0], dtype=np.int8)])[0]
    assert y.tolist() == case["outputs"][0]


def test_tampered_and_unsigned_are_refused(signer: Signer, tmp_path: Path) -> None:
    blob, _ = artifacts.pack(classifier_model(task_weights()), "1.0.0")
    sha, sig = artifacts.sha256(blob), signer.sign(blob)
    flipped = blob[:100] + bytes([blob[100] ^ 1]) + blob[101:]
    with pytest.raises(ArtifactError, match="hash mismatch"):
        artifacts.verify(flipped, sha, sig, signer.public_key_hex)
    with pytest.raises(ArtifactError, match="signature invalid"):  # hash updated by the attacker too
        artifacts.verify(flipped, artifacts.sha256(flipped), sig, signer.public_key_hex)
    with pytest.raises(ArtifactError, match="unsigned"):
        artifacts.verify(blob, sha, None, signer.public_key_hex)
    other = Signer.load_or_create(tmp_path / "other.pem")
    with pytest.raises(ArtifactError, match="signature invalid"):
        artifacts.verify(blob, sha, other.sign(blob), signer.public_key_hex)
    # A file swapped inside a re-zipped artifact fails its manifest hash.
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(blob)) as src, zipfile.ZipFile(buf, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            dst.writestr(name, data if name != "model.tflite" else data[:-4] + b"\0\0\0\0")
    with pytest.raises(ArtifactError, match="does not match its manifest"):
        artifacts.open_artifact(buf.getvalue())


def test_firmware_files_travel_with_the_model(tmp_path: Path) -> None:
    fw = tmp_path / "fw"
    (fw / "src").mkdir(parents=True)
    (fw / "src" / "model.c").write_text("int x;\n")
    blob, manifest = artifacts.pack(classifier_model(task_weights()), "1.0.0", firmware_dir=fw)
    _, files = artifacts.open_artifact(blob)
    assert files["firmware/src/model.c"] == b"int x;\n"
    assert "firmware/src/model.c" in manifest["files"]


def test_weights_only_delta_is_smaller_and_exact() -> None:
    w = task_weights()
    base = artifacts.pack(classifier_model(w), "1.0.0")
    base_model = artifacts.open_artifact(base[0])[1]["model.tflite"]
    w2 = w.copy()
    w2[0] *= -1
    target, _ = artifacts.pack(classifier_model(w2, hidden=64), "2.0.0")
    assert artifacts.make_delta(base_model, target) is None  # structure changed: no delta
    big = classifier_model(w, hidden=256)
    big_model = artifacts.open_artifact(artifacts.pack(big, "1.0.0")[0])[1]["model.tflite"]
    target, _ = artifacts.pack(classifier_model(w2, hidden=256), "2.0.0")
    delta = artifacts.make_delta(big_model, target)
    assert delta is not None and len(delta) < len(target)
    dm, dfiles = artifacts.open_artifact(delta)
    assert dm["kind"] == "delta" and [t["index"] for t in dm["tensors"]] == [5]  # the output layer only
    assert artifacts.apply_delta(big_model, dm, dfiles) == artifacts.open_artifact(target)[1]["model.tflite"]
    with pytest.raises(ArtifactError, match="not its base"):
        artifacts.apply_delta(base_model, dm, dfiles)
