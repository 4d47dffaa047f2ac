#!/usr/bin/env bash
# Shared helpers for the development scripts (make run / test / shell / lint / bench).
# Sourced, never executed. Everything it creates lives under $ROOT/.local (git-ignored).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LOCAL="$ROOT/.local"
ODOO_SRC=${ODOO_SRC:-/opt/odoo18}
VENV="$LOCAL/venv"
PY="$VENV/bin/python"
# Odoo knows a module by its folder name, so the checkout is linked as .../addons/credit_control.
# The link lives outside the checkout: inside it, tools that walk the module folder and follow
# links (Odoo's translation export) would walk into the link again and again.
ADDONS_LINK_DIR="${CC_ADDONS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/credit_control/$(printf %s "$ROOT" | sha1sum | cut -c1-12)/addons}"
MODULE_LINK="$ADDONS_LINK_DIR/credit_control"

die() { echo "ERROR: $*" >&2; exit 2; }
info() { echo ">>> $*" >&2; }

require_odoo() {
    if [ ! -f "$ODOO_SRC/odoo-bin" ] || [ ! -f "$ODOO_SRC/odoo/release.py" ]; then
        cat >&2 <<MSG
ERROR: no Odoo 18.0 source tree found at ODOO_SRC=$ODOO_SRC
  This project runs against an Odoo 18.0 source checkout (odoo-bin, odoo/, addons/).
  Provide one, for example:
      git clone --depth 1 --branch 18.0 https://github.com/odoo/odoo.git $ODOO_SRC
  or point ODOO_SRC at an existing checkout:  make test ODOO_SRC=/path/to/odoo
Nothing was created.
MSG
        exit 2
    fi
    if ! grep -qE "^version_info = \(18, 0" "$ODOO_SRC/odoo/release.py"; then
        die "the Odoo tree at $ODOO_SRC is not version 18.0 (see $ODOO_SRC/odoo/release.py)"
    fi
}

# System packages: PostgreSQL 15 server and client (psql, pg_dump), wkhtmltopdf (PDF reports),
# chromium (tours), gettext (msgfmt, msgmerge: lint, make i18n), git (the packaging check),
# poppler-utils (pdftoppm, pdftotext: tools/screens.py renders page 1 of each PDF).
# Every program the scripts and tests call; the tests read PDFs with Odoo's PDF library.
ensure_system_packages() {
    local missing=()
    [ -x /usr/lib/postgresql/15/bin/initdb ] || [ -n "${PGHOST:-}" ] || missing+=(postgresql-15)
    command -v wkhtmltopdf >/dev/null 2>&1 || missing+=(wkhtmltopdf)
    command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
        || command -v google-chrome >/dev/null 2>&1 || missing+=(chromium)
    command -v msgmerge >/dev/null 2>&1 || missing+=(gettext)
    command -v pg_dump >/dev/null 2>&1 || missing+=(postgresql-client-15)
    command -v git >/dev/null 2>&1 || missing+=(git)
    command -v pdftoppm >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
    ldconfig -p 2>/dev/null | grep 'libgomp\.so\.1' >/dev/null || missing+=(libgomp1)  # LightGBM's OpenMP runtime
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        info "installing system packages: ${missing[*]}"
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        die "missing system packages: ${missing[*]} (install them, e.g. 'sudo apt-get install ${missing[*]}')"
    fi
}

