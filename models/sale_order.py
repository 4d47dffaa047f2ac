import logging
from contextlib import contextmanager
from functools import partial

from markupsafe import Markup, escape

from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL, format_amount

from .credit_check import responsible_credit_manager

_logger = logging.getLogger(__name__)

# Server-side sentinel for a Credit Manager's override: only the override wizard, after its
# own group check, confirms with ``credit_override=CREDIT_OVERRIDE`` in the context.
CREDIT_OVERRIDE = object()

# The credit status and what a release is bound to: written by the credit check and the credit
# team's wizards only (``credit_order_write=CREDIT_OVERRIDE``), never at creation, never through
# ``default_*`` context keys.
ORDER_PROTECTED_FIELDS = frozenset(
    {
        "credit_block_state",
        "credit_block_message",
        "credit_release_amount",
        "credit_release_date_end",
        "credit_released_by_id",
        "credit_release_partner_id",
        "credit_release_company_id",
        "credit_release_currency_id",
    }
)
CONFIRMED_STATES = ("sale", "done")


class _CreditGrowthScope:
    """Context value naming the orders whose amount an outer ``write`` already watches (a Python
    object: a JSON-RPC context cannot carry one, so a client cannot switch the check off)."""

    __slots__ = ("ids",)

    def __init__(self, ids):
        self.ids = frozenset(ids)


class _CreditChecked:
    """Context value of the web client's Confirm button (``action_credit_confirm``): the order
    whose confirmation it has just checked, with the customer's row locked, and what that check
    saw. The confirmation inside the same call does not check it a second time while the order
    is unchanged. A Python object: a JSON-RPC context cannot carry one."""

    __slots__ = ("key",)

    def __init__(self, order):
        self.key = order._credit_checked_key()


def check_computed_vals(records, vals):
    """Amounts and quantities the ORM computes (order totals, line totals, invoiced quantities)
    feed the credit check: no client writes them (an order's total set to 1 by RPC would pass
    any limit). Stored computed fields without an inverse are refused for all but the superuser."""
    if records.env.su:
        return
    fields_ = records._fields
    written = [
        name
        for name in vals
        if name in fields_
        and fields_[name].compute
        and fields_[name].store
        and fields_[name].readonly
        and not fields_[name].inverse
    ]
    if written:
        labels = sorted(fields_[name].get_description(records.env)["string"] for name in written)
        raise AccessError(
            records.env._(
                "%(model)s: %(fields)s are computed and cannot be written.",
                model=records._description,
                fields=", ".join(labels),
            )
        )


def _record_blocks_after_rollback(registry, uid, entries):
    """``cr.postrollback`` hook: the transaction that raised the credit block is rolled back
    (its locks are released); write the block decisions in a transaction of their own."""
    try:
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["credit.decision"]._record_after_rollback(uid, entries)
    except Exception:
        _logger.exception("The credit block could not be recorded after the rollback")


