"""The quickstart pipeline as library code: featurize -> pretrain -> fine-tune -> held-out predict -> summary.

No Prefect here: ``flows/`` wraps these stages as tasks.
"""
