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
            ("refuse", "Release Refused"),
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
    exposure = fields.Monetary(
        readonly=True,
        help="Exposure without this document (with the orders confirmed before it in the same call), "
        "company currency.",
    )
    credit_limit = fields.Monetary(readonly=True)
    amount = fields.Monetary(readonly=True, help="Amount of the document in company currency.")
    overdue_amount = fields.Monetary(readonly=True)
    overdue_days = fields.Integer(string="Oldest Overdue (Days)", readonly=True)
    uninsured_amount = fields.Monetary(
        string="Uninsured Part",
        readonly=True,
        help="Credit insurance: how far the exposure with this document went above the customer's "
        "insured limit, company currency.",
    )
    user_id = fields.Many2one(
        "res.users", string="Decided By", required=True, readonly=True, default=lambda self: self.env.user
    )
    reason = fields.Text(readonly=True)
    date_end = fields.Date(string="Release Valid Until", readonly=True)

    document_ref = fields.Char(
        string="Document",
        readonly=True,
        help="Number of the order or invoice at the time of the decision: kept when the document "
        "is deleted later.",
    )
    document_amount = fields.Monetary(
        readonly=True,
        currency_field="document_currency_id",
        help="Total of the document in its own currency at the time of the decision.",
    )
    document_currency_id = fields.Many2one("res.currency", readonly=True)

    @api.depends("decision_type", "order_id", "move_id", "partner_id", "document_ref")
    def _compute_display_name(self):
        labels = dict(self._fields["decision_type"]._description_selection(self.env))
        for decision in self:
            document = decision.order_id or decision.move_id
            decision.display_name = "%s: %s" % (
                labels.get(decision.decision_type, ""),
                document.display_name or decision.document_ref or decision.partner_id.display_name,
            )

    @api.model
    def _prepare_vals(self, decision_type, check, document, reason=None, date_end=False):
        """Values of a decision on ``document`` (a sale order or an invoice) with the figures of
        ``check`` (the result of the document's ``_credit_check``): plain values, so that they
        can also be written after the transaction of ``document`` has rolled back."""
        exposure = check["exposure"]
        failures = check["failures"]
        # a rule added by another module without its key in the selection: the first known one
        # (all rules stay in rules_text)
        known_rules = self._fields["rule"].get_values(self.env)
        return {
            "decision_type": decision_type,
            "order_id": document.id if document._name == "sale.order" else False,
            "move_id": document.id if document._name == "account.move" else False,
            "document_ref": document.name or document.display_name,
            "document_amount": document.amount_total,
            "document_currency_id": document.currency_id.id,
            "partner_id": document.partner_id.commercial_partner_id.id,
            "company_id": document.company_id.id,
            "rule": next((f["rule"] for f in failures if f["rule"] in known_rules), False),
            "rules_text": "\n".join(f["message"] for f in failures) or False,
            # orders confirmed before this one in the same call count as exposure
            "exposure": exposure["total"] + check.get("preceding", 0.0),
            "credit_limit": exposure["limit"] or 0.0,
            "amount": check["amount"],
            "overdue_amount": exposure["overdue"],
            "overdue_days": exposure["overdue_days"],
            # credit insurance (models/res_partner_insurance.py)
            "uninsured_amount": document.partner_id.commercial_partner_id.with_company(
                document.company_id
            )._credit_uninsured_part(exposure["total"] + check.get("preceding", 0.0) + check["amount"]),
            "user_id": self.env.user.id,
            "reason": reason or False,
            "date_end": date_end or False,
        }

    @api.model
    def _record(self, decision_type, check, document, reason=None, date_end=False):
        """Write the decision on ``document`` with the figures of ``check``."""
        # sudo: the audit trail is written for every user, read by managers and auditors
        return self.sudo().create(
            self._prepare_vals(decision_type, check, document, reason=reason, date_end=date_end)
        )

    @api.model
    def _record_after_rollback(self, uid, entries):
        """Write the block decisions of a confirmation, growth or posting that was refused in
        a transaction rolled back since (see ``sale.order._credit_raise_block``). A document
        created in that transaction is gone: the decision keeps its number, customer and
        amount. A quotation is marked blocked as the web client's path marks it."""
        self = self.sudo()
        user = self.env["res.users"].browse(uid).exists() or self.env.ref("base.user_root")
        decisions = self.browse()
        for entry in entries:
            vals = dict(entry["vals"], user_id=user.id)
            if not self.env["res.partner"].browse(vals["partner_id"]).exists():
                continue
            order = self.env["sale.order"].browse(vals["order_id"]).exists()
            move = self.env["account.move"].browse(vals["move_id"]).exists()
            vals.update(order_id=order.id, move_id=move.id)
            if entry.get("was_released") and (order or move):
                decisions |= self.create(
                    dict(
                        vals,
                        decision_type="expiry",
                        reason=self.env._("The release no longer covers this document."),
                    )
                )
            decisions |= self.create(vals)
            order = order.with_user(user).sudo()
            if order and entry["kind"] == "confirm" and order.state in ("draft", "sent"):
                order._credit_write(
                    {"credit_block_state": "blocked", "credit_block_message": entry["message"]}
                )
                order.message_post(body=entry["message"])
            elif move and entry["kind"] == "post" and move.state == "draft":
                move._credit_void_release()
                move.message_post(body=entry["message"])
        return decisions

    def write(self, vals):
        if vals:
            raise UserError(_("Credit decisions are an audit trail and cannot be changed."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_never(self):
        raise UserError(_("Credit decisions are an audit trail and cannot be deleted."))
