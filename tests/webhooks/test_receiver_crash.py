"""`kill -9` of the receiver under load: every event that got a 2xx survives."""

import threading
import time

import requests

from tests.webhooks.conftest import (
    ReceiverProcess,
    event_body,
    new_secret,
    signed_request,
    stored_ids,
)

SENDERS = 8
KILL_AFTER_ACKS = 300
MAX_LOAD_SECONDS = 10.0


class Load:
    """Threads sending distinct signed events until told to stop or the server is gone."""

    def __init__(self, url: str, secret: str) -> None:
        self.url, self.secret = url, secret
        self.acked: list[str] = []
        self.failed_after_kill = 0
        self._lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._send) for _ in range(SENDERS)]

    def _send(self) -> None:
        with requests.Session() as session:
            while not self.stop.is_set():
                body = event_body("sync.completed", connectionId="plant-1")
                headers = signed_request(self.secret, body)
                try:
                    response = session.post(self.url, data=body, headers=headers, timeout=10)
                except requests.RequestException:
                    with self._lock:
                        self.failed_after_kill += 1
                    return
                if response.status_code == 200:
                    with self._lock:
                        self.acked.append(headers["webhook-id"])

    def run_until(self, acks: int, seconds: float) -> None:
        for thread in self.threads:
            thread.start()
        deadline = time.monotonic() + seconds
        while len(self.acked) < acks and time.monotonic() < deadline:
            time.sleep(0.01)

    def join(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)


def test_given_kill_9_under_load_when_restarted_then_every_acknowledged_event_is_in_the_inbox(
    tmp_path,
):
    inbox_path = tmp_path / "inbox.sqlite"
    secret = new_secret()
    receiver = ReceiverProcess(inbox_path, secret)
    load = Load(receiver.url, secret)
    try:
        load.run_until(KILL_AFTER_ACKS, MAX_LOAD_SECONDS)
        receiver.kill()
        load.join()
    finally:
        load.stop.set()
        receiver.stop()
    acked = list(load.acked)

    restarted = ReceiverProcess(inbox_path, secret)
    try:
        stored = set(stored_ids(inbox_path))
        # Redeliveries of acknowledged events are recognised as duplicates.
        body = event_body("sync.completed", connectionId="plant-1")
        again = requests.post(
            restarted.url, data=body, headers=signed_request(secret, body, acked[0]), timeout=10
        )
        exit_code = restarted.terminate()
    finally:
        restarted.stop()

    assert len(acked) >= 50, "the load never got going"
    assert load.failed_after_kill > 0, "the kill did not land while requests were in flight"
    assert set(acked) <= stored
    assert (again.status_code, again.json()["duplicate"]) == (200, True)
    assert exit_code == 0
