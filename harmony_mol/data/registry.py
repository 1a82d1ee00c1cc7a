"""Known public datasets: short name -> file(s) under the data directory, columns, task and metric.

The data directory is never downloaded into; it is found with :func:`data_dir` (explicit argument,
then ``$HARMONY_DATA_DIR``, then ``<repo>/../shared/data``). ``url`` records each dataset's canonical
public source for provenance only.
"""

from __future__ import annotations

import importlib.util
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Task = Literal["classification", "regression", "none"]


@dataclass(frozen=True)
class DatasetEntry:
    """One dataset file (or a group of files read one after the other).

    Args:
        name: Short name used on the command line (``harmony featurize --input bbbp``).
        relpaths: Files (or folders) relative to the data directory, read in this order.
        target_columns: Label columns; ``None`` means "every column except ``exclude_columns``"
            (resolved from the header at read time), ``()`` means no labels.
        exclude_columns: Non-label columns when ``target_columns`` is ``None``.
        task: ``classification``, ``regression`` or ``none`` (unlabelled corpus).
        metric: The literature metric (``roc_auc``, ``rmse``, ``mae``).
        url: Canonical public source (recorded, never fetched).
        notes: Warts worth knowing.
    """

    name: str
    relpaths: tuple[str, ...]
    kind: Literal["molecule", "crystal"]
    task: Task
    metric: str
    url: str
    smiles_column: str | None = None
    cif_column: str | None = None
    id_column: str | None = None
    target_columns: tuple[str, ...] | None = ()
    exclude_columns: tuple[str, ...] = ()
    notes: str = ""


@dataclass(frozen=True)
class ResolvedInput:
    """One concrete input file with the reader options that apply to it."""

    path: Path
    kind: Literal["molecule", "crystal"] | None = None
    smiles_column: str | None = None
    cif_column: str | None = None
    id_column: str | None = None
    target_columns: tuple[str, ...] | None = None
    exclude_columns: tuple[str, ...] = field(default_factory=tuple)
    dataset: str | None = None


_MN = "https://moleculenet.org/datasets-1"
_TOX21 = ("NR-AR", "NR-AR-LBD", "NR-AhR", "NR-Aromatase", "NR-ER", "NR-ER-LBD", "NR-PPAR-gamma",
          "SR-ARE", "SR-ATAD5", "SR-HSE", "SR-MMP", "SR-p53")
_CHEMBL = ("pretrain/chembl_deepchem/chembl_5thresh.csv.gz",
           "pretrain/chembl_deepchem/chembl_sparse_ts_test.csv.gz",
           "pretrain/chembl_deepchem/chembl_sparse_ts_valid.csv.gz")
_MOSES = ("pretrain/moses_zinc_samples/train10k.csv", "pretrain/moses_zinc_samples/test.csv",
          "pretrain/moses_zinc_samples/test_scaffolds.csv")
_MOSES_FULL = tuple(f"pretrain/moses_full/{n}.csv.gz" for n in ("train", "test", "test_scaffolds"))
_CDVAE = "https://github.com/txie-93/cdvae"
_ZINC = ("pretrain/zinc_decoys_riniker2013/zinc_decoys.csv.gz",)


def _mol(name: str, rel: str, task: Task, metric: str, targets: tuple[str, ...] | None, id_column: str | None = None,
         exclude: tuple[str, ...] = (), notes: str = "") -> DatasetEntry:
    return DatasetEntry(name=name, relpaths=(rel,), kind="molecule", task=task, metric=metric, url=_MN,
                        smiles_column="smiles", id_column=id_column, target_columns=targets,
                        exclude_columns=exclude, notes=notes)


def _cry(name: str, rels: tuple[str, ...], targets: tuple[str, ...] | None, metric: str, url: str,
         cif: str | None = "cif", id_column: str | None = "material_id", task: Task = "regression",
         notes: str = "") -> DatasetEntry:
    return DatasetEntry(name=name, relpaths=rels, kind="crystal", task=task, metric=metric, url=url,
                        cif_column=cif, id_column=id_column, target_columns=targets, notes=notes)


