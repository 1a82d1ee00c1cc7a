"""End to end: a --quick node benchmark on Texas writes a report (CLI and library)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from harmony_mol.cli import app


def test_quick_texas_cli_writes_report(shared_data, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HARMONY_DATA_DIR", str(shared_data))
    out = tmp_path / "nodes"
    res = CliRunner().invoke(app, ["benchmark", "nodes", "--datasets", "texas", "--quick", "--out", str(out),
                                   "--config-dir", str(tmp_path / "none"), "--threads", "1",
                                   "--set", "encoder={hidden_dim: 32, wgcn_hidden: 32, mlp_hidden: 32}"])
    assert res.exit_code == 0, res.output
    assert "texas" in res.output and "92.45" in res.output  # ours printed beside the paper's +Prob
    report = (out / "report.md").read_text()
    assert "| texas (quick) |" in report and "val-selected" in report and "Git commit" in report
    assert (out / "accuracy.png").stat().st_size > 1000
    rec = json.loads((out / "records" / "texas.json").read_text())
    assert rec["summary"]["n"] == 1 and rec["config"]["epochs"] == 6
    assert 0.0 <= rec["splits"][0]["test_at_val"] <= 1.0
    lines = (out / "results.csv").read_text().splitlines()
    assert lines[0].startswith("dataset,") and lines[1].startswith("texas,")
