# The two README commands. Both build (or reuse) the venv first; see .ci/env.sh.
.PHONY: quickstart test chemprop
quickstart:
	@bash -c 'source .ci/env.sh && harmony quickstart'
test:
	@bash -c 'source .ci/env.sh && ruff check . && python -m pytest -q -p no:cacheprovider'
# Optional: chemprop v2 for the benchmark suites, in a side folder (see requirements-bench.txt).
chemprop:
	@bash -c 'source .ci/env.sh && pip install -q --no-deps --target $${HARMONY_CHEMPROP_SITE:-$$HOME/.cache/harmony-mol/chemprop-site} -r requirements-bench.txt'
