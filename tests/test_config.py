"""``harmony_mol.config``: strict YAML + override loading of the stage dataclasses (pydantic underneath)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import pytest
from pydantic import Field

from harmony_mol.benchmark.nodes.config import NodeRunConfig
from harmony_mol.config import ConfigError, config_from_dict, config_to_dict, dump_config, load_config
from harmony_mol.data.config import FeaturizeConfig
from harmony_mol.finetune.config import FinetuneConfig
from harmony_mol.ssl.config import PretrainConfig

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Wide:
    """A union member tagged ``arch: wide``."""

    arch: Literal["wide"] = "wide"
    width: int = 8
    hops: tuple[int, ...] = (1, 3)


@dataclass(frozen=True)
class Deep:
    """A union member tagged ``arch: deep``."""

    arch: Literal["deep"] = "deep"
    width: int = 8
    layers: int = 5

    def __post_init__(self) -> None:
        if self.layers < 1:
            raise ValueError(f"net.layers must be >= 1, got {self.layers}")


@dataclass(frozen=True)
class Plain:
    """``net`` is a plain union: a missing ``arch`` picks the first member that fits."""

    net: Wide | Deep = field(default_factory=Wide)
    lr: float = 0.1


@dataclass(frozen=True)
class Tagged:
    """``net`` is a pydantic discriminated union: ``arch`` must be given."""

    net: Annotated[Wide | Deep, Field(discriminator="arch")] = field(default_factory=Wide)


@pytest.mark.parametrize("cls", [Plain, Tagged])
def test_union_of_dataclasses_is_picked_by_arch(cls: type) -> None:
    assert load_config(cls, None, ["net.arch=deep", "net.layers=2"]).net == Deep(layers=2)
    assert load_config(cls, None, {"net": {"arch": "wide", "hops": [1, 2]}}).net == Wide(hops=(1, 2))
    cfg = load_config(cls, None, ["net.arch=deep", "net.width=4"])
    lr = {"lr": 0.1} if cls is Plain else {}
    assert config_to_dict(cfg) == {"net": {"arch": "deep", "width": 4, "layers": 5}, **lr}
    assert config_from_dict(cls, config_to_dict(cfg)) == cfg
    with pytest.raises(ConfigError) as err:  # a key of the other member, named with the valid keys of this one
        load_config(cls, None, ["net.arch=deep", "net.hops=[1, 2]"])
    assert str(err.value) == "<defaults>: unknown key(s) net.hops; valid keys here: arch, layers, width"
    with pytest.raises(ConfigError, match=r"net.width: Input should be a valid integer, got 'x'$"):
        load_config(cls, None, ["net.arch=deep", "net.width=x"])
    with pytest.raises(ConfigError, match="net.layers must be >= 1, got 0"):  # the member's __post_init__
        load_config(cls, None, ["net.arch=deep", "net.layers=0"])
    with pytest.raises(ConfigError, match="'wide'.*'deep'|'deep'.*'wide'"):
        load_config(cls, None, ["net.arch=gat"])


def test_plain_union_defaults_to_the_first_member_that_fits() -> None:
    assert load_config(Plain, None, ["net.width=4"]).net == Wide(width=4)
    assert load_config(Plain, None, ["net.layers=2"]).net == Deep(layers=2)
    with pytest.raises(ConfigError, match="arch"):
        load_config(Tagged, None, ["net.width=4"])


def test_yaml_values_load_as_before(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("dataset: d\nout_dir: runs/x\noptim: {lr: 1, betas: [0.8, 0.9]}\nprogress: null\n"
                    "masking: {strategy: diffi}\nepochs: 3\n")
    cfg = load_config(PretrainConfig, path, ["max_steps=2", "masking.mask_edges=true"])
    assert cfg.out_dir == Path("runs/x") and cfg.optim.betas == (0.8, 0.9) and cfg.progress is None
    assert cfg.optim.lr == 1.0 and type(cfg.optim.lr) is float and cfg.epochs == 3 and cfg.max_steps == 2
    assert cfg.masking.strategy == "diffi" and cfg.encoder.edge_mask_token  # __post_init__ ran
    assert config_from_dict(PretrainConfig, config_to_dict(cfg)) == cfg
    dump_config(cfg, tmp_path / "again.yaml")
    assert load_config(PretrainConfig, tmp_path / "again.yaml") == cfg
    ft = load_config(FinetuneConfig, None, {"data": {"input": "x", "target_columns": ["a"]}, "seeds": [1, 2],
                                            "split.file": tmp_path, "split.method": "file"})
    assert ft.data.target_columns == ("a",) and ft.seeds == (1, 2) and ft.split.file == tmp_path


@pytest.mark.parametrize(("override", "message"), [
    ("epochs=x", "epochs: Input should be a valid integer, got 'x'"),
    ("epochs=1.0", "epochs: Input should be a valid integer, got 1.0"),
    ("optim.lr=1e-3", "optim.lr: Input should be a valid number, got '1e-3'"),  # YAML 1.1 reads a string
    ("bf16=1", "bf16: Input should be a valid boolean, got 1"),
    ("device=1", "device: Input should be a valid string, got 1"),
    ("masking.strategy=foo", "masking.strategy: Input should be 'random', 'diffi' or 'prob', got 'foo'"),
    ("optim.betas=[1, 2, 3]", "optim.betas: Tuple should have at most 2 items"),
    ("masking=3", "masking: Input should be an object, got 3"),
    ("masking.ratio=2", "masking.ratio must be in (0, 1), got 2.0"),
    ("masking.nope=1", "unknown key(s) masking.nope; valid keys here: difficulty_source, exploit, mask_edges,"),
])
def test_a_bad_value_is_one_line_naming_the_file_and_key(tmp_path: Path, override: str, message: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("dataset: d\n")
    with pytest.raises(ConfigError) as err:
        load_config(PretrainConfig, path, [override])
    assert str(err.value).startswith(f"{path}: {message}") and "\n" not in str(err.value)


def test_unknown_and_missing_keys_of_several_sections(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(NodeRunConfig, None, ["recon_weigth=1", "zz=2"])
    assert str(err.value).startswith("<defaults>: unknown key(s) recon_weigth, zz; valid keys here: baselines,")
    assert str(err.value).endswith("; missing required key dataset")
    path = tmp_path / "pipe.yaml"
    path.write_text("pretrain: {dataset: d, epochs: 2}\nfinetune: {nope: 1}\n")
    assert load_config(PretrainConfig, path, section="pretrain").epochs == 2
    with pytest.raises(ConfigError, match=r"pipe.yaml\[finetune\]: unknown key\(s\) nope; valid keys here: data,"):
        load_config(FinetuneConfig, path, section="finetune")


def test_every_config_file_loads() -> None:
    for sub, cls, over in [("featurize", FeaturizeConfig, []), ("pretrain", PretrainConfig, []),
                           ("finetune", FinetuneConfig, ["data.input=x"]), ("nodes", NodeRunConfig, ["dataset=x"])]:
        paths = sorted((REPO / "configs" / sub).glob("*.yaml"))
        assert paths and all(isinstance(load_config(cls, p, over), cls) for p in paths)
