"""Latency and energy estimates: per-op work times a per-core cycle table fitted on MLPerf Tiny.

Model. One inference takes ``cycles = k * W`` with the *effective work*

    W = MACs(CONV_2D) + delta * MACs(DEPTHWISE_CONV_2D) + phi * MACs(FULLY_CONNECTED) + MACs(others)

where MACs come from each op's ``OpDef.cost`` and its class from ``OpDef.work_class``.
``delta`` and ``phi`` (what one depthwise or one fully connected MAC costs in convolution MACs:
they reuse each loaded byte less) are shared by every core and software stack; ``k`` (cycles per
convolution MAC) belongs to one core and stack.

Fit. ``mlperf_tiny.json`` holds the published latencies (../shared/TOOLCHAIN.md) of 5 runs x 4
models and the work of the 4 models. A least-squares fit of ``log(latency * clock)`` on
``log k_run + log W(delta, phi)`` gives 7 parameters for 20 figures. The expected error is
measured, not assumed: each published figure is predicted from a fit on the other 19
(leave-one-out), and the root mean square of the log errors is quoted as "+-X%".

Per-core table. ``cores`` in the data file says how each core's ``k`` for TFLM-class kernels
(edgecraft's generated C) is obtained: ``fit`` (a TFLM run exists), ``transfer`` (a vendor run on
that core, scaled by the TFLM/vendor ratio measured on the Cortex-M4; error of three fitted
figures), ``emulated`` (the Cortex-M4 ``k`` times the ratio of instructions edgecraft's generated
C executes on the two cores under QEMU, geometric mean over several models; the spread of the
ratios and +-50% for the unknown cycles-per-instruction ratio added) or ``scaled`` (another core's
``k`` times a documented factor; a factor-of-2 uncertainty added). Energy = latency x the
board's active power; its stated error is the latency's plus how far a board's power moves with
the firmware it runs (+60%: NUCLEO-L4R5ZI drew 33.4 mW in ST's published MLPerf Tiny runs and
52 mW in microTVM's), as the cycle model states it
(:func:`edgecraft.targets.cycles.energy_spread_pct`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

from edgecraft.ir.graph import Graph
from edgecraft.ops.base import WORK_CLASSES
from edgecraft.ops.registry import get_op, op_cost
from edgecraft.targets.catalog import Board
from edgecraft.targets.cycles import energy_spread_pct

#: MACs of each work class an op record names (``OpDef.work_class``).
FEATURES = tuple(f"{c}_macs" for c in WORK_CLASSES)
ASSUMPTION_LOG_ERROR = math.log(2.0)  # a factor of 2 either way for a documented guess
CPI_LOG_ERROR = math.log(1.5)  # instruction counts are not cycles: +-50% for the unknown CPI ratio


@cache
def calibration_data() -> dict[str, Any]:
    """The contents of ``mlperf_tiny.json``."""
    data: dict[str, Any] = json.loads(
        resources.files("edgecraft.targets").joinpath("mlperf_tiny.json").read_text())
    return data


def work_features(graph: Graph) -> dict[str, int]:
    """MACs by class (conv, depthwise, fully connected, other) and bytes moved, summed over ops."""
    out = dict.fromkeys((*FEATURES, "bytes"), 0)
    for op in graph.operators:
        c = op_cost(graph, op)
        out[f"{get_op(op.type).work_class}_macs"] += c.macs
        out["bytes"] += c.bytes_read + c.bytes_written
    return out


def effective_work(features: dict[str, int], delta: float, phi: float) -> float:
    """W in convolution-MAC equivalents (see the module docstring)."""
    return (features["conv_macs"] + delta * features["depthwise_macs"] + phi * features["fc_macs"]
            + features["other_macs"])


@dataclass(frozen=True)
class Fit:
    """Fitted shared weights and cycles per conv MAC of each run."""

    delta: float
    phi: float
    k: dict[str, float]  # run id -> cycles per convolution MAC
    rms_log_error: float  # in-sample

    def predict_ms(self, run: dict[str, Any], features: dict[str, int]) -> float:
        return self.k[run["id"]] * effective_work(features, self.delta, self.phi) / (run["clock_mhz"] * 1e3)


def fit(exclude: Sequence[tuple[str, str]] = ()) -> Fit:
    """Least-squares fit on the published figures, leaving out the ``(run id, model)`` pairs."""
    from scipy.optimize import least_squares  # slow to import; only profiling needs it

    data = calibration_data()
    runs, models = data["runs"], data["models"]
    pairs = [(i, m) for i, r in enumerate(runs) for m in r["latency_ms"] if (r["id"], m) not in exclude]
    target = np.array([math.log(runs[i]["latency_ms"][m] * runs[i]["clock_mhz"] * 1e3) for i, m in pairs])

    def residuals(p: np.ndarray) -> np.ndarray:
        delta, phi = math.exp(p[0]), math.exp(p[1])
        model = [p[2 + i] + math.log(effective_work(models[m], delta, phi)) for i, m in pairs]
        return target - np.array(model)

    sol = least_squares(residuals, np.zeros(2 + len(runs)))
    k = {r["id"]: float(math.exp(sol.x[2 + i])) for i, r in enumerate(runs)}
    rms = float(np.sqrt(np.mean(sol.fun ** 2)))
    return Fit(float(math.exp(sol.x[0])), float(math.exp(sol.x[1])), k, rms)


@dataclass(frozen=True)
class Calibration:
    """The full fit plus its leave-one-out check."""

    fit: Fit
    loo_predictions: dict[tuple[str, str], float]  # (run id, model) -> predicted ms
    loo_rms_log_error: float


@cache
def calibration() -> Calibration:
    """Fit on all 20 figures and predict each one from a fit on the other 19."""
    data = calibration_data()
    full = fit()
    preds: dict[tuple[str, str], float] = {}
    errors = []
    for run in data["runs"]:
        for m, published in run["latency_ms"].items():
            f = fit(exclude=[(run["id"], m)])
            preds[run["id"], m] = f.predict_ms(run, data["models"][m])
            errors.append(math.log(preds[run["id"], m] / published))
    return Calibration(full, preds, float(np.sqrt(np.mean(np.square(errors)))))


@dataclass(frozen=True)
class CoreRate:
    """Cycles per convolution MAC of one core running TFLM-class kernels, and how it was got."""

    core: str
    cycles_per_mac: float
    log_error: float
    basis: str
    note: str


def core_rate(core: str) -> CoreRate:
    """The per-core table entry for ``core`` (see the module docstring)."""
    cores = calibration_data()["cores"]
    if core not in cores:
        raise ValueError(f"no cost-model entry for core {core!r}; known cores: {', '.join(cores)}")
    entry = cores[core]
    cal = calibration()
    err = cal.loo_rms_log_error
    if entry["basis"] == "fit":
        return CoreRate(core, cal.fit.k[entry["run"]], err, "fit", entry["note"])
    if entry["basis"] == "transfer":
        k = cal.fit.k[entry["run"]] * cal.fit.k["l4r5-tflm"] / cal.fit.k[entry["vendor_run"]]
        return CoreRate(core, k, err * math.sqrt(3), "transfer", entry["note"])
    base = core_rate(entry["from"])
    if entry["basis"] == "emulated":
        counts = calibration_data()["emulated"]["instructions"].values()
        logs = [math.log(c[entry["machine"]] / c[entry["from_machine"]]) for c in counts]
        mean = sum(logs) / len(logs)
        spread = math.sqrt(sum((x - mean) ** 2 for x in logs) / len(logs))
        log_error = math.hypot(base.log_error, spread, CPI_LOG_ERROR)
        return CoreRate(core, base.cycles_per_mac * math.exp(mean), log_error, "emulated", entry["note"])
    log_error = math.hypot(base.log_error, ASSUMPTION_LOG_ERROR)
    return CoreRate(core, base.cycles_per_mac * entry["factor"], log_error, "scaled", entry["note"])


def percent(log_error: float) -> int:
    """A log error as the "+-X%" people read (rounded up to 5%)."""
    return int(math.ceil((math.exp(log_error) - 1) * 20) * 5)


def estimate(features: dict[str, int], board: Board) -> dict[str, Any]:
    """Estimated latency and energy of one inference of a model with ``features`` on ``board``."""
    rate = core_rate(board.core)
    cal = calibration()
    w = effective_work(features, cal.fit.delta, cal.fit.phi)
    latency = rate.cycles_per_mac * w / (board.clock_mhz * 1e3)
    out: dict[str, Any] = {
        "latency_ms": round(latency, 4),
        "latency_error_pct": percent(rate.log_error),
        "cycles": int(rate.cycles_per_mac * w),
        "energy_uj": None,
        "energy_error_pct": None,
        "basis": f"estimate ({rate.basis}: {rate.note}); +-{percent(rate.log_error)}% from the leave-one-out "
                 "check on MLPerf Tiny",
    }
    if board.active_mw is not None:
        out["energy_uj"] = round(latency * board.active_mw, 3)
        out["energy_error_pct"] = out["latency_error_pct"] + energy_spread_pct()
    return out
