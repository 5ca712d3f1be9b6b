"""Publishing a version, all or nothing: the artifact, its signature and every delta are built
and checked in memory first, then stored in one transaction (:meth:`FleetStore.add_model`).

A delta from an older version is optional: when an older stored artifact cannot be read (a
corrupt row, a model the reader now refuses) that one delta is skipped and said so, and the
publish goes on, so one bad old version never blocks later ones.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edgecraft.fleet import artifacts
from edgecraft.fleet.records import BadRequest, Delta, FleetStore, ModelVersion

MAX_METRICS_BYTES = 16_384


def _firmware_dir(tmp: Path, firmware: dict[str, bytes]) -> Path:
    root = tmp.resolve()
    for name, data in firmware.items():
        parts = name.split("/")
        if not name or len(name) > 200 or any(p in ("", ".", "..") for p in parts) or "\0" in name:
            raise BadRequest(f"bad firmware file name {name[:60]!r}: use a relative path without '..'")
        p = (root / name).resolve()
        if not p.is_relative_to(root):
            raise BadRequest(f"bad firmware file name {name[:60]!r}: use a relative path without '..'")
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return root


def build_version(
    signer: artifacts.Signer,
    store: FleetStore,
    artifact_of: Callable[[str], bytes | None],
    model: bytes,
    version: str,
    boards: list[str],
    metrics: dict[str, Any],
    firmware: dict[str, bytes] | None,
) -> tuple[ModelVersion, list[Delta]]:
    """The signed record of ``version`` and its signed deltas from same-structure older versions."""
    try:
        if len(json.dumps(metrics, allow_nan=False)) > MAX_METRICS_BYTES:
            raise BadRequest(f"metrics must be a JSON object under {MAX_METRICS_BYTES} bytes")
    except (TypeError, ValueError):
        raise BadRequest("metrics must be a JSON object of plain values (no NaN or infinity)") from None
    with tempfile.TemporaryDirectory() as tmp:
        fw_dir = _firmware_dir(Path(tmp), firmware) if firmware else None
        try:
            blob, manifest = artifacts.pack(model, version, boards, metrics, fw_dir)
        except (ValueError, IndexError, KeyError, TypeError, AssertionError) as e:
            reason = str(e).split("\n")[0][:200] or type(e).__name__
            if "not a .tflite model" in reason:  # e.g. ONNX bytes: the API takes .tflite bytes only
                reason += "; publish an int8 .onnx with `edgecraft fleet publish M.onnx` (it converts it)"
            raise BadRequest(f"the model is not a valid int8 .tflite edgecraft can run: {reason}") from None
    row = ModelVersion(
        version=version,
        sha256=artifacts.sha256(blob),
        model_sha256=manifest["model_sha256"],
        signature=signer.sign(blob),
        size=len(blob),
        boards=manifest["boards"],
        metrics=manifest["metrics"],
        structure=manifest["structure"],
        manifest=manifest,
        artifact=blob,
    )
    deltas = []
    for old in store.models():
        if old.structure != manifest["structure"]:
            continue
        try:
            base = artifact_of(old.version)
            if base is None:
                continue
            delta = artifacts.make_delta(artifacts.open_artifact(base)[1]["model.tflite"], blob)
        except Exception as e:  # a delta is an optimization: never let an old version block this one
            print(f"fleet: no delta from {old.version} to {version}: {type(e).__name__}", flush=True)
            continue
        if delta is not None:
            deltas.append(
                Delta(old.version, version, artifacts.sha256(delta), signer.sign(delta), len(delta), delta)
            )
    return row, deltas
