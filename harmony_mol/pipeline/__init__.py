"""The quickstart pipeline as library code: featurize -> pretrain -> fine-tune -> held-out predict -> summary.

One job per module: :mod:`~harmony_mol.pipeline.config` (the pipeline YAML and the linked stage
configs), :mod:`~harmony_mol.pipeline.run` (:func:`~harmony_mol.pipeline.run.run_pipeline` and the stage
functions), :mod:`~harmony_mol.pipeline.heldout` (the held-out input of the predict stage),
:mod:`~harmony_mol.pipeline.summary` (the report), :mod:`~harmony_mol.pipeline.lock` (the run-directory
lock) and :mod:`~harmony_mol.pipeline.schedule` (scheduled pretraining). No Prefect here: ``flows/`` wraps
these stages as tasks.
"""
