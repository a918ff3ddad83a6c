# The two set-up-and-go commands of README.md:  `make demo`  and  `make test`.
# Both create or reuse the project-local virtual environment .venv (tools/setup_env.sh).
SHELL := /bin/bash
VENV ?= .venv
export MDRDX_VENV := $(VENV)

.PHONY: setup demo test docs export run-nbs bench
setup:
	@bash tools/setup_env.sh

demo: setup                 ## the main job on the embedded default data
	$(VENV)/bin/mdrdx demo

test:                       ## set up, then every test stage as CI runs it, with a timing table at the end
	@bash tools/test.sh

docs: setup                 ## the offline docs site in _site/ (and its browser check)
	$(VENV)/bin/python tools/build_docs.py && $(VENV)/bin/python tools/check_docs.py

export: setup               ## export nbs/ into mdrdx/, refresh sidebar/README, clean the notebooks
	$(VENV)/bin/nbdev_export && $(VENV)/bin/python tools/build_docs.py --sync && $(VENV)/bin/nbdev_clean

run-nbs: setup              ## execute the notebooks in place (outputs for the docs), experiments with full parameters
	$(VENV)/bin/python tools/run_nbs.py && $(VENV)/bin/python tools/run_experiments.py --inplace && $(VENV)/bin/nbdev_clean

bench: setup                ## benchmarks: print their tables and write CSVs to benchmarks/results/
	$(VENV)/bin/python benchmarks/suite.py --with-demo
