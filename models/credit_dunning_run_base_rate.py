from odoo import api, fields, models


class CreditDunningRun(models.Model):
    _inherit = "credit.dunning.run"

    base_rate_warning = fields.Char(
        compute="_compute_base_rate_warning",
        help="Set when the base rate table lacks the rate of the run's half-year (§247 BGB).",
    )

    @api.depends("date")
    def _compute_base_rate_warning(self):
        base_rates = self.env["credit.base.rate"]
        for run in self:
            run.base_rate_warning = base_rates._current_rate_missing_message(run.date) if run.date else False
