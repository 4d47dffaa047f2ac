# Development commands for the credit_control Odoo 18 module (see README.md).
ODOO_SRC ?= /opt/odoo18
export ODOO_SRC

.PHONY: run test test-core shell lint bench bench10 i18n soak soak-short help
help:
	@echo "make run | test | test-core | shell | lint | bench | bench10 | i18n | soak | soak-short"

run:        ## serve the demo database on http://localhost:8069
	@tools/run.sh

test:       ## lint + every module test (tours included) on a fresh database
	@tools/test.sh

test-core:  ## Odoo's own sale and account tests with this module installed
	@tools/test_core.sh

shell:      ## Odoo shell on the demo database (stdin script: run it and exit)
	@tools/shell.sh

lint:
	@tools/lint.sh

bench:      ## benchmark ledger + timings and query counts (bench/results/latest.json)
	@tools/bench.sh

BENCH_SCALE ?= 10
bench10:    ## make bench on a BENCH_SCALE (10) times larger ledger, own cluster .local/pg-bench10
	@CC_BENCH_CLUSTER=bench10 BENCH_ARGS="--scale $(BENCH_SCALE) $(BENCH_ARGS)" \
	    BENCH_RUN_ARGS="--json $(CURDIR)/bench/results/latest-$(BENCH_SCALE)x.json $(BENCH_RUN_ARGS)" tools/bench.sh

i18n:       ## regenerate i18n/credit_control.pot and merge it into i18n/de.po
	@tools/i18n.sh

soak:       ## multi-process server, 2 cron workers, read replica, faults (tools/soak.sh)
	@tools/soak.sh

soak-short: ## the soak's short variant (a stage of make test, about 3 minutes)
	@tools/soak.sh --short
