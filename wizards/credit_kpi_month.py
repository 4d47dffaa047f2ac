from odoo import _, api, fields, models


class CreditKpiMonth(models.TransientModel):
    """One month of receivables KPIs, computed when the list is opened (Reporting → KPIs)."""

    _name = "credit.kpi.month"
    _description = "Receivables KPIs of a Month"
    _order = "month desc"

    month = fields.Date(readonly=True)
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
    promises_kept = fields.Integer(string="Promises Kept", readonly=True)
    promises_broken = fields.Integer(string="Promises Broken", readonly=True)
    promise_kept_rate = fields.Float(string="Promise Kept Rate (%)", digits=(16, 1), readonly=True)
    customers_over_limit = fields.Integer(
        string="Customers over Limit",
        readonly=True,
        help="Current month: customers over their limit now. Earlier months: customers a credit check "
        "found over their limit in that month.",
    )

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
