"""Operators: one file per op (shape rule, reference kernels, cost) and the registry."""

from edgecraft.ops.base import Cost, OpContext, OpDef, OpError
from edgecraft.ops.registry import get_op, supported_ops

__all__ = ["Cost", "OpContext", "OpDef", "OpError", "get_op", "supported_ops"]
