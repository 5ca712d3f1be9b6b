"""Quantization annotations for what litert-torch's PT2E annotators leave unmarked.

litert-torch annotates convolutions, linear layers, pooling, add, mul, cat, sigmoid and softmax.
Everything else in an exported graph carries no observer, so the converter keeps it in float
between a DEQUANTIZE and a QUANTIZE. :func:`annotate_rest` runs after litert-torch's annotators
and marks, in graph order, the aten calls TFLM has int8 kernels for:

- **Views and copies** (select, slice, unbind, reshape/view, permute/transpose, (un)squeeze,
  flatten, expand, clone): the output shares its input's parameters. TFLM's int8 RESHAPE,
  TRANSPOSE, SLICE, GATHER, UNPACK copy bytes, so different parameters would cost a requantize.
- **stack**: like ``cat``, every input shares the first one's parameters (PACK copies bytes).
- **Fixed-range functions**: ``tanh`` gets TFLM's required int8 output (scale 1/128, zero point
  0), ``sigmoid`` and ``softmax`` 1/256 and -128, whether or not their input was annotated.
- **Arithmetic of activations** (sub, matmul/bmm, mean, sum, rsqrt, div, abs, maximum...):
  inputs and output observed like litert-torch's add and mul (ReLU after a marked op shares it).

Python numbers in ``add``, ``mul``, ``sub`` and ``div`` become float tensor constants first
(:func:`scalars_to_constants`), so they get an int8 constant too. ``split``/``chunk``/``unbind``
return a list, which no annotation reaches: each part read from it becomes a ``slice`` (or
``select``) of its own first (:func:`split_to_slices`), shared like any view, so a part read by
a convolution (ShuffleNet's channel split) costs no requantize of the whole tensor.
"""

from __future__ import annotations

from typing import Any

#: aten op name (schema, no namespace) -> role.
SHARED = ("select", "slice", "unbind", "view", "reshape", "_unsafe_view", "permute", "transpose",
          "t", "unsqueeze", "squeeze", "flatten", "expand", "clone", "contiguous", "alias",
          "max_pool2d", "hardtanh", "relu", "dropout")
STACKED = ("stack",)
FIXED = {"tanh": (1.0 / 128, 0), "sigmoid": (1.0 / 256, -128), "softmax": (1.0 / 256, -128),
         "_softmax": (1.0 / 256, -128)}
COMPUTED = ("sub", "rsub", "add", "mul", "matmul", "bmm", "mean", "sum", "rsqrt", "div", "abs",
            "maximum", "minimum", "leaky_relu")  # TFLM has int8 kernels for these (not EXP, LOG...)


def _name(node: Any) -> str:
    target = node.target
    schema = getattr(target, "_schema", None)
    if schema is not None:
        return str(schema.name).split("::")[-1]
    return getattr(target, "__name__", "")


def _annotated(node: Any) -> bool:
    a = node.meta.get("quantization_annotation")
    return a is not None and a._annotated


def _has_output(node: Any) -> bool:
    a = node.meta.get("quantization_annotation")
    return a is not None and a._annotated and a.output_qspec is not None


def _is_float_tensor(node: Any) -> bool:
    import torch

    val = node.meta.get("val") if hasattr(node, "meta") else None
    return isinstance(val, torch.Tensor) and val.dtype == torch.float32


def _float_inputs(node: Any) -> list[Any]:
    from torch.fx import Node

    args = node.args[0] if _name(node) in STACKED else node.args
    return [a for a in args if isinstance(a, Node) and _is_float_tensor(a)]


def scalars_to_constants(gm: Any) -> None:
    """``add``/``mul``/``sub``/``div``/``rsub`` with a Python number: the number becomes a float
    buffer (a constant the quantizer can observe). litert-torch does this for ``add`` and
    ``mul`` only, and keeps an integer's type: ``x + 1`` (or Python's ``sum()``, which starts
    from 0) then fails in the observer ("histogram_cpu" not implemented for 'Long')."""
    import torch

    aten = torch.ops.aten

    for node in list(gm.graph.nodes):
        if node.op != "call_function" or node.target not in (
                aten.add.Tensor, aten.mul.Tensor, aten.sub.Tensor, aten.div.Tensor, aten.rsub.Scalar):
            continue
        args = list(node.args)
        for i, a in enumerate(args[:2]):
            if isinstance(a, (int, float)) and not isinstance(a, bool):
                name = f"_edgecraft_scalar_{len(list(gm.buffers()))}"
                gm.register_buffer(name, torch.tensor(float(a)))
                with gm.graph.inserting_before(node):
                    args[i] = gm.graph.create_node("get_attr", name, (), {})
        if node.target == aten.rsub.Scalar:  # rsub(x, c) = c - x
            node.target = aten.sub.Tensor
            args[0], args[1] = args[1], args[0]
        node.args = tuple(args)
    gm.recompile()


