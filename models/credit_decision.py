from odoo import _, api, fields, models
from odoo.exceptions import UserError

CREDIT_RULES = [
    ("hold", "Credit hold"),
    ("limit", "Credit limit exceeded"),
    ("overdue", "Overdue beyond tolerance"),
    ("payment_term", "Payment term required by rating"),
    ("new_customer", "New customer without credit check"),
    ("dunning", "Dunning level blocks new orders"),
]


class CreditDecision(models.Model):
    """Audit trail of every credit block, release, override and expiry: written once, never
    changed, so that "who let this order through, and on what facts" can be answered later."""

    _name = "credit.decision"
    _description = "Credit Decision"
    _order = "create_date desc, id desc"
    _check_company_auto = True
    _rec_name = "display_name"

    decision_type = fields.Selection(
        [
            ("block", "Blocked"),
            ("release", "Released"),
            ("override", "Confirmed by Override"),
            ("expiry", "Release Expired"),
            ("request", "Release Requested"),
        ],
        string="Decision",
        required=True,
        readonly=True,
    )
    order_id = fields.Many2one("sale.order", readonly=True, index="btree_not_null", ondelete="set null")
    move_id = fields.Many2one(
        "account.move", string="Invoice", readonly=True, index="btree_not_null", ondelete="set null"
    )
    partner_id = fields.Many2one("res.partner", string="Customer", required=True, readonly=True, index=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    rule = fields.Selection(CREDIT_RULES, readonly=True, help="First rule that fired.")
    rules_text = fields.Text(string="Rules and Figures", readonly=True)
    exposure = fields.Monetary(readonly=True, help="Exposure without this document, company currency.")
    credit_limit = fields.Monetary(readonly=True)
    amount = fields.Monetary(readonly=True, help="Amount of the document in company currency.")
    overdue_amount = fields.Monetary(readonly=True)
    overdue_days = fields.Integer(string="Oldest Overdue (Days)", readonly=True)
    user_id = fields.Many2one(
        "res.users", string="Decided By", required=True, readonly=True, default=lambda self: self.env.user
    )
    reason = fields.Text(readonly=True)
    date_end = fields.Date(string="Release Valid Until", readonly=True)

    @api.depends("decision_type", "order_id", "move_id", "partner_id")
    def _compute_display_name(self):
        labels = dict(self._fields["decision_type"]._description_selection(self.env))
        for decision in self:
            document = decision.order_id or decision.move_id
            decision.display_name = "%s: %s" % (
                labels.get(decision.decision_type, ""),
                document.display_name or decision.partner_id.display_name,
            )

    def write(self, vals):
        if vals:
            raise UserError(_("Credit decisions are an audit trail and cannot be changed."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_never(self):
        raise UserError(_("Credit decisions are an audit trail and cannot be deleted."))
