"""Graph IR: tensors, operators, graphs and their validator."""

from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ir.graph import DTYPES, Graph, Operator, Quantization, Tensor
from edgecraft.ir.validate import GraphError, validate

__all__ = [
    "DTYPES", "Graph", "GraphBuilder", "GraphError", "Operator", "Quantization", "Tensor", "qparams",
    "validate",
]
