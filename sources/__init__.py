"""The Tractian connector: HTTP client, dlt source, sync into a warehouse.

`from sources import tractian` is the dlt source (`sources.source.tractian`), imported on
first use so that `import sources.settings` stays light.
"""

from typing import Any

__all__ = ["tractian"]


def __getattr__(name: str) -> Any:
    if name == "tractian":
        from sources.source import tractian

        return tractian
    raise AttributeError(f"module 'sources' has no attribute {name!r}")
