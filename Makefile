# The two commands of the README, and the longer runs kept out of `make check`.
# Everything is built with CMake; this file only names the steps.

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
N          ?= 10000
FUZZ_SECONDS ?= 300

.PHONY: all deps build demo check test asan valgrind bench fuzz soak deck clean

all: build

deps:
	@scripts/install-deps

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# The main job on the bundled samples: print ballots, count a session, report.
demo: build
	@scripts/demo $(BUILD)

# Every test: the ordinary build, then the same tests under ASan and UBSan.
check: test asan

test: build
	cd $(BUILD) && ctest -j $(JOBS) --output-on-failure

asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DPHIEU_SANITIZE=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest -j $(JOBS) --output-on-failure -LE browser

bench: build
	@scripts/bench $(BUILD)

fuzz: deps
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPHIEU_FUZZ=ON >/dev/null
	cmake --build $(FUZZ_BUILD) -j $(JOBS)
	@scripts/fuzz $(FUZZ_BUILD) $(FUZZ_SECONDS)

soak: build
	@scripts/soak $(BUILD)

# A larger deck of generated ballots with ground truth: make deck N=10000
deck: build
	$(BUILD)/gen_samples --count $(N) --out deck --jobs $(JOBS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
