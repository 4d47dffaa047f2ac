from odoo import api, fields, models


class CreditLegalCase(models.Model):
    """A court dunning case warns its Credit Manager when the interest it claims runs into a
    half-year whose base rate (§247 BGB) the table lacks."""

    _inherit = "credit.legal.case"

    base_rate_warning = fields.Char(
        compute="_compute_base_rate_warning",
        help="Set when the base rate table lacks the rate of the half-year of the interest date.",
    )

    @api.depends("date_interest")
    def _compute_base_rate_warning(self):
        base_rates = self.env["credit.base.rate"]
        for case in self:
            case.base_rate_warning = (
                base_rates._current_rate_missing_message(case.date_interest) if case.date_interest else False
            )
