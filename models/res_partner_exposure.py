from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL, float_round

from ..lib.open_items import RECEIVABLE_ACCOUNT_IDS
from .res_partner import CREDIT_READ_GROUPS

# One customer's exposure statement as a database function (prefix + hash of its text, the names
# as a regular expression), its parameters and result columns: see _credit_exposure_function_sql
EXPOSURE_FUNCTION_PREFIX = "credit_control_exposure_of_"
EXPOSURE_FUNCTION_PATTERN = "^%s[0-9a-f]{16}$" % EXPOSURE_FUNCTION_PREFIX
EXPOSURE_FUNCTION_PARAMS = (
    ("partner_ids", "integer[]"),
    ("company_id", "integer"),
    ("root_company_id", "integer"),
    ("company_currency_id", "integer"),
    ("today", "date"),
    ("exclude_move_ids", "integer[]"),
    ("exclude_order_ids", "integer[]"),
)
EXPOSURE_FUNCTION_COLUMNS = (
    ("key", "text"),
    ("partner_id", "integer"),
    ("currency_id", "integer"),
    ("flag", "boolean"),
    ("amount", "numeric"),
    ("amount_currency", "numeric"),
    ("min_due", "date"),
    ("rate", "numeric"),
)


# the exposure of a customer not saved yet (see _compute_credit_exposure)
NO_EXPOSURE = {
    "receivable": 0.0,
    "overdue": 0.0,
    "overdue_days": 0,
    "draft_invoices": 0.0,
    "uninvoiced_orders": 0.0,
    "total": 0.0,
    "available": None,
    "usage": 0.0,
    "over_limit": False,
    "limit": None,
}


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

    # commercial_partner_id: what the compute reads, and a stored field that read() fetches with
    # the access rules applied in SQL (reading only non-stored fields checks the rules record by
    # record in Python: 60 ms of a list's 1,000 customers)
    @api.depends("commercial_partner_id")
    @api.depends_context("company")
    def _compute_credit_exposure(self):
        # saved customers only: a customer being created (a new record in a form or a dialog,
        # e.g. "Create and edit" from an invoice) has no exposure yet
        commercial = self.commercial_partner_id._origin
        exposures = commercial._get_credit_exposures() if commercial else {}
        rows = [exposures.get(partner.commercial_partner_id._origin.id, NO_EXPOSURE) for partner in self]
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

    # === CRUD === #
    def init(self):
        result = super().init()
        self._credit_exposure_function_init()
        return result

    def _register_hook(self):
        result = super()._register_hook()  # the function looked up once, not in a user's check
        self.env.registry.__dict__.pop("_credit_exposure_function", None)
        self._credit_exposure_function()
        return result

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
    def _get_credit_exposure(self, exclude_orders=None, exclude_moves=None, lock=False):
        """Exposure of this customer (its commercial partner and all contacts) in the current
        company, in company currency. See :meth:`_get_credit_exposures` for the keys and
        ``lock``."""
        self.ensure_one()
        return self._get_credit_exposures(
            exclude_orders=exclude_orders, exclude_moves=exclude_moves, lock=lock
        )[self.commercial_partner_id.id]

    def _get_credit_exposures(self, exclude_orders=None, exclude_moves=None, lock=False):
        """Exposure per commercial partner id of ``self``, in the current company's currency.

        Set-based: one statement, whatever the number of partners or open items: the three
        aggregates (posted receivables, draft invoices, uninvoiced sale orders), today's rate
        of every currency they are in and the limits in force. Foreign-currency amounts are
        converted at today's rate. With ``lock``, the commercial partners' rows are updated in
        the same statement, so that two transactions checking the same customer are serialised
        (the second one fails with a serialization error and is retried; see
        ``sale.order._credit_check``). Keys: ``receivable`` (open posted items; credit notes and
        unreconciled payments reduce it), ``overdue`` (past-due open debit items),
        ``overdue_days`` (age of the oldest overdue item), ``draft_invoices``,
        ``uninvoiced_orders`` (taxes included), ``total``, ``limit`` (None = no limit),
        ``available`` (None = unlimited), ``usage`` (percent of the limit), ``over_limit``.
        """
        company = self.env.company
        today = fields.Date.context_today(self)
        commercial = self.commercial_partner_id
        self._credit_exposure_flush()
        params = self._credit_exposure_params(commercial, company, today, exclude_orders, exclude_moves)
        function = self._credit_exposure_function() if len(commercial) == 1 else None
        if function:
            # one customer (a check, a banner): its plan kept by the session (see the function)
            query = SQL(
                "SELECT * FROM %s(%s, %s)",
                SQL.identifier(function),
                SQL(", ").join(params[name] for name, _type in EXPOSURE_FUNCTION_PARAMS),
                bool(lock),
            )
        else:
            # several customers: what decides the statement's plan is read first and given as
            # constants (see _credit_exposure_plan_values)
            params.update(self._credit_exposure_plan_values())
            query = self._credit_exposure_statement(params, lock=lock)
        figures = self._credit_exposure_figures(self.env.execute_query(query), company)
        limit_fallback = self._fields["credit_limit"].get_company_dependent_fallback(self)
        return {
            pid: self._credit_exposure_values(pid, figures, company, today, limit_fallback)
            for pid in commercial.ids
        }

    def _credit_exposure_flush(self):
        """Flush what the exposure statement reads."""
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
                "credit_exposure_excluded",
            ]
        )
        self.env["account.move"].flush_model(["state", "move_type", "commercial_partner_id", "company_id"])
        self.env["sale.order.line"].flush_model(
            ["qty_invoiced", "product_uom_qty", "price_total", "display_type"]
        )
        self.env["sale.order"].flush_model(["state", "partner_id", "company_id", "currency_id"])
        self.env["res.partner"].flush_model(["commercial_partner_id", "credit_limit", "credit_limit_set"])
        self.env["res.currency.rate"].flush_model(["rate", "currency_id", "company_id", "name"])

    @api.model
    def _credit_exposure_params(self, commercial, company, today, exclude_orders=None, exclude_moves=None):
        """The values of the exposure statement (id lists never empty: 0 matches no record)."""
        return {
            "partner_ids": list(commercial.ids) or [0],
            "company_id": company.id,
            "root_company_id": company.root_id.id,
            "company_currency_id": company.currency_id.id,
            "today": today,
            "exclude_move_ids": list(exclude_moves.ids) if exclude_moves else [0],
            "exclude_order_ids": list(exclude_orders.ids) if exclude_orders else [0],
        }

    @api.model
    def _credit_exposure_plan_values(self):
        """What the exposure statement of several customers is planned with, read first in one
        small query: ``in_force`` (the running totals are maintained, see
        ``credit.exposure.total._credit_totals_in_force_sql``) and ``receivable_account_ids``.
        Given as constants, the planner plans only the branch of the receivable part that runs
        (not a parallel scan of the journal items that a condition known at run time skips, whose
        workers start anyway) and estimates the totals on receivable accounts (an index scan of
        them instead of reading every total). The statement of one customer (the database
        function, its plan kept by the session) decides both in SQL instead."""
        in_force, account_ids = self.env.execute_query(
            SQL(
                "SELECT %s, %s",
                self.env["credit.exposure.total"]._credit_totals_in_force_sql(),
                RECEIVABLE_ACCOUNT_IDS,
            )
        )[0]
        return {"in_force": in_force, "receivable_account_ids": account_ids, "partners_cte": True}

    def _credit_exposure_figures(self, rows, company):
        """The rows of the exposure statement gathered: ``amounts`` per (partner id, key) per
        currency id (``receivable``, ``overdue``, ``draft_invoices``, ``uninvoiced_orders``),
        ``oldest`` overdue due date per partner id, ``rates`` per currency id (today's),
        ``limits`` per partner id as ``(own limit, limit set)``, and what converts and rounds
        them (the same for every partner, so taken once): ``currency`` (the company's),
        ``digits`` (its decimal places), ``company_rate`` and ``factors`` per currency id (company
        rate / its rate)."""
        currency = company.currency_id
        amounts, oldest, rates, limits = {}, {}, {}, {}

        def add(partner_id, key, currency_id, amount):
            if amount:
                per_currency = amounts.setdefault((partner_id, key), {})
                per_currency[currency_id] = per_currency.get(currency_id, 0.0) + amount

        for key, partner_id, currency_id, flag, amount, amount_currency, min_due, rate in rows:
            if key == "limit":
                limits[partner_id] = (amount, flag)
                continue
            if key == "rate":
                rates[currency_id] = rate
                continue
            if key != "receivable":
                add(partner_id, key, currency_id, amount or 0.0)
                continue
            residual = (amount if currency_id == currency.id else amount_currency) or 0.0
            add(partner_id, "receivable", currency_id, residual)
            if flag:
                add(partner_id, "overdue", currency_id, residual)
                if min_due and (partner_id not in oldest or min_due < oldest[partner_id]):
                    oldest[partner_id] = min_due
        company_rate = rates.get(currency.id) or 1.0
        return {
            "amounts": amounts,
            "oldest": oldest,
            "rates": rates,
            "limits": limits,
            "currency": currency,
            "digits": currency.decimal_places,
            "company_rate": company_rate,
            "factors": {cid: company_rate / (rate or 1.0) for cid, rate in rates.items()},
        }

    def _credit_exposure_values(self, partner_id, figures, company, today, limit_fallback):
        """The exposure dict of one commercial partner (keys: see :meth:`_get_credit_exposures`)
        from the gathered ``figures`` (:meth:`_credit_exposure_figures`). Called for every
        customer of a list: what is the same for all of them comes from ``figures``."""
        digits = figures["digits"]
        amounts = figures["amounts"]
        factors = figures["factors"]
        company_rate = figures["company_rate"]  # a currency without a rate: 1.0

        def total_of(key):
            per_currency = amounts.get((partner_id, key))
            if not per_currency:
                return 0.0
            value = sum(amount * factors.get(cid, company_rate) for cid, amount in per_currency.items())
            return float_round(value, precision_digits=digits) if value else 0.0

        receivable = total_of("receivable")
        draft_invoices = total_of("draft_invoices")
        uninvoiced_orders = total_of("uninvoiced_orders")
        total = receivable
        if draft_invoices or uninvoiced_orders:
            total = float_round(receivable + draft_invoices + uninvoiced_orders, precision_digits=digits)
        limit = self._credit_limit_of(*figures["limits"].get(partner_id, (None, False)), limit_fallback)
        oldest = figures["oldest"].get(partner_id)
        exposure = {
            "currency": figures["currency"],
            "receivable": receivable,
            "overdue": total_of("overdue"),
            "overdue_days": (today - oldest).days if oldest else 0,
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
        return exposure

    @api.model
    def _credit_limit_of(self, limit, limit_set, limit_fallback):
        """The limit in force from a partner's per-company ``credit_limit`` and
        ``credit_limit_set`` values and the company's default limit (None = no limit)."""
        if limit_set:
            return limit_fallback if limit is None else limit
        return limit_fallback or None

    def _credit_limits_in_force(self):
        """The credit limit in force per commercial partner id of ``self`` in the current company
        (None = no limit), the way core Odoo decides it: the customer's own limit when it has one
        (``use_partner_credit_limit``, mirrored in ``credit_limit_set``; 0 = prepayment only),
        else the company's default limit (``account_default_credit_limit``) when it is above 0.
        Read straight from the per-company columns of the commercial partners (one query):
        salespeople may use it without the accounting groups."""
        commercial = self.commercial_partner_id
        company = self.env.company
        limit_fallback = self._fields["credit_limit"].get_company_dependent_fallback(self)
        # a customer not saved yet (a form's onchange): its limit as the form holds it
        limits = {
            partner.id: self._credit_limit_of(partner.credit_limit, partner.credit_limit_set, limit_fallback)
            for partner in commercial
            if not partner.id or not isinstance(partner.id, int)
        }
        commercial = commercial.filtered(lambda partner: isinstance(partner.id, int))
        if not commercial:
            return limits
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
        limits.update(
            (pid, self._credit_limit_of(limit, limit_set, limit_fallback)) for pid, limit, limit_set in rows
        )
        return limits
