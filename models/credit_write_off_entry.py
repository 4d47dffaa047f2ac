from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import format_amount

WRITE_OFF_REASONS = [
    ("court_case", "After Court Case"),
    ("insolvency", "Insolvency"),
    ("decision", "Decision"),
    ("other", "Other"),
]
MANAGER_GROUP = "credit_control.credit_control_group_manager"


class CreditWriteOffEntry(models.Model):
    """One written-off invoice: the credit note that booked the loss (net to the loss account,
    VAT corrected per §17 UStG) and, once undone, its reversal."""

    _name = "credit.write.off.entry"
    _description = "Write-off"
    _inherit = ["mail.thread"]
    _order = "date desc, id desc"
    _check_company_auto = True

    # === FIELDS === #
    name = fields.Char(compute="_compute_name", store=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    partner_id = fields.Many2one("res.partner", string="Customer", required=True, readonly=True, index=True)
    invoice_id = fields.Many2one(
        "account.move", string="Invoice", required=True, readonly=True, index=True, check_company=True
    )
    refund_id = fields.Many2one(
        "account.move",
        string="Write-off Credit Note",
        required=True,
        readonly=True,
        index=True,
        check_company=True,
    )
    reversal_id = fields.Many2one(
        "account.move", string="Undo Entry", readonly=True, index=True, check_company=True, copy=False
    )
    date = fields.Date(required=True, readonly=True)
    reason = fields.Selection(WRITE_OFF_REASONS, required=True, readonly=True)
    note = fields.Text(string="Explanation", readonly=True)
    currency_id = fields.Many2one("res.currency", required=True, readonly=True)
    amount = fields.Monetary(
        string="Written Off", readonly=True, help="Open amount written off, VAT included."
    )
    amount_tax = fields.Monetary(string="VAT Corrected", readonly=True)
    state = fields.Selection(
        [("done", "Written Off"), ("undone", "Undone")],
        default="done",
        required=True,
        readonly=True,
        tracking=True,
    )
    undo_reason = fields.Text(help="Why the write-off is undone (required to undo it).")
    undo_date = fields.Date(readonly=True)

    # === COMPUTE === #
    @api.depends("invoice_id.name", "date")
    def _compute_name(self):
        for entry in self:
            entry.name = _("Write-off %(invoice)s", invoice=entry.invoice_id.name or "")

    # === ACTIONS === #
    def action_undo(self):
        """Undo: unreconcile the write-off credit note from the invoice and reverse it; the invoice
        is open again. The reason goes to the chatter of the invoice and the customer."""
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(_("Only Credit Managers can undo a write-off."))
        for entry in self:
            if entry.state != "done":
                raise UserError(_("%(name)s is already undone.", name=entry.name))
            if not (entry.undo_reason or "").strip():
                raise UserError(_("Enter why %(name)s is undone.", name=entry.name))
        today = fields.Date.context_today(self)
        for entry in self:
            refund = entry.refund_id
            refund.line_ids.filtered(
                lambda line: line.account_id.account_type == "asset_receivable"
            ).remove_move_reconcile()
            reversal = refund._reverse_moves(
                [
                    {
                        "date": today,
                        "invoice_date": today,
                        "ref": _("Undo write-off of %(invoice)s", invoice=entry.invoice_id.name),
                    }
                ],
                cancel=True,
            )
            entry.write({"state": "undone", "reversal_id": reversal.id, "undo_date": today})
            message = _(
                "Write-off of %(amount)s undone (%(reversal)s): %(reason)s",
                amount=self._format_amount(entry.amount, entry.currency_id),
                reversal=reversal.name,
                reason=entry.undo_reason,
            )
            for record in (entry, entry.invoice_id, entry.partner_id):
                record.message_post(body=message)
        return True

    def action_open_refund(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.move",
            "res_id": self.refund_id.id,
            "view_mode": "form",
        }

    # === BUSINESS METHODS === #
    @api.model
    def _format_amount(self, amount, currency):
        return format_amount(self.env, amount, currency)
