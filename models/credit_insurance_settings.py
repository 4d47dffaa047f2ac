from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    credit_insurance_watch_days = fields.Integer(
        related="company_id.credit_insurance_watch_days", readonly=False
    )
