#!/usr/bin/env bash
# Install/uninstall check: credit_control installs and uninstalls cleanly
#   (a) "plain": a database without demo data (account, sale, mail; Odoo's generic chart)
#   (b) "de":    the same with l10n_de and the German chart SKR03 loaded on the main company;
#                between install and uninstall, the bad-debt write-off booked on SKR03 and SKR04
#                (tools/install_check_write_off.py)
# For each: copy a cached template, install credit_control, uninstall it through
# button_immediate_uninstall in an Odoo shell, then require no ERROR/CRITICAL in the logs,
# the module state 'uninstalled' and nothing of the module left in ir_model_data / ir_model.
# Standalone it runs its own cluster (.local/pg-install); from tools/test.sh it reuses the
# cluster named by PGHOST and the test template passed as CC_BASE_TEMPLATE.
# Exit status 0 when both pass. Logs: .local/install-check-pg-<cluster>/logs/.
. "$(dirname "$0")/common.sh"
setup_all
T0=$(date +%s)

if [ -z "${PGHOST:-}" ]; then
    pg_start install "${CC_INSTALL_PGPORT:-54389}"
    trap 'pg_stop' EXIT
else
    pg_start install 0   # PGHOST set (e.g. by tools/test.sh): use that server
fi
# Everything this script writes is per cluster (several may run at once, one per engineer):
# logs in $OUT/logs, Odoo's data dir (filestores of its databases and templates) in $OUT/data.
case "$DB_HOST" in
    "$LOCAL"/pg-*/run) TAG=$(basename "$(dirname "$DB_HOST")") ;;   # our own cluster: pg-<name>
    *) TAG="server-$(echo "$DB_HOST:$DB_PORT" | sha256sum | cut -c1-8)" ;;
esac
OUT="$LOCAL/install-check-$TAG"
LOGS="$OUT/logs"
DATA="$OUT/data"
rm -rf "$LOGS"; mkdir -p "$LOGS" "$DATA"
PREFIX=cc_inst
CONF="$LOGS/odoo.conf"
write_odoo_conf "$CONF" "$PREFIX" "${CC_INSTALL_HTTP_PORT:-8389}"
sed -i "s|^data_dir = .*|data_dir = $DATA|" "$CONF"
ODOO_ARGS=(-c "$CONF" --no-http --stop-after-init)

copy_db() {  # copy_db TEMPLATE TARGET: database and filestore (tools/test.sh's template: read only)
    drop_db "$2"
    createdb -T "$1" "$2"
    if [ -d "$DATA/filestore/$1" ]; then
        cp -r "$DATA/filestore/$1" "$DATA/filestore/$2"
    elif [ -d "$LOCAL/filestore/filestore/$1" ]; then
        mkdir -p "$DATA/filestore"
        cp -r "$LOCAL/filestore/filestore/$1" "$DATA/filestore/$2"
    fi
}
drop_db() { PGOPTIONS="-c client_min_messages=warning" dropdb --if-exists "$1"; rm -rf "${DATA:?}/filestore/$1"; }
finish_template() {  # finish_template PART FINAL: rename a freshly built template into place
    psql -d postgres -qc "ALTER DATABASE \"$1\" RENAME TO \"$2\""
    rm -rf "${DATA:?}/filestore/$2"
    if [ -d "$DATA/filestore/$1" ]; then
        mv "$DATA/filestore/$1" "$DATA/filestore/$2"
    fi
}

# ---- templates, cached by Odoo tree + dependency list (same key as tools/test.sh)
DEPS=$("$PY" -c "import ast;print(','.join(ast.literal_eval(open('$ROOT/__manifest__.py').read())['depends']))")
KEY=$( (cat "$ODOO_SRC/odoo/release.py"; echo "$DEPS"; cat "$ROOT/tools/requirements.txt"; git -C "$ODOO_SRC" rev-parse HEAD 2>/dev/null || ls -la "$ODOO_SRC/addons" ) | sha256sum | cut -c1-10)
BASE=${CC_BASE_TEMPLATE:-cc_tmpl_$KEY}
if ! db_exists "$BASE"; then
    info "building template database $BASE ($DEPS, no demo data)"
    drop_db "$BASE.part"
    odoo_bin "${ODOO_ARGS[@]}" -d "$BASE.part" -i "$DEPS" --without-demo=all --log-level=warn \
        || { drop_db "$BASE.part"; die "building the template database failed"; }
    finish_template "$BASE.part" "$BASE"
fi
DE_TMPL="cc_itmpl_de_$KEY"
if ! db_exists "$DE_TMPL"; then
    info "building template database $DE_TMPL ($BASE + l10n_de, chart de_skr03 on the main company)"
    for old in $(psql -d postgres -tAc "SELECT datname FROM pg_database WHERE datname LIKE 'cc_itmpl_de_%'"); do
        drop_db "$old"
    done
    copy_db "$BASE" "$DE_TMPL.part"
    cat >"$LOGS/load_skr03.py" <<'PY'
