"""Masking strategies select what they claim (per-graph counts, never all nodes, hardest first)."""

from __future__ import annotations

import pytest
import torch

from harmony_mol.ssl.difficulty import DifficultyBuffer
from harmony_mol.ssl.masking import diffi_mask, make_mask, mask_counts, prob_mask, random_mask, rank_within_graph

SIZES = [1, 2, 3, 5, 9, 17, 40]


def _batch(sizes=SIZES, shuffle: bool = False) -> torch.Tensor:
    b = torch.repeat_interleave(torch.arange(len(sizes)), torch.tensor(sizes))
    if shuffle:
        b = b[torch.randperm(b.numel(), generator=torch.Generator().manual_seed(1))]
    return b


def test_mask_counts_rule() -> None:
    n, k = mask_counts(_batch(), 0.25)
    assert n.tolist() == SIZES
    # max(1, round(R n)) capped at n - 1: a 1-atom graph is never masked, a 2-atom one gets 1
    assert k.tolist() == [0, 1, 1, 1, 2, 4, 10]


def test_rank_within_graph_is_per_graph() -> None:
    b = torch.tensor([0, 1, 0, 1, 1, 0])
    score = torch.tensor([3.0, 1.0, 1.0, 5.0, 2.0, 2.0])
    assert rank_within_graph(score, b).tolist() == [2, 0, 0, 2, 1, 1]
    assert rank_within_graph(score, b, descending=True).tolist() == [0, 2, 2, 0, 1, 1]


@pytest.mark.parametrize("shuffle", [False, True])
def test_random_mask_exact_counts(shuffle: bool) -> None:
    b = _batch(shuffle=shuffle)
    _, k = mask_counts(b, 0.25)
    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        m = random_mask(b, 0.25, g)
        assert torch.bincount(b[m], minlength=len(SIZES)).tolist() == k.tolist()


def test_random_mask_uniform() -> None:
    b = torch.zeros(10, dtype=torch.long)
    g = torch.Generator().manual_seed(0)
    freq = torch.stack([random_mask(b, 0.3, g) for _ in range(3000)]).float().mean(0)
    assert torch.allclose(freq, torch.full((10,), 0.3), atol=0.04)


def test_diffi_takes_hardest_then_random() -> None:
    sizes = [20, 8]
    b = _batch(sizes)
    diff = torch.cat([torch.arange(20.0), torch.arange(8.0)])
    g = torch.Generator().manual_seed(0)
    hits = torch.zeros(28)
    for _ in range(500):
        m = diffi_mask(diff, b, ratio=0.5, exploit=0.5, generator=g)
        assert torch.bincount(b[m], minlength=2).tolist() == [10, 4]
        # floor(n R r): 5 hardest of graph 0 (15..19) and 2 of graph 1 (6, 7) always masked
        assert m[15:20].all() and m[26:28].all()
        hits += m.float()
    # the rest is random: the 15 easy nodes of graph 0 share 5 slots (p = 1/3)
    assert torch.allclose(hits[:15] / 500, torch.full((15,), 1 / 3), atol=0.08)


def test_diffi_all_equal_is_random() -> None:
    b = torch.zeros(12, dtype=torch.long)
    g = torch.Generator().manual_seed(0)
    freq = torch.stack([diffi_mask(torch.zeros(12), b, 0.25, 0.5, g) for _ in range(2000)]).float().mean(0)
    assert torch.allclose(freq, torch.full((12,), 0.25), atol=0.05)


def test_prob_probabilities_and_expected_count() -> None:
    n = 10
    b = torch.zeros(n, dtype=torch.long)
    diff = torch.linspace(0, 1, n)
    g = torch.Generator().manual_seed(0)
    draws = torch.stack([prob_mask(diff, b, 0.4, 0.5, g, min_one=False) for _ in range(4000)]).float()
    expect = 0.4 * 0.5 + 0.4 * 0.5 * diff
    assert torch.allclose(draws.mean(0), expect, atol=0.04)
    # expected count <= R n (equality only if all nodes are equally hard)
    assert draws.sum(1).mean() < 0.4 * n


def test_prob_hard_nodes_masked_more_often_and_scale_invariant() -> None:
    sizes = [6, 30]
    b = _batch(sizes)
    hard = 1000 * torch.rand(30, generator=torch.Generator().manual_seed(3))
    diff = torch.cat([torch.tensor([0.0, 0, 0, 0, 0, 1e-3]), hard])
    g = torch.Generator().manual_seed(0)
    freq = torch.stack([prob_mask(diff, b, 0.5, 1.0, g) for _ in range(2000)]).float().mean(0)
    # per-graph normalisation: the tiny-valued hardest node of graph 0 is still masked with p = R
    assert freq[5] > 0.4 and freq[:5].max() < 0.3
    hard = diff[6:].argmax() + 6
    easy = diff[6:].argmin() + 6
    assert freq[hard] > freq[easy] + 0.3


def test_prob_never_all_and_min_one() -> None:
    b = _batch([2, 3, 4])
    g = torch.Generator().manual_seed(0)
    diff = torch.ones(9)
    for _ in range(300):
        m = prob_mask(diff, b, 0.95, 0.5, g)  # p ~ 0.95: would often mask everything
        counts = torch.bincount(b[m], minlength=3)
        assert (counts < torch.tensor([2, 3, 4])).all() and (counts >= 1).all()


def test_make_mask_dispatch_and_errors() -> None:
    b = _batch()
    assert make_mask("prob", b, 0.25, difficulty=None).sum() == mask_counts(b, 0.25)[1].sum()
    with pytest.raises(ValueError):
        make_mask("attn", b, 0.25)
    with pytest.raises(ValueError):
        random_mask(b, 1.5)


def test_difficulty_buffer_keys_atoms_by_graph_and_offset() -> None:
    node_ptr = torch.tensor([0, 3, 5, 9])
    buf = DifficultyBuffer(node_ptr)
    # a batch holding dataset graphs 2 and 0 (in that order)
    gi = torch.tensor([2, 0])
    batch = torch.tensor([0, 0, 0, 0, 1, 1, 1])
    ptr = torch.tensor([0, 4, 7])
    assert buf.atom_ids(gi, batch, ptr).tolist() == [5, 6, 7, 8, 0, 1, 2]
    diff, seen = buf.lookup(gi, batch, ptr)
    assert not seen.any() and (diff == 0).all()
    buf.update(gi[:1], batch[:4], ptr[:2], torch.tensor([1.0, 2.0, 3.0, 4.0]))
    diff, seen = buf.lookup(gi, batch, ptr)
    assert seen.tolist() == [True, False]
    assert diff.tolist() == [1.0, 2.0, 3.0, 4.0, 0.0, 0.0, 0.0]
