"""How each supported op's TFLite builtin options map to IR attributes, both ways.

Each op's record holds its options table and fields (``OpDef.options``, shared fields in
:mod:`edgecraft.ops.options`); this module holds what the reader and the writer share besides:
the padding and activation enum codes and the defaults of every attribute.
"""

from __future__ import annotations

from edgecraft.ops.registry import find_op

PADDING = {0: "SAME", 1: "VALID"}
ACTIVATION = {0: "NONE", 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6", 4: "TANH", 5: "SIGN_BIT"}


def options_of(op_type: str) -> tuple[str | None, tuple[tuple[str, str, str], ...]]:
    """(options table name or None, fields) of ``op_type``; (None, ()) for an unknown op."""
    op = find_op(op_type)
    return (op.options.table, op.options.fields) if op is not None else (None, ())


#: Defaults the writer and op kernels assume when a model leaves a field out.
DEFAULTS: dict[str, object] = {
    "padding": "SAME",
    "stride_w": 1,
    "stride_h": 1,
    "dilation_w_factor": 1,
    "dilation_h_factor": 1,
    "depth_multiplier": 1,
    "fused_activation_function": "NONE",
    "weights_format": 0,
    "keep_num_dims": False,
    "asymmetric_quantize_inputs": False,
    "quantized_bias_type": 0,  # TensorType FLOAT32: TFLM's 16x8 kernels then sum in int64
    "pot_scale_int16": True,
    "beta": 1.0,
    "alpha": 0.2,
    "axis": 0,
    "keep_dims": False,
    "begin_mask": 0,
    "end_mask": 0,
    "ellipsis_mask": 0,
    "new_axis_mask": 0,
    "shrink_axis_mask": 0,
    "offset": False,
    "filter_width": 1,
    "filter_height": 1,
    "block_size": 0,
    "mode": 0,
    "align_corners": False,
    "half_pixel_centers": False,
    "new_shape": [],
    "squeeze_dims": [],
    "num_splits": 0,
    "values_count": 0,
    "num": 0,
    "batch_dims": 0,
    "adj_x": False,
    "adj_y": False,
    "rank": 0,
    "exclusive": False,
    "reverse": False,
    "cell_clip": 0.0,
    "proj_clip": 0.0,
    "time_major": False,
    "diagonal_recurrent_tensors": False,
    "container": "",  # VAR_HANDLE
    "shared_name": "",
    "init_subgraph_index": 0,  # CALL_ONCE, IF, WHILE: indices of the model's subgraphs
    "then_subgraph_index": 0,
    "else_subgraph_index": 0,
    "cond_subgraph_index": 0,
    "body_subgraph_index": 0,
    "output_type": 2,  # ARG_MAX/ARG_MIN: TensorType INT32, the only one TFLM writes
}


def default_attrs(op_type: str) -> dict[str, object]:
    """All option attributes of ``op_type`` at their TFLite defaults."""
    _, fields = options_of(op_type)
    return {attr: DEFAULTS[attr] for attr, _, _ in fields}
