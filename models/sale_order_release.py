from markupsafe import Markup, escape

from odoo import _, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import format_amount

from ..lib.responsible import responsible_credit_manager
from .sale_order import CREDIT_OVERRIDE


class SaleOrder(models.Model):
    _inherit = "sale.order"

    # === ACTIONS === #
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
            # with what is delivered beyond the order (invoiced as delivered)
            and self.currency_id.compare_amounts(
                self.amount_total + self._credit_delivered_excess(), self.credit_release_amount
            )
            > 0
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
