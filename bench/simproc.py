"""The simulator in its own process, so that it never shares a GIL with a contender.

Started through the CLI (`tractian-elt simulator --port 0 --rate-limit 0 ...`); the
banner it prints gives the base URL and the tokens. The clock is frozen, so every
contender of a round reads the same data; `advance` moves it for steady-state syncs.
`profile="public"` serves only Tractian's published API (no `/connection`, so no API
clock: the caller must start it at a `now` the contenders' local clocks are not behind).
"""

import json
import re
import subprocess
import sys
import urllib.request
from datetime import datetime
from typing import Any

import psutil

_SERVING = re.compile(r"serving (http://\S+) ")
_TOKEN = re.compile(r"^token (\w+) \(.*\): (\S+)$")


class SimProcess:
    """`with SimProcess(scale=7, days=14, now=...) as sim:` serves until the block ends."""

    def __init__(
        self, *, scale: int, days: int, now: datetime, seed: int = 7, profile: str = "integration"
    ) -> None:
        self.profile = profile
        self.command = [
            sys.executable,
            "-m",
            "orchestration.cli",
            "simulator",
            "--port=0",
            "--rate-limit=0",
            f"--seed={seed}",
            f"--scale={scale}",
            f"--days={days}",
            f"--now={now.isoformat()}",
            f"--profile={profile}",
        ]
        self.base_url = ""
        self.tokens: dict[str, str] = {}
        self._proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> "SimProcess":
        self._proc = subprocess.Popen(self.command, stdout=subprocess.PIPE, text=True)
        try:
            self._read_banner()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _read_banner(self) -> None:
        assert self._proc is not None
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            if match := _SERVING.search(line):
                self.base_url = match.group(1)
            elif match := _TOKEN.match(line.strip()):
                self.tokens[match.group(1)] = match.group(2)
            elif line.startswith("controls:"):
                return
        raise RuntimeError(f"the simulator exited early (code {self._proc.wait()})")

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the simulator process has used so far."""
        assert self._proc is not None
        times = psutil.Process(self._proc.pid).cpu_times()
        return times.user + times.system

    def _control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    def advance(self, seconds: float) -> None:
        self._control("POST", "/_sim/clock", {"advanceSeconds": seconds})

    def now(self) -> str:
        """The simulated clock, ISO."""
        return self._control("GET", "/_sim/state")["now"]

    def stats(self) -> dict[str, Any]:
        """API requests served since the last reset: `requests`, `by_route`, `by_status`."""
        return self._control("GET", "/_sim/stats")

    def reset_stats(self) -> None:
        self._control("DELETE", "/_sim/stats")
