"""Transfers equal to the CLI's: parallel, resumable after a crash, verified both ways, atomic,
deduplicated, quiet off a terminal."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import wharf
from conftest import write_random
from corrupting_proxy import CorruptingProxy
from registry import ADMIN_TOKEN, REPOSITORY, RegistryProcess

MIB = 1024 * 1024
PART = 5 * MIB  # the registry under test runs with UPLOAD_PART_SIZE = 5 MiB


def same_tree(left: Path, right: Path) -> bool:
    files = lambda root: sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())  # noqa: E731
    return files(left) == files(right) and all((left / f).read_bytes() == (right / f).read_bytes() for f in files(left))


def part_requests(client: wharf.Client) -> int:
    """Upload parts the registry has answered so far, from its own Prometheus metrics."""
    text = client.transport.request("GET", "/metrics").text
    pattern = re.compile(r'^wharf_http_request_duration_seconds_count\{([^}]*)\} (\d+)', re.M)
    return sum(int(count) for labels, count in pattern.findall(text) if 'method="PUT"' in labels and "/parts/" in labels)


def test_push_then_pull_is_byte_identical_and_a_second_push_sends_nothing(client: wharf.Client, model: str, tmp_path: Path) -> None:
    source = tmp_path / "model"
    write_random(source / "weights.bin", 3 * PART + 123, seed=1)
    write_random(source / "nested/deeper/tokenizer.bin", 1000, seed=2)
    (source / "config.json").write_text('{"architecture": "resnet50"}')
    (source / "empty.txt").write_bytes(b"")

    first = client.push(model, source, tag="staging", description="run 1", metadata={"top1": 0.761}, progress=False)
    assert first.version == 1 and first.tag == "staging" and not first.resumed
    assert first.bytes_sent == sum(p.stat().st_size for p in source.rglob("*") if p.is_file())
    project, name = model.split("/")
    version = client.versions.get(project, name, 1)
    assert version["state"] == "ready" and version["metadata"] == {"top1": 0.761}
    assert version["manifestDigest"] == first.manifest_digest

    pulled = client.pull(f"{model}:staging", tmp_path / "serving", progress=False)
    assert pulled.version == 1 and same_tree(source, tmp_path / "serving")
    again = client.pull(f"{model}:staging", tmp_path / "serving", progress=False)
    assert again.bytes_received == 0 and all(f.skipped for f in again.files)

    # Dedupe: the project already holds every blob, so a new version costs no bytes.
    second = client.push(model, source, progress=False)
    assert second.version == 2 and second.bytes_sent == 0 and all(f.skipped for f in second.files)
    assert client.versions.get(project, name, 2)["manifestDigest"] == first.manifest_digest


CRASHING_PUSH = """
import sys, time, wharf
url, token, model, source = sys.argv[1:5]

class HoldAfterThreeParts:
    # The push's progress sink: after the third part it holds this thread, so the process is
    # mid-upload, with parts sent and parts missing, when the test kills it.
    def __init__(self, phase, total):
        self.phase, self.parts = phase, 0
    def update(self, n):
        if self.phase == "uploading":
            self.parts += 1
            print("part sent", flush=True)
            if self.parts >= 3:
                time.sleep(3600)
    def close(self):
        pass

