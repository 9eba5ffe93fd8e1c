"""Clients are built only by connector/clients.py and handed down (issue 13): nothing imports that module
inside a function to dodge a cycle, and the layers below it (the seam, the QBO refresh path, the factory's
shape) never import it or the OAuth flows above it."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("config", "connector", "mappings", "tenants", "accounts", "sandbox", "tests")
BELOW_THE_FACTORY = ("connector/seam.py", "connector/qbo_tokens.py", "connector/client_factory.py")


def _imported(node: ast.AST) -> set[str]:
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names}
    if isinstance(node, ast.ImportFrom) and node.module:
        return {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return set()


def _function_level_imports(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(function):
                found |= _imported(node)
    return found


def _names(imported: set[str], *modules: str) -> set[str]:
    return {name for name in imported if any(name == m or name.startswith(f"{m}.") for m in modules)}


def test_nothing_imports_the_client_factories_inside_a_function() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if _names(_function_level_imports(ast.parse(path.read_text(), str(path))), "connector.clients")
    ]
    assert offenders == []


def test_the_layers_below_the_factory_do_not_import_it() -> None:
    for relative in BELOW_THE_FACTORY:
        tree = ast.parse((ROOT / relative).read_text(), relative)
        imported = set().union(*(_imported(node) for node in ast.walk(tree)))
        assert not _names(imported, "connector.clients", "connector.oauth"), relative
