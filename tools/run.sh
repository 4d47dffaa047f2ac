#!/usr/bin/env bash
# make run: serve the demo database credit_demo on http://localhost:8069
. "$(dirname "$0")/common.sh"
setup_all
HTTP_PORT=${HTTP_PORT:-8069}
DB=${DB:-credit_demo}
PIDFILE="$LOCAL/run-odoo.pid"

# a stale server of ours from an interrupted run: stop it; anything else on the port: refuse
if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    info "stopping a stale demo server (pid $(cat "$PIDFILE"))"
    kill "$(cat "$PIDFILE")" 2>/dev/null || true; sleep 2
fi
rm -f "$PIDFILE"
if (exec 3<>"/dev/tcp/127.0.0.1/$HTTP_PORT") 2>/dev/null; then
    die "port $HTTP_PORT is in use by another program; stop it or run 'make run HTTP_PORT=8070'"
fi

pg_start run "${CC_RUN_PGPORT:-54329}"
trap 'pg_stop' EXIT
CONF="$LOCAL/run.conf"
write_odoo_conf "$CONF" "$DB" "$HTTP_PORT"

installed() {
    db_exists "$DB" && [ "$(psql -d "$DB" -tAc "SELECT state FROM ir_module_module WHERE name='credit_control'" 2>/dev/null)" = installed ]
}
if ! installed; then
    info "creating database $DB with the module and its demo data (first run: a few minutes)"
    db_exists "$DB" && dropdb "$DB"
    rm -rf "$LOCAL/filestore/filestore/$DB"
    odoo_bin -c "$CONF" -d "$DB" -i credit_control --load-language=de_DE --stop-after-init --log-level=warn \
        || { dropdb --if-exists "$DB"; die "installing credit_control into $DB failed"; }
elif [ "${UPDATE:-0}" = 1 ]; then
    odoo_bin -c "$CONF" -d "$DB" -u credit_control --stop-after-init --log-level=warn
fi

cat <<MSG

  Credit Control demo: http://localhost:$HTTP_PORT/odoo   login: admin   password: admin
  (a salesperson: login demo / password demo)       Ctrl-C stops Odoo and the database.

MSG
"$PY" "$ODOO_SRC/odoo-bin" -c "$CONF" -d "$DB" --log-level=warn &  # not via a function: $! is Odoo itself
echo $! >"$PIDFILE"
trap 'kill $(cat "$PIDFILE") 2>/dev/null; wait; rm -f "$PIDFILE"; pg_stop' EXIT INT TERM
wait