class SaleOrder(models.Model):
    _inherit = "sale.order"

    # === FIELDS === #
    credit_block_state = fields.Selection(
        [("blocked", "Credit Blocked"), ("requested", "Release Requested"), ("released", "Credit Released")],
        string="Credit Status",
        copy=False,
        readonly=True,
        tracking=True,
        index="btree_not_null",
        help="Set when a confirmation was refused by the credit check, a release was asked for, "
        "or the credit team released the order.",
    )
    credit_block_message = fields.Text(string="Credit Block", copy=False, readonly=True)
    credit_release_amount = fields.Monetary(
        string="Released Amount",
        copy=False,
        readonly=True,
        currency_field="credit_release_currency_id",
        help="Order total the release covers, in the currency of the release.",
    )
    credit_release_date_end = fields.Date(string="Release Valid Until", copy=False, readonly=True)
    credit_released_by_id = fields.Many2one("res.users", string="Released By", copy=False, readonly=True)
    credit_release_partner_id = fields.Many2one(
        "res.partner",
        string="Released For Customer",
        copy=False,
        readonly=True,
        help="Commercial customer the release was given for: for any other customer it is void.",
    )
    credit_release_company_id = fields.Many2one(
        "res.company", string="Released In Company", copy=False, readonly=True
    )
    credit_release_currency_id = fields.Many2one(
        "res.currency", string="Released In Currency", copy=False, readonly=True
    )
    credit_decision_ids = fields.One2many("credit.decision", "order_id", string="Credit Decisions")
    credit_decision_count = fields.Integer(compute="_compute_credit_decision_count")
    credit_banner_html = fields.Html(compute="_compute_credit_banner_html", sanitize=False)
    credit_banner_level = fields.Selection(
        [("ok", "OK"), ("warning", "Warning"), ("danger", "Blocked")], compute="_compute_credit_banner_html"
    )

    # === COMPUTE === #
    def _compute_credit_decision_count(self):
        counts = dict(
            self.env["credit.decision"]
            .sudo()
            ._read_group([("order_id", "in", self.ids)], ["order_id"], ["__count"])
        )
        for order in self:
            order.credit_decision_count = counts.get(order._origin, 0)

    @api.depends(
        "partner_id",
        "amount_total",
        "payment_term_id",
        "currency_id",
        "state",
        "credit_block_state",
        "credit_release_amount",
        "credit_release_date_end",
        "credit_release_partner_id",
        "credit_release_company_id",
        "credit_release_currency_id",
    )
    def _compute_credit_banner_html(self):
        for order in self:
            if order.state not in ("draft", "sent") or not order.partner_id or not order.company_id:
                order.credit_banner_html = False
                order.credit_banner_level = False
                continue
            order = order.with_company(order.company_id)
            check = order._credit_check()
            exposure = check["exposure"]
            currency = exposure["currency"]

            def amount(value, currency=currency):
                return format_amount(self.env, value or 0.0, currency)

            partner = order.partner_id.commercial_partner_id.sudo()
            parts = [
                _("Rating: %(rating)s", rating=partner.credit_rating_id.display_name or _("not rated")),
                _("Exposure: %(amount)s", amount=amount(exposure["total"])),
                _("Available: %(amount)s", amount=amount(exposure["available"]))
                if exposure["limit"] is not None
                else _("No credit limit set"),
                _("Overdue: %(amount)s", amount=amount(exposure["overdue"])),
            ]
            html = Markup("<div>%s</div>") % Markup(" · ").join(escape(p) for p in parts)
            void_reasons = order._credit_release_problems() if order.credit_block_state == "released" else []
            if void_reasons:
                html += Markup("<div class='mt-1'>%s</div>") % _(
                    "The credit release no longer applies: %(reasons)s",
                    reasons="; ".join(void_reasons),
                )
            if check["failures"] and not check["released"]:
                order.credit_banner_level = "danger"
                html += Markup("<div class='mt-1'><strong>%s</strong><ul class='mb-0'>%s</ul></div>") % (
                    _("Confirming this order will be blocked:"),
                    Markup("").join(Markup("<li>%s</li>") % f["message"] for f in check["failures"]),
                )
            elif check["released"]:
                order.credit_banner_level = "ok"
                html += Markup("<div class='mt-1'>%s</div>") % _(
                    "Released by the credit team; it can be confirmed."
                )
            else:
                order.credit_banner_level = (
                    "ok" if exposure["overdue"] <= 0 and not void_reasons else "warning"
                )
            order.credit_banner_html = html

    # === CRUD === #
    def _credit_privileged(self):
        return self.env.context.get("credit_order_write") is CREDIT_OVERRIDE

    def _credit_protected_error(self):
        return AccessError(
            _("The credit status of an order is set by the credit check and the credit team only.")
        )

    @api.model
    def default_get(self, fields_list):
        # ``default_credit_block_state`` & co. in the context (or a user default) never preset
        # the credit status or a release; a ``default_state`` of a confirmed order is ignored too
        result = super().default_get(fields_list)
        if not self._credit_privileged():
            for fname in ORDER_PROTECTED_FIELDS.intersection(result):
                del result[fname]
            if result.get("state") in CONFIRMED_STATES:
                result["state"] = "draft"
        return result

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            check_computed_vals(self, vals)
        if not self.env.su and not self._credit_privileged():
            for vals in vals_list:
                if any(vals[fname] for fname in ORDER_PROTECTED_FIELDS.intersection(vals)):
                    raise self._credit_protected_error()
                for fname in ORDER_PROTECTED_FIELDS.intersection(vals):
                    del vals[fname]
        orders = super().create(vals_list)
        # an order created confirmed is a confirmation: the same check as action_confirm
        confirmed = orders.filtered(lambda o: o.state in CONFIRMED_STATES)
        if confirmed:
            confirmed._credit_check_confirmation()
        return orders

    def write(self, vals):
        check_computed_vals(self, vals)
        # the block fields are written by the credit check and the credit team's wizards only
        if ORDER_PROTECTED_FIELDS.intersection(vals) and not self.env.su and not self._credit_privileged():
            raise self._credit_protected_error()
        confirming = self.browse()
        if vals.get("state") in CONFIRMED_STATES:
            confirming = self.filtered(lambda o: o.state not in CONFIRMED_STATES)
        released = self.filtered(lambda o: o.credit_block_state == "released")
        # the orders being confirmed are checked as a whole below, not as growing ones
        with (self - confirming)._credit_growth_guard(covered=confirming) as guarded:
            result = super(SaleOrder, guarded | confirming.with_env(guarded.env)).write(vals)
        if confirming:
            # after the write: the check sees the order as written (lines, pricelist, customer)
            confirming._credit_check_confirmation()
        if released:
            released._credit_void_moved_releases()
        return result

    @contextmanager
    def _credit_growth_guard(self, covered=None):
        """Watch the amount of the confirmed orders among ``self`` while the caller changes
        them (yields ``self`` with the watching scope in its context). An order whose amount in
        company currency grew, or that moved to another commercial customer or company, is
        checked again when the caller is done: see :meth:`_credit_check_growth`."""
        scope = self.env.context.get("credit_growth_scope")
        scope_ids = scope.ids if isinstance(scope, _CreditGrowthScope) else frozenset()
        watched = self.browse()
        if self.env.context.get("credit_override") is not CREDIT_OVERRIDE:
            watched = self.filtered(
                lambda o: o.id
                and o.id not in scope_ids
                and o.state in CONFIRMED_STATES
                and o.company_id.credit_check_sale
            )
        new_scope = scope_ids | set(watched.ids) | set(covered.ids if covered else ())
        if new_scope == scope_ids:
            yield self
            return
        before = {order.id: order._credit_growth_snapshot() for order in watched}
        yield self.with_context(credit_growth_scope=_CreditGrowthScope(new_scope))
        if watched:
            watched._credit_check_growth(before)

    def _credit_growth_snapshot(self):
        self.ensure_one()
        return (
            self.partner_id.commercial_partner_id.id,
            self.company_id.id,
            (self.payment_term_id.id, self.partner_invoice_id.commercial_partner_id.id),
            self._credit_amount_company(),
        )

    def _credit_void_moved_releases(self):
        """A release belongs to one commercial customer, company and currency: moved away from
        them, the release is void (recorded as an expiry decision)."""
        for order in self.filtered(lambda o: o.credit_block_state == "released"):
            problems = order._credit_release_problems(binding_only=True)
            if not problems:
                continue
            reason = _("The release is void: %(reasons)s", reasons="; ".join(problems))
            order._credit_log_decision("expiry", order._credit_check(), reason=reason)
            order._credit_write(
                {
                    "credit_block_state": False,
                    "credit_block_message": False,
                    "credit_release_amount": 0.0,
                    "credit_release_date_end": False,
                    "credit_released_by_id": False,
                    "credit_release_partner_id": False,
                    "credit_release_company_id": False,
                    "credit_release_currency_id": False,
                }
            )
            order.message_post(body=reason)

    def _credit_write(self, vals):
        return self.with_context(credit_order_write=CREDIT_OVERRIDE).write(vals)

    # === CONFIRMATION HOOK === #
    def _action_confirm(self):
        # every confirmation path passes here or through ``write({'state': 'sale'})``: orders
        # confirmed without that write (still quotations) are checked here
        unconfirmed = self.filtered(lambda o: o.state not in CONFIRMED_STATES)
        if unconfirmed:
            unconfirmed._credit_check_confirmation()
        result = super()._action_confirm()
        consumed = self.filtered(lambda o: o.credit_block_state)
        if consumed:
            # a release lets one confirmation through; a later growth needs a new release
            consumed._credit_write({"credit_block_state": False, "credit_block_message": False})
        return result

    def action_draft(self):
        result = super().action_draft()
        # a cancelled order set back to quotation is checked again from scratch
        self.filtered("credit_block_state")._credit_write(
            {
                "credit_block_state": False,
                "credit_release_amount": 0.0,
                "credit_release_date_end": False,
                "credit_released_by_id": False,
                "credit_release_partner_id": False,
                "credit_release_company_id": False,
                "credit_release_currency_id": False,
                "credit_block_message": False,
            }
        )
        return result

    # === ACTIONS === #
    def action_credit_confirm(self):
        """The web client's Confirm button: a blocked order is marked and explained in a dialog
        (with a release request) instead of an error; anything else confirms as usual."""
        if not self.company_id.credit_check_sale or len(self) != 1:
            return self.action_confirm()
        self.ensure_one()
        if self.state in ("draft", "sent"):
            # locked as the confirmation's own check locks it: the check below is the one of
            # the confirmation (see _credit_check_confirmation), not a second one
            check = self._credit_check(lock=True)
            if check["failures"] and not check["released"] and not self._credit_is_paid():
                self._credit_record_block(check)
                return self._credit_block_dialog()
            return self.with_context(credit_checked=_CreditChecked(self)).action_confirm()
        return self.action_confirm()

    def action_request_credit_release(self, note=None):
        """Salesperson asks the credit team to release a blocked order."""
        for order in self:
            if order.state not in ("draft", "sent"):
                raise UserError(_("Only quotations can be released by the credit team."))
            manager = order._credit_responsible_manager()
            # the task is read by the credit team: its title and text in the manager's language
            lang = manager.lang if manager else None
            summary = order.with_context(lang=lang or self.env.lang).env._(
                "Credit release requested for %(order)s", order=order.name
            )
            body = _(
                "%(user)s asks for a credit release of %(order)s (%(amount)s).\n%(block)s\n%(note)s",
                user=self.env.user.name,
                order=order.name,
                amount=format_amount(self.env, order.amount_total, order.currency_id),
                block=order.credit_block_message or "",
                note=note or "",
            )
            # the release request is a task of the credit team (credit.task)
            self.env["credit.task"]._create_auto(
                "release_request",
                "release_request",
                order.partner_id,
                summary,
                company=order.company_id,
                team="credit",
                user=manager or None,
                order_id=order,
                date_deadline=fields.Date.context_today(self),
                priority="1",
                description=order._credit_release_task_description(note, lang=lang),
            )
            order._credit_write({"credit_block_state": "requested"})
            order._credit_log_decision("request", order._credit_check(), reason=note)
            order.message_post(body=body)
        return True

    def action_open_credit_block_dialog(self):
        """The order form's Request Credit Release button: the block dialog, with a note for
        the credit team."""
        self.ensure_one()
        return self._credit_block_dialog()

    def action_view_credit_decisions(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("credit_control.credit_decision_action")
        action["domain"] = [("order_id", "=", self.id)]
        action["context"] = {}
        return action

    def action_open_credit_release_wizard(self):
        return self._credit_wizard_action("release")

    def action_open_credit_override_wizard(self):
        return self._credit_wizard_action("override")

    def _credit_wizard_action(self, mode):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Credit Release") if mode == "release" else _("Confirm with Override"),
            "res_model": "credit.order.release",
            "view_mode": "form",
            "target": "new",
            "context": {"default_order_id": self.id, "default_mode": mode},
        }

    def _credit_block_dialog(self):
        return {
            "type": "ir.actions.act_window",
            "name": _("Order Blocked by Credit Control"),
            "res_model": "credit.order.block",
            "view_mode": "form",
            "target": "new",
            "context": {"default_order_id": self.id},
        }

    # === BUSINESS METHODS === #
    def _credit_release(self, reason, date_end=False, amount=None):
        """Credit Manager releases this order (a quotation, or a confirmed order about to grow)
        for ``amount`` in the order's currency (default: its current total). The release is
        bound to the order's commercial customer, company and currency."""
        self.ensure_one()
        self._credit_check_manager()
        if not (reason or "").strip():
            raise UserError(_("A release needs a reason."))
        if date_end and date_end < fields.Date.context_today(self):
            raise UserError(_("The release cannot expire in the past."))
        if self.state not in ("draft", "sent", "sale"):
            raise UserError(_("Only quotations and confirmed orders can be released."))
        if amount is None or not amount:
            amount = self.amount_total
        if self.currency_id.compare_amounts(amount, self.amount_total) < 0:
            raise UserError(
                _(
                    "The released amount cannot be below the order total of %(amount)s.",
                    amount=format_amount(self.env, self.amount_total, self.currency_id),
                )
            )
        self._credit_write(
            {
                "credit_block_state": "released",
                "credit_release_amount": amount,
                "credit_release_date_end": date_end,
                "credit_released_by_id": self.env.user.id,
                "credit_release_partner_id": self.partner_id.commercial_partner_id.id,
                "credit_release_company_id": self.company_id.id,
                "credit_release_currency_id": self.currency_id.id,
            }
        )
        check = self._credit_check()
        decision = self._credit_log_decision("release", check, reason=reason, date_end=date_end)
        message = _(
            "Credit release by %(user)s up to %(amount)s: %(reason)s",
            user=self.env.user.name,
            amount=format_amount(self.env, amount, self.currency_id),
            reason=reason,
        )
        self.message_post(body=message)
        self.partner_id.commercial_partner_id.sudo().message_post(
            body=_("%(order)s: %(message)s", order=self.name, message=message)
        )
        self.env["credit.task"]._close_auto(message, order_id=self)
        self._credit_notify_salesperson("release", reason)
        return decision

    def _credit_override_confirm(self, reason):
        """Credit Manager confirms despite the block, with a reason."""
        self.ensure_one()
        self._credit_check_manager()
        if not (reason or "").strip():
            raise UserError(_("An override needs a reason."))
        check = self._credit_check()
        self._credit_log_decision("override", check, reason=reason)
        message = _(
            "Confirmed by credit override of %(user)s: %(reason)s", user=self.env.user.name, reason=reason
        )
        self.message_post(body=message)
        result = self.with_context(credit_override=CREDIT_OVERRIDE).action_confirm()
        self.env["credit.task"]._close_auto(message, order_id=self)
        self._credit_notify_salesperson("override", reason)
        return result

    def _credit_refuse_release(self, reason):
        """Credit Manager refuses the release a salesperson asked for: the order stays blocked,
        the release task closes and the salesperson is told why."""
        self.ensure_one()
        self._credit_check_manager()
        if not (reason or "").strip():
            raise UserError(_("A refusal needs a reason."))
        if self.state not in ("draft", "sent") or self.credit_block_state not in ("blocked", "requested"):
            raise UserError(_("Only a blocked quotation's release can be refused."))
        self._credit_write({"credit_block_state": "blocked"})
        self._credit_log_decision("refuse", self._credit_check(), reason=reason)
        message = _("Credit release refused by %(user)s: %(reason)s", user=self.env.user.name, reason=reason)
        self.message_post(body=message)
        self.env["credit.task"]._close_auto(message, order_id=self)
        self._credit_notify_salesperson("refuse", reason)
        return True

    def _credit_notify_salesperson(self, decision, reason):
        """The salesperson of the order gets an activity on it, in their own language: the
        release came (``release``), the order was confirmed by override (``override``) or the
        release was refused (``refuse``)."""
        activity_type = self.env.ref("mail.mail_activity_data_todo", raise_if_not_found=False)
        for order in self:
            user = order.user_id
            if not user or not user.active or user.share or user == self.env.user:
                continue
            env = order.with_context(lang=user.lang or self.env.lang).env
            summaries = {
                "release": env._("Credit released: confirm %(order)s", order=order.name),
                "override": env._("%(order)s confirmed by credit override", order=order.name),
                "refuse": env._("Credit release refused for %(order)s", order=order.name),
            }
            order.sudo().activity_schedule(
                activity_type_id=activity_type.id if activity_type else False,
                summary=summaries[decision],
                note=escape(reason or ""),
                user_id=user.id,
            )

    def _credit_release_task_description(self, note, lang=None):
        """The release task's text, written for the credit team (in ``lang``, the manager's
        language): who asks, why the order is blocked and what the team can do from the task."""
        self.ensure_one()
        order = self.with_context(lang=lang or self.env.lang)
        env = order.env
        reasons = order._credit_block_message(order._credit_check(), with_hint=False)
        parts = [
            env._(
                "%(user)s asks for a credit release of %(order)s (%(amount)s).",
                user=env.user.name,
                order=order.name,
                amount=format_amount(env, order.amount_total, order.currency_id),
            ),
            reasons,
        ]
        if note:
            parts.append(env._("Note from sales: %(note)s", note=note))
        parts.append(
            env._(
                "Release the order, confirm it with an override or refuse the release with the "
                "buttons of this task; the salesperson is notified of the decision."
            )
        )
        return Markup("").join(
            Markup("<p>%s</p>") % escape(part).replace("\n", Markup("<br/>")) for part in parts
        )

    def _credit_release_requested_notification(self):
        """The confirmation a salesperson sees after asking for a release."""
        tasks = (
            self.env["credit.task"]
            .sudo()
            .search(
                [("order_id", "in", self.ids), ("task_type", "=", "release_request"), ("is_open", "=", True)]
            )
        )
        managers = tasks.user_id
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "title": _("Release requested"),
                "message": _(
                    "The credit team (%(managers)s) has a task to decide on %(orders)s; you get an "
                    "activity when they have decided.",
                    managers=", ".join(managers.mapped("name")) or _("Credit Managers"),
                    orders=", ".join(self.mapped("name")),
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def _credit_check_manager(self):
        if not self.env.user.has_group("credit_control.credit_control_group_manager"):
            raise AccessError(_("Only a Credit Manager can release or override a credit block."))

    def _credit_responsible_manager(self):
        return responsible_credit_manager(self.env, self.partner_id.commercial_partner_id, self.company_id)

    def _credit_amount_company(self):
        """Order total in company currency at today's rate, as the exposure counts it (not at
        the order date: a salesperson sets that date, and with it the rate)."""
        self.ensure_one()
        return self.currency_id._convert(
            self.amount_total, self.company_id.currency_id, self.company_id, fields.Date.context_today(self)
        )

    def _credit_open_amount_company(self):
        """What of this order is not invoiced yet (as the exposure counts a confirmed order:
        line totals with taxes for the quantity not on an invoice), in company currency at
        today's rate."""
        self.ensure_one()
        total = 0.0
        for line in self.order_line:
            if line.display_type or line.product_uom_qty <= 0 or line.qty_invoiced >= line.product_uom_qty:
                continue
            total += line.price_total * (line.product_uom_qty - line.qty_invoiced) / line.product_uom_qty
        return self.currency_id._convert(
            total, self.company_id.currency_id, self.company_id, fields.Date.context_today(self)
        )

    def _credit_is_prepaid(self):
        self.ensure_one()
        prepayment_term = self.company_id.credit_prepayment_term_id
        if prepayment_term and self.payment_term_id == prepayment_term:
            return True
        return self._credit_is_paid()

    def _credit_is_paid(self):
        """Paid in full through payment transactions (Odoo confirms such orders itself, as
        superuser): no credit is given, so no credit rule applies. Only for that superuser
        confirmation, and only the customer's own transactions in the order's currency count: a
        user may link any transaction to an order (``transaction_ids``)."""
        self.ensure_one()
        if not (self.env.su and self.amount_total):
            return False
        customer = self.partner_id.commercial_partner_id
        paid = sum(
            tx.amount
            for tx in self.transaction_ids
            if tx.state in ("authorized", "done")
            and tx.partner_id.commercial_partner_id == customer
            and tx.currency_id == self.currency_id
        )
        return self.currency_id.compare_amounts(paid, self.amount_total) >= 0

    def _credit_release_problems(self, binding_only=False):
        """Why the release of this order does not cover it (empty: it does)."""
        self.ensure_one()
        problems = []
        if self.credit_block_state != "released":
            return [_("the order is not released")]
        if self.credit_release_partner_id != self.partner_id.commercial_partner_id:
            problems.append(_("it was given for another customer"))
        if self.credit_release_company_id != self.company_id:
            problems.append(_("it was given in another company"))
        if self.credit_release_currency_id != self.currency_id:
            problems.append(_("it was given in another currency"))
        if binding_only:
            return problems
        if self.credit_release_date_end and self.credit_release_date_end < fields.Date.context_today(self):
            problems.append(_("it expired on %(date)s", date=self.credit_release_date_end))
        if (
            self.credit_release_currency_id == self.currency_id
            and self.currency_id.compare_amounts(self.amount_total, self.credit_release_amount) > 0
        ):
            problems.append(
                _(
                    "the order total is above the released %(amount)s",
                    amount=format_amount(self.env, self.credit_release_amount, self.currency_id),
                )
            )
        return problems

    def _credit_release_valid(self):
        self.ensure_one()
        return self.credit_block_state == "released" and not self._credit_release_problems()

    def _credit_check(
        self, lock=False, exclude_orders=None, preceding=0.0, amount=None, exposure=None, memo=None
    ):
        """Evaluate the credit rules for this order in its company.

        Returns ``{"failures": [{"rule", "message"}], "released": bool, "exposure": dict,
        "amount": float, "preceding": float}``; amounts in company currency. With ``lock``, the
        customer's row is updated first so that two transactions confirming orders of the same
        customer are serialised (the second one fails with a serialization error and is retried
        by Odoo, then sees the first order in the exposure). ``exclude_orders`` (default: this
        order) are left out of the exposure; ``preceding`` is the amount of the orders checked
        before this one in the same call (the rules see it added to this order's ``amount``,
        default: the order total). An ``exposure`` computed before for the same customer and
        exclusions is used as it is (neither locked nor read again), with the ``memo`` of the
        rules of that check (``res.partner._credit_rule_memo``)."""
        self.ensure_one()
        order = self.with_company(self.company_id)
        partner = order.partner_id.commercial_partner_id
        if exposure is None:
            if lock:
                self.env.cr.execute(
                    SQL("UPDATE res_partner SET write_date = write_date WHERE id = %s", partner.id)
                )
            exposure = partner._get_credit_exposure(
                exclude_orders=exclude_orders if exclude_orders is not None else order._origin
            )
        if amount is None:
            amount = order._credit_amount_company()
        failures = partner._credit_rule_failures(
            exposure,
            preceding + amount,
            order.payment_term_id,
            is_prepaid=order._credit_is_prepaid,
            document=order,
            memo=memo,
        )
        return {
            "failures": failures,
            "released": order._credit_release_valid(),
            "exposure": exposure,
            "amount": amount,
            "preceding": preceding,
        }

    def _credit_checked_key(self):
        """What a confirmation check of this order depends on besides the customer's exposure
        (locked by the check): if any of it changes, the order is checked again."""
        self.ensure_one()
        return (
            self.id,
            self.partner_id.commercial_partner_id.id,
            self.company_id.id,
            self.currency_id.id,
            self.amount_total,
            self.payment_term_id.id,
            self.credit_block_state,
            self._credit_amount_company(),
        )

    def _credit_groups(self):
        """These orders by commercial customer and company, in id order; the groups in customer
        order, so that concurrent batches lock the customers' rows in the same order."""
        groups = {}
        for order in self.sorted("id"):
            key = (order.partner_id.commercial_partner_id.id, order.company_id.id)
            groups.setdefault(key, self.browse())
            groups[key] |= order
        return [groups[key] for key in sorted(groups)]

    def _credit_check_confirmation(self):
        """The credit check of a confirmation, for all paths (``action_confirm``, a write or
        create of the confirmed state, ``_action_confirm``): the orders of one commercial
        customer and company are checked together, each seeing the ones before it; a blocked
        order raises a UserError for the whole call (recorded as a decision once the
        transaction has rolled back)."""
        if self.env.context.get("credit_override") is CREDIT_OVERRIDE:
            return
        orders = self.filtered(lambda o: o.partner_id and o.company_id.credit_check_sale)
        orders._credit_check_invoice_address()
        checked = self.env.context.get("credit_checked")
        if (
            isinstance(checked, _CreditChecked)
            and len(orders) == 1
            and checked.key == orders._credit_checked_key()
        ):
            # passed the Confirm button's check a moment ago, in this transaction, unchanged
            return
        blocked = orders._credit_check_grouped(exclude_group=False)
        if blocked:
            self._credit_raise_block(blocked, "confirm")

    def _credit_check_grouped(self, exclude_group, amount=None):
        """Check the orders of each commercial customer and company together, each seeing the
        amounts of the ones before it that pass; the customer's row is locked and its exposure
        read once per group (the lock serialises concurrent confirmations of the customer).
        ``exclude_group``: leave the whole group out of the exposure (else only a group of
        several orders is left out); ``amount``: a function giving an order's amount to check
        (default: its total). Returns the blocked ``(order, check, passed before it)``."""
        blocked = []
        for group in self._credit_groups():
            preceding = 0.0
            passed = self.browse()
            exclude = group._origin if exclude_group or len(group) > 1 else None
            exposure = None
            memo = {}
            for order in group:
                check = order._credit_check(
                    lock=True,
                    exclude_orders=exclude,
                    preceding=preceding,
                    amount=amount(order) if amount else None,
                    exposure=exposure,
                    memo=memo,
                )
                exposure = check["exposure"]
                if check["failures"] and not check["released"] and not order._credit_is_paid():
                    blocked.append((order, check, passed))
                else:
                    # a blocked order is not confirmed: the orders after it do not count it
                    passed |= order
                    preceding += check["amount"]
        return blocked

    def _credit_check_invoice_address(self):
        """The check is about the customer who is invoiced: an order's invoice address must
        belong to its customer (commercial entity), else another customer (on hold, over its
        limit) would get credit unchecked. A Credit Manager confirms such an order (override)."""
        if self.env.context.get("credit_override") is CREDIT_OVERRIDE:
            return
        for order in self:
            invoiced = order.partner_invoice_id.commercial_partner_id
            if invoiced and invoiced != order.partner_id.commercial_partner_id:
                raise UserError(
                    _(
                        "%(order)s cannot be confirmed (credit control): its invoice address "
                        "%(address)s belongs to another customer than %(customer)s. Invoice the "
                        "customer itself, or ask a Credit Manager to confirm it.",
                        order=order.name,
                        address=order.partner_invoice_id.display_name,
                        customer=order.partner_id.commercial_partner_id.display_name,
                    )
                )

    def _credit_check_growth(self, before):
        """Confirmed orders after a change: an order whose amount grew (in company currency)
        or that moved to another commercial customer or company is checked like a new order
        of what is not invoiced of it yet, unless a valid release covers its new total.
        Decreases always pass."""
        to_check = self.browse()
        for order in self.exists():
            partner_id, company_id, term_id, amount = before[order.id]
            # another payment term or invoiced customer counts as a move: the check passed for
            # the ones it saw
            moved = (partner_id, company_id, term_id) != (
                order.partner_id.commercial_partner_id.id,
                order.company_id.id,
                (order.payment_term_id.id, order.partner_invoice_id.commercial_partner_id.id),
            )
            grown = order.company_id.currency_id.compare_amounts(order._credit_amount_company(), amount) > 0
            if (moved or grown) and order.state in CONFIRMED_STATES:
                to_check |= order
        if not to_check:
            return
        to_check._credit_check_invoice_address()
        to_check.flush_recordset()
        to_check.order_line.flush_recordset()
        blocked = to_check._credit_check_grouped(
            exclude_group=True, amount=lambda order: order._credit_open_amount_company()
        )
        if blocked:
            self._credit_raise_block(blocked, "grow")

    def _credit_raise_block(self, blocked, kind):
        """Raise the UserError of a refused confirmation or growth; the block decisions are
        written after the rollback of this transaction (``cr.postrollback``), in a transaction
        of their own, so that RPC clients, automations and imports leave a trace too."""
        messages = []
        entries = []
        for order, check, preceding_orders in blocked:
            if kind == "grow":
                message = order._credit_growth_message(check)
            else:
                message = order._credit_block_message(check, preceding_orders)
            messages.append(message)
            entries.append(
                {
                    "kind": kind,
                    "message": message,
                    "was_released": order.credit_block_state == "released",
                    "vals": self.env["credit.decision"]._prepare_vals("block", check, order),
                }
            )
        self.env.cr.postrollback.add(
            partial(_record_blocks_after_rollback, self.env.registry, self.env.uid, entries)
        )
        raise UserError("\n\n".join(messages))

    def _credit_block_message(self, check, preceding_orders=None, with_hint=True):
        """The reasons of a block; ``with_hint``: end with what to do next (the error of an RPC
        client; the web client's block dialog and the release task say it themselves)."""
        lines = [_("%(order)s cannot be confirmed (credit control):", order=self.name)]
        if preceding_orders:
            lines.append(
                _(
                    "Checked together with %(orders)s of the same customer, confirmed in the same "
                    "call (%(amount)s before this order).",
                    orders=", ".join(preceding_orders.mapped("name")),
                    amount=format_amount(self.env, check["preceding"], self.company_id.currency_id),
                )
            )
        lines += ["- " + failure["message"] for failure in check["failures"]]
        if self.credit_block_state == "released":
            problems = self._credit_release_problems()
            if problems:
                lines.append(
                    _("The credit release no longer applies: %(reasons)s", reasons="; ".join(problems))
                )
        if with_hint:
            lines.append(_("Request a credit release from the credit team."))
        return "\n".join(lines)

    def _credit_growth_message(self, check):
        lines = [
            _(
                "%(order)s is confirmed; it cannot grow to %(amount)s (credit control):",
                order=self.name,
                amount=format_amount(self.env, self.amount_total, self.currency_id),
            )
        ]
        lines += ["- " + failure["message"] for failure in check["failures"]]
        lines.append(_("A Credit Manager can release the order for the new amount first."))
        return "\n".join(lines)

    def _credit_record_block(self, check):
        """Mark the order blocked and write the decision (web client path)."""
        self.ensure_one()
        message = self._credit_block_message(check, with_hint=False)
        if self.credit_block_state == "released":
            # a release that no longer covers the order (grown amount or expired)
            self._credit_log_decision("expiry", check, reason=_("The release no longer covers this order."))
        self._credit_write({"credit_block_state": "blocked", "credit_block_message": message})
        self._credit_log_decision("block", check)
        self.message_post(body=message)

    def _credit_log_decision(self, decision_type, check, reason=None, date_end=False):
        return self.env["credit.decision"]._record(
            decision_type, check, self, reason=reason, date_end=date_end
        )
