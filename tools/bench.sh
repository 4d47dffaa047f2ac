#!/usr/bin/env bash
# make bench: build (once per data set) the benchmark template database, copy it, update
# credit_control in the copy and measure the paths of bench/run.py. Own cluster "bench" on port
# 54349 (http 8269), stopped on exit. Generator parameters: BENCH_ARGS, e.g. a quick smoke run:
#   make bench BENCH_ARGS="--partners 50 --invoices 500 --big-partner-items 1000"
# Runner options: BENCH_RUN_ARGS (e.g. "--runs 3 --only exposure"). Exit status 1: a budget missed.
# Another cluster for other ledgers (the ten times larger one): CC_BENCH_CLUSTER=bench10 uses
# .local/pg-bench10 (port CC_BENCH_PGPORT, else 54369; 54359 is the soak's) and .local/bench10.conf,
# leaving the 1x cluster alone; `make bench10` = that cluster with BENCH_ARGS="--scale 10".
. "$(dirname "$0")/common.sh"
setup_all
BENCH_ARGS=${BENCH_ARGS:-}
CLUSTER=${CC_BENCH_CLUSTER:-bench}
[[ "$CLUSTER" =~ ^bench[A-Za-z0-9_-]*$ ]] || die "CC_BENCH_CLUSTER must start with 'bench' (got '$CLUSTER')"
if [ "$CLUSTER" = bench ]; then
    pg_start bench "${CC_BENCH_PGPORT:-54349}"
else
    pg_start "$CLUSTER" "${CC_BENCH_PGPORT:-54369}"
fi
trap 'pg_stop' EXIT
CONF="$LOCAL/$CLUSTER.conf"
DB=${BENCH_DB:-cc_bench_run}
write_odoo_conf "$CONF" "$DB" "${CC_BENCH_HTTP_PORT:-8269}"
mkdir -p "$LOCAL/bench"

# shellcheck disable=SC2086  # BENCH_ARGS is a list of options
TMPL=$("$PY" "$ROOT/bench/generate.py" --name-only $BENCH_ARGS)
if ! db_exists "$TMPL"; then
    # a template of an earlier generator version with the same data (see SAME_DATA in generate.py)
    # shellcheck disable=SC2086
    for SAME in $("$PY" "$ROOT/bench/generate.py" --same-data-names $BENCH_ARGS); do
        if db_exists "$SAME"; then
            info "template $TMPL: using $SAME, built by an earlier generator version with the same data"
            TMPL=$SAME
            break
        fi
    done
fi
REUSED=--template-reused
if ! db_exists "$TMPL"; then
    REUSED=
    info "building benchmark template $TMPL (${BENCH_ARGS:-default size}): install, then generate"
    T0=$(date +%s)
    dropdb --if-exists "$TMPL.part"
    rm -rf "$LOCAL/filestore/filestore/$TMPL.part"
    odoo_bin -c "$CONF" -d "$TMPL.part" -i credit_control --without-demo=all --stop-after-init --log-level=warn \
        || { dropdb --if-exists "$TMPL.part"; die "installing credit_control into $TMPL.part failed"; }
    info "modules installed in $(( $(date +%s) - T0 ))s; generating the ledger"
    # shellcheck disable=SC2086
    "$PY" "$ROOT/bench/generate.py" -c "$CONF" -d "$TMPL.part" --stats-file "$LOCAL/bench/$TMPL.json" $BENCH_ARGS \
        || { dropdb --if-exists "$TMPL.part"; die "generating the benchmark ledger failed"; }
    # planner statistics for the bulk-loaded tables (a copy inherits them; without, plans are off)
    psql -d "$TMPL.part" -qc "VACUUM ANALYZE"
    psql -d postgres -qc "ALTER DATABASE \"$TMPL.part\" RENAME TO \"$TMPL\""
    rm -rf "$LOCAL/filestore/filestore/$TMPL"
    [ -d "$LOCAL/filestore/filestore/$TMPL.part" ] && mv "$LOCAL/filestore/filestore/$TMPL.part" "$LOCAL/filestore/filestore/$TMPL"
    info "template $TMPL built in $(( $(date +%s) - T0 ))s (generator statistics: .local/bench/$TMPL.json)"
else
    info "reusing benchmark template $TMPL"
fi

# a fresh copy (seconds), with the current code of credit_control
T0=$(date +%s)
dropdb --if-exists "$DB"
createdb -T "$TMPL" "$DB"
rm -rf "$LOCAL/filestore/filestore/$DB"
[ -d "$LOCAL/filestore/filestore/$TMPL" ] && cp -r "$LOCAL/filestore/filestore/$TMPL" "$LOCAL/filestore/filestore/$DB"
odoo_bin -c "$CONF" -d "$DB" -u credit_control --stop-after-init --log-level=warn \
    || die "updating credit_control in $DB failed"
info "copied $TMPL to $DB and updated credit_control in $(( $(date +%s) - T0 ))s"

# install on a live ledger: a copy of the ledger with credit_control uninstalled, then
# the install timed (data files + post_init_hook over every customer). CC_BENCH_SKIP_INSTALL=1 skips it.
INSTALL_ARGS=()
if [ -z "${CC_BENCH_SKIP_INSTALL:-}" ]; then
    IDB="${DB}_install"
    dropdb --if-exists "$IDB"
    createdb -T "$TMPL" "$IDB"
    echo "env['ir.module.module'].search([('name', '=', 'credit_control')]).button_immediate_uninstall(); env.cr.commit()" \
        | odoo_bin shell -c "$CONF" -d "$IDB" --no-http --log-level=warn >/dev/null \
        || die "uninstalling credit_control from $IDB failed"
    T0=$(date +%s%N)
    odoo_bin -c "$CONF" -d "$IDB" -i credit_control --stop-after-init --log-level=warn \
        || die "installing credit_control into $IDB failed"
    INSTALL_SECONDS=$(awk "BEGIN { print ($(date +%s%N) - $T0) / 1e9 }")
    info "installed credit_control on the live ledger in ${INSTALL_SECONDS}s"
    dropdb --if-exists "$IDB"
    INSTALL_ARGS=(--install-seconds "$INSTALL_SECONDS")
fi

# shellcheck disable=SC2086
"$PY" "$ROOT/bench/run.py" -c "$CONF" -d "$DB" $REUSED "${INSTALL_ARGS[@]}" ${BENCH_RUN_ARGS:-}
