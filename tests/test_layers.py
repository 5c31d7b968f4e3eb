"""Imports run one way: API -> connector -> raw tables <- transforms; Dagster calls both.

Read from the source text (every import, lazy ones inside functions included), so a
layer crossed the wrong way fails here, not in review.
"""

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CONNECTOR_EXCLUDES = ("sources.simulator", "sources.webhooks")

# package -> import prefixes it must never use, and why
FORBIDDEN = {
    "sources": (
        ("dagster", "transforms", "orchestration", "bench", "tests"),
        "sources/ knows HTTP, the API contract and dlt; Dagster and the transforms call it",
    ),
    "transforms": (
        ("sources", "orchestration", "dagster", "dlt", "bench", "tests"),
        "the transforms meet the connector only at table names",
    ),
    "orchestration": (("bench", "tests"), "the code location runs without the dev tree"),
}


def modules(package: str) -> list[Path]:
    return sorted((REPO / package).rglob("*.py"))


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(REPO).with_suffix("").parts)


def imported(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def crosses(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_package_imports_a_layer_it_must_not_know(package):
    prefixes, why = FORBIDDEN[package]
    wrong = [
        f"{module_name(path)} imports {name}"
        for path in modules(package)
        for name in sorted(imported(path))
        if crosses(name, prefixes)
    ]
    assert wrong == [], f"{why}: {wrong}"


def test_the_connector_never_imports_the_simulator_or_the_webhooks_service():
    connector = [p for p in modules("sources") if not crosses(module_name(p), CONNECTOR_EXCLUDES)]
    wrong = [
        f"{module_name(path)} imports {name}"
        for path in connector
        for name in sorted(imported(path))
        if crosses(name, CONNECTOR_EXCLUDES)
    ]
    assert connector, "no connector module found"
    assert wrong == []


def test_the_check_itself_sees_a_crossing(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from dagster import asset\n    import transforms.run\n")
    assert crosses("dagster", FORBIDDEN["sources"][0])
    assert imported(probe) == {"dagster", "transforms.run"}
