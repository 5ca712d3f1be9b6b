"""OTA artifacts: pack a model (and optional firmware files) with a manifest, sign, verify, delta.

An artifact is a zip file holding ``manifest.json`` and the files it lists with their SHA-256
(``model.tflite``, optionally ``firmware/...``). The server signs the artifact's bytes with its
Ed25519 key; a device checks the SHA-256 and the signature it was told to expect, then every file
against the manifest, before it writes anything to a slot. The model is stored in canonical form
(read and written once by edgecraft), so a weights-only delta applied on the device reproduces
the published bytes exactly, which the device checks against ``model_sha256``.

The manifest also carries self-test vectors: fixed inputs and the outputs edgecraft's runtime
gives for them. A device runs them after installing and before committing the new slot.

A user hands a model file (``fleet publish M``, ``fleet simulate --model M``) as a ``.tflite`` or
an int8 ``.onnx``: :func:`model_file_bytes` reads the latter with
:func:`edgecraft.formats.read_model` and writes it as the ``.tflite`` devices run. Everything
after that (the server's API, artifacts, deltas, devices) holds ``.tflite`` bytes only.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from edgecraft.formats import read_model, read_tflite_bytes, write_tflite
from edgecraft.ir.graph import Graph
from edgecraft.runtime import Interpreter

FORMAT = "edgecraft-artifact/1"
_ZIP_DATE = (2020, 1, 1, 0, 0, 0)  # fixed, so packing the same content gives the same bytes


class ArtifactError(ValueError):
    """An artifact is malformed, unsigned, tampered with, or does not fit its base model."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Signer:
    """The server's Ed25519 key, kept in a PEM file readable by its owner only."""

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self.key = key

    @classmethod
    def load_or_create(cls, path: Path) -> Signer:
        """Load the key at ``path``, or create one there (mode 0600)."""
        if path.exists():
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise ArtifactError(f"{path} is not an Ed25519 private key; move it away to make a new one")
            return cls(key)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        return cls(key)

    @property
    def public_key_hex(self) -> str:
        raw = self.key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return raw.hex()

    def sign(self, data: bytes) -> str:
        return self.key.sign(data).hex()


