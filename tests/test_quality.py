"""The codebase's own standards, checked like any other behaviour: lint, format, types, docs."""

from __future__ import annotations

import ast
import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_ruff_lint() -> None:
    """ruff finds nothing to complain about."""
    done = run("ruff", "check", ".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_format() -> None:
    """The code is formatted as ruff format would write it."""
    done = run("ruff", "format", "--check", ".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_strict() -> None:
    """mypy --strict (configured in pyproject.toml) passes on monitor/."""
    done = run("mypy")
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_test_says_what_it_pins() -> None:
    """Every test function has a one-line docstring naming the behaviour it pins."""
    missing = []
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                doc = ast.get_docstring(node)
                if not doc or "\n" in doc.strip():
                    missing.append(f"{path.name}:{node.lineno} {node.name}")
    assert missing == []


def test_every_module_says_what_it_owns() -> None:
    """Every module of the package opens with a docstring."""
    bare = [
        str(p.relative_to(ROOT))
        for p in sorted((ROOT / "monitor").rglob("*.py"))
        if not ast.get_docstring(ast.parse(p.read_text()))
    ]
    assert bare == []


def readme_commands() -> list[str]:
    block = re.search(r"```(?:sh|bash)\n(.*?)```", (ROOT / "README.md").read_text(), re.DOTALL)
    assert block, "README.md must open with a shell block"
    return [line.split("#")[0].strip() for line in block[1].splitlines() if line.strip()]


def test_readme_opens_with_install_and_test() -> None:
    """README's first block is two commands: install, then the whole test suite."""
    install, test = readme_commands()
    assert install.startswith("python -m pip install") and "[test]" in install
    assert "pytest" in test


def test_ci_runs_the_readme_commands() -> None:
    """.ci/run runs exactly the README's two commands."""
    script = (ROOT / ".ci" / "run").read_text()
    for command in readme_commands():
        assert command in script, command


@pytest.mark.parametrize("name", ["README.md", "CHANGELOG.md", "pyproject.toml", "sources.toml"])
def test_project_files_exist(name: str) -> None:
    """The files the contract and the design card name are present."""
    assert (ROOT / name).is_file()


def _imports(path: object, modules: set[str]) -> set[str]:
    """The package modules a module imports, at any depth of its code but TYPE_CHECKING."""
    found: set[str] = set()

    class Visitor(ast.NodeVisitor):
        def visit_If(self, node: ast.If) -> None:
            test = node.test
            name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", "")
            for child in node.orelse if name == "TYPE_CHECKING" else [*node.body, *node.orelse]:
                self.visit(child)

        def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
            if node.module and node.module.startswith("monitor"):
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    found.add(full if full in modules else node.module)

        def visit_Import(self, node: ast.Import) -> None:
            found.update(a.name for a in node.names if a.name.startswith("monitor"))

    Visitor().visit(ast.parse(path.read_text()))  # type: ignore[attr-defined]
    return found & modules


def test_the_package_has_no_import_cycle() -> None:
    """No module of monitor imports, even lazily, a module that imports it back."""
    files = {}
    for path in (ROOT / "monitor").rglob("*.py"):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        files[name] = path
    graph = {name: _imports(path, set(files)) - {name} for name, path in files.items()}
    cycles = []
    for start in graph:
        stack, seen = [(start, [start])], set()
        while stack:
            node, trail = stack.pop()
            for target in graph[node]:
                if target == start:
                    cycles.append(" -> ".join([*trail, start]))
                elif target not in seen:
                    seen.add(target)
                    stack.append((target, [*trail, target]))
    assert cycles == []
