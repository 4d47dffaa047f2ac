from odoo import fields, models


class CreditPaymentPlanLine(models.Model):
    _name = "credit.payment.plan.line"
    _description = "Payment Plan Instalment"
    _order = "plan_id, date_due, sequence, id"

    plan_id = fields.Many2one("credit.payment.plan", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="plan_id.company_id", store=True, index=True)
    partner_id = fields.Many2one(related="plan_id.partner_id", store=True, index=True)
    currency_id = fields.Many2one(related="plan_id.currency_id")
    sequence = fields.Integer(default=10)
    date_due = fields.Date(string="Due Date", required=True)
    amount = fields.Monetary(required=True)
    amount_paid = fields.Monetary(string="Paid", readonly=True)
    state = fields.Selection(
        [("due", "Due"), ("paid", "Paid"), ("partial", "Partially Paid"), ("overdue", "Overdue")],
        default="due",
        required=True,
        readonly=True,
        index=True,
    )
