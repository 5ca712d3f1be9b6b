"""Start Flower's processes in Flower's virtual environment and follow their progress.

Flower 1.42 cannot share edgecraft's environment (it pins protobuf < 7, typer < 0.21, rich < 15,
fastapi 0.138 while edgecraft needs protobuf 7, typer 0.29, rich 15, fastapi 0.165), so
``scripts/setup.sh`` makes ``.venv-flower`` from ``constraints-flower.txt`` and edgecraft talks
to it through processes and files only. ``EDGECRAFT_FLOWER_VENV`` points elsewhere.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SRC = Path(__file__).resolve().parents[2]  # the directory holding the edgecraft package


class FlowerMissing(RuntimeError):
    """Flower's virtual environment is not there; the message says how to make it."""


def flower_venv() -> Path:
    """Flower's virtual environment: ``$EDGECRAFT_FLOWER_VENV``, else ``.venv-flower`` beside
    the checkout or beside the running environment."""
    env = os.environ.get("EDGECRAFT_FLOWER_VENV")
    candidates = [Path(env)] if env else [SRC.parent / ".venv-flower",
                                          Path(sys.prefix).parent / ".venv-flower"]
    for c in candidates:
        if (c / "bin" / "python").exists():
            return c
    raise FlowerMissing(
        f"Flower's environment is missing (looked for {', '.join(map(str, candidates))}); "
        "run scripts/setup.sh, which makes .venv-flower"
    )


def flower_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a Flower process: its venv first on PATH, edgecraft's sources on
    PYTHONPATH (only the self-contained Flower-side modules are imported there), one thread."""
    venv = flower_venv()
    env = dict(os.environ)
    env.pop("PYTHONHOME", None)
    env["VIRTUAL_ENV"] = str(venv)
    env["PATH"] = f"{venv / 'bin'}:{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(SRC)
    env.update({"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                "RAY_USAGE_STATS_ENABLED": "0", "FLWR_TELEMETRY_ENABLED": "0", "PYTHONUNBUFFERED": "1"})
    env.update(extra or {})
    return env


def follow(work: Path, seen: int, on_row: Callable[[dict[str, Any]], None] | None) -> int:
    """Pass the new lines of ``progress.jsonl`` (past the first ``seen``) to ``on_row``."""
    path = work / "progress.jsonl"
    if not path.exists():
        return seen
    lines = path.read_text().splitlines()
    complete = [ln for ln in lines if ln.endswith("}")]
    for ln in complete[seen:]:
        if on_row is not None:
            on_row(json.loads(ln))
    return len(complete)


def run_simulation(work: Path, on_row: Callable[[dict[str, Any]], None] | None = None,
                   timeout: float = 3600.0) -> None:
    """Run ``python -m edgecraft.federated.flower_sim WORK`` in Flower's venv; Flower's log
    goes to ``WORK/flower.log``. Raises ``RuntimeError`` (with the log's tail) on failure."""
    venv = flower_venv()
    log = open(work / "flower.log", "w")  # noqa: SIM115 (closed below, after the process)
    proc = subprocess.Popen(
        [str(venv / "bin" / "python"), "-m", "edgecraft.federated.flower_sim", str(work)],
        env=flower_env(), stdout=log, stderr=subprocess.STDOUT, cwd=str(work), start_new_session=True,
    )
    seen, deadline = 0, time.monotonic() + timeout
    try:
        while proc.poll() is None:
            seen = follow(work, seen, on_row)
            if time.monotonic() > deadline:
                raise RuntimeError(f"the Flower simulation ran past {timeout:.0f} s")
            time.sleep(0.3)
        follow(work, seen, on_row)
    finally:
        stop(proc)
        log.close()
    if proc.returncode != 0 or not (work / "result.json").exists():
        raise RuntimeError(f"the Flower simulation failed (exit {proc.returncode}): "
                           f"{tail(work / 'flower.log')}")


def stop(proc: subprocess.Popen[Any], grace: float = 10.0) -> None:
    """Stop ``proc`` and its process group (Ray starts helpers): SIGTERM, then SIGKILL."""
    import signal

    if proc.poll() is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)  # leftovers of a finished run (Ray workers)
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(grace)
    except (ProcessLookupError, PermissionError):
        return
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def tail(path: Path, lines: int = 15) -> str:
    """The last lines of a log, for error messages."""
    try:
        return " | ".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
