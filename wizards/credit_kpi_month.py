from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models
from odoo.tools import format_date


class CreditKpiMonth(models.TransientModel):
    """One month of receivables KPIs, computed when the list is opened (Reporting → KPIs)."""

    _name = "credit.kpi.month"
    _description = "Receivables KPIs of a Month"
    _order = "month desc"

    month = fields.Date(string="Month Start", readonly=True)
    # the month in words in the user's language ("Dezember 2026"), not the first day as a date
    month_label = fields.Char(string="Month", compute="_compute_month_label")
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    credit_sales = fields.Monetary(readonly=True)
    receivables = fields.Monetary(readonly=True)
    current = fields.Monetary(string="Not Due", readonly=True)
    overdue = fields.Monetary(readonly=True)
    dso = fields.Float(string="DSO (Countback)", digits=(16, 1), readonly=True)
    best_dso = fields.Float(string="Best Possible DSO", digits=(16, 1), readonly=True)
    add = fields.Float(string="Average Days Delinquent", digits=(16, 1), readonly=True)
    cei = fields.Float(string="CEI (%)", digits=(16, 1), readonly=True)
    overdue_share = fields.Float(string="Overdue Share (%)", digits=(16, 1), readonly=True)
    write_off = fields.Monetary(string="Written Off", readonly=True)
    write_off_ratio = fields.Float(string="Write-off Ratio (%)", digits=(16, 2), readonly=True)
    dunned_amount = fields.Monetary(string="Dunned", readonly=True)
    dunned_paid = fields.Monetary(string="Paid within 14 Days", readonly=True)
    dunning_effectiveness = fields.Float(string="Dunning Effectiveness (%)", digits=(16, 1), readonly=True)
    blocked_order_count = fields.Integer(string="Blocked Orders", readonly=True)
    blocked_order_amount = fields.Monetary(string="Blocked Amount", readonly=True)
    promises_kept = fields.Integer(readonly=True)
    promises_broken = fields.Integer(readonly=True)
    promise_kept_rate = fields.Float(string="Promise Kept Rate (%)", digits=(16, 1), readonly=True)
    customers_over_limit = fields.Integer(
        string="Customers over Limit",
        readonly=True,
        help="Current month: customers over their limit now. Earlier months: customers a credit check "
        "found over their limit in that month.",
    )

    @api.depends("month")
    @api.depends_context("lang")
    def _compute_month_label(self):
        for record in self:
            record.month_label = (
                format_date(self.env, record.month, date_format="MMMM yyyy") if record.month else ""
            )

    def action_open_month(self):
        """A click on a month: the aging as of its last day (today for the current month), the
        receivables its figures are computed from."""
        self.ensure_one()
        today = fields.Date.context_today(self)
        as_of = min(self.month + relativedelta(day=31), today)
        return self.env["credit.aging.report"].action_open(as_of)

    @api.model
    def action_open(self):
        months = self.env["credit.kpi"]._compute_last_months(12)
        names = set(self._fields)
        records = self.create(
            [
                dict(
                    {key: value for key, value in month.items() if key in names},
                    company_id=self.env.company.id,
                )
                for month in months
            ]
        )
        return {
            "type": "ir.actions.act_window",
            "name": _("Receivables KPIs"),
            "res_model": self._name,
            "view_mode": "list,graph",
            "domain": [("id", "in", records.ids)],
        }
