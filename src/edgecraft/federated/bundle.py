"""The work directory edgecraft hands to Flower's side (see :mod:`.flower_app` for the layout)
and what comes back (per-round rows, privacy spent, aggregated weights)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from edgecraft.federated.partition import Partitions


def write_work(work: Path, parts: Partitions, logits: Any, config: dict[str, Any],
               clients: list[int] | None = None) -> Path:
    """Write ``config.json``, ``data.npz`` (all clients, or only ``clients``: a SuperNode's
    directory holds its own device's data) and ``model.pt`` (``logits`` as TorchScript)."""
    import torch

    work.mkdir(parents=True, exist_ok=True)
    for stale in ("progress.jsonl", "result.json", "final.npz"):
        (work / stale).unlink(missing_ok=True)
    ids = list(range(parts.clients)) if clients is None else clients
    xs = [parts.client(i)[0] for i in ids]
    ys = [parts.client(i)[1] for i in ids]
    offsets = np.concatenate([[0], np.cumsum([len(v) for v in ys])]).astype(np.int64)
    np.savez(
        work / "data.npz",
        x=np.concatenate(xs) if xs else parts.x[:0],
        y=np.concatenate(ys) if ys else parts.y[:0],
        offsets=offsets,
        test_x=parts.test_x,
        test_y=parts.test_y,
    )
    logits.eval()
    torch.jit.script(logits).save(str(work / "model.pt"))
    (work / "config.json").write_text(json.dumps(config, indent=1))
    return work


def read_result(work: Path) -> dict[str, Any]:
    """``result.json`` as written by the ServerApp."""
    return json.loads((work / "result.json").read_text())  # type: ignore[no-any-return]


def read_final(work: Path) -> dict[str, np.ndarray]:
    """The aggregated weights by state-dict name."""
    with np.load(work / "final.npz") as d:
        return {k: d[k] for k in d.files}
