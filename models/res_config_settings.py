from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    credit_behaviour_months = fields.Integer(related="company_id.credit_behaviour_months", readonly=False)
    credit_review_lead_days = fields.Integer(related="company_id.credit_review_lead_days", readonly=False)
    # customer scorecard
    credit_score_weight_behaviour = fields.Integer(
        related="company_id.credit_score_weight_behaviour", readonly=False
    )
    credit_score_weight_overdue = fields.Integer(
        related="company_id.credit_score_weight_overdue", readonly=False
    )
    credit_score_weight_usage = fields.Integer(related="company_id.credit_score_weight_usage", readonly=False)
    credit_score_weight_relationship = fields.Integer(
        related="company_id.credit_score_weight_relationship", readonly=False
    )
    credit_score_weight_external = fields.Integer(
        related="company_id.credit_score_weight_external", readonly=False
    )
    credit_score_days_late_worst = fields.Integer(
        related="company_id.credit_score_days_late_worst", readonly=False
    )
    credit_score_overdue_share_worst = fields.Integer(
        related="company_id.credit_score_overdue_share_worst", readonly=False
    )
    credit_score_usage_best = fields.Integer(related="company_id.credit_score_usage_best", readonly=False)
    credit_score_usage_worst = fields.Integer(related="company_id.credit_score_usage_worst", readonly=False)
    credit_score_relationship_months = fields.Integer(
        related="company_id.credit_score_relationship_months", readonly=False
    )
    # collector worklist points
    credit_worklist_overdue_per = fields.Monetary(
        related="company_id.credit_worklist_overdue_per", readonly=False
    )
    credit_worklist_overdue_max = fields.Integer(
        related="company_id.credit_worklist_overdue_max", readonly=False
    )
    credit_worklist_days_per = fields.Integer(related="company_id.credit_worklist_days_per", readonly=False)
    credit_worklist_days_max = fields.Integer(related="company_id.credit_worklist_days_max", readonly=False)
    credit_worklist_rating_max = fields.Integer(
        related="company_id.credit_worklist_rating_max", readonly=False
    )
    credit_worklist_rating_unrated = fields.Integer(
        related="company_id.credit_worklist_rating_unrated", readonly=False
    )
    credit_worklist_promise_due = fields.Integer(
        related="company_id.credit_worklist_promise_due", readonly=False
    )
    credit_worklist_promise_broken = fields.Integer(
        related="company_id.credit_worklist_promise_broken", readonly=False
    )
    credit_worklist_promise_broken_days = fields.Integer(
        related="company_id.credit_worklist_promise_broken_days", readonly=False
    )
    credit_worklist_followup_each = fields.Integer(
        related="company_id.credit_worklist_followup_each", readonly=False
    )
    credit_worklist_followup_max = fields.Integer(
        related="company_id.credit_worklist_followup_max", readonly=False
    )
    credit_worklist_limitation = fields.Integer(
        related="company_id.credit_worklist_limitation", readonly=False
    )
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
    # dunning charges
    credit_interest_points_business = fields.Float(
        related="company_id.credit_interest_points_business", readonly=False
    )
    credit_interest_points_consumer = fields.Float(
        related="company_id.credit_interest_points_consumer", readonly=False
    )
    credit_dunning_flat_fee = fields.Float(related="company_id.credit_dunning_flat_fee", readonly=False)
    credit_dunning_invoice_charges = fields.Boolean(
        related="company_id.credit_dunning_invoice_charges", readonly=False
    )
    credit_dunning_charge_journal_id = fields.Many2one(
        related="company_id.credit_dunning_charge_journal_id",
        readonly=False,
        domain="[('type', '=', 'sale'), ('company_id', '=', company_id)]",
    )
    credit_dunning_interest_account_id = fields.Many2one(
        related="company_id.credit_dunning_interest_account_id",
        readonly=False,
        domain="[('account_type', 'in', ('income', 'income_other')), ('company_ids', 'in', company_id)]",
    )
    credit_dunning_fee_account_id = fields.Many2one(
        related="company_id.credit_dunning_fee_account_id",
        readonly=False,
        domain="[('account_type', 'in', ('income', 'income_other')), ('company_ids', 'in', company_id)]",
    )
    credit_escalation_credit_level_id = fields.Many2one(
        related="company_id.credit_escalation_credit_level_id", readonly=False
    )
    credit_escalation_agency_level_id = fields.Many2one(
        related="company_id.credit_escalation_agency_level_id", readonly=False
    )
    credit_limitation_horizon_days = fields.Integer(
        related="company_id.credit_limitation_horizon_days", readonly=False
    )
    credit_promise_grace_days = fields.Integer(related="company_id.credit_promise_grace_days", readonly=False)
    credit_plan_grace_days = fields.Integer(related="company_id.credit_plan_grace_days", readonly=False)
    credit_problem_dispute_days = fields.Integer(
        related="company_id.credit_problem_dispute_days", readonly=False
    )
    credit_problem_lookback_days = fields.Integer(
        related="company_id.credit_problem_lookback_days", readonly=False
    )
    credit_problem_escalation_level = fields.Integer(
        related="company_id.credit_problem_escalation_level", readonly=False
    )
    # go-live of the automatic dunning
    credit_dunning_start_date = fields.Date(related="company_id.credit_dunning_start_date", readonly=False)
    credit_dunning_items_from = fields.Date(related="company_id.credit_dunning_items_from", readonly=False)
    credit_dunning_first_run_review = fields.Boolean(
        related="company_id.credit_dunning_first_run_review", readonly=False
    )
    credit_dunning_start_level = fields.Selection(
        related="company_id.credit_dunning_start_level", readonly=False
    )
