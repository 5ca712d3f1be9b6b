"""How each supported op's TFLite builtin options map to IR attributes, both ways.

One table drives the reader and the writer: for every op, the options table's name and its
fields as ``(attr, Field, kind)``. ``Field`` is the CamelCase flatbuffer name (the accessor
``opts.Field()`` and the builder ``<Table>Add<Field>``); ``kind`` says how to convert.
"""

from __future__ import annotations

PADDING = {0: "SAME", 1: "VALID"}
ACTIVATION = {0: "NONE", 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6", 4: "TANH", 5: "SIGN_BIT"}

_ACT = ("fused_activation_function", "FusedActivationFunction", "activation")
_STRIDES = (("stride_w", "StrideW", "int"), ("stride_h", "StrideH", "int"))
_DILATION = (
    ("dilation_w_factor", "DilationWFactor", "int"),
    ("dilation_h_factor", "DilationHFactor", "int"),
)
_POOL = (
    ("padding", "Padding", "padding"),
    *_STRIDES,
    ("filter_width", "FilterWidth", "int"),
    ("filter_height", "FilterHeight", "int"),
    _ACT,
)

#: op name -> (options table name or None, fields)
OPTIONS: dict[str, tuple[str | None, tuple[tuple[str, str, str], ...]]] = {
    "CONV_2D": ("Conv2DOptions", (("padding", "Padding", "padding"), *_STRIDES, _ACT, *_DILATION)),
    "DEPTHWISE_CONV_2D": (
        "DepthwiseConv2DOptions",
        (
            ("padding", "Padding", "padding"),
            *_STRIDES,
            ("depth_multiplier", "DepthMultiplier", "int"),
            _ACT,
            *_DILATION,
        ),
    ),
    "FULLY_CONNECTED": (
        "FullyConnectedOptions",
        (
            _ACT,
            ("weights_format", "WeightsFormat", "int"),
            ("keep_num_dims", "KeepNumDims", "bool"),
            ("asymmetric_quantize_inputs", "AsymmetricQuantizeInputs", "bool"),
        ),
    ),
    "AVERAGE_POOL_2D": ("Pool2DOptions", _POOL),
    "MAX_POOL_2D": ("Pool2DOptions", _POOL),
    "ADD": ("AddOptions", (_ACT, ("pot_scale_int16", "PotScaleInt16", "bool"))),
    "SUB": ("SubOptions", (_ACT, ("pot_scale_int16", "PotScaleInt16", "bool"))),
    "MUL": ("MulOptions", (_ACT,)),
    "RESHAPE": ("ReshapeOptions", (("new_shape", "NewShape", "ints"),)),
    "SQUEEZE": ("SqueezeOptions", (("squeeze_dims", "SqueezeDims", "ints"),)),
    "SOFTMAX": ("SoftmaxOptions", (("beta", "Beta", "float"),)),
    "LOGISTIC": (None, ()),
    "TANH": (None, ()),
    "RELU": (None, ()),
    "RELU6": (None, ()),
    "LEAKY_RELU": ("LeakyReluOptions", (("alpha", "Alpha", "float"),)),
    "HARD_SWISH": ("HardSwishOptions", ()),
    "QUANTIZE": ("QuantizeOptions", ()),
    "DEQUANTIZE": ("DequantizeOptions", ()),
    "CONCATENATION": ("ConcatenationOptions", (("axis", "Axis", "int"), _ACT)),
    "PAD": ("PadOptions", ()),
    "MEAN": ("ReducerOptions", (("keep_dims", "KeepDims", "bool"),)),
    "STRIDED_SLICE": (
        "StridedSliceOptions",
        (
            ("begin_mask", "BeginMask", "int"),
            ("end_mask", "EndMask", "int"),
            ("ellipsis_mask", "EllipsisMask", "int"),
            ("new_axis_mask", "NewAxisMask", "int"),
            ("shrink_axis_mask", "ShrinkAxisMask", "int"),
            ("offset", "Offset", "bool"),
        ),
    ),
    "TRANSPOSE": ("TransposeOptions", ()),
    "MAXIMUM": ("MaximumMinimumOptions", ()),
    "MINIMUM": ("MaximumMinimumOptions", ()),
}

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
    "new_shape": [],
    "squeeze_dims": [],
}


def default_attrs(op_type: str) -> dict[str, object]:
    """All option attributes of ``op_type`` at their TFLite defaults."""
    _, fields = OPTIONS[op_type]
    return {attr: DEFAULTS[attr] for attr, _, _ in fields}
