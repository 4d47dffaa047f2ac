from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    credit_behaviour_months = fields.Integer(related="company_id.credit_behaviour_months", readonly=False)
    credit_review_lead_days = fields.Integer(related="company_id.credit_review_lead_days", readonly=False)
    credit_check_sale = fields.Boolean(related="company_id.credit_check_sale", readonly=False)
    credit_check_invoice = fields.Boolean(related="company_id.credit_check_invoice", readonly=False)
    credit_count_draft_invoices = fields.Boolean(
        related="company_id.credit_count_draft_invoices", readonly=False
    )
    credit_count_uninvoiced_orders = fields.Boolean(
        related="company_id.credit_count_uninvoiced_orders", readonly=False
    )
    credit_limit_tolerance = fields.Float(related="company_id.credit_limit_tolerance", readonly=False)
    credit_no_limit_policy = fields.Selection(related="company_id.credit_no_limit_policy", readonly=False)
    credit_overdue_tolerance_days = fields.Integer(
        related="company_id.credit_overdue_tolerance_days", readonly=False
    )
    credit_overdue_tolerance_amount = fields.Monetary(
        related="company_id.credit_overdue_tolerance_amount", readonly=False
    )
    credit_new_customer_check = fields.Boolean(related="company_id.credit_new_customer_check", readonly=False)
    credit_new_customer_amount = fields.Monetary(
        related="company_id.credit_new_customer_amount", readonly=False
    )
    credit_prepayment_term_id = fields.Many2one(
        related="company_id.credit_prepayment_term_id", readonly=False
    )
    credit_problem_dispute_days = fields.Integer(
        related="company_id.credit_problem_dispute_days", readonly=False
    )
    credit_problem_lookback_days = fields.Integer(
        related="company_id.credit_problem_lookback_days", readonly=False
    )
    credit_problem_escalation_level = fields.Integer(
        related="company_id.credit_problem_escalation_level", readonly=False
    )
