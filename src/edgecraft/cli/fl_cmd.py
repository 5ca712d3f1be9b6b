"""``edgecraft fl``: federated learning on Flower. ``fl simulate DIR`` runs thousands of virtual
clients on Flower's simulation engine; ``fl run DIR --fleet STATE`` trains on the fleet's
Linux-class devices through a SuperLink and SuperNodes and can roll the result out."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from edgecraft.cli.common import FORMAT_OPTION, Format, UserError, console, print_json

app = typer.Typer(help="Federated learning on Flower: simulate, or run across the fleet.",
                  no_args_is_help=True)

DirArg = Annotated[Path, typer.Argument(help="An application directory (see `edgecraft app new`).",
                                        show_default=False)]


def _user_errors() -> tuple[type[Exception], ...]:
    from edgecraft.apps.data import DataError
    from edgecraft.apps.spec import SpecError
    from edgecraft.federated.runner import FlowerMissing

    return SpecError, DataError, FlowerMissing, ValueError


@contextmanager
def _progress(rounds: int, show: bool) -> Iterator[Callable[[dict[str, Any]], None]]:
    """A per-round progress bar (accuracy, clients answered, epsilon) fed by progress rows."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    cols = (TextColumn("federated"), BarColumn(), TextColumn("round {task.completed}/{task.total}"),
            TextColumn("{task.fields[info]}"), TimeElapsedColumn())
    with Progress(*cols, console=console, disable=not show) as bar:
        task = bar.add_task("fl", total=rounds, info="starting Flower")

        def on_row(row: dict[str, Any]) -> None:
            info = f"accuracy {row['accuracy']:.3f}"
            if "results" in row:
                info += f", {row['results']}/{row['sampled']} clients"
            if "epsilon" in row:
                info += f", epsilon {row['epsilon']:.2f}"
            bar.update(task, completed=row["round"], info=info)

        yield on_row


def _settings(**kw: Any) -> Any:
    from edgecraft.federated.simulate import FlSettings

    s = FlSettings(**kw)
    try:
        s.check()
    except ValueError as e:
        raise UserError(str(e)) from None
    return s


