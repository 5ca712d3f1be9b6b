"""The message-API ServerApp and ClientApp (Flower venv side; see :mod:`.flower_app`).

Strategies: Flower's ``FedAvg``, ``FedProx`` and ``FedAdam``; a round waits at most
``round_timeout`` seconds and aggregates the replies that came (dropouts and stragglers do not
stall it). Differential privacy: Flower's ``DifferentialPrivacyServerSideFixedClipping`` with its
RDP accountant (client-level, add-or-remove-one neighbours, no sampling amplification claimed).
int8 updates: each client sends ``round(update / scale)`` as int8 per tensor plus the scales; the
:class:`Metered` wrapper (outermost) turns them back into weights before the strategy aggregates.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from flwr.app import Array, ArrayRecord, ConfigRecord, Context, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp
from flwr.serverapp import Grid, ServerApp
from flwr.serverapp.strategy import (
    DifferentialPrivacyServerSideFixedClipping,
    FedAdam,
    FedAvg,
    FedProx,
    Strategy,
)

from edgecraft.federated.flower_app import (
    Bundle,
    client_step,
    evaluate,
    load_arrays,
    payload_bytes,
    quantize_update,
    state_arrays,
    write_progress,
)


def to_record(arrays: dict[str, np.ndarray]) -> ArrayRecord:
    """numpy arrays by name -> an ArrayRecord (order kept)."""
    return ArrayRecord({k: Array(np.ascontiguousarray(v)) for k, v in arrays.items()})


def from_record(rec: ArrayRecord) -> dict[str, np.ndarray]:
    """An ArrayRecord -> numpy arrays by name."""
    return {k: v.numpy() for k, v in rec.items()}


def make_client_app(default_work: str | None = None) -> ClientApp:
    """The ClientApp: trains on its partition (``node_config['partition-id']``) of the work
    directory (``node_config['work']`` on a SuperNode, ``default_work`` in a simulation)."""
    app = ClientApp()

    @app.train()
    def train(msg: Message, context: Context) -> Message:
        work = str(context.node_config.get("work", default_work))
        cid = int(context.node_config.get("partition-id", 0))
        cfg = msg.content["config"]
        rnd = int(cfg["server-round"])
        glob = from_record(msg.content["arrays"])
        mu = float(cfg.get("proximal-mu", 0.0))
        new, n, loss = client_step(work, cid, rnd, glob, mu)
        bcfg = Bundle.get(work).config
        # DP-FedAvg weighs clients equally (the accountant's sensitivity assumes it)
        weight = 1 if bcfg.get("dp") else n
        metrics = MetricRecord({"num-examples": weight, "examples": n, "train-loss": loss})
        content = RecordDict({"metrics": metrics})
        if bcfg.get("update_bits") == 8:
            q, scales = quantize_update({k: new[k] - glob[k] for k in new})
            content["arrays"] = to_record(q)
            content["scales"] = ConfigRecord({k: float(v) for k, v in scales.items()})
        else:
            content["arrays"] = to_record(new)
        return Message(content=content, reply_to=msg)

    return app


class Metered(Strategy):
    """Wraps a strategy: counts replies, failures and bytes per round, and turns int8 updates
    back into float weights before the wrapped strategy aggregates."""

    def __init__(self, inner: Strategy, int8: bool) -> None:
        self.inner, self.int8 = inner, int8
        self.glob: dict[str, np.ndarray] = {}
        self.rounds: dict[int, dict[str, Any]] = {}

    def summary(self) -> None:
        self.inner.summary()

    def configure_train(self, server_round: int, arrays: ArrayRecord, config: ConfigRecord, grid: Grid
                        ) -> Iterable[Message]:
        self.glob = from_record(arrays)
        msgs = list(self.inner.configure_train(server_round, arrays, config, grid))
        self.rounds[server_round] = {
            "sampled": len(msgs),
            "download_bytes_per_client": payload_bytes(arrays.values()),
            "started": time.time(),
        }
        return msgs

    def aggregate_train(self, server_round: int, replies: Iterable[Message]
                        ) -> tuple[ArrayRecord | None, MetricRecord | None]:
        replies = list(replies)
        ok = [m for m in replies if not m.has_error()]
        row = self.rounds[server_round]
        row["results"], row["failures"] = len(ok), row["sampled"] - len(ok)
        row["upload_bytes_per_client"] = (
            int(np.mean([payload_bytes(m.content["arrays"].values()) + 8 * len(m.content.get("scales", {}))
                         for m in ok])) if ok else 0
        )
        if self.int8:
            for m in ok:
                scales = m.content["scales"]
                q = from_record(m.content["arrays"])
                m.content["arrays"] = to_record(
                    {k: self.glob[k] + q[k].astype(np.float32) * np.float32(scales[k]) for k in q}
                )
                del m.content["scales"]
        return self.inner.aggregate_train(server_round, ok)

    def configure_evaluate(self, server_round: int, arrays: ArrayRecord, config: ConfigRecord, grid: Grid
                           ) -> Iterable[Message]:
        return self.inner.configure_evaluate(server_round, arrays, config, grid)

    def aggregate_evaluate(self, server_round: int, replies: Iterable[Message]) -> MetricRecord | None:
        return self.inner.aggregate_evaluate(server_round, replies)


def build_strategy(cfg: dict[str, Any], population: int) -> tuple[Strategy, Any]:
    """The configured strategy (wrapped for DP when asked) and the DP wrapper (or None)."""
    common = {
        "fraction_train": float(cfg["fraction"]),
        "fraction_evaluate": 0.0,
        "min_train_nodes": int(cfg["min_clients"]),
        "min_available_nodes": int(cfg["min_available"]),
    }
    name = cfg["strategy"]
    if name == "fedavg":
        s: Strategy = FedAvg(**common)
    elif name == "fedprox":
        s = FedProx(proximal_mu=float(cfg["mu"]), **common)
    elif name == "fedadam":
        s = FedAdam(eta=float(cfg["server_lr"]), eta_l=float(cfg["lr"]), tau=1e-3, **common)
    else:
        raise ValueError(f"unknown strategy {name!r}")
    dp = None
    if cfg.get("dp"):
        from flwr.supercore.privacy_accounting import (
            NeighboringRelation,
            PrivacyConfig,
            SamplingMethod,
        )
        from flwr.supercore.privacy_accounting.rdp_accountant import RdpAccountant

        accountant = RdpAccountant(
            PrivacyConfig(
                target_delta=float(cfg["dp"]["delta"]),
                population_size=population,
                neighboring_relation=NeighboringRelation.ADD_OR_REMOVE_ONE,
                sampling_method=SamplingMethod.NO_AMPLIFICATION,
            )
        )
        sampled = max(int(population * float(cfg["fraction"])), int(cfg["min_clients"]))
        dp = DifferentialPrivacyServerSideFixedClipping(
            s,
            noise_multiplier=float(cfg["dp"]["noise"]),
            clipping_norm=float(cfg["dp"]["clip"]),
            num_sampled_clients=sampled,
            accountant=accountant,
        )
        s = dp
    return s, dp


def run_server(grid: Grid, work: str | Path) -> None:
    """The ServerApp's main: every round, train on the sampled clients, evaluate the global
    model on the held-out test set, append a progress line; at the end write the results."""
    work = Path(work)
    b = Bundle.get(work)
    cfg = b.config
    net = b.model()
    population = int(cfg.get("population") or b.clients)
    inner, dp = build_strategy(cfg, population)
    strategy = Metered(inner, cfg.get("update_bits") == 8)
    t0 = time.time()
    history: list[dict[str, Any]] = []

    def central(rnd: int, arrays: ArrayRecord) -> MetricRecord:
        load_arrays(net, from_record(arrays))
        loss, acc = evaluate(net, b.test_x, b.test_y)
        row: dict[str, Any] = {"round": rnd, "accuracy": acc, "loss": loss, "time_s": time.time() - t0}
        row.update({k: v for k, v in strategy.rounds.get(rnd, {}).items() if k != "started"})
        if dp is not None and rnd > 0:
            row["epsilon"] = float(dp.privacy_spent().epsilon)
        history.append(row)
        write_progress(work, row)
        return MetricRecord({"accuracy": acc, "loss": loss})

    train_cfg = ConfigRecord({"lr": float(cfg["lr"])})
    result = strategy.start(
        grid,
        to_record(state_arrays(net)),
        num_rounds=int(cfg["rounds"]),
        timeout=float(cfg["round_timeout"]),
        train_config=train_cfg,
        evaluate_fn=central,
    )
    got = result.arrays is not None and len(result.arrays) > 0
    final = from_record(result.arrays) if got else state_arrays(net)
    np.savez(work / "final.npz", **final)  # type: ignore[arg-type]
    _write_result(work, history, time.time() - t0, dp)


def _write_result(work: Path, history: list[dict[str, Any]], seconds: float, dp: Any) -> None:
    import json

    out: dict[str, Any] = {"rounds": history, "time_s": seconds}
    if dp is not None:
        spent = dp.privacy_spent()
        out["privacy"] = {"epsilon": float(spent.epsilon), "delta": float(spent.delta),
                          "releases": int(spent.num_releases), "accountant": str(spent.accounting_method)}
    (work / "result.json").write_text(json.dumps(out, indent=1))


def make_server_app(default_work: str | None = None) -> ServerApp:
    """The ServerApp (its work directory: ``run_config['work']`` or ``default_work``)."""
    app = ServerApp()

    @app.main()
    def main(grid: Grid, context: Context) -> None:
        run_server(grid, str(context.run_config.get("work", default_work)))

    return app
