# The newcomer's entry points. Meson does the building; this file only
# orders the steps: deps -> build -> demo / check; deb and rpm package the
# working tree on their own (they install only the build's dependencies).
BUILD ?= build
MESON_OPTS ?=

.PHONY: all deps build demo check check-recipes deb rpm bench fuzz lab clean

all: build

deps:
	@sh tools/deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_OPTS)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

# The main job on the bundled example host (no GPU needed).
demo: build
	@sh tools/demo.sh $(BUILD)

# Every test; the last line is "N passed, N failed".
check: build
	@sh tools/check.sh $(BUILD)

# plan --for read by Proxmox's and Nova's own code: their sources and two
# Debian roots with Nova (Zed, 2025.1) made once under build-recipes (root;
# about 1.7 GB and 8 minutes from the mirror), then the recipe test, which
# make check runs with whatever is there.
check-recipes: build
	@sh tests/recipe/prepare.sh build-recipes
	meson test -C $(BUILD) --print-errorlogs recipe

# The host and guest packages: BUILD/deb/*.deb, BUILD/rpm/*.rpm (tools/package.sh).
deb:
	@sh tools/package.sh deb $(BUILD)

rpm:
	@sh tools/package.sh rpm $(BUILD)

# The fuzz harnesses for FUZZ_SECONDS each (make check runs them for 60 s).
FUZZ_SECONDS ?= 600
fuzz: build
	@sh tools/fuzz.sh $(BUILD) $(FUZZ_SECONDS)

# The VFIO lab alone: a nested VM with real vfio-pci devices (about a minute).
lab: build
	@bash tests/lab/lab.sh $(BUILD)

# Speed and memory, measured side by side (not part of check).
bench: build
	@sh bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(BUILD)-asan $(BUILD)-fuzz $(BUILD)-valgrind build-lab-cache build-recipes
