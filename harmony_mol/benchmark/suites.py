"""What each suite runs by default, its metric, and the published numbers printed beside ours.

Anchor values are copied from the publication or leaderboard in each row's ``source`` (with its evidence
tag); a row's ``protocol`` says how far it is comparable with our run.
"""

from __future__ import annotations

from dataclasses import dataclass

HU_DATASETS = ("bbbp", "tox21", "toxcast", "sider", "clintox", "muv", "hiv", "bace")
REGRESSION_DATASETS = ("esol", "freesolv", "lipophilicity")
CRYSTAL_DATASETS = ("matbench-perovskites", "perov5")


@dataclass(frozen=True)
class Anchor:
    """One published row: ``values`` maps dataset -> number (ROC-AUC in %, RMSE, MAE)."""

    name: str
    values: dict[str, float]
    protocol: str
    source: str
    split: str = ""


@dataclass(frozen=True)
class Suite:
    """Defaults and anchors of one suite."""

    name: str
    datasets: tuple[str, ...]
    metric: str
    higher_is_better: bool
    presets: tuple[str, ...]
    anchors: tuple[Anchor, ...] = ()
    scale: float = 1.0  # multiply our metric by this before printing (ROC-AUC -> %)
    notes: str = ""


_HU = "Hu et al. protocol: ZINC15-2M pretraining, their scaffold split of their cleaned MoleculeNet files, 10 seeds"
_HU_ANCHORS = (
    Anchor("GIN, no pretraining (Hu et al. 2020)", dict(bbbp=65.8, tox21=74.0, toxcast=63.4, sider=57.3, clintox=58.0,
                                                        muv=71.8, hiv=75.3, bace=70.1), _HU,
           "Hu et al. ICLR'20 Table 1 [P]"),
    Anchor("GraphMAE (GIN)", dict(bbbp=72.0, tox21=75.5, toxcast=64.1, sider=60.3, clintox=82.3, muv=76.3, hiv=77.2,
                                  bace=83.1), _HU, "THUDM/GraphMAE README [V]"),
    Anchor("Mole-BERT (GIN)", dict(bbbp=71.9, tox21=76.8, toxcast=64.3, sider=62.8, clintox=78.9, muv=78.6, hiv=78.2,
                                   bace=80.8), _HU, "Mole-BERT ICLR'23 Table 1 [S]"),
    Anchor("SimSGT (GraphTrans)", dict(bbbp=72.2, tox21=76.8, toxcast=65.9, sider=61.7, clintox=85.7, muv=81.4,
                                       hiv=78.0, bace=84.3), _HU, "SimSGT NeurIPS'23 [P]"),
)
_RANDOM = "50 random 8:1:1 splits (Jiang et al. 2021)"
_SCAF = "GEM / Uni-Mol scaffold split 8:1:1 (their split code, 3 seeds)"
_REG_ANCHORS = (
    Anchor("RF (Jiang et al. 2021)", dict(esol=0.663, freesolv=1.143, lipophilicity=0.659), _RANDOM,
           "J. Cheminform. 2021 Table 6 [V]", split="random"),
    Anchor("AttentiveFP re-run (Jiang et al. 2021)", dict(esol=0.587, freesolv=1.091), _RANDOM,
           "J. Cheminform. 2021 Table 6 [V]", split="random"),
    Anchor("D-MPNN (GEM table)", dict(esol=1.050, freesolv=2.082, lipophilicity=0.683), _SCAF, "GEM Nat. MI 2022 [P]",
           split="scaffold"),
    Anchor("Uni-Mol (3D, 19M molecules)", dict(esol=0.788, freesolv=1.480, lipophilicity=0.603), _SCAF,
           "Uni-Mol ICLR'23 [P]", split="scaffold"),
)
_MB = "Matbench v0.1 5-fold (KFold shuffle, random_state 18012019), mean test MAE"
_CRY_ANCHORS = (
    Anchor("coGN", {"matbench-perovskites": 0.0269}, _MB, "matbench leaderboard @936176db [V]"),
    Anchor("ALIGNN", {"matbench-perovskites": 0.0288}, _MB, "matbench leaderboard @936176db [V]"),
    Anchor("CGCNN v2019", {"matbench-perovskites": 0.0452}, _MB, "matbench leaderboard @936176db [V]"),
    Anchor("Dummy (mean)", {"matbench-perovskites": 0.5660}, _MB, "matbench leaderboard @936176db [V]"),
)

SUITE_DEFS: dict[str, Suite] = {
    "moleculenet-hu": Suite("moleculenet-hu", HU_DATASETS, "roc_auc", True, ("harmony", "hu"), _HU_ANCHORS, 100.0,
                            notes="Pretraining corpus: the 186k-SMILES shared corpus (ZINC decoys + ChEMBL + MOSES), "
                                  "not Hu et al.'s ZINC15-2M; scaffold split computed by harmony_mol.data.splits "
                                  "on the MoleculeNet CSVs (deterministic, largest scaffold sets to train)."),
    "regression": Suite("regression", REGRESSION_DATASETS, "rmse", False, ("harmony",), _REG_ANCHORS,
                        notes="FreeSolv deduplicated (642 compounds). Published rows use other split code and "
                              "other seeds; they are context, not a matched comparison."),
    "crystals": Suite("crystals", CRYSTAL_DATASETS, "mae", False, ("crystal",), _CRY_ANCHORS,
                      notes="Matbench perovskites: the DeepChem copy of the same 18,928 structures and e_form target; "
                            "folds from sklearn KFold(5, shuffle=True, random_state=18012019) as in Matbench; "
                            "validation = a seeded 10% of each training fold. The `dummy` row (training-fold mean) "
                            "reproduces Matbench's Dummy MAE 0.5660 on these folds (computed: 0.5660), so target, unit "
                            "(eV per 5-atom cell) and folds match the leaderboard. Perov-5: CDVAE's val/test files, "
                            "training on the 1,024-structure perov_5_dev train subset (the full train file is not "
                            "available), target heat_ref."),
}

#: Fine-tuning datasets needing special featurization options.
DEDUPE = {"freesolv"}
