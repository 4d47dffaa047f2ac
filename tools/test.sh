#!/usr/bin/env bash
# make test: lint + the module's tests (pytest-odoo, tours included) on a fresh database
# in a throw-away cluster. Ends with one line "N passed, N failed" and exits non-zero on failure.
. "$(dirname "$0")/common.sh"
setup_all
RESULTS="$LOCAL/test-results${CC_TEST_CLUSTER:+-$CC_TEST_CLUSTER}"
rm -rf "$RESULTS"; mkdir -p "$RESULTS"
T0=$(date +%s)

# CC_QUICK=1 (development only): skip lint, packaging, the shell-share and install/uninstall checks.
# 1. lint (one check in the summary), in the background while the template database is built
# and the module installed (one core each); its result is collected before the tests start
LINT_PID=
if [ -z "${CC_QUICK:-}" ]; then
    "$ROOT/tools/lint.sh" >"$RESULTS/lint.log" 2>&1 &
    LINT_PID=$!
fi

pg_start "${CC_TEST_CLUSTER:-test}" "${CC_TEST_PGPORT:-54339}"
trap 'pg_stop' EXIT
CONF="$LOCAL/test${CC_TEST_CLUSTER:+-$CC_TEST_CLUSTER}.conf"
DB=${TEST_DB:-cc_test}
write_odoo_conf "$CONF" "$DB" "${CC_TEST_HTTP_PORT:-8169}"
echo "test_enable = True" >>"$CONF"

# 2. template database with the dependencies installed, cached by Odoo tree + dependency list
DEPS=$("$PY" -c "import ast;print(','.join(ast.literal_eval(open('$ROOT/__manifest__.py').read())['depends']))")
KEY=$( (cat "$ODOO_SRC/odoo/release.py"; echo "$DEPS"; cat "$ROOT/tools/requirements.txt"; git -C "$ODOO_SRC" rev-parse HEAD 2>/dev/null || ls -la "$ODOO_SRC/addons" ) | sha256sum | cut -c1-10)
TMPL="cc_tmpl_$KEY"
if ! db_exists "$TMPL"; then
    info "building template database $TMPL ($DEPS, no demo data; once per Odoo tree)"
    for old in $(psql -d postgres -tAc "SELECT datname FROM pg_database WHERE datname LIKE 'cc_tmpl_%'"); do dropdb "$old"; done
    odoo_bin -c "$CONF" -d "$TMPL.part" -i "$DEPS" --without-demo=all --stop-after-init --log-level=warn \
        || { dropdb --if-exists "$TMPL.part"; die "building the template database failed"; }
    psql -d postgres -qc "ALTER DATABASE \"$TMPL.part\" RENAME TO \"$TMPL\""
    rm -rf "$LOCAL/filestore/filestore/$TMPL"
    [ -d "$LOCAL/filestore/filestore/$TMPL.part" ] && mv "$LOCAL/filestore/filestore/$TMPL.part" "$LOCAL/filestore/filestore/$TMPL"
fi
dropdb --if-exists "$DB"
createdb -T "$TMPL" "$DB"
rm -rf "$LOCAL/filestore/filestore/$DB"
[ -d "$LOCAL/filestore/filestore/$TMPL" ] && cp -r "$LOCAL/filestore/filestore/$TMPL" "$LOCAL/filestore/filestore/$DB"
info "set-up took $(( $(date +%s) - T0 ))s; installing credit_control"

# 3. install the module (its at-install behaviour: data files, German terms)
if ! odoo_bin -c "$CONF" -d "$DB" -i credit_control --load-language=de_DE --stop-after-init --log-level=warn >"$RESULTS/install.log" 2>&1 \
   || grep -qE "(ERROR|CRITICAL) $DB" "$RESULTS/install.log"; then
    cat "$RESULTS/install.log"
    echo "install failed" >"$RESULTS/install.status"
else
    echo "install passed" >"$RESULTS/install.status"
fi

# 3b. a copy of the freshly installed database for the soak stage (8), before any test runs
SOAK_SRC="${DB}_soak_src"
dropdb --if-exists "$SOAK_SRC"
if [ -z "${CC_QUICK:-}${CC_SKIP_SOAK:-}" ] && grep -q passed "$RESULTS/install.status"; then
    createdb -T "$DB" "$SOAK_SRC"
fi

if [ -n "$LINT_PID" ]; then
    if wait "$LINT_PID"; then
        echo "lint passed" >"$RESULTS/lint.status"
    else
        echo "lint failed" >"$RESULTS/lint.status"; cat "$RESULTS/lint.log"
    fi
fi

