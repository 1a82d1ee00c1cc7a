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
    assert "random_init" in res.output and "graphmae" in res.output  # and beside the reference rows
    report = (out / "report.md").read_text()
    assert "| texas (quick) |" in report and "val-selected" in report and "Git commit" in report
    assert (out / "accuracy.png").stat().st_size > 1000
    rec = json.loads((out / "records" / "texas.json").read_text())
    assert rec["summary"]["n"] == 1 and rec["config"]["epochs"] == 6
    assert 0.0 <= rec["splits"][0]["test_at_val"] <= 1.0
    lines = (out / "results.csv").read_text().splitlines()
    assert lines[0].startswith("dataset,") and lines[1].startswith("texas,")
    assert lines[0] == "dataset,split,seed,model,val_acc_pct,val_selected_test_pct,test_max_pct,epoch"
    models = [line.split(",")[3] for line in lines[1:]]
    assert sorted(models) == sorted(["harmony", "random-init", "raw-features", "supervised", "graphmae"])
    assert (out / "summary.csv").read_text().startswith("dataset,")
    assert {r["model"] for r in rec["baseline_rows"]} == set(rec["config"]["baselines"])

    # --report-only still works on a record written before the baselines existed (raw-features recomputed)
    del rec["baseline_rows"], rec["raw_probe"]
    (out / "records" / "texas.json").write_text(json.dumps(rec))
    res = CliRunner().invoke(app, ["benchmark", "nodes", "--report-only", "--out", str(out)])
    assert res.exit_code == 0, res.output
    models = [line.split(",")[3] for line in (out / "results.csv").read_text().splitlines()[1:]]
    assert sorted(models) == ["harmony", "raw-features"]
    assert "| texas (quick) |" in (out / "report.md").read_text()


def test_misspelled_override_is_one_line(shared_data, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HARMONY_DATA_DIR", str(shared_data))
    res = CliRunner().invoke(app, ["benchmark", "nodes", "--datasets", "texas", "--quick", "--out", str(tmp_path / "n"),
                                   "--set", "recon_weigth=1"])
    assert res.exit_code == 1
    assert "unknown key(s) recon_weigth" in res.output and "Traceback" not in res.output
