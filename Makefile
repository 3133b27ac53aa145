# The two commands of the README, and the longer runs kept out of `make check`.
# Everything is built with CMake; this file only names the steps.

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
DEB_BUILD  ?= build-deb
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
N          ?= 10000
FUZZ_SECONDS ?= 300
# The project's own builds treat warnings as errors; a release built elsewhere does not.
CMAKE_FLAGS = -DPHIEU_WERROR=ON
# The tests (and cmocka) are built whenever cmocka is there; `make check` installs it.
TESTS = $(shell pkg-config --exists cmocka 2>/dev/null && echo ON || echo OFF)

.PHONY: all deps build demo check test-tools test asan asan-build valgrind bench fuzz soak deck \
        deb fresh-check clean

all: build

deps:
	@scripts/install-deps build

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) -DPHIEU_TESTS=$(TESTS) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

# The main job on the bundled samples: print ballots, count a session, report.
demo:
	@scripts/install-deps build demo
	@$(MAKE) --no-print-directory build
	@scripts/demo $(BUILD)

# Every test: the tools they call are installed, then the ordinary build and the same
# tests under ASan and UBSan. A skipped test fails the run unless tests/allowed-skips
# names it (scripts/run-tests). Both builds are made first, then the two test runs go
# side by side (each line says which): the tests spend much of their time waiting (on a
# browser, a child, a kill point), and each run alone ended in a long test on one core.
# On two shared cores the two runs one after the other took 1035 s, side by side 524-738 s
# for the same CPU time (about 510 s).
check:
	@scripts/install-deps build demo test
	@scripts/check-test-tools
	@$(MAKE) --no-print-directory build asan-build
	@scripts/run-tests $(BUILD) plain -j $(JOBS) & plain=$$!; \
	  $(ASAN_ENV) scripts/run-tests $(ASAN_BUILD) asan -j $(JOBS) -LE browser; asan=$$?; \
	  wait $$plain; plain=$$?; \
	  echo "make check: plain build tests exit $$plain, ASan build tests exit $$asan"; \
	  [ $$plain -eq 0 ] && [ $$asan -eq 0 ]

test-tools:
	@scripts/check-test-tools

test: build
	@scripts/run-tests $(BUILD) plain -j $(JOBS)

ASAN_ENV = ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

asan-build:
	@scripts/install-deps build test
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DPHIEU_SANITIZE=ON $(CMAKE_FLAGS) -DPHIEU_TESTS=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)

asan: asan-build
	$(ASAN_ENV) scripts/run-tests $(ASAN_BUILD) asan -j $(JOBS) -LE browser

bench: build
	@scripts/bench $(BUILD)

fuzz:
	@scripts/install-deps build test
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPHIEU_FUZZ=ON >/dev/null
	cmake --build $(FUZZ_BUILD) -j $(JOBS)
	@scripts/fuzz $(FUZZ_BUILD) $(FUZZ_SECONDS)

soak: build
	@scripts/soak $(BUILD)

# A larger deck of generated ballots with ground truth: make deck N=10000 [SEED=n]
# (a new seed is a deck the reader was never tuned on).
deck: build
	$(BUILD)/gen_samples --count $(N) --out deck --jobs $(JOBS) $(if $(SEED),--seed $(SEED))

# The Debian package, built without the tests: build-deb/packages/phieu_VERSION_ARCH.deb
deb: deps
	cmake -S . -B $(DEB_BUILD) -DCMAKE_BUILD_TYPE=Release -DPHIEU_TESTS=OFF >/dev/null
	cmake --build $(DEB_BUILD) -j $(JOBS)
	cd $(DEB_BUILD) && cpack -G DEB -B packages
	@ls $(DEB_BUILD)/packages/*.deb

# The README's two commands in a throwaway Debian 12 root (minutes, not part of check).
fresh-check:
	@scripts/fresh-check

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) $(DEB_BUILD)
