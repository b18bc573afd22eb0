"""The trainings limit: every run at once, no more than a container's memory limit holds."""

from __future__ import annotations

from pathlib import Path

from colorclf.serve.gate import (
    MAX_RUNS,
    RUN_MB,
    SERVER_MB,
    TRAINER_MB,
    memory_limit_bytes,
    trainings_that_fit,
)

MB = 1024 * 1024


def _tree(tmp_path: Path, cgroup: str, files: dict[str, str]) -> tuple[str, str]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    proc = tmp_path / "cgroup"
    proc.write_text(cgroup)
    root = tmp_path / "sys"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return str(proc), str(root)


def test_cgroup_v2_limit_is_read_from_the_process_own_group(tmp_path: Path) -> None:
    proc, root = _tree(
        tmp_path,
        "0::/app/web\n",
        {"app/web/memory.max": f"{1024 * MB}\n", "memory.max": "max\n"},
    )
    assert memory_limit_bytes(proc, root) == 1024 * MB


def test_cgroup_v1_limit_and_no_limit(tmp_path: Path) -> None:
    proc, root = _tree(
        tmp_path,
        "4:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n",
        {"memory/docker/abc/memory.limit_in_bytes": f"{2700 * MB}\n"},
    )
    assert memory_limit_bytes(proc, root) == 2700 * MB
    unlimited_proc, unlimited_root = _tree(
        tmp_path / "free",
        "4:memory:/\n0::/\n",
        {"memory/memory.limit_in_bytes": "9223372036854771712\n", "memory.max": "max\n"},
    )
    assert memory_limit_bytes(unlimited_proc, unlimited_root) is None
    assert memory_limit_bytes(str(tmp_path / "missing"), str(tmp_path / "none")) is None


def test_the_trainings_fit_the_memory_limit() -> None:
    assert trainings_that_fit(None) == MAX_RUNS  # no limit: a bound all the same
    assert trainings_that_fit(512 * MB) == 1  # never none: students queue
    room_for_three = (SERVER_MB + TRAINER_MB + 3 * RUN_MB + 5) * MB
    assert trainings_that_fit(room_for_three) == 3
    # A 1 GB host (Community Cloud's smallest): a class of thirty trains at once.
    assert trainings_that_fit(1024 * MB) >= 24
    assert trainings_that_fit(1 << 50) == MAX_RUNS