company = env.ref("base.main_company")
company.write({"name": "Muster Maschinenbau GmbH", "country_id": env.ref("base.de").id, "vat": "DE123456788"})
env["account.chart.template"].try_loading("de_skr03", company)
env.cr.commit()
assert company.chart_template == "de_skr03", company.chart_template
assert company.currency_id == env.ref("base.EUR"), company.currency_id
PY
    if ! odoo_bin "${ODOO_ARGS[@]}" -d "$DE_TMPL.part" -i l10n_de --log-level=warn >"$LOGS/template-de.log" 2>&1 \
       || ! odoo_bin shell "${ODOO_ARGS[@]}" -d "$DE_TMPL.part" --log-level=warn <"$LOGS/load_skr03.py" >>"$LOGS/template-de.log" 2>&1 \
       || grep -qE "Traceback|AssertionError" "$LOGS/template-de.log"; then
        cat "$LOGS/template-de.log"; drop_db "$DE_TMPL.part"; die "building the German template failed"
    fi
    finish_template "$DE_TMPL.part" "$DE_TMPL"
fi
info "templates ready after $(( $(date +%s) - T0 ))s"

# ---- one install/uninstall round
check() {  # check NAME TEMPLATE [extra install args]
    local name=$1 tmpl=$2 db="${PREFIX}_inst_$1" t0 log="$LOGS/$1.log" problems=()
    shift 2
    t0=$(date +%s)
    copy_db "$tmpl" "$db"
    odoo_bin "${ODOO_ARGS[@]}" -d "$db" -i credit_control "$@" --log-level=warn >"$log" 2>&1 \
        || problems+=("install exited non-zero")
    local state
    state=$(psql -d "$db" -tAc "SELECT state FROM ir_module_module WHERE name='credit_control'")
    [ "$state" = installed ] || problems+=("after install the module is '$state'")
    local t_install=$(( $(date +%s) - t0 ))
    if [ "$name" = de ] && [ "$state" = installed ]; then
        # the bad-debt write-off on Odoo's real German charts (SKR03 here, SKR04 in a second company)
        echo "--- write-off on SKR03 / SKR04" >>"$log"
        odoo_bin shell "${ODOO_ARGS[@]}" -d "$db" --log-level=warn <"$ROOT/tools/install_check_write_off.py" \
            >"$LOGS/write_off.out" 2>>"$log" || problems+=("write-off check exited non-zero")
        cat "$LOGS/write_off.out" >>"$log"
        grep "^write-off " "$LOGS/write_off.out" || problems+=("write-off check printed nothing")
        grep -q "^write-off .*FAILED" "$LOGS/write_off.out" && problems+=("write-off on the German charts failed")
    fi
    echo "--- uninstall" >>"$log"
    odoo_bin shell "${ODOO_ARGS[@]}" -d "$db" --log-level=warn <"$LOGS/uninstall.py" >>"$log" 2>&1 \
        || problems+=("uninstall exited non-zero")
    state=$(psql -d "$db" -tAc "SELECT state FROM ir_module_module WHERE name='credit_control'")
    [ "$state" = uninstalled ] || problems+=("after uninstall the module is '$state'")
    local left
    left=$(psql -d "$db" -tAc "SELECT count(*) FROM ir_model_data WHERE module='credit_control'")
    [ "$left" = 0 ] || problems+=("$left ir_model_data rows of credit_control left")
    left=$(psql -d "$db" -tAc "SELECT string_agg(model, ', ') FROM ir_model WHERE model LIKE 'credit.%'")
    [ -z "$left" ] || problems+=("models left: $left")
    left=$(psql -d "$db" -tAc "SELECT string_agg(indexname, ', ') FROM pg_indexes WHERE indexname LIKE 'credit\_control\_%'")
    [ -z "$left" ] || problems+=("indexes left on Odoo's tables: $left")
    if grep -qE "^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) " "$log" || grep -q "Traceback" "$log"; then
        problems+=("ERROR in the log")
    fi
    local total=$(( $(date +%s) - t0 ))
    if [ ${#problems[@]} -eq 0 ]; then
        echo "install-uninstall $name: passed (install ${t_install}s, total ${total}s)"
        drop_db "$db"
        return 0
    fi
    grep -E "(ERROR|CRITICAL|WARNING)|Traceback" -A15 "$log" | head -60
    echo "install-uninstall $name: FAILED: $(IFS=';'; echo "${problems[*]}") (log: $log, database $db kept)"
    return 1
}

cat >"$LOGS/uninstall.py" <<'PY'
env["ir.module.module"].search([("name", "=", "credit_control")]).button_immediate_uninstall()
env.cr.commit()
PY
# both rounds in parallel (separate databases), reported in order
rc=0
check plain "$BASE" >"$LOGS/plain.out" 2>&1 &
plain_pid=$!
check de "$DE_TMPL" --load-language=de_DE >"$LOGS/de.out" 2>&1 &
de_pid=$!
wait "$plain_pid" || rc=1
wait "$de_pid" || rc=1
cat "$LOGS/plain.out" "$LOGS/de.out"
echo "install-uninstall: $([ $rc = 0 ] && echo passed || echo failed) in $(( $(date +%s) - T0 ))s"
exit $rc
