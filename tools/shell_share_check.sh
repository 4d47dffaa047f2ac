#!/usr/bin/env bash
# Check (part of make test): `make shell` while `make run` serves shares the running cluster and
# leaves the server working; the last command out stops the cluster.
#   1. copy the test database (credit_control installed) into a cluster of its own, "share"
#   2. tools/run.sh serves it (starting that cluster), tools/shell.sh runs a script on it
#   3. the server still answers a page that reads the database, and a JSON-RPC call
#   4. stopping run.sh stops the cluster (nobody else uses it)
# Usage (from tools/test.sh, PGHOST = the test cluster): shell_share_check.sh SOURCE_DB
# Prints "shell-share: passed|failed ..." last; exit status 0 when passed.
. "$(dirname "$0")/common.sh"
setup_all
T0=$(date +%s)
SRC_DB=${1:?source database}
CLUSTER=share
SHARE_PGPORT=${CC_SHARE_PGPORT:-54359}
SHARE_HTTP_PORT=${CC_SHARE_HTTP_PORT:-$(( ${CC_TEST_HTTP_PORT:-8169} + 1 ))}
DB=cc_share
OUT="$LOCAL/shell-share-check"
rm -rf "$OUT"; mkdir -p "$OUT"
problems=()

# 1. dump the source database from the server named by PGHOST, restore it into our cluster
pg_dump -Fc -d "$SRC_DB" -f "$OUT/src.dump" || die "dumping $SRC_DB failed"
unset PGHOST PGPORT PGUSER
pg_start "$CLUSTER" "$SHARE_PGPORT"
dropdb --if-exists "$DB"
createdb "$DB"
pg_restore -d "$DB" --no-owner "$OUT/src.dump" >"$OUT/restore.log" 2>&1 || true
rm -rf "$LOCAL/filestore/filestore/$DB"
[ -d "$LOCAL/filestore/filestore/$SRC_DB" ] && cp -r "$LOCAL/filestore/filestore/$SRC_DB" "$LOCAL/filestore/filestore/$DB"
rm -f "$OUT/src.dump"
pg_stop    # we were its only user: the cluster stops, run.sh starts it again as make run does
unset PGHOST PGPORT PGUSER
pg_running && problems+=("the cluster kept running after its only user left")

# 2. make run on that cluster, in the background
CC_RUN_CLUSTER=$CLUSTER CC_RUN_PGPORT=$SHARE_PGPORT HTTP_PORT=$SHARE_HTTP_PORT DB=$DB \
    "$ROOT/tools/run.sh" >"$OUT/run.log" 2>&1 &
run_pid=$!
cleanup() { kill "$run_pid" 2>/dev/null && wait "$run_pid" 2>/dev/null; return 0; }
trap cleanup EXIT
url="http://127.0.0.1:$SHARE_HTTP_PORT"
answers() {  # answers: the login page (reads the database) and a JSON-RPC call
    "$PY" - "$url" <<'PY'
import sys, requests
url = sys.argv[1]
page = requests.get(url + "/web/login", timeout=20)
rpc = requests.post(url + "/web/webclient/version_info", json={"jsonrpc": "2.0", "params": {}}, timeout=20)
ok = page.status_code == 200 and 'name="login"' in page.text and rpc.json().get("result", {}).get("server_serie") == "18.0"
print(f"login page {page.status_code}, version_info {rpc.status_code}")
sys.exit(0 if ok else 1)
PY
}
up=0
for _ in $(seq 90); do
    kill -0 "$run_pid" 2>/dev/null || break
    if answers >/dev/null 2>&1; then up=1; break; fi
    sleep 1
done
if [ "$up" = 0 ]; then
    tail -20 "$OUT/run.log"
    echo "shell-share: failed (the server of tools/run.sh did not answer)"
    exit 1
fi
info "make run serves $DB on port $SHARE_HTTP_PORT after $(( $(date +%s) - T0 ))s"

# 3. make shell with a script, while the server runs
cat >"$OUT/script.py" <<'PY'
partner = env["res.partner"].create({"name": "Shell Share Check"})
print("shell-share partner", partner.id, env["res.company"].search_count([]))
PY
if ! CC_RUN_CLUSTER=$CLUSTER CC_RUN_PGPORT=$SHARE_PGPORT DB=$DB "$ROOT/tools/shell.sh" <"$OUT/script.py" >"$OUT/shell.log" 2>&1; then
    problems+=("make shell failed")
fi
grep -q "shell-share partner" "$OUT/shell.log" || problems+=("the shell script did not run")
grep -q "stopping a stale cluster" "$OUT/shell.log" && problems+=("make shell stopped the running cluster")
if answers >"$OUT/answers.log" 2>&1; then
    info "the server still answers: $(cat "$OUT/answers.log")"
else
    problems+=("the server no longer answers after make shell: $(tail -1 "$OUT/answers.log")")
fi
PG_DATA="$LOCAL/pg-$CLUSTER/data"
n=$(psql -h "$LOCAL/pg-$CLUSTER/run" -p "$SHARE_PGPORT" -U odoo -d "$DB" -tAc \
    "SELECT count(*) FROM res_partner WHERE name = 'Shell Share Check'" 2>/dev/null || echo 0)
[ "$n" = 1 ] || problems+=("the shell's partner was not committed ($n)")

# 4. stop make run: it was the last user, so the cluster stops with it
kill "$run_pid"; wait "$run_pid" 2>/dev/null || true
trap - EXIT
for _ in $(seq 20); do pg_running || break; sleep 1; done
pg_running && problems+=("the cluster still runs after make run stopped")

if [ ${#problems[@]} -eq 0 ]; then
    echo "shell-share: passed in $(( $(date +%s) - T0 ))s"
    exit 0
fi
echo "shell-share: failed: $(IFS=';'; echo "${problems[*]}") (logs in $OUT)"
exit 1
