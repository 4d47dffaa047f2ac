from functools import partial

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL
from odoo.tools.misc import format_amount

from .sale_order import _record_blocks_after_rollback

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

    def init(self):
        result = super().init()
        # Draft customer invoices per customer, read by the exposure of every credit check: a
        # small index (drafts only) instead of a scan of every move's state in Odoo's indexes.
        self.env.cr.execute(
            SQL(
                """
            CREATE INDEX IF NOT EXISTS credit_control_account_move_draft_invoice_idx
                ON account_move (commercial_partner_id, company_id)
             WHERE state = 'draft'
               AND move_type IN ('out_invoice', 'out_refund')
                """
            )
        )
        # posted customer invoices per customer and date: credit_control_account_move_customer_invoice_idx
        # (res.partner's init, models/res_partner_behaviour.py)
        return result

    # === CONSTRAINTS === #
    @api.constrains("credit_dunning_pause", "credit_dunning_pause_reason")
    def _check_credit_dunning_pause_reason(self):
        for move in self:
            if move.credit_dunning_pause and not (move.credit_dunning_pause_reason or "").strip():
                raise ValidationError(
                    _("Pausing the dunning of %(move)s needs a reason.", move=move.display_name)
                )

    # === CRUD === #
    @api.model_create_multi
    def create(self, vals_list):
        # only the dunning marks an invoice as a letter's charges (such invoices skip the credit
        # check on posting): not a create, nor a default_* context key of anybody else
        if self.env.context.get("credit_dunning_write") is not DUNNING_WRITE and not self.env.su:
            if any(vals.get("credit_dunning_charge_letter_id") for vals in vals_list):
                raise AccessError(_("Only a dunning run invoices the charges of a dunning letter."))
            if self.env.context.get("default_credit_dunning_charge_letter_id"):
                self = self.with_context(default_credit_dunning_charge_letter_id=False)  # noqa: PLW0642
        return super().create(vals_list)

    def write(self, vals):
        if (
            "credit_dunning_charge_letter_id" in vals
            and self.env.context.get("credit_dunning_write") is not DUNNING_WRITE
            and not self.env.su
        ):
            raise AccessError(_("Only a dunning run invoices the charges of a dunning letter."))
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

    # === BUSINESS METHODS === #
    @api.model
    def _credit_dunning_blocked_move_ids(self, move_ids, date):
        """Hook: ids among ``move_ids`` that must not be dunned on ``date`` for a reason kept
        elsewhere (a dispute, a promise to pay, a payment plan, a collection agency, ...). Called
        once per run for all candidate invoices: ONE query, the union of the queries of
        ``_credit_dunning_blocked_queries`` (one per reason, extended by the modules' overrides),
        plus the plans' allocation when a candidate has an active plan."""
        if not move_ids:
            return set()
        rows = self.env.execute_query(
            SQL(
                """
            WITH dunning_candidate AS (SELECT unnest(%(move_ids)s::int4[]) AS move_id)
            SELECT move_id, plan_id FROM (%(queries)s) blocked
                """,
                move_ids=list(move_ids),
                queries=SQL(" UNION ALL ").join(self._credit_dunning_blocked_queries(date)),
            )
        )
        blocked = {move_id for move_id, plan_id in rows if not plan_id}
        plan_rows = [(plan_id, move_id) for move_id, plan_id in rows if plan_id]
        if plan_rows:
            blocked |= self.env["credit.payment.plan"]._shielded_move_ids(plan_rows, date)
        return blocked

    @api.model
    def _credit_dunning_blocked_queries(self, date):
        """The queries of ``_credit_dunning_blocked_move_ids``, flushed first: each selects
        ``move_id, plan_id`` among the candidates (the table ``dunning_candidate (move_id)``),
        ``plan_id`` NULL except for an active payment plan (its allocation decides). Here: open
        promises (up to the end of their grace period), open or in-progress disputes, active
        payment plans, hand-overs to a collection agency; modules add theirs."""
        self.env["credit.promise"].flush_model(["state", "date_grace_end", "move_ids"])
        self.env["credit.dispute"].flush_model(["state", "move_ids"])
        self.env["credit.payment.plan"].flush_model(["state", "move_ids"])
        self.env["credit.agency.handover"].flush_model(["state", "move_ids"])
        return [
            SQL(
                """
            SELECT rel.move_id, NULL::integer AS plan_id
              FROM credit_promise_account_move_rel rel
              JOIN dunning_candidate cand ON cand.move_id = rel.move_id
              JOIN credit_promise p ON p.id = rel.promise_id
             WHERE p.state = 'open' AND p.date_grace_end >= %(date)s
                """,
                date=date,
            ),
            SQL(
                """
            SELECT rel.move_id, NULL::integer
              FROM credit_dispute_account_move_rel rel
              JOIN dunning_candidate cand ON cand.move_id = rel.move_id
              JOIN credit_dispute d ON d.id = rel.dispute_id
             WHERE d.state IN ('open', 'progress')
                """
            ),
            SQL(
                """
            SELECT rel.move_id, rel.plan_id
              FROM credit_payment_plan_account_move_rel rel
              JOIN dunning_candidate cand ON cand.move_id = rel.move_id
              JOIN credit_payment_plan pp ON pp.id = rel.plan_id
             WHERE pp.state = 'active'
                """
            ),
            SQL(
                """
            SELECT rel.move_id, NULL::integer
              FROM credit_agency_handover_account_move_rel rel
              JOIN dunning_candidate cand ON cand.move_id = rel.move_id
              JOIN credit_agency_handover h ON h.id = rel.handover_id
             WHERE h.state = 'handed_over'
                """
            ),
        ]

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

    # === CREDIT CHECK ON POSTING === #
    def _post(self, soft=True):
        to_check = self.filtered(
            lambda m: m.move_type == "out_invoice"
            and m.state == "draft"
            and m.company_id.credit_check_invoice
            # the interest and fees of a dunning letter are a claim, not a sale on credit
            and not m.credit_dunning_charge_letter_id
        )
        blocked = []
        for move in to_check:
            if move._credit_release_valid():
                continue
            check = move._credit_check()
            if check["failures"] and not check["released"]:
                blocked.append((move, check))
        if blocked:
            self._credit_raise_block(blocked)
        return super()._post(soft=soft)

    def _credit_raise_block(self, blocked):
        """Refuse the posting; the block (and the void release) is recorded after the rollback
        of this transaction, as for orders (``sale.order._credit_raise_block``)."""
        messages = []
        entries = []
        for move, check in blocked:
            lines = [_("%(invoice)s cannot be posted (credit control):", invoice=move.display_name)]
            lines += ["- " + failure["message"] for failure in check["failures"]]
            if move.credit_block_state == "released":
                lines.append(
                    _(
                        "The credit release no longer applies: %(reasons)s",
                        reasons="; ".join(move._credit_release_problems()),
                    )
                )
            lines.append(_("A Credit Manager can release the invoice (Release Credit on the invoice)."))
            message = "\n".join(lines)
            messages.append(message)
            entries.append(
                {
                    "kind": "post",
                    "message": message,
                    "was_released": move.credit_block_state == "released",
                    "vals": self.env["credit.decision"]._prepare_vals("block", check, move),
                }
            )
        self.env.cr.postrollback.add(
            partial(_record_blocks_after_rollback, self.env.registry, self.env.uid, entries)
        )
        raise UserError("\n\n".join(messages))

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
            exposure, amount, move.invoice_payment_term_id, is_prepaid=is_prepaid, document=move
        )
        return {
            "failures": failures,
            "released": move._credit_release_valid(),
            "exposure": exposure,
            "amount": amount,
        }

    def _credit_release_problems(self):
        """Why the release of this invoice does not cover it (empty: it does). A release is
        bound to the commercial customer, company, currency and amount it was given for."""
        self.ensure_one()
        if self.credit_block_state != "released":
            return [_("the invoice is not released")]
        problems = []
        if self.credit_release_partner_id != self.commercial_partner_id:
            problems.append(_("it was given for another customer"))
        if self.credit_release_company_id != self.company_id:
            problems.append(_("it was given in another company"))
        if self.credit_release_currency_id != self.currency_id:
            problems.append(_("it was given in another currency"))
        elif self.currency_id.compare_amounts(self.amount_total, self.credit_release_amount) > 0:
            problems.append(
                _(
                    "the invoice total is above the released %(amount)s",
                    amount=format_amount(self.env, self.credit_release_amount, self.currency_id),
                )
            )
        return problems

    def _credit_release_valid(self):
        self.ensure_one()
        return self.credit_block_state == "released" and not self._credit_release_problems()

    def _credit_release(self, reason):
        """A Credit Manager lets this draft invoice be posted despite the credit rules, for its
        current total, customer, company and currency."""
        self.ensure_one()
        if not self.env.user.has_group("credit_control.credit_control_group_manager"):
            raise AccessError(_("Only a Credit Manager can release a credit block."))
        if not (reason or "").strip():
            raise UserError(_("A release needs a reason."))
        if self.state != "draft" or self.move_type != "out_invoice":
            raise UserError(_("Only draft customer invoices can be released."))
        check = self._credit_check()
        self._credit_write(
            {
                "credit_block_state": "released",
                "credit_release_amount": self.amount_total,
                "credit_release_partner_id": self.commercial_partner_id.id,
                "credit_release_company_id": self.company_id.id,
                "credit_release_currency_id": self.currency_id.id,
            }
        )
        self.env["credit.decision"]._record("release", check, self, reason=reason)
        message = _("Credit release by %(user)s: %(reason)s", user=self.env.user.name, reason=reason)
        self.message_post(body=message)
        return True

    def _credit_void_release(self):
        self._credit_write(
            {
                "credit_block_state": False,
                "credit_release_amount": 0.0,
                "credit_release_partner_id": False,
                "credit_release_company_id": False,
                "credit_release_currency_id": False,
            }
        )

    def _credit_write(self, vals):
        return self.with_context(credit_move_write=CREDIT_MOVE_WRITE).write(vals)

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