ensure_venv() {
    local req="$ROOT/tools/requirements.txt" stamp="$VENV/.requirements.sha"
    local want
    want=$(sha256sum "$req" | cut -d' ' -f1)
    if [ -x "$PY" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return 0
    fi
    info "creating the virtual environment in $VENV (pinned dependencies, a few minutes)"
    mkdir -p "$LOCAL"
    rm -rf "$VENV"   # an interrupted earlier attempt has no stamp: start over
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check -r "$req" >"$LOCAL/pip.log" 2>&1 \
        || { tail -20 "$LOCAL/pip.log" >&2; rm -rf "$VENV"; die "pip install failed (see $LOCAL/pip.log)"; }
    echo "$want" >"$stamp"
}

ensure_addons_link() {
    mkdir -p "$ADDONS_LINK_DIR"
    if [ "$(readlink "$MODULE_LINK" 2>/dev/null)" != "$ROOT" ]; then
        rm -f "$MODULE_LINK"
        ln -s "$ROOT" "$MODULE_LINK"
    fi
}

addons_path() { echo "$ODOO_SRC/addons,$ODOO_SRC/odoo/addons,$ADDONS_LINK_DIR"; }

# ---------------------------------------------------------------- PostgreSQL
# Either the server named by PGHOST/PGPORT/PGUSER, or a throw-away cluster of our own
# under .local/pg-<name>, run by a non-root user, on its own socket directory and port.
PG_OWN=0
pg_bin() { echo /usr/lib/postgresql/15/bin/"$1"; }

pg_as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# Several commands may use one cluster at once (`make shell` or `make i18n` while `make run`
# serves): each registers itself in $PG_DIR/users/<pid> (with the process start time, so a
# recycled pid does not count); a running cluster that has a live user or a client connection
# is shared, whatever port it was started on; only a cluster nobody uses is "stale" and restarted.
# The last user out stops it. Start and stop decisions are serialised by flock on $PG_DIR/lock
# (the server must not inherit the lock's file descriptor: it would hold the lock for its life).
PG_USERS_DIR=
PG_LOCK_FD=
pg_lock() {
    exec {PG_LOCK_FD}>>"$PG_DIR/lock"
    flock -w 120 "$PG_LOCK_FD" || die "could not lock $PG_DIR/lock within 120 s"
}
pg_unlock() { [ -n "$PG_LOCK_FD" ] && { exec {PG_LOCK_FD}>&-; PG_LOCK_FD=; }; return 0; }
proc_start_time() { awk '{print $22}' "/proc/$1/stat" 2>/dev/null; }
pg_live_users() {  # prints the pids of live registered users other than this process
    local f pid
    for f in "$PG_USERS_DIR"/*; do
        [ -f "$f" ] || continue
        pid=$(basename "$f")
        [ "$pid" = "$$" ] && continue
        if [ -n "$(proc_start_time "$pid")" ] && [ "$(proc_start_time "$pid")" = "$(cat "$f")" ]; then
            echo "$pid"
        else
            rm -f "$f"   # a user that died without deregistering
        fi
    done
}
pg_running() { pg_as_owner "$(pg_bin pg_ctl)" -D "$PG_DATA" status >/dev/null 2>&1; }
pg_client_count() {  # client connections of a running cluster (port and socket from postmaster.pid)
    local port sock
    port=$(sed -n 4p "$PG_DATA/postmaster.pid" 2>/dev/null); sock=$(sed -n 5p "$PG_DATA/postmaster.pid" 2>/dev/null)
    [ -n "$port" ] && [ -n "$sock" ] || { echo 0; return; }
    psql -h "$sock" -p "$port" -U odoo -d postgres -tAc \
        "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()" 2>/dev/null || echo 0
}

pg_start() {  # pg_start NAME PORT
    local name=$1 port=$2
    if [ -n "${PGHOST:-}" ]; then
        info "using the PostgreSQL server named by PGHOST=$PGHOST PGPORT=${PGPORT:-5432}"
        export PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-$(id -un)}
        DB_HOST=$PGHOST DB_PORT=$PGPORT DB_USER=$PGUSER
        return 0
    fi
    PG_OWN=1
    PG_DIR="$LOCAL/pg-$name"
    PG_DATA="$PG_DIR/data"
    PG_SOCK="$PG_DIR/run"
    PG_USERS_DIR="$PG_DIR/users"
    mkdir -p "$PG_DIR" "$PG_USERS_DIR"
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || die "running as root needs the 'postgres' system user (apt-get install postgresql-15)"
        chown postgres: "$PG_DIR"
        # the cluster owner must reach its folder
        if ! runuser -u postgres -- test -x "$PG_DIR"; then
            die "user postgres cannot enter $PG_DIR (a parent folder is not accessible); clone elsewhere or set PGHOST"
        fi
    fi
    pg_lock
    if [ ! -f "$PG_DATA/PG_VERSION" ]; then
        info "initialising a throw-away PostgreSQL 15 cluster in $PG_DATA (port $port)"
        rm -rf "$PG_DATA"
        pg_as_owner "$(pg_bin initdb)" -D "$PG_DATA" -U odoo --auth=trust -E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 \
            || die "initdb failed (see $PG_DIR/initdb.log)"
    fi
    pg_as_owner mkdir -p "$PG_SOCK"
    local shared=0
    if pg_running; then
        if [ -n "$(pg_live_users)" ] || [ "$(pg_client_count)" -gt 0 ]; then
            shared=1
            port=$(sed -n 4p "$PG_DATA/postmaster.pid")
            info "sharing the running cluster $PG_DIR (port $port) with $(pg_live_users | wc -l) other command(s)"
        else
            # a stale server of ours (killed run, nobody connected): restart it with our options
            info "stopping a stale cluster from an earlier run"
            pg_as_owner "$(pg_bin pg_ctl)" -D "$PG_DATA" stop -m fast >/dev/null 2>&1 || true
        fi
    fi
    if [ "$shared" = 0 ]; then
        pg_as_owner "$(pg_bin pg_ctl)" -D "$PG_DATA" -l "$PG_DIR/server.log" -w -t 60 start \
            -o "-p $port -k $PG_SOCK -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c shared_buffers=256MB" \
            >/dev/null {PG_LOCK_FD}>&- || { pg_unlock; tail -20 "$PG_DIR/server.log" >&2; die "the PostgreSQL cluster did not start (port $port busy?)"; }
    fi
    proc_start_time $$ >"$PG_USERS_DIR/$$"
    pg_unlock
    export PGHOST=$PG_SOCK PGPORT=$port PGUSER=odoo
    DB_HOST=$PG_SOCK DB_PORT=$port DB_USER=odoo
}

pg_stop() {  # deregister; stop the cluster only when no other command uses it
    if [ "$PG_OWN" = 1 ] && [ -n "${PG_DATA:-}" ]; then
        pg_lock
        rm -f "$PG_USERS_DIR/$$"
        if [ -z "$(pg_live_users)" ]; then
            pg_as_owner "$(pg_bin pg_ctl)" -D "$PG_DATA" stop -m fast >/dev/null 2>&1 || true
        else
            info "leaving the cluster $PG_DIR running for $(pg_live_users | wc -l) other command(s)"
        fi
        pg_unlock
        PG_OWN=0
    fi
}

db_exists() { psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$1'" | grep -q 1; }

write_odoo_conf() {  # write_odoo_conf FILE DBNAME HTTP_PORT
    cat >"$1" <<CONF
[options]
addons_path = $(addons_path)
data_dir = $LOCAL/filestore
db_host = $DB_HOST
db_port = $DB_PORT
db_user = $DB_USER
db_name = $2
dbfilter = ^$2\$
list_db = False
http_port = $3
gevent_port = $(( $3 + 3 ))
admin_passwd = admin
without_demo = False
CONF
}

odoo_bin() { "$PY" "$ODOO_SRC/odoo-bin" "$@"; }

setup_all() {
    require_odoo
    ensure_system_packages
    ensure_venv
    ensure_addons_link
    export PYTHONPATH="$ODOO_SRC${PYTHONPATH:+:$PYTHONPATH}"
}

# ---------------------------------------------------------------- OCA credit modules
# The OCA modules the migration wizard takes data from, from their published wheels, in their
# own folder (not in the venv: only the OCA test stage and the migration bench see them).
OCA_ADDONS="$LOCAL/oca-addons"
ensure_oca_addons() {
    local req="$ROOT/tools/requirements-oca.txt" stamp="$OCA_ADDONS/.requirements.sha" want
    want=$(sha256sum "$req" | cut -d' ' -f1)
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return 0
    fi
    info "installing the OCA credit modules into $OCA_ADDONS"
    rm -rf "$OCA_ADDONS"
    "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps --target "$OCA_ADDONS" -r "$req" \
        >"$LOCAL/pip-oca.log" 2>&1 || { tail -20 "$LOCAL/pip-oca.log" >&2; rm -rf "$OCA_ADDONS"; return 1; }
    echo "$want" >"$stamp"
}
oca_addons_path() { echo "$(addons_path),$OCA_ADDONS/odoo/addons"; }
