from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    credit_write_off_account_id = fields.Many2one(
        related="company_id.credit_write_off_account_id", readonly=False
    )
    credit_write_off_account_reduced_id = fields.Many2one(
        related="company_id.credit_write_off_account_reduced_id", readonly=False
    )
    credit_write_off_account_standard_id = fields.Many2one(
        related="company_id.credit_write_off_account_standard_id", readonly=False
    )
    credit_base_rate_warning = fields.Char(compute="_compute_credit_base_rate_warning")

    def _compute_credit_base_rate_warning(self):
        message = self.env["credit.base.rate"]._current_rate_missing_message()
        for settings in self:
            settings.credit_base_rate_warning = message
