from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class ResCompany(models.Model):
    _inherit = "res.company"

    credit_behaviour_months = fields.Integer(
        string="Payment Behaviour Window (Months)",
        default=12,
        help="Paid invoices of this many months make up a customer's payment behaviour.",
    )
    credit_review_lead_days = fields.Integer(
        string="Review Lead Time (Days)",
        default=30,
        help="Days before a credit check or limit expires that a review activity is opened.",
    )

    # weekly problem-case list (Jour fixe)
    credit_problem_dispute_days = fields.Integer(
        string="Disputes Open Longer Than (Days)",
        default=14,
        help="Open disputes older than this are problem cases of the weekly meeting.",
    )
    credit_problem_lookback_days = fields.Integer(
        string="Problem Cases Look Back (Days)",
        default=30,
        help="Broken promises and rating downgrades of this many past days are problem cases.",
    )
    credit_problem_escalation_level = fields.Integer(
        string="Problem Case From Dunning Level",
        default=3,
        help="Customers with an open invoice at this dunning level (1 = the first level of the "
        "company's scale) or a later one are problem cases.",
    )

    # sales credit check
    credit_check_sale = fields.Boolean(string="Check Orders on Confirmation", default=True)
    credit_check_invoice = fields.Boolean(string="Check Invoices on Posting", default=False)
    credit_count_draft_invoices = fields.Boolean(string="Count Draft Invoices", default=True)
    credit_count_uninvoiced_orders = fields.Boolean(string="Count Uninvoiced Orders", default=True)
    credit_limit_tolerance = fields.Float(
        string="Limit Tolerance (%)", help="Orders may exceed the limit by this percentage."
    )
    credit_no_limit_policy = fields.Selection(
        [("unlimited", "No limit means unlimited credit"), ("no_credit", "No limit means no credit")],
        string="Customers Without Limit",
        default="unlimited",
        required=True,
    )
    credit_overdue_tolerance_days = fields.Integer(
        string="Tolerated Days Overdue",
        default=0,
        help="For customers without a rating: oldest overdue item tolerated before orders are "
        "blocked. 0 (with no tolerated amount either) = unrated customers are not blocked for "
        "overdue items; the nightly scorecard rates every customer.",
    )
    credit_overdue_tolerance_amount = fields.Monetary(
        string="Tolerated Overdue Amount",
        currency_field="currency_id",
        help="For customers without a rating: overdue amount tolerated (0 = amount not checked).",
    )
    credit_new_customer_check = fields.Boolean(
        string="Require Credit Check for New Customers",
        help="Block orders above an amount for customers without a completed credit check.",
    )
    credit_new_customer_amount = fields.Monetary(string="New Customer Amount", currency_field="currency_id")
    credit_prepayment_term_id = fields.Many2one(
        "account.payment.term",
        string="Prepayment Term",
        help="Orders with this payment term are paid in advance and pass the limit check.",
    )

    @api.constrains(
        "credit_limit_tolerance",
        "credit_overdue_tolerance_days",
        "credit_overdue_tolerance_amount",
        "credit_new_customer_amount",
    )
    def _check_credit_check_settings(self):
        for company in self:
            if (
                min(
                    company.credit_limit_tolerance,
                    company.credit_overdue_tolerance_days,
                    company.credit_overdue_tolerance_amount,
                    company.credit_new_customer_amount,
                )
                < 0
            ):
                raise ValidationError(
                    _(
                        "Credit check tolerances and amounts of %(company)s cannot be negative.",
                        company=company.name,
                    )
                )

    @api.constrains(
        "credit_problem_dispute_days", "credit_problem_lookback_days", "credit_problem_escalation_level"
    )
    def _check_credit_problem_settings(self):
        for company in self:
            if (
                min(company.credit_problem_dispute_days, company.credit_problem_lookback_days) < 0
                or company.credit_problem_escalation_level < 1
            ):
                raise ValidationError(
                    _(
                        "The problem-case settings of %(company)s cannot be negative, and the "
                        "escalation starts at dunning level 1 or later.",
                        company=company.name,
                    )
                )

    @api.constrains("credit_behaviour_months", "credit_review_lead_days")
    def _check_credit_settings(self):
        for company in self:
            if company.credit_behaviour_months < 1 or company.credit_review_lead_days < 0:
                raise ValidationError(
                    _(
                        "The payment behaviour window of %(company)s must be at least one month "
                        "and the review lead time cannot be negative.",
                        company=company.name,
                    )
                )
