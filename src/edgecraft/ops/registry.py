"""The one list of supported ops: TFLite builtin name -> the module under ``ops/`` defining it.

Each module exports ``OP``, an :class:`~edgecraft.ops.base.OpDef`. Modules are imported on
first use, so reading a model does not pay for importing every kernel.
"""

from __future__ import annotations

import importlib
from functools import cache

from edgecraft.ir.graph import Graph, Operator
from edgecraft.ops.base import Cost, OpContext, OpDef, OpError

OP_MODULES: dict[str, str] = {
    "ABS": "abs",
    "ADD": "add",
    "ADD_N": "add_n",
    "ARG_MAX": "arg_max",
    "ARG_MIN": "arg_min",
    "ASSIGN_VARIABLE": "assign_variable",
    "AVERAGE_POOL_2D": "average_pool_2d",
    "BATCH_MATMUL": "batch_matmul",
    "BATCH_TO_SPACE_ND": "batch_to_space_nd",
    "BROADCAST_ARGS": "broadcast_args",
    "BROADCAST_TO": "broadcast_to",
    "CALL_ONCE": "call_once",
    "CAST": "cast",
    "CEIL": "ceil",
    "CONCATENATION": "concatenation",
    "CONV_2D": "conv_2d",
    "COS": "cos",
    "CUMSUM": "cumsum",
    "DEPTHWISE_CONV_2D": "depthwise_conv_2d",
    "DEPTH_TO_SPACE": "depth_to_space",
    "DEQUANTIZE": "dequantize",
    "DIV": "div",
    "DYNAMIC_UPDATE_SLICE": "dynamic_update_slice",
    "ELU": "elu",
    "EMBEDDING_LOOKUP": "embedding_lookup",
    "EQUAL": "equal",
    "EXP": "exp",
    "EXPAND_DIMS": "expand_dims",
    "FILL": "fill",
    "FLOOR": "floor",
    "FLOOR_DIV": "floor_div",
    "FLOOR_MOD": "floor_mod",
    "FULLY_CONNECTED": "fully_connected",
    "GATHER": "gather",
    "GATHER_ND": "gather_nd",
    "GREATER": "greater",
    "GREATER_EQUAL": "greater_equal",
    "HARD_SWISH": "hard_swish",
    "IF": "if_op",
    "L2_NORMALIZATION": "l2_normalization",
    "L2_POOL_2D": "l2_pool_2d",
    "LEAKY_RELU": "leaky_relu",
    "LESS": "less",
    "LESS_EQUAL": "less_equal",
    "LOG": "log",
    "LOGICAL_AND": "logical_and",
    "LOGICAL_NOT": "logical_not",
    "LOGICAL_OR": "logical_or",
    "LOGISTIC": "logistic",
    "LOG_SOFTMAX": "log_softmax",
    "MAXIMUM": "maximum",
    "MAX_POOL_2D": "max_pool_2d",
    "MEAN": "mean",
    "MINIMUM": "minimum",
    "MIRROR_PAD": "mirror_pad",
    "MUL": "mul",
    "NEG": "neg",
    "NOT_EQUAL": "not_equal",
    "PACK": "pack",
    "PAD": "pad",
    "PADV2": "padv2",
    "PRELU": "prelu",
    "QUANTIZE": "quantize",
    "READ_VARIABLE": "read_variable",
    "REDUCE_ALL": "reduce_all",
    "REDUCE_MAX": "reduce_max",
    "REDUCE_MIN": "reduce_min",
    "RELU": "relu",
    "RELU6": "relu6",
    "RESHAPE": "reshape",
    "RESIZE_BILINEAR": "resize_bilinear",
    "RESIZE_NEAREST_NEIGHBOR": "resize_nearest_neighbor",
    "REVERSE_V2": "reverse_v2",
    "ROUND": "round",
    "RSQRT": "rsqrt",
    "SELECT_V2": "select_v2",
    "SHAPE": "shape",
    "SIN": "sin",
    "SLICE": "slice",
    "SOFTMAX": "softmax",
    "SPACE_TO_BATCH_ND": "space_to_batch_nd",
    "SPACE_TO_DEPTH": "space_to_depth",
    "SPLIT": "split",
    "SPLIT_V": "split_v",
    "SQRT": "sqrt",
    "SQUARE": "square",
    "SQUARED_DIFFERENCE": "squared_difference",
    "SQUEEZE": "squeeze",
    "STRIDED_SLICE": "strided_slice",
    "SUB": "sub",
    "SUM": "sum",
    "SVDF": "svdf",
    "TANH": "tanh",
    "TRANSPOSE": "transpose",
    "TRANSPOSE_CONV": "transpose_conv",
    "UNIDIRECTIONAL_SEQUENCE_LSTM": "unidirectional_sequence_lstm",
    "UNPACK": "unpack",
    "VAR_HANDLE": "var_handle",
    "WHILE": "while_op",
    "ZEROS_LIKE": "zeros_like",
    # TFLM signal library: custom ops, named by their custom code
    "SignalDelay": "signal_delay",
    "SignalEnergy": "signal_energy",
    "SignalFftAutoScale": "signal_fft_auto_scale",
    "SignalFilterBank": "signal_filter_bank",
    "SignalFilterBankLog": "signal_filter_bank_log",
    "SignalFilterBankSpectralSubtraction": "signal_filter_bank_spectral_subtraction",
    "SignalFilterBankSquareRoot": "signal_filter_bank_square_root",
    "SignalFramer": "signal_framer",
    "SignalIrfft": "signal_irfft",
    "SignalOverlapAdd": "signal_overlap_add",
    "SignalPCAN": "signal_pcan",
    "SignalRfft": "signal_rfft",
    "SignalStacker": "signal_stacker",
    "SignalWindow": "signal_window",
}


