# mmreplay — trace-driven replay benchmark for the Linux memory manager.
#
#   make          build bin/mmreplay
#   make run      install what is missing, build, run the main job
#   make check    every test: unit + golden (Criterion), again under ASan+UBSan, fuzz smoke
#   make bench    microbenchmarks (Google Benchmark through bench/cbench.h) and whole-run
#                 replay throughput (results/bench/)
#   make regress  simulated metrics (exact) and instruction count (±3 %) against
#                 results/baseline/, plus a wall-time report; make baseline rewrites it
#   make golden   regenerate tests/golden/ (CLI golden outputs) from bin/mmreplay
#   make deps     apt-get install the Debian packages below, only those missing
#
# Sources are found by wildcard: one file per concern, no list to keep in sync.

CC       ?= gcc
CXX      ?= g++
FUZZCC   ?= clang
# -flto: the hot paths cross files (memory.c → page_alloc.c → ...); link-time inlining
# measured +6 % on the mix replay, pinned, same outputs (docs/BENCHMARKING.md)
OPT      ?= -O2 -g -flto=auto
# gcc-ar: archives of LTO objects need the compiler's plugin
AR_LTO   ?= gcc-ar
SAN      ?=
B        ?= build/rel
BIN      ?= bin
V        ?= 0
Q        := $(if $(filter 1,$(V)),,@)

DEPS_PKGS := build-essential pkg-config zlib1g-dev libdeflate-dev libtraceevent-dev \
             libtracecmd-dev libtracefs-dev libbenchmark-dev libbenchmark-tools \
             gnuplot-nox libcriterion-dev valgrind clang libclang-rt-14-dev trace-cmd \
             python3-scipy

PKG_CFLAGS := $(shell pkg-config --cflags libtracecmd libtraceevent 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs libtracecmd libtraceevent 2>/dev/null)

CPPFLAGS += -D_GNU_SOURCE -Iengine -Itools -Ibench
CFLAGS   += -std=c17 $(OPT) -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -fno-strict-aliasing $(SAN)
CXXFLAGS += -std=c++17 $(OPT) -Wall -Wextra -Werror $(SAN)
LDLIBS   += -lz -ldeflate -lpthread -lm

