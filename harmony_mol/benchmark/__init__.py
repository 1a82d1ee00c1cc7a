"""Graph-level accuracy benchmark suites: ``moleculenet-hu``, ``regression``, ``crystals``.

:func:`harmony_mol.benchmark.run.run_benchmark` runs one suite (our encoder pretrained and from
scratch, a same-size GIN, a same-width CGCNN on crystals, fingerprint / composition random forests
and chemprop on identical splits) and writes ``report.md`` + ``results.csv`` + plots under ``data/results/<suite>/``.
The node-classification suite lives in :mod:`harmony_mol.benchmark.nodes` and the throughput figures of
``harmony speed`` in :mod:`harmony_mol.benchmark.speed`: this package is the research harness, not the
library users import.
"""
