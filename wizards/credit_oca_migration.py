"""Take over the data of the OCA credit modules (account_credit_control, account_financial_risk,
sale_financial_risk): dunning levels, each invoice's reached level, the communication history as
letters kept as history, credit limits and risk exceptions as holds.

The OCA data is read with SQL, so the wizard works whether the OCA modules are installed or only
their tables and columns are left (modules removed from the addons path). Every record taken over
is marked with an external id of the pseudo-module ``__credit_oca_migration__`` (never a real
module, so no module update deletes them): running the wizard again takes over only what is new.
"""

import logging
from collections import defaultdict

from markupsafe import Markup, escape

from odoo import Command, _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL, format_amount, plaintext2html

from ..lib.open_items import open_receivable_where
from ..models.account_move import DUNNING_WRITE
from ..models.res_partner import CREDIT_PROFILE_WRITE

_logger = logging.getLogger(__name__)

MIGRATION_MODULE = "__credit_oca_migration__"
# OCA credit control line states that mean "the customer was reminded"
OCA_SENT_STATES = ("sent",)
# OCA financial risk: the partial limits, which have no counterpart here (noted on the customer)
OCA_PARTIAL_LIMITS = (
    "risk_invoice_draft_limit",
    "risk_invoice_open_limit",
    "risk_invoice_unpaid_limit",
    "risk_account_amount_limit",
    "risk_account_amount_unpaid_limit",
    "risk_sale_order_limit",
)
COUNT_KEYS = (
    "levels",
    "levels_archived",
    "invoices",
    "runs",
    "letters",
    "letter_lines",
    "limits",
    "limits_noted",
    "holds",
)


