# The two README commands. Both build (or reuse) the venv first; see .ci/env.sh.
.PHONY: quickstart test
quickstart:
	@bash -c 'source .ci/env.sh && harmony quickstart'
test:
	@bash -c 'source .ci/env.sh && python -m pytest -q -p no:cacheprovider'
