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
