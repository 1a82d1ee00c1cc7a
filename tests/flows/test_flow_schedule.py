"""Scheduled pretraining against a real local ``prefect server`` (slow, ~2-3 min).

Starts ``prefect server start`` on a free loopback port and ``harmony serve`` in their
own process groups with their own PREFECT_HOME, registers a ``* * * * *`` deployment, waits for a
scheduled run to complete, then fires a run while another process holds the run directory's lock (a run
still training): it must end Cancelled without touching ``last.pt``; once the lock is free, runs
complete again, and the completed runs must have resumed from each other's ``last.pt``.
Every process started here is stopped by process group in ``finally``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.flows.conftest import write_tiny_csv

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _api(url: str, path: str, body: dict[str, Any] | None = None, tries: int = 10) -> Any:
    """One API call; a 503 is retried, as Prefect's own client does.

    The server answers 503 only for errors it marks retryable (``is_client_retryable_exception`` in
    ``prefect/server/api/server.py``: SQLite busy or locked, the transaction rolled back), which a
    loaded 2-core CI machine does produce; any other error fails the test at once.
    """
    req = urllib.request.Request(url + path, method="POST" if body is not None else "GET",
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json"})
    for attempt in range(tries):
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            if e.code != 503 or attempt == tries - 1:
                raise
            time.sleep(1 + attempt)


def _wait(pred: Any, timeout: float, what: str, procs: list[subprocess.Popen]) -> Any:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        for p in procs:
            if p.poll() is not None:
                raise AssertionError(f"a process exited early ({p.args}); see its log")
        try:
            got = pred()
        except OSError:
            got = None
        if got:
            return got
        time.sleep(2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    pgid = os.getpgid(proc.pid)
    os.killpg(pgid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(pgid, signal.SIGKILL)  # children (uvicorn, flow-run subprocesses) too
    except ProcessLookupError:
        pass
    proc.wait(timeout=10)


def _runs(url: str, dep_id: str) -> list[dict[str, Any]]:
    return _api(url, "/flow_runs/filter", {"flow_runs": {"deployment_id": {"any_": [dep_id]}}})


@pytest.mark.slow
def test_cron_deployment_runs_resumes_and_refuses_overlap(tmp_path: Path, lock_holder) -> None:
    from harmony_mol.data.build import build_dataset
    from harmony_mol.data.config import FeaturizeConfig

    ds = build_dataset(FeaturizeConfig(inputs=(str(write_tiny_csv(tmp_path / "t.csv")),), output=tmp_path / "ds",
                                       target_columns=(), progress=False))
    pre = tmp_path / "pretrain.yaml"
    pre.write_text(yaml.safe_dump({"encoder": {"hidden_dim": 16, "wgcn_hidden": 16, "mlp_hidden": 16, "heads": 2},
                                   "batch_size": 16, "epochs": 1, "device": "cpu", "progress": False,
                                   "log_every": 1, "checkpoint_every": 1}))
    dep_yaml = tmp_path / "deploy.yaml"
    dep_yaml.write_text(yaml.safe_dump({"name": "test-nightly", "cron": "* * * * *", "pretrain_config": str(pre),
                                        "dataset": str(ds.path), "out_dir": str(tmp_path / "pt"), "steps_per_run": 2}))
    port = _free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(tmp_path / "prefect-home"), DO_NOT_TRACK="1", PREFECT_SERVER_ANALYTICS_ENABLED="false",
               PREFECT_UI_ENABLED="false", PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS="5",
               PREFECT_RUNNER_POLL_FREQUENCY="2", PYTHONUNBUFFERED="1")
    logs = {n: open(tmp_path / f"{n}.log", "w") for n in ("server", "serve")}
    procs: list[subprocess.Popen] = []
    try:
        procs.append(subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                                       "--port", str(port)], env=env, cwd=tmp_path, stdout=logs["server"],
                                      stderr=subprocess.STDOUT, start_new_session=True))
        _wait(lambda: _api(url, "/health") is True, 150, "the server's /health", procs)
        procs.append(subprocess.Popen([sys.executable, "-c", "from harmony_mol.cli import main; main()", "serve",
                                       "--config", str(dep_yaml)],
                                      env={**env, "PREFECT_API_URL": url}, cwd=REPO, stdout=logs["serve"],
                                      stderr=subprocess.STDOUT, start_new_session=True))
        deps = _wait(lambda: _api(url, "/deployments/filter", {"deployments": {"name": {"any_": ["test-nightly"]}}}),
                     90, "the deployment to be registered", procs)
        dep = deps[0]
        assert dep.get("global_concurrency_limit") is None  # the run lock is the one overlap guard
        assert dep["parameters"]["resume"] is True

        def completed() -> list[dict[str, Any]]:
            return [r for r in _runs(url, dep["id"]) if r["state_type"] == "COMPLETED"]

        first = _wait(completed, 150, "a scheduled run to complete", procs)
        assert first[0]["auto_scheduled"] is True
        terminal = {"COMPLETED", "CANCELLED", "FAILED", "CRASHED"}

        def finished(run_id: str) -> dict[str, Any] | None:
            return next((r for r in _runs(url, dep["id"]) if r["id"] == run_id and r["state_type"] in terminal), None)

        # a run that comes due while another holds the run directory is refused and touches nothing
        last = tmp_path / "pt" / "last.pt"
        holder = lock_holder(tmp_path / "pt" / ".run.lock")
        n_before, ckpt_before = len(completed()), last.read_bytes()
        run_id = _api(url, f"/deployments/{dep['id']}/create_flow_run", {})["id"]
        done = _wait(lambda: finished(run_id), 120, "the overlapping run to end", procs)
        assert done["state_type"] == "CANCELLED", done["state_name"]
        assert last.read_bytes() == ckpt_before and len(completed()) == n_before
        holder.kill()
        holder.wait()
        # the lock is free again: runs complete (a cron run may come due beside this one; one of them trains)
        run_id = _api(url, f"/deployments/{dep['id']}/create_flow_run", {})["id"]
        after = _wait(lambda: finished(run_id), 120, "the next run to end", procs)
        assert after["state_type"] in {"COMPLETED", "CANCELLED"}, after["state_name"]
        _wait(lambda: len(completed()) > n_before, 120, "a run to complete after the lock was freed", procs)
        # every completed run resumed from the previous one's last.pt and added steps_per_run steps
        import torch

        n_completed = len(completed())
        step = torch.load(tmp_path / "pt" / "last.pt", weights_only=True)["step"]
        assert step == 2 * n_completed
    finally:
        for p in reversed(procs):
            _stop(p)
        for fh in logs.values():
            fh.close()
