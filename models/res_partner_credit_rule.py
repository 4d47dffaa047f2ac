from odoo import _, models
from odoo.tools import format_amount


class ResPartner(models.Model):
    """The credit rules, an extension hook: :meth:`_credit_rules` lists the rule methods, each
    gets the facts of one check and returns its failure or nothing. The order check, the invoice
    check on posting and the order's credit banner evaluate them through
    :meth:`_credit_rule_failures`. README, "Extension points", shows a rule added by another
    module."""

    _inherit = "res.partner"

    # === BUSINESS METHODS === #
    def _credit_rules(self):
        """Names of the rule methods, in the order they are evaluated (the first failure is the
        one a credit decision records). Another module adds, removes or replaces a rule by
        overriding this list and defining the method: ``_credit_rule_<key>(facts)`` returns
        ``None`` or ``{"rule": key, "message": text, "figures": dict}``; ``facts`` is made by
        :meth:`_credit_rule_facts`."""
        return [
            "_credit_rule_hold",
            "_credit_rule_limit",
            "_credit_rule_overdue",
            "_credit_rule_payment_term",
            "_credit_rule_new_customer",
            "_credit_rule_dunning",
        ]

    def _credit_rule_failures(
        self, exposure, amount, payment_term, is_prepaid=None, document=None, memo=None
    ):
        """The credit rules a new document of ``amount`` (company currency) breaks for this
        customer in the current company: a list of ``{"rule", "message", "figures"}``, empty when
        it may go through. ``exposure`` is :meth:`_get_credit_exposure` without the document
        itself; ``is_prepaid`` (a callable, asked only when the limit would be exceeded) tells
        whether the document is paid in advance; ``document`` is the order or invoice checked
        (for rules that look at it; may be empty); ``memo`` a dict shared by the checks of one
        customer's documents in one call (see :meth:`_credit_rule_memo`)."""
        self.ensure_one()
        facts = self._credit_rule_facts(exposure, amount, payment_term, is_prepaid, document)
        facts["memo"] = {} if memo is None else memo
        failures = []
        for name in self._credit_rules():
            failure = getattr(self, name)(facts)
            if failure:
                failure.setdefault("figures", {})
                failures.append(failure)
        return failures

    def _credit_rule_facts(self, exposure, amount, payment_term, is_prepaid, document):
        """What every rule gets: the commercial customer (``partner``; ``profile`` is the same
        record as superuser, to read the credit team's fields), ``rating``, ``company``,
        ``currency`` (the company's), ``exposure``, ``amount``, ``payment_term``, ``is_prepaid``,
        ``document`` (and ``memo``). A module may add its own keys here."""
        company = self.env.company
        partner = self.commercial_partner_id
        profile = partner.sudo()
        # only the fields the rules read: reading one company-dependent field would otherwise
        # fetch all ~40 of them (each column costs a default lookup to build the query)
        profile.fetch(self._credit_rule_fields())
        return {
            "partner": partner,
            "profile": profile,
            "rating": profile.credit_rating_id,
            "company": company,
            "currency": company.currency_id,
            "exposure": exposure,
            "amount": amount,
            "payment_term": payment_term,
            "is_prepaid": is_prepaid,
            "document": document,
        }

    def _credit_rule_fields(self):
        """Fields of the commercial customer the rules read, fetched together before they run
        (a rule reading other fields works too, at the cost of its own query)."""
        return ["credit_hold", "credit_hold_reason", "credit_rating_id"]

    def _credit_rule_memo(self, facts, key, compute):
        """``compute()``, called once for all the documents of this customer checked in one call
        (a batch confirmation): for what a rule reads about the customer, not the document."""
        memo = facts["memo"]
        if key not in memo:
            memo[key] = compute()
        return memo[key]

    def _credit_rule_amount(self, value):
        """``value`` (company currency) formatted for a rule's message."""
        return format_amount(self.env, value, self.env.company.currency_id)

    # --- the rules --- #
    def _credit_rule_hold(self, facts):
        profile = facts["profile"]
        if not profile.credit_hold:
            return None
        return {
            "rule": "hold",
            "message": _(
                "%(customer)s is on credit hold: %(reason)s",
                customer=facts["partner"].display_name,
                reason=profile.credit_hold_reason or "",
            ),
            "figures": {"reason": profile.credit_hold_reason or ""},
        }

    def _credit_rule_limit(self, facts):
        company, currency, exposure, amount = (
            facts["company"],
            facts["currency"],
            facts["exposure"],
            facts["amount"],
        )
        limit = exposure["limit"]
        if limit is None and company.credit_no_limit_policy == "no_credit":
            limit = 0.0
        if limit is None:
            return None
        counted = exposure["receivable"]
        if company.credit_count_draft_invoices:
            counted += exposure["draft_invoices"]
        if company.credit_count_uninvoiced_orders:
            counted += exposure["uninvoiced_orders"]
        allowed = limit * (1 + (company.credit_limit_tolerance or 0.0) / 100.0)
        if currency.compare_amounts(counted + amount, allowed) <= 0:
            return None
        # paid in advance (asked last: reading the payments costs queries)
        is_prepaid = facts["is_prepaid"]
        if is_prepaid and is_prepaid():
            return None
        fmt = self._credit_rule_amount
        return {
            "rule": "limit",
            "message": _(
                "Exposure %(exposure)s plus this document %(amount)s = %(total)s exceeds "
                "the credit limit of %(limit)s (available: %(available)s).",
                exposure=fmt(counted),
                amount=fmt(amount),
                total=fmt(counted + amount),
                limit=fmt(limit),
                available=fmt(limit - counted),
            ),
            "figures": {"exposure": counted, "amount": amount, "limit": limit, "allowed": allowed},
        }

    def _credit_rule_overdue(self, facts):
        rating, company, currency, exposure = (
            facts["rating"],
            facts["company"],
            facts["currency"],
            facts["exposure"],
        )
        if exposure["overdue"] <= 0:
            return None
        if rating:
            tolerance_days, tolerance_amount = rating.overdue_tolerance_days, rating.overdue_tolerance_amount
        else:
            tolerance_days = company.credit_overdue_tolerance_days
            tolerance_amount = company.credit_overdue_tolerance_amount or None
            if not (tolerance_days or tolerance_amount):
                return None
        if not (
            exposure["overdue_days"] > tolerance_days
            or (
                tolerance_amount is not None
                and currency.compare_amounts(exposure["overdue"], tolerance_amount) > 0
            )
        ):
            return None
        fmt = self._credit_rule_amount
        return {
            "rule": "overdue",
            "message": _(
                "Overdue items of %(amount)s, the oldest %(days)s days overdue, are beyond "
                "the tolerance of %(tol_days)s days / %(tol_amount)s.",
                amount=fmt(exposure["overdue"]),
                days=exposure["overdue_days"],
                tol_days=tolerance_days,
                tol_amount=fmt(tolerance_amount) if tolerance_amount is not None else _("any amount"),
            ),
            "figures": {
                "overdue": exposure["overdue"],
                "overdue_days": exposure["overdue_days"],
                "tolerance_days": tolerance_days,
                "tolerance_amount": tolerance_amount,
            },
        }

    def _credit_rule_payment_term(self, facts):
        rating = facts["rating"]
        if not rating.payment_term_id or facts["payment_term"] == rating.payment_term_id:
            return None
        return {
            "rule": "payment_term",
            "message": _(
                "Rating %(rating)s requires the payment term %(term)s.",
                rating=rating.display_name,
                term=rating.payment_term_id.display_name,
            ),
            "figures": {"payment_term_id": rating.payment_term_id.id},
        }

    def _credit_rule_new_customer(self, facts):
        company = facts["company"]
        if not (
            company.credit_new_customer_check
            and facts["currency"].compare_amounts(facts["amount"], company.credit_new_customer_amount) > 0
            and not self._credit_rule_memo(facts, "has_done_check", facts["partner"]._credit_has_done_check)
        ):
            return None
        return {
            "rule": "new_customer",
            "message": _(
                "Orders above %(amount)s for a customer without a completed credit check need a check first.",
                amount=self._credit_rule_amount(company.credit_new_customer_amount),
            ),
            "figures": {"amount": facts["amount"], "threshold": company.credit_new_customer_amount},
        }

    def _credit_rule_dunning(self, facts):
        if not self._credit_rule_memo(
            facts, "dunning_blocks", facts["partner"]._credit_dunning_blocks_orders
        ):
            return None
        return {
            "rule": "dunning",
            "message": _("The customer has invoices at a dunning level that blocks new orders."),
        }
