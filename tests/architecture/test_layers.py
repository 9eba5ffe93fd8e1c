"""Arrows one way: every module of our apps sits in one layer and imports only its own layer or lower ones.

The layers, top to bottom (docs/architecture.md, "Layers"):

    wiring   settings, root URLs, app configs, Celery app
    web      views, URLs, forms, template tags, middleware, admin, the tenant wall
    entry    Celery tasks, management commands, the benchmark, queueing work for the worker
    services what pages and e-mails show (presenters), mapping choices, reconciliation, e-mails
    engine   connector/sync and the mapping work it does during a run
    clients  Procurify, QuickBooks, HTTP, the SSRF guard, OAuth, metering, plain e-mail sending
    domain   models, errors, money, registries, pure rules

`sandbox/` imports nothing from our apps. Imports are read with `ast`, at module level and inside functions
(and under `if TYPE_CHECKING:`), so an import hidden in a function to dodge a cycle still counts.
"""

from __future__ import annotations

import ast
import fnmatch
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("accounts", "bench", "config", "connector", "mappings", "tenants")
LAYERS = ("wiring", "web", "entry", "services", "engine", "clients", "domain")

# First match wins: specific names before patterns.
RULES: tuple[tuple[str, str], ...] = (
    ("config.settings", "wiring"),
    ("config.urls", "wiring"),
    ("config.celery", "wiring"),
    ("config.wsgi", "wiring"),
    ("config.asgi", "wiring"),
    ("*.apps", "wiring"),
    ("*.urls", "web"),
    ("*_urls", "web"),
    ("*.views", "web"),
    ("*_views", "web"),
    ("*.forms", "web"),
    ("*_forms", "web"),
    ("*.templatetags.*", "web"),
    ("*.context_processors", "web"),
    ("*.middleware", "web"),
    ("*.admin", "web"),
    ("tenants.access", "web"),
    ("config.errors", "web"),
    ("config.health", "web"),
    ("config.security_headers", "web"),
    ("config.access_log", "web"),
    ("*.tasks", "entry"),
    ("*.management.commands.*", "entry"),
    ("bench", "wiring"),  # a program of its own: builds tenants, starts workers, drives the sandbox
    ("bench.*", "wiring"),
    ("connector.dispatch", "entry"),
    ("mappings.services", "services"),
    ("mappings.mapping_table", "services"),
    ("connector.reconcile_service", "services"),
    ("connector.emails", "services"),
    ("connector.dashboard", "services"),
    ("connector.held_list", "services"),
    ("connector.record_links", "services"),
    ("connector.drift_choices", "services"),
    ("connector.record_page", "services"),
    ("connector.audit_diff", "services"),
    ("connector.record_document", "services"),
    ("connector.finance", "services"),
    ("connector.finder", "services"),
    ("connector.chart", "services"),
    ("connector.held_groups", "services"),
    ("connector.sync.service", "services"),  # runs the pipeline, then the e-mails a run calls for
    ("connector.sync.*", "engine"),
    ("mappings.matching", "engine"),
    ("mappings.dimension_services", "engine"),
    ("mappings.payment_accounts", "engine"),
    ("connector.qbo.*", "clients"),
    ("connector.procurify.*", "clients"),
    ("connector.http", "clients"),
    ("connector.netguard", "clients"),
    ("connector.clients", "clients"),
    ("connector.oauth", "clients"),
    ("connector.client_factory", "clients"),
    ("connector.retry_rules", "clients"),
    ("connector.qbo_tokens", "clients"),
    ("connector.seam", "clients"),
    ("connector.metering", "clients"),
    ("connector.usage_emails", "clients"),
    ("tenants.emails", "clients"),
    ("tenants.connection_emails", "clients"),
    ("*.models", "domain"),
    ("connector.errors", "domain"),
    ("config.secret_names", "domain"),
    ("connector.money", "domain"),
    ("connector.when", "domain"),
    ("connector.kinds", "domain"),
    ("connector.hold_reasons", "domain"),
    ("connector.schedule_days", "domain"),
    ("connector.document_summary", "domain"),
    ("connector.reconcile", "domain"),
    ("connector.routing", "domain"),
    ("connector.activity", "domain"),
    ("mappings.dimension_models", "domain"),
    ("mappings.normalise", "domain"),
    ("mappings.bill_accounts", "domain"),
    ("tenants.fields", "domain"),
    ("tenants.limits", "domain"),
    ("accounts.display", "domain"),
    ("config.env", "domain"),
    ("config.logging", "domain"),
)

# (importer, imported): why the import stays. Keep this short; each line is a debt with an owner.
ALLOWED: dict[tuple[str, str], str] = {
    ("connector.apps", "connector.document_summary"): "Django connects receivers in AppConfig.ready()",
}


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int
    in_function: bool
    type_only: bool


def _modules() -> dict[str, Path]:
    found = {}
    for app in (*APPS, "sandbox"):
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" not in path.parts:
                found[".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")] = path
    return found