def supported_ops() -> list[str]:
    """Names of every supported op, sorted."""
    return sorted(OP_MODULES)


@cache
def get_op(name: str) -> OpDef:
    """The :class:`OpDef` for builtin ``name``; :class:`OpError` naming the supported ops."""
    module = OP_MODULES.get(name)
    if module is None:
        raise OpError(f"unsupported op {name}; supported ops: {', '.join(supported_ops())}")
    op: OpDef = importlib.import_module(f"edgecraft.ops.{module}").OP
    return op


def find_op(name: str) -> OpDef | None:
    """The :class:`OpDef` for builtin ``name``, or None when it is not a supported op (for the
    planner, which also plans graphs of ops it has no kernel for)."""
    return get_op(name) if name in OP_MODULES else None


def op_cost(graph: Graph, op: Operator) -> Cost:
    """The cost of one operator of ``graph``: its op's own rule, ``OpDef.cost``."""
    return get_op(op.type).cost(OpContext(op, graph))


def graph_macs(graph: Graph) -> int:
    """Multiply-accumulates of one inference: ``op_cost(...).macs`` summed over every operator.

    The one place a model's MACs are summed; ``inspect``, ``profile``, ``emulate``, the cost
    model and the power model all report this number."""
    return sum(op_cost(graph, op).macs for op in graph.operators)


def check_shapes(graph: Graph) -> None:
    """Check every operator's declared output shapes against its op's shape rule; the first
    disagreement (or a configuration the rule cannot evaluate) raises :class:`OpError`. A
    model that passes can be planned, run and compiled without surprises in its shapes."""
    for j, op in enumerate(graph.operators):
        want = [tuple(graph.tensors[k].shape) for k in op.outputs]
        try:
            got = [tuple(s) for s in get_op(op.type).shape(OpContext(op, graph))]
        except OpError as e:
            raise OpError(f"operator {j} ({op.type}): {e}") from None
        except (ValueError, IndexError, KeyError, TypeError, ZeroDivisionError, OverflowError) as e:
            # Shape rules read attributes and constants straight from the file: a corrupt model
            # must end in one clear error, whatever the rule tripped over.
            raise OpError(f"operator {j} ({op.type}): invalid configuration: {e}") from None
        if got != want:
            raise OpError(f"operator {j} ({op.type}) declares output shape(s) {want} but its inputs "
                          f"give {got}")
