"""`harmony quickstart` / `harmony serve` leave no process behind after one SIGTERM.

And `harmony serve --run-once` without a featurized corpus says in one line which command builds it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from .conftest import write_tiny_csv

REPO = Path(__file__).resolve().parents[2]
HARMONY = [sys.executable, "-c", "from harmony_mol.cli import main; main()"]


def _env(marker: str, tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "HARMONY_TEST_MARKER": marker, "PREFECT_HOME": str(tmp_path / "prefect"),
            "DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}


def _marked(marker: str) -> list[int]:
    """Pids of live processes started by the test (they inherit its marker variable)."""
    pids = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            env = (d / "environ").read_bytes()
            state = (d / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if f"HARMONY_TEST_MARKER={marker}".encode() in env.split(b"\0") and state != "Z":
            pids.append(int(d.name))
    return pids


def test_serve_run_once_without_a_corpus_is_one_line(tmp_path: Path) -> None:
    dep = tmp_path / "deploy.yaml"
    dep.write_text(f"dataset: {tmp_path / 'missing-corpus'}\nout_dir: {tmp_path / 'out'}\n")
    res = subprocess.run([*HARMONY, "serve", "--run-once", "--config", str(dep)], cwd=REPO, capture_output=True,
                         text=True, timeout=300, env=_env(uuid.uuid4().hex, tmp_path))
    assert res.returncode == 1, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in res.stderr, res.stderr
    assert "missing-corpus" in lines[0] and "harmony featurize --input pretrain-corpus" in lines[0]


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc")
def test_one_sigterm_stops_quickstart_and_leaves_no_process(tmp_path: Path) -> None:
    marker = uuid.uuid4().hex
    csv = write_tiny_csv(tmp_path / "tiny.csv")
    over = [f"molecule.featurize.inputs=[{csv}]", "molecule.featurize.target_columns=[target]",
            "molecule.pretrain.epochs=200", "molecule.pretrain.batch_size=8"]
    log = open(tmp_path / "qs.log", "w")
    proc = subprocess.Popen([*HARMONY, "quickstart", "--out", str(tmp_path / "qs"), *over], cwd=REPO,
                            stdout=log, stderr=subprocess.STDOUT, env=_env(marker, tmp_path))
    try:
        deadline = time.monotonic() + 240
        while "pretraining 40 graphs" not in (tmp_path / "qs.log").read_text() and time.monotonic() < deadline:
            assert proc.poll() is None, (tmp_path / "qs.log").read_text()
            time.sleep(0.5)
        assert "pretraining 40 graphs" in (tmp_path / "qs.log").read_text(), (tmp_path / "qs.log").read_text()
        assert _marked(marker)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        deadline = time.monotonic() + 30
        while _marked(marker) and time.monotonic() < deadline:
            time.sleep(0.5)
        left = _marked(marker)
        assert not left, f"processes left running after SIGTERM: {left}"
        assert proc.returncode != 0
    finally:
        for pid in _marked(marker):
            os.kill(pid, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
        log.close()
