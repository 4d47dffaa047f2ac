from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL, format_amount

from .credit_collection_document_mixin import log_on_moves, workflow_write

# most instalments a customer may ask for on the portal
PLAN_REQUEST_MAX_INSTALMENTS = 24


class CreditPaymentPlanRequest(models.Model):
    """Ratenzahlungsanfrage: a customer asks on the portal to pay some open invoices in
    instalments. The credit team approves it (the payment plan is created and activated with the
    requested instalments) or refuses it with a reason; the customer sees the answer on the
    portal. While the request waits, the dunning of its invoices pauses."""

    _name = "credit.payment.plan.request"
    _description = "Payment Plan Request"
    _inherit = ["credit.collection.document.mixin"]
    _order = "create_date desc, id desc"

    # Written by the request's buttons only.
    _collection_workflow_fields = frozenset({"state", "plan_id", "date_closed"})

    # === FIELDS === #
    move_ids = fields.Many2many(
        relation="credit_plan_request_account_move_rel",
        column1="request_id",
        column2="move_id",
        domain="[('move_type', '=', 'out_invoice'), ('state', '=', 'posted'),"
        " ('payment_state', 'in', ('not_paid', 'partial')),"
        " ('commercial_partner_id', '=', partner_id), ('currency_id', '=', currency_id)]",
    )
    amount_open = fields.Monetary(
        string="Open on Invoices", compute="_compute_amount_open", help="Open amount of the invoices now."
    )
    instalment_count = fields.Integer(string="Number of Instalments", required=True, default=3, tracking=True)
    frequency = fields.Selection(
        [("weekly", "Weekly"), ("monthly", "Monthly"), ("quarterly", "Quarterly")],
        required=True,
        default="monthly",
        tracking=True,
    )
    date_first = fields.Date(string="First Instalment", required=True, tracking=True)
    note = fields.Text(string="Customer's Message")
    requested_by_id = fields.Many2one("res.partner", string="Requested By", readonly=True)
    user_id = fields.Many2one(string="Collector", tracking=True)
    state = fields.Selection(
        [("requested", "Requested"), ("approved", "Approved"), ("refused", "Refused")],
        default="requested",
        required=True,
        readonly=True,
        tracking=True,
        index=True,
    )
    refusal_reason = fields.Text(tracking=True)
    plan_id = fields.Many2one("credit.payment.plan", string="Payment Plan", readonly=True, copy=False)
    date_closed = fields.Date(string="Decided On", readonly=True, copy=False)
    task_ids = fields.One2many("credit.task", "plan_request_id", string="Tasks")

    # === COMPUTE === #
    @api.depends("move_ids.amount_residual")
    def _compute_amount_open(self):
        for request in self:
            request.amount_open = sum(request.move_ids.sudo().mapped("amount_residual"))

    # === CONSTRAINTS === #
    @api.constrains("move_ids", "partner_id", "currency_id", "company_id", "instalment_count", "date_first")
    def _check_request(self):
        today = fields.Date.context_today(self)
        for request in self.filtered(lambda r: r.state == "requested"):
            request._check_collection_moves(request.move_ids.sudo())
            if not 1 <= request.instalment_count <= PLAN_REQUEST_MAX_INSTALMENTS:
                raise ValidationError(
                    _(
                        "A payment plan has between 1 and %(max)s instalments.",
                        max=PLAN_REQUEST_MAX_INSTALMENTS,
                    )
                )
            if request.date_first < today:
                raise ValidationError(
                    _("The first instalment cannot be dated in the past (%(date)s).", date=request.date_first)
                )

    # === CRUD === #
    def _check_manage_rights(self):
        # customers create requests through the portal (as superuser, after its own checks)
        if not self.env.su and not self.env.user.has_group("credit_control.credit_control_group_user"):
            raise AccessError(_("Only the credit team decides on payment plan requests."))

    def _collection_creation_note(self):
        return _(
            "Payment plan request %(ref)s: %(count)s %(frequency)s instalments from %(date)s over "
            "%(amount)s. Dunning pauses until it is decided.",
            ref=self.name,
            count=self.instalment_count,
            frequency=dict(self._fields["frequency"]._description_selection(self.env))[self.frequency],
            date=self.date_first,
            amount=format_amount(self.env, self.amount_open, self.currency_id),
        )

    # === ACTIONS === #
    def action_approve(self):
        """Create and activate the payment plan with the requested instalments."""
        self._check_manage_rights()
        self._check_state()
        Plan = self.env["credit.payment.plan"]
        for request in self:
            moves = request.move_ids.sudo()
            if moves.filtered(lambda m: m.payment_state not in ("not_paid", "partial")):
                raise UserError(
                    _("Some invoices of %(ref)s are paid meanwhile: refuse the request.", ref=request.name)
                )
            plan = Plan.with_company(request.company_id).create(
                {
                    "partner_id": request.partner_id.id,
                    "company_id": request.company_id.id,
                    "currency_id": request.currency_id.id,
                    "move_ids": [fields.Command.set(moves.ids)],
                    "amount_total": sum(moves.mapped("amount_residual")),
                    "instalment_count": request.instalment_count,
                    "frequency": request.frequency,
                    "date_first": max(request.date_first, fields.Date.context_today(self)),
                    "note": _("Requested on the portal (%(ref)s).", ref=request.name),
                }
            )
            plan.action_activate()
            workflow_write(
                request,
                {"state": "approved", "plan_id": plan.id, "date_closed": fields.Date.context_today(self)},
            )
            request._log_decision(
                _("Payment plan request %(ref)s approved: plan %(plan)s.", ref=request.name, plan=plan.name)
            )
        return True

    def action_refuse(self):
        self._check_manage_rights()
        self._check_state()
        for request in self:
            if not (request.refusal_reason or "").strip():
                raise UserError(_("Refusing %(ref)s needs a reason.", ref=request.name))
        workflow_write(self, {"state": "refused", "date_closed": fields.Date.context_today(self)})
        for request in self:
            request._log_decision(
                _(
                    "Payment plan request %(ref)s refused: %(reason)s. Dunning resumes.",
                    ref=request.name,
                    reason=request.refusal_reason,
                )
            )
        return True

    def action_view_plan(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "credit.payment.plan",
            "res_id": self.plan_id.id,
            "view_mode": "form",
        }

    # === BUSINESS METHODS === #
    def _check_state(self):
        decided = self.filtered(lambda r: r.state != "requested")
        if decided:
            raise UserError(_("%(refs)s is already decided.", refs=", ".join(decided.mapped("name"))))

    def _log_decision(self, body):
        """Tell the customer (chatter of the request and the customer), the invoices and close the
        request's tasks."""
        self.ensure_one()
        self.message_post(body=body)
        self.partner_id.sudo().message_post(body=body)
        log_on_moves(self.sudo().move_ids, body)
        # sudo: the credit team closes the request's task whoever it is assigned to
        self.task_ids.sudo().filtered("is_open").action_done()

    @api.model
    def _blocked_move_ids(self, move_ids):
        """Ids among ``move_ids`` of a request that waits for the credit team's decision."""
        if not move_ids:
            return set()
        self.flush_model(["state", "move_ids"])
        rows = self.env.execute_query(
            SQL(
                """
            SELECT rel.move_id
              FROM credit_plan_request_account_move_rel rel
              JOIN credit_payment_plan_request r ON r.id = rel.request_id
             WHERE rel.move_id IN %(move_ids)s AND r.state = 'requested'
                """,
                move_ids=tuple(move_ids),
            )
        )
        return {move_id for (move_id,) in rows}
