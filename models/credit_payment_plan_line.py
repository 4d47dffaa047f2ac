from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .credit_collection_document_mixin import check_workflow_vals, workflow_defaults

SCHEDULE_FIELDS = frozenset({"date_due", "amount", "amount_principal", "amount_interest", "plan_id"})

# Set by the plan from the payments on its invoices only.
PAYMENT_FIELDS = frozenset({"amount_paid", "state", "missed_notified"})


class CreditPaymentPlanLine(models.Model):
    """One instalment of a payment plan. Paid amount and state are set by the plan from the
    payments reconciled on its invoices (oldest instalment first)."""

    _name = "credit.payment.plan.line"
    _description = "Payment Plan Instalment"
    _order = "plan_id, date_due, sequence, id"

    plan_id = fields.Many2one("credit.payment.plan", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="plan_id.company_id", store=True, index=True)
    partner_id = fields.Many2one(related="plan_id.partner_id", store=True, index=True)
    currency_id = fields.Many2one(related="plan_id.currency_id")
    plan_state = fields.Selection(related="plan_id.state", string="Plan Status")
    sequence = fields.Integer(default=10)
    date_due = fields.Date(string="Due Date", required=True)
    amount = fields.Monetary(required=True)
    amount_principal = fields.Monetary(string="Principal")
    amount_interest = fields.Monetary(string="Interest")
    is_down_payment = fields.Boolean(string="Down Payment")
    amount_paid = fields.Monetary(string="Paid", readonly=True)
    state = fields.Selection(
        [("due", "Due"), ("paid", "Paid"), ("partial", "Partially Paid"), ("overdue", "Overdue")],
        default="due",
        required=True,
        readonly=True,
        index=True,
    )
    missed_notified = fields.Boolean(
        string="Escalated",
        readonly=True,
        copy=False,
        help="The instalment was missed (overdue beyond the grace days) and escalated.",
    )

    @api.model
    def default_get(self, fields_list):
        return workflow_defaults(self, super().default_get(fields_list), PAYMENT_FIELDS)

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            check_workflow_vals(self, vals, PAYMENT_FIELDS, creating=True)
        lines = super().create(vals_list)
        lines._check_plan_editable()
        return lines

    def write(self, vals):
        check_workflow_vals(self, vals, PAYMENT_FIELDS)
        if SCHEDULE_FIELDS.intersection(vals):
            self._check_plan_editable()
        return super().write(vals)

    def unlink(self):
        self._check_plan_editable()
        return super().unlink()

    def _check_plan_editable(self):
        from .credit_payment_plan import PLAN_LINES_WRITE

        if self.env.su or self.env.context.get("credit_plan_lines_write") is PLAN_LINES_WRITE:
            return
        if self.filtered(lambda line: line.plan_id.state != "draft"):
            raise UserError(_("The instalments of an agreed payment plan cannot be changed."))
