from odoo import fields, models


class CreditPaymentPlan(models.Model):
    """Ratenzahlungsvereinbarung: the open amount of some invoices paid in instalments. While
    kept, dunning follows the instalments instead of the invoices' due dates."""

    _name = "credit.payment.plan"
    _description = "Payment Plan"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "date_first desc, id desc"
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
        "credit_payment_plan_account_move_rel",
        "plan_id",
        "move_id",
        string="Invoices",
        check_company=True,
        required=True,
    )
    amount_total = fields.Monetary(string="Total", required=True, tracking=True)
    down_payment = fields.Monetary(tracking=True)
    interest_rate = fields.Float(string="Interest (% p.a.)", tracking=True)
    amount_interest = fields.Monetary(string="Interest", readonly=True)
    instalment_count = fields.Integer(string="Instalments", required=True, default=3, tracking=True)
    frequency = fields.Selection(
        [("weekly", "Weekly"), ("monthly", "Monthly"), ("quarterly", "Quarterly")],
        required=True,
        default="monthly",
        tracking=True,
    )
    date_first = fields.Date(string="First Instalment", required=True, tracking=True)
    line_ids = fields.One2many("credit.payment.plan.line", "plan_id", string="Instalments", copy=False)
    state = fields.Selection(
        [
            ("draft", "Draft"),
            ("active", "Active"),
            ("done", "Completed"),
            ("broken", "Broken"),
            ("cancel", "Cancelled"),
        ],
        default="draft",
        required=True,
        readonly=True,
        tracking=True,
        index=True,
    )
    user_id = fields.Many2one(
        "res.users", string="Agreed By", default=lambda self: self.env.user, tracking=True
    )
    note = fields.Text()
