"""Over-the-air updates on the device: open a command, fetch, verify, install, self-test, commit.

Every command arrives as a signed envelope (:mod:`edgecraft.fleet.commands`). :class:`Ota` opens
it with the server's public key against this device's id and the last command counter it
accepted; a forged, unsigned, replayed or other device's command is refused and reported as
``command_refused`` (with no rollout id: nothing in it is trusted). An accepted counter is
stored (atomically, in the slots' state file) before the command runs.

An install whose version's publish number is below the device's floor is refused (``refused``);
only a signed rollback goes back. Otherwise the install downloads the artifact (a weights-only
delta when offered and applicable), checks its SHA-256 and Ed25519 signature and every file's
hash, writes the inactive slot, runs the manifest's self-test and a run on the device's own data,
then commits, which raises the floor (see :mod:`edgecraft.fleet.slots`). A tampered or unsigned
artifact is refused and reported. Commands are idempotent: installing the active version again,
or rolling back from a version that is not active, only reports.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Protocol

import httpx
import numpy as np

from edgecraft.fleet import artifacts, commands
from edgecraft.fleet.slots import Slots
from edgecraft.fleet.telemetry import DataSource, ModelCache

Report = Callable[[str, "int | None", str, "str | None"], None]


class Fetch(Protocol):
    """How a device gets bytes from the server (the simulator may put something in between)."""

    async def get(self, urls: list[str], path: str, token: str) -> bytes: ...


class Downloader:
    """HTTP downloads from the first server URL that answers, retried while the server restarts.

    At most ``parallel`` downloads run at once for everyone sharing this object (a long queue
    inside httpx's connection pool costs quadratic time).
    """

    def __init__(self, http: httpx.AsyncClient, parallel: int = 16, attempts: int = 30) -> None:
        self.http, self.attempts = http, attempts
        self.slots = asyncio.Semaphore(parallel)

    async def get(self, urls: list[str], path: str, token: str) -> bytes:
        """The body of ``GET base + path``; raises ``httpx.HTTPStatusError`` on a refusal and
        ``ConnectionError`` when no server answered after every attempt."""
        last: Exception | None = None
        for attempt in range(self.attempts):
            for base in urls:
                try:
                    async with self.slots:
                        r = await self.http.get(base + path, headers={"authorization": f"Bearer {token}"})
                    r.raise_for_status()
                    return r.content
                except httpx.HTTPStatusError:
                    raise
                except (OSError, httpx.TransportError) as e:  # server restarting: try again
                    last = e
            await asyncio.sleep(min(0.2 * (attempt + 1), 2.0))
        raise ConnectionError(f"server unreachable: {last}")


class Ota:
    """The update side of one device; ``report(kind, rollout_id, detail, version)`` tells the server."""

    def __init__(
        self,
        device_id: str,
        token: str,
        public_key: str,
        server_urls: list[str],
        slots: Slots,
        fetch: Fetch,
        cache: ModelCache,
        source: DataSource,
        report: Report,
        model_budget_bytes: int = 1 << 20,
    ) -> None:
        self.device_id, self.token, self.public_key = device_id, token, public_key
        self.server_urls = server_urls
        self.slots, self.fetch, self.cache, self.source = slots, fetch, cache, source
        self.report = report
        self.model_budget_bytes = model_budget_bytes
        self.fetched_via = ""

    async def handle(self, message: Any) -> None:
        """Carry out one command message from the broker, or refuse it."""
        try:
            body = commands.open_command(self.public_key, message, self.device_id, self.slots.last_seq)
        except commands.CommandError as e:
            self.report("command_refused", None, str(e), None)
            return
        await asyncio.to_thread(self.slots.accept, message["seq"])
        if body["cmd"] == "install":
            await self.install(body)
        else:
            await self.rollback(body)

    async def _get(self, path: str) -> bytes:
        return await self.fetch.get(self.server_urls, path, self.token)

    async def _fetch(self, cmd: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
        """The verified manifest and model bytes for an install command (delta first, then full)."""
        delta, current = cmd.get("delta"), self.slots.model()
        if (
            isinstance(delta, dict)
            and current is not None
            and delta.get("base") == self.slots.version(self.slots.active)
        ):
            try:
                blob = await self._get(str(delta["url"]))
                artifacts.verify(blob, delta.get("sha256"), delta.get("signature"), self.public_key)
                manifest, files = artifacts.open_artifact(blob)
                model = artifacts.apply_delta(current, manifest, files)
                self.fetched_via = "delta"
                return manifest, model
            except (artifacts.ArtifactError, httpx.HTTPStatusError, KeyError):
                pass  # fall back to the full artifact
        blob = await self._get(str(cmd.get("url")))
        artifacts.verify(blob, cmd.get("sha256"), cmd.get("signature"), self.public_key)
        manifest, files = artifacts.open_artifact(blob)
        self.fetched_via = "full artifact"
        return manifest, files["model.tflite"]

    def self_test(self, manifest: dict[str, Any], model: bytes) -> str:
        """Empty when ``model`` passes: fits the slot, loads, reproduces the manifest's outputs."""
        if artifacts.sha256(model) != manifest["model_sha256"]:
            return "model hash does not match the manifest"
        if len(model) > self.model_budget_bytes:
            return f"model needs {len(model)} bytes; this board's slot holds {self.model_budget_bytes}"
        try:
            interp = self.cache.interpreter(model, manifest["model_sha256"])
            for case in manifest["selftest"]:
                xs = [
                    np.asarray(x, dtype=t.np_dtype)
                    for x, t in zip(case["inputs"], interp.graph.input_tensors(), strict=True)
                ]
                ys = interp.run(xs)
                if any(
                    not np.array_equal(y, np.asarray(e)) for y, e in zip(ys, case["outputs"], strict=True)
                ):
                    return "self-test outputs differ from the published ones"
            interp.run(self.source.sample()[0])  # and on this device's own data
        except Exception as e:
            return f"self-test failed: {type(e).__name__}: {e}"
        return ""

    async def install(self, cmd: dict[str, Any]) -> None:
        """Install ``cmd["version"]`` into the inactive slot and commit it, or report why not."""
        rid, version, vseq = cmd["rollout_id"], cmd["version"], cmd["version_seq"]
        if self.slots.version(self.slots.active) == version:
            self.report("installed", rid, "already active", None)
            return
        if vseq < self.slots.floor:
            self.report(
                "refused",
                rid,
                f"downgrade refused: {version} is publish #{vseq}, below this device's floor "
                f"#{self.slots.floor}; only a signed rollback may go back",
                version,
            )
            return
        try:
            manifest, model = await self._fetch(cmd)
        except (artifacts.ArtifactError, httpx.HTTPStatusError, ConnectionError) as e:
            self.report("refused", rid, str(e).split("\n")[0], version)
            return
        if manifest["version"] != version:
            self.report("refused", rid, "artifact is for another version", version)
            return
        # Slot writes fsync: run them off the loop so a thousand devices need not wait in turn.
        slot = await asyncio.to_thread(self.slots.write_inactive, model)
        problem = self.self_test(manifest, model)
        if problem:
            self.report("install_failed", rid, problem, version)
            return
        await asyncio.to_thread(self.slots.commit, slot, version, model, vseq)
        self.report("installed", rid, f"slot {slot} via {self.fetched_via}", None)

    async def rollback(self, cmd: dict[str, Any]) -> None:
        """Go back from ``cmd["version"]`` to the other slot (which must hold ``cmd["to"]``)."""
        rid, bad = cmd["rollout_id"], cmd["version"]
        if self.slots.version(self.slots.active) == bad:
            to = cmd.get("to")
            ok = await asyncio.to_thread(self.slots.switch_back, to, cmd.get("to_seq"))
            if not ok:
                what = f"model {to}" if to else "model"
                self.report("rollback_failed", rid, f"the other slot holds no intact {what}", bad)
                return
        self.report("rolled_back", rid, f"active {self.slots.version(self.slots.active)}", bad)
