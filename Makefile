# paddock: build, test and demo. Every target works on a fresh clone with
# Go, a local PostgreSQL (DATABASE_URL) and no network but the Go module proxy.

# Every folder under services/ is a service, each its own module.
SERVICES := $(notdir $(wildcard services/*))
MODULES  := pkg streams $(addprefix services/,$(SERVICES))
PKGS     := $(addsuffix /...,$(addprefix ./,$(MODULES)))
RECORDED := testdata/f1/recorded
REFERENCE := testdata/f1/reference
DEMO_DIR ?= .paddock

.PHONY: build test modules vet fuzz demo bench chaos clean

## build: every binary into bin/
build:
	@mkdir -p bin
	@for s in $(SERVICES); do echo "go build bin/$$s"; go build -o bin/$$s ./services/$$s || exit 1; done

## modules: every module builds on its own (each go.mod stays honest);
## vet compiles every package without writing binaries next to the sources
modules:
	@for m in $(MODULES); do echo "GOWORK=off go vet ./$$m/..."; (cd $$m && GOWORK=off go vet ./...) || exit 1; done

vet:
	go vet $(PKGS)

## test: every test, against the local PostgreSQL and in-process JetStream,
## then every fuzz target for a bounded time
test: modules vet
	go test -count=1 -timeout 30m $(PKGS)
	@$(MAKE) --no-print-directory fuzz

## fuzz: every fuzz target (func Fuzz* in a _test.go) for FUZZTIME each, one
## `go test -fuzz` per target as Go requires; about two minutes. Seeds come
## from testdata/f1/recorded; an input that fails is written to the
## package's testdata/fuzz/<target>/ and fails the run: commit it with the
## fix, and every `go test` replays it (docs/fuzzing.md). Go's fuzzing
## engine itself sometimes ends a target with "context deadline exceeded"
## when its time runs out while a worker is busy (no input failed, none is
## written): such a target runs once more, anything else fails the run.
FUZZTIME ?= 3s
FUZZ_PKGS = $(sort $(dir $(shell grep -rl --include='*_test.go' '^func Fuzz' $(MODULES))))
fuzz:
	@for p in $(FUZZ_PKGS); do \
		for n in $$(go test -list '^Fuzz' ./$$p | grep '^Fuzz'); do \
			echo "go test -run '^$$' -fuzz '^$$n$$' -fuzztime $(FUZZTIME) ./$$p"; \
			out=$$(go test -run '^$$' -fuzz "^$$n\$$" -fuzztime $(FUZZTIME) ./$$p 2>&1); rc=$$?; echo "$$out"; \
			[ $$rc -eq 0 ] && continue; \
			if echo "$$out" | grep -q 'context deadline exceeded' && ! echo "$$out" | grep -q 'Failing input written'; then \
				echo "the fuzzing engine timed out (no input failed): $$n once more"; \
				go test -run '^$$' -fuzz "^$$n\$$" -fuzztime $(FUZZTIME) ./$$p || exit 1; \
			else exit 1; fi; \
		done; \
	done

## demo: import 2019 round 14 qualifying from the shipped recordings and diff
## every table FastF1 also makes (export name:FastF1's file) with FastF1's
DEMO_TABLES := weather:weather laps:laps_with_telemetry race-control:race_control_messages \
	track-status:track_status session-status:session_status results:results
DEMO_REF := $(REFERENCE)/2019_14_Italian_Grand_Prix_Qualifying
demo: build
	bin/paddock import --year 2019 --round 14 --session Qualifying --recorded $(RECORDED) --data-dir $(DEMO_DIR)
	@for t in $(DEMO_TABLES); do \
		name=$${t%%:*}; ref=$${t#*:}; \
		bin/paddock export $$name --year 2019 --round 14 --session Qualifying --out $(DEMO_DIR)/$$ref.csv || exit 1; \
		diff $(DEMO_DIR)/$$ref.csv $(DEMO_REF)/$$ref.csv || exit 1; \
		echo "$$name of 2019 round 14 qualifying equals FastF1's $$ref.csv, every cell"; \
	done
	@for t in car-data:car_data position:pos_data; do \
		name=$${t%%:*}; ref=$${t#*:}; \
		bin/paddock export $$name --year 2019 --round 14 --session Qualifying --out $(DEMO_DIR)/$$ref.csv || exit 1; \
		gzip -dc $(DEMO_REF)/$$ref.csv.gz | diff - $(DEMO_DIR)/$$ref.csv || exit 1; \
		echo "$$name of 2019 round 14 qualifying equals FastF1's $$ref.csv, every cell ($$(($$(wc -l < $(DEMO_DIR)/$$ref.csv) - 1)) samples)"; \
	done
	bin/paddock export lap-telemetry --year 2019 --round 14 --session Qualifying --driver 16 --lap fastest --out $(DEMO_DIR)/lec_fastest.csv
	gzip -dc $(DEMO_REF)/fastest_lap_telemetry.csv.gz | awk -F, 'NR == 1 || $$2 == "16"' | diff - $(DEMO_DIR)/lec_fastest.csv \
		&& echo "Leclerc's fastest lap, car data and position merged, equals FastF1's get_telemetry(), every cell"

## bench: end-to-end import of every shipped session, and the parsers
bench:
	go test -run '^$$' -bench . -benchmem -benchtime 3x ./pkg/stack/
	go test -run '^$$' -bench . -benchmem ./pkg/livetiming/ ./pkg/kinds/weather/ ./pkg/kinds/laps/ ./pkg/governor/

## chaos: the services as processes through random faults (kill -9, NATS
## restarts, a PostgreSQL outage), each trial checked against a clean run;
## about 20 minutes, not part of test. Needs root for its own PostgreSQL
## cluster. CHAOS_TRIALS, CHAOS_SEED, CHAOS_SCOPE, ...: docs/chaos.md
chaos:
	go test -tags chaos -count=1 -timeout 120m -v -run TestChaos ./pkg/chaos/

clean:
	rm -rf bin $(DEMO_DIR)
