from odoo import api, fields, models


class CreditPromise(models.Model):
    """Zahlungsversprechen: the customer promises to pay an amount on open invoices by a date.
    Open → kept (reconciled payments on the invoices cover the amount by date + grace) or
    broken (scheduled action). An open promise pauses the dunning of its invoices."""

    _name = "credit.promise"
    _description = "Promise to Pay"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "date_promised desc, id desc"
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
        "credit_promise_account_move_rel",
        "promise_id",
        "move_id",
        string="Invoices",
        check_company=True,
        required=True,
    )
    amount = fields.Monetary(string="Promised Amount", required=True, tracking=True)
    date_promised = fields.Date(string="Promised Date", required=True, tracking=True, index=True)
    grace_days = fields.Integer(default=3)
    date_grace_end = fields.Date(string="Kept If Paid By", compute="_compute_date_grace_end", store=True)
    channel = fields.Selection(
        [
            ("phone", "Phone"),
            ("email", "E-mail"),
            ("letter", "Letter"),
            ("portal", "Portal"),
            ("other", "Other"),
        ],
        string="Given By",
        required=True,
        default="phone",
    )
    user_id = fields.Many2one(
        "res.users", string="Recorded By", required=True, readonly=True, default=lambda self: self.env.user
    )
    state = fields.Selection(
        [("open", "Open"), ("kept", "Kept"), ("broken", "Broken"), ("cancel", "Cancelled")],
        default="open",
        required=True,
        readonly=True,
        tracking=True,
        index=True,
    )
    date_closed = fields.Date(string="Closed On", readonly=True, copy=False)
    note = fields.Text()

    @api.depends("date_promised", "grace_days")
    def _compute_date_grace_end(self):
        for promise in self:
            promise.date_grace_end = promise.date_promised and fields.Date.add(
                promise.date_promised, days=promise.grace_days or 0
            )
