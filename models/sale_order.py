import logging
from contextlib import contextmanager

from markupsafe import Markup, escape

from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import format_amount

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


# Stored computed amounts and quantities the credit check and the exposure read (order totals,
# line totals, invoiced quantities and amounts). Other computed fields stay writable as in core
# Odoo: its own code and tests write some of them (an order's currency, a line's quantity to
# invoice when a paid order is invoiced automatically, its delivery method), and a value
# written there is the one the order is invoiced with, so the check sees what the customer owes.
CREDIT_COMPUTED_FIELDS = {
    "sale.order": frozenset(
        {"amount_total", "amount_untaxed", "amount_tax", "amount_to_invoice", "amount_invoiced"}
    ),
    "sale.order.line": frozenset(
        {
            "price_total",
            "price_subtotal",
            "price_tax",
            "price_reduce_taxexcl",
            "price_reduce_taxinc",
            "qty_invoiced",
            "untaxed_amount_invoiced",
            "untaxed_amount_to_invoice",
            "amount_to_invoice",
            "amount_invoiced",
        }
    ),
}


def check_computed_vals(records, vals):
    """The amounts and quantities the ORM computes and the credit check reads
    (``CREDIT_COMPUTED_FIELDS``) are written by no client: an order's total set to 1 by RPC would
    pass any limit while its lines are invoiced in full. Refused for all but the superuser."""
    if records.env.su:
        return
    fields_ = records._fields
    written = [
        name
        for name in CREDIT_COMPUTED_FIELDS.get(records._name, ()).intersection(vals)
        if name in fields_ and fields_[name].compute and not fields_[name].inverse
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
        # the payment term a release was given with (see _credit_void_moved_releases)
        released_terms = {order.id: order.payment_term_id for order in released}
        # the orders being confirmed are checked as a whole below, not as growing ones
        with (self - confirming)._credit_growth_guard(covered=confirming) as guarded:
            result = super(SaleOrder, guarded | confirming.with_env(guarded.env)).write(vals)
        if confirming:
            # after the write: the check sees the order as written (lines, pricelist, customer)
            confirming._credit_check_confirmation()
            # a release lets one confirmation through, by whatever path (also this write): set
            # back to quotation and confirmed again, the order is checked again
            confirming._credit_consume_release()
        if released:
            released._credit_void_moved_releases(released_terms)
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
            # also the orders of a company without the credit check: moved to a company with
            # it, they are checked there (the company after the change decides)
            watched = self.filtered(lambda o: o.id and o.id not in scope_ids and o.state in CONFIRMED_STATES)
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
            self._credit_committed_amount_company(),
        )

    def _credit_void_moved_releases(self, released_terms=None):
        """A release belongs to one commercial customer, company and currency, and to the
        payment term the order had when it was given (``released_terms``: order id -> term
        before the change): moved away from them, the release is void (recorded as an expiry
        decision)."""
        released_terms = released_terms or {}
        for order in self.filtered(lambda o: o.credit_block_state == "released"):
            problems = order._credit_release_problems(binding_only=True)
            if order.id in released_terms and released_terms[order.id] != order.payment_term_id:
                problems.append(_("it was given for another payment term"))
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
        self._credit_consume_release()
        return result

    def _credit_consume_release(self):
        """A release lets one confirmation through; a later growth or confirmation needs a new
        release (the released amount and who released stay on the order)."""
        consumed = self.filtered(lambda o: o.credit_block_state)
        if consumed:
            consumed._credit_write({"credit_block_state": False, "credit_block_message": False})

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
            check = self._credit_check(lock=True, amount=self._credit_committed_amount_company())
            if check["failures"] and not check["released"] and not self._credit_is_paid():
                self._credit_record_block(check)
                return self._credit_block_dialog()
            return self.with_context(credit_checked=_CreditChecked(self)).action_confirm()
        return self.action_confirm()

    def action_view_credit_decisions(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("credit_control.credit_decision_action")
        action["domain"] = [("order_id", "=", self.id)]
        action["context"] = {}
        return action

    # === BUSINESS METHODS === #
