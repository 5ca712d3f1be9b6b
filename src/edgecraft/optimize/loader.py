"""Load a user's model from ``MODEL.py:FACTORY`` (and optionally a state dict), or refuse an
ONNX file with a message that says what to do."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgecraft.optimize.pt2e import QuantizeError, require_torch

if TYPE_CHECKING:
    import torch


def load_factory(spec: str, weights: str | Path | None = None) -> tuple[torch.nn.Module, Any]:
    """``"path/model.py:factory"`` -> (the model the factory returns, the factory's module).

    The file is imported as a module (its directory goes on ``sys.path`` so it can import its
    neighbours); ``weights`` is a ``torch.save``-d state dict (or whole model) loaded into it.
    """
    if spec.endswith(".onnx") or spec.endswith(".tflite"):
        kind = "ONNX models" if spec.endswith(".onnx") else ".tflite files (already converted)"
        raise QuantizeError(
            f"{spec}: {kind} are not supported here; only PyTorch factories are: give MODEL.py:FACTORY, "
            "a Python file and the name of a function in it that returns the torch.nn.Module"
        )
    path_text, sep, name = spec.rpartition(":")
    if not sep or not path_text.endswith(".py") or not name:
        raise QuantizeError(f"{spec!r}: give the model as MODEL.py:FACTORY (a file, a function in it)")
    path = Path(path_text)
    if not path.is_file():
        raise QuantizeError(f"{path}: no such file (give MODEL.py:FACTORY)")
    require_torch()
    import torch

    mod_name = f"edgecraft_user_{path.stem}"
    loader_spec = importlib.util.spec_from_file_location(mod_name, path)
    if loader_spec is None or loader_spec.loader is None:
        raise QuantizeError(f"{path}: cannot be imported as a Python module")
    module = importlib.util.module_from_spec(loader_spec)
    _torchvision_for(path)
    sys.path.insert(0, str(path.resolve().parent))
    try:
        loader_spec.loader.exec_module(module)
    except Exception as e:
        raise QuantizeError(f"{path}: importing it failed: {type(e).__name__}: {e}") from None
    finally:
        sys.path.pop(0)
    factory = getattr(module, name, None)
    if not callable(factory):
        raise QuantizeError(f"{path} has no function {name!r} (give MODEL.py:FACTORY)")
    model = factory()
    if not isinstance(model, torch.nn.Module):
        raise QuantizeError(f"{spec} returned {type(model).__name__}, not a torch.nn.Module")
    if weights is not None:
        load_weights(model, weights)
    return model.eval(), module


def _torchvision_for(path: Path) -> None:
    """Make ``import torchvision`` work for a model file that uses it (torchvision's CUDA build
    cannot load its compiled extension with the CPU torch; the model definitions need none)."""
    from edgecraft.models.torchvision_models import TorchvisionError, torchvision_models, uses_torchvision

    try:
        source = path.read_text(errors="replace")
    except OSError as e:
        raise QuantizeError(f"{path}: cannot be read ({e.strerror})") from None
    if uses_torchvision(source):
        try:
            torchvision_models()
        except TorchvisionError as e:
            raise QuantizeError(f"{path}: {e}") from None


def load_weights(model: torch.nn.Module, weights: str | Path) -> None:
    """Load a state dict (or a whole saved model's state) from ``weights`` into ``model``."""
    import torch

    try:
        state = torch.load(str(weights), map_location="cpu", weights_only=False)
    except FileNotFoundError:
        raise QuantizeError(f"{weights}: no such weights file") from None
    except Exception as e:
        raise QuantizeError(f"{weights}: not a torch.save file ({type(e).__name__})") from None
    if isinstance(state, torch.nn.Module):
        state = state.state_dict()
    try:
        model.load_state_dict(state)
    except (RuntimeError, TypeError, AttributeError) as e:
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise QuantizeError(f"{weights} does not fit the model: {first}") from None


def input_shape(model: torch.nn.Module, module: Any, given: str | None) -> tuple[int, ...]:
    """The example input shape: ``given`` ("1,1,16,16"), else ``model.input_shape`` or the
    module's ``INPUT_SHAPE``."""
    if given:
        try:
            shape = tuple(int(v) for v in given.replace("x", ",").split(","))
        except ValueError:
            raise QuantizeError(f"--input-shape {given!r}: give integers like 1,1,16,16") from None
    else:
        found = getattr(model, "input_shape", None) or getattr(module, "INPUT_SHAPE", None)
        if found is None:
            raise QuantizeError("the input shape is unknown: pass --input-shape 1,C,H,W (or define "
                                "INPUT_SHAPE in the model file)")
        shape = tuple(int(v) for v in found)
    if any(v <= 0 for v in shape):
        raise QuantizeError(f"input shape {list(shape)} has a dimension <= 0")
    return shape
