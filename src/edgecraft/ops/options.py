"""TFLite builtin-options fields that several ops share (see :class:`~edgecraft.ops.base.Options`).

Each field is ``(attr, Field, kind)``: the IR attribute, the CamelCase flatbuffer field and how
to convert it. :mod:`edgecraft.formats.tflite_options` holds the enum codes and defaults.
"""

from __future__ import annotations

from edgecraft.ops.base import Options

ACTIVATION = ("fused_activation_function", "FusedActivationFunction", "activation")
PADDING = ("padding", "Padding", "padding")
STRIDES = (("stride_w", "StrideW", "int"), ("stride_h", "StrideH", "int"))
DILATION = (("dilation_w_factor", "DilationWFactor", "int"), ("dilation_h_factor", "DilationHFactor", "int"))
#: AVERAGE_POOL_2D and MAX_POOL_2D.
POOL = Options("Pool2DOptions", (PADDING, *STRIDES, ("filter_width", "FilterWidth", "int"),
                                 ("filter_height", "FilterHeight", "int"), ACTIVATION))
#: The bias type a 16x8 CONV_2D / FULLY_CONNECTED without a bias accumulates as (TensorType).
QUANTIZED_BIAS_TYPE = ("quantized_bias_type", "QuantizedBiasType", "int")
#: ADD and SUB.
ADD_SUB_FIELDS = (ACTIVATION, ("pot_scale_int16", "PotScaleInt16", "bool"))
