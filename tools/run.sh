#!/usr/bin/env bash
# make run: serve the demo database credit_demo (a German company with Sales) on http://localhost:8069
. "$(dirname "$0")/common.sh"
setup_all
HTTP_PORT=${HTTP_PORT:-8069}
DB=${DB:-credit_demo}
RUN_TAG=${CC_RUN_CLUSTER:+-$CC_RUN_CLUSTER}   # another cluster (tools/shell_share_check.sh): its own files
PIDFILE="$LOCAL/run-odoo$RUN_TAG.pid"

# a stale server of ours from an interrupted run: stop it; anything else on the port: refuse
if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    info "stopping a stale demo server (pid $(cat "$PIDFILE"))"
    kill "$(cat "$PIDFILE")" 2>/dev/null || true; sleep 2
fi
rm -f "$PIDFILE"
if (exec 3<>"/dev/tcp/127.0.0.1/$HTTP_PORT") 2>/dev/null; then
    die "port $HTTP_PORT is in use by another program; stop it or run 'make run HTTP_PORT=8070'"
fi

pg_start "${CC_RUN_CLUSTER:-run}" "${CC_RUN_PGPORT:-54329}"
trap 'pg_stop' EXIT
CONF="$LOCAL/run$RUN_TAG.conf"
write_odoo_conf "$CONF" "$DB" "$HTTP_PORT"

installed() {
    db_exists "$DB" && [ "$(psql -d "$DB" -tAc "SELECT state FROM ir_module_module WHERE name='credit_control'" 2>/dev/null)" = installed ]
}
if ! installed; then
    # The demo is a German company with the Sales app: base first, the main company made German
    # (so that l10n_de picks the SKR03 chart for it), then l10n_de (DIN 5008 layout comes with it)
    # and sale_management, then credit_control with its demo data, then bank, register and layout.
    # Only this database: the module itself depends on neither l10n_de nor sale_management.
    info "creating database $DB: a German demo company with Sales and Credit Control (first run: a few minutes)"
    T0=$(date +%s)
    db_exists "$DB" && dropdb "$DB"
    rm -rf "$LOCAL/filestore/filestore/$DB"
    fail() { dropdb --if-exists "$DB"; die "$1 (the database $DB was dropped; run again after fixing)"; }
    odoo_bin -c "$CONF" -d "$DB" -i base --load-language=de_DE --stop-after-init --log-level=warn \
        || fail "creating $DB failed"
    "$PY" "$ROOT/tools/demo_setup.py" -c "$CONF" -d "$DB" company || fail "setting up the German company failed"
    odoo_bin -c "$CONF" -d "$DB" -i l10n_de,sale_management --stop-after-init --log-level=warn \
        || fail "installing l10n_de and sale_management into $DB failed"
    "$PY" "$ROOT/tools/demo_setup.py" -c "$CONF" -d "$DB" chart || fail "setting up the German fiscal positions failed"
    odoo_bin -c "$CONF" -d "$DB" -i credit_control --stop-after-init --log-level=warn \
        || fail "installing credit_control into $DB failed"
    "$PY" "$ROOT/tools/demo_setup.py" -c "$CONF" -d "$DB" finish || fail "finishing the German demo company failed"
    info "database $DB ready in $(( $(date +%s) - T0 ))s"
elif [ "${UPDATE:-0}" = 1 ]; then
    odoo_bin -c "$CONF" -d "$DB" -u credit_control --stop-after-init --log-level=warn
fi

cat <<MSG

  Credit Control demo (Muster Maschinenbau GmbH): http://localhost:$HTTP_PORT/odoo
    administrator     admin / admin
    credit manager    credit / credit
    salesperson       sales / sales          Ctrl-C stops Odoo (and the database,
    customer (portal) kunde / kunde          unless make shell still uses it).
                      http://localhost:$HTTP_PORT/my/credit

MSG
"$PY" "$ODOO_SRC/odoo-bin" -c "$CONF" -d "$DB" --log-level=warn &  # not via a function: $! is Odoo itself
echo $! >"$PIDFILE"
stop_all() {
    [ -f "$PIDFILE" ] && kill "$(cat "$PIDFILE")" 2>/dev/null
    wait; rm -f "$PIDFILE"; pg_stop
}
trap stop_all EXIT
trap 'exit 0' INT TERM   # Ctrl-C or kill: a normal end (stop_all runs on exit)
wait
