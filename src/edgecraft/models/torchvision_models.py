"""torchvision's model definitions without torchvision's compiled extension.

The torchvision wheel that installs here offline is a CUDA build: its ``_C`` extension does not
load with the CPU build of torch, so ``import torchvision`` fails inside its ``__init__``
("operator torchvision::nms does not exist"). The model definitions
(``torchvision/models/*.py``) are plain PyTorch and need none of it. :func:`torchvision_models`
returns ``torchvision.models`` either way: through the normal import when it works, otherwise by
registering ``torchvision`` as a bare package (its ``__init__`` not run) and importing
``torchvision.models`` from it. Detection models that call torchvision's compiled ops (NMS,
RoIAlign) still fail when run; the classification families do not use them.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any


class TorchvisionError(ImportError):
    """torchvision is missing or its model definitions cannot be imported; the message says why."""


def torchvision_models() -> Any:
    """The ``torchvision.models`` module, usable with the CPU build of torch."""
    loaded = sys.modules.get("torchvision.models")
    if loaded is not None:
        return loaded
    spec = importlib.util.find_spec("torchvision") if "torchvision" not in sys.modules else None
    if "torchvision" not in sys.modules and spec is None:
        raise TorchvisionError("torchvision is not installed: pip install torchvision==0.28.0 "
                               "(or install edgecraft's optimize extra with constraints.txt)")
    try:
        import torchvision

        return torchvision.models
    except Exception:  # the compiled extension does not load: fall back to the bare package
        for name in [n for n in sys.modules if n == "torchvision" or n.startswith("torchvision.")]:
            del sys.modules[name]
    spec = spec or importlib.util.find_spec("torchvision")
    if spec is None or not spec.submodule_search_locations:
        raise TorchvisionError("torchvision is installed but not as a package directory")
    package = types.ModuleType("torchvision")
    package.__path__ = list(spec.submodule_search_locations)
    package.__spec__ = spec
    package.__file__ = spec.origin
    sys.modules["torchvision"] = package
    try:
        models = importlib.import_module("torchvision.models")
    except Exception as e:
        del sys.modules["torchvision"]
        raise TorchvisionError(f"torchvision.models cannot be imported even without torchvision's "
                               f"compiled extension ({type(e).__name__}: {e})") from None
    package.models = models  # type: ignore[attr-defined]  # `torchvision.models` after `import torchvision`
    return models


def uses_torchvision(source: str) -> bool:
    """Whether Python ``source`` imports torchvision (a plain text test, no execution)."""
    return any(line.lstrip().startswith(("import torchvision", "from torchvision"))
               for line in source.splitlines())
