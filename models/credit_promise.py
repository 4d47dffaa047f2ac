from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL, format_amount

from .credit_collection_document_mixin import workflow_write
from .cron_retry import retry_on_conflict

# How a promise to pay was given.
PROMISE_CHANNELS = [
    ("phone", "Phone"),
    ("email", "E-mail"),
    ("letter", "Letter"),
    ("portal", "Portal"),
    ("other", "Other"),
]


class CreditPromise(models.Model):
    """Zahlungsversprechen: the customer promises to pay an amount on open invoices by a date.

    Open → kept or broken, decided from the payments reconciled on the promise's invoices: a
    reconciliation counts when it is dated (``account.partial.reconcile.max_date``, the later of
    the invoice's and the payment's date) on or after the day the promise was recorded
    (``date_recorded``) and on or before ``date_grace_end`` (promised date + grace days).
    Credit notes do not count as payment. The promise is kept as soon as those payments cover
    the promised amount, broken when the grace period has passed without. An open promise
    pauses the dunning of its invoices up to and including ``date_grace_end``."""

    _name = "credit.promise"
    _description = "Promise to Pay"
    _inherit = ["credit.collection.document.mixin"]
    _order = "date_promised desc, id desc"

    # Written by the promise's workflow (cancel, kept / broken check) only.
    _collection_workflow_fields = frozenset({"state", "date_closed", "date_recorded"})

    # === FIELDS === #
    move_ids = fields.Many2many(
        relation="credit_promise_account_move_rel",
        column1="promise_id",
        column2="move_id",
        domain="[('move_type', '=', 'out_invoice'), ('state', '=', 'posted'),"
        " ('payment_state', 'in', ('not_paid', 'partial')),"
        " ('commercial_partner_id', '=', partner_id), ('currency_id', '=', currency_id)]",
    )
    amount = fields.Monetary(string="Promised Amount", required=True, tracking=True)
    amount_open = fields.Monetary(
        string="Open on Invoices", compute="_compute_amount_open", help="Open amount of the invoices now."
    )
    amount_paid = fields.Monetary(
        string="Paid Since Promise",
        compute="_compute_amount_paid",
        help="Payments reconciled on the invoices dated from the day the promise was recorded "
        "up to the end of the grace period.",
    )
    date_promised = fields.Date(string="Promised Date", required=True, tracking=True, index=True)
    grace_days = fields.Integer(default=lambda self: self.env.company.credit_promise_grace_days)
    date_grace_end = fields.Date(string="Kept If Paid By", compute="_compute_date_grace_end", store=True)
    date_recorded = fields.Date(
        string="Recorded On",
        required=True,
        readonly=True,
        copy=False,
        default=fields.Date.context_today,
        help="Payments dated from this day on count towards the promise.",
    )
    channel = fields.Selection(
        PROMISE_CHANNELS,
        string="Given By",
        required=True,
        default="phone",
    )
    user_id = fields.Many2one(
        string="Recorded By", required=True, readonly=True, default=lambda self: self.env.user
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
    task_ids = fields.One2many("credit.task", "promise_id", string="Tasks")

    # === COMPUTE === #
    @api.depends("date_promised", "grace_days")
    def _compute_date_grace_end(self):
        for promise in self:
            promise.date_grace_end = promise.date_promised and fields.Date.add(
                promise.date_promised, days=promise.grace_days or 0
            )

    @api.depends("move_ids.amount_residual")
    def _compute_amount_open(self):
        for promise in self:
            promise.amount_open = sum(promise.move_ids.sudo().mapped("amount_residual"))

    def _compute_amount_paid(self):
        paid = self._get_paid_amounts()
        for promise in self:
            promise.amount_paid = paid.get(promise.id, 0.0)

    # === CONSTRAINTS === #
    @api.constrains("date_promised", "grace_days")
    def _check_dates(self):
        today = fields.Date.context_today(self)
        for promise in self:
            if promise.state == "open" and promise.date_promised < today:
                raise ValidationError(
                    _("A promise to pay cannot be dated in the past (%(date)s).", date=promise.date_promised)
                )
            if promise.grace_days < 0:
                raise ValidationError(_("The grace days of a promise cannot be negative."))

    @api.constrains("amount", "move_ids", "partner_id", "currency_id", "company_id")
    def _check_invoices_and_amount(self):
        for promise in self.filtered(lambda p: p.state == "open"):
            # sudo: a collector without accounting rights checks the invoices it links
            moves = promise.move_ids.sudo()
            promise._check_collection_moves(moves)
            moves._credit_check_not_sold(promise._description)
            open_amount = sum(moves.mapped("amount_residual"))
            if promise.currency_id.compare_amounts(promise.amount, 0.0) <= 0:
                raise ValidationError(_("The promised amount must be positive."))
            if promise.currency_id.compare_amounts(promise.amount, open_amount) > 0:
                raise ValidationError(
                    _(
                        "The promised amount %(amount)s is more than the open amount %(open)s of "
                        "the invoices.",
                        amount=format_amount(self.env, promise.amount, promise.currency_id),
                        open=format_amount(self.env, open_amount, promise.currency_id),
                    )
                )

    # === ONCHANGE === #
    @api.onchange("move_ids")
    def _onchange_move_ids(self):
        res = super()._onchange_move_ids()
        moves = self.move_ids
        if moves and not self.amount:
            self.amount = sum(moves.mapped("amount_residual"))
        return res

    # === CRUD === #
    def _collection_creation_note(self):
        return _(
            "Promise to pay %(amount)s by %(date)s recorded (%(ref)s).",
            amount=format_amount(self.env, self.amount, self.currency_id),
            date=self.date_promised,
            ref=self.name,
        )

    def _check_manage_rights(self):
        # the access rows already refuse salespeople; this message is clearer than theirs
        if not self.env.su and not self.env.user.has_group("credit_control.credit_control_group_user"):
            raise AccessError(_("Only the credit team records and changes promises to pay."))

    # === ACTIONS === #
    def action_cancel(self):
        if self.filtered(lambda p: p.state != "open"):
            raise UserError(_("Only open promises can be cancelled."))
        workflow_write(self, {"state": "cancel", "date_closed": fields.Date.context_today(self)})
        return True

    def action_check_now(self):
        self._update_state(fields.Date.context_today(self))
        return True

    # === BUSINESS METHODS === #
    def _get_paid_amounts(self):
        """Payments (in the promise's currency) reconciled on each promise's invoices and dated
        from ``date_recorded`` to ``date_grace_end``: one aggregate query for all promises."""
        ids = [pid for pid in self.ids if isinstance(pid, int)]
        if not ids:
            return {}
        self.flush_model(["date_recorded", "date_grace_end"])
        self.env["account.move.line"].flush_model(["move_id", "display_type"])
        self.env["account.partial.reconcile"].flush_model()
        self.env["account.move"].flush_model(["move_type"])
        rows = self.env.execute_query(
            SQL(
                """
            SELECT rel.promise_id, SUM(pr.debit_amount_currency)
              FROM credit_promise_account_move_rel rel
              JOIN credit_promise p ON p.id = rel.promise_id
              JOIN account_move_line il ON il.move_id = rel.move_id AND il.display_type = 'payment_term'
              JOIN account_partial_reconcile pr ON pr.debit_move_id = il.id
              JOIN account_move_line cl ON cl.id = pr.credit_move_id
              JOIN account_move cm ON cm.id = cl.move_id
             WHERE rel.promise_id IN %(ids)s
               AND pr.max_date >= p.date_recorded
               AND pr.max_date <= p.date_grace_end
               AND cm.move_type != 'out_refund'
          GROUP BY rel.promise_id
                """,
                ids=tuple(ids),
            )
        )
        return dict(rows)

    def _update_state(self, today):
        """Mark the open promises among ``self`` kept (payments cover the amount) or broken
        (the grace period ended before ``today`` without); one query for all. The change of
        state is tracked on the promise's note (one batch, not one message per promise)."""
        promises = self.filtered(lambda p: p.state == "open")
        paid = promises._get_paid_amounts()
        kept = promises.filtered(lambda p: p.currency_id.compare_amounts(paid.get(p.id, 0.0), p.amount) >= 0)
        broken = (promises - kept).filtered(lambda p: p.date_grace_end < today)
        # sudo: the scheduler and collectors close promises without further rights checks;
        # mail_notrack: the state's tracking goes with the note (_log_notes)
        if kept:
            kept.sudo().with_context(mail_notrack=True).write({"state": "kept", "date_closed": today})
            note = _("Promise kept: the payments cover the promised amount.")
            kept._log_notes(dict.fromkeys(kept.ids, note))
        if broken:
            broken.sudo().with_context(mail_notrack=True).write({"state": "broken", "date_closed": today})
            broken._on_broken(paid)
        return kept, broken

    def _on_broken(self, paid):
        """A broken promise: the dunning pause lifts (the hook only shields open promises), the
        collector gets a call task, promise, customer and invoices a note in their chatter.
        Batched: one ``create`` of the tasks (:meth:`credit.task._create_auto_batch`) with their
        activities, one batch of notes per model, so that the number of queries does not grow
        with the broken promises."""
        today = fields.Date.context_today(self)
        promise_notes, partner_notes, move_notes, specs = {}, {}, {}, []
        for promise in self:
            message = _(
                "Promise to pay %(ref)s broken: %(amount)s promised by %(date)s (grace until "
                "%(grace)s), %(paid)s paid. Dunning resumes.",
                ref=promise.name,
                amount=format_amount(self.env, promise.amount, promise.currency_id),
                date=promise.date_promised,
                grace=promise.date_grace_end,
                paid=format_amount(self.env, paid.get(promise.id, 0.0), promise.currency_id),
            )
            collector = promise.user_id if promise.user_id.active and not promise.user_id.share else None
            specs.append(
                {
                    "task_type": "call",
                    "origin": "promise_broken",
                    "partner": promise.partner_id,
                    "name": _("Broken promise %(ref)s: call the customer", ref=promise.name),
                    "company": promise.company_id,
                    "user": collector,
                    "links": {
                        "promise_id": promise,
                        "move_ids": promise.move_ids,
                        "date_deadline": today,
                        "priority": "1",
                    },
                }
            )
            promise_notes[promise.id] = message
            partner_notes.setdefault(promise.partner_id.id, []).append(message)
            for move_id in promise.move_ids.ids:
                move_notes.setdefault(move_id, []).append(message)
        self.env["credit.task"]._create_auto_batch(specs)
        self._log_notes(promise_notes, partner_notes, move_notes)

    def _log_notes(self, promise_notes, partner_notes=None, move_notes=None):
        """Chatter notes on promises, customers and invoices: one batch per model. A promise's
        note carries the tracking of its state (open → its state now), as a tracked write would
        have logged it in a message of its own."""
        # sudo: the scheduler or a collector logs on customers and invoices it may not edit
        promises = self.sudo().browse(list(promise_notes))
        messages = promises._message_log_batch(promise_notes)
        context = self.env.context
        if messages and not context.get("tracking_disable") and not context.get("mail_notrack"):
            Tracking = self.env["mail.tracking.value"].sudo()
            info = promises.fields_get(["state"], attributes=("string", "type", "selection"))["state"]
            Tracking.create(
                [
                    dict(
                        Tracking._create_tracking_values("open", promise.state, "state", info, promise),
                        mail_message_id=message.id,
                    )
                    for promise, message in zip(
                        promises.browse(messages.mapped("res_id")), messages, strict=True
                    )
                ]
            )
        for model, notes in (("res.partner", partner_notes), ("account.move", move_notes)):
            if notes:
                bodies = {record_id: Markup("<br/>").join(texts) for record_id, texts in notes.items()}
                self.env[model].sudo().browse(list(bodies))._message_log_batch(bodies)

    @api.model
    @retry_on_conflict
    def _cron_check_promises(self, batch_size=500):
        """Daily, every company, in batches of ``batch_size`` promises: first the open promises
        whose grace period has ended (each leaves the open state, kept or broken), then the
        open promises still within it that the payments already cover (kept). The scheduler
        commits each batch and runs the job again at once while promises remain; an
        interrupted run resumes with the promises still open (nothing is decided twice)."""
        today = fields.Date.context_today(self)
        # sudo: the scheduler's user checks the promises of every company
        promises = self.sudo()
        due_domain = [("state", "=", "open"), ("date_grace_end", "<", today)]
        batch = promises.search(due_domain, order="id", limit=batch_size)
        if batch:
            remaining = promises.search_count(due_domain) - len(batch)
            # the promises within their grace period come after the due ones: one more pass
            remaining += (
                1 if promises.search_count([("state", "=", "open"), ("date_grace_end", ">=", today)]) else 0
            )
        else:
            # within the grace period: only the promises already covered change (kept)
            pending = promises.search([("state", "=", "open"), ("date_grace_end", ">=", today)], order="id")
            paid = pending._get_paid_amounts()
            kept = pending.filtered(
                lambda p: p.currency_id.compare_amounts(paid.get(p.id, 0.0), p.amount) >= 0
            )
            batch, remaining = kept[:batch_size], max(0, len(kept) - batch_size)
        for company, company_promises in batch.grouped("company_id").items():
            company_promises.with_company(company)._update_state(today)
        self.env["ir.cron"]._notify_progress(done=len(batch), remaining=remaining)
