"""Reading an untrusted file in a separate process, under a time and a memory limit.

A small crafted file can inflate to gigabytes or make a parser run for minutes (nested HTML,
compressed PDF streams). The chat's uploads are read here first: a fresh Python process
(nothing of the server's threads or memory is inherited) with an address-space limit
(``RLIMIT_AS``) and a CPU limit, killed after a wall-time limit. The server's memory stays flat
whatever the file does; the file gets a clear error.

    python -m assistant.ingest.isolation PATH MAX_BYTES MEMORY_MB CPU_S   (what the parent runs)
"""

from __future__ import annotations

import pickle
import resource
import subprocess
import sys
from pathlib import Path

from assistant.errors import DocumentLoadError
from assistant.ingest.loaders import Document


def load_file_isolated(
    path: Path, max_bytes: int, timeout_s: float = 60.0, memory_mb: int = 1024
) -> Document:
    """``load_file`` in a child process; raises :class:`DocumentLoadError` on a bad file, after
    ``timeout_s`` seconds and beyond ``memory_mb`` MB."""
    command = [
        sys.executable,
        "-m",
        "assistant.ingest.isolation",
        str(path),
        str(max_bytes),
        str(memory_mb),
        str(max(1, int(timeout_s))),
    ]
    try:
        run = subprocess.run(command, capture_output=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired as exc:
        raise DocumentLoadError(
            path, f"took longer than {timeout_s:g} s to read", "check or simplify the file"
        ) from exc
    if run.returncode != 0 or not run.stdout:
        raise DocumentLoadError(
            path,
            f"could not be read within the limits ({memory_mb} MB, {timeout_s:g} s)",
            "check or simplify the file",
        )
    status, value = pickle.loads(run.stdout)  # our own child's output
    if status == "ok":
        return value
    raise DocumentLoadError(path, *value)


def _main(path: str, max_bytes: str, memory_mb: str, cpu_s: str) -> None:
    limit = int(memory_mb) * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CPU, (int(cpu_s), int(cpu_s) + 1))
    from assistant.ingest.loaders import load_file

    try:
        result: tuple = ("ok", load_file(path, max_bytes=int(max_bytes)))
    except DocumentLoadError as exc:
        result = ("error", (exc.reason, exc.hint))
    except MemoryError:
        result = ("error", (f"needs more than {memory_mb} MB to read", "split the file"))
    sys.stdout.buffer.write(pickle.dumps(result))


if __name__ == "__main__":
    _main(*sys.argv[1:5])