wharf.push(model, source, url=url, token=token, concurrency=2, progress=HoldAfterThreeParts)
"""


def resume_with_cli(registry: RegistryProcess, model: str, source: Path) -> tuple[bool, int, int]:
    """The CLI finishing a push the SDK started: (resumed, version, bytes sent)."""
    env = {**os.environ, "WHARF_URL": registry.url, "WHARF_TOKEN": ADMIN_TOKEN}
    cli = ["node", str(REPOSITORY / "dist/src/cli/main.js"), "push", model, str(source), "--tag", "prod", "--json"]
    done = subprocess.run(cli, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    return result["resumed"], result["version"], result["bytesSent"]


@pytest.mark.parametrize("resumed_by", ["python", "cli"])
def test_a_push_killed_mid_upload_resumes_sending_only_the_missing_parts(
    client: wharf.Client, registry: RegistryProcess, model: str, tmp_path: Path, resumed_by: str
) -> None:
    source = tmp_path / "model"
    write_random(source / "weights.bin", 9 * PART + 4321, seed=3)  # 10 parts
    child = subprocess.Popen(
        [sys.executable, "-c", CRASHING_PUSH, registry.url, ADMIN_TOKEN, model, str(source)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy(),
    )
    assert child.stdout is not None
    for _ in range(3):
        assert child.stdout.readline() == "part sent\n", child.stderr.read() if child.stderr else ""
    child.send_signal(signal.SIGKILL)
    child.wait(30)

    # What the registry holds after the crash: the draft the push noted, and its received parts.
    project, name = model.split("/")
    (note,) = list((Path(os.environ["XDG_CACHE_HOME"]) / "wharf" / "pushes").glob("*.json"))
    version = json.loads(note.read_text())["version"]
    assert client.versions.get(project, name, version)["state"] == "draft"
    size, sha = (source / "weights.bin").stat().st_size, wharf.transfer.local_files.sha256_of(source / "weights.bin")
    upload = client.uploads.get(client.uploads.create(project, name, version, path="weights.bin", size=size, sha256=sha)["id"])
    held = len(upload["parts"])
    assert upload["partCount"] == 10 and 3 <= held < 10

    before = part_requests(client)
    if resumed_by == "python":
        result = client.push(model, source, tag="prod", progress=False)
        resumed, resumed_version, bytes_sent = result.resumed, result.version, result.bytes_sent
    else:  # the push note is the CLI's own format and place: either finishes what the other started
        resumed, resumed_version, bytes_sent = resume_with_cli(registry, model, source)
    assert resumed and resumed_version == version
    assert part_requests(client) - before == 10 - held
    missing_bytes = sum(min(PART, size - (n - 1) * PART) for n in range(1, 11) if n not in {p["number"] for p in upload["parts"]})
    assert bytes_sent == missing_bytes
    assert not note.exists()

    client.pull(f"{model}:prod", tmp_path / "pulled", progress=False)
    assert same_tree(source, tmp_path / "pulled")


def test_a_corrupted_download_is_refused_and_replaces_nothing(client: wharf.Client, model: str, tmp_path: Path) -> None:
    source = tmp_path / "model"
    write_random(source / "weights.bin", 2 * MIB + 17, seed=4)
    client.push(model, source, tag="prod", progress=False)
    serving = tmp_path / "serving"
    serving.mkdir()
    (serving / "weights.bin").write_bytes(b"the file a running server reads")

    with CorruptingProxy(client.url) as proxy, wharf.Client(proxy.url, ADMIN_TOKEN, retries=0) as through_proxy:
        with pytest.raises(wharf.IntegrityError, match="sha256"):
            through_proxy.pull(f"{model}:prod", serving, chunk_size=MIB, progress=False)
    assert proxy.corrupted_responses >= 1
    assert (serving / "weights.bin").read_bytes() == b"the file a running server reads"
    assert sorted(p.name for p in serving.iterdir()) == ["weights.bin"]  # no partial file left behind

    client.pull(f"{model}:prod", serving, progress=False)
    assert (serving / "weights.bin").read_bytes() == (source / "weights.bin").read_bytes()


def test_bytes_changed_after_hashing_are_refused_by_the_registry_and_nothing_is_committed(
    client: wharf.Client, model: str, tmp_path: Path
) -> None:
    source = tmp_path / "weights.bin"
    write_random(source, 2 * PART, seed=5)
    stat = source.stat()

    class ChangeAfterHashing:
        # Same size and modification time: only the part digests can tell.
        def __init__(self, phase: str, total: int) -> None:
            self.phase = phase

        def update(self, n: int) -> None:
            pass

        def close(self) -> None:
            if self.phase == "hashing":
                with open(source, "r+b") as handle:
                    handle.seek(PART + 10)
                    handle.write(b"X")
                os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns))

    with pytest.raises(wharf.IntegrityError, match="changed while it was being pushed"):
        client.push(model, source, tag="prod", progress=ChangeAfterHashing)
    project, name = model.split("/")
    assert [v["state"] for v in client.versions.list(project, name)] == ["draft"]
    with pytest.raises(wharf.TagNotFoundError):
        client.tags.get(project, name, "prod")


def test_progress_bars_stay_quiet_off_a_terminal_and_report_every_byte_to_a_sink(
    registry: RegistryProcess, model: str, tmp_path: Path
) -> None:
    source = tmp_path / "weights.bin"
    write_random(source, PART + 1, seed=6)
    script = "import sys, wharf; wharf.push(sys.argv[1], sys.argv[2], url=sys.argv[3], token=sys.argv[4])"
    done = subprocess.run([sys.executable, "-c", script, model, str(source), registry.url, ADMIN_TOKEN], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stderr == "" and done.stdout == ""

    seen: dict[str, list[int]] = {}

    class Record:
        def __init__(self, phase: str, total: int) -> None:
            self.counts = seen.setdefault(phase, [total, 0])

        def update(self, n: int) -> None:
            self.counts[1] += n

        def close(self) -> None:
            pass

    wharf.pull(f"{model}:latest", tmp_path / "out", url=registry.url, token=ADMIN_TOKEN, progress=Record)
    assert seen == {"downloading": [PART + 1, PART + 1], "verifying": [PART + 1, PART + 1]}