# Server-side sentinel of the invoice credit release (see ``AccountMoveCreditRelease``).
CREDIT_MOVE_WRITE = object()
MOVE_CREDIT_PROTECTED_FIELDS = frozenset(
    {
        "credit_block_state",
        "credit_release_amount",
        "credit_release_partner_id",
        "credit_release_company_id",
        "credit_release_currency_id",
    }
)


class AccountMoveCreditRelease(models.Model):
    """The credit release of an invoice: what it is bound to, and the guard that keeps it (and
    the credit status) out of reach of anyone but the credit check and the credit team, at
    creation, through ``default_*`` context keys and on write. Kept apart from the dunning
    part of ``account.move`` above so that both can change independently."""

    _inherit = "account.move"

    credit_release_amount = fields.Monetary(
        string="Released Amount",
        copy=False,
        readonly=True,
        currency_field="credit_release_currency_id",
        help="Invoice total the release covers, in the currency of the release.",
    )
    credit_release_partner_id = fields.Many2one(
        "res.partner", string="Released For Customer", copy=False, readonly=True
    )
    credit_release_company_id = fields.Many2one(
        "res.company", string="Released In Company", copy=False, readonly=True
    )
    credit_release_currency_id = fields.Many2one(
        "res.currency", string="Released In Currency", copy=False, readonly=True
    )

    def _credit_move_privileged(self):
        return self.env.context.get("credit_move_write") is CREDIT_MOVE_WRITE

    @api.model
    def default_get(self, fields_list):
        result = super().default_get(fields_list)
        if not self._credit_move_privileged():
            for fname in MOVE_CREDIT_PROTECTED_FIELDS.intersection(result):
                del result[fname]
        return result

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su and not self._credit_move_privileged():
            for vals in vals_list:
                if any(vals[fname] for fname in MOVE_CREDIT_PROTECTED_FIELDS.intersection(vals)):
                    raise AccessError(_("The credit status of an invoice is set by the credit team only."))
                for fname in MOVE_CREDIT_PROTECTED_FIELDS.intersection(vals):
                    del vals[fname]
        return super().create(vals_list)

    def write(self, vals):
        if (
            MOVE_CREDIT_PROTECTED_FIELDS.intersection(vals)
            and not self.env.su
            and not self._credit_move_privileged()
        ):
            raise AccessError(_("The credit status of an invoice is set by the credit team only."))
        return super().write(vals)
