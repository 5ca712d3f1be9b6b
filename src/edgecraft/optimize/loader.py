"""Load a user's model from ``MODEL.py:FACTORY`` (and optionally a state dict), or refuse an
ONNX or .tflite file with a message naming the command that takes it (a model file is not a
``torch.nn.Module``: ``formats.read_model`` reads it as an int8 graph)."""

from __future__ import annotations

import importlib.util
import math
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
    suffix = Path(spec).suffix.lower()
    if suffix in (".onnx", ".tflite"):  # a model file, not a torch.nn.Module: say which command takes it
        first = (f"a float ONNX model is quantized by `edgecraft quantize {spec} --calibration DATA.npy "
                 "--out M.tflite`, an int8 one is read by every model command (run, profile, build, ...)"
                 if suffix == ".onnx" else
                 "a .tflite is already converted: every model command (run, profile, build, ...) takes it")
        raise QuantizeError(f"{spec}: {first}; here give a PyTorch model as MODEL.py:FACTORY (a Python "
                            "file and a function in it that returns the torch.nn.Module)")
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
    try:
        model = factory()
    except Exception as e:
        raise QuantizeError(f"{spec}: the factory raised {type(e).__name__}: {e}") from None
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
    """Load a state dict from ``weights`` into ``model``: a ``torch.save`` file read with
    ``weights_only=True`` (tensors and plain containers only: a pickle that would run code, or
    a whole pickled model, is refused), or a ``.safetensors`` file."""
    import torch

    path = Path(weights)
    if not path.is_file():
        raise QuantizeError(f"{weights}: no such weights file")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state: Any = load_file(str(path), device="cpu")
        else:
            state = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as e:
        if "Unsupported global" in str(e):  # a class or function the pickle would import and call
            raise QuantizeError(
                f"{weights} holds pickled Python objects beyond tensors, which edgecraft refuses to "
                "load (they could run code): save model.state_dict() with torch.save, or use .safetensors"
            ) from None
        raise QuantizeError(f"{weights}: not a torch.save or .safetensors file "
                            f"({type(e).__name__})") from None
    if not isinstance(state, dict):
        raise QuantizeError(f"{weights} holds a {type(state).__name__}, not a state dict (save "
                            "model.state_dict())")
    try:
        model.load_state_dict(state)
    except (RuntimeError, TypeError, AttributeError, ValueError) as e:
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise QuantizeError(f"{weights} does not fit the model: {first}") from None


def parse_shape(text: str) -> tuple[int, ...]:
    """``"1,1,16,16"`` (or ``1x1x16x16``) as a shape of positive sizes whose float32 example
    fits the memory limit; :class:`QuantizeError` otherwise."""
    try:
        shape = tuple(int(v) for v in text.replace("x", ",").split(","))
    except ValueError:
        raise QuantizeError(f"--input-shape {text!r}: give integers like 1,1,16,16") from None
    return _checked(shape)


def _checked(shape: tuple[int, ...]) -> tuple[int, ...]:
    from edgecraft.ir.validate import MEMORY_LIMIT_ENV, memory_limit

    if not shape or any(v <= 0 for v in shape):
        raise QuantizeError(f"input shape {list(shape)} needs at least one dimension, each > 0")
    if math.prod(shape) * 4 > memory_limit():
        raise QuantizeError(f"input shape {list(shape)} needs {math.prod(shape) * 4:,} bytes of float32, "
                            f"over the {memory_limit():,}-byte limit ({MEMORY_LIMIT_ENV} raises it)")
    return shape


def input_shape(model: torch.nn.Module, module: Any, given: str | None) -> tuple[int, ...]:
    """The example input shape: ``given`` ("1,1,16,16"), else ``model.input_shape`` or the
    module's ``INPUT_SHAPE``."""
    if given:
        return parse_shape(given)
    found = getattr(model, "input_shape", None) or getattr(module, "INPUT_SHAPE", None)
    if found is None:
        raise QuantizeError("the input shape is unknown: pass --input-shape 1,C,H,W (or define "
                            "INPUT_SHAPE in the model file)")
    try:
        return _checked(tuple(int(v) for v in found))
    except (TypeError, ValueError):
        raise QuantizeError(f"the model's input shape {found!r} is not a list of integers") from None
