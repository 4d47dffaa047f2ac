#!/usr/bin/env bash
# make test-core: Odoo's own `sale` and `account` tests with credit_control installed, through
# Odoo's own test runner, on a fresh database (no demo data) in a throw-away cluster.
#
# --test-tags=/sale,/account selects the 'standard' tests of both modules. Their post_install
# tests (the vast majority) run with credit_control loaded; at_install tests run right after
# their own module is installed, i.e. before credit_control is (Odoo loads modules in order).
# Ends with one line "N passed, N failed" and exits non-zero on failure. Takes a long time
# (the whole account suite); the full log is kept in .local/test-core/odoo.log.
. "$(dirname "$0")/common.sh"
setup_all
OUT="$LOCAL/test-core"
LOG="$OUT/odoo.log"
DB=${CORE_DB:-cc_core}
mkdir -p "$OUT"
T0=$(date +%s)

pg_start core "${CC_CORE_PGPORT:-54379}"
trap 'pg_stop' EXIT
CONF="$LOCAL/test-core.conf"
write_odoo_conf "$CONF" "$DB" "${CC_CORE_HTTP_PORT:-8379}"

dropdb --if-exists "$DB"
rm -rf "$LOCAL/filestore/filestore/$DB"
info "installing credit_control,sale,account into $DB and running Odoo's sale + account tests (log: $LOG)"
rc=0
odoo_bin -c "$CONF" -d "$DB" -i credit_control,sale,account --without-demo=all \
    --test-enable --test-tags=/sale,/account --stop-after-init --log-level=info >"$LOG" 2>&1 || rc=$?

# The runner closes with e.g. "odoo.tests.result: 2 failed, 1 error(s) of 1830 tests when loading database 'cc_core'"
line=$(grep -oE "[0-9]+ failed, [0-9]+ error\(s\) of [0-9]+ tests when loading database" "$LOG" | tail -1 || true)
echo "--- Odoo sale + account tests with credit_control installed ($(( $(date +%s) - T0 ))s, exit code $rc)"
if [ -z "$line" ]; then
    tail -30 "$LOG"
    echo "FAILED: no test report in $LOG (the run did not complete)"
    echo "0 passed, 1 failed"
    exit 1
fi
read -r failed errors total <<<"$(echo "$line" | sed -E 's/([0-9]+) failed, ([0-9]+) error\(s\) of ([0-9]+) tests.*/\1 \2 \3/')"
# failing in this Odoo tree without credit_control as well (checked on a database with only
# sale + account installed); still counted, only marked
KNOWN="TestAccountMoveInInvoiceOnchanges.test_in_invoice_payment_register_wizard
TestAccountMoveReconcile.test_partial_payments_auto_validation
TestUi.test_01_account_tax_groups_tour"
# core expects an order above Odoo's credit limit to confirm with a warning; this module
# enforces that limit (issue #13): blocked by design, still counted, only marked
BY_DESIGN="TestSaleOrderCreditLimit.test_credit_limit_and_warning_overinvoiced_sales_order
TestSaleOrderCreditLimit.test_credit_limit_multicurrency"
grep -E "^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) $DB .*(FAIL|ERROR): " "$LOG" | sed -E 's/^.*(FAIL|ERROR): /\1 /' | sort -u \
    | while read -r kind test; do
        if grep -qxF "$test" <<<"$KNOWN"; then
            echo "FAILED: $kind $test (fails without credit_control too)"
        elif grep -qxF "$test" <<<"$BY_DESIGN"; then
            echo "FAILED: $kind $test (blocked by design: Odoo's credit limit is enforced, core only warns)"
        else
            echo "FAILED: $kind $test"
        fi
    done || true
bad=$((failed + errors))
echo "$line"
echo "$((total - bad)) passed, $bad failed"
[ "$bad" -eq 0 ] && [ "$rc" -eq 0 ] && [ "$total" -gt 0 ]
