"""Federated learning across the fleet, on Flower.

Two sides, two virtual environments (Flower 1.42 pins protobuf, typer, rich and fastapi below
edgecraft's; see docs/architecture.md):

- edgecraft's side (this venv): :mod:`.partition` makes non-IID client data from an
  application's generator, :mod:`.bundle` writes a work directory (config, data, TorchScript
  model), :mod:`.runner` starts Flower's processes in ``.venv-flower`` and follows their
  progress, :mod:`.simulate` and :mod:`.deploy` are ``edgecraft fl simulate`` and ``fl run``,
  :mod:`.release` quantizes the result and rolls it out through the fleet.
- Flower's side (``.venv-flower``, imports only numpy, torch and flwr): :mod:`.flower_app`,
  :mod:`.flower_server` (message-API strategies, DP), :mod:`.flower_secagg` (SecAgg+),
  :mod:`.flower_sim` (the simulation entry point).
"""
