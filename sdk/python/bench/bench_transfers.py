"""npm run bench:python — the Python SDK against the TypeScript CLI, same registry, one run.

A real registry process (embedded defaults, its default 16 MiB parts) and one file of
BENCH_SIZE bytes (default 1 GiB, incompressible). Each side pushes it to a project of its own
(so neither is deduplicated against the other) and pulls it back into an empty directory,
each as its own process, as a user would run it: ``wharf push``/``wharf pull`` (node
dist/src/cli/main.js) vs ``python -c "wharf.push(...)"``/``wharf.pull``. Both with their
defaults (push: 4 parts at once; pull: 8 ranged GETs of 8 MiB). Wall clock from process start
to exit, hashing and verification included. Target: Python ≥ 0.8× the CLI's speed for both.

Options: --size MiB (or BENCH_SIZE bytes), --repeat N (best of N per side), --explore (report,
never fail). Ends with one JSON line of measures, baselines, ratios and targets.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from registry import ADMIN_TOKEN, REPOSITORY, start_registry  # noqa: E402

import wharf  # noqa: E402

MIB = 1024 * 1024
TARGET = 0.8


def make_file(path: Path, size: int) -> None:
    block = bytearray(os.urandom(4 * MIB))
    with open(path, "wb") as out:
        written = 0
        while written < size:
            # Vary every block so nothing can dedupe or compress it away.
            block[0:8] = written.to_bytes(8, "little")
            length = min(len(block), size - written)
            out.write(block[:length])
            written += length


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    completed = subprocess.run(command, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({completed.returncode}):\n{completed.stdout}\n{completed.stderr}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, help="MiB to push and pull (default BENCH_SIZE bytes, else 1024 MiB)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per side; the best counts")
    parser.add_argument("--explore", action="store_true", help="report only: never exit non-zero on a missed target")
    args = parser.parse_args()
    size = args.size * MIB if args.size else int(os.environ.get("BENCH_SIZE", 1024 * MIB))

    registry = start_registry({"UPLOAD_PART_SIZE": str(16 * MIB)})
    work = Path(tempfile.mkdtemp(prefix="wharf-bench-python-", dir=os.environ.get("BENCH_DIR")))
    try:
        source = work / "model"
        source.mkdir()
        make_file(source / "model.bin", size)
        env = {**os.environ, "WHARF_URL": registry.url, "WHARF_TOKEN": ADMIN_TOKEN, "XDG_CACHE_HOME": str(work / "cache")}
        cli = ["node", str(REPOSITORY / "dist" / "src" / "cli" / "main.js")]
        py = [sys.executable, "-c"]
        times: dict[str, float] = {}
        with wharf.Client(registry.url, ADMIN_TOKEN) as admin:
            for run in range(args.repeat):
                for side in ("cli", "python"):
                    project = f"bench-{side}-{run}"
                    admin.projects.create(project)
                    admin.models.create(project, "model")
                    into = work / f"pulled-{side}-{run}"
                    if side == "cli":
                        push = cli + ["push", f"{project}/model", str(source), "--tag", "bench", "--json"]
                        pull = cli + ["pull", f"{project}/model:bench", str(into), "--json"]
                    else:
                        push = py + [f"import wharf; wharf.push('{project}/model', {str(source)!r}, tag='bench', progress=False)"]
                        pull = py + [f"import wharf; wharf.pull('{project}/model:bench', {str(into)!r}, progress=False)"]
                    for action, command in (("push", push), ("pull", pull)):
                        elapsed = timed(command, env)
                        key = f"{side}_{action}_seconds"
                        times[key] = min(times.get(key, float("inf")), elapsed)
                    if (into / "model.bin").stat().st_size != size:
                        raise RuntimeError(f"{side} pulled a file of the wrong size")
                    shutil.rmtree(into)
        load = os.getloadavg()
    finally:
        registry.stop()
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(registry.data_dir, ignore_errors=True)

    mib = size / MIB
    ratios = {action: times[f"cli_{action}_seconds"] / times[f"python_{action}_seconds"] for action in ("push", "pull")}
    print(f"{'':8}{'python SDK':>22}{'wharf CLI (TS)':>22}{'python / CLI speed':>22}")
    for action in ("push", "pull"):
        py_s, cli_s = times[f"python_{action}_seconds"], times[f"cli_{action}_seconds"]
        print(f"{action:8}{py_s:>9.2f} s {mib / py_s:>7.1f} MiB/s{cli_s:>9.2f} s {mib / cli_s:>7.1f} MiB/s{ratios[action]:>20.2f}×")
    print(f"size {mib:.0f} MiB, best of {args.repeat}, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    summary = {
        "bench": "python",
        "sizeBytes": size,
        "loadAverage": [round(x, 2) for x in load],
        "measures": {k: round(v, 3) for k, v in times.items() if k.startswith("python")},
        "baselines": {k: round(v, 3) for k, v in times.items() if k.startswith("cli")},
        "ratios": {f"{k}_speed_vs_cli": round(v, 3) for k, v in ratios.items()},
        "targets": {f"{k}_speed_vs_cli": TARGET for k in ratios},
    }
    print(json.dumps(summary))
    missed = [k for k, v in ratios.items() if v < TARGET]
    if missed and not args.explore:
        print(f"missed target ≥ {TARGET}× the CLI: {', '.join(missed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
