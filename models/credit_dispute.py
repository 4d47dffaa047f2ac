from odoo import fields, models

DISPUTE_REASONS = [
    ("price", "Price"),
    ("quantity", "Quantity"),
    ("quality", "Quality"),
    ("delivery", "Delivery"),
    ("billing", "Billing Error"),
    ("other", "Other"),
]


class CreditDispute(models.Model):
    """Streitfall / Reklamation: a customer contests (part of) invoices. While open, the
    invoices are not dunned; the disputed amount stays in the exposure."""

    _name = "credit.dispute"
    _description = "Invoice Dispute"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "create_date desc, id desc"
    _check_company_auto = True

    name = fields.Char(string="Reference", required=True, readonly=True, copy=False, default="/")
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, index=True, tracking=True, check_company=True
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(
        "res.currency", required=True, default=lambda self: self.env.company.currency_id
    )
    move_ids = fields.Many2many(
        "account.move",
        "credit_dispute_account_move_rel",
        "dispute_id",
        "move_id",
        string="Invoices",
        check_company=True,
        required=True,
    )
    amount = fields.Monetary(string="Disputed Amount", required=True, tracking=True)
    reason = fields.Selection(DISPUTE_REASONS, required=True, default="other", tracking=True)
    description = fields.Text()
    user_id = fields.Many2one("res.users", string="Owner", tracking=True, index=True)
    collector_id = fields.Many2one("res.users", string="Collector", tracking=True)
    date_deadline = fields.Date(string="Deadline", tracking=True)
    state = fields.Selection(
        [("open", "Open"), ("progress", "In Progress"), ("resolved", "Resolved"), ("rejected", "Rejected")],
        default="open",
        required=True,
        readonly=True,
        tracking=True,
        index=True,
    )
    credit_note_id = fields.Many2one("account.move", string="Credit Note", check_company=True, tracking=True)
    rejection_reason = fields.Text(tracking=True)
    date_closed = fields.Date(string="Closed On", readonly=True, copy=False)
