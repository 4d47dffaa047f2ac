from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL, float_round, format_amount

from .res_partner import CREDIT_READ_GROUPS


class ResPartner(models.Model):
    _inherit = "res.partner"

    # === FIELDS: live exposure (company currency, current company) === #
    credit_currency_id = fields.Many2one("res.currency", compute="_compute_credit_currency_id")
    credit_receivable = fields.Monetary(
        string="Open Receivables",
        compute="_compute_credit_exposure",
        currency_field="credit_currency_id",
        groups=CREDIT_READ_GROUPS,
    )
    credit_overdue_amount = fields.Monetary(
        string="Overdue",
        compute="_compute_credit_exposure",
        currency_field="credit_currency_id",
        groups=CREDIT_READ_GROUPS,
    )
    credit_overdue_days = fields.Integer(
        string="Oldest Overdue (Days)", compute="_compute_credit_exposure", groups=CREDIT_READ_GROUPS
    )
    credit_draft_invoices = fields.Monetary(
        string="Draft Invoices",
        compute="_compute_credit_exposure",
        currency_field="credit_currency_id",
        groups=CREDIT_READ_GROUPS,
    )
    credit_uninvoiced_orders = fields.Monetary(
        string="Orders Not Invoiced",
        compute="_compute_credit_exposure",
        currency_field="credit_currency_id",
        groups=CREDIT_READ_GROUPS,
    )
    credit_exposure = fields.Monetary(
        string="Total Exposure",
        compute="_compute_credit_exposure",
        currency_field="credit_currency_id",
        groups=CREDIT_READ_GROUPS,
    )
    credit_has_limit = fields.Boolean(
        string="Has a Credit Limit",
        compute="_compute_credit_exposure",
        groups=CREDIT_READ_GROUPS,
        help="A credit limit applies: the customer's own or the company's default limit.",
    )
    credit_limit_in_force = fields.Monetary(
        string="Limit in Force",
        compute="_compute_credit_exposure",
        currency_field="credit_currency_id",
        groups=CREDIT_READ_GROUPS,
        help="The customer's own credit limit, else the company's default credit limit.",
    )
    credit_available = fields.Monetary(
        string="Available Credit",
        compute="_compute_credit_exposure",
        currency_field="credit_currency_id",
        groups=CREDIT_READ_GROUPS,
    )
    credit_usage = fields.Float(
        string="Limit Used (%)", compute="_compute_credit_exposure", groups=CREDIT_READ_GROUPS
    )
    credit_over_limit = fields.Boolean(
        string="Over Limit",
        compute="_compute_credit_exposure",
        search="_search_credit_over_limit",
        groups=CREDIT_READ_GROUPS,
    )

    # === COMPUTE === #
    @api.depends_context("company")
    def _compute_credit_currency_id(self):
        self.credit_currency_id = self.env.company.currency_id

    @api.depends_context("company")
    def _compute_credit_exposure(self):
        exposures = self._get_credit_exposures()
        rows = [exposures[partner.commercial_partner_id.id] for partner in self]
        # values are already rounded to the company currency: fill the cache in bulk
        # (per-record assignment would convert every amount again)
        cache = self.env.cache
        for field_name, key, empty in (
            ("credit_receivable", "receivable", 0.0),
            ("credit_overdue_amount", "overdue", 0.0),
            ("credit_overdue_days", "overdue_days", 0),
            ("credit_draft_invoices", "draft_invoices", 0.0),
            ("credit_uninvoiced_orders", "uninvoiced_orders", 0.0),
            ("credit_exposure", "total", 0.0),
            ("credit_available", "available", 0.0),
            ("credit_usage", "usage", 0.0),
            ("credit_over_limit", "over_limit", False),
            ("credit_limit_in_force", "limit", 0.0),
        ):
            cache.update(self, self._fields[field_name], [row[key] or empty for row in rows])
        cache.update(self, self._fields["credit_has_limit"], [row["limit"] is not None for row in rows])

    def _search_credit_over_limit(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise ValidationError(_("Over Limit can only be searched as true or false."))
        # only commercial partners with a limit can be over it: aggregate just those, in SQL
        # (with a company default limit, every customer without an own limit has one)
        commercial = ["|", ("is_company", "=", True), ("parent_id", "=", False)]
        limited_domain = [("credit_limit_set", "=", True)]
        if self._fields["credit_limit"].get_company_dependent_fallback(self):
            limited_domain = ["|", ("customer_rank", ">", 0), *limited_domain]
        limited = self.with_context(active_test=False).search(commercial + limited_domain)
        exposures = limited._get_credit_exposures()
        over_ids = [pid for pid, exposure in exposures.items() if exposure["over_limit"]]
        positive = (operator == "=") == value
        return [("commercial_partner_id", "in" if positive else "not in", over_ids)]

    # === ACTIONS === #
    def action_view_credit_exposure_items(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("account.action_account_moves_all_a")
        action["domain"] = [
            ("partner_id", "child_of", self.commercial_partner_id.id),
            ("company_id", "=", self.env.company.id),
            ("parent_state", "=", "posted"),
            ("account_type", "=", "asset_receivable"),
            ("reconciled", "=", False),
        ]
        action["context"] = {"search_default_group_by_move": 0}
        return action

    # === BUSINESS METHODS === #
    def _get_credit_exposure(self, exclude_orders=None, exclude_moves=None):
        """Exposure of this customer (its commercial partner and all contacts) in the current
        company, in company currency. See :meth:`_get_credit_exposures` for the keys."""
        self.ensure_one()
        return self._get_credit_exposures(exclude_orders=exclude_orders, exclude_moves=exclude_moves)[
            self.commercial_partner_id.id
        ]

    def _get_credit_exposures(self, exclude_orders=None, exclude_moves=None):
        """Exposure per commercial partner id of ``self``, in the current company's currency.

        Set-based: three aggregate queries (posted receivables, draft invoices, uninvoiced sale
        orders) plus one currency-rate query, whatever the number of partners or open items.
        Foreign-currency amounts are converted at today's rate. Keys: ``receivable`` (open
        posted items; credit notes and unreconciled payments reduce it), ``overdue`` (past-due
        open debit items), ``overdue_days`` (age of the oldest overdue item), ``draft_invoices``,
        ``uninvoiced_orders`` (taxes included), ``total``, ``limit`` (None = no limit),
        ``available`` (None = unlimited), ``usage`` (percent of the limit), ``over_limit``.
        """
        company = self.env.company
        currency = company.currency_id
        today = fields.Date.context_today(self)
        commercial = self.commercial_partner_id
        partner_ids = tuple(commercial.ids) or (0,)
        exclude_order_ids = tuple(exclude_orders.ids) if exclude_orders else (0,)
        exclude_move_ids = tuple(exclude_moves.ids) if exclude_moves else (0,)
        buckets = {}  # (partner_id, key) -> {currency_id: amount}

        def add(partner_id, key, currency_id, amount):
            if amount:
                per_currency = buckets.setdefault((partner_id, key), {})
                per_currency[currency_id] = per_currency.get(currency_id, 0.0) + amount

        self.env["account.move.line"].flush_model(
            [
                "amount_residual",
                "amount_residual_currency",
                "reconciled",
                "date_maturity",
                "parent_state",
                "partner_id",
                "account_id",
                "company_id",
                "currency_id",
                "price_total",
                "display_type",
                "move_id",
            ]
        )
        self.env["account.move"].flush_model(["state", "move_type", "commercial_partner_id", "company_id"])
        self.env["sale.order.line"].flush_model(
            ["qty_invoiced", "product_uom_qty", "price_total", "display_type"]
        )
        self.env["sale.order"].flush_model(["state", "partner_id", "company_id", "currency_id"])
        self.env["res.partner"].flush_model(["commercial_partner_id"])

        # 1. open posted receivables: residual in the line's currency, converted below
        self.env.cr.execute(
            SQL(
                """
            SELECT p.commercial_partner_id,
                   l.currency_id,
                   SUM(CASE WHEN l.currency_id = %(company_currency)s THEN l.amount_residual
                            ELSE l.amount_residual_currency END),
                   SUM(CASE WHEN l.currency_id = %(company_currency)s THEN l.amount_residual
                            ELSE l.amount_residual_currency END)
                       FILTER (WHERE l.date_maturity < %(today)s AND l.amount_residual > 0),
                   MIN(l.date_maturity) FILTER (WHERE l.date_maturity < %(today)s AND l.amount_residual > 0)
              FROM account_move_line l
              JOIN account_account a ON a.id = l.account_id
              JOIN res_partner p ON p.id = l.partner_id
             WHERE p.commercial_partner_id IN %(partner_ids)s
               AND l.company_id = %(company_id)s
               AND l.parent_state = 'posted'
               AND a.account_type = 'asset_receivable'
               AND NOT l.reconciled
               AND (l.amount_residual <> 0 OR l.amount_residual_currency <> 0)
          GROUP BY p.commercial_partner_id, l.currency_id
            """,
                company_currency=currency.id,
                today=today,
                partner_ids=partner_ids,
                company_id=company.id,
            )
        )
        oldest = {}
        for partner_id, currency_id, residual, overdue, min_due in self.env.cr.fetchall():
            add(partner_id, "receivable", currency_id, residual or 0.0)
            add(partner_id, "overdue", currency_id, overdue or 0.0)
            if min_due and (partner_id not in oldest or min_due < oldest[partner_id]):
                oldest[partner_id] = min_due

        # 2. draft customer invoices (with taxes), whether or not they come from a sale order
        self.env.cr.execute(
            SQL(
                """
            SELECT m.commercial_partner_id,
                   m.currency_id,
                   SUM(CASE WHEN m.move_type = 'out_refund' THEN -l.price_total ELSE l.price_total END)
              FROM account_move m
              JOIN account_move_line l ON l.move_id = m.id
             WHERE m.commercial_partner_id IN %(partner_ids)s
               AND m.company_id = %(company_id)s
               AND m.state = 'draft'
               AND m.move_type IN ('out_invoice', 'out_refund')
               AND m.id NOT IN %(exclude_move_ids)s
               AND l.display_type = 'product'
          GROUP BY m.commercial_partner_id, m.currency_id
            """,
                exclude_move_ids=exclude_move_ids,
                partner_ids=partner_ids,
                company_id=company.id,
            )
        )
        for partner_id, currency_id, amount in self.env.cr.fetchall():
            add(partner_id, "draft_invoices", currency_id, amount or 0.0)

        # 3. confirmed sale orders: the ordered quantity not yet on any invoice (a draft invoice
        #    counts above), valued at the line's total with taxes
        self.env.cr.execute(
            SQL(
                """
            SELECT p.commercial_partner_id,
                   so.currency_id,
                   SUM(sol.price_total * GREATEST(sol.product_uom_qty - sol.qty_invoiced, 0)
                       / sol.product_uom_qty)
              FROM sale_order so
              JOIN sale_order_line sol ON sol.order_id = so.id
              JOIN res_partner p ON p.id = so.partner_id
             WHERE p.commercial_partner_id IN %(partner_ids)s
               AND so.company_id = %(company_id)s
               AND so.state = 'sale'
               AND so.id NOT IN %(exclude_order_ids)s
               AND sol.display_type IS NULL
               AND sol.product_uom_qty > 0
               AND sol.qty_invoiced < sol.product_uom_qty
          GROUP BY p.commercial_partner_id, so.currency_id
            """,
                partner_ids=partner_ids,
                company_id=company.id,
                exclude_order_ids=exclude_order_ids,
            )
        )
        for partner_id, currency_id, amount in self.env.cr.fetchall():
            add(partner_id, "uninvoiced_orders", currency_id, amount or 0.0)

        # convert every currency at today's rate in one query
        currency_ids = {cid for amounts in buckets.values() for cid in amounts} | {currency.id}
        rates = self.env["res.currency"].browse(currency_ids)._get_rates(company, today)
        company_rate = rates.get(currency.id) or 1.0

        digits = currency.decimal_places

        def total_of(partner_id, key):
            amounts = buckets.get((partner_id, key))
            if not amounts:
                return 0.0
            value = sum(amount * company_rate / (rates.get(cid) or 1.0) for cid, amount in amounts.items())
            return float_round(value, precision_digits=digits)

        limits = commercial._credit_limits_in_force()
        result = {}
        for pid in commercial.ids:
            receivable = total_of(pid, "receivable")
            draft_invoices = total_of(pid, "draft_invoices")
            uninvoiced_orders = total_of(pid, "uninvoiced_orders")
            total = float_round(receivable + draft_invoices + uninvoiced_orders, precision_digits=digits)
            limit = limits[pid]
            exposure = {
                "currency": currency,
                "receivable": receivable,
                "overdue": total_of(pid, "overdue"),
                "overdue_days": (today - oldest[pid]).days if pid in oldest else 0,
                "draft_invoices": draft_invoices,
                "uninvoiced_orders": uninvoiced_orders,
                "total": total,
                "limit": limit,
                "available": None,
                "usage": None,
                "over_limit": False,
            }
            if limit is not None:
                exposure["available"] = float_round(limit - total, precision_digits=digits)
                exposure["usage"] = 100.0 * total / limit if limit else (100.0 if total > 0 else 0.0)
                exposure["over_limit"] = float_round(total - limit, precision_digits=digits) > 0
            result[pid] = exposure
        return result

    def _credit_limits_in_force(self):
        """The credit limit in force per commercial partner id of ``self`` in the current company
        (None = no limit), the way core Odoo decides it: the customer's own limit when it has one
        (``use_partner_credit_limit``, mirrored in ``credit_limit_set``; 0 = prepayment only),
        else the company's default limit (``account_default_credit_limit``) when it is above 0.
        Read straight from the per-company columns of the commercial partners (one query):
        salespeople may use it without the accounting groups."""
        commercial = self.commercial_partner_id
        if not commercial:
            return {}
        company = self.env.company
        limit_fallback = self._fields["credit_limit"].get_company_dependent_fallback(self)
        self.env["res.partner"].flush_model(["credit_limit", "credit_limit_set"])
        rows = self.env.execute_query(
            SQL(
                """
            SELECT id, (credit_limit->>%(company)s)::float8, (credit_limit_set->>%(company)s)::boolean
              FROM res_partner
             WHERE id IN %(partner_ids)s
                """,
                company=str(company.id),
                partner_ids=tuple(commercial.ids),
            )
        )
        limits = {}
        for pid, limit, limit_set in rows:
            if limit_set:
                limits[pid] = limit_fallback if limit is None else limit
            else:
                limits[pid] = limit_fallback or None
        return limits

    def _credit_rule_failures(self, exposure, amount, payment_term, is_prepaid=None):
        """The credit rules a new document of ``amount`` (company currency) breaks for this
        customer in the current company: a list of ``{"rule", "message"}``, empty when it may
        go through. ``exposure`` is :meth:`_get_credit_exposure` without the document itself;
        ``is_prepaid`` (a callable, asked only when the limit would be exceeded) tells whether
        the document is paid in advance."""
        self.ensure_one()
        company = self.env.company
        currency = company.currency_id
        partner = self.commercial_partner_id
        profile = partner.sudo()
        rating = profile.credit_rating_id
        failures = []

        def fmt(value):
            return format_amount(self.env, value, currency)

        if profile.credit_hold:
            failures.append(
                {
                    "rule": "hold",
                    "message": _(
                        "%(customer)s is on credit hold: %(reason)s",
                        customer=partner.display_name,
                        reason=profile.credit_hold_reason or "",
                    ),
                }
            )
        limit = exposure["limit"]
        if limit is None and company.credit_no_limit_policy == "no_credit":
            limit = 0.0
        if limit is not None:
            counted = exposure["receivable"]
            if company.credit_count_draft_invoices:
                counted += exposure["draft_invoices"]
            if company.credit_count_uninvoiced_orders:
                counted += exposure["uninvoiced_orders"]
            allowed = limit * (1 + (company.credit_limit_tolerance or 0.0) / 100.0)
            # paid in advance (checked last: reading the payments costs queries)
            if currency.compare_amounts(counted + amount, allowed) > 0 and not (is_prepaid and is_prepaid()):
                failures.append(
                    {
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
                    }
                )
        check_overdue = True
        if rating:
            tolerance_days, tolerance_amount = rating.overdue_tolerance_days, rating.overdue_tolerance_amount
        else:
            tolerance_days = company.credit_overdue_tolerance_days
            tolerance_amount = company.credit_overdue_tolerance_amount or None
            check_overdue = bool(tolerance_days or tolerance_amount)
        if (
            check_overdue
            and exposure["overdue"] > 0
            and (
                exposure["overdue_days"] > tolerance_days
                or (
                    tolerance_amount is not None
                    and currency.compare_amounts(exposure["overdue"], tolerance_amount) > 0
                )
            )
        ):
            failures.append(
                {
                    "rule": "overdue",
                    "message": _(
                        "Overdue items of %(amount)s, the oldest %(days)s days overdue, are beyond "
                        "the tolerance of %(tol_days)s days / %(tol_amount)s.",
                        amount=fmt(exposure["overdue"]),
                        days=exposure["overdue_days"],
                        tol_days=tolerance_days,
                        tol_amount=fmt(tolerance_amount) if tolerance_amount is not None else _("any amount"),
                    ),
                }
            )
        if rating.payment_term_id and payment_term != rating.payment_term_id:
            failures.append(
                {
                    "rule": "payment_term",
                    "message": _(
                        "Rating %(rating)s requires the payment term %(term)s.",
                        rating=rating.display_name,
                        term=rating.payment_term_id.display_name,
                    ),
                }
            )
        if (
            company.credit_new_customer_check
            and currency.compare_amounts(amount, company.credit_new_customer_amount) > 0
            and not partner._credit_has_done_check()
        ):
            failures.append(
                {
                    "rule": "new_customer",
                    "message": _(
                        "Orders above %(amount)s for a customer without a completed credit check "
                        "need a check first.",
                        amount=fmt(company.credit_new_customer_amount),
                    ),
                }
            )
        if partner._credit_dunning_blocks_orders():
            failures.append(
                {
                    "rule": "dunning",
                    "message": _("The customer has invoices at a dunning level that blocks new orders."),
                }
            )
        return failures