# 4. the module's tests through pytest-odoo, HttpCase tours included (--odoo-http)
# PYTEST_ARGS may hold quoted words, e.g. PYTEST_ARGS="-k 'exposure or install'"
# CC_TEST_SHARDS (default 2; 1 when PYTEST_ARGS is given): the test files are split into that
# many shards of about equal time (tools/test_shards.py, tools/test_weights.txt), each run by its
# own pytest process on its own copy of the installed database, in parallel (one per core on the
# 2-core machine); every file runs in exactly one shard. Shard 1 writes pytest.xml, shard N
# pytest-N.xml; their outputs follow one another once all have ended.
# tools/pytest_odoo_test_mode.py: pytest-odoo's import of odoo.tests logs no false ERROR.
eval "EXTRA_PYTEST_ARGS=(${PYTEST_ARGS:-})"
SHARDS=${CC_TEST_SHARDS:-$([ -n "${PYTEST_ARGS:-}" ] && echo 1 || echo 2)}
run_pytest_shard() {  # run_pytest_shard N DB JUNIT FILES...
    local n=$1 db=$2 junit=$3 rc=0 conf=$CONF; shift 3
    if [ "$db" != "$DB" ]; then
        # the test server's requests find their database through db_name / dbfilter
        conf="$LOCAL/test-shard$n${CC_TEST_CLUSTER:+-$CC_TEST_CLUSTER}.conf"
        sed "s|^db_name = .*|db_name = $db|; s|^dbfilter = .*|dbfilter = ^$db\$|" "$CONF" >"$conf"
    fi
    (cd "$ADDONS_LINK_DIR" && PYTHONPATH="$ROOT/tools:$PYTHONPATH" "$VENV/bin/pytest" -p no:cacheprovider \
        -p pytest_odoo_test_mode --rootdir="$ADDONS_LINK_DIR" --odoo-config="$conf" --odoo-database="$db" \
        --odoo-http --odoo-log-level=warn -rfEs --junitxml="$RESULTS/$junit" \
        --deselect credit_control/tests/test_oca_migration.py::TestOcaMigrationInstalled \
        "${EXTRA_PYTEST_ARGS[@]}" "$@") >"$RESULTS/pytest-$n.log" 2>&1 || rc=$?
    [ "$SHARDS" -gt 1 ] || cat "$RESULTS/pytest-$n.log"
    # 0 all passed, 1 some failed (junit counts them), 5 nothing selected (-k); else pytest broke
    case $rc in 0|1|5) ;; *) echo "pytest-shard$n failed (pytest exit $rc)" >"$RESULTS/pytest-shard$n.status" ;; esac
}
if grep -q passed "$RESULTS/install.status"; then
    T4=$(date +%s)
    mapfile -t SHARD_FILES < <("$PY" "$ROOT/tools/test_shards.py" "$ROOT/tests" "$ROOT/tools/test_weights.txt" "$SHARDS")
    PIDS=()
    for i in "${!SHARD_FILES[@]}"; do
        n=$(( i + 1 )) db=$DB junit=pytest.xml
        if [ "$n" -gt 1 ]; then
            db="${DB}_shard$n" junit="pytest-$n.xml"
            dropdb --if-exists "$db"; createdb -T "$DB" "$db"
            rm -rf "$LOCAL/filestore/filestore/$db"
            [ -d "$LOCAL/filestore/filestore/$DB" ] && cp -r "$LOCAL/filestore/filestore/$DB" "$LOCAL/filestore/filestore/$db"
        fi
        read -ra files <<<"${SHARD_FILES[$i]}"
        [ ${#files[@]} -gt 0 ] || continue   # more shards than test files
        run_pytest_shard "$n" "$db" "$junit" "${files[@]/#/credit_control/tests/}" &
        PIDS+=($!)
    done
    wait "${PIDS[@]}" || true
    for i in "${!SHARD_FILES[@]}"; do
        n=$(( i + 1 ))
        [ -n "${SHARD_FILES[$i]}" ] || continue
        if [ "${#SHARD_FILES[@]}" -gt 1 ]; then
            echo "=== pytest shard $n of ${#SHARD_FILES[@]}: ${SHARD_FILES[$i]}"
        fi
        [ "${#SHARD_FILES[@]}" -eq 1 ] || cat "$RESULTS/pytest-$n.log"
        junit=pytest.xml
        if [ "$n" -gt 1 ]; then
            junit="pytest-$n.xml"
            dropdb --if-exists "${DB}_shard$n"; rm -rf "$LOCAL/filestore/filestore/${DB}_shard$n"
        fi
        # a shard that ended without its junit file (crashed) fails the run
        if [ ! -s "$RESULTS/$junit" ]; then
            echo "pytest-shard$n failed (no $junit)" >"$RESULTS/pytest-shard$n.status"
        fi
    done
    info "pytest took $(( $(date +%s) - T4 ))s in ${#SHARD_FILES[@]} shard(s)"
fi

# 5. pip packaging: the wheel (whool, offline) holds the module (tools/package_check.py)
if [ -z "${CC_QUICK:-}" ]; then
    if "$PY" "$ROOT/tools/package_check.py" "$ROOT" "$LOCAL/package-check" >"$RESULTS/packaging.log" 2>&1; then
        echo "packaging passed" >"$RESULTS/packaging.status"
    else
        echo "packaging failed" >"$RESULTS/packaging.status"; cat "$RESULTS/packaging.log"
    fi
    tail -1 "$RESULTS/packaging.log" >&2
fi

# 6. make shell while make run serves: shares the cluster, the server keeps working
if [ -z "${CC_QUICK:-}" ]; then
    if grep -q passed "$RESULTS/install.status" \
       && "$ROOT/tools/shell_share_check.sh" "$DB" >"$RESULTS/shell-share.log" 2>&1; then
        echo "shell-share passed" >"$RESULTS/shell-share.status"
    else
        echo "shell-share failed" >"$RESULTS/shell-share.status"; tail -30 "$RESULTS/shell-share.log"
    fi
    tail -1 "$RESULTS/shell-share.log" >&2
fi

# 4b. OCA migration: a database with the OCA credit modules installed from their
# published wheels; only the migration tests run there (the others stay on the database without).
# In the background while stage 7 runs on its own cluster (one core each); output after stage 7.
oca_stage() {
    OCA_DB="${DB}_oca" OCA_CONF="$LOCAL/test-oca${CC_TEST_CLUSTER:+-$CC_TEST_CLUSTER}.conf"
    sed "s|^addons_path = .*|addons_path = $(oca_addons_path)|; s|^db_name = .*|db_name = $OCA_DB|; s|^dbfilter = .*|dbfilter = ^$OCA_DB\$|" "$CONF" >"$OCA_CONF"
    dropdb --if-exists "$OCA_DB"
    if ensure_oca_addons && createdb -T "$TMPL" "$OCA_DB" \
        && odoo_bin -c "$OCA_CONF" -d "$OCA_DB" -i credit_control,account_credit_control,account_financial_risk,sale_financial_risk \
            --stop-after-init --log-level=warn >"$RESULTS/install-oca.log" 2>&1 \
        && ! grep -qE "(ERROR|CRITICAL) $OCA_DB" "$RESULTS/install-oca.log"; then
        echo "install-oca passed" >"$RESULTS/install-oca.status"
        (cd "$ADDONS_LINK_DIR" && PYTHONPATH="$ROOT/tools:$PYTHONPATH" "$VENV/bin/pytest" -p no:cacheprovider \
            -p pytest_odoo_test_mode --rootdir="$ADDONS_LINK_DIR" --odoo-config="$OCA_CONF" --odoo-database="$OCA_DB" \
            --odoo-log-level=warn -rfEs --junitxml="$RESULTS/pytest-oca.xml" \
            credit_control/tests/test_oca_migration.py::TestOcaMigrationInstalled) || true
    else
        tail -40 "$RESULTS/install-oca.log" 2>/dev/null || true
        echo "install-oca failed" >"$RESULTS/install-oca.status"
    fi
}
OCA_PID=
if [ -z "${CC_SKIP_OCA:-}" ] && grep -q passed "$RESULTS/install.status"; then
    oca_stage >"$RESULTS/oca-stage.log" 2>&1 &
    OCA_PID=$!
fi

# 7. install + uninstall on a database without demo data and on one with l10n_de (tools/install_check.sh)
if [ -n "${CC_QUICK:-}" ]; then
    :
elif CC_BASE_TEMPLATE="$TMPL" "$ROOT/tools/install_check.sh" >"$RESULTS/install-uninstall.log" 2>&1; then
    echo "install-uninstall passed" >"$RESULTS/install-uninstall.status"
else
    echo "install-uninstall failed" >"$RESULTS/install-uninstall.status"; tail -40 "$RESULTS/install-uninstall.log"
fi
grep -sE "^install-uninstall" "$RESULTS/install-uninstall.log" >&2 || true
if [ -n "$OCA_PID" ]; then
    wait "$OCA_PID" || true
    cat "$RESULTS/oca-stage.log"
    [ -f "$RESULTS/install-oca.status" ] || echo "install-oca failed (the stage ended early)" >"$RESULTS/install-oca.status"
fi

# 8. soak, short: the module under the multi-process server (HTTP workers, two cron workers), a
# streaming standby as read replica, parallel confirmations, a SIGKILLed cron worker, an SMTP
# outage (tools/soak.sh --short, on this cluster and a copy of the installed database)
if [ -z "${CC_QUICK:-}${CC_SKIP_SOAK:-}" ]; then
    if db_exists "$SOAK_SRC" \
       && CC_SOAK_CLUSTER="${CC_TEST_CLUSTER:-test}" CC_SOAK_PGPORT="$PGPORT" SOAK_SOURCE_DB="$SOAK_SRC" \
          CC_SOAK_HTTP_PORT="${CC_SOAK_HTTP_PORT:-$(( ${CC_TEST_HTTP_PORT:-8169} + 5 ))}" \
          "$ROOT/tools/soak.sh" --short >"$RESULTS/soak.log" 2>&1; then
        echo "soak passed" >"$RESULTS/soak.status"
    else
        echo "soak failed" >"$RESULTS/soak.status"; tail -60 "$RESULTS/soak.log"
    fi
    grep -sE "^soak:" "$RESULTS/soak.log" >&2 || true
    dropdb --if-exists "$SOAK_SRC"
fi

"$PY" "$ROOT/tools/summary.py" "$RESULTS"
