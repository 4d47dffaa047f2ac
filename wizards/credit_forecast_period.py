from odoo import _, api, fields, models


class CreditForecastPeriod(models.TransientModel):
    """One period of the cash-in forecast, computed when the list is opened."""

    _name = "credit.forecast.period"
    _description = "Cash-in Forecast Period"
    _order = "period_type desc, date_start"

    period_type = fields.Selection([("week", "Week"), ("month", "Month")], readonly=True)
    date_start = fields.Date(string="From", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    amount_best = fields.Monetary(string="Best Case", readonly=True)
    amount_expected = fields.Monetary(string="Expected", readonly=True)
    amount_worst = fields.Monetary(string="Worst Case", readonly=True)

    @api.model
    def action_open(self):
        forecast = self.env["credit.forecast"]._compute()
        vals = [
            {
                "period_type": kind,
                "date_start": period["start"],
                "company_id": self.env.company.id,
                "amount_best": period["best"],
                "amount_expected": period["expected"],
                "amount_worst": period["worst"],
            }
            for kind, key in (("week", "weeks"), ("month", "months"))
            for period in forecast[key]
        ]
        records = self.create(vals)
        return {
            "type": "ir.actions.act_window",
            "name": _("Cash-in Forecast"),
            "res_model": self._name,
            "view_mode": "list,graph",
            "domain": [("id", "in", records.ids)],
            "context": {"search_default_group_type": 1},
        }
