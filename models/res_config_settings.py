from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    credit_behaviour_months = fields.Integer(related="company_id.credit_behaviour_months", readonly=False)
    credit_review_lead_days = fields.Integer(related="company_id.credit_review_lead_days", readonly=False)
