from markupsafe import Markup, escape

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL, format_amount

# Server-side sentinel for a Credit Manager's override: only the override wizard, after its
# own group check, confirms with ``credit_override=CREDIT_OVERRIDE`` in the context.
CREDIT_OVERRIDE = object()


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
        string="Released Amount", copy=False, readonly=True, help="Order total the release covers."
    )
    credit_release_date_end = fields.Date(string="Release Valid Until", copy=False, readonly=True)
    credit_released_by_id = fields.Many2one("res.users", string="Released By", copy=False, readonly=True)
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
        "partner_id", "amount_total", "payment_term_id", "currency_id", "state", "credit_block_state"
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
                order.credit_banner_level = "ok" if exposure["overdue"] <= 0 else "warning"
            order.credit_banner_html = html

    # === CRUD === #
    def write(self, vals):
        # the block fields are written by the credit check and the credit team's wizards only
        protected = {
            "credit_block_state",
            "credit_release_amount",
            "credit_release_date_end",
            "credit_released_by_id",
        }.intersection(vals)
        if (
            protected
            and not self.env.su
            and self.env.context.get("credit_order_write") is not CREDIT_OVERRIDE
        ):
            raise AccessError(
                _("The credit status of an order is set by the credit check and the credit team only.")
            )
        return super().write(vals)

    def _credit_write(self, vals):
        return self.with_context(credit_order_write=CREDIT_OVERRIDE).write(vals)

    # === CONFIRMATION HOOK === #
    def _confirmation_error_message(self):
        error = super()._confirmation_error_message()
        if error or not self.company_id.credit_check_sale:
            return error
        if self.env.context.get("credit_override") is CREDIT_OVERRIDE:
            return False
        check = self._credit_check(lock=True)
        if check["failures"] and not check["released"]:
            return self._credit_block_message(check)
        return False

    def _action_confirm(self):
        result = super()._action_confirm()
        released = self.filtered(lambda o: o.credit_block_state)
        if released:
            released._credit_write({"credit_block_state": False, "credit_block_message": False})
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
            check = self._credit_check()
            if check["failures"] and not check["released"]:
                self._credit_record_block(check)
                return self._credit_block_dialog()
        return self.action_confirm()

    def action_request_credit_release(self, note=None):
        """Salesperson asks the credit team to release a blocked order."""
        for order in self:
            if order.state not in ("draft", "sent"):
                raise UserError(_("Only quotations can be released by the credit team."))
            manager = order._credit_responsible_manager()
            summary = _("Credit release requested for %(order)s", order=order.name)
            body = _(
                "%(user)s asks for a credit release of %(order)s (%(amount)s).\n%(block)s\n%(note)s",
                user=self.env.user.name,
                order=order.name,
                amount=format_amount(self.env, order.amount_total, order.currency_id),
                block=order.credit_block_message or "",
                note=note or "",
            )
            # the release request is a task of the credit team (credit.task, issue #7)
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
                description=Markup("<p>%s</p>") % escape(body).replace("\n", Markup("<br/>")),
            )
            order._credit_write({"credit_block_state": "requested"})
            order._credit_log_decision("request", order._credit_check(), reason=note)
            order.message_post(body=body)
        return True

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
    def _credit_release(self, reason, date_end=False):
        """Credit Manager releases this order for its current amount."""
        self.ensure_one()
        self._credit_check_manager()
        if not (reason or "").strip():
            raise UserError(_("A release needs a reason."))
        if date_end and date_end < fields.Date.context_today(self):
            raise UserError(_("The release cannot expire in the past."))
        self._credit_write(
            {
                "credit_block_state": "released",
                "credit_release_amount": self.amount_total,
                "credit_release_date_end": date_end,
                "credit_released_by_id": self.env.user.id,
            }
        )
        check = self._credit_check()
        decision = self._credit_log_decision("release", check, reason=reason, date_end=date_end)
        message = _("Credit release by %(user)s: %(reason)s", user=self.env.user.name, reason=reason)
        self.message_post(body=message)
        self.partner_id.commercial_partner_id.sudo().message_post(
            body=_("%(order)s: %(message)s", order=self.name, message=message)
        )
        self.env["credit.task"]._close_auto(message, order_id=self)
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
        return result

    def _credit_check_manager(self):
        if not self.env.user.has_group("credit_control.credit_control_group_manager"):
            raise AccessError(_("Only a Credit Manager can release or override a credit block."))

    def _credit_responsible_manager(self):
        manager = self.partner_id.commercial_partner_id.sudo().credit_manager_id
        if manager:
            return manager
        group = self.env.ref("credit_control.credit_control_group_manager")
        return group.sudo().users.filtered(
            lambda u: not u.share and u.active and self.company_id in u.company_ids and u.id != 1
        )[:1]

    def _credit_amount_company(self):
        """Order total in company currency at the order date."""
        self.ensure_one()
        return self.currency_id._convert(
            self.amount_total,
            self.company_id.currency_id,
            self.company_id,
            fields.Date.to_date(self.date_order) or fields.Date.context_today(self),
        )

    def _credit_is_prepaid(self):
        self.ensure_one()
        prepayment_term = self.company_id.credit_prepayment_term_id
        if prepayment_term and self.payment_term_id == prepayment_term:
            return True
        return self.currency_id.compare_amounts(self.amount_paid or 0.0, self.amount_total) >= 0 and bool(
            self.amount_total
        )

    def _credit_release_valid(self):
        self.ensure_one()
        if self.credit_block_state != "released":
            return False
        if self.credit_release_date_end and self.credit_release_date_end < fields.Date.context_today(self):
            return False
        return self.currency_id.compare_amounts(self.amount_total, self.credit_release_amount) <= 0

    def _credit_check(self, lock=False):
        """Evaluate the credit rules for this order in its company.

        Returns ``{"failures": [{"rule", "message"}], "released": bool, "exposure": dict,
        "amount": float}``; amounts in company currency. With ``lock``, the customer's row is
        updated first so that two transactions confirming orders of the same customer are
        serialised (the second one fails with a serialization error and is retried by Odoo,
        then sees the first order in the exposure)."""
        self.ensure_one()
        order = self.with_company(self.company_id)
        partner = order.partner_id.commercial_partner_id
        if lock:
            self.env.cr.execute(
                SQL("UPDATE res_partner SET write_date = write_date WHERE id = %s", partner.id)
            )
        exposure = partner._get_credit_exposure(exclude_orders=order._origin)
        amount = order._credit_amount_company()
        failures = partner._credit_rule_failures(
            exposure, amount, order.payment_term_id, is_prepaid=order._credit_is_prepaid
        )
        return {
            "failures": failures,
            "released": order._credit_release_valid(),
            "exposure": exposure,
            "amount": amount,
        }

    def _credit_block_message(self, check):
        lines = [_("%(order)s cannot be confirmed (credit control):", order=self.name)]
        lines += ["- " + failure["message"] for failure in check["failures"]]
        lines.append(_("Request a credit release from the credit team."))
        return "\n".join(lines)

    def _credit_record_block(self, check):
        """Mark the order blocked and write the decision (web client path)."""
        self.ensure_one()
        message = self._credit_block_message(check)
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
