"""A real registry process for the tests: ``node dist/src/main.js`` on embedded defaults (PGlite,
blobs on local disk), on a port the OS picks, as operators run it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[3]
ADMIN_TOKEN = "wharf_test_admin_token_python_sdk_0123456789"
START_DEADLINE_SECONDS = 120


@dataclass
class RegistryProcess:
    url: str
    process: subprocess.Popen[str]
    data_dir: Path
    output: list[str] = field(default_factory=list)
    extra_env: dict[str, str] = field(default_factory=dict)

    def start_again(self) -> None:
        """After :meth:`stop`: the same data directory, on the same port (so clients keep their URL)."""
        port = self.url.rsplit(":", 1)[1]
        again = Launch({**self.extra_env, "PORT": port}, self.data_dir).wait()
        self.process, self.output = again.process, again.output

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Launch:
    """A registry process on its way up; :meth:`wait` answers it once it listens."""

    def __init__(self, extra_env: dict[str, str] | None = None, data_dir: Path | None = None) -> None:
        entry = REPOSITORY / "dist" / "src" / "main.js"
        if not entry.exists():
            raise RuntimeError(f"{entry} is missing: run `npm run build` in {REPOSITORY} first")
        self.data_dir = data_dir or Path(tempfile.mkdtemp(prefix="wharf-sdk-registry-"))
        self.extra_env = dict(extra_env or {})
        env = {
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", "/tmp"),
            "PORT": "0",
            "HOST": "127.0.0.1",
            "DATA_DIR": str(self.data_dir),
            "WHARF_ADMIN_TOKEN": ADMIN_TOKEN,
            "LOG_LEVEL": "info",
            # Small parts, so a test file of a few MiB has several parts to resume.
            "UPLOAD_PART_SIZE": str(5 * 1024 * 1024),
            "RATE_LIMIT_ENABLED": "false",
            **(extra_env or {}),
        }
        self.process = subprocess.Popen(
            ["node", str(entry)], cwd=REPOSITORY, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        self.output: list[str] = []
        self.url = ""
        self.listening = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line.rstrip("\n"))
            if "wharf registry listening" in line and not self.listening.is_set():
                self.url = f"http://127.0.0.1:{json.loads(line)['port']}"
                self.listening.set()

    def wait(self) -> RegistryProcess:
        deadline = time.monotonic() + START_DEADLINE_SECONDS
        while not self.listening.wait(0.2):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.process.kill()
                raise RuntimeError("the registry did not start:\n" + "\n".join(self.output[-40:]))
        return RegistryProcess(self.url, self.process, self.data_dir, self.output, self.extra_env)


def start_registry(extra_env: dict[str, str] | None = None) -> RegistryProcess:
    return Launch(extra_env).wait()
