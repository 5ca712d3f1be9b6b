"""C code generation: a graph to a dependency-free C library, its kernels and project files.

``generate(graph, name, dsp)`` returns the library's files; :mod:`edgecraft.codegen.project`
writes them out with a CMake project and an Arduino library; :mod:`edgecraft.codegen.host`
compiles them for this machine and calls them through ctypes.
"""

from edgecraft.codegen.emit import GeneratedModel, generate
from edgecraft.codegen.ops_c import EMITTERS, CodegenError

__all__ = ["EMITTERS", "CodegenError", "GeneratedModel", "generate"]