class CreditOcaMigration(models.TransientModel):
    _name = "credit.oca.migration"
    _description = "Take Over OCA Credit Control Data"

    # === FIELDS === #
    company_ids = fields.Many2many(
        "res.company",
        string="Companies",
        required=True,
        default=lambda self: self.env.companies,
        domain=lambda self: [("id", "in", self.env.user.company_ids.ids)],
    )
    do_levels = fields.Boolean(
        string="Dunning Levels and Reached Levels",
        default=True,
        help="OCA policy levels become dunning levels; each invoice keeps the highest level it was "
        "reminded at and the date of its last reminder, so customers do not start again at the "
        "first reminder.",
    )
    do_history = fields.Boolean(
        string="Communication History",
        default=True,
        help="Sent OCA communications become validated dunning letters, kept as history and "
        "never sent again.",
    )
    do_risk = fields.Boolean(
        string="Credit Limits and Risk Exceptions",
        default=True,
        help="OCA credit limits are put in force; customers in a risk exception are put on credit "
        "hold with a reason.",
    )
    found_html = fields.Html(string="OCA Data Found", compute="_compute_found_html", sanitize=False)
    state = fields.Selection([("draft", "Draft"), ("done", "Done")], default="draft", required=True)
    report_html = fields.Html(string="Report", readonly=True, sanitize=False)

    # === COMPUTE === #
    @api.depends("company_ids")
    def _compute_found_html(self):
        for wizard in self:
            found = wizard._oca_found()
            if not any(found.values()):
                wizard.found_html = Markup("<p>%s</p>") % _(
                    "No data of the OCA credit modules was found in this database."
                )
                continue
            labels = {
                "policies": _("Credit control policies"),
                "levels": _("Policy levels"),
                "lines": _("Sent credit control lines"),
                "communications": _("Communications"),
                "limits": _("Customers with a risk limit"),
            }
            wizard.found_html = Markup("<ul>%s</ul>") % Markup().join(
                Markup("<li>%s: %s</li>") % (labels[key], count) for key, count in found.items()
            )

    # === ACTIONS === #
    def action_migrate(self):
        self.ensure_one()
        if not self.env.user.has_group("credit_control.credit_control_group_manager"):
            raise AccessError(_("Only Credit Managers may take over the data of the OCA credit modules."))
        companies = self.company_ids & self.env.user.company_ids
        if not companies:
            raise UserError(_("Choose at least one of your companies."))
        if not any(self._oca_found().values()):
            raise UserError(_("No data of the OCA credit modules was found in this database."))
        counts = self._migrate(companies)
        self.write({"state": "done", "report_html": self._report_html(counts)})
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }

    # === BUSINESS METHODS === #
    def _migrate(self, companies):
        """Take over the OCA data of ``companies``; returns the counts per company id."""
        counts = {}
        for company in companies:
            env_company = self.with_company(company)
            result = defaultdict(int)
            level_map = {}
            if self.do_levels or self.do_history:
                level_map = env_company._migrate_levels(company, result)
            if self.do_levels:
                env_company._migrate_invoice_levels(company, level_map, result)
            if self.do_history:
                env_company._migrate_history(company, level_map, result)
            if self.do_risk:
                env_company._migrate_limits(company, result)
                env_company._migrate_holds(company, result)
            counts[company.id] = dict(result)
            self._log_on_company(company, result)
        return counts

    # --- levels --- #
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
            unused = Level.search([("company_id", "=", company.id)])
            if unused:
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
    def _migrate_history(self, company, level_map, result):
        """Sent OCA communications (and sent lines without one) become validated letters of
        historical dunning runs, one run per date: documented, counted, never sent again."""
        if not level_map or not self._oca_table_exists("credit_control_line"):
            return
        has_communication = self._oca_table_exists("credit_control_communication")
        rows = self.env.execute_query_dict(
            SQL(
                """
                SELECT cl.id, cl.communication_id, cl.partner_id, cl.policy_level_id, cl.channel,
                       COALESCE(cl.date_sent, cl.date) AS date, cl.date_due, cl.amount_due,
                       cl.balance_due, cl.level,
                       COALESCE(cl.currency_id, %(currency)s) AS currency_id,
                       COALESCE(cl.invoice_id, aml.move_id) AS move_id, m.invoice_date,
                       %(contact)s AS contact_id, %(comm_date)s AS comm_date
                  FROM credit_control_line cl
                  JOIN account_move_line aml ON aml.id = cl.move_line_id
                  JOIN account_move m ON m.id = COALESCE(cl.invoice_id, aml.move_id)
                       %(comm_join)s
                 WHERE cl.company_id = %(company)s AND cl.state IN %(states)s
              ORDER BY cl.id
                """,
                currency=company.currency_id.id,
                contact=SQL("c.contact_address_id") if has_communication else SQL("NULL::int"),
                comm_date=SQL("c.report_date") if has_communication else SQL("NULL::date"),
                comm_join=SQL("LEFT JOIN credit_control_communication c ON c.id = cl.communication_id")
                if has_communication
                else SQL(""),
                company=company.id,
                states=OCA_SENT_STATES,
            )
        )
        # one letter per communication; sent lines without a communication grouped per customer,
        # date, level and currency (as OCA groups a communication)
        groups = defaultdict(list)
        for row in rows:
            if row["policy_level_id"] not in level_map:
                continue
            key = (
                ("comm", row["communication_id"])
                if row["communication_id"] and has_communication
                else ("lines", row["partner_id"], row["date"], row["policy_level_id"], row["currency_id"])
            )
            groups[key].append(row)
        known = self._migration_records("credit.dunning.letter", f"letter_{company.id}_")
        partners = self.env["res.partner"].browse({row["partner_id"] for row in rows}).exists()
        commercial_of = {partner.id: partner.commercial_partner_id.id for partner in partners}
        # the level each invoice had before a letter: its previous sent OCA line
        previous_of = {}
        last_level = {}
        for row in sorted(rows, key=lambda r: (r["move_id"], r["level"], r["date"], r["id"])):
            previous_of[row["id"]] = last_level.get(row["move_id"])
            if row["policy_level_id"] in level_map:
                last_level[row["move_id"]] = level_map[row["policy_level_id"]].id
        todo = []
        for key, lines in groups.items():
            known_key = key[1] if key[0] == "comm" else f"l{lines[0]['id']}"
            if known_key in known or lines[0]["partner_id"] not in commercial_of:
                continue
            todo.append((f"letter_{company.id}_{known_key}", key, lines))
        if not todo:
            return
        runs = self._history_runs(
            company, {lines[0]["comm_date"] or lines[0]["date"] for _n, _k, lines in todo}, result
        )
        vals_list = []
        for _name, _key, lines in todo:
            first = lines[0]
            date = first["comm_date"] or first["date"]
            channel = first["channel"]
            vals_list.append(
                {
                    "run_id": runs[date].id,
                    "state": "done",
                    "partner_id": commercial_of[first["partner_id"]],
                    "recipient_id": first["contact_id"] or first["partner_id"],
                    "currency_id": first["currency_id"],
                    "channel_email": channel == "email",
                    "channel_letter": channel == "letter",
                    "channel_phone": channel == "phone",
                    "letter_state": "printed" if channel == "letter" else "none",
                    "line_ids": [
                        Command.create(
                            {
                                "move_id": line["move_id"],
                                "line_type": "invoice",
                                "level_id": level_map[line["policy_level_id"]].id,
                                "previous_level_id": previous_of.get(line["id"]) or False,
                                "currency_id": line["currency_id"],
                                "date_invoice": line["invoice_date"],
                                "date_due": line["date_due"],
                                "days_overdue": (date - line["date_due"]).days if line["date_due"] else 0,
                                "amount_total": line["amount_due"],
                                "amount_residual": line["balance_due"],
                                "amount_residual_company": self._in_company_currency(
                                    line["balance_due"], line["currency_id"], company, date
                                ),
                                # history: the charges of an OCA letter are not known here
                                "interest_amount": 0.0,
                                "flat_fee_amount": 0.0,
                                "interest_date_from": False,
                            }
                        )
                        for line in lines
                    ],
                }
            )
        letters = (
            self.env["credit.dunning.letter"]
            .with_context(
                credit_dunning_write=DUNNING_WRITE,
                tracking_disable=True,
                mail_create_nolog=True,
                mail_notrack=True,
            )
            .create(vals_list)
        )
        # sudo: the external ids only mark what was taken over (Credit Managers cannot create them)
        self.env["ir.model.data"].sudo().create(
            [
                {
                    "module": MIGRATION_MODULE,
                    "name": name,
                    "model": letter._name,
                    "res_id": letter.id,
                    "noupdate": True,
                }
                for (name, _key, _lines), letter in zip(todo, letters, strict=True)
            ]
        )
        # history: OCA sent these e-mails. The state is computed from this module's own e-mail
        # message, which a letter taken over has not (and so no "retry" sends it again): set it once
        emailed = letters.filtered("channel_email")
        if emailed:
            letters.flush_recordset()
            self.env.execute_query(
                SQL(
                    "UPDATE credit_dunning_letter SET email_state = 'sent' WHERE id IN %(ids)s",
                    ids=tuple(emailed.ids),
                )
            )
            emailed.invalidate_recordset(["email_state"])
        result["letters"] += len(letters)
        result["letter_lines"] += sum(len(lines) for _n, _k, lines in todo)
        letters.partner_id.with_company(company)._refresh_credit_dunning_count()

    def _history_runs(self, company, dates, result):
        """{date: credit.dunning.run} of validated historical runs, one per date."""
        Run = self.env["credit.dunning.run"].with_context(
            credit_dunning_write=DUNNING_WRITE, tracking_disable=True, mail_create_nolog=True
        )
        known = self._migration_records("credit.dunning.run", f"run_{company.id}_")
        runs = {}
        for date in sorted(dates):
            key = date.strftime("%Y%m%d")
            if key in known:
                runs[date] = known[key]
                continue
            run = Run.create(
                {
                    "name": _("OCA history %(date)s", date=fields.Date.to_string(date)),
                    "date": date,
                    "company_id": company.id,
                    "state": "done",
                }
            )
            self._mark(run, f"run_{company.id}_{key}")
            runs[date] = run
            result["runs"] += 1
        return runs

    @api.model
    def _in_company_currency(self, amount, currency_id, company, date):
        if not amount or currency_id == company.currency_id.id:
            return amount or 0.0
        return (
            self.env["res.currency"].browse(currency_id)._convert(amount, company.currency_id, company, date)
        )

    # --- risk --- #
    def _migrate_limits(self, company, result):
        """OCA financial risk treats a credit limit above 0 as in force: put it in force here. The
        partial limits of OCA (draft, open, unpaid invoices, sales orders ...) have no counterpart
        here; they are noted on the customer so nothing is lost."""
        if not self._oca_column_exists("res_partner", "risk_invoice_open_limit"):
            return
        Partner = self.env["res.partner"].with_company(company)
        done = self._migration_records("res.partner", f"limit_{company.id}_")
        with_limit = Partner.search([("parent_id", "=", False), ("credit_limit", ">", 0)])
        to_set = with_limit.filtered(lambda p: p.id not in done)
        writer = to_set.with_context(credit_profile_write=CREDIT_PROFILE_WRITE)
        for partner in writer.filtered(lambda p: not p.credit_limit_set):
            partner.write({"credit_limit_set": True, "credit_limit": partner.credit_limit})
        for partner in to_set:
            self._mark(partner, f"limit_{company.id}_{partner.id}")
        result["limits"] += len(to_set)
        partial_columns = [col for col in OCA_PARTIAL_LIMITS if self._oca_column_exists("res_partner", col)]
        if not partial_columns:
            return
        noted = self._migration_records("res.partner", f"limitnote_{company.id}_")
        rows = self.env.execute_query_dict(
            SQL(
                "SELECT id, %(columns)s FROM res_partner WHERE parent_id IS NULL AND (%(any_set)s)",
                columns=SQL(", ").join(SQL.identifier(col) for col in partial_columns),
                any_set=SQL(" OR ").join(SQL("%s > 0", SQL.identifier(col)) for col in partial_columns),
            )
        )
        labels = {
            "risk_invoice_draft_limit": _("Draft invoices"),
            "risk_invoice_open_limit": _("Open invoices"),
            "risk_invoice_unpaid_limit": _("Unpaid invoices"),
            "risk_account_amount_limit": _("Other account moves"),
            "risk_account_amount_unpaid_limit": _("Unpaid other account moves"),
            "risk_sale_order_limit": _("Sales orders not invoiced"),
        }
        for row in rows:
            if row["id"] in noted:
                continue
            partner = Partner.browse(row["id"])
            items = Markup().join(
                Markup("<li>%s: %s</li>")
                % (labels[col], format_amount(self.env, row[col], company.currency_id))
                for col in partial_columns
                if row[col]
            )
            partner.sudo()._message_log(
                body=Markup("<p>%s</p><ul>%s</ul>")
                % (
                    _(
                        "Partial risk limits of OCA Financial Risk in %(company)s (this module checks "
                        "one credit limit on the whole exposure):",
                        company=company.name,
                    ),
                    items,
                )
            )
            self._mark(partner, f"limitnote_{company.id}_{partner.id}")
            result["limits_noted"] += 1

    def _migrate_holds(self, company, result):
        """Customers OCA holds in a risk exception are put on credit hold, with the reason."""
        Partner = self.env["res.partner"].with_company(company)
        if "risk_exception" in Partner._fields:
            # the OCA module is installed: its own computation decides
            partners = Partner.search([("parent_id", "=", False), ("risk_exception", "=", True)])
            exceeded = {partner.id: partner.risk_amount_exceeded for partner in partners}
        elif self._oca_column_exists("res_partner", "risk_invoice_open_limit"):
            exceeded = self._oca_risk_exceeded(company)
        else:
            return
        done = self._migration_records("res.partner", f"hold_{company.id}_")
        todo = Partner.browse([pid for pid in exceeded if pid not in done])
        writer = todo.with_context(credit_profile_write=CREDIT_PROFILE_WRITE)
        for partner in writer:
            if not partner.credit_hold:
                partner.write(
                    {
                        "credit_hold": True,
                        "credit_hold_reason": _(
                            "Risk exception taken over from OCA Financial Risk: %(amount)s over the limit",
                            amount=format_amount(self.env, exceeded[partner.id], company.currency_id),
                        ),
                    }
                )
                result["holds"] += 1
            self._mark(partner, f"hold_{company.id}_{partner.id}")

    def _oca_risk_exceeded(self, company):
        """Without the OCA module (only its columns left): {partner id: amount over the limit} of
        the customers whose open receivables exceed their credit limit, or whose open or unpaid
        invoices exceed the partial limit on them."""
        self.env["account.move.line"].flush_model()
        has_unpaid = self._oca_column_exists("res_partner", "risk_invoice_unpaid_limit")
        rows = self.env.execute_query(
            SQL(
                """
                WITH items AS (
                    SELECT p.commercial_partner_id AS partner_id,
                           SUM(l.amount_residual) AS open_amount,
                           SUM(l.amount_residual) FILTER (WHERE l.date_maturity < CURRENT_DATE) AS unpaid
                      FROM account_move_line l
                      JOIN account_account a ON a.id = l.account_id
                      JOIN res_partner p ON p.id = l.partner_id
                     WHERE %(open_items)s
                  GROUP BY p.commercial_partner_id
                )
                SELECT p.id,
                       GREATEST(
                           COALESCE(i.open_amount, 0) - NULLIF((p.credit_limit ->> %(key)s)::numeric, 0),
                           COALESCE(i.open_amount, 0) - NULLIF(p.risk_invoice_open_limit, 0),
                           %(unpaid)s,
                           0)
                  FROM res_partner p
                  JOIN items i ON i.partner_id = p.id
                 WHERE p.parent_id IS NULL
                """,
                open_items=open_receivable_where(company_id=company.id, account="a"),
                key=str(company.id),
                unpaid=SQL("COALESCE(i.unpaid, 0) - NULLIF(p.risk_invoice_unpaid_limit, 0)")
                if has_unpaid
                else SQL("0"),
            )
        )
        return {partner_id: float(amount) for partner_id, amount in rows if amount and amount > 0}

    # === TOOLING === #
    def _oca_found(self):
        """Counts of the OCA data present in the database (all companies)."""
        found = dict.fromkeys(("policies", "levels", "lines", "communications", "limits"), 0)
        queries = (
            ("policies", "credit_control_policy", SQL("SELECT COUNT(*) FROM credit_control_policy")),
            (
                "levels",
                "credit_control_policy_level",
                SQL("SELECT COUNT(*) FROM credit_control_policy_level"),
            ),
            (
                "lines",
                "credit_control_line",
                SQL(
                    "SELECT COUNT(*) FROM credit_control_line WHERE state IN %(states)s",
                    states=OCA_SENT_STATES,
                ),
            ),
            (
                "communications",
                "credit_control_communication",
                SQL("SELECT COUNT(*) FROM credit_control_communication"),
            ),
        )
        for key, table, query in queries:
            if self._oca_table_exists(table):
                found[key] = self.env.execute_query(query)[0][0]
        if self._oca_column_exists("res_partner", "risk_invoice_open_limit"):
            found["limits"] = self.env.execute_query(
                SQL(
                    "SELECT COUNT(*) FROM res_partner WHERE parent_id IS NULL "
                    "AND (risk_invoice_open_limit > 0 OR jsonb_path_exists(credit_limit, '$.* ? (@ > 0)'))"
                )
            )[0][0]
        return found

    @api.model
    def _oca_table_exists(self, table):
        return bool(
            self.env.execute_query(
                SQL(
                    "SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() "
                    "AND table_name = %(table)s",
                    table=table,
                )
            )
        )

    @api.model
    def _oca_column_exists(self, table, column):
        return bool(
            self.env.execute_query(
                SQL(
                    "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
                    "AND table_name = %(table)s AND column_name = %(column)s",
                    table=table,
                    column=column,
                )
            )
        )

    def _migration_records(self, model, prefix):
        """{key after ``prefix``: record} of the records already taken over (existing ones);
        keys of level, letter and partner marks are ints where they are ids."""
        rows = (
            self.env["ir.model.data"]
            .sudo()
            .search_read(
                [("module", "=", MIGRATION_MODULE), ("model", "=", model), ("name", "=like", prefix + "%")],
                ["name", "res_id"],
            )
        )
        records = (
            self.env[model].with_context(active_test=False).browse([row["res_id"] for row in rows]).exists()
        )
        existing = set(records.ids)
        result = {}
        for row in rows:
            if row["res_id"] not in existing:
                continue
            key = row["name"][len(prefix) :]
            result[int(key) if key.isdigit() else key] = self.env[model].browse(row["res_id"])
        return result

    def _mark(self, record, name):
        self.env["ir.model.data"].sudo().create(
            {
                "module": MIGRATION_MODULE,
                "name": name,
                "model": record._name,
                "res_id": record.id,
                "noupdate": True,
            }
        )

    def _report_lines(self, counts):
        labels = {
            "levels": _("Dunning levels created"),
            "levels_archived": _("Unused dunning levels archived"),
            "invoices": _("Invoices given their reached level and last dunning date"),
            "runs": _("Historical dunning runs"),
            "letters": _("Dunning letters kept as history"),
            "letter_lines": _("Letter lines"),
            "limits": _("Credit limits put in force"),
            "limits_noted": _("Customers whose partial risk limits were noted"),
            "holds": _("Customers put on credit hold (risk exception)"),
        }
        return Markup().join(
            Markup("<li>%s: %s</li>") % (labels[key], counts.get(key, 0)) for key in COUNT_KEYS
        )

    def _report_html(self, counts):
        companies = self.env["res.company"].browse(list(counts))
        return Markup().join(
            Markup("<h5>%s</h5><ul>%s</ul>") % (escape(company.name), self._report_lines(counts[company.id]))
            for company in companies
        )

    def _log_on_company(self, company, counts):
        """The company's chatter (its partner) records what was taken over, by whom."""
        # sudo: a Credit Manager may not be allowed to edit the company's contact
        company.partner_id.sudo()._message_log(
            body=Markup("<p>%s</p><ul>%s</ul>")
            % (
                _(
                    "Data of the OCA credit modules taken over by %(user)s:",
                    user=self.env.user.name,
                ),
                self._report_lines(counts),
            )
        )
