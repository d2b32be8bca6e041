# has-assistant — the two commands a newcomer needs:
#   make run    install into .venv, then run the assistant on the bundled HAS corpus
#   make test   install into .venv (with test tools), then lint and run the test suite
#   make eval   the evaluation report and its regression gate (eval/thresholds.toml)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# extras to install; CI adds the sentence-transformers backend: EXTRAS=dev,st-test
EXTRAS ?= dev
# requirements to install first, e.g. PREINSTALL="torch==2.13.0" (a CPU build, so that the
# st extra does not pull a multi-GB CUDA build) or a prebuilt llama-cpp-python wheel
PREINSTALL ?=

.PHONY: run test lint eval install clean package-check

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(if $(PREINSTALL),$(BIN)/python -m pip install -q $(PREINSTALL))
	$(BIN)/python -m pip install -q -e ".[$(EXTRAS)]"
	echo "$(EXTRAS) $(PREINSTALL)" > $@

install: $(VENV)/.installed

run: install
	$(BIN)/has-assistant corpus list
	$(BIN)/has-assistant ingest
	$(BIN)/has-assistant ask "Quels sont les trois axes du cadre de confiance ?"
	$(BIN)/has-assistant serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/python -m pytest

# the evaluation as a regression gate (eval/thresholds.toml): the bundled corpus with its gold
# sets and the labelled support pairs, the fictitious PDF corpus, the fictitious HAS-style
# corpus (each folder's questions*.jsonl); reports in artifacts/eval/
BUNDLED_SETS = questions questions_heldout answerability_dev answerability_heldout \
	answerability_heldout2
PAIR_SETS = grounding_pairs support_pairs_dev support_pairs_heldout support_pairs_heldout2
eval: install
	$(BIN)/has-assistant eval --corpus corpus $(foreach s,$(BUNDLED_SETS),--questions eval/$(s).jsonl) \
		$(foreach s,$(PAIR_SETS),--pairs eval/$(s).jsonl) --baseline --report artifacts/eval/bundled
	$(BIN)/has-assistant eval --corpus tests/eval_corpus --baseline --report artifacts/eval/fictif
	$(BIN)/has-assistant eval --corpus tests/eval_corpus_style --baseline --report artifacts/eval/style

# build the sdist and the wheel, install the wheel in a fresh venv, run it from an empty folder
package-check: install
	.ci/package-check $(BIN)/python

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
