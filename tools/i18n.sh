#!/usr/bin/env bash
# make i18n: regenerate i18n/credit_control.pot from a fresh install and merge it into
# i18n/de.po (new entries arrive empty, to be translated; nothing is fuzzy-matched).
. "$(dirname "$0")/common.sh"
setup_all
pg_start i18n "${CC_I18N_PGPORT:-54319}"
trap 'pg_stop' EXIT
CONF="$LOCAL/i18n.conf"
DB=cc_i18n
write_odoo_conf "$CONF" "$DB" 8179
dropdb --if-exists "$DB"
odoo_bin -c "$CONF" -d "$DB" -i credit_control --without-demo=all --stop-after-init --log-level=warn \
    || die "installing credit_control for the export failed"
mkdir -p "$ROOT/i18n"
"$PY" "$ROOT/tools/i18n_export.py" "$CONF" "$DB" "$ROOT/i18n/credit_control.pot" || die "exporting the terms failed"
if [ -f "$ROOT/i18n/de.po" ]; then
    msgmerge --quiet --update --no-fuzzy-matching --backup=none "$ROOT/i18n/de.po" "$ROOT/i18n/credit_control.pot"
else
    msginit --no-translator --locale=de --input="$ROOT/i18n/credit_control.pot" --output-file="$ROOT/i18n/de.po"
fi
untranslated=$(msgattrib --untranslated --no-obsolete "$ROOT/i18n/de.po" | grep -c '^msgid ' || true)
echo "i18n/credit_control.pot written; i18n/de.po has $(( untranslated > 0 ? untranslated - 1 : 0 )) untranslated entries"
