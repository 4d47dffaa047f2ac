from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import format_amount

from ..lib.responsible import responsible_credit_manager
from .credit_collection_document_mixin import log_on_moves, workflow_write

DISPUTE_REASONS = [
    ("price", "Price"),
    ("quantity", "Quantity"),
    ("quality", "Quality"),
    ("delivery", "Delivery"),
    ("billing", "Billing Error"),
    ("other", "Other"),
]

OPEN_DISPUTE_STATES = ("open", "progress")


class CreditDispute(models.Model):
    """Streitfall / Reklamation: a customer contests (part of) invoices. While open or in
    progress, the invoices are not dunned; the disputed amount stays in the exposure.
    Resolved (a credit note linked, or a resolution written) or rejected (with a reason)."""

    _name = "credit.dispute"
    _description = "Invoice Dispute"
    _inherit = ["credit.collection.document.mixin"]
    _order = "create_date desc, id desc"

    # Written by the dispute's buttons only.
    _collection_workflow_fields = frozenset({"state", "date_closed"})

    # === FIELDS === #
    move_ids = fields.Many2many(
        relation="credit_dispute_account_move_rel",
        column1="dispute_id",
        column2="move_id",
        domain="[('move_type', '=', 'out_invoice'), ('state', '=', 'posted'),"
        " ('commercial_partner_id', '=', partner_id), ('currency_id', '=', currency_id)]",
    )
    amount = fields.Monetary(string="Disputed Amount", required=True, tracking=True)
    amount_invoiced = fields.Monetary(string="Invoiced Amount", compute="_compute_amount_invoiced")
    reason = fields.Selection(DISPUTE_REASONS, required=True, default="other", tracking=True)
    description = fields.Text()
    user_id = fields.Many2one(
        string="Owner",
        tracking=True,
        index=True,
        help="Works the dispute; by default the invoice's salesperson.",
    )
    collector_id = fields.Many2one(
        "res.users",
        string="Collector",
        tracking=True,
        help="Notified when the dispute ends; by default the customer's credit manager.",
    )
    date_deadline = fields.Date(
        string="Deadline",
        tracking=True,
        default=lambda self: fields.Date.context_today(self) + timedelta(days=14),
    )
    state = fields.Selection(
        [("open", "Open"), ("progress", "In Progress"), ("resolved", "Resolved"), ("rejected", "Rejected")],
        default="open",
        required=True,
        readonly=True,
        tracking=True,
        index=True,
    )
    credit_note_id = fields.Many2one(
        "account.move",
        string="Credit Note",
        check_company=True,
        tracking=True,
        domain="[('move_type', '=', 'out_refund'), ('commercial_partner_id', '=', partner_id),"
        " ('state', '!=', 'cancel')]",
    )
    resolution = fields.Text(tracking=True, help="How the dispute was settled.")
    rejection_reason = fields.Text(tracking=True)
    date_closed = fields.Date(string="Closed On", readonly=True, copy=False)
    task_ids = fields.One2many("credit.task", "dispute_id", string="Tasks")
    portal_submitted = fields.Boolean(
        string="Opened on the Portal", readonly=True, copy=False, help="The customer opened it on the portal."
    )

    # === COMPUTE === #
    @api.depends("move_ids.amount_total")
    def _compute_amount_invoiced(self):
        for dispute in self:
            dispute.amount_invoiced = sum(dispute.move_ids.sudo().mapped("amount_total"))

    # === CONSTRAINTS === #
    @api.constrains("amount", "move_ids", "partner_id", "currency_id", "company_id")
    def _check_invoices_and_amount(self):
        for dispute in self.filtered(lambda d: d.state in OPEN_DISPUTE_STATES):
            moves = dispute.move_ids.sudo()
            # same rules as a promise; a paid invoice may still be contested
            dispute._check_collection_moves(moves, allow_paid=True)
            moves._credit_check_not_sold(dispute._description)
            invoiced = sum(moves.mapped("amount_total"))
            if dispute.currency_id.compare_amounts(dispute.amount, 0.0) <= 0:
                raise ValidationError(_("The disputed amount must be positive."))
            if dispute.currency_id.compare_amounts(dispute.amount, invoiced) > 0:
                raise ValidationError(
                    _(
                        "The disputed amount %(amount)s is more than the invoiced amount %(invoiced)s.",
                        amount=format_amount(self.env, dispute.amount, dispute.currency_id),
                        invoiced=format_amount(self.env, invoiced, dispute.currency_id),
                    )
                )

    @api.constrains("credit_note_id", "partner_id")
    def _check_credit_note(self):
        for dispute in self.filtered("credit_note_id"):
            note = dispute.credit_note_id.sudo()
            if (
                note.move_type != "out_refund"
                or note.commercial_partner_id != dispute.partner_id.commercial_partner_id
            ):
                raise ValidationError(
                    _(
                        "The credit note must be a credit note of %(customer)s.",
                        customer=dispute.partner_id.name,
                    )
                )

    # === ONCHANGE === #
    @api.onchange("move_ids")
    def _onchange_move_ids(self):
        super()._onchange_move_ids()
        moves = self.move_ids
        if not moves:
            return
        if not self.amount:
            self.amount = sum(moves.mapped("amount_residual"))
        if not self.user_id:
            self.user_id = moves[0].invoice_user_id

    # === CRUD === #
    @api.model
    def _prepare_create_vals(self, vals):
        """Also the owner (the invoice's salesperson) and the collector (the customer's credit
        manager) when not given."""
        super()._prepare_create_vals(vals)
        partner = self.env["res.partner"].browse(vals.get("partner_id"))
        company = self.env["res.company"].browse(vals.get("company_id")) or self.env.company
        if not vals.get("user_id"):
            vals["user_id"] = self._default_owner(vals, partner).id
        if not self._is_credit_team():
            # the collector watches the dispute for the credit team: not chosen by the salesperson
            vals.pop("collector_id", None)
        if not vals.get("collector_id") and partner:
            vals["collector_id"] = responsible_credit_manager(self.env, partner, company).id
        return vals

    def write(self, vals):
        if "collector_id" in vals and not self._is_credit_team():
            raise AccessError(_("Only the credit team assigns the collector of a dispute."))
        return super().write(vals)

    def _is_credit_team(self):
        return self.env.su or self.env.user.has_group("credit_control.credit_control_group_user")

    def _log_creation(self):
        """An open dispute gets its task, its invoices a note: dunning pauses."""
        opened = self.filtered(lambda d: d.state in OPEN_DISPUTE_STATES)
        opened._open_tasks()
        return super(CreditDispute, opened)._log_creation()

    def _collection_creation_note(self):
        return _(
            "Dispute %(ref)s opened over %(amount)s: dunning pauses until it is closed.",
            ref=self.name,
            amount=format_amount(self.env, self.amount, self.currency_id),
        )

    def _check_invoice_access(self, vals):
        """A dispute is opened only on invoices the user may read (a salesperson: its own and
        unassigned ones); the constraint reads the invoices as superuser, so check here."""
        if self.env.su or "move_ids" not in vals:
            return
        moves = self.env["account.move"].browse(self._command_move_ids(vals["move_ids"]))
        hidden = moves - moves._filtered_access("read")
        if hidden:
            raise AccessError(
                _(
                    "You may not open a dispute on invoices you cannot see (%(count)s of the "
                    "selected invoices). Ask their salesperson or the credit team.",
                    count=len(hidden),
                )
            )

    @api.model
    def _command_move_ids(self, commands):
        """Ids of the invoices linked by the x2many ``commands`` (set / link, or a list of ids)."""
        move_ids = []
        for command in commands or []:
            if isinstance(command, int):
                move_ids.append(command)
            elif command[0] == fields.Command.SET:
                move_ids += command[2]
            elif command[0] == fields.Command.LINK:
                move_ids.append(command[1])
        return move_ids

    def _default_owner(self, vals, partner):
        """The salesperson of the first invoice, else the customer's salesperson."""
        moves = self.env["account.move"].sudo().browse(self._command_move_ids(vals.get("move_ids")))
        owner = moves[:1].invoice_user_id or partner.sudo().user_id
        return owner if owner and owner.active and not owner.share else self.env["res.users"]

    # === ACTIONS === #
    def action_start(self):
        self._check_state(("open",))
        workflow_write(self, {"state": "progress"})
        return True

    def action_resolve(self):
        self._check_state(OPEN_DISPUTE_STATES)
        for dispute in self:
            if not dispute.credit_note_id:
                dispute.credit_note_id = dispute._find_credit_note()
            if not dispute.credit_note_id and not (dispute.resolution or "").strip():
                raise UserError(
                    _(
                        "To resolve %(ref)s, link the credit note (Create Credit Note) or describe "
                        "the resolution.",
                        ref=dispute.name,
                    )
                )
        self._close("resolved")
        return True

    def action_reject(self):
        self._check_state(OPEN_DISPUTE_STATES)
        for dispute in self:
            if not (dispute.rejection_reason or "").strip():
                raise UserError(_("Rejecting %(ref)s needs a reason.", ref=dispute.name))
        self._close("rejected")
        return True

    def action_reopen(self):
        self._check_state(("resolved", "rejected"))
        # a rejection ended the dunning pause of a dispute: only the credit team pauses again
        rejected = self.filtered(lambda d: d.state == "rejected")
        if (
            rejected
            and not self.env.su
            and not self.env.user.has_group("credit_control.credit_control_group_user")
        ):
            raise AccessError(_("Only the credit team reopens a rejected dispute: it pauses dunning again."))
        workflow_write(self, {"state": "open", "date_closed": False})
        self._open_tasks()
        return True

    def action_create_credit_note(self):
        """Odoo's reversal wizard on the disputed invoices; resolving links the credit note."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("account.action_view_account_move_reversal")
        action["context"] = {
            "active_model": "account.move",
            "active_ids": self.move_ids.ids,
            "default_reason": _("Dispute %(ref)s", ref=self.name),
        }
        return action

    def action_view_credit_note(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.move",
            "res_id": self.credit_note_id.id,
            "view_mode": "form",
        }

    # === BUSINESS METHODS === #
    def _check_state(self, allowed):
        wrong = self.filtered(lambda d: d.state not in allowed)
        if wrong:
            raise UserError(
                _("%(refs)s cannot do this in its current state.", refs=", ".join(wrong.mapped("name")))
            )

    def _find_credit_note(self):
        """The newest credit note reversing one of the disputed invoices."""
        return (
            self.env["account.move"]
            .sudo()
            .search(
                [
                    ("move_type", "=", "out_refund"),
                    ("reversed_entry_id", "in", self.move_ids.ids),
                    ("state", "!=", "cancel"),
                ],
                order="id desc",
                limit=1,
            )
        )

    def _open_tasks(self):
        Task = self.env["credit.task"]
        for dispute in self:
            Task._create_auto(
                "dispute",
                "dispute",
                dispute.partner_id,
                _("Resolve dispute %(ref)s", ref=dispute.name),
                company=dispute.company_id,
                team="sales",
                user=dispute.user_id or None,
                dispute_id=dispute,
                move_ids=dispute.move_ids,
                date_deadline=dispute.date_deadline,
            )

    def _close(self, state):
        """End the disputes: close their tasks, resume dunning (the hook only shields open
        disputes), tell the collector with a message and an activity."""
        today = fields.Date.context_today(self)
        workflow_write(self, {"state": state, "date_closed": today})
        # sudo: the owner may be a salesperson, who closes the task of its dispute
        tasks = (
            self.env["credit.task"].sudo().search([("dispute_id", "in", self.ids), ("is_open", "=", True)])
        )
        tasks.action_done()
        for dispute in self:
            if state == "resolved":
                body = _(
                    "Dispute %(ref)s resolved by %(user)s%(note)s. Dunning resumes.",
                    ref=dispute.name,
                    user=self.env.user.name,
                    note=(
                        _(" with credit note %(note)s", note=dispute.credit_note_id.sudo().name)
                        if dispute.credit_note_id
                        else ""
                    ),
                )
            else:
                body = _(
                    "Dispute %(ref)s rejected by %(user)s: %(reason)s. Dunning resumes.",
                    ref=dispute.name,
                    user=self.env.user.name,
                    reason=dispute.rejection_reason,
                )
            collector = dispute.collector_id
            dispute.message_post(
                body=body,
                partner_ids=collector.partner_id.ids if collector else [],
                subtype_xmlid="mail.mt_comment",
            )
            log_on_moves(dispute.sudo().move_ids, body)
            if collector and collector.active and not collector.share:
                dispute.sudo().activity_schedule(
                    "mail.mail_activity_data_todo",
                    summary=_("Dispute %(ref)s closed: check the dunning", ref=dispute.name),
                    note=body,
                    user_id=collector.id,
                )