def verify(data: bytes, sha256_hex: str | None, signature_hex: str | None, public_key_hex: str) -> None:
    """Raise :class:`ArtifactError` unless ``data`` has this SHA-256 and a valid server signature."""
    if not signature_hex:
        raise ArtifactError("artifact is unsigned")
    if not sha256_hex or sha256(data) != sha256_hex:
        raise ArtifactError("artifact hash mismatch")
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex)).verify(
            bytes.fromhex(signature_hex), data
        )
    except (InvalidSignature, ValueError):
        raise ArtifactError("artifact signature invalid") from None


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name in sorted(files):
            z.writestr(zipfile.ZipInfo(name, _ZIP_DATE), files[name], zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def open_artifact(data: bytes) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The manifest and the files of an artifact, each file checked against its manifest hash."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            manifest = json.loads(z.read("manifest.json"))
            files = {name: z.read(name) for name in manifest["files"]}
    except (zipfile.BadZipFile, KeyError, ValueError) as e:
        raise ArtifactError(f"artifact is malformed: {e}") from None
    if manifest.get("format") != FORMAT:
        raise ArtifactError(f"artifact format {manifest.get('format')!r} is not {FORMAT}")
    for name, digest in manifest["files"].items():
        if sha256(files[name]) != digest:
            raise ArtifactError(f"artifact file {name} does not match its manifest hash")
    return manifest, files


def structure_hash(graph: Graph) -> str:
    """Hash of everything but constant tensors' values: equal hashes allow a weights-only delta."""
    desc: dict[str, Any] = {"inputs": graph.inputs, "outputs": graph.outputs, "ops": [], "tensors": []}
    for op in graph.operators:
        desc["ops"].append(
            [op.type, op.version, op.inputs, op.outputs, sorted((k, repr(v)) for k, v in op.attrs.items())]
        )
    for t in graph.tensors:
        q = (
            None
            if t.quant is None or t.data is not None
            else [t.quant.scale.tolist(), t.quant.zero_point.tolist(), t.quant.axis]
        )
        desc["tensors"].append([t.name, list(t.shape), t.dtype, t.data is not None, q])
    return sha256(json.dumps(desc, sort_keys=True).encode())


def model_file_bytes(path: str | Path) -> bytes:
    """The ``.tflite`` bytes of the model file at ``path``: a ``.tflite`` as it is, an ``.onnx``
    read by :func:`edgecraft.formats.read_model` (int8 QDQ) and written as ``.tflite``."""
    if Path(path).suffix.lower() == ".onnx":
        return write_tflite(read_model(path))
    return Path(path).read_bytes()


def canonical_model(model_bytes: bytes) -> tuple[bytes, Graph]:
    """The model as edgecraft writes it (the form stored in artifacts) and its graph."""
    graph = read_tflite_bytes(model_bytes)
    data = write_tflite(graph)
    return data, read_tflite_bytes(data)


def selftest_vectors(graph: Graph, count: int = 2, seed: int = 0) -> list[dict[str, Any]]:
    """Fixed random inputs and the outputs the reference runtime gives for them."""
    rng = np.random.default_rng(seed)
    interp = Interpreter(graph)
    cases = []
    for _ in range(count):
        xs = []
        for t in graph.input_tensors():
            if np.issubdtype(t.np_dtype, np.integer):
                info = np.iinfo(t.np_dtype)
                xs.append(rng.integers(info.min, info.max, size=t.shape, endpoint=True).astype(t.np_dtype))
            else:
                xs.append(rng.standard_normal(t.shape).astype(t.np_dtype))
        ys = interp.run(xs)
        cases.append({"inputs": [x.tolist() for x in xs], "outputs": [y.tolist() for y in ys]})
    return cases


def pack(
    model_bytes: bytes,
    version: str,
    boards: list[str] | None = None,
    metrics: dict[str, Any] | None = None,
    firmware_dir: Path | None = None,
) -> tuple[bytes, dict[str, Any]]:
    """Build a full artifact for ``version``; returns (artifact bytes, manifest)."""
    model, graph = canonical_model(model_bytes)
    files = {"model.tflite": model}
    if firmware_dir is not None:
        for p in sorted(Path(firmware_dir).rglob("*")):
            if p.is_file():
                files[f"firmware/{p.relative_to(firmware_dir).as_posix()}"] = p.read_bytes()
    manifest = {
        "format": FORMAT,
        "kind": "full",
        "version": version,
        "model_sha256": sha256(model),
        "model_size": len(model),
        "boards": sorted(boards or []),
        "metrics": metrics or {},
        "structure": structure_hash(graph),
        "selftest": selftest_vectors(graph),
        "files": {name: sha256(data) for name, data in files.items()},
    }
    files["manifest.json"] = json.dumps(manifest, sort_keys=True).encode()
    return _zip(files), manifest


def _changed_constants(base: Graph, target: Graph) -> list[int]:
    changed = []
    for i, (a, b) in enumerate(zip(base.tensors, target.tensors, strict=True)):
        if b.data is None:
            continue
        same_q = (a.quant is None) == (b.quant is None) and (
            a.quant is None
            or b.quant is None
            or (
                np.array_equal(a.quant.scale, b.quant.scale)
                and np.array_equal(a.quant.zero_point, b.quant.zero_point)
                and a.quant.axis == b.quant.axis
            )
        )
        if a.data is None or not np.array_equal(a.data, b.data) or not same_q:
            changed.append(i)
    return changed


def make_delta(base_model: bytes, target_artifact: bytes) -> bytes | None:
    """A weights-only delta from ``base_model`` to the target artifact's model, or None.

    None when the graphs differ in structure, or when the delta would not be smaller than the
    full artifact. The delta is checked here: applied to the base it must give the target bytes.
    """
    target_manifest, target_files = open_artifact(target_artifact)
    if any(name != "model.tflite" for name in target_files):
        return None  # firmware updates always go as full artifacts
    base = read_tflite_bytes(base_model)
    target = read_tflite_bytes(target_files["model.tflite"])
    if structure_hash(base) != target_manifest["structure"] or len(base.tensors) != len(target.tensors):
        return None
    files: dict[str, bytes] = {}
    entries = []
    for i in _changed_constants(base, target):
        t = target.tensors[i]
        assert t.data is not None
        files[f"tensors/{i}.bin"] = np.ascontiguousarray(t.data).tobytes()
        q = t.quant
        entries.append(
            {"index": i, "quant": None if q is None else [q.scale.tolist(), q.zero_point.tolist(), q.axis]}
        )
    manifest = {k: v for k, v in target_manifest.items() if k != "files"}
    manifest.update(
        kind="delta",
        base_model_sha256=sha256(base_model),
        tensors=entries,
        files={name: sha256(data) for name, data in files.items()},
    )
    files["manifest.json"] = json.dumps(manifest, sort_keys=True).encode()
    delta = _zip(files)
    if apply_delta(base_model, manifest, files) != target_files["model.tflite"]:
        return None
    return delta if len(delta) < len(target_artifact) else None


def apply_delta(base_model: bytes, manifest: dict[str, Any], files: dict[str, bytes]) -> bytes:
    """The target model from ``base_model`` and a delta's manifest and files (hash-checked)."""
    from edgecraft.ir.graph import Quantization

    if sha256(base_model) != manifest["base_model_sha256"]:
        raise ArtifactError("delta does not apply: the installed model is not its base")
    graph = read_tflite_bytes(base_model)
    for e in manifest["tensors"]:
        t = graph.tensors[e["index"]]
        t.data = np.frombuffer(files[f"tensors/{e['index']}.bin"], dtype=t.np_dtype).reshape(t.shape).copy()
        t.quant = None if e["quant"] is None else Quantization(*e["quant"])
    model = write_tflite(graph)
    if sha256(model) != manifest["model_sha256"]:
        raise ArtifactError("delta result does not match the target model hash")
    return model
