"""The transforms' side that reads and writes the DuckDB warehouse; see `run.transform`."""