ENGINE_SRC := $(sort $(wildcard engine/*.c))
TOOLS_SRC  := $(sort $(filter-out tools/main.c,$(wildcard tools/*.c)))
TEST_SRC   := $(sort $(wildcard tests/unit/*.c))
BENCH_SRC  := $(sort $(wildcard bench/*.c))
BENCH_CXX  := $(sort $(wildcard bench/*.cc))
FUZZ_SRC   := $(sort $(wildcard tests/fuzz/fuzz_*.c))

ENGINE_OBJ := $(ENGINE_SRC:%.c=$(B)/%.o)
TOOLS_OBJ  := $(TOOLS_SRC:%.c=$(B)/%.o)
TEST_OBJ   := $(TEST_SRC:%.c=$(B)/%.o)
BENCH_OBJ  := $(BENCH_SRC:%.c=$(B)/%.o) $(BENCH_CXX:%.cc=$(B)/%.o)

LIBENGINE := $(B)/libengine.a
LIBTOOLS  := $(B)/libtools.a

.PHONY: all run check check-live test test-asan fuzz fuzz-smoke bench bench-smoke deps clean format \
        format-check golden regress regress-ci baseline
.DEFAULT_GOAL := all

all: $(BIN)/mmreplay

# ---- dependencies -------------------------------------------------------
# Installs only the packages that are missing; a stamp keeps it to one dpkg query per Makefile change.
deps: build/.deps-ok
build/.deps-ok: Makefile
	@missing=""; for p in $(DEPS_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "make deps: need root to apt-get install$$missing" >&2; exit 1; fi; \
	  apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null || exit 1; \
	fi
	@mkdir -p build && touch $@

# ---- objects --------------------------------------------------------------
$(B)/%.o: %.c | build/.deps-ok
	@mkdir -p $(dir $@)
	@$(if $(Q),echo '  CC    $<')
	$(Q)$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(B)/bench/%.o: bench/%.cc | build/.deps-ok
	@mkdir -p $(dir $@)
	@$(if $(Q),echo '  CXX   $<')
	$(Q)$(CXX) $(CPPFLAGS) $(CXXFLAGS) -MMD -MP -c $< -o $@

$(LIBENGINE): $(ENGINE_OBJ)
	@rm -f $@
	$(Q)$(AR_LTO) rcs $@ $^

$(LIBTOOLS): $(TOOLS_OBJ)
	@rm -f $@
	$(Q)$(AR_LTO) rcs $@ $^

$(BIN)/mmreplay: $(B)/tools/main.o $(LIBTOOLS) $(LIBENGINE)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo '  LD    $@')
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS) $(LDLIBS)

$(BIN)/unit-tests: $(TEST_OBJ) $(LIBTOOLS) $(LIBENGINE)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo '  LD    $@')
	$(Q)$(CC) $(CFLAGS) -o $@ $^ -lcriterion $(PKG_LIBS) $(LDLIBS)

$(BIN)/mmbench: $(BENCH_OBJ) $(LIBTOOLS) $(LIBENGINE)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo '  LD    $@')
	$(Q)$(CXX) $(CXXFLAGS) -o $@ $^ -lbenchmark $(PKG_LIBS) $(LDLIBS)

-include $(shell find build -name '*.d' 2>/dev/null)

# ---- the main job -----------------------------------------------------------
run: all
	@tools/run-main.sh $(BIN)/mmreplay

# ---- tests ------------------------------------------------------------------
# Criterion runs each test in its own process; the golden tests call bin/mmreplay,
# so MMREPLAY tells them which binary (the sanitized one under test-asan).
test: $(BIN)/unit-tests $(BIN)/mmreplay
	MMREPLAY=$(BIN)/mmreplay $(BIN)/unit-tests --jobs 2

# Regenerate tests/golden/ from the current binary (review with git diff before committing).
golden: $(BIN)/mmreplay
	tests/golden/update.sh $(BIN)/mmreplay

ASAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
test-asan: | build/.deps-ok
	@$(MAKE) --no-print-directory B=build/asan BIN=build/asan/bin OPT="-O1 -g" SAN="$(ASAN_FLAGS)" \
	  build/asan/bin/unit-tests build/asan/bin/mmreplay
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  MMREPLAY=build/asan/bin/mmreplay build/asan/bin/unit-tests --jobs 2

# Fuzz targets: clang + libFuzzer + ASan over the same sources. fuzz-smoke runs each briefly
# from its committed seed corpus; `make fuzz FUZZ_SECONDS=600` runs longer.
FUZZ_SECONDS ?= 60
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
FUZZ_FLAGS := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -g -O1
build/fuzz/%: tests/fuzz/%.c $(ENGINE_SRC) $(TOOLS_SRC) | build/.deps-ok
	@mkdir -p $(dir $@)
	$(FUZZCC) $(CPPFLAGS) $(PKG_CFLAGS) -std=c17 -Wall -Wextra -Werror $(FUZZ_FLAGS) \
	  -o $@ $< $(ENGINE_SRC) $(TOOLS_SRC) $(PKG_LIBS) $(LDLIBS)

fuzz: $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do n=$${f#build/fuzz/}; mkdir -p build/fuzz/corpus-$$n; \
	  echo "fuzz $$n for $(FUZZ_SECONDS)s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 build/fuzz/corpus-$$n tests/fuzz/corpus/$$n || exit 1; done

fuzz-smoke: $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do n=$${f#build/fuzz/}; rm -rf build/fuzz/smoke-$$n; mkdir -p build/fuzz/smoke-$$n; \
	  $$f -runs=20000 -max_len=4096 build/fuzz/smoke-$$n tests/fuzz/corpus/$$n >build/fuzz/$$n.log 2>&1 \
	  && echo "fuzz-smoke $$n: ok" || { tail -40 build/fuzz/$$n.log; exit 1; }; done

# Everything; the last line printed is Criterion's summary of the sanitized run.
check: all
	@$(MAKE) --no-print-directory fuzz-smoke
	@$(MAKE) --no-print-directory test
	@$(MAKE) --no-print-directory test-asan

# Live kernel tracing (root, tracefs): records real traces; run on a quiet machine.
check-live: $(BIN)/unit-tests $(BIN)/mmreplay
	MMREPLAY_LIVE_TRACE=1 MMREPLAY=$(BIN)/mmreplay $(BIN)/unit-tests --filter 'record/*'

# ---- benchmarks ---------------------------------------------------------------
# Console: one line per benchmark (the median of the repetitions); results/bench/micro.json:
# mean, median, stddev and cv of every benchmark. BENCH_ARGS adds or overrides flags, e.g.
#   make bench BENCH_ARGS='--benchmark_filter=page_alloc --benchmark_repetitions=10'
# (docs/BENCHMARKING.md).
BENCH_REPS ?= 5
bench: $(BIN)/mmbench $(BIN)/mmreplay
	@mkdir -p results/bench
	$(BIN)/mmbench --benchmark_repetitions=$(BENCH_REPS) --benchmark_report_aggregates_only=true \
	  --cbench_display=median --benchmark_out=results/bench/micro.json.tmp \
	  --benchmark_out_format=json $(BENCH_ARGS)
	@mv results/bench/micro.json.tmp results/bench/micro.json
	@echo "make bench: results/bench/micro.json"
	@tools/bench-throughput.sh $(BIN)/mmreplay results/bench/throughput.json

# ---- regression (docs/BENCHMARKING.md) ------------------------------------------------
# regress-ci: the deterministic gates only (what .ci/run runs); regress adds the wall-time
# report; baseline rewrites results/baseline/ (deliberate: review and commit it).
regress-ci: $(BIN)/mmreplay
	@MMREPLAY=$(BIN)/mmreplay tools/regress.sh check
regress: regress-ci
	@MMREPLAY=$(BIN)/mmreplay tools/regress.sh report
baseline: $(BIN)/mmreplay
	@MMREPLAY=$(BIN)/mmreplay tools/regress.sh baseline

# Every benchmark once, briefly: fails if one reports an error (SkipWithError) or none ran.
bench-smoke: $(BIN)/mmbench
	@mkdir -p build
	@$(BIN)/mmbench --benchmark_min_time=0.01 --benchmark_format=json $(BENCH_ARGS) \
	  >build/bench-smoke.json 2>build/bench-smoke.log || { cat build/bench-smoke.log; exit 1; }
	@if grep -q '"error_occurred": true' build/bench-smoke.json; then \
	  grep -B3 -A1 '"error_occurred": true' build/bench-smoke.json; exit 1; fi
	@n=$$(grep -c '"run_type": "iteration"' build/bench-smoke.json); [ "$$n" -gt 0 ] || exit 1; \
	  echo "bench-smoke: $$n benchmarks ran, no errors"

# ---- housekeeping -------------------------------------------------------------
format:
	clang-format -i engine/*.[ch] tools/*.[ch] bench/*.[ch] tests/unit/*.c
format-check:
	clang-format --dry-run --Werror engine/*.[ch] tools/*.[ch] bench/*.[ch] tests/unit/*.c

clean:
	rm -rf build/rel build/asan build/fuzz bin
