from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    credit_bureau_threshold = fields.Integer(related="company_id.credit_bureau_threshold", readonly=False)
    credit_bureau_propose_hold = fields.Boolean(
        related="company_id.credit_bureau_propose_hold", readonly=False
    )
