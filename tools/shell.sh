#!/usr/bin/env bash
# make shell: an Odoo shell on the demo database; with a script on stdin, run it and exit with its status
. "$(dirname "$0")/common.sh"
setup_all
DB=${DB:-credit_demo}
pg_start "${CC_RUN_CLUSTER:-run}" "${CC_RUN_PGPORT:-54329}"  # shared with a running make run
trap 'pg_stop' EXIT
CONF="$LOCAL/shell${CC_RUN_CLUSTER:+-$CC_RUN_CLUSTER}.conf"
write_odoo_conf "$CONF" "$DB" 8079
db_exists "$DB" || die "no database $DB yet: run 'make run' once first"
if [ -t 0 ]; then
    odoo_bin shell -c "$CONF" -d "$DB" --log-level=warn
else
    script=$(mktemp); cat >"$script"
    # odoo shell swallows exceptions of piped input: wrap the script so failures give a status
    wrapper=$(mktemp)
    cat >"$wrapper" <<PYW
import sys, traceback
try:
    exec(compile(open("$script").read(), "<stdin>", "exec"), globals())
    env.cr.commit()
    env.registry.signal_changes()  # a running make run clears its caches (languages, rules, ...)
except SystemExit as e:
    env.cr.commit(); open("$script.rc", "w").write(str(e.code or 0))
except Exception:
    traceback.print_exc(); open("$script.rc", "w").write("1")
PYW
    odoo_bin shell -c "$CONF" -d "$DB" --log-level=warn --no-http <"$wrapper"
    rc=$(cat "$script.rc" 2>/dev/null || echo 0)
    rm -f "$script" "$script.rc" "$wrapper"
    exit "$rc"
fi