DATASETS: dict[str, DatasetEntry] = {e.name: e for e in [
    _mol("bbbp", "molecules/bbbp/BBBP.csv", "classification", "roc_auc", ("p_np",), id_column="name",
         notes="11 RDKit-unparseable SMILES; Excel-mangled names"),
    _mol("bace", "molecules/bace/bace.csv.gz", "classification", "roc_auc", ("Class",),
         notes="also a regression target pIC50; 590 descriptor columns are not labels"),
    _mol("clintox", "molecules/clintox/clintox.csv.gz", "classification", "roc_auc", ("FDA_APPROVED", "CT_TOX"),
         notes="4 unparseable SMILES"),
    _mol("tox21", "molecules/tox21/tox21.csv.gz", "classification", "roc_auc", _TOX21, id_column="mol_id",
         notes="sparse labels (blank = missing); 8 unparseable"),
    _mol("sider", "molecules/sider/sider.csv.gz", "classification", "roc_auc", None, exclude=("smiles",),
         notes="27 side-effect tasks"),
    _mol("toxcast", "molecules/toxcast/toxcast_data.csv.gz", "classification", "roc_auc", None,
         exclude=("smiles",), notes="617 sparse assay tasks; 18 unparseable"),
    _mol("hiv", "molecules/hiv/hiv.csv.gz", "classification", "roc_auc", ("HIV_active",),
         notes="7 unparseable"),
    _mol("muv", "molecules/muv/muv.csv.gz", "classification", "prc_auc", None, exclude=("smiles",),
         notes="17 very sparse tasks (MoleculeNet uses PRC-AUC; Hu et al. report ROC-AUC)"),
    _mol("esol", "molecules/esol/delaney-processed.csv", "regression", "rmse",
         ("measured log solubility in mols per litre",), id_column="Compound ID",
         notes="never use the 'ESOL predicted' column as a feature"),
    _mol("freesolv", "molecules/freesolv/SAMPL.csv", "regression", "rmse", ("expt",), id_column="iupac",
         notes="one duplicated compound (rows 20 and 41): use --dedupe for the standard 642"),
    _mol("lipophilicity", "molecules/lipophilicity/Lipophilicity.csv", "regression", "rmse", ("exp",),
         id_column="CMPD_CHEMBLID"),
    DatasetEntry(name="zinc-decoys", relpaths=_ZINC, kind="molecule", task="none", metric="",
                 url="https://github.com/rdkit/benchmarking_platform", smiles_column="smiles",
                 id_column="zinc_id", notes="83,398 rows, 71,017 unique SMILES"),
    DatasetEntry(name="chembl-deepchem", relpaths=_CHEMBL, kind="molecule", task="none", metric="",
                 url="https://github.com/deepchem/deepchem", smiles_column="smiles",
                 notes="SMILES only here; 690 sparse ChEMBL label columns ignored"),
    DatasetEntry(name="moses-zinc", relpaths=_MOSES, kind="molecule", task="none", metric="",
                 url="https://github.com/molecularsets/moses", smiles_column="SMILES"),
    DatasetEntry(name="moses-full", relpaths=_MOSES_FULL, kind="molecule", task="none", metric="",
                 url="https://pypi.org/project/molsets/", smiles_column="SMILES",
                 notes="1,936,962 unique SMILES; the molsets wheel's copy is read when the data directory lacks it"),
    _cry("perov5-val", ("crystals/perov_5/val.csv.gz",), ("heat_ref",), "mae", _CDVAE),
    _cry("perov5-test", ("crystals/perov_5/test.csv.gz",), ("heat_ref",), "mae", _CDVAE),
    _cry("perov5-train-subset", ("crystals/perov_5/train_subset_1024.csv.gz",), ("heat_ref",), "mae", _CDVAE),
    _cry("carbon24-val", ("crystals/carbon_24/val.csv.gz",), ("energy_per_atom",), "mae", _CDVAE),
    _cry("carbon24-test", ("crystals/carbon_24/test.csv.gz",), ("energy_per_atom",), "mae", _CDVAE),
    _cry("matbench-perovskites", ("crystals/matbench_perovskites/perovskite.json.gz",), ("e_form",), "mae",
         "https://matbench.materialsproject.org/", cif=None, id_column=None,
         notes="JSON lines of pymatgen dicts; use kfold_splits(seed=18012019) for Matbench's protocol"),
    _cry("jarvis-sample", ("crystals/jarvis_dft3d_alignn_sample",), None, "mae",
         "https://github.com/usnistgov/alignn", cif=None, id_column=None,
         notes="50 POSCARs with id_prop.csv (optb88vdw_bandgap)"),
    _cry("cgcnn-sample-regression", ("crystals/cgcnn_sample_regression",), None, "mae",
         "https://github.com/txie-93/cgcnn", cif=None, id_column=None, notes="placeholder targets"),
    _cry("cgcnn-sample-classification", ("crystals/cgcnn_sample_classification",), None, "roc_auc",
         "https://github.com/txie-93/cgcnn", cif=None, id_column=None, task="classification",
         notes="placeholder labels"),
]}

