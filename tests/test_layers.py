"""The house keeps its shape: no import circle, imports go down the layers only, the
numerics never touch presentation libraries, presentation never computes (it imports
neither `model` nor `numerics`), no two packages hold a module of the same name, no
private name is imported across modules, and `import gradscope` stays light.

Imports are read from the source (every `import` statement, at module top or inside a
function: a lazy import that goes the wrong way is still a circle in the design).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "gradscope"

#: The layers, bottom first: a module may import its own layer and the ones before it.
#: (`provenance` reads versions; `cache` stores results; `analysis` composes the numerics;
#: `monitor` watches training through the runs and reports below it.)
LAYERS = ("config", "model", "numerics", "results", "provenance", "cache", "analysis",
          "figures", "text", "report", "runs", "monitor", "cli")
#: Presentation: drawn and written from data (theory reaches it as data or as lookups
#: handed in from above), never by importing the engine.
PRESENTATION_LAYERS = ("figures", "text", "report")
ENGINE = ("model", "numerics", "analysis")
PRESENTATION = ("click", "rich", "matplotlib")
MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Absolute names of everything `path` imports (gradscope modules and third parties)."""
    name = module_name(path)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            for alias in node.names:  # `from . import x` may name a submodule
                found.add(f"{target}.{alias.name}")
    return found


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """Module -> the gradscope modules it imports (only names that are modules)."""
    modules = {module_name(p): p for p in package.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        graph[name] = {m for m in imports_of(path) if m in modules and m != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted.

    A package's `__init__` importing its own submodules is not a circle unless a
    submodule imports the package back."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def layer_of(module: str) -> int | None:
    parts = module.split(".")
    if len(parts) == 1:  # gradscope itself (__init__): the public face, lazily above all
        return None
    return LAYERS.index(parts[1]) if parts[1] in LAYERS else None


def test_cycle_finder_finds_a_planted_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_circle_anywhere() -> None:
    found = cycles(import_graph())
    assert found == [], "import circles: " + "; ".join(" <-> ".join(c) for c in found)


def test_every_module_belongs_to_a_layer() -> None:
    for module in import_graph():
        if module in ("gradscope", "gradscope.__main__"):
            continue
        assert layer_of(module) is not None, f"{module} is in no layer of {LAYERS}"


def test_imports_go_down_the_layers_only() -> None:
    wrong = []
    for module, targets in import_graph().items():
        here = layer_of(module)
        if here is None:
            continue
        for target in targets:
            there = layer_of(target)
            if target == "gradscope":  # `from .. import __version__`
                continue
            if there is None or there > here:
                wrong.append(f"{module} imports {target}")
    assert wrong == [], "\n".join(sorted(wrong))


@pytest.mark.parametrize("layer", ["config", "model", "numerics", "results", "analysis"])
def test_the_engine_never_imports_presentation_libraries(layer: str) -> None:
    paths = [PACKAGE / f"{layer}.py"] if (PACKAGE / f"{layer}.py").exists() else list((PACKAGE / layer).rglob("*.py"))
    for path in paths:
        bad = {m for m in imports_of(path) if m.split(".")[0] in PRESENTATION}
        assert not bad, f"{module_name(path)} imports {sorted(bad)}"


def test_every_module_is_small_and_says_what_it_may_import() -> None:
    for path in PACKAGE.rglob("*.py"):
        if path.name == "__main__.py":
            continue
        text = path.read_text(encoding="utf-8")
        doc = ast.get_docstring(ast.parse(text)) or ""
        assert doc, f"{module_name(path)} opens with no docstring"
        assert "May import" in doc, f"{module_name(path)}: its docstring does not say what it may import"
        lines = text.count("\n")
        assert lines <= MAX_LINES, f"{module_name(path)} has {lines} lines (> {MAX_LINES}): split it"


def test_import_gradscope_and_its_cli_load_no_torch_and_no_matplotlib() -> None:
    code = ("import sys, gradscope, gradscope.cli\n"
            "print(sorted(m for m in ('torch', 'matplotlib', 'rich', 'numpy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def presentation_computing(graph: dict[str, set[str]]) -> list[str]:
    """Imports from presentation (`figures`, `text`, `report`) into the engine."""
    return sorted(f"{m} imports {t}" for m, targets in graph.items() for t in targets
                  if layer_name(m) in PRESENTATION_LAYERS and layer_name(t) in ENGINE)


def layer_name(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def shared_module_names(package: Path = PACKAGE) -> dict[str, list[str]]:
    """Module file names (not `__init__`) held by more than one package, `cli` aside."""
    where: dict[str, list[str]] = {}
    for path in package.rglob("*.py"):
        rel = path.relative_to(package)
        if path.name in ("__init__.py", "__main__.py") or rel.parts[0] == "cli" or len(rel.parts) == 1:
            continue
        where.setdefault(path.stem, []).append(rel.parent.as_posix())
    for path in package.rglob("*"):  # a package shares its name with a module too
        rel = path.relative_to(package)
        if path.is_dir() and (path / "__init__.py").exists() and rel.parts[0] != "cli" and len(rel.parts) > 1:
            where.setdefault(path.name, []).append(rel.parent.as_posix())
    return {name: sorted(dirs) for name, dirs in where.items() if len(dirs) > 1}


def private_imports(package: Path = PACKAGE) -> list[str]:
    """`from x import _name` across modules (a private name is its module's own)."""
    out = []
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        out.append(f"{module_name(path)} imports {alias.name} from {node.module or '.'}")
    return sorted(out)


def test_presentation_never_imports_the_engine() -> None:
    found = presentation_computing(import_graph())
    assert found == [], "\n".join(found)


def test_the_presentation_check_finds_a_planted_import() -> None:
    planted = {"gradscope.figures.x": {"gradscope.numerics.theory"}, "gradscope.text.y": {"gradscope.results"}}
    assert presentation_computing(planted) == ["gradscope.figures.x imports gradscope.numerics.theory"]


def test_no_two_packages_hold_a_module_of_the_same_name(tmp_path: Path) -> None:
    assert shared_module_names() == {}
    for folder in ("a", "b"):  # the check itself finds a planted pair
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "checks.py").write_text("")
    assert shared_module_names(tmp_path) == {"checks": ["a", "b"]}


def test_no_private_name_is_imported_across_modules() -> None:
    found = private_imports()
    assert found == [], "make these public or move them:\n" + "\n".join(found)


def test_every_public_name_resolves() -> None:
    import gradscope

    for name in gradscope.__all__:
        assert getattr(gradscope, name) is not None, name
    for name in ("run_grid", "write_report", "run_experiment", "replot", "decay_figure", "plot_decay"):
        assert name in gradscope.__all__
