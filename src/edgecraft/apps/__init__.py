"""Applications: an application is a directory with one spec (``app.toml``): data, front end,
model, training, optimization, target board and streaming post-processing.

- :mod:`~edgecraft.apps.spec`: read and check the spec; :mod:`~edgecraft.apps.templates`: the
  templates ``edgecraft app new KIND DIR`` writes.
- :mod:`~edgecraft.apps.data`: built-in data generators and labelled folders.
- :mod:`~edgecraft.apps.features`, :mod:`~edgecraft.apps.models`,
  :mod:`~edgecraft.apps.training`: front end, model families, the training loop.
- :mod:`~edgecraft.apps.run`: ``train_app`` (data to int8 model, metrics, profile, C build,
  report); :mod:`~edgecraft.apps.use`: ``stream_app`` and ``evaluate_app``.
"""
