from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL

# Server-side sentinel: only the dunning run (and the managers' reset) write the dunning level,
# date and flat-fee flag of an invoice; RPC callers cannot forge this object.
DUNNING_WRITE = object()
DUNNING_PROTECTED_FIELDS = frozenset(
    {
        "credit_dunning_level_id",
        "credit_dunning_date",
        "credit_dunning_flat_fee_charged",
        "credit_dunning_interest_date",
    }
)


class AccountMove(models.Model):
    _inherit = "account.move"

    # === FIELDS: dunning === #
    credit_dunning_level_id = fields.Many2one(
        "credit.dunning.level",
        string="Dunning Level",
        readonly=True,
        copy=False,
        index="btree_not_null",
        tracking=True,
        help="Highest dunning level this invoice has reached.",
    )
    credit_dunning_date = fields.Date(string="Last Dunned On", readonly=True, copy=False)
    credit_dunning_line_ids = fields.One2many(
        "credit.dunning.line",
        "move_id",
        string="Dunning History",
        domain=[("letter_id.state", "=", "done")],
        readonly=True,
    )
    credit_dunning_flat_fee_charged = fields.Boolean(
        string="Flat Fee Charged",
        readonly=True,
        copy=False,
        help="The 40 EUR flat fee of §288(5) BGB was claimed for this invoice.",
    )
    credit_dunning_interest_date = fields.Date(
        string="Interest Invoiced Until",
        readonly=True,
        copy=False,
        help="Default interest up to this date was invoiced with a dunning charge invoice; later "
        "letters charge interest from the next day on.",
    )
    credit_dunning_charge_letter_id = fields.Many2one(
        "credit.dunning.letter",
        string="Dunning Charges Of",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="This invoice claims the interest and fees of this dunning letter. It is never charged "
        "interest or the flat fee itself (§289 BGB: no interest on interest).",
    )
    credit_dunning_pause = fields.Boolean(
        string="Dunning Paused",
        copy=False,
        tracking=True,
        help="Not dunned while paused. Without an end date the invoice is excluded from dunning.",
    )
    credit_dunning_pause_reason = fields.Char(string="Dunning Pause Reason", copy=False, tracking=True)
    credit_dunning_pause_until = fields.Date(
        string="Dunning Paused Until",
        copy=False,
        tracking=True,
        help="Dunning resumes by itself on this date.",
    )

    # === FIELDS: credit check on posting === #
    credit_block_state = fields.Selection(
        [("released", "Credit Released")],
        string="Credit Status",
        copy=False,
        readonly=True,
        tracking=True,
        help="A Credit Manager released this invoice: posting it skips the credit check.",
    )
    credit_decision_ids = fields.One2many("credit.decision", "move_id", string="Credit Decisions")
    credit_check_invoice = fields.Boolean(related="company_id.credit_check_invoice")

    # === CONSTRAINTS === #
    @api.constrains("credit_dunning_pause", "credit_dunning_pause_reason")
    def _check_credit_dunning_pause_reason(self):
        for move in self:
            if move.credit_dunning_pause and not (move.credit_dunning_pause_reason or "").strip():
                raise ValidationError(
                    _("Pausing the dunning of %(move)s needs a reason.", move=move.display_name)
                )

    # === CRUD === #
    def write(self, vals):
        if (
            DUNNING_PROTECTED_FIELDS.intersection(vals)
            and self.env.context.get("credit_dunning_write") is not DUNNING_WRITE
            and not self.env.su
        ):
            raise AccessError(
                _("Dunning levels of invoices are set by dunning runs; only managers reset them.")
            )
        return super().write(vals)

    # === ACTIONS === #
    def action_credit_dunning_pause(self):
        """Open the wizard that pauses or excludes these invoices from dunning."""
        self._check_credit_dunning_pause_rights()
        return {
            "type": "ir.actions.act_window",
            "name": _("Pause Dunning"),
            "res_model": "credit.dunning.pause",
            "view_mode": "form",
            "target": "new",
            "context": {"default_move_ids": self.ids},
        }

    def action_credit_dunning_resume(self):
        self._credit_dunning_resume()
        return True

    def action_credit_dunning_send_now(self):
        """Propose a dunning run for the customers of these invoices today and open it."""
        customers = self.commercial_partner_id
        return customers.action_credit_dunning_send_now()

    def action_credit_dunning_reset(self):
        """Managers only: set the dunning level of these invoices back to none."""
        if not self.env.user.has_group("credit_control.credit_control_group_manager"):
            raise AccessError(_("Only Credit Managers may reset dunning levels."))
        for move in self.filtered("credit_dunning_level_id"):
            move.message_post(
                body=_(
                    "Dunning level %(level)s reset by %(user)s.",
                    level=move.credit_dunning_level_id.name,
                    user=self.env.user.name,
                )
            )
        self.with_context(credit_dunning_write=DUNNING_WRITE).write(
            {"credit_dunning_level_id": False, "credit_dunning_date": False}
        )
        return True

    def action_credit_record_promise(self):
        """Invoice form: record a promise to pay for this invoice (dialog)."""
        return self._credit_collection_dialog(
            "credit_control.credit_promise_action_new",
            {"default_amount": sum(self.mapped("amount_residual"))},
        )

    def action_credit_open_dispute(self):
        """Invoice form: open a dispute over this invoice (dialog)."""
        return self._credit_collection_dialog(
            "credit_control.credit_dispute_action_new",
            {"default_amount": sum(self.mapped("amount_residual")) or sum(self.mapped("amount_total"))},
        )

    def _credit_collection_dialog(self, xmlid, context):
        action = self.env["ir.actions.act_window"]._for_xml_id(xmlid)
        action["context"] = {
            "default_partner_id": self.commercial_partner_id[:1].id,
            "default_move_ids": self.ids,
            "default_currency_id": self.currency_id[:1].id,
            "default_company_id": self.company_id[:1].id,
            **context,
        }
        return action

    def action_view_credit_dunning_letters(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("credit_control.credit_dunning_letter_action")
        action["domain"] = [("line_ids.move_id", "=", self.id)]
        return action

    # === BUSINESS METHODS === #
    def _credit_dunning_resume(self):
        self._check_credit_dunning_pause_rights()
        paused = self.filtered("credit_dunning_pause")
        paused.write(
            {
                "credit_dunning_pause": False,
                "credit_dunning_pause_reason": False,
                "credit_dunning_pause_until": False,
            }
        )
        for move in paused:
            move.message_post(body=_("Dunning resumed."))

    @api.model
    def _credit_dunning_blocked_move_ids(self, move_ids, date):
        """Hook: ids among ``move_ids`` that must not be dunned on ``date`` for a reason kept
        elsewhere (a dispute, a promise to pay, a payment plan). Called once per run for all
        candidate invoices: implementations must be set-based."""
        return self._credit_blocked_by_collections(move_ids, date) | self._credit_blocked_by_agency(
            move_ids, date
        )

    @api.model
    def _credit_blocked_by_agency(self, move_ids, date):
        """Invoices handed over to a collection agency."""
        return self.env["credit.agency.handover"]._blocked_move_ids(move_ids)

    @api.model
    def _credit_blocked_by_collections(self, move_ids, date):
        """Invoices under an open promise to pay (up to the end of its grace period), of an open
        or in-progress dispute, or of an active payment plan without a missed instalment. One
        query for the three, plus the plans' allocation when a candidate has an active plan."""
        if not move_ids:
            return set()
        self.env["credit.promise"].flush_model(["state", "date_grace_end", "move_ids"])
        self.env["credit.dispute"].flush_model(["state", "move_ids"])
        self.env["credit.payment.plan"].flush_model(["state", "move_ids"])
        rows = self.env.execute_query(
            SQL(
                """
            SELECT rel.move_id, NULL::integer
              FROM credit_promise_account_move_rel rel
              JOIN credit_promise p ON p.id = rel.promise_id
             WHERE rel.move_id IN %(move_ids)s AND p.state = 'open' AND p.date_grace_end >= %(date)s
             UNION ALL
            SELECT rel.move_id, NULL::integer
              FROM credit_dispute_account_move_rel rel
              JOIN credit_dispute d ON d.id = rel.dispute_id
             WHERE rel.move_id IN %(move_ids)s AND d.state IN ('open', 'progress')
             UNION ALL
            SELECT rel.move_id, rel.plan_id
              FROM credit_payment_plan_account_move_rel rel
              JOIN credit_payment_plan pp ON pp.id = rel.plan_id
             WHERE rel.move_id IN %(move_ids)s AND pp.state = 'active'
                """,
                move_ids=tuple(move_ids),
                date=date,
            )
        )
        blocked = {move_id for move_id, plan_id in rows if not plan_id}
        plan_rows = [(plan_id, move_id) for move_id, plan_id in rows if plan_id]
        if plan_rows:
            blocked |= self.env["credit.payment.plan"]._shielded_move_ids(plan_rows, date)
        return blocked

    def _credit_dunning_pause(self, reason, date_until=False):
        """Pause (with an end date) or exclude (without) these invoices from dunning, logged."""
        self._check_credit_dunning_pause_rights()
        self.write(
            {
                "credit_dunning_pause": True,
                "credit_dunning_pause_reason": reason,
                "credit_dunning_pause_until": date_until,
            }
        )
        for move in self:
            move.message_post(
                body=_(
                    "Dunning paused until %(date)s by %(user)s: %(reason)s",
                    date=date_until or _("further notice"),
                    user=self.env.user.name,
                    reason=reason,
                )
            )

    # === CREDIT CHECK ON POSTING === #
    def _post(self, soft=True):
        to_check = self.filtered(
            lambda m: m.move_type == "out_invoice"
            and m.state == "draft"
            and m.company_id.credit_check_invoice
            and m.credit_block_state != "released"
            # the interest and fees of a dunning letter are a claim, not a sale on credit
            and not m.credit_dunning_charge_letter_id
        )
        for move in to_check:
            check = move._credit_check()
            if check["failures"]:
                lines = [_("%(invoice)s cannot be posted (credit control):", invoice=move.display_name)]
                lines += ["- " + failure["message"] for failure in check["failures"]]
                lines.append(_("A Credit Manager can release the invoice (Release Credit on the invoice)."))
                raise UserError("\n".join(lines))
        return super()._post(soft=soft)

    def _credit_check(self):
        """The credit rules for posting this customer invoice, in its company."""
        self.ensure_one()
        move = self.with_company(self.company_id)
        partner = move.commercial_partner_id
        exposure = partner._get_credit_exposure(exclude_moves=move)
        amount = abs(move.amount_total_signed)
        prepayment_term = move.company_id.credit_prepayment_term_id

        def is_prepaid():
            return bool(prepayment_term) and move.invoice_payment_term_id == prepayment_term

        failures = partner._credit_rule_failures(
            exposure, amount, move.invoice_payment_term_id, is_prepaid=is_prepaid
        )
        return {
            "failures": failures,
            "released": move.credit_block_state == "released",
            "exposure": exposure,
            "amount": amount,
        }

    def _credit_release(self, reason):
        """A Credit Manager lets this draft invoice be posted despite the credit rules."""
        self.ensure_one()
        if not self.env.user.has_group("credit_control.credit_control_group_manager"):
            raise AccessError(_("Only a Credit Manager can release a credit block."))
        if not (reason or "").strip():
            raise UserError(_("A release needs a reason."))
        if self.state != "draft" or self.move_type != "out_invoice":
            raise UserError(_("Only draft customer invoices can be released."))
        check = self._credit_check()
        self.sudo().credit_block_state = "released"
        self.env["credit.decision"]._record("release", check, self, reason=reason)
        message = _("Credit release by %(user)s: %(reason)s", user=self.env.user.name, reason=reason)
        self.message_post(body=message)
        return True

    def action_open_credit_release_wizard(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Credit Release"),
            "res_model": "credit.order.release",
            "view_mode": "form",
            "target": "new",
            "context": {"default_move_id": self.id, "default_mode": "release"},
        }
