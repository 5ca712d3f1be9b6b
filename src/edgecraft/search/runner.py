"""``run_search(DIR, board)``: hardware-aware search over an application on Ray Tune.

1. Candidates: the template's default, then a seeded draw from the space (:mod:`.space`).
2. Before training, each is measured on the board (:func:`.trial.measure`, as Ray tasks) in
   draw order until ``trials`` of them fit; those that do not fit are counted and never trained.
3. The ones that fit train as Tune trials (one CPU each, as many at once as the cluster has
   CPUs), reporting the float model's score on the selection set every epoch to a successive
   halving scheduler that stops weak ones early, deciding in draw order so that a seed gives
   one result (:mod:`.halving`); each finished trial is made int8, scored and measured
   (:func:`.trial.train_candidate`).
4. The Pareto front (int8 accuracy vs latency, RAM, energy) is written as JSON with its plots.

Everything lives in ``DIR/search`` (``DIR/search-quick`` with ``quick``): ``candidates.json``
(the measured candidates), ``tune/`` (Tune's experiment, which ``resume`` restores),
``models/<id>/`` (each trained candidate's int8 model and result), ``pareto.json`` and the PNGs.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from edgecraft.apps.spec import AppSpec, load_spec
from edgecraft.search import pareto
from edgecraft.search.space import (
    check_searchable,
    default_candidate,
    reference_candidates,
    sample_candidates,
    shape_key,
    smallest_candidate,
)
from edgecraft.search.trial import BUILDS, SearchData, measure, search_data, train_candidate


class SearchError(ValueError):
    """A search that cannot run as asked; the message is one line saying why."""


STATE = "candidates.json"
#: successive halving's reduction factor (half the trials go on at each milestone)
HALVING = 2


def run_search(
    root: str | Path,
    board: str,
    trials: int = 8,
    budget_minutes: float | None = None,
    seed: int = 0,
    address: str | None = None,
    resume: bool = False,
    quick: bool = False,
    progress: bool = True,
    cpus: int | None = None,
) -> dict[str, Any]:
    """Search ``root``'s application for models that fit ``board``; see the module docstring.

    Returns ``trials`` (candidates trained to the end), ``pruned_before_training``, ``pareto``
    (the front's points), ``references`` (the default and MLPerf Tiny's reference architecture
    for the task, trained on the same data: their points, named), and for display ``reference``
    (the default's result, when trained), ``mlperf`` (the MLPerf references' results),
    ``stopped_early``, ``unfinished``, ``results`` (every finished trial) and ``out``."""
    from edgecraft.targets import UnknownBoardError, get_board

    if trials < 1:
        raise SearchError(f"--trials must be at least 1, got {trials}")
    try:
        get_board(board)
    except UnknownBoardError as e:
        raise SearchError(str(e)) from None
    if address:
        _probe(address)
    spec = load_spec(root, quick)
    check_searchable(spec)
    out = spec.root.resolve() / ("search-quick" if quick else "search")  # Tune needs an absolute path
    state = _saved(out, board, trials, seed) if resume else None
    import ray

    started = not ray.is_initialized()
    if started:
        _init_ray(address, cpus)
    try:
        data = search_data(spec)
        if state is None:
            out.mkdir(parents=True, exist_ok=True)
            state = _candidates(spec, data, board, trials, seed, out / BUILDS)
            (out / STATE).write_text(json.dumps(state, indent=2))
        results, unfinished, expired = _tune(spec, data, board, state, out, budget_minutes, resume, progress)
    finally:
        if started:
            ray.shutdown()
    refs = [r for r in results if r["config"].get("default") or r["config"].get("reference")]
    results = [r for r in results if not r["config"].get("reference")]
    best = pareto.front([r for r in results if r["fits"]])  # measured again after training
    plots = (
        pareto.plot(results, best, board, out, "accuracy" if spec.task == "classify" else "ROC AUC", refs)
        if results
        else []
    )
    summary = {
        "trials": len(results),
        "pruned_before_training": state["pruned_before_training"],
        "pareto": [pareto.point(r) for r in best],
        "references": [pareto.reference_point(r) for r in refs],
    }
    (out / "pareto.json").write_text(json.dumps(summary, indent=2))
    ref = [r for r in results if r["config"]["default"]]
    return {
        **summary,
        "reference": ref[0] if ref else None,
        "mlperf": [r for r in refs if r["config"].get("reference")],
        "references_not_fitting": state.get("references_not_fitting", []),
        "unfinished": unfinished,
        "budget_expired": expired,
        "results": results,
        "out": str(out),
        "plots": [str(p) for p in plots],
        "board": board,
        "metric": "accuracy" if spec.task == "classify" else "ROC AUC",
    }


def _saved(out: Path, board: str, trials: int, seed: int) -> dict[str, Any]:
    """The saved search in ``out``, which ``--resume`` continues: SearchError when there is
    none, or when it was started with another ``--target``, ``--seed`` or ``--trials`` (its
    candidates are that search's, so resuming it would not be the search asked for)."""
    if not (out / STATE).is_file():
        raise SearchError(f"nothing to resume: {out / STATE} does not exist (run without --resume first)")
    state: dict[str, Any] = json.loads((out / STATE).read_text())
    saved = {"--target": state["board"], "--seed": state["seed"], "--trials": state.get("trials")}
    asked = {"--target": board, "--seed": seed, "--trials": trials}
    if any(v is not None and v != asked[k] for k, v in saved.items()):
        was = " ".join(f"{k} {v}" for k, v in saved.items() if v is not None)
        now = " ".join(f"{k} {v}" for k, v in asked.items())
        raise SearchError(
            f"{out} holds a search started with {was}, not {now}: resume with {was}, "
            "or run without --resume to start a new search"
        )
    return state


def _probe(address: str) -> None:
    """SearchError at once when nothing listens at a ``HOST:PORT`` address (Ray itself retries
    for minutes); ``auto`` and ``ray://`` addresses are left to Ray."""
    import socket

    host, _, port = address.rpartition(":")
    if address == "auto" or "://" in address or not port.isdigit():
        return
    try:
        socket.create_connection((host or "127.0.0.1", int(port)), timeout=10).close()
    except OSError as e:
        raise SearchError(f"cannot reach the Ray cluster at {address}: {e.strerror or e}") from None


def _init_ray(address: str | None, cpus: int | None) -> None:
    import ray

    quiet: dict[str, Any] = {
        "log_to_driver": False,
        "logging_level": logging.WARNING,
    }
    if address:
        host = address.split("://")[-1].rpartition(":")[0].strip("[]")
        try:
            with _loopback(host in ("localhost", "127.0.0.1", "::1")):  # a cluster on this machine only
                ray.init(address=address, include_dashboard=False, **quiet)
        except (ConnectionError, ValueError, RuntimeError) as e:
            raise SearchError(f"cannot reach the Ray cluster at {address}: {e}") from None
        return
    start_local_ray(cpus or os.cpu_count() or 1, **quiet)


def start_local_ray(cpus: int, **options: Any) -> None:
    """Start a Ray on this machine only: its node address is 127.0.0.1, so the GCS, the raylet,
    the workers and the agents listen on the loopback interface only, and no dashboard.

    ``ray.init(_node_ip_address="127.0.0.1")`` is not enough: Ray replaces a loopback address
    by the machine's outward one and then listens on every interface. It keeps loopback only
    where it does not support clusters (its ``ENABLE_RAY_CLUSTER`` switch, read when the node
    starts), so the switch is off while this node starts."""
    import ray

    os.environ.setdefault("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")
    with _loopback():
        ray.init(num_cpus=cpus, include_dashboard=False, **options)
    ip = ray.util.get_node_ip_address()
    if not ipaddress.ip_address(ip).is_loopback:
        ray.shutdown()
        raise SearchError(f"the local Ray started on {ip}, not 127.0.0.1 only")


@contextmanager
def _loopback(on: bool = True) -> Iterator[None]:
    """Ray's cluster switch off while a node starts or a driver connects (``on``): its address
    is then 127.0.0.1, as a local Ray's is (a driver that takes the machine's outward address
    does not find the raylet of a local Ray)."""
    from ray._private import ray_constants

    was = ray_constants.ENABLE_RAY_CLUSTER
    ray_constants.ENABLE_RAY_CLUSTER = was and not on
    try:
        yield
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = was


def _candidates(
    spec: AppSpec, data: SearchData, board: str, trials: int, seed: int, cache: Path
) -> dict[str, Any]:
    """Measure candidates in draw order (in parallel batches on Ray) until ``trials`` fit and,
    of those, half the non-default ones (rounded down) are no costlier than the default in
    latency and RAM (or the draw runs out): see :func:`choose`."""
    import ray

    cfg = _front_end(spec)
    pool = [default_candidate(spec), *sample_candidates(spec, cfg, max(4 * trials, trials + 8), seed)]
    remote = ray.remote(num_cpus=1)(measure)
    batch = max(1, int(ray.cluster_resources().get("CPU", 1)))
    sample, outputs = data.train.x[:32], len(data.labels)
    floor = ray.get(remote.remote(spec, smallest_candidate(spec, cfg), sample, outputs, board, cache))
    if not floor["fits"]:
        raise SearchError(
            f"no candidate fits {board}: all {len(pool)} candidates pruned before training; even the "
            f"smallest in the space needs {floor['ram_bytes']:,} B RAM of {floor['capacity']['ram_bytes']:,} "
            f"and {floor['flash_bytes']:,} B flash of {floor['capacity']['flash_bytes']:,} "
            "(choose a larger board or a smaller model.size)"
        )
    measured: dict[str, dict[str, Any]] = {}
    fitting: list[dict[str, Any]] = []
    pruned: list[str] = []
    for i in range(0, len(pool), batch):
        chunk = pool[i : i + batch]
        todo = {shape_key(c): c for c in chunk if shape_key(c) not in measured}
        refs = {k: remote.remote(spec, c, sample, outputs, board, cache) for k, c in todo.items()}
        for k, ref in refs.items():
            try:
                measured[k] = ray.get(ref)
            except ray.exceptions.RayTaskError as e:  # a shape the model family cannot take
                measured[k] = {"fits": False, "error": str(e.cause) if e.cause else str(e)}
        for c in chunk:
            m = measured[shape_key(c)]
            if m["fits"]:
                fitting.append({**c, "measured": m})
            else:
                pruned.append(c["id"])
        if len(choose(fitting, trials)) == trials and _cheap(fitting) >= (trials - 1) // 2:
            break
    if not fitting:
        small = min(
            (m for m in measured.values() if "ram_bytes" in m), key=lambda m: m["ram_bytes"], default=None
        )
        need = (
            f"; the smallest needs {small['ram_bytes']:,} B RAM of {small['capacity']['ram_bytes']:,} and "
            f"{small['flash_bytes']:,} B flash of {small['capacity']['flash_bytes']:,}"
            if small
            else ""
        )
        raise SearchError(
            f"no candidate fits {board}: all {len(pruned)} measured candidates were pruned "
            f"before training{need}"
        )
    references: list[dict[str, Any]] = []
    too_big: list[dict[str, Any]] = []
    for c in reference_candidates(spec):  # trained beside the candidates when they fit
        m = ray.get(remote.remote(spec, c, sample, outputs, board, cache))
        (references if m["fits"] else too_big).append({**c, "measured": m})
    return {
        "board": board,
        "seed": seed,
        "trials": trials,
        "candidates": choose(fitting, trials),
        "measured_fitting": len(fitting),
        "references": references,
        "references_not_fitting": [c["reference"] for c in too_big],
        "pruned": pruned,
        "pruned_before_training": len(pruned),
    }


def _no_costlier(c: dict[str, Any], d: dict[str, Any]) -> bool:
    m, n = c["measured"], d["measured"]
    return bool(m["latency_ms"] <= n["latency_ms"] and m["ram_bytes"] <= n["ram_bytes"])


def _cheap(fitting: list[dict[str, Any]]) -> int:
    if not fitting or not fitting[0]["default"]:
        return 0
    return sum(_no_costlier(c, fitting[0]) for c in fitting[1:])


def choose(fitting: list[dict[str, Any]], trials: int) -> list[dict[str, Any]]:
    """The candidates to train, of those that fit (in draw order, the default first): the
    default; up to half the others (rounded down) from those measured no costlier than the
    default in latency and RAM, where a model that dominates it must lie; the rest in draw
    order. Returned in draw order."""
    if not fitting or not fitting[0]["default"]:
        return fitting[:trials]
    d, others = fitting[0], fitting[1:]
    cheap = [c for c in others if _no_costlier(c, d)][: (trials - 1) // 2]
    ids = {c["id"] for c in cheap}
    rest = [c for c in others if c["id"] not in ids][: trials - 1 - len(cheap)]
    ids |= {c["id"] for c in rest}
    return [d, *(c for c in others if c["id"] in ids)]


def _front_end(spec: AppSpec) -> Any:
    from edgecraft.apps.features import front_end

    return front_end(spec)


def _trainable(config: dict[str, Any], spec: AppSpec, data: SearchData, board: str, models: str) -> None:
    """One Tune trial: train the candidate, reporting every epoch, then its int8 result."""
    from ray import tune

    c = config["candidate"]
    r = train_candidate(spec, data, c, board, Path(models) / c["id"], tune.report)
    final = {k: v for k, v in r.items() if k != "config"}
    tune.report({**final, "epoch": r["epochs"] + 1, "score": r["accuracy"], "final": True})


def _tune(
    spec: AppSpec,
    data: SearchData,
    board: str,
    state: dict[str, Any],
    out: Path,
    budget_minutes: float | None,
    resume: bool,
    progress: bool,
) -> tuple[list[dict[str, Any]], int, bool]:
    """Run (or resume) the Tune experiment: the finished results, how many trials did not
    finish (stopped early by successive halving, failed, or cut by the budget or an
    interruption), and
    whether the budget ran out."""
    from ray import tune

    from edgecraft.search.halving import GO, STOP, OrderedHalving
    from edgecraft.search.progress import Budget, LiveProgress

    Budget.set(out, budget_minutes)
    LiveProgress.display = progress
    trainable = tune.with_resources(
        tune.with_parameters(_trainable, spec=spec, data=data, board=board, models=str(out / "models")),
        {"cpu": 1},
    )
    ids, protected, marks = _halving(spec, state)
    path = out / "tune"
    if resume and path.is_dir() and tune.Tuner.can_restore(str(path)):
        tuner = tune.Tuner.restore(str(path), trainable, resume_unfinished=True, resume_errored=True)
    else:
        tuner = tune.Tuner(
            trainable,
            param_space={"candidate": tune.grid_search(grid_of(state))},
            tune_config=tune.TuneConfig(
                scheduler=OrderedHalving(ids, protected, marks, HALVING),
                trial_name_creator=_trial_name,
                trial_dirname_creator=_trial_name,
            ),
            run_config=tune.RunConfig(
                storage_path=str(out),
                name="tune",
                verbose=0,
                callbacks=[Budget(str(out)), LiveProgress(len(grid_of(state)))],
            ),
        )
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # verbose=0 then prints nothing on stdout
    grid = tuner.fit()
    results, unfinished = [], 0
    measured = {c["id"]: c["measured"] for c in grid_of(state)}
    expired = Budget.expired(out)
    fate = _fates(grid, ids, protected, marks, not expired)
    for i in range(len(grid)):
        r = grid[i]
        m = r.metrics or {}
        if m.get("final") and fate.get(m["id"], (GO, None))[0] != STOP:
            cfg = r.config["candidate"] if r.config else {}
            results.append(
                {
                    **m,
                    "config": {k: v for k, v in cfg.items() if k != "measured"},
                    "measured": measured.get(m["id"]),
                }
            )
        else:
            unfinished += 1
    return sorted(results, key=lambda r: r["id"]), unfinished, expired


def _halving(spec: AppSpec, state: dict[str, Any]) -> tuple[list[str], set[str], list[int]]:
    """Successive halving's grid order, protected trials and milestones (epochs)."""
    from edgecraft.search.halving import milestones

    ids = [str(c["id"]) for c in grid_of(state)]
    protected = {
        str(c["id"])
        for c in grid_of(state)
        if c.get("default") or c.get("reference") or trains_as_default(spec, c)
    }
    epochs = spec.training.epochs
    return ids, protected, milestones(max(2, epochs // 3), HALVING, epochs + 1)


def trains_as_default(spec: AppSpec, c: dict[str, Any]) -> bool:
    """Whether the candidate's float training is the default's (same front end, architecture
    and learning rate: it differs only after training, in pruning, QAT or 16x8), so that its
    per-epoch scores are the default's and halving cannot judge it: it is kept like the
    default."""
    from edgecraft.search.space import front_end_choices, own_front_end

    d = default_candidate(spec)
    own = own_front_end(_front_end(spec), front_end_choices(_front_end(spec)))
    same_fe = {**own, **c["front_end"]} == own
    return bool(same_fe and c["arch"] == d["arch"] and c["lr"] == d["lr"] and not c.get("reference"))


def _fates(
    grid: Any, ids: list[str], protected: set[str], marks: list[int], ended: bool
) -> dict[str, tuple[str, Any]]:
    """Halving's decision for every trial from the scores each reported: a trial that finished
    while its decision waited on an earlier one is judged here as if it had waited. ``ended``:
    the experiment ran to its end (not cut by the budget), so every trial reports no more."""
    from edgecraft.search.halving import decide, recorded_scores

    scores: dict[str, dict[int, float]] = {}
    done: set[str] = set()
    for i in range(len(grid)):
        r = grid[i]
        if not r.config:
            continue
        cid = str(r.config["candidate"]["id"])
        frame = r.metrics_dataframe
        rows = frame.to_dict("records") if frame is not None else []
        scores[cid] = recorded_scores(rows, marks)
        if ended or r.error is not None or (r.metrics or {}).get("final"):
            done.add(cid)
    return decide(ids, marks, HALVING, scores, done, protected)


def grid_of(state: dict[str, Any]) -> list[dict[str, Any]]:
    """The trials of a search: its candidates, then the references that fit."""
    return [*state["candidates"], *state.get("references", [])]


def _trial_name(trial: Any) -> str:
    return str(trial.config["candidate"]["id"])
