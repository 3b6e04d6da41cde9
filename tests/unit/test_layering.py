"""DESIGN.md's layering, enforced over the import lines of every module (AST, no imports executed)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from connector.plugins import plugins

REPO = Path(__file__).resolve().parents[2]
ROOT = REPO / "connector"


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import: resolve against the module's package
                base = _module_name(path).split(".")
                base = base[: len(base) - node.level + (1 if path.name == "__init__.py" else 0)]
                found.add(".".join([*base, node.module] if node.module else base))
            elif node.module:
                found.add(node.module)
    return found


MODULES = {
    _module_name(p): _imports(p) for top in ("connector", "sandboxes") for p in sorted((REPO / top).rglob("*.py"))
}

# Every installed provider's package (found through its entry point, no list here).
PROVIDER_PACKAGES = tuple(sorted({plugin.package for plugin in plugins().values()}))
# A provider's `transforms` module is mapping code that lives in the provider's folder (so that a provider is one
# folder): it follows the mapping layer's rules, and the provider's wire code does not import it.
TRANSFORMS = "connector.providers.*.transforms"


def _in_layer(module: str, layer: str) -> bool:
    if layer == TRANSFORMS:
        return module.startswith("connector.providers.") and module.endswith(".transforms")
    if layer == "connector.providers" and module.endswith(".transforms"):
        return False
    return module == layer or module.startswith(layer + ".")


# layer prefix -> forbidden import prefixes
RULES: dict[str, tuple[str, ...]] = {
    "connector.providers": (
        "connector.store",
        "connector.mapping",
        "connector.sync",
        "connector.domain",
        "connector.app",
        "connector.cli",
        "sqlalchemy",
        "sqlmodel",
        *(f"{package}.transforms" for package in PROVIDER_PACKAGES),
    ),
    TRANSFORMS: (
        "connector.store",
        "connector.sync",
        "connector.http",
        "httpx",
        "sqlalchemy",
        "sqlmodel",
        "connector.app",
        "connector.cli",
        *(p for p in PROVIDER_PACKAGES if p.startswith("connector.providers.")),
    ),
    "connector.sync": (
        "httpx",
        "connector.http",
        *PROVIDER_PACKAGES,
        "connector.app",
        "connector.cli",
    ),
    # the reconcile stage sits between pull and store: no wire, no provider, and neither of the stages using it
    "connector.sync.reconcile": (
        "httpx",
        "connector.http",
        "connector.providers",
        "connector.sync.pull",
        "connector.sync.push",
        "connector.sync.engine",
        "connector.sync.backfill",
    ),
    # pull and push both depend on reconcile and on the neutral modules (the write ledger), never on each other
    "connector.sync.pull": ("connector.sync.push",),
    "connector.sync.engine": ("connector.sync.push",),
    "connector.sync.backfill": ("connector.sync.push",),
    "connector.sync.push": ("connector.sync.pull", "connector.sync.engine", "connector.sync.backfill"),
    "connector.sync.ledger": ("connector.sync.pull", "connector.sync.push", "connector.sync.reconcile"),
    "connector.mapping": (
        "connector.store",
        "connector.sync",
        "connector.providers",
        "connector.http",
        "httpx",
        "sqlalchemy",
        "sqlmodel",
        "connector.app",
    ),
    "connector.http": (
        "connector.store",
        "connector.mapping",
        "connector.sync",
        "connector.providers",
        "connector.domain",
        "connector.app",
        "sqlalchemy",
    ),
    "connector.store": (
        "connector.sync",
        "connector.providers",
        "connector.http",
        "connector.mapping",
        "httpx",
        "connector.app",
    ),
    "connector.observability": (
        "connector.providers",
        "connector.sync",
        "connector.mapping",
        "connector.cli",
        "connector.app",
        "sandboxes",
    ),
    # the hooks the HTTP session and the sync engine call: prometheus-client only, cheap to import
    "connector.observability.metrics": (
        "connector.store",
        "connector.http",
        "connector.observability.",
        "sqlalchemy",
        "sqlmodel",
        "httpx",
    ),
    # the canonical shapes use the vocabulary (their leaf) and nothing else of the connector
    "connector.domain": tuple(f"connector.{name}" for name in (
        "store", "sync", "http", "providers", "mapping", "app", "cli", "daemon", "observability", "settings",
        "plugins", "errors", "clock", "money")),
    "connector.vocabulary": ("connector.",),
    "connector.errors": ("connector.",),
    "connector.clock": ("connector.",),
    "connector.money": ("connector.",),
}


def _violations(layer: str, forbidden: tuple[str, ...]) -> list[str]:
    bad = []
    for module, imports in MODULES.items():
        if _in_layer(module, layer):
            for name in imports:
                if any(
                    name == f or name.startswith(f if f.endswith(".") else f + ".") or name == f.rstrip(".")
                    for f in forbidden
                ):
                    bad.append(f"{module} imports {name}")
    return bad


@pytest.mark.parametrize("layer", sorted(RULES), ids=lambda s: s.removeprefix("connector."))
def test_layer_imports_only_point_down(layer: str) -> None:
    assert _violations(layer, RULES[layer]) == []


# SQL lives under connector/store, behind named functions: the layers above it may name a Connection or an Engine (and
# `sync.fits` column types), never build or run a query.
NO_QUERIES = ("connector.sync", "connector.cli", "connector.daemon", "connector.app", "connector.observability")
QUERY_CONSTRUCTS = frozenset({
    "select", "update", "insert", "delete", "text", "func", "and_", "or_", "not_", "bindparam", "exists",
    "literal", "literal_column", "case", "union", "union_all", "tuple_", "null", "true", "false", "join",
    "outerjoin", "Session", "Select", "Update", "Insert", "Delete", "TextClause",
})
QUERY_CALLS = frozenset({"execute", "exec", "exec_driver_sql", "scalars", "scalar_one", "mappings"})


def _query_uses(path: Path) -> list[str]:
    """Query constructs imported from sqlalchemy/sqlmodel, whole-module imports of them, `.execute()`-like calls
    and `__table__` in one module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in ("sqlalchemy", "sqlmodel"):
            found += [f"imports {node.module}.{a.name}" for a in node.names if a.name in QUERY_CONSTRUCTS]
            found += [f"imports {node.module}.{a.name}" for a in node.names if a.name == "*"]
        elif isinstance(node, ast.Import):
            found += [f"imports {a.name}" for a in node.names if a.name.split(".")[0] in ("sqlalchemy", "sqlmodel")]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in QUERY_CALLS:
            found.append(f"calls .{node.func.attr}() on line {node.lineno}")
        elif isinstance(node, ast.Attribute) and node.attr == "__table__":
            found.append(f"reads __table__ on line {node.lineno}")
    return found


