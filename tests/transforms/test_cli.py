"""`tractian-elt transform`: exit codes and what it prints."""

import pytest

from orchestration.cli import main
from tests.transforms.plant import load_plant
from tests.transforms.rawdb import load_id_at


def test_transform_builds_the_warehouse_and_prints_a_summary(raw, capsys):
    load_plant(raw, load_id_at("2024-03-01 00:00"))
    assert main(["transform", "--db", str(raw.path)]) == 0
    out = capsys.readouterr().out
    assert "transform run 1: 1 new loads, full rebuild" in out
    assert "clean.dim_asset: 6 rows" in out
    assert raw.path.with_name("warehouse_read.duckdb").exists()
    assert main(["transform", "--db", str(raw.path)]) == 0
    assert "up to date" in capsys.readouterr().out
    assert main(["transform", "--db", str(raw.path), "--full", "--no-read-copy"]) == 0
    assert "transform run 2: 1 new loads, full rebuild" in capsys.readouterr().out


def test_a_missing_warehouse_is_a_one_line_error(tmp_path, capsys):
    assert main(["transform", "--db", str(tmp_path / "nope.duckdb")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "no warehouse at" in err


def test_a_bad_iso_config_is_a_one_line_error_naming_the_line(raw, tmp_path, capsys):
    load_plant(raw, load_id_at("2024-03-01 00:00"))
    config = tmp_path / "iso.csv"
    config.write_text("asset_id,machine_group,foundation\nM1,2,rigid\nM2,3,rigid\n")
    assert main(["transform", "--db", str(raw.path), "--iso-config", str(config)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "line 3" in err
    assert "machine_group" in err


@pytest.mark.parametrize("given_by", ["flag", "environment"])
def test_the_category_map_is_read_from_the_flag_or_the_environment(
    raw, tmp_path, capsys, monkeypatch, given_by
):
    load_plant(raw, load_id_at("2024-03-01 00:00"))
    categories = tmp_path / "categories.csv"
    categories.write_text("category,kind\nLubrication,preventive\nRounds,sometimes\n")
    args = ["transform", "--db", str(raw.path)]
    if given_by == "flag":
        args += ["--category-map", str(categories)]
    else:
        monkeypatch.setenv("TRACTIAN_CATEGORY_MAP", str(categories))
    assert main(args) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert f"category map {categories} line 3" in err
