# Two commands for a fresh clone: `make run` opens the dashboard, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501

.PHONY: run test lint bench demo screenshots clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

# Jobs run in a pool of worker processes (one per core; LSTM_LAB_WORKERS=N to change it),
# started with the dashboard: `LSTM_LAB_WORKERS=4 make run`. LSTM_LAB_IN_PROCESS=1 trains in
# threads of the web process instead; LSTM_LAB_RAY_ADDRESS=auto sends jobs to a Ray cluster.
run: $(VENV)/.runtime  ## install runtime deps and open the dashboard (with its worker processes)
	$(PY) -m lstm_lab.ui.serve --server.port $(PORT)

test: $(VENV)/.dev  ## install runtime + dev deps and run every test
	$(PY) -m pytest

screenshots: $(VENV)/.dev  ## refresh the README's images in docs/ from the real-browser journeys
	LSTM_LAB_SCREENSHOTS=docs $(PY) -m pytest tests/e2e -q -k "every_page_loads or csv_upload or training_shows_results"

lint: $(VENV)/.dev
	$(PY) -m ruff check .

demo: $(VENV)/.runtime  ## the default experiment on the command line
	$(PY) -m lstm_lab run --dataset air_passengers

bench: $(VENV)/.runtime
	$(PY) bench/training_speed.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