#: Units of the registry's regression targets (label column -> unit), for plot axes.
TARGET_UNITS: dict[str, str] = {
    "expt": "kcal/mol", "calc": "kcal/mol",  # FreeSolv hydration free energy
    "measured log solubility in mols per litre": "log10(mol/L)",  # ESOL
    "exp": "logD",  # Lipophilicity (octanol/water logD at pH 7.4)
    "heat_ref": "eV/atom", "heat_all": "eV/atom", "energy_per_atom": "eV/atom", "e_form": "eV/atom",
    "formation_energy_per_atom": "eV/atom", "dir_gap": "eV", "ind_gap": "eV", "optb88vdw_bandgap": "eV",
}


def target_unit(name: str) -> str | None:
    """Unit of a target column from :data:`TARGET_UNITS` or a trailing ``(...)`` / ``[...]`` (``"gap [eV]"``)."""
    if name in TARGET_UNITS:
        return TARGET_UNITS[name]
    m = re.search(r"\(([^(]*)\)$|\[([^\[]*)\]$", name.strip())
    unit = (m[1] or m[2] or "").strip() if m else ""
    return unit or None


#: Names that expand to several datasets (read one after the other).
GROUPS: dict[str, tuple[str, ...]] = {
    "pretrain-corpus": ("zinc-decoys", "chembl-deepchem", "moses-zinc"),
    "pretrain-corpus-2m": ("moses-full", "zinc-decoys", "chembl-deepchem"),  # moses-zinc is a subset of moses-full
    "perov5": ("perov5-train-subset", "perov5-val", "perov5-test"),
    "carbon24": ("carbon24-val", "carbon24-test"),
}


def data_dir(explicit: str | Path | None = None) -> Path:
    """The shared data directory: ``explicit`` > ``$HARMONY_DATA_DIR`` > ``<repo>/../shared/data``.

    Raises:
        FileNotFoundError: none of the candidates exists (the message lists what was tried).
    """
    repo = Path(__file__).resolve().parents[2]
    cands = [explicit] if explicit else [os.environ.get("HARMONY_DATA_DIR"), repo.parent / "shared" / "data"]
    tried = [Path(c).expanduser() for c in cands if c]
    for p in tried:
        if p.is_dir():
            return p
    raise FileNotFoundError(
        "data directory not found (tried: " + ", ".join(str(t) for t in tried)
        + "); pass it explicitly or set HARMONY_DATA_DIR")


def resolve(name_or_path: str | Path, root: str | Path | None = None) -> list[ResolvedInput]:
    """Turn a dataset name, group name or file path into concrete inputs.

    A name from :data:`DATASETS` or :data:`GROUPS` wins over a relative path of the same spelling.

    Raises:
        FileNotFoundError: unknown name and no such file.
    """
    text = str(name_or_path)
    names = GROUPS.get(text, (text,) if text in DATASETS else ())
    if names:
        base = data_dir(root)
        out = []
        for n in names:
            e = DATASETS[n]
            for rel in e.relpaths:
                p = base / rel
                if not p.exists() and n == "moses-full" and (spec := importlib.util.find_spec("moses")) and spec.origin:
                    p = Path(spec.origin).parent / "dataset" / "data" / p.name  # the molsets wheel's copy
                if not p.exists():
                    raise FileNotFoundError(f"dataset {n!r}: {p} is missing from the data directory {base}")
                out.append(ResolvedInput(path=p, kind=e.kind, smiles_column=e.smiles_column,
                                         cif_column=e.cif_column, id_column=e.id_column,
                                         target_columns=e.target_columns, exclude_columns=e.exclude_columns,
                                         dataset=n))
        return out
    p = Path(text).expanduser()
    if not p.exists():
        known = ", ".join(sorted(set(DATASETS) | set(GROUPS)))
        raise FileNotFoundError(f"{text!r} is neither an existing file/folder nor a known dataset ({known})")
    return [ResolvedInput(path=p)]
