"""The public surface of `connector.http` is declared, importable, and depends only on what it may."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import connector.http as http

PACKAGE = Path(http.__file__).parent
# connector.observability.metrics: the request hook (prometheus-client only, a no-op until the daemon installs it)
ALLOWED_CONNECTOR = (  # the two observability modules import nothing from the connector (tested below)
    "connector.errors", "connector.clock", "connector.money", "connector.http", "connector.observability.metrics",
    "connector.observability.events",
)
ALLOWED_THIRD_PARTY = ("httpx", "httpcore", "tenacity")  # httpcore: the deadline backend


def test_all_names_exist_and_are_sorted_uniquely() -> None:
    assert len(set(http.__all__)) == len(http.__all__)
    for name in http.__all__:
        assert getattr(http, name) is not None, name


def test_every_public_name_of_the_submodules_is_reexported() -> None:
    for path in sorted(PACKAGE.glob("*.py")):
        if path.name == "__init__.py":
            continue
        module = sys.modules[f"connector.http.{path.stem}"]
        missing = sorted(set(module.__all__) - set(http.__all__))
        assert missing == [], f"{path.name}: {missing}"


def test_the_interfaces_other_layers_use_are_there() -> None:
    for name in (
        "HttpConfig",
        "HttpSession",
        "Pacer",
        "Classifier",
        "DEFAULT_STATUS_MAP",
        "retry_policy",
        "forbidden_with_zero_remaining_is_rate_limit",
        "Paginator",
        "StartCountPaginator",
        "PageNumberPaginator",
        "NextLinkPaginator",
        "redact",
        "RedactingFilter",
        "BasicAuth",
        "BearerToken",
        "ApiKeyHeader",
    ):
        assert name in http.__all__, name


def test_http_imports_only_the_base_modules_stdlib_httpx_and_tenacity() -> None:
    bad = []
    for path in sorted(PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else ([node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            )
            for name in names:
                top = name.split(".")[0]
                ok = (
                    name.startswith(ALLOWED_CONNECTOR)
                    if top == "connector"
                    else top in ALLOWED_THIRD_PARTY or top in sys.stdlib_module_names or top == "__future__"
                )
                if not ok:
                    bad.append(f"{path.name}: {name}")
    assert bad == []


def test_the_observability_modules_http_uses_import_nothing_from_the_connector() -> None:
    for module in ("metrics", "events"):
        path = PACKAGE.parent / "observability" / f"{module}.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith("connector."), f"{module}.py: {node.module}"
