from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    credit_portal_enabled = fields.Boolean(related="company_id.credit_portal_enabled", readonly=False)
    credit_portal_show_available_credit = fields.Boolean(
        related="company_id.credit_portal_show_available_credit", readonly=False
    )
    credit_portal_partial_payment = fields.Boolean(
        related="company_id.credit_portal_partial_payment", readonly=False
    )
    credit_portal_max_requests = fields.Integer(
        related="company_id.credit_portal_max_requests", readonly=False
    )
    credit_portal_token_days = fields.Integer(related="company_id.credit_portal_token_days", readonly=False)
