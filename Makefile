# The friendly front of the CMake build. `make` builds and asks the demo model about
# the shipped demo scene; `make test` builds and runs every test.
#
#   make              build (Release) and run `tinygptv ask` with the demo model (docs/demo.md)
#   make test         install missing test tools (Debian), build, run all tests
#   make asan-test    the same under AddressSanitizer + UBSan, plus a short fuzz run
#   make fixtures     regenerate tests/data from the PyTorch/PIL/tokenizer references
#                     (the only target that needs Python: Debian's /usr/bin/python3)
#   make bench        `tinygptv bench` on a full-size random model (docs/performance.md)
#   make bench-parts  speed of the parts: kernels, JPEG/PNG decoding, tokenizer
#   make scalar-test  the tests with only the portable scalar kernels compiled in
#   make fuzz         build the libFuzzer targets (clang, build-fuzz/) and run each for
#                     FUZZ_SECONDS (default 60; FUZZ_TARGETS="json png" picks some);
#                     grown corpora stay in build-fuzz/corpus/ (docs/robustness.md)
#   make fuzz-smoke   the same, 10 s per target (what CI can afford)
#   make cross-test ARCH=aarch64|s390x|armhf|wasm32
#                     cross-build and run every test under qemu / node (installs the
#                     Debian toolchain and emulator if missing; docs/porting.md)
#   make cross-test-all  the four of them
#   make ci-cross     aarch64 and s390x, only the platform suites (CI_CROSS_SUITES)
#   make demo-model   retrain the demo model from scratch (Debian's PyTorch, about 18 minutes
#                     on one core) and rewrite weights/demo/ and tests/data/demo/

JOBS    ?= $(shell nproc 2>/dev/null || echo 2)
BUILD   ?= build
MODEL   ?= weights/demo/tinygptv-demo.safetensors
IMAGE   ?= weights/demo/scene.png
QUESTION ?= How many shapes are there?
ASK_FLAGS ?= --template minigptv2 --task vqa --temp 0 --max-tokens 60
PYTHON  ?= /usr/bin/python3
BENCH_FLAGS ?= --random full --dtype f16

FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=

.PHONY: all build run test asan-test scalar-test cross-test cross-test-all ci-cross fixtures bench bench-parts deps clean demo-model \
        fuzz fuzz-smoke fuzz-build

all: run

build:
	@sh tests/install-deps.sh build
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DTGV_TESTS=OFF >/dev/null
	cmake --build $(BUILD) -j $(JOBS) --target tinygptv

run: build
	./$(BUILD)/tinygptv ask --model $(MODEL) --image $(IMAGE) $(ASK_FLAGS) "$(QUESTION)"

deps:
	@sh tests/install-deps.sh

test: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DTGV_TESTS=ON >/dev/null
	cmake --build $(BUILD) -j $(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# Unoptimised code under ASan is ~10x slower: the pipeline suite (the demo model on 200+
# scenes) took 470-540 s there on a 2-core VM, too close to the native 600 s limit.
asan-test: deps
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DTGV_SANITIZE=ON -DTGV_TESTS=ON -DTGV_TEST_TIMEOUT=1800 >/dev/null
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS)
	sh tests/fuzz/run-fuzzers.sh build-asan 20

fuzz-build:
	@sh tests/install-deps.sh fuzz
	cmake -S . -B $(FUZZ_BUILD) -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTGV_FUZZ=ON -DTGV_TESTS=OFF -DTGV_SCALAR_ONLY=ON >/dev/null
	cmake --build $(FUZZ_BUILD) -j $(JOBS)

fuzz: fuzz-build
	sh tests/fuzz/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-smoke: fuzz-build
	sh tests/fuzz/fuzz.sh $(FUZZ_BUILD) 10 $(FUZZ_TARGETS)

scalar-test: deps
	cmake -S . -B build-scalar -DCMAKE_BUILD_TYPE=Release -DTGV_SCALAR_ONLY=ON -DTGV_TESTS=ON >/dev/null
	cmake --build build-scalar -j $(JOBS)
	cd build-scalar && ctest --output-on-failure -j $(JOBS)

ARCH ?= aarch64
cross-test:
	JOBS=$(JOBS) sh tests/cross/cross-test.sh $(ARCH)

cross-test-all:
	for a in aarch64 s390x armhf wasm32; do JOBS=$(JOBS) sh tests/cross/cross-test.sh $$a || exit 1; done

CI_CROSS_SUITES ?= core quant kernels modelfile checkpoint
ci-cross:
	for a in aarch64 s390x; do SUITES="$(CI_CROSS_SUITES)" JOBS=$(JOBS) sh tests/cross/cross-test.sh $$a || exit 1; done

fixtures:
	sh tests/reference/make_fixtures.sh $(PYTHON)

demo-model: build
	nice -n 5 $(PYTHON) tools/train/train.py
	$(PYTHON) tools/train/make_testset.py

bench: build
	./$(BUILD)/tinygptv bench $(BENCH_FLAGS)

bench-parts: build
	sh tests/bench/run.sh $(BUILD)

clean:
	rm -rf build build-asan build-scalar build-fuzz build-cross-*
