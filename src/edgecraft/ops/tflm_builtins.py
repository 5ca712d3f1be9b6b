"""Every builtin op TensorFlow Lite Micro registers, with the tensor types its kernels accept.

Source: tensorflow/tflite-micro at commit 90b983c2b3f1480642e040bbd2ddb37b998f3424 (2026-08-20):
the ``Add*`` methods of ``tensorflow/lite/micro/micro_mutable_op_resolver.h`` that register a
``BuiltinOperator_*`` (custom ops such as the signal library are not builtins) and, per op, the
types of input 0 its kernel in ``tensorflow/lite/micro/kernels/`` dispatches on (its ``Eval``
switch or its ``Prepare`` checks). ``int16`` on conv, depthwise, fully connected, transpose conv,
batch matmul, SVDF and LSTM is the 16x8 scheme (int16 activations, int8 weights). Written down
by hand from those files; ``edgecraft ops`` compares edgecraft's op records against it.
"""

from __future__ import annotations

#: TFLM's builtin name -> the types of input 0 its reference kernel supports.
TFLM_BUILTINS: dict[str, tuple[str, ...]] = {
    "ABS": ("float32", "int8", "int16"),
    "ADD": ("float32", "int8", "int16", "int32"),
    "ADD_N": ("float32", "int8"),
    "ARG_MAX": ("float32", "int8"),
    "ARG_MIN": ("float32", "int8"),
    "ASSIGN_VARIABLE": ("float32", "int8", "int16", "int32"),
    "AVERAGE_POOL_2D": ("float32", "int8", "int16"),
    "BATCH_MATMUL": ("float32", "int8", "int16"),
    "BATCH_TO_SPACE_ND": ("float32", "int8"),
    "BROADCAST_ARGS": ("int32", "int64"),
    "BROADCAST_TO": ("float32", "int8", "int16", "int32", "int64", "bool"),
    "CALL_ONCE": ("any",),
    "CAST": ("float32", "int8", "int16", "int32", "uint32", "bool"),
    "CEIL": ("float32",),
    "CONCATENATION": ("float32", "int8", "int16", "int32", "int64", "bool"),
    "CONV_2D": ("float32", "int8", "int16"),
    "COS": ("float32",),
    "CUMSUM": ("float32", "int8"),
    "DEPTH_TO_SPACE": ("float32", "int8"),
    "DEPTHWISE_CONV_2D": ("float32", "int8", "int16"),
    "DEQUANTIZE": ("int8", "int16", "uint8"),
    "DIV": ("float32", "int8", "int32"),
    "DYNAMIC_UPDATE_SLICE": ("float32", "int8", "int16", "int32"),
    "ELU": ("float32", "int8"),
    "EMBEDDING_LOOKUP": ("float32", "int8"),
    "EQUAL": ("float32", "int8", "int32", "int64", "bool"),
    "EXP": ("float32",),
    "EXPAND_DIMS": ("float32", "int8", "int16"),
    "FILL": ("float32", "int8", "int16", "int32", "int64"),
    "FLOOR": ("float32",),
    "FLOOR_DIV": ("float32",),
    "FLOOR_MOD": ("float32",),
    "FULLY_CONNECTED": ("float32", "int8", "int16"),
    "GATHER": ("float32", "int8"),  # int32 is the positions' type: Prepare refuses int32 data
    "GATHER_ND": ("float32", "int8", "int32"),
    "GREATER": ("float32", "int8", "int16", "int32", "int64"),
    "GREATER_EQUAL": ("float32", "int8", "int32", "int64"),
    "HARD_SWISH": ("float32", "int8"),
    "IF": ("any",),
    "L2_NORMALIZATION": ("float32", "int8"),
    "L2_POOL_2D": ("float32",),
    "LEAKY_RELU": ("float32", "int8", "int16"),
    "LESS": ("float32", "int8", "int32", "int64"),
    "LESS_EQUAL": ("float32", "int8", "int32", "int64"),
    "LOG": ("float32",),
    "LOG_SOFTMAX": ("float32", "int8"),
    "LOGICAL_AND": ("bool",),
    "LOGICAL_NOT": ("bool",),
    "LOGICAL_OR": ("bool",),
    "LOGISTIC": ("float32", "int8", "int16"),
    "MAX_POOL_2D": ("float32", "int8", "int16"),
    "MAXIMUM": ("float32", "int8", "int16", "int32", "int64"),
    "MEAN": ("float32", "int8", "int16"),
    "MINIMUM": ("float32", "int8", "int16", "int32", "int64"),
    "MIRROR_PAD": ("float32", "int8", "int32", "int64"),
    "MUL": ("float32", "int8", "int16", "int32"),
    "NEG": ("float32",),
    "NOT_EQUAL": ("float32", "int8", "int32", "int64", "bool"),
    "PACK": ("float32", "int8", "int16", "int32", "int64"),
    "PAD": ("float32", "int8", "int16", "int32"),
    "PADV2": ("float32", "int8", "int16", "int32"),
    "PRELU": ("float32", "int8", "int16"),
    "QUANTIZE": ("float32", "int8", "int16"),
    "READ_VARIABLE": ("float32", "int8", "int16", "int32"),
    "REDUCE_ALL": ("bool",),
    "REDUCE_MAX": ("float32", "int8"),
    "REDUCE_MIN": ("float32", "int8"),
    "RELU": ("float32", "int8", "int16"),
    "RELU6": ("float32", "int8", "int16"),
    "RESHAPE": ("float32", "int8", "int16", "int32", "int64", "bool"),
    "RESIZE_BILINEAR": ("float32", "int8"),
    "RESIZE_NEAREST_NEIGHBOR": ("float32", "int8", "int16"),
    "REVERSE_V2": ("float32", "int8", "int16", "int32", "int64", "uint8", "bool"),
    "ROUND": ("float32",),
    "RSQRT": ("float32", "int8"),
    "SELECT_V2": ("float32", "int8", "int16"),
    "SHAPE": ("float32", "int8", "int16", "int32", "int64", "bool"),
    "SIN": ("float32",),
    "SLICE": ("float32", "int8", "int16", "int32", "bool"),
    "SOFTMAX": ("float32", "int8", "int16"),
    "SPACE_TO_BATCH_ND": ("float32", "int8"),
    "SPACE_TO_DEPTH": ("float32", "int8"),
    "SPLIT": ("float32", "int8", "int16", "int32"),
    "SPLIT_V": ("float32", "int8", "int16", "int32"),
    "SQRT": ("float32",),
    "SQUARE": ("float32",),
    "SQUARED_DIFFERENCE": ("float32", "int8", "int16", "int32"),
    "SQUEEZE": ("float32", "int8", "int16", "int32", "int64", "bool"),
    "STRIDED_SLICE": ("float32", "int8", "int16", "int32", "bool"),
    "SUB": ("float32", "int8", "int16", "int32"),
    "SUM": ("float32", "int8", "int16"),
    "SVDF": ("float32", "int8", "int16"),
    "TANH": ("float32", "int8", "int16"),
    "TRANSPOSE": ("float32", "int8", "int16"),
    "TRANSPOSE_CONV": ("float32", "int8", "int16"),
    "UNIDIRECTIONAL_SEQUENCE_LSTM": ("float32", "int8", "int16"),
    "UNPACK": ("float32", "int8", "int16", "int32"),
    "VAR_HANDLE": ("resource",),
    "WHILE": ("any",),
    "ZEROS_LIKE": ("float32", "int8", "int32", "int64"),
}

