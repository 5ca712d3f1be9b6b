"""Fleet operations: a server that knows every device and model version, ships signed model
updates in stages with gates and automatic rollback, and collects telemetry; and the device agent.

Modules: :mod:`store` and :mod:`schema` (SQLite or PostgreSQL), :mod:`artifacts` (pack, sign,
verify, weights-only deltas), :mod:`rollouts` (stages, gates, rollback; state in the database),
:mod:`mqtt` (broker auth files, a local mosquitto, the server's bridge), :mod:`service` and
:mod:`server` (FastAPI and the dashboard), :mod:`client` (the admin API for the CLI),
:mod:`agent` and :mod:`slots` (a device with A/B slots), :mod:`sim` (a sensor task and swarms).
"""
