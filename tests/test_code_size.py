"""Size limits that keep the code readable: functions fit on a screen, classes have one job.

Lengths are counted without docstrings (a public function's numpydoc text with its examples is
not code to read through).

Numba kernels are exempt: a kernel is one compiled loop over the samples, and splitting it into
calls across ``@njit`` functions costs compile time without making the loop easier to follow.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("firmware_io", "acquisition", "dsp", "classifier", "calfwatch")
MAX_FUNCTION_LINES = 60
MAX_CLASS_LINES = 250


def _is_kernel(path: Path, node: ast.AST) -> bool:
    if not path.name.endswith("_numba.py"):
        return False
    for deco in getattr(node, "decorator_list", []):
        target = deco.func if isinstance(deco, ast.Call) else deco
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if name in ("njit", "jit", "generated_jit", "vectorize", "guvectorize"):
            return True
    return False


def _code_lines(node: ast.AST) -> int:
    """Lines of ``node`` less the lines of its own and its members' docstrings."""
    n_lines = node.end_lineno - node.lineno + 1
    for inner in ast.walk(node):
        body = getattr(inner, "body", None)
        if (isinstance(inner, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and body
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            n_lines -= body[0].end_lineno - body[0].lineno + 1
    return n_lines


def _oversized() -> list[str]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    limit = MAX_FUNCTION_LINES
                elif isinstance(node, ast.ClassDef):
                    limit = MAX_CLASS_LINES
                else:
                    continue
                n_lines = _code_lines(node)
                if n_lines > limit and not _is_kernel(path, node):
                    rel = path.relative_to(ROOT)
                    found.append(f"{rel}:{node.lineno} {node.name} ({n_lines} lines > {limit})")
    return found


def test_functions_and_classes_fit_their_limits() -> None:
    oversized = _oversized()
    if oversized:
        pytest.fail("too long:\n" + "\n".join(oversized))
