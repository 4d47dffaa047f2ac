from markupsafe import Markup, escape

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import format_amount, format_date

from ..lib.protected_fields import drop_protected_defaults
from ..lib.responsible import responsible_credit_manager
from .res_partner import CREDIT_PROFILE_WRITE

# Server-side sentinel: only the workflow methods of this model may write state and decision.
CREDIT_LIMIT_REQUEST_DECISION = object()

# Written by the workflow methods only.
DECISION_FIELDS = frozenset({"state", "decided_by_id", "decision_date"})

# Set only by a Credit Manager (a default_* context key does not set them for others).
MANAGER_FIELDS = frozenset({"amount_approved", "requested_by_id"})

# Chatter bookkeeping that anyone with access may update on a request that left the draft.
THREAD_FIELDS = frozenset({"activity_ids", "message_follower_ids"})


class CreditLimitRequest(models.Model):
    _name = "credit.limit.request"
    _description = "Credit Limit Request"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "create_date desc, id desc"
    _check_company_auto = True

    # === FIELDS === #
    name = fields.Char(
        string="Reference", required=True, readonly=True, copy=False, default=lambda self: _("New")
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        index=True,
        tracking=True,
        check_company=True,
        help="The commercial entity of the customer: contacts are replaced by their company.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    amount_requested = fields.Monetary(
        string="Requested Limit", currency_field="currency_id", required=True, tracking=True
    )
    current_limit = fields.Monetary(
        string="Limit at Request",
        currency_field="currency_id",
        compute="_compute_current_limit",
        store=True,
        help="The customer's credit limit when the request was made.",
    )
    current_limit_set = fields.Boolean(
        string="Had a Limit",
        compute="_compute_current_limit",
        store=True,
        help="Off: the customer had no credit limit when the request was made.",
    )
    # credit insurance: the customer's insured limit, beside the limit asked for
    insured_limit = fields.Float(
        related="partner_id.credit_insured_limit", string="Insured Limit", related_sudo=True
    )
    reason = fields.Text(required=True, help="Why the customer needs this limit: orders expected, history...")
    order_id = fields.Many2one(
        "sale.order",
        string="Sales Order",
        check_company=True,
        index="btree_not_null",
        domain="[('partner_id.commercial_partner_id', '=', partner_id)]",
    )
    requested_by_id = fields.Many2one(
        "res.users",
        string="Requested By",
        required=True,
        readonly=True,
        index=True,
        default=lambda self: self.env.user,
    )
    state = fields.Selection(
        [
            ("draft", "Draft"),
            ("submitted", "Submitted"),
            ("approved", "Approved"),
            ("rejected", "Rejected"),
            ("cancel", "Cancelled"),
        ],
        default="draft",
        required=True,
        readonly=True,
        copy=False,
        tracking=True,
        index=True,
    )
    amount_approved = fields.Monetary(
        string="Approved Limit",
        currency_field="currency_id",
        compute="_compute_amount_approved",
        store=True,
        readonly=False,
        copy=False,
        tracking=True,
    )
    limit_date_end = fields.Date(
        string="Limit Valid Until", tracking=True, help="End of the approved limit (empty: no end)."
    )
    decided_by_id = fields.Many2one(
        "res.users", string="Decided By", readonly=True, copy=False, tracking=True
    )
    decision_date = fields.Date(readonly=True, copy=False)
    rejection_reason = fields.Text(copy=False, tracking=True)
    can_decide = fields.Boolean(
        compute="_compute_can_decide", help="The current user may approve or reject this request."
    )

    # === COMPUTE === #
    @api.depends("partner_id", "company_id")
    def _compute_current_limit(self):
        for request in self:
            # sudo: the requester may read the limit, but a snapshot must not depend on who asks
            partner = request.partner_id.commercial_partner_id.with_company(request.company_id).sudo()
            limit = partner._credit_limits_in_force().get(partner.id)
            request.current_limit_set = limit is not None
            request.current_limit = limit or 0.0

    @api.depends("requested_by_id")
    @api.depends_context("uid")
    def _compute_can_decide(self):
        is_manager = self.env.user.has_group("credit_control.credit_control_group_manager")
        for request in self:
            request.can_decide = is_manager and request.requested_by_id != self.env.user

    @api.depends("amount_requested")
    def _compute_amount_approved(self):
        for request in self:
            if request.state in ("draft", "submitted"):
                request.amount_approved = request.amount_requested
            else:
                request.amount_approved = request.amount_approved

    # === CONSTRAINTS === #
    @api.constrains("amount_requested", "amount_approved")
    def _check_amounts(self):
        for request in self:
            if request.amount_requested < 0 or request.amount_approved < 0:
                raise ValidationError(
                    _(
                        "The amounts of limit request %(request)s cannot be negative.",
                        request=request.display_name,
                    )
                )

    @api.constrains("reason")
    def _check_reason(self):
        for request in self:
            if not (request.reason or "").strip():
                raise ValidationError(
                    _("Limit request %(request)s needs a reason.", request=request.display_name)
                )

    # === CRUD === #
    @api.model
    def default_get(self, fields_list):
        # a default_* context key (or a personal default) never pre-decides a request: the
        # state starts as draft, the requester is the user, the approved amount follows the
        # requested one unless a Credit Manager sets it
        values = super().default_get(fields_list)
        drop_protected_defaults(self, values, DECISION_FIELDS, False)
        drop_protected_defaults(self, values, MANAGER_FIELDS, self._is_credit_manager())
        return values

    @api.model_create_multi
    def create(self, vals_list):
        partners = self.env["res.partner"]
        for vals in vals_list:
            self._check_decision_write(vals)
            self._drop_manager_fields(vals)
            if vals.get("partner_id"):
                vals["partner_id"] = partners.browse(vals["partner_id"]).commercial_partner_id.id
            if vals.get("requested_by_id", self.env.uid) != self.env.uid and not self._is_credit_manager():
                raise AccessError(_("Only Credit Managers may file a limit request in someone else's name."))
            if vals.get("name", _("New")) == _("New"):
                company = self.env["res.company"].browse(vals.get("company_id")) or self.env.company
                vals["name"] = self.env["ir.sequence"].with_company(company).next_by_code(
                    "credit.limit.request"
                ) or _("New")
        return super().create(vals_list)

    def write(self, vals):
        self._check_decision_write(vals)
        self._drop_manager_fields(vals)
        if (
            self.env.context.get("credit_limit_request_decision") is not CREDIT_LIMIT_REQUEST_DECISION
            and not set(vals) <= THREAD_FIELDS
            and not self._is_credit_manager()
        ):
            if "requested_by_id" in vals:
                raise AccessError(_("Only Credit Managers may change who requested a limit."))
            not_draft = self.filtered(lambda request: request.state != "draft")
            if not_draft:
                raise AccessError(
                    _(
                        "Only Credit Managers may change a limit request once it was submitted "
                        "(%(requests)s).",
                        requests=", ".join(not_draft.mapped("display_name")),
                    )
                )
        if vals.get("partner_id"):
            vals["partner_id"] = self.env["res.partner"].browse(vals["partner_id"]).commercial_partner_id.id
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_decided(self):
        decided = self.filtered(lambda request: request.state in ("approved", "rejected"))
        if decided:
            raise UserError(
                _(
                    "Decided limit requests document a credit decision and cannot be deleted: %(requests)s.",
                    requests=", ".join(decided.mapped("display_name")),
                )
            )

    # === ACTIONS === #
    @api.model
    def action_new_for_partner(self, partner, order=None):
        """Window action opening a new limit request for ``partner`` (record or id)."""
        partner = self.env["res.partner"].browse(getattr(partner, "id", partner)).commercial_partner_id
        context = {
            "default_partner_id": partner.id,
            "default_company_id": self.env.company.id,
        }
        if order:
            context["default_order_id"] = getattr(order, "id", order)
        return {
            "type": "ir.actions.act_window",
            "name": _("Request Credit Limit"),
            "res_model": "credit.limit.request",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": context,
        }

    def action_submit(self):
        """Send drafts to the credit team: an activity for the customer's credit manager."""
        if any(request.state != "draft" for request in self):
            raise UserError(_("Only draft limit requests can be submitted."))
        for request in self:
            if request.requested_by_id != self.env.user and not self._is_credit_manager():
                raise AccessError(
                    _(
                        "Only %(user)s may submit limit request %(request)s.",
                        user=request.requested_by_id.name,
                        request=request.display_name,
                    )
                )
        self._write_decision({"state": "submitted"})
        for request in self:
            # the decision is a task of the credit team (credit.task)
            manager = responsible_credit_manager(self.env, request.partner_id, request.company_id)
            self.env["credit.task"]._create_auto(
                "limit_request",
                "limit_request",
                request.partner_id,
                _(
                    "Credit limit request: %(amount)s for %(partner)s",
                    amount=format_amount(self.env, request.amount_requested, request.currency_id),
                    partner=request.partner_id.display_name,
                ),
                company=request.company_id,
                team="credit",
                user=manager or self.env.user,
                limit_request_id=request,
                order_id=request.order_id,
                date_deadline=fields.Date.context_today(self),
                description=Markup("<p>%s</p>") % escape(request.reason or ""),
            )
        return True

    def action_approve(self):
        """Set the approved limit on the customer (Credit Managers, never on their own request)."""
        self._check_decider()
        for request in self:
            request._action_approve()
        return True

    def action_reject(self):
        """Refuse the requests (Credit Managers, never their own); the rejection reason is required."""
        self._check_decider()
        missing = self.filtered(lambda request: not (request.rejection_reason or "").strip())
        if missing:
            raise UserError(
                _(
                    "Give a rejection reason for %(requests)s: the requester should know why.",
                    requests=", ".join(missing.mapped("display_name")),
                )
            )
        self._write_decision(
            {
                "state": "rejected",
                "decided_by_id": self.env.uid,
                "decision_date": fields.Date.context_today(self),
            }
        )
        for request in self:
            request._notify_requester(
                _("Credit limit request rejected: %(reason)s", reason=request.rejection_reason.strip())
            )
        return True

    def action_cancel(self):
        if any(request.state not in ("draft", "submitted") for request in self):
            raise UserError(_("Only open limit requests can be cancelled."))
        if not self._is_credit_manager() and any(
            request.requested_by_id != self.env.user for request in self
        ):
            raise AccessError(_("Only the requester or a Credit Manager may cancel a limit request."))
        self._close_open_activities(_("Request cancelled."))
        self._write_decision({"state": "cancel"})
        self.env["credit.task"]._close_auto(_("Request cancelled."), stage="cancel", limit_request_id=self)
        return True

    def action_draft(self):
        if any(request.state != "cancel" for request in self):
            raise UserError(_("Only cancelled limit requests can be reset to draft."))
        self._write_decision({"state": "draft"})
        return True

    # === BUSINESS METHODS === #
    def _action_approve(self):
        self.ensure_one()
        partner = self.partner_id.with_company(self.company_id)
        vals = {"credit_limit": self.amount_approved, "credit_limit_set": True}
        if self.limit_date_end:
            vals["credit_limit_date_end"] = self.limit_date_end
        # _check_decider verified that the user is a Credit Manager
        partner.with_context(credit_profile_write=CREDIT_PROFILE_WRITE).write(vals)
        self._write_decision(
            {
                "state": "approved",
                "decided_by_id": self.env.uid,
                "decision_date": fields.Date.context_today(self),
            }
        )
        amount = format_amount(self.env, self.amount_approved, self.currency_id)
        partner.message_post(
            body=_(
                "Credit limit set to %(amount)s by limit request %(request)s of %(user)s.",
                amount=amount,
                request=self.name,
                user=self.requested_by_id.name,
            ),
            subtype_xmlid="mail.mt_note",
        )
        self._notify_requester(
            _(
                "Credit limit approved: %(amount)s until %(date)s",
                amount=amount,
                date=format_date(self.env, self.limit_date_end),
            )
            if self.limit_date_end
            else _("Credit limit approved: %(amount)s", amount=amount)
        )

    def _notify_requester(self, summary):
        """Close the open activities of the request and give the requester one with the outcome."""
        self.ensure_one()
        self._close_open_activities(summary)
        self.env["credit.task"]._close_auto(summary, limit_request_id=self)
        self.activity_schedule(
            "mail.mail_activity_data_todo", summary=summary, user_id=self.requested_by_id.id
        )

    def _close_open_activities(self, feedback):
        self.activity_ids.action_feedback(feedback=feedback)

    def _check_decider(self):
        if not self._is_credit_manager():
            raise AccessError(_("Only Credit Managers may approve or reject credit limit requests."))
        for request in self:
            if request.state != "submitted":
                raise UserError(
                    _(
                        "Limit request %(request)s is not waiting for a decision.",
                        request=request.display_name,
                    )
                )
            if request.requested_by_id == self.env.user:
                raise UserError(
                    _(
                        "You cannot decide your own limit request %(request)s: another Credit "
                        "Manager must.",
                        request=request.display_name,
                    )
                )

    def _write_decision(self, vals):
        return self.with_context(credit_limit_request_decision=CREDIT_LIMIT_REQUEST_DECISION).write(vals)

    def _check_decision_write(self, vals):
        if not DECISION_FIELDS.intersection(vals) or self.env.su:
            return
        if self.env.context.get("credit_limit_request_decision") is CREDIT_LIMIT_REQUEST_DECISION:
            return
        if (
            vals.get("state", "draft") == "draft"
            and not vals.get("decided_by_id")
            and not vals.get("decision_date")
        ):
            return
        raise AccessError(_("Limit requests are submitted and decided only through their buttons."))

    def _drop_manager_fields(self, vals):
        """The approved amount follows the requested one until a Credit Manager changes it."""
        if "amount_approved" in vals and not self._is_credit_manager():
            del vals["amount_approved"]

    def _is_credit_manager(self):
        return self.env.su or self.env.user.has_group("credit_control.credit_control_group_manager")