def split_to_slices(gm: Any) -> int:
    """Each ``operator.getitem`` of ``split``/``split_with_sizes``/``chunk``/``unbind`` becomes
    ``aten.slice`` (``aten.select`` for unbind) of the same tensor: the same values, but now a
    view the annotator shares. Returns how many parts were rewritten."""
    import operator

    import torch

    aten = torch.ops.aten
    splits = (aten.split.Tensor, aten.split_with_sizes.default, aten.chunk.default, aten.unbind.int)
    done = 0
    for node in list(gm.graph.nodes):
        if node.op != "call_function" or node.target not in splits:
            continue
        parts = node.meta.get("val")
        source = node.args[0]
        if not isinstance(parts, (list, tuple)) or not hasattr(source, "meta"):
            continue
        rank = source.meta["val"].dim()
        dim = node.args[1 + (node.target != aten.unbind.int)] if len(node.args) > 1 + (
            node.target != aten.unbind.int) else node.kwargs.get("dim", 0)
        dim %= rank
        starts = [0]
        for p in parts:
            starts.append(starts[-1] + (1 if node.target == aten.unbind.int else p.shape[dim]))
        users = list(node.users)
        if not all(u.op == "call_function" and u.target is operator.getitem for u in users):
            continue
        for u in users:
            i = u.args[1]
            with gm.graph.inserting_before(u):
                if node.target == aten.unbind.int:
                    new = gm.graph.call_function(aten.select.int, (source, dim, i))
                else:
                    new = gm.graph.call_function(aten.slice.Tensor, (source, dim, starts[i], starts[i + 1]))
            new.meta = dict(u.meta)
            u.replace_all_uses_with(new)
            gm.graph.erase_node(u)
            done += 1
        gm.graph.erase_node(node)
    if done:
        gm.recompile()
    return done


def fold_select_of_stack(gm: Any) -> int:
    """``torch.stack(xs, d)[..., i]`` (a ``select`` along the stacked axis with a fixed index,
    e.g. ``y[:, -1]`` on the output of a step-by-step LSTM) is ``xs[i]``: the select reads it
    directly and the stack goes when nothing else reads it. Exact (the same values); it saves
    a PACK of every step and a SLICE. Returns how many selects were folded."""
    import torch

    aten = torch.ops.aten
    done = 0
    for node in list(gm.graph.nodes):
        if node.op != "call_function" or node.target != aten.select.int:
            continue
        stack, dim, index = node.args
        if not hasattr(stack, "target") or stack.target != aten.stack.default or not isinstance(index, int):
            continue
        parts = stack.args[0]
        rank = parts[0].meta["val"].dim() + 1
        axis = stack.args[1] if len(stack.args) > 1 else stack.kwargs.get("dim", 0)
        if dim % rank != axis % rank or not -len(parts) <= index < len(parts):
            continue
        node.replace_all_uses_with(parts[index])
        gm.graph.erase_node(node)
        _erase_dead(gm, stack)
        done += 1
    if done:
        gm.recompile()
    return done


def _erase_dead(gm: Any, node: Any) -> None:
    """Erase ``node`` if nothing reads it, then the calls that only it read."""
    from torch.fx import Node

    if node.op != "call_function" or node.users:
        return
    inputs = [a for a in node.all_input_nodes if isinstance(a, Node)]
    gm.graph.erase_node(node)
    for a in inputs:
        _erase_dead(gm, a)


def annotate_rest(gm: Any, config: Any) -> int:
    """Annotate the unmarked aten calls of ``gm`` (see the module text); returns how many."""
    from torch.fx import Node
    from torchao.quantization.pt2e.quantizer import (
        FixedQParamsQuantizationSpec,
        QuantizationAnnotation,
        SharedQuantizationSpec,
    )

    act = config.input_activation
    done = 0
    for node in gm.graph.nodes:
        if node.op == "placeholder" and node.users and _is_float_tensor(node) and not _annotated(node):
            # one grid for the model's input, read by every consumer (no requantize per reader)
            node.meta["quantization_annotation"] = QuantizationAnnotation(output_qspec=act, _annotated=True)
        if node.op != "call_function" or _annotated(node) or not _is_float_tensor(node):
            continue
        name = _name(node)
        inputs = _float_inputs(node)
        if not inputs and name not in FIXED:
            continue
        if name in SHARED and len(inputs) >= 1:
            src = inputs[0]
            spec = SharedQuantizationSpec(src) if _has_output(src) else act
            shared = SharedQuantizationSpec((src, node))
            node.meta["quantization_annotation"] = QuantizationAnnotation(
                input_qspec_map={src: spec}, output_qspec=shared, _annotated=True)
        elif name in STACKED:
            first = inputs[0]
            first_spec = SharedQuantizationSpec(first) if _has_output(first) else act
            shared = SharedQuantizationSpec((first, node))
            qmap: dict[Node, Any] = {first: first_spec}
            qmap.update({a: shared for a in inputs[1:]})
            node.meta["quantization_annotation"] = QuantizationAnnotation(
                input_qspec_map=qmap, output_qspec=shared, _annotated=True)
        elif name in FIXED:
            scale, zero = FIXED[name]
            fixed = FixedQParamsQuantizationSpec(dtype=act.dtype, scale=scale, zero_point=zero,
                                                 quant_min=-128, quant_max=127, qscheme=act.qscheme)
            node.meta["quantization_annotation"] = QuantizationAnnotation(
                input_qspec_map={a: act for a in inputs}, output_qspec=fixed, _annotated=True)
        elif name in COMPUTED:
            node.meta["quantization_annotation"] = QuantizationAnnotation(
                input_qspec_map={a: act for a in inputs}, output_qspec=act, _annotated=True)
        else:
            continue
        done += 1
    _read_producer_grids(gm)
    return done


def _read_producer_grids(gm: Any) -> None:
    """An input edge whose producer already has an output observer reads that grid: without
    this, a consumer's own input observer (e.g. after SOFTMAX's fixed 1/256) costs a requantize."""
    from torchao.quantization.pt2e.quantizer import QuantizationSpec, SharedQuantizationSpec

    for node in gm.graph.nodes:
        a = node.meta.get("quantization_annotation")
        if a is None or not a._annotated:
            continue
        for arg, spec in list(a.input_qspec_map.items()):
            if isinstance(spec, QuantizationSpec) and _has_output(arg) and arg.op != "get_attr":
                a.input_qspec_map[arg] = SharedQuantizationSpec(arg)
