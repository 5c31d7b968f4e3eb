"""Constants of the Tractian API and the connector's defaults, in one place."""

from datetime import timedelta

SOURCE_NAME = "tractian"
DEFAULT_DB_PATH = "warehouse/tractian.duckdb"

MAX_WINDOW = timedelta(days=7)  # the API answers 422 beyond this
DEFAULT_LOOKBACK = timedelta(hours=48)  # late samples arrive up to 48 h after sampledAt
DEFAULT_BACKFILL = timedelta(days=14)
PAGE_LIMIT = 500
PAGE_LIMIT_FALLBACKS = (100, 10)  # if an API refuses PAGE_LIMIT (no maximum is documented)
MAX_PAGING_PASSES = 10  # re-reads of a paged list whose records shifted while paging

CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 30.0
MAX_ATTEMPTS = 6
BACKOFF_BASE_S = 0.5
BACKOFF_MAX_S = 30.0
MAX_RETRY_AFTER_S = 120.0
# A health probe must answer within a sensor tick: two attempts, short waits.
PROBE_MAX_ATTEMPTS = 2
PROBE_BACKOFF_BASE_S = 0.5
PROBE_BACKOFF_MAX_S = 1.0
PROBE_READ_TIMEOUT_S = 10.0
MAX_RATE_LIMITED_WAITS = 30
TELEMETRY_CONCURRENCY = 8
TELEMETRY_BATCH_ROWS = 100_000  # rows per Arrow table handed to dlt
DUCKDB_MEMORY_LIMIT = "160MB"  # DuckDB's cache while loading; it spills beyond (bench/ B3)
# The storage format a new warehouse file is written in. DuckDB 1.5's own: with the
# v1.0.0 format, a checkpoint after a few deletes in a big table rewrites the metadata of
# every row group (0.8 s for 79 M energy rows, 0.015 s in this format: B7's warehouse), and
# every incremental transform deletes the rows it rewrites. Readers open the read copy,
# which stays v1.0.0 for older DuckDB tools (transforms/warehouse/read_copy.py).
DUCKDB_STORAGE_VERSION = "v1.5.0"
LAKE_NAME = "tractian"  # the DuckLake's ATTACH alias and its catalog's metadata schema