def _query_violations(paths: dict[str, Path]) -> list[str]:
    return [
        f"{module} {use}"
        for module, path in paths.items()
        if module.startswith(NO_QUERIES)
        for use in _query_uses(path)
    ]


PATHS = {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def test_no_query_is_built_outside_the_store() -> None:
    """Every query lives under connector/store behind a named function (issue 13 item 6)."""
    assert _query_violations(PATHS) == []


def test_the_query_checker_catches_a_query(tmp_path: Path) -> None:
    """The query checker must be able to fail: an import of `select`, a `conn.execute(...)`, a `__table__`."""
    bad = tmp_path / "bad.py"
    bad.write_text("from sqlalchemy import Engine, select\nconn.execute(x)\nt = Link.__table__\n", encoding="utf-8")
    assert _query_violations({"connector.sync.fake_bad": bad}) == [
        "connector.sync.fake_bad imports sqlalchemy.select",
        "connector.sync.fake_bad calls .execute() on line 2",
        "connector.sync.fake_bad reads __table__ on line 3",
    ]


def test_sandboxes_import_nothing_from_the_connector() -> None:
    """The sandboxes are independent peers (their own top-level package): they share no code with the connector."""
    bad = [
        f"{module} imports {name}"
        for module, imports in MODULES.items()
        if module.startswith("sandboxes")
        for name in imports
        if name == "connector" or name.startswith("connector.")
    ]
    assert bad == []


# the only modules of the connector that may start a sandbox: `connector sandbox` and the demo
SANDBOX_USERS = ("connector.cli.sandboxes", "connector.cli.demo")


def test_the_connector_imports_the_sandboxes_only_in_the_sandbox_command_and_the_demo() -> None:
    bad = [
        f"{module} imports {name}"
        for module, imports in MODULES.items()
        if module.startswith("connector") and not module.startswith(SANDBOX_USERS)
        for name in imports
        if name == "sandboxes" or name.startswith("sandboxes.")
    ]
    assert bad == []


def test_rules_cover_real_modules() -> None:
    """Guard against a rule that silently matches nothing (a renamed package)."""
    assert len(PROVIDER_PACKAGES) >= 4, PROVIDER_PACKAGES
    assert any(_in_layer(m, TRANSFORMS) for m in MODULES)
    for layer in (
        "connector.providers",
        "connector.sync",
        "connector.mapping",
        "connector.http",
        "connector.store",
        "sandboxes",
        "connector.observability",
        "connector.observability.metrics",
        "connector.sync.reconcile",
        "connector.sync.pull",
        "connector.sync.push",
        "connector.sync.ledger",
        "connector.sync.engine",
        "connector.sync.backfill",
    ):
        assert any(m.startswith(layer) for m in MODULES), layer


@pytest.mark.parametrize(
    ("module", "imported", "layer"),
    [
        ("connector.providers.fake_bad", "connector.store.tables", "connector.providers"),
        ("connector.sync.pull.fake_bad", "connector.sync.push.wire", "connector.sync.pull"),
        ("connector.sync.push.fake_bad", "connector.sync.pull.page", "connector.sync.push"),
        ("connector.sync.reconcile.fake_bad", "connector.providers.base", "connector.sync.reconcile"),
        ("connector.sync.reconcile.fake_bad", "connector.http.client", "connector.sync.reconcile"),
    ],
    ids=["provider-imports-store", "pull-imports-push", "push-imports-pull", "reconcile-imports-a-provider",
         "reconcile-imports-http"],
)
def test_the_checker_catches_a_violation(module: str, imported: str, layer: str) -> None:
    """The checker itself must be able to fail."""
    MODULES[module] = {imported}
    try:
        assert _violations(layer, RULES[layer])
    finally:
        del MODULES[module]


# -- no provider named in shared code --------------------------------------------------------------------------

# The demo drives the four sandboxes by name on purpose: it is a walk through them, not shared code.
DEMO = "connector.cli.demo"
# Documentation is free to name a service: docstrings, comments, and the texts of these keyword arguments
# (argparse help, pydantic field descriptions).
DOC_KEYWORDS = frozenset({"help", "description", "epilog", "summary"})


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the docstring nodes of a module and of its classes and functions."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _documentation(tree: ast.AST) -> set[int]:
    """ids of every string node that is documentation (docstrings, and help=/description= texts)."""
    found = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg in DOC_KEYWORDS:
            found.update(id(inner) for inner in ast.walk(node.value))
    return found


def _names_in(source: str, names: tuple[str, ...]) -> list[str]:
    """Every place in code (not documentation) where one of `names` appears: an identifier containing it, or a
    string holding it as a word."""
    tree = ast.parse(source)
    docs = _documentation(tree)
    words = {name: re.compile(rf"(?<![a-z0-9]){re.escape(name)}(?![a-z0-9])", re.IGNORECASE) for name in names}
    found = []
    for node in ast.walk(tree):
        texts: list[str] = []
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            texts.append(node.value)
        elif isinstance(node, ast.Name):
            texts.append(node.id)
        elif isinstance(node, ast.Attribute):
            texts.append(node.attr)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            texts.append(node.name)
        elif isinstance(node, ast.arg):
            texts.append(node.arg)
        elif isinstance(node, ast.alias):
            texts.extend(filter(None, (node.name, node.asname)))
        elif isinstance(node, (ast.Import, ast.ImportFrom)) and isinstance(node, ast.ImportFrom) and node.module:
            texts.append(node.module)
        for text in texts:
            for name, word in words.items():
                if word.search(text) or (not isinstance(node, ast.Constant) and name in text.lower()):
                    found.append(f"line {getattr(node, 'lineno', '?')}: {text[:60]!r} names {name}")
    return found


def _shared_modules() -> dict[str, Path]:
    """Every module under connector/ outside the installed providers' own packages and the demo."""
    own = tuple(plugin.package for plugin in plugins().values())
    shared = {}
    for path in sorted(ROOT.rglob("*.py")):
        module = _module_name(path)
        if module.startswith(DEMO) or any(module == p or module.startswith(p + ".") for p in own):
            continue
        shared[module] = path
    return shared


def test_no_provider_is_named_in_shared_code() -> None:
    """A provider is a plug-in: only its own package (and the demo, and documentation) may name it."""
    names = tuple(plugins())
    assert len(names) >= 4
    bad = [
        f"{module} {place}"
        for module, path in _shared_modules().items()
        for place in _names_in(path.read_text(encoding="utf-8"), names)
    ]
    assert bad == []


def test_the_provider_name_checker_can_fail() -> None:
    source = (
        '"""Docs may say hydra."""\n'
        "import connector.providers.hydra as _h  # a comment may too\n"
        "KINDS = {'factuursturen': 1}\n"
        "def pull_fastfaktura(x: int = 0) -> None:\n"
        "    '''FastFaktura, in a docstring.'''\n"
        "    Field(description='facturalia too')\n"
        "    key = body.get('hydra:description')\n"
    )
    found = _names_in(source, ("factuursturen", "fastfaktura", "facturalia", "hydra"))
    assert sorted(place.split(":")[0] for place in found) == ["line 2", "line 3", "line 4", "line 7"], found
