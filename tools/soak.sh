#!/usr/bin/env bash
# make soak / make soak-short: the module under Odoo's multi-process server (HTTP workers, two
# cron workers) with a PostgreSQL 15 streaming standby as read replica and a local SMTP sink,
# driven through JSON-RPC by tools/soak.py (parallel confirmations, concurrent crons with a
# SIGKILL of the dunning worker, mail outage, replica routing). Prints a table, exits 1 when a
# guarantee fails. Own cluster "soak" (port 54359, standby 54360, http 8369, smtp 8379).
#   tools/soak.sh [--short]     SOAK_ARGS: more options for tools/soak.py (e.g. "--customers 500")
# SOAK_SOURCE_DB (make test): copy that database of the cluster instead of installing the module;
# SOAK_REUSE_INSTALL=1 (development): keep the installed database as cc_soak_installed and reuse it.
. "$(dirname "$0")/common.sh"
setup_all
SHORT=
[ "${1:-}" = --short ] && SHORT=--short
NAME=${CC_SOAK_CLUSTER:-soak}
PORT=${CC_SOAK_PGPORT:-54359}
STANDBY_PORT=${CC_SOAK_STANDBY_PGPORT:-$(( PORT + 1 ))}
HTTP=${CC_SOAK_HTTP_PORT:-8369}
SMTP=${CC_SOAK_SMTP_PORT:-$(( HTTP + 10 ))}
DB=${SOAK_DB:-cc_soak}
T0=$(date +%s)

if (exec 3<>"/dev/tcp/127.0.0.1/$HTTP") 2>/dev/null; then
    die "port $HTTP is in use; set CC_SOAK_HTTP_PORT"
fi
pg_start "$NAME" "$PORT"
SB_DIR="$LOCAL/pg-$NAME-standby"
SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 30); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 1; done
        kill -9 "$SERVER_PID" 2>/dev/null || true
    fi
    if [ -f "$SB_DIR/data/postmaster.pid" ]; then
        pg_as_owner "$(pg_bin pg_ctl)" -D "$SB_DIR/data" stop -m immediate >/dev/null 2>&1 || true
    fi
    pg_stop
}
trap cleanup EXIT
CONF="$LOCAL/soak.conf"
write_odoo_conf "$CONF" "$DB" "$HTTP"

# 1. a database with the module: a cached template with the dependencies (as make test builds
#    it), then credit_control installed fresh (the current code), then the soak's data.
DEPS=$("$PY" -c "import ast;print(','.join(ast.literal_eval(open('$ROOT/__manifest__.py').read())['depends']))")
KEY=$( (cat "$ODOO_SRC/odoo/release.py"; echo "$DEPS"; cat "$ROOT/tools/requirements.txt"; git -C "$ODOO_SRC" rev-parse HEAD 2>/dev/null || ls -la "$ODOO_SRC/addons" ) | sha256sum | cut -c1-10)
TMPL="cc_soak_base_$KEY"
if [ -n "${SOAK_SOURCE_DB:-}" ] && db_exists "$SOAK_SOURCE_DB"; then
    :  # make test: its installed database is the source, no template needed
elif ! db_exists "$TMPL"; then
    info "building template database $TMPL ($DEPS, no demo data; once per Odoo tree)"
    for old in $(psql -d postgres -tAc "SELECT datname FROM pg_database WHERE datname LIKE 'cc_soak_base_%'"); do dropdb "$old"; done
    rm -rf "$LOCAL/filestore/filestore/$TMPL.part"
    odoo_bin -c "$CONF" -d "$TMPL.part" -i "$DEPS" --without-demo=all --stop-after-init --log-level=warn \
        || { dropdb --if-exists "$TMPL.part"; die "building the template database failed"; }
    psql -d postgres -qc "ALTER DATABASE \"$TMPL.part\" RENAME TO \"$TMPL\""
    rm -rf "$LOCAL/filestore/filestore/$TMPL"
    [ -d "$LOCAL/filestore/filestore/$TMPL.part" ] && mv "$LOCAL/filestore/filestore/$TMPL.part" "$LOCAL/filestore/filestore/$TMPL"
fi
copy_db() {  # copy_db SOURCE: the database and its filestore (attachments: assets, reports)
    createdb -T "$1" "$DB"
    [ -d "$LOCAL/filestore/filestore/$1" ] && cp -r "$LOCAL/filestore/filestore/$1" "$LOCAL/filestore/filestore/$DB"
    return 0
}
dropdb --if-exists "$DB"
rm -rf "$LOCAL/filestore/filestore/$DB"
if [ -n "${SOAK_SOURCE_DB:-}" ] && db_exists "$SOAK_SOURCE_DB"; then
    # make test: a copy of the database it has just installed the module into
    copy_db "$SOAK_SOURCE_DB"
