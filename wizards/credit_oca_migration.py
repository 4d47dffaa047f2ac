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

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

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
