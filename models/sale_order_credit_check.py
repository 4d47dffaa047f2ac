from functools import partial

from odoo import _, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_compare, format_amount

from .sale_order import CONFIRMED_STATES, CREDIT_OVERRIDE, _CreditChecked, _record_blocks_after_rollback


class SaleOrder(models.Model):
    _inherit = "sale.order"

    # === BUSINESS METHODS === #
    def _credit_amount_company(self):
        """Order total in company currency at today's rate, as the exposure counts it (not at
        the order date: a salesperson sets that date, and with it the rate)."""
        self.ensure_one()
        return self.currency_id._convert(
            self.amount_total, self.company_id.currency_id, self.company_id, fields.Date.context_today(self)
        )

    def _credit_open_amount_company(self):
        """What of this order is not invoiced yet (as the exposure counts a confirmed order:
        line totals with taxes for the quantity not on an invoice; and what is delivered beyond
        the ordered quantity and not invoiced), in company currency at today's rate."""
        self.ensure_one()
        total = self._credit_delivered_excess(open_only=True)
        for line in self.order_line:
            if line.display_type or line.product_uom_qty <= 0 or line.qty_invoiced >= line.product_uom_qty:
                continue
            total += line.price_total * (line.product_uom_qty - line.qty_invoiced) / line.product_uom_qty
        return self.currency_id._convert(
            total, self.company_id.currency_id, self.company_id, fields.Date.context_today(self)
        )

    def _credit_delivered_excess(self, open_only=False):
        """What is delivered beyond the ordered quantities of products invoiced as delivered
        (with taxes, order currency): a quantity delivered written by hand is invoiced, credit
        that the confirmation's check never saw. ``open_only``: what of it is not invoiced yet."""
        self.ensure_one()
        total = 0.0
        # the quantities first: the product is read only for a line delivered beyond its order
        for line in self.order_line.filtered(lambda line: line.qty_delivered > line.product_uom_qty):
            if line.display_type or line.product_id.invoice_policy != "delivery":
                continue
            base = max(line.product_uom_qty, line.qty_invoiced) if open_only else line.product_uom_qty
            excess = line.qty_delivered - base
            if float_compare(excess, 0.0, precision_rounding=line.product_uom.rounding or 0.001) <= 0:
                continue
            price = line.price_unit * (1.0 - (line.discount or 0.0) / 100.0)
            total += line.tax_id.compute_all(
                price, line.currency_id, excess, product=line.product_id, partner=self.partner_shipping_id
            )["total_included"]
        return total

    def _credit_committed_amount_company(self):
        """The order total and what is delivered beyond it, in company currency at today's rate:
        the amount a confirmed order may not grow above without a credit check."""
        self.ensure_one()
        excess = self._credit_delivered_excess()
        if not excess:
            return self._credit_amount_company()
        return self.currency_id._convert(
            self.amount_total + excess,
            self.company_id.currency_id,
            self.company_id,
            fields.Date.context_today(self),
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

    def _credit_check(
        self, lock=False, exclude_orders=None, preceding=0.0, amount=None, exposure=None, memo=None
    ):
        """Evaluate the credit rules for this order in its company.

        Returns ``{"failures": [{"rule", "message"}], "released": bool, "exposure": dict,
        "amount": float, "preceding": float}``; amounts in company currency. With ``lock``, the
        customer's row is updated (in the exposure's statement) so that two transactions
        confirming orders of the same customer are serialised (the second one fails with a
        serialization error and is retried by Odoo, then sees the first order in the exposure).
        ``exclude_orders`` (default: this order) are left out of the exposure; ``preceding`` is
        the amount of the orders checked before this one in the same call (the rules see it
        added to this order's ``amount``, default: the order total). An ``exposure`` computed
        before for the same customer and exclusions is used as it is (neither locked nor read
        again), with the ``memo`` of the rules of that check (``res.partner._credit_rule_memo``)."""
        self.ensure_one()
        order = self.with_company(self.company_id)
        partner = order.partner_id.commercial_partner_id
        if exposure is None:
            # with ``lock``, the customer's row is updated by the exposure statement itself
            exposure = partner._get_credit_exposure(
                exclude_orders=exclude_orders if exclude_orders is not None else order._origin, lock=lock
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
            self._credit_committed_amount_company(),
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
        # with what is delivered beyond the order: a quantity delivered written on a quotation
        # is invoiced once it is confirmed
        blocked = orders._credit_check_grouped(
            exclude_group=False, amount=lambda order: order._credit_committed_amount_company()
        )
        if blocked:
            self._credit_raise_block(blocked, "confirm")

    def _credit_check_down_payment(self):
        """A down payment invoice of a quotation (``sale.advance.payment.inv``; Odoo's form
        offers it for confirmed orders only, a client can ask for it on any order) bills the
        customer before the confirmation: the quotation must pass the confirmation's credit
        check, or be released, first. Confirmed orders are invoiced as usual."""
        if self.env.context.get("credit_override") is CREDIT_OVERRIDE:
            return
        orders = self.filtered(
            lambda o: o.state not in CONFIRMED_STATES and o.partner_id and o.company_id.credit_check_sale
        )
        if not orders:
            return
        orders._credit_check_invoice_address()
        blocked = orders._credit_check_grouped(exclude_group=False)
        if blocked:
            self._credit_raise_block(blocked, "down_payment")

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
            if order.state not in CONFIRMED_STATES or not order.company_id.credit_check_sale:
                continue
            moved = (partner_id, company_id, term_id) != (
                order.partner_id.commercial_partner_id.id,
                order.company_id.id,
                (order.payment_term_id.id, order.partner_invoice_id.commercial_partner_id.id),
            )
            grown = (
                order.company_id.currency_id.compare_amounts(order._credit_committed_amount_company(), amount)
                > 0
            )
            if moved or grown:
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
            elif kind == "down_payment":
                message = order._credit_block_message(
                    check,
                    preceding_orders,
                    header=_(
                        "%(order)s cannot get a down payment invoice (credit control):", order=order.name
                    ),
                )
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

    def _credit_block_message(self, check, preceding_orders=None, with_hint=True, header=None):
        """The reasons of a block; ``with_hint``: end with what to do next (the error of an RPC
        client; the web client's block dialog and the release task say it themselves);
        ``header``: the first line (default: the order cannot be confirmed)."""
        lines = [header or _("%(order)s cannot be confirmed (credit control):", order=self.name)]
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
                amount=format_amount(
                    self.env, self.amount_total + self._credit_delivered_excess(), self.currency_id
                ),
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
