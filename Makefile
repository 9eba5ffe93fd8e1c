.PHONY: run test lint
run:   ## the demo on the sandbox: web + worker + beat, prints the URL and a login
	@bash scripts/run.sh
test:  ## the whole test suite (installs and starts what it needs)
	@bash scripts/test.sh
lint:
	@.venv/bin/ruff check . && .venv/bin/ruff format --check . && APP_ENV=test .venv/bin/mypy
