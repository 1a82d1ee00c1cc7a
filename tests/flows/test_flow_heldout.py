"""The quickstart predicts a held-out file, and the Prefect artifacts show the plots themselves.

The held-out file holds the fine-tuning test rows; the plots are base64 PNGs, not local paths. No Prefect
server needed.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pandas as pd
import pytest

from harmony_mol.config import load_config
from harmony_mol.pipeline.config import PipelineConfig, stage_configs
from harmony_mol.pipeline.heldout import write_heldout
from harmony_mol.pipeline.summary import plots_markdown, summary_markdown

from .conftest import make_run

REPO = Path(__file__).resolve().parents[2]


def test_quickstart_predicts_a_held_out_file_not_its_training_file() -> None:
    cfg = load_config(PipelineConfig, REPO / "configs" / "quickstart.yaml")
    for kind in ("molecule", "crystal"):
        st = stage_configs(cfg, kind, base_dir=REPO)  # type: ignore[arg-type]
        assert st.predict_heldout and st.predict_input is None, kind
    with pytest.raises(ValueError, match="not both"):
        load_config(PipelineConfig, None, {"molecule": {"predict_input": "x.csv", "predict_heldout": True}})


def _test_predictions(run: Path, ids: list[str], inputs: list[str], truth: list[float], name: str) -> None:
    run.mkdir(parents=True)
    rows = [{"seed": s, "row_id": i, "id": ids[i], "input": inputs[i], name: truth[i], f"{name}_pred": 0.0}
            for s in (0, 1) for i in range(len(ids))]
    pd.DataFrame(rows).to_csv(run / "test_predictions.csv", index=False)


def test_write_heldout_molecules_and_crystals(tmp_path: Path) -> None:
    from featurizers.readers import count_items, read_items

    _test_predictions(tmp_path / "m", ["a", "b"], ["CCO", "c1ccccc1"], [1.5, -2.0], "expt")
    out = write_heldout(tmp_path / "m", ["unused.csv"], "molecule", tmp_path / "root")
    df = pd.read_csv(out)
    assert out.name == "heldout.csv" and list(df.columns) == ["id", "smiles", "expt"]
    assert df["smiles"].tolist() == ["CCO", "c1ccccc1"] and df["expt"].tolist() == [1.5, -2.0]  # first seed only

    folder = REPO / "data" / "crystals" / "aflow_prototypes"
    ids = pd.read_csv(folder / "id_prop.csv", header=None)[0].tolist()[:3]
    _test_predictions(tmp_path / "c", ids, ids, [1.0, 2.0, 3.0], "target")
    held = write_heldout(tmp_path / "c", [str(folder)], "crystal", tmp_path / "root")
    assert held.is_dir() and count_items(held) == 3
    names, items = read_items(held, "crystal")
    got = list(items)
    assert names == ["target"] and [it.targets[0] for it in got] == [1.0, 2.0, 3.0]
    assert all(not isinstance(it.payload, Exception) for it in got)
    assert write_heldout(tmp_path / "c", [str(folder)], "crystal", tmp_path / "root") == held  # re-run replaces it
    (tmp_path / "root2" / "heldout").mkdir(parents=True)
    (tmp_path / "root2" / "heldout" / "mine.txt").write_text("x")
    with pytest.raises(ValueError, match="refusing to replace"):
        write_heldout(tmp_path / "c", [str(folder)], "crystal", tmp_path / "root2")


def _png(path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1, 1))
    ax.plot([0, 1], [0, 1])
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def test_artifact_markdown_embeds_the_plots(tmp_path: Path) -> None:
    png = _png(tmp_path / "ft" / "plots" / "parity_test_seed0.png")
    md = plots_markdown([png, tmp_path / "missing.png"])
    data = re.search(r"!\[parity_test_seed0\]\(data:image/png;base64,([A-Za-z0-9+/=]+)\)", md)
    assert data and base64.b64decode(data.group(1)) == png.read_bytes()
    metrics = {"task_type": "regression", "metric": "rmse", "target_names": ["y"], "seeds": [0],
               "summary": {"test": {"rmse": {"mean": 1.0, "std": 0.0, "n": 1}}}}
    run = make_run(tmp_path / "ft", metrics)
    embedded = summary_markdown(run, embed_plots=True)
    assert "data:image/png;base64," in embedded and f"`{png}`" not in embedded
    on_disk = summary_markdown(run)
    assert "base64" not in on_disk and f"`{png}`" in on_disk  # summary.md on disk keeps the paths


def test_summary_shows_held_out_predictions_beside_measured_values(tmp_path: Path) -> None:
    pred = tmp_path / "predictions.csv"
    pd.DataFrame({"id": ["a", "b"], "smiles": ["CCO", "CCN"], "expt": [1.0, 2.0], "expt_pred": [1.25, 1.75],
                  "error": ["", ""]}).to_csv(pred, index=False)
    metrics = {"task_type": "regression", "metric": "rmse", "target_names": ["expt"], "seeds": [0], "summary": {}}
    md = summary_markdown(make_run(tmp_path, metrics, pred))
    assert "| id | expt measured | expt predicted |" in md and "| a | 1 | 1.25 |" in md
