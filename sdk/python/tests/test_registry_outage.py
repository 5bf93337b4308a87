"""The registry stops in the middle of a push: the push fails with UnavailableError after its
retries, and once the registry is back, running it again loses nothing the registry had
acknowledged and sends only the parts it does not hold."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import wharf
from conftest import write_random
from registry import ADMIN_TOKEN, RegistryProcess
from test_transfers import PART, part_requests


def test_a_push_interrupted_by_a_registry_stop_resumes_with_nothing_acknowledged_lost(
    registry: RegistryProcess, client: wharf.Client, model: str, tmp_path: Path
) -> None:
    source = tmp_path / "weights.bin"
    write_random(source, 7 * PART + 99, seed=7)  # 8 parts
    acknowledged = 0
    three_acknowledged, registry_stopped = threading.Event(), threading.Event()

    class StopTheRegistryAfterThreeParts:
        def __init__(self, phase: str, total: int) -> None:
            self.phase = phase

        def update(self, n: int) -> None:
            nonlocal acknowledged
            if self.phase != "uploading":
                return
            acknowledged += 1  # called once the registry answered the part
            if acknowledged == 3:
                three_acknowledged.set()
                registry_stopped.wait(120)

        def close(self) -> None:
            pass

    failure: list[BaseException] = []

    def push() -> None:
        try:
            with wharf.Client(registry.url, ADMIN_TOKEN, retries=2) as pushing:
                pushing.push(model, source, concurrency=1, progress=StopTheRegistryAfterThreeParts)
        except BaseException as error:  # noqa: BLE001 (handed to the test)
            failure.append(error)

    pusher = threading.Thread(target=push)
    pusher.start()
    try:
        assert three_acknowledged.wait(120)
        registry.stop()
    finally:
        registry_stopped.set()
        pusher.join(120)
        # The registry is shared by the session: it comes back whatever happened here.
        registry.stop()
        registry.start_again()
    assert len(failure) == 1 and isinstance(failure[0], wharf.UnavailableError), failure

    (note,) = list((Path(os.environ["XDG_CACHE_HOME"]) / "wharf" / "pushes").glob("*.json"))
    result = client.push(model, source, tag="prod", progress=False)
    assert result.resumed
    # Every part acknowledged before the stop was kept, and only the others were sent (one part
    # at a time, held after the third: nothing was in flight; the restarted registry's metrics
    # start from zero).
    assert acknowledged == 3
    assert part_requests(client) == 8 - acknowledged
    assert result.bytes_sent == source.stat().st_size - acknowledged * PART
    assert not note.exists()
    client.pull(f"{model}:prod", tmp_path / "pulled", progress=False)
    assert (tmp_path / "pulled" / "weights.bin").read_bytes() == source.read_bytes()
