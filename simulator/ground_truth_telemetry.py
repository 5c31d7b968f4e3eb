"""Ground-truth telemetry tables, column by column from the model's frames."""

from collections import defaultdict
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from simulator.asset_tree import Component
from simulator.energy import INTERVAL_SERIES
from simulator.vibration import VALUE_COLUMNS, rotation_ids
from sources.raw_schema import ENERGY_QUANTITIES, RAW_TABLES

if TYPE_CHECKING:
    from simulator.world import World

TS = pa.timestamp("us", tz="UTC")


def schema_of(table: str) -> pa.Schema:
    """The raw table's schema without `connection_name`."""
    return pa.schema([f for f in RAW_TABLES[table].schema if f.name != "connection_name"])


def masked(values: np.ndarray) -> pa.Array:
    """A float column with NaN as null (the API's null)."""
    return pa.array(values, pa.float64(), mask=np.isnan(values))


class _Columns:
    """Column parts of one table: numpy arrays, or labels repeated over a run of rows."""

    def __init__(self) -> None:
        self.parts: dict[str, list[np.ndarray]] = defaultdict(list)
        self.labels: dict[str, list[tuple[str, int]]] = defaultdict(list)
        self.rows = 0

    def keys(self, c: Component, n: int, **labels: str) -> None:
        for name, value in {"company_id": c.company_id, "asset_id": c.id, **labels}.items():
            self.labels[name].append((value, n))
        self.rows += n

    def table(self, name: str) -> pa.Table:
        """Columns with no parts (e.g. another quantity's phases) are all null."""
        schema = schema_of(name)
        return pa.Table.from_arrays([self._array(f) for f in schema], schema=schema)

    def _array(self, field: pa.Field) -> pa.Array:
        if field.name in self.labels:
            runs = self.labels[field.name]
            index = np.repeat(np.arange(len(runs)), [n for _, n in runs])
            return pa.array([v for v, _ in runs], pa.string()).take(index)
        parts = self.parts.get(field.name)
        if not parts:
            return pa.nulls(self.rows, field.type)
        values = np.concatenate(parts)
        if field.type == TS:
            return pa.array(values.astype(np.int64) * 1000, TS)
        if field.type == pa.float64():
            return masked(values)
        return pa.array(values, field.type)


def vibration_tables(
    world: "World", components: list[Component], start_ms: int, as_of_ms: int
) -> dict[str, pa.Table]:
    """vibration_samples and rpm_samples: visible samples in [start, as_of)."""
    vib, rpm = _Columns(), _Columns()
    for c in components:
        if c.sensor_type != "vibration":
            continue
        frame = world.telemetry.vibration(c, start_ms, as_of_ms, as_of_ms)
        if frame is None:
            continue
        for columns in (vib, rpm):
            columns.keys(c, len(frame.sampled_ms))
            columns.parts["sampled_at"].append(frame.sampled_ms)
        vib.parts["powered"].append(frame.powered)
        for name in ("temperature", *VALUE_COLUMNS):
            vib.parts[name].append(frame.values[name])
        ids = rotation_ids(world.telemetry.profiles[c.id], frame.slots)
        rpm.parts["sample_id"].append(np.array(ids, dtype=object))
        rpm.parts["rpm"].append(frame.values["rpm"])
    return {
        "vibration_samples": vib.table("vibration_samples"),
        "rpm_samples": rpm.table("rpm_samples"),
    }


def energy_tables(
    world: "World", components: list[Component], start_ms: int, as_of_ms: int
) -> dict[str, pa.Table]:
    """energy_samples (one row per quantity and sample, in the API's units), and the
    interval series energy_consumption (Wh), energy_demand (kW) and energy_cost."""
    by_quantity = {q: _Columns() for q in ENERGY_QUANTITIES}
    series = {name: _Columns() for name in INTERVAL_SERIES}
    for c in components:
        if c.sensor_type != "energy":
            continue
        frame = world.telemetry.energy(c, start_ms, as_of_ms, as_of_ms)
        if frame is None:
            continue
        n = len(frame.sampled_ms)
        for quantity, columns in by_quantity.items():
            columns.keys(c, n, quantity=quantity)
            columns.parts["sampled_at"].append(frame.sampled_ms)
            for name, values in frame.values[quantity].items():
                columns.parts[name].append(values)
        values = {
            "consumption": {
                "consumption": frame.consumption,
                "accumulated_consumption": frame.accumulated,
            },
            "demand": {"demand": frame.demand},
            "cost": {"cost": frame.cost(world.tariffs[c.company_id])},
        }
        for name, columns in series.items():
            columns.keys(c, n)
            columns.parts["sampled_at"].append(frame.sampled_ms)
            columns.parts["forecast"].append(np.zeros(n, dtype=bool))
            for column, array in values[name].items():
                columns.parts[column].append(array)
    energy = pa.concat_tables(c.table("energy_samples") for c in by_quantity.values())
    return {
        "energy_samples": energy,
        **{f"energy_{name}": columns.table(f"energy_{name}") for name, columns in series.items()},
    }
