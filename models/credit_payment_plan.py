from collections import defaultdict

from dateutil.relativedelta import relativedelta

from odoo import Command, _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL, format_amount

from .credit_collection_document_mixin import log_on_moves, workflow_write
from .cron_retry import retry_on_conflict

# system parameter: "<date>:<id of the last plan done>" while the day's check is under way
PLAN_CRON_CURSOR = "credit_control.payment_plan_cron_cursor"

# Server-side sentinel: the plan's own create writes instalments of a plan created in any state;
# RPC callers cannot forge this object.
PLAN_LINES_WRITE = object()

FREQUENCY_STEP = {
    "weekly": relativedelta(weeks=1),
    "monthly": relativedelta(months=1),
    "quarterly": relativedelta(months=3),
}
# share of a year one instalment period stands for (simple interest)
FREQUENCY_YEAR_FRACTION = {"weekly": 1 / 52, "monthly": 1 / 12, "quarterly": 1 / 4}


class CreditPaymentPlan(models.Model):
    """Ratenzahlungsvereinbarung: the open amount of some invoices paid in instalments.

    Instalments: the optional down payment on the first date, then ``instalment_count``
    instalments of equal principal (the last takes the rounding), one per period. Interest is
    simple interest p.a. on the declining balance: each instalment carries one period's
    interest (a week = 1/52, a month = 1/12, a quarter = 1/4 year) on the principal still
    outstanding before it. Payments reconciled on the covered invoices and dated on or after
    ``date_start`` pay the instalments, oldest first. While no instalment is more than the
    company's grace days overdue, the plan shields its invoices from dunning; a missed
    instalment escalates (task, activity) and the invoices are dunned by their own due dates
    again until the plan is caught up."""

    _name = "credit.payment.plan"
    _description = "Payment Plan"
    _inherit = ["credit.collection.document.mixin"]
    _order = "date_first desc, id desc"

    # Written by the plan's buttons and the scheduler's instalment check only.
    _collection_workflow_fields = frozenset({"state", "has_missed"})

    # === FIELDS === #
    move_ids = fields.Many2many(
        relation="credit_payment_plan_account_move_rel",
        column1="plan_id",
        column2="move_id",
        domain="[('move_type', '=', 'out_invoice'), ('state', '=', 'posted'),"
        " ('payment_state', 'in', ('not_paid', 'partial')),"
        " ('commercial_partner_id', '=', partner_id), ('currency_id', '=', currency_id)]",
    )
    amount_total = fields.Monetary(string="Total", required=True, tracking=True)
    down_payment = fields.Monetary(tracking=True)
    interest_rate = fields.Float(string="Interest (% p.a.)", tracking=True)
    amount_interest = fields.Monetary(string="Interest", readonly=True)
    amount_scheduled = fields.Monetary(
        string="Total with Interest", compute="_compute_amounts", help="Sum of the instalments."
    )
    amount_paid = fields.Monetary(string="Paid", compute="_compute_amounts")
    amount_residual = fields.Monetary(string="Still to Pay", compute="_compute_amounts")
    instalment_count = fields.Integer(string="Number of Instalments", required=True, default=3, tracking=True)
    frequency = fields.Selection(
        [("weekly", "Weekly"), ("monthly", "Monthly"), ("quarterly", "Quarterly")],
        required=True,
        default="monthly",
        tracking=True,
    )
    date_first = fields.Date(string="First Instalment", required=True, tracking=True)
    date_start = fields.Date(
        string="Agreed On",
        required=True,
        default=fields.Date.context_today,
        tracking=True,
        help="Payments on the invoices dated from this day on pay the instalments.",
    )
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
    has_missed = fields.Boolean(
        string="Instalment Missed",
        readonly=True,
        copy=False,
        help="An instalment is more than the grace days overdue: the invoices are dunned again.",
    )
    user_id = fields.Many2one(string="Agreed By", default=lambda self: self.env.user, tracking=True)
    note = fields.Text()
    task_ids = fields.One2many("credit.task", "payment_plan_id", string="Tasks")

    # === COMPUTE === #
    @api.depends("line_ids.amount", "line_ids.amount_paid")
    def _compute_amounts(self):
        for plan in self:
            scheduled = sum(plan.line_ids.mapped("amount"))
            paid = sum(plan.line_ids.mapped("amount_paid"))
            plan.amount_scheduled = scheduled
            plan.amount_paid = paid
            plan.amount_residual = scheduled - paid

    # === CONSTRAINTS === #
    @api.constrains(
        "amount_total",
        "down_payment",
        "interest_rate",
        "instalment_count",
        "move_ids",
        "partner_id",
        "currency_id",
        "company_id",
    )
    def _check_plan(self):
        for plan in self.filtered(lambda p: p.state == "draft"):
            moves = plan.move_ids.sudo()
            plan._check_collection_moves(moves)
            moves._credit_check_not_sold(plan._description)
            currency = plan.currency_id
            open_amount = sum(moves.mapped("amount_residual"))
            if currency.compare_amounts(plan.amount_total, 0.0) <= 0:
                raise ValidationError(_("The total of a payment plan must be positive."))
            if currency.compare_amounts(plan.amount_total, open_amount) > 0:
                raise ValidationError(
                    _(
                        "The plan's total %(total)s is more than the open amount %(open)s of its invoices.",
                        total=format_amount(self.env, plan.amount_total, currency),
                        open=format_amount(self.env, open_amount, currency),
                    )
                )
            if plan.instalment_count < 1:
                raise ValidationError(_("A payment plan needs at least one instalment."))
            if plan.down_payment < 0 or currency.compare_amounts(plan.down_payment, plan.amount_total) >= 0:
                raise ValidationError(_("The down payment must lie between zero and the total."))
            if plan.interest_rate < 0:
                raise ValidationError(_("The interest rate cannot be negative."))

    # === ONCHANGE === #
    @api.onchange("move_ids")
    def _onchange_move_ids(self):
        res = super()._onchange_move_ids()
        if self.move_ids:
            self.amount_total = sum(self.move_ids.mapped("amount_residual"))
        return res

    # === CRUD === #
    @api.model_create_multi
    def create(self, vals_list):
        # instalments given with a new plan are part of its creation, whatever its state
        plans = super(CreditPaymentPlan, self.with_context(credit_plan_lines_write=PLAN_LINES_WRITE)).create(
            vals_list
        )
        plans = plans.with_env(self.env)
        plans.filtered(lambda p: not p.line_ids)._generate_lines()
        return plans

    def _check_manage_rights(self):
        if not self.env.su and not self.env.user.has_group("credit_control.credit_control_group_user"):
            raise AccessError(_("Only the credit team agrees and changes payment plans."))

    # === ACTIONS === #
    def action_generate_lines(self):
        if self.filtered(lambda p: p.state != "draft"):
            raise UserError(_("Instalments can only be recomputed on a draft plan."))
        self._generate_lines()
        return True

    def action_activate(self):
        self._check_manage_rights()
        for plan in self:
            if plan.state != "draft":
                raise UserError(_("Only a draft plan can be activated."))
            plan._check_lines_add_up()
            plan._check_plan()
        workflow_write(self, {"state": "active"})
        for plan in self:
            body = _(
                "Payment plan %(ref)s active: %(count)s instalments, %(total)s. Dunning follows the plan.",
                ref=plan.name,
                count=len(plan.line_ids),
                total=format_amount(self.env, plan.amount_scheduled, plan.currency_id),
            )
            plan.message_post(body=body)
            plan.partner_id.sudo().message_post(body=body)
            log_on_moves(plan.sudo().move_ids, body)
        self._refresh_instalments(fields.Date.context_today(self))
        return True

    def action_break(self):
        """The credit team declares the agreement void: the invoices are dunned normally."""
        if self.filtered(lambda p: p.state != "active"):
            raise UserError(_("Only an active plan can be declared broken."))
        workflow_write(self, {"state": "broken"})
        for plan in self:
            plan.message_post(body=_("Payment plan declared broken: dunning resumes."))
        return True

    def action_cancel(self):
        if self.filtered(lambda p: p.state not in ("draft", "active")):
            raise UserError(_("Only draft or active plans can be cancelled."))
        workflow_write(self, {"state": "cancel"})
        return True

    def action_reset_draft(self):
        if self.filtered(lambda p: p.state not in ("cancel", "broken")):
            raise UserError(_("Only cancelled or broken plans can be reset to draft."))
        workflow_write(self, {"state": "draft", "has_missed": False})
        workflow_write(self.line_ids, {"amount_paid": 0.0, "state": "due", "missed_notified": False})
        return True

    def action_refresh(self):
        self._refresh_instalments(fields.Date.context_today(self))
        return True

    def action_print_agreement(self):
        return self.env.ref("credit_control.credit_payment_plan_report_action").report_action(self)

    # === BUSINESS METHODS === #
    def _check_lines_add_up(self):
        self.ensure_one()
        if not self.line_ids:
            raise UserError(_("The payment plan %(ref)s has no instalments.", ref=self.name))
        expected = self.amount_total + self.amount_interest
        scheduled = sum(self.line_ids.mapped("amount"))
        if self.currency_id.compare_amounts(scheduled, expected) != 0:
            raise UserError(
                _(
                    "The instalments of %(ref)s add up to %(scheduled)s, not to the total plus "
                    "interest of %(expected)s. Correct them or recompute the instalments.",
                    ref=self.name,
                    scheduled=format_amount(self.env, scheduled, self.currency_id),
                    expected=format_amount(self.env, expected, self.currency_id),
                )
            )
        if any(line.amount <= 0 for line in self.line_ids):
            raise UserError(_("Every instalment of %(ref)s must be positive.", ref=self.name))

    def _prepare_lines(self):
        """Instalment values: down payment first, then equal principal parts with one period's
        simple interest on the balance outstanding before each instalment."""
        self.ensure_one()
        currency = self.currency_id
        step = FREQUENCY_STEP[self.frequency]
        fraction = FREQUENCY_YEAR_FRACTION[self.frequency]
        rate = (self.interest_rate or 0.0) / 100.0
        count = max(self.instalment_count, 1)
        lines = []
        if currency.compare_amounts(self.down_payment, 0.0) > 0:
            lines.append(
                {
                    "date_due": self.date_first,
                    "amount": self.down_payment,
                    "amount_principal": self.down_payment,
                    "amount_interest": 0.0,
                    "is_down_payment": True,
                }
            )
        balance = currency.round(self.amount_total - self.down_payment)
        part = currency.round(balance / count)
        offset = 1 if lines else 0
        for index in range(count):
            principal = part if index < count - 1 else balance
            interest = currency.round(balance * rate * fraction)
            lines.append(
                {
                    "date_due": self.date_first + step * (index + offset),
                    "amount": currency.round(principal + interest),
                    "amount_principal": principal,
                    "amount_interest": interest,
                    "is_down_payment": False,
                }
            )
            balance = currency.round(balance - principal)
        for sequence, values in enumerate(lines, start=1):
            values["sequence"] = sequence
        return lines

    def _generate_lines(self):
        for plan in self:
            lines = plan._prepare_lines()
            plan.write(
                {
                    "line_ids": [Command.clear()] + [Command.create(values) for values in lines],
                    "amount_interest": sum(values["amount_interest"] for values in lines),
                }
            )

    def _get_paid_amounts(self):
        """Payments (in the plan's currency) reconciled on each plan's invoices and dated on or
        after its ``date_start``; credit notes do not count. One aggregate query for all plans."""
        ids = [pid for pid in self.ids if isinstance(pid, int)]
        if not ids:
            return {}
        self.flush_model(["date_start"])
        self.env["account.move.line"].flush_model(["move_id", "display_type"])
        self.env["account.partial.reconcile"].flush_model()
        self.env["account.move"].flush_model(["move_type"])
        rows = self.env.execute_query(
            SQL(
                """
            SELECT rel.plan_id, SUM(pr.debit_amount_currency)
              FROM credit_payment_plan_account_move_rel rel
              JOIN credit_payment_plan p ON p.id = rel.plan_id
              JOIN account_move_line il ON il.move_id = rel.move_id AND il.display_type = 'payment_term'
              JOIN account_partial_reconcile pr ON pr.debit_move_id = il.id
              JOIN account_move_line cl ON cl.id = pr.credit_move_id
              JOIN account_move cm ON cm.id = cl.move_id
             WHERE rel.plan_id IN %(ids)s
               AND pr.max_date >= p.date_start
               AND cm.move_type != 'out_refund'
          GROUP BY rel.plan_id
                """,
                ids=tuple(ids),
            )
        )
        return dict(rows)

    def _allocate(self, date):
        """Per instalment id: (amount paid, state, missed) as of ``date``, the plan's payments
        allocated oldest instalment first. Missed = overdue by more than the company's grace
        days."""
        paid_by_plan = self._get_paid_amounts()
        result = {}
        for plan in self:
            currency = plan.currency_id
            grace = plan.company_id.credit_plan_grace_days
            available = paid_by_plan.get(plan.id, 0.0)
            for line in plan.line_ids.sorted(lambda line: (line.date_due, line.sequence, line.id)):
                paid = min(max(available, 0.0), line.amount)
                available -= paid
                paid = currency.round(paid)
                if currency.compare_amounts(paid, line.amount) >= 0:
                    state = "paid"
                elif line.date_due < date:
                    state = "overdue"
                elif currency.compare_amounts(paid, 0.0) > 0:
                    state = "partial"
                else:
                    state = "due"
                missed = state == "overdue" and (date - line.date_due).days > grace
                result[line.id] = (paid, state, missed)
        return result

    def _refresh_instalments(self, date):
        """Store each active plan's instalment states, complete fully paid plans, escalate
        newly missed instalments. One aggregate query for all plans."""
        plans = self.filtered(lambda p: p.state == "active")
        if not plans:
            return
        allocation = plans._allocate(date)
        changes = defaultdict(list)  # (paid, state) -> line ids
        lines = plans.line_ids
        for line in lines:
            paid, state, _missed = allocation[line.id]
            if line.currency_id.compare_amounts(line.amount_paid, paid) or line.state != state:
                changes[(paid, state)].append(line.id)
        Line = self.env["credit.payment.plan.line"].sudo()
        for (paid, state), line_ids in changes.items():
            Line.browse(line_ids).write({"amount_paid": paid, "state": state})
        done = plans.filtered(lambda p: all(allocation[line.id][1] == "paid" for line in p.line_ids))
        if done:
            done.sudo().write({"state": "done", "has_missed": False})
            done.task_ids.filtered("is_open").sudo().action_done()
            for plan in done:
                plan.message_post(body=_("Payment plan completed: every instalment is paid."))
        running = plans - done
        missed_plans = running.filtered(lambda p: any(allocation[line.id][2] for line in p.line_ids))
        (running - missed_plans).filtered("has_missed").sudo().write({"has_missed": False})
        if missed_plans:
            missed_plans.filtered(lambda p: not p.has_missed).sudo().write({"has_missed": True})
            new_missed = missed_plans.line_ids.filtered(
                lambda line: allocation[line.id][2] and not line.missed_notified
            )
            if new_missed:
                new_missed.sudo().write({"missed_notified": True})
                new_missed.plan_id._escalate_missed(new_missed)

    def _escalate_missed(self, missed_lines):
        """A missed instalment: a call task for the collector, an activity on the plan, a note
        in the chatter of plan and customer. The invoices are dunned again by their due dates."""
        Task = self.env["credit.task"]
        activity_type = self.env.ref("mail.mail_activity_data_todo")
        for plan in self:
            lines = missed_lines.filtered(lambda line, p=plan: line.plan_id == p)
            body = _(
                "Instalment(s) of payment plan %(ref)s missed: %(lines)s. The invoices are "
                "dunned again by their due dates until the plan is caught up.",
                ref=plan.name,
                lines=", ".join(
                    _(
                        "%(date)s: %(open)s open",
                        date=line.date_due,
                        open=format_amount(self.env, line.amount - line.amount_paid, plan.currency_id),
                    )
                    for line in lines
                ),
            )
            user = plan.user_id if plan.user_id.active and not plan.user_id.share else None
            Task._create_auto(
                "call",
                "instalment_missed",
                plan.partner_id,
                _("Missed instalment of %(ref)s: call the customer", ref=plan.name),
                company=plan.company_id,
                user=user,
                payment_plan_id=plan,
                move_ids=plan.move_ids,
                date_deadline=fields.Date.context_today(self),
                priority="1",
            )
            plan.message_post(body=body)
            plan.partner_id.sudo().message_post(body=body)
            if user:
                plan.sudo().activity_schedule(
                    activity_type_id=activity_type.id,
                    summary=_("Instalment missed"),
                    note=body,
                    user_id=user.id,
                )

    @api.model
    def _shielded_move_ids(self, rows, date):
        """Of ``rows`` (plan id, invoice id) of active plans, the invoices whose plan has no
        missed instalment on ``date``: the plan, not the invoices' due dates, decides their
        dunning (one aggregate query for all plans)."""
        plans = self.sudo().browse({plan_id for plan_id, _move_id in rows})
        allocation = plans._allocate(date)
        kept = {plan.id for plan in plans if not any(allocation[line.id][2] for line in plan.line_ids)}
        return {move_id for plan_id, move_id in rows if plan_id in kept}

    @api.model
    @retry_on_conflict
    def _cron_check_payment_plans(self, batch_size=500):
        """Daily: instalment states of every active plan, completion and missed instalments, in
        batches of ``batch_size`` plans by id. The last plan done is kept with the batch (same
        transaction, system parameter ``credit_control.payment_plan_cron_cursor``): the
        scheduler commits each batch and runs the job again while plans remain, and an
        interrupted run resumes after the last committed batch. The refresh is idempotent (a
        missed instalment is escalated once), so a batch redone after a crash changes nothing."""
        today = fields.Date.context_today(self)
        params = self.env["ir.config_parameter"].sudo()
        day, _sep, last_id = (params.get_param(PLAN_CRON_CURSOR) or "").partition(":")
        last_id = int(last_id) if day == fields.Date.to_string(today) and last_id.isdigit() else 0
        # sudo: the scheduler's user checks the plans of every company
        domain = [("state", "=", "active"), ("id", ">", last_id)]
        plans = self.sudo().search(domain, order="id", limit=batch_size)
        for company, company_plans in plans.grouped("company_id").items():
            company_plans.with_company(company)._refresh_instalments(today)
        remaining = self.sudo().search_count(
            [("state", "=", "active"), ("id", ">", plans[-1:].id or last_id)]
        )
        cursor = "%s:%s" % (fields.Date.to_string(today), plans[-1:].id) if remaining else False
        params.set_param(PLAN_CRON_CURSOR, cursor)
        self.env["ir.cron"]._notify_progress(done=len(plans), remaining=remaining)
