from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

from ..lib.limitation import LIMITATION_YEARS, limitation_end, limitation_end_sql
from ..lib.open_items import flush_open_items, open_receivable_where


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    credit_limitation_date = fields.Date(
        string="Limitation Ends",
        compute="_compute_credit_limitation_date",
        help="End of the regular limitation period (§§195, 199 BGB): 31 December of the third "
        "year after the year of the invoice date. Court dunning or an acknowledgement of the "
        "debt before then keeps the claim alive.",
    )

    credit_exposure_excluded = fields.Boolean(
        string="Not the Company's Risk",
        readonly=True,
        copy=False,
        help="The item no longer counts in the customer's credit exposure, e.g. an invoice sold to "
        "a factor without recourse. Set by the module only.",
    )

    @api.depends("move_id.invoice_date", "date")
    def _compute_credit_limitation_date(self):
        for line in self:
            line.credit_limitation_date = limitation_end(line.move_id.invoice_date or line.date)

    @api.model
    def _credit_limitation_items(self, company, horizon_days=None, date=None):
        """Open receivable items of ``company`` whose limitation period ends within
        ``horizon_days`` (default: the company's setting, 120 days) from ``date`` (default
        today), oldest end first. One query over the open-item index, whatever the ledger size.

        Returns a list of dicts: ``move_line_id``, ``move_id``, ``partner_id`` (commercial
        partner), ``date_origin`` (invoice date), ``date_limitation``, ``days_left``,
        ``amount_residual`` (company currency)."""
        date = fields.Date.to_date(date) or fields.Date.context_today(self)
        if horizon_days is None:
            horizon_days = company.credit_limitation_horizon_days
        date_end = date + timedelta(days=max(horizon_days or 0, 0))
        flush_open_items(self.env)
        self.env["account.move"].flush_model(["invoice_date"])
        self.env.cr.execute(
            SQL(
                """
            SELECT l.id, l.move_id, p.commercial_partner_id, x.origin,
                   %(date_limitation)s AS date_limitation,
                   l.amount_residual
              FROM account_move_line l
              JOIN account_move m ON m.id = l.move_id
              JOIN account_account a ON a.id = l.account_id
              JOIN res_partner p ON p.id = l.partner_id
             CROSS JOIN LATERAL (SELECT COALESCE(m.invoice_date, l.date) AS origin) x
             WHERE %(open_items)s
               AND x.origin >= make_date(%(year_from)s, 1, 1)
               AND x.origin < make_date(%(year_to)s + 1, 1, 1)
             ORDER BY date_limitation, p.commercial_partner_id, x.origin, l.id
                """,
                date_limitation=limitation_end_sql(SQL("x.origin")),
                open_items=open_receivable_where(company_id=company.id, sign="debit", account="a"),
                # the end date lies in [date, date_end] iff the origin's year does, shifted
                year_from=date.year - LIMITATION_YEARS,
                year_to=date_end.year - LIMITATION_YEARS,
            )
        )
        items = []
        for line_id, move_id, partner_id, origin, date_limitation, residual in self.env.cr.fetchall():
            if not (date <= date_limitation <= date_end):
                continue
            items.append(
                {
                    "move_line_id": line_id,
                    "move_id": move_id,
                    "partner_id": partner_id,
                    "date_origin": origin,
                    "date_limitation": date_limitation,
                    "days_left": (date_limitation - date).days,
                    "amount_residual": residual,
                }
            )
        return items

    @api.model
    def action_credit_limitation_watch(self):
        """Window action: the open items whose limitation ends within the company's horizon."""
        company = self.env.company
        items = self._credit_limitation_items(company)
        return {
            "type": "ir.actions.act_window",
            "name": _("Limitation Watch"),
            "res_model": "account.move.line",
            "view_mode": "list,form",
            "views": [
                (self.env.ref("credit_control.account_move_line_view_list_limitation").id, "list"),
                (False, "form"),
            ],
            "domain": [("id", "in", [item["move_line_id"] for item in items])],
            "context": {"create": False, "search_default_group_by_partner": 0},
            "help": _(
                "<p>No open item lapses within %(days)s days.</p><p>Items appear here when their "
                "limitation period (31 December of the third year after the invoice year) ends "
                "within the horizon set in the Settings.</p>",
                days=company.credit_limitation_horizon_days,
            ),
        }

    def init(self):
        result = super().init()
        # Open items per partner, read by the credit exposure and payment behaviour aggregates
        # with an index-only scan: a few milliseconds for a partner with 10,000 open items or
        # for a thousand partners, instead of a scan of every journal item. An index of an
        # earlier version (without ``credit_exposure_excluded``) is made again.
        definition = self.env.execute_query(
            SQL("SELECT indexdef FROM pg_indexes WHERE indexname = 'credit_control_aml_open_item_idx'")
        )
        if definition and "credit_exposure_excluded" not in definition[0][0]:
            self.env.cr.execute(SQL("DROP INDEX credit_control_aml_open_item_idx"))
        self.env.cr.execute(
            SQL(
                """
            CREATE INDEX IF NOT EXISTS credit_control_aml_open_item_idx
                ON account_move_line (partner_id, account_id)
                INCLUDE (company_id, currency_id, amount_residual, amount_residual_currency, date_maturity,
                         credit_exposure_excluded)
             WHERE NOT reconciled
               AND parent_state = 'posted'
               AND (amount_residual <> 0 OR amount_residual_currency <> 0)
            """
            )
        )
        return result

    # === CRUD: credit_exposure_excluded is set by the module's code only (as superuser) === #
    @api.model
    def default_get(self, fields_list):
        result = super().default_get(fields_list)
        if not self.env.su:
            result.pop("credit_exposure_excluded", None)
        return result

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su and any(vals.get("credit_exposure_excluded") for vals in vals_list):
            raise AccessError(_("Only the module itself marks journal items as not the company's risk."))
        for vals in vals_list:
            if not self.env.su:
                vals.pop("credit_exposure_excluded", None)
        return super().create(vals_list)

    def write(self, vals):
        if "credit_exposure_excluded" in vals and not self.env.su:
            raise AccessError(_("Only the module itself marks journal items as not the company's risk."))
        return super().write(vals)
