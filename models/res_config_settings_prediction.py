from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    credit_use_predicted_dates = fields.Boolean(
        related="company_id.credit_use_predicted_dates", readonly=False
    )
