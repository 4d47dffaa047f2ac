"""OCA migration: dunning levels and each invoice's reached level (see credit_oca_migration)."""

from collections import defaultdict

from odoo import _, api, models
from odoo.tools import SQL, plaintext2html

from .credit_oca_migration import OCA_SENT_STATES


class CreditOcaMigration(models.TransientModel):
    _inherit = "credit.oca.migration"

    # === BUSINESS METHODS === #
    def _migrate_levels(self, company, result):
        """Dunning levels from the OCA policy levels of ``company``. Returns
        {OCA policy level id: credit.dunning.level} for every OCA level of the company's policies:
        the levels of the company's main policy become dunning levels, the levels of other policies
        map by rank onto them."""
        if not self._oca_table_exists("credit_control_policy_level"):
            return {}
        rows = self.env.execute_query_dict(
            SQL(
                """
                SELECT l.id, l.policy_id, l.level, l.name, l.computation_mode, l.delay_days,
                       l.channel, l.custom_text, l.custom_text_after_details
                  FROM credit_control_policy_level l
                  JOIN credit_control_policy p ON p.id = l.policy_id
                 WHERE p.company_id = %(company)s OR p.company_id IS NULL
              ORDER BY l.policy_id, l.level, l.id
                """,
                company=company.id,
            )
        )
        if not rows:
            return {}
        by_policy = defaultdict(list)
        for row in rows:
            by_policy[row["policy_id"]].append(row)
        main_policy = self._oca_main_policy(company, by_policy)
        main_levels = by_policy[main_policy]
        known = self._migration_records("credit.dunning.level", f"level_{company.id}_")
        new_rows = [row for row in main_levels if row["id"] not in known]
        if new_rows:
            created = self._create_levels(company, main_levels, known, result)
            known.update(created)
        ranked = [known[row["id"]] for row in main_levels if row["id"] in known]
        level_map = {}
        for rows_of_policy in by_policy.values():
            for rank, row in enumerate(rows_of_policy):
                level = known.get(row["id"]) or (ranked[min(rank, len(ranked) - 1)] if ranked else None)
                if level:
                    level_map[row["id"]] = level
        return level_map

    def _oca_main_policy(self, company, by_policy):
        """The company's OCA default policy, else the policy of most of its sent lines."""
        if self._oca_column_exists("res_company", "credit_policy_id"):
            [[policy_id]] = self.env.execute_query(
                SQL("SELECT credit_policy_id FROM res_company WHERE id = %(id)s", id=company.id)
            )
            if policy_id in by_policy:
                return policy_id
        if self._oca_table_exists("credit_control_line"):
            rows = self.env.execute_query(
                SQL(
                    """
                    SELECT policy_id FROM credit_control_line
                     WHERE company_id = %(company)s AND policy_id IN %(policies)s
                  GROUP BY policy_id ORDER BY COUNT(*) DESC, policy_id LIMIT 1
                    """,
                    company=company.id,
                    policies=tuple(by_policy),
                )
            )
            if rows:
                return rows[0][0]
        return min(by_policy)

    def _create_levels(self, company, main_levels, known, result):
        """Create the dunning levels of the main policy not taken over yet. The first time, the
        company's levels that no invoice and no letter uses are archived: the OCA scale replaces
        the default scale (a Credit Manager may restore them)."""
        # the default context (active levels only): the days must increase along the active levels,
        # an archived level of the old scale neither constrains nor orders the new ones
        Level = self.env["credit.dunning.level"].with_context(active_test=True)
        if not known:
            self._archive_unused_levels(company, result)
        active = Level.search([("company_id", "=", company.id)])
        sequence = max(active.mapped("sequence"), default=0)
        last_days = max(active.mapped("days"), default=None)
        template = self.env.ref(
            "credit_control.mail_template_credit_dunning_letter", raise_if_not_found=False
        )
        langs = [code for code, _name in self.env["res.lang"].get_installed()]
        created = {}
        previous_days = None
        for row in main_levels:
            days = self._oca_level_days(row, previous_days)
            previous_days = days
            if row["id"] in known:
                continue
            if last_days is not None and days <= last_days:
                days = last_days + 1
            sequence += 10
            names = self._translations(row["name"], langs)
            intros = self._translations(row["custom_text"], langs)
            closings = self._translations(row["custom_text_after_details"], langs)
            level = Level.create(
                {
                    "company_id": company.id,
                    "sequence": sequence,
                    "name": names.get("en_US") or _("Level %(level)s", level=row["level"]),
                    "days": days,
                    "min_days_since_previous": row["delay_days"]
                    if row["computation_mode"] == "previous_date"
                    else max(days - last_days, 0)
                    if last_days is not None
                    else 0,
                    "channel_email": row["channel"] == "email",
                    "channel_letter": row["channel"] == "letter",
                    "channel_phone": row["channel"] == "phone",
                    # the Credit Manager decides which levels the daily dunning sends by itself
                    "is_automatic": False,
                    "invoice_charges": False,
                    "mail_template_id": template.id if template else False,
                    "introduction": plaintext2html(intros["en_US"]) if intros.get("en_US") else False,
                    "closing": plaintext2html(closings["en_US"]) if closings.get("en_US") else False,
                }
            )
            self._set_translations(level, names, intros, closings)
            last_days = days
            created[row["id"]] = level
            self._mark(level, f"level_{company.id}_{row['id']}")
            result["levels"] += 1
        return created

    def _archive_unused_levels(self, company, result):
        """Archive the active levels of ``company`` that no invoice and no letter uses."""
        unused = (
            self.env["credit.dunning.level"]
            .with_context(active_test=True)
            .search([("company_id", "=", company.id)])
        )
        if not unused:
            return
        self.env["account.move"].flush_model(["credit_dunning_level_id"])
        self.env["credit.dunning.line"].flush_model(["level_id"])
        used_ids = {
            level_id
            for [level_id] in self.env.execute_query(
                SQL(
                    """
                    SELECT credit_dunning_level_id FROM account_move
                     WHERE credit_dunning_level_id IN %(ids)s
                     UNION
                    SELECT level_id FROM credit_dunning_line WHERE level_id IN %(ids)s
                    """,
                    ids=tuple(unused.ids),
                )
            )
        }
        to_archive = unused.filtered(lambda lvl: lvl.id not in used_ids)
        to_archive.active = False
        result["levels_archived"] += len(to_archive)

    @api.model
    def _set_translations(self, level, names, intros, closings):
        """The other languages of the OCA texts: the name as a whole, the letter texts (HTML,
        translated by terms) term by term."""
        names = {lang: value for lang, value in names.items() if lang != "en_US" and value}
        if names:
            level.update_field_translations("name", names)
        for field_name, values in (("introduction", intros), ("closing", closings)):
            field = level._fields[field_name]
            source_terms = field.get_trans_terms(level[field_name] or "")
            translations = {}
            for lang, value in values.items():
                terms = field.get_trans_terms(str(plaintext2html(value))) if value else []
                if lang != "en_US" and len(terms) == len(source_terms):
                    translations[lang] = dict(zip(source_terms, terms, strict=True))
            if translations:
                level.update_field_translations(field_name, translations)

    @api.model
    def _oca_level_days(self, row, previous_days):
        """Days after the due date at which the OCA level applies: the delay after the due date,
        or (computed on the previous reminder) the previous level's days plus the delay."""
        if row["computation_mode"] == "previous_date" and previous_days is not None:
            return previous_days + row["delay_days"]
        return row["delay_days"]

    @api.model
    def _translations(self, value, langs):
        """{lang: text} of a translated OCA column (jsonb in 18; a plain string in older data)."""
        if not value:
            return {}
        if isinstance(value, str):
            return dict.fromkeys(langs, value)
        base = value.get("en_US") or next(iter(value.values()), "")
        return {lang: value.get(lang) or base for lang in langs}

    # --- invoices --- #
    def _migrate_invoice_levels(self, company, level_map, result):
        """Each invoice reminded by OCA gets the dunning level of its highest sent OCA line and
        the date of its last reminder: the next dunning run continues from there. Invoices that
        this module dunned already (or that were taken over before) keep their level."""
        if not level_map or not self._oca_table_exists("credit_control_line"):
            return
        rows = self.env.execute_query(
            SQL(
                """
                SELECT DISTINCT ON (cl.invoice_id)
                       cl.invoice_id, cl.policy_level_id,
                       MAX(COALESCE(cl.date_sent, cl.date)) OVER (PARTITION BY cl.invoice_id)
                  FROM credit_control_line cl
                  JOIN account_move m ON m.id = cl.invoice_id
                 WHERE cl.company_id = %(company)s
                   AND cl.state IN %(states)s
                   AND m.credit_dunning_level_id IS NULL
              ORDER BY cl.invoice_id, cl.level DESC, cl.id DESC
                """,
                company=company.id,
                states=OCA_SENT_STATES,
            )
        )
        values = [
            (move_id, level_map[oca_level].id, date)
            for move_id, oca_level, date in rows
            if oca_level in level_map
        ]
        if not values:
            return
        self.env["credit.dunning.level"].flush_model()
        self.env["account.move"].flush_model(["credit_dunning_level_id", "credit_dunning_date"])
        # one statement for all invoices: only the dunning fields change, no invoice sync needed
        updated = self.env.execute_query(
            SQL(
                """
                UPDATE account_move m
                   SET credit_dunning_level_id = v.level_id, credit_dunning_date = v.date
                  FROM unnest(%(move_ids)s::int[], %(level_ids)s::int[], %(dates)s::date[])
                       AS v(move_id, level_id, date)
                 WHERE m.id = v.move_id AND m.credit_dunning_level_id IS NULL
             RETURNING m.id
                """,
                move_ids=[value[0] for value in values],
                level_ids=[value[1] for value in values],
                dates=[value[2] for value in values],
            )
        )
        self.env["account.move"].invalidate_model(["credit_dunning_level_id", "credit_dunning_date"])
        result["invoices"] += len(updated)

    # --- communication history --- #
