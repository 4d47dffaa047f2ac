from odoo import _, api, fields, models
from odoo.tools import format_date


class CreditDunningLine(models.Model):
    _inherit = "credit.dunning.line"

    interest_rate_note = fields.Char(
        string="Base Rate Missing",
        compute="_compute_interest_rate_note",
        help="The interest runs past the newest rate of the base rate table: the days after it are "
        "computed with that rate until the half-year's rate is recorded.",
    )

    @api.depends("interest_amount", "dunning_date")
    def _compute_interest_rate_note(self):
        base_rates = self.env["credit.base.rate"]
        last = base_rates._last_known_date() if self else False
        for line in self:
            past = (
                line.interest_amount
                and line.dunning_date
                and last
                and base_rates._half_year_start(line.dunning_date) > last
            )
            line.interest_rate_note = (
                _("Interest after %(date)s uses the last known base rate", date=format_date(self.env, last))
                if past
                else False
            )