elif [ -n "${SOAK_REUSE_INSTALL:-}" ] && db_exists "${DB}_installed"; then
    # development only: the module as installed by an earlier run (code changes need -u)
    copy_db "${DB}_installed"
else
    copy_db "$TMPL"
    info "installing credit_control into $DB"
    odoo_bin -c "$CONF" -d "$DB" -i credit_control --without-demo=all --stop-after-init --log-level=warn \
        || die "installing credit_control into $DB failed"
    if [ -n "${SOAK_REUSE_INSTALL:-}" ]; then
        dropdb --if-exists "${DB}_installed"; createdb -T "$DB" "${DB}_installed"
        rm -rf "$LOCAL/filestore/filestore/${DB}_installed"
        cp -r "$LOCAL/filestore/filestore/$DB" "$LOCAL/filestore/filestore/${DB}_installed"
    fi
fi
# shellcheck disable=SC2086  # SOAK_ARGS is a list of options
"$PY" "$ROOT/tools/soak.py" setup -c "$CONF" -d "$DB" --smtp-port "$SMTP" --url "http://127.0.0.1:$HTTP" $SHORT ${SOAK_ARGS:-} \
    || die "the soak data set-up failed"
info "database ready in $(( $(date +%s) - T0 ))s"

# 2. the streaming standby: a base backup of the primary (-R: standby.signal and
#    primary_conninfo), its own port and socket, every statement logged
info "starting a streaming standby of the cluster on port $STANDBY_PORT"
pg_as_owner "$(pg_bin pg_ctl)" -D "$SB_DIR/data" stop -m immediate >/dev/null 2>&1 || true
rm -rf "$SB_DIR"; mkdir -p "$SB_DIR/run"
[ "$(id -u)" = 0 ] && chown -R postgres: "$SB_DIR"
pg_as_owner "$(pg_bin pg_basebackup)" -h "$PGHOST" -p "$PGPORT" -U odoo -D "$SB_DIR/data" -R -X stream -c fast \
    >"$SB_DIR/basebackup.log" 2>&1 || { cat "$SB_DIR/basebackup.log" >&2; die "pg_basebackup failed"; }
pg_as_owner "$(pg_bin pg_ctl)" -D "$SB_DIR/data" -l "$SB_DIR/server.log" -w -t 60 start \
    -o "-p $STANDBY_PORT -k $SB_DIR/run -c listen_addresses='' -c hot_standby=on -c log_statement=all -c log_line_prefix='%m [%p] %d ' -c max_connections=200" \
    >/dev/null || { tail -20 "$SB_DIR/server.log" >&2; die "the standby did not start"; }
[ "$(psql -h "$SB_DIR/run" -p "$STANDBY_PORT" -d "$DB" -tAc 'SELECT pg_is_in_recovery()')" = t ] \
    || die "the standby is not in recovery"

# 3. the multi-process server: 2 HTTP workers, 2 cron workers, the standby as read replica
cat >>"$CONF" <<CONF
workers = ${CC_SOAK_WORKERS:-3}
max_cron_threads = 2
db_replica_host = $SB_DIR/run
db_replica_port = $STANDBY_PORT
limit_time_real = 900
limit_time_cpu = 600
limit_time_real_cron = 900
limit_memory_soft = 4294967296
limit_memory_hard = 5368709120
CONF
LOG="$LOCAL/soak-server.log"
: >"$LOG"
"$PY" "$ODOO_SRC/odoo-bin" -c "$CONF" -d "$DB" --log-level=info --logfile="$LOG" &
SERVER_PID=$!
for _ in $(seq 120); do
    (exec 3<>"/dev/tcp/127.0.0.1/$HTTP") 2>/dev/null && break
    kill -0 "$SERVER_PID" 2>/dev/null || { tail -30 "$LOG" >&2; die "the Odoo server died"; }
    sleep 1
done

# 4. the scenarios
set +e
# shellcheck disable=SC2086
"$PY" "$ROOT/tools/soak.py" drive -c "$CONF" -d "$DB" --url "http://127.0.0.1:$HTTP" --smtp-port "$SMTP" \
    --server-log "$LOG" --standby-log "$SB_DIR/server.log" --standby-dsn "host=$SB_DIR/run port=$STANDBY_PORT dbname=$DB user=odoo" \
    --primary-dsn "host=$PGHOST port=$PGPORT dbname=$DB user=odoo" $SHORT ${SOAK_ARGS:-}
STATUS=$?
set -e
info "soak finished in $(( $(date +%s) - T0 ))s (server log: $LOG)"
exit "$STATUS"