def simulate(
    directory: DirArg,
    clients: Annotated[int, typer.Option("--clients", help="Virtual clients (one person/voice each).")] = 100,
    rounds: Annotated[int, typer.Option("--rounds", help="Federated rounds.")] = 10,
    strategy: Annotated[str, typer.Option("--strategy", help="fedavg, fedprox or fedadam.")] = "fedavg",
    fraction: Annotated[float, typer.Option("--fraction", help="Share of clients sampled per round.")] = 0.1,
    seed: Annotated[int, typer.Option("--seed", help="Seed of partitions, sampling and training.")] = 0,
    local_epochs: Annotated[int, typer.Option("--local-epochs", help="Epochs on each client per round.")] = 2,
    dp_noise: Annotated[float | None, typer.Option(
        "--dp-noise", help="Differential privacy: Gaussian noise multiplier (server-side clipping).")] = None,
    dp_clip: Annotated[float, typer.Option("--dp-clip", help="DP clipping norm of each update.")] = 1.0,
    secagg: Annotated[bool, typer.Option("--secagg", help="Secure aggregation (Flower's SecAgg+).")] = False,
    update_bits: Annotated[int, typer.Option("--update-bits", help="32 (float) or 8 (int8 updates).")] = 32,
    dropout: Annotated[float, typer.Option("--dropout", help="Chance a sampled client fails a round.")] = 0.0,
    straggle: Annotated[float, typer.Option(
        "--straggle", help="Chance a client answers after the timeout.")] = 0.0,
    round_timeout: Annotated[float, typer.Option("--round-timeout", help="Seconds a round waits.")] = 120.0,
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Federated training of DIRECTORY's model on Flower's simulation engine (Ray)."""
    from edgecraft.federated.simulate import simulate as run

    s = _settings(clients=clients, rounds=rounds, strategy=strategy, fraction=fraction, seed=seed,
                  local_epochs=local_epochs, dp_noise=dp_noise, dp_clip=dp_clip, secagg=secagg,
                  update_bits=update_bits, dropout=dropout, straggle=straggle, round_timeout=round_timeout)
    if not (directory / "app.toml").exists():
        raise UserError(f"{directory} is not an application directory (no app.toml)")
    try:
        with _progress(rounds, fmt is not Format.json) as on_row:
            result = run(directory, s, on_row=on_row)
    except _user_errors() as e:
        raise UserError(str(e)) from None
    _show(result, fmt)


def _show(result: dict[str, Any], fmt: Format) -> None:
    if fmt is Format.json:
        print_json(result)
        return
    t = Table(title="federated rounds (accuracy on people never seen)", title_justify="left")
    for col in ("round", "accuracy", "loss", "clients", "upload B/client", "epsilon"):
        t.add_column(col, justify="right")
    for r in result["rounds"]:
        t.add_row(str(r["round"]), f"{r['accuracy']:.3f}", f"{r['loss']:.3f}",
                  f"{r.get('results', '-')}/{r.get('sampled', '-')}",
                  f"{r.get('upload_bytes_per_client', '-'):,}" if "upload_bytes_per_client" in r else "-",
                  f"{r['epsilon']:.2f}" if "epsilon" in r else "-")
    console.print(t)
    b = result["bytes_per_round"]
    console.print(f"{result['strategy']}, {result['clients']} clients, "
                  f"{result['sampled_per_round']} per round: "
                  f"accuracy {result['metrics']['accuracy']:.3f}; per client per round "
                  f"{b['upload_per_client']:,} B up, {b['download_per_client']:,} B down")
    if "privacy" in result:
        p = result["privacy"]
        console.print(f"differential privacy: epsilon {p['epsilon']:.2f} at delta {p['delta']:g}")
    console.print(f"weights {result['weights']}")


app.command("simulate")(simulate)


def run(
    directory: DirArg,
    fleet: Annotated[Path, typer.Option("--fleet", help="The fleet server's state directory.")],
    credentials: Annotated[list[Path] | None, typer.Option(
        "--credentials", help="Device credentials from `edgecraft fleet provision` (repeatable).")] = None,
    rounds: Annotated[int, typer.Option("--rounds", help="Federated rounds.")] = 5,
    strategy: Annotated[str, typer.Option("--strategy", help="fedavg, fedprox or fedadam.")] = "fedavg",
    fraction: Annotated[float, typer.Option("--fraction", help="Share of devices sampled per round.")] = 1.0,
    seed: Annotated[int, typer.Option("--seed", help="Seed of partitions and training.")] = 0,
    local_epochs: Annotated[int, typer.Option("--local-epochs", help="Epochs on each device per round.")] = 2,
    dp_noise: Annotated[float | None, typer.Option("--dp-noise", help="DP noise multiplier.")] = None,
    dp_clip: Annotated[float, typer.Option("--dp-clip", help="DP clipping norm.")] = 1.0,
    update_bits: Annotated[int, typer.Option("--update-bits", help="32 (float) or 8 (int8 updates).")] = 32,
    round_timeout: Annotated[float, typer.Option("--round-timeout", help="Seconds a round waits.")] = 300.0,
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Federated training on the fleet's Linux-class devices: a SuperLink beside the fleet server,
    one authenticated SuperNode per device (microcontrollers only infer and are skipped)."""
    from edgecraft.federated.deploy import run_fleet
    from edgecraft.fleet.client import FleetError

    s = _settings(clients=2, rounds=rounds, strategy=strategy, fraction=fraction, seed=seed,
                  local_epochs=local_epochs, dp_noise=dp_noise, dp_clip=dp_clip, update_bits=update_bits,
                  round_timeout=round_timeout)
    if not (directory / "app.toml").exists():
        raise UserError(f"{directory} is not an application directory (no app.toml)")
    creds = credentials or [Path("devices.json")]
    for c in creds:
        if not c.exists():
            raise UserError(f"--credentials {c} not found; create devices with `edgecraft fleet provision`")
    errors: tuple[type[Exception], ...] = (*_user_errors(), FleetError)
    try:
        with _progress(rounds, fmt is not Format.json) as on_row:
            result = run_fleet(directory, fleet, creds, s, on_row=on_row)
    except errors as e:
        raise UserError(str(e)) from None
    if fmt is Format.json:
        print_json(result)
        return
    _show(result, fmt)
    console.print(f"trained on {len(result['devices'])} devices: "
                  + ", ".join(f"{d['id']} ({d['board']})" for d in result["devices"]))
    if result["skipped"]:
        console.print(f"skipped {len(result['skipped'])}: "
                      + ", ".join(f"{d['id']} ({d['why']})" for d in result["skipped"]))


app.command("run")(run)


def release_cmd(
    directory: DirArg,
    weights: Annotated[Path, typer.Option(
        "--weights", help="Aggregated weights (`weights` from fl simulate/run).")],
    fleet: Annotated[Path, typer.Option("--fleet", help="The fleet server's state directory.")],
    version: Annotated[str, typer.Option("--version", help="The new model version.")],
    gate: Annotated[str, typer.Option("--gate", help="Rollout gate.")] = "error_rate<0.02,accuracy_drop<0.03",
    canary: Annotated[str, typer.Option("--canary", help="Canary share first, e.g. 5%.")] = "",
    stages: Annotated[str, typer.Option("--stages", help="Stages in percent.")] = "50,100",
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Wait until the rollout ends.")] = True,
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Quantize the aggregated model to int8, publish it as a signed version and roll it out in
    stages behind the gate (a worse model is stopped and rolled back)."""
    import numpy as np

    from edgecraft.federated.release import release
    from edgecraft.fleet.client import FleetError
    from edgecraft.fleet.records import BadRequest

    if not (directory / "app.toml").exists():
        raise UserError(f"{directory} is not an application directory (no app.toml)")
    if not weights.exists():
        raise UserError(f"--weights {weights} not found (fl simulate/run write final.npz)")
    try:
        with np.load(weights) as w:
            arrays = {k: w[k] for k in w.files}
    except (OSError, ValueError) as e:
        raise UserError(f"--weights {weights}: not an .npz of weights ({e})") from None
    errors: tuple[type[Exception], ...] = (*_user_errors(), FleetError, BadRequest)
    try:
        result = release(directory, arrays, fleet, version, gate=gate, canary=canary, stages=stages,
                         wait=wait)
    except errors as e:
        raise UserError(str(e)) from None
    if fmt is Format.json:
        print_json(result)
        return
    r = result["rollout"]
    console.print(f"{version}: int8 accuracy {result['int8_accuracy']:.3f} on held-out people, "
                  f"{result['bytes']:,} B; rollout {r.get('id')} {r.get('state')}")


app.command("release")(release_cmd)
