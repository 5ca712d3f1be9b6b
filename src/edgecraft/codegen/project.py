"""Write a generated model out as a project a user can build with their usual tools: the sources
under ``src/``, a ``CMakeLists.txt``, and the Arduino library layout (``library.properties``,
``src/``, ``examples/<name>/<name>.ino`` running one inference and printing it over Serial)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from edgecraft.codegen.cwriter import c_type
from edgecraft.codegen.emit import GeneratedModel
from edgecraft.files import OutputError, write_text


def _template(name: str) -> str:
    return resources.files("edgecraft.codegen").joinpath("templates", name).read_text()


def _fill(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    return text


def _sketch(model: GeneratedModel, values: dict[str, str]) -> str:
    many_in, many_out = len(model.inputs) > 1, len(model.outputs) > 1
    buffers, fill, args, prints = [], [], [], []
    for i, t in enumerate(model.inputs):
        var = f"input{i if many_in else ''}"
        buffers.append(f"static {c_type(t.dtype)} {var}[{t.size}];")
        fill.append(f"  for (int i = 0; i < {t.size}; ++i) {var}[i] = "
                    f"({c_type(t.dtype)}){model.name}_input_zero_point({i});")
        args.append(var)
    for i, t in enumerate(model.outputs):
        var = f"output{i if many_out else ''}"
        buffers.append(f"static {c_type(t.dtype)} {var}[{t.size}];")
        args.append(var)
        shown = min(t.size, 32)
        prints.append(f'  Serial.print("{var} ({t.size} values, first {shown}):");\n'
                      f"  for (int i = 0; i < {shown}; ++i) {{\n"
                      f'    Serial.print(" ");\n    Serial.print({var}[i]);\n  }}\n  Serial.println();')
    return _fill(_template("example.ino.txt"), {
        **values, "BUFFERS": "\n".join(buffers), "FILL": "\n".join(fill), "ARGS": ", ".join(args),
        "PRINT": "\n".join(prints)})


def write_project(model: GeneratedModel, out: Path, board: str, core: str, cflags: str = "") -> list[str]:
    """Write the project into ``out``; returns the written paths relative to ``out``."""
    values = {"NAME": model.name, "BOARD": board, "CORE": core, "CFLAGS": cflags or "-mcpu=... -mthumb",
              "ARENA": str(model.arena_bytes)}
    files: dict[str, str] = {f"src/{name}": text for name, text in model.files.items()}
    files["CMakeLists.txt"] = _fill(_template("CMakeLists.txt"), {
        **values, "SOURCES": "\n".join(f"  src/{s}" for s in model.sources)})
    files["library.properties"] = _fill(_template("library.properties.txt"), values)
    files[f"examples/{model.name}/{model.name}.ino"] = _sketch(model, values)
    for rel, text in files.items():  # each file whole or not at all (see edgecraft.files)
        path = out / rel
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise OutputError(f"cannot create folder {path.parent}: {e.strerror or e}") from None
        write_text(path, text)
    return sorted(files)