MODULES = _modules()


def _resolve(name: str) -> str:
    # `from connector import views` names the module connector.views; `from connector.x import f` names x.
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name


def _targets(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:  # relative: climb from the importing module's package
        package = module.split(".") if is_package else module.split(".")[:-1]
        base = ".".join([*package[: len(package) - node.level + 1], *([base] if base else [])])
    return [f"{base}.{alias.name}" for alias in node.names]


def _walk(
    tree: ast.AST, in_function: bool = False, type_only: bool = False
) -> Iterator[tuple[ast.AST, bool, bool]]:
    for child in ast.iter_child_nodes(tree):
        yield child, in_function, type_only
        inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        guarded = type_only or (isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test))
        yield from _walk(child, inner, guarded)


def imports() -> list[Import]:
    found = []
    for module, path in MODULES.items():
        for node, in_function, type_only in _walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for name in _targets(node, module, path.name == "__init__.py"):
                target = _resolve(name)
                if target and target != module and target.split(".")[0] in (*APPS, "sandbox"):
                    found.append(Import(module, target, node.lineno, in_function, type_only))
    return found


def _ours() -> list[Import]:
    # sandbox/ is checked only for importing nothing of ours: its own structure is its business.
    return [i for i in imports() if i.importer.split(".")[0] in APPS]


def layer_of(module: str) -> str | None:
    return next((layer for pattern, layer in RULES if fnmatch.fnmatchcase(module, pattern)), None)


def _is_placed(module: str) -> bool:
    return module.split(".")[0] == "sandbox" or MODULES[module].name == "__init__.py"


def _show(found: list[Import], why: str = "") -> str:
    return "\n".join(f"  {i.importer} -> {i.imported}  (line {i.line}){why}" for i in found)


def test_every_module_has_a_layer() -> None:
    unplaced = sorted(m for m in MODULES if not _is_placed(m) and layer_of(m) is None)
    assert not unplaced, "Place these modules in a layer (RULES in this file):\n  " + "\n  ".join(unplaced)


def test_nothing_imports_upward() -> None:
    upward = []
    for found in imports():
        if found.importer.split(".")[0] == "sandbox" or (found.importer, found.imported) in ALLOWED:
            continue
        source, target = layer_of(found.importer), layer_of(found.imported)
        if source and target and LAYERS.index(target) < LAYERS.index(source):
            upward.append(found)
    assert not upward, "Upward imports (a lower layer importing a higher one):\n" + "\n".join(
        f"  {i.importer} [{layer_of(i.importer)}] -> {i.imported} [{layer_of(i.imported)}]  (line {i.line})"
        for i in upward
    )


def test_sandbox_imports_nothing_of_ours() -> None:
    ours = [i for i in imports() if i.importer.startswith("sandbox") and not i.imported.startswith("sandbox")]
    assert not ours, "sandbox/ fakes the APIs from their documentation, never from our code:\n" + _show(ours)


def test_no_imports_inside_functions() -> None:
    hidden = [i for i in _ours() if i.in_function and (i.importer, i.imported) not in ALLOWED]
    assert not hidden, (
        "Imports inside functions (usually dodging a cycle; move the shared code down):\n" + _show(hidden)
    )


def test_no_import_cycles() -> None:
    graph: dict[str, set[str]] = {}
    for found in _ours():
        if not found.type_only and (found.importer, found.imported) not in ALLOWED:
            graph.setdefault(found.importer, set()).add(found.imported)
    cycles = [sorted(component) for component in _strongly_connected(graph) if len(component) > 1]
    assert not cycles, "Import cycles:\n" + "\n".join("  " + " <-> ".join(c) for c in cycles)


def test_allowlist_is_still_needed() -> None:
    # An entry earns its place only while its import would fail a check: inside a function, or upward.
    def upward(i: Import) -> bool:
        source, target = layer_of(i.importer), layer_of(i.imported)
        return bool(source and target and LAYERS.index(target) < LAYERS.index(source))

    flagged = {(i.importer, i.imported) for i in imports() if i.in_function or upward(i)}
    stale = sorted(pair for pair in ALLOWED if pair not in flagged)
    assert not stale, f"Drop these from ALLOWED, nothing about the import needs allowing: {stale}"


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative (the graph has a few hundred modules)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []
    for start in list(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    components.append(component)
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph.get(child, ())))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return components


def test_the_check_itself() -> None:
    # A check that sees nothing proves nothing: the rules place what they name, cycles are found.
    assert [layer_of(m) for m in ("connector.views", "connector.sync.engine", "connector.models")] == [
        "web",
        "engine",
        "domain",
    ]
    found = _strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}})
    assert [sorted(c) for c in found if len(c) > 1] == [["a", "b", "c"]]
    assert any(i.in_function for i in imports()), "the AST walk no longer sees imports inside functions"
