"""Imports run one way: API -> connector -> raw tables <- transforms; Dagster calls both.
The simulator and the webhook service are programs of their own beside the connector.

Read from the source text (every import, lazy ones inside functions included), so a
layer crossed the wrong way fails here, not in review.
"""

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CONNECTOR_EXCLUDES = ("simulator", "webhooks")

# package -> import prefixes it must never use, and why
FORBIDDEN = {
    "sources": (
        ("dagster", "transforms", "orchestration", "simulator", "webhooks", "bench", "tests"),
        "the connector knows HTTP, the API contract and dlt; the rest call it, never the "
        "other way, and it never needs the simulator or the webhook service",
    ),
    "simulator": (
        ("dagster", "transforms", "orchestration", "bench", "tests"),
        "the simulator serves the API; it shares only the raw contract with the connector",
    ),
    "webhooks": (
        ("dagster", "transforms", "orchestration", "sources", "simulator", "bench", "tests"),
        "the webhook service stands alone; Dagster and the simulator use it",
    ),
    "transforms": (
        ("sources", "orchestration", "dagster", "dlt", "bench", "tests"),
        "the transforms meet the connector only at table names",
    ),
    "transforms/steps": (
        ("duckdb", "transforms.warehouse", "pathlib"),
        "the steps are pure polars, testable with no database and no files",
    ),
    "transforms/models": (
        ("duckdb", "transforms.warehouse"),
        "the pandera models describe frames, wherever the frames are stored",
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


def test_the_check_itself_sees_a_crossing(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text(
        "def f():\n    from dagster import asset\n    import transforms.warehouse.run\n"
    )
    assert crosses("dagster", FORBIDDEN["sources"][0])
    assert imported(probe) == {"dagster", "transforms.warehouse.run"}