#: TFLM's signal library (``signal/micro/kernels/`` at the same commit): custom ops, registered
#: by their custom code, that its audio front ends (the micro_speech audio preprocessor) use,
#: with the types of input 0 each kernel accepts. ``edgecraft ops`` lists them in their own
#: section.
TFLM_SIGNAL_OPS: dict[str, tuple[str, ...]] = {
    "SignalDelay": ("int16",),
    "SignalEnergy": ("int16",),
    "SignalFftAutoScale": ("int16",),
    "SignalFilterBank": ("uint32",),
    "SignalFilterBankLog": ("uint32",),
    "SignalFilterBankSpectralSubtraction": ("uint32",),
    "SignalFilterBankSquareRoot": ("uint64",),
    "SignalFramer": ("int16",),
    "SignalIrfft": ("float32", "int16", "int32"),
    "SignalOverlapAdd": ("float32", "int16"),
    "SignalPCAN": ("uint32",),
    "SignalRfft": ("float32", "int16", "int32"),
    "SignalStacker": ("int16",),
    "SignalWindow": ("int16",),
}

#: Types the sources list that TFLM does not actually run, checked on the installed TFLM (the
#: reference the tests compare with): edgecraft rejects them, as issue 13 asks ("reject what TFLM
#: would crash on or compute wrongly"). ``edgecraft ops`` shows them as ``x`` with the reason.
TFLM_UNUSABLE: dict[tuple[str, str], str] = {
    ("GREATER", "int16"): "TFLM's int16 path reads rescaling parameters its Prepare never sets "
                          "(all-false in one process, all-true in another)",
    ("SVDF", "int16"): "TFLM's SVDF Prepare refuses int16 input",
}
