from datetime import timedelta

from odoo import _, api, fields, models
from odoo.tools import SQL, format_amount, format_date

from ..lib.limitation import limitation_end_sql
from ..lib.open_items import INDEX_UNRECONCILED, open_receivable_where
from ..lib.responsible import responsible_credit_manager

# case type, label, digit of the line id (id = source record id * 10 + digit: stable across queries)
CASE_TYPES = [
    ("over_limit", "Over Credit Limit", 1),
    ("blocked_order", "Blocked Order", 2),
    ("broken_promise", "Broken Promise", 3),
    ("old_dispute", "Open Dispute", 4),
    ("rating_downgrade", "Rating Downgrade", 5),
    ("escalation", "Escalation Level", 6),
    ("limitation", "Limitation Near", 7),
]


class CreditProblemCase(models.Model):
    """Problem cases for the weekly sales/credit meeting (Jour fixe) of the current company:
    customers over their limit, blocked orders, broken promises, disputes open for longer than
    the company allows, rating downgrades, customers at or above the escalation level and claims
    near their limitation date; each with its owner, an amount and the next step."""

    _name = "credit.problem.case"
    _inherit = ["credit.report.pieces"]
    _description = "Problem Case (Weekly Meeting)"
    _auto = False
    _order = "sequence, amount desc, id"
    _rec_name = "reference"

    case_type = fields.Selection(
        [(key, label) for key, label, _digit in CASE_TYPES], string="Case", readonly=True
    )
    sequence = fields.Integer(readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    user_id = fields.Many2one("res.users", string="Owner", readonly=True)
    # no sum, not even per group: an excess over a limit, order totals, promised amounts and
    # open receivables of different cases do not add up to anything
    amount = fields.Monetary(readonly=True, aggregator=None)
    amount_ref = fields.Monetary(string="Reference Amount", readonly=True, aggregator=None)
    item_count = fields.Integer(string="Items", readonly=True)
    date = fields.Date(readonly=True, help="Since when the case is open; for the limitation: its end.")
    date_ref = fields.Date(string="Reference Date", readonly=True)
    age_days = fields.Integer(string="Days", readonly=True, aggregator="max")
    reference = fields.Char(readonly=True)
    state = fields.Char(readonly=True)
    rating_old_id = fields.Many2one("credit.rating", string="Previous Rating", readonly=True)
    rating_new_id = fields.Many2one("credit.rating", string="New Rating", readonly=True)
    res_model = fields.Char(string="Source Model", readonly=True)
    res_id = fields.Integer(string="Source Record", readonly=True)
    # Text, not Char: the list wraps them instead of cutting them off
    facts = fields.Text(compute="_compute_texts")
    next_step = fields.Text(compute="_compute_texts")

    # === SQL === #
    @api.model
    def _problem_date(self):
        return fields.Date.to_date(self.env.context.get("problem_date")) or fields.Date.context_today(self)

    @api.model
    def _problem_settings(self):
        company = self.env.company
        return {
            "dispute_days": company.credit_problem_dispute_days,
            "lookback_days": company.credit_problem_lookback_days,
            "escalation_level": company.credit_problem_escalation_level,
            "horizon_days": company.credit_limitation_horizon_days,
        }

    @api.model
    def _over_limit_rows(self):
        """(partner id, exposure, limit) of the customers over their limit in the current
        company: the exposure of the credit profile (receivables, draft invoices, uninvoiced
        orders), computed set-based for the customers with a limit only."""
        # sudo: the meeting list shows the exposure whatever accounting rights the user has
        Partner = self.env["res.partner"].sudo()
        partners = Partner.search([("credit_over_limit", "=", True)]).commercial_partner_id
        exposures = partners._get_credit_exposures()
        return [
            (pid, exposures[pid]["total"], exposures[pid]["limit"])
            for pid in partners.ids
            if exposures[pid]["over_limit"]
        ]

    @property
    def _table_query(self):
        self._flush_sources()
        return self._query()

    # Report SQL from named pieces, as sale.report builds its query: _with() (the common table
    # expressions; "cases" is the UNION ALL of _case_queries(), one method per case type),
    # _select(), _from(), _where(). Another module extends a piece and calls super().
    @api.model
    def _with(self):
        """The common table expressions, in order: (name, SQL)."""
        return [
            *self._with_receivable(),
            *self._with_escalation(),
            ("downgrades", self._with_downgrades()),
            ("over_limit", self._with_over_limit()),
            ("cases", SQL(" UNION ALL ").join(self._case_queries().values())),
        ]

    @api.model
    def _case_queries(self):
        """{case type: SELECT of its cases}, the columns of the over-limit case in that order;
        the id of a case is the source record's id * 10 + the digit of its type (``CASE_TYPES``)."""
        return {key: getattr(self, "_case_%s" % key)(*self._case_keys(key)) for key, _label, _d in CASE_TYPES}

    @api.model
    def _case_keys(self, case_type):
        """(id digit, sequence) of ``case_type``."""
        for index, (key, _label, digit) in enumerate(CASE_TYPES):
            if key == case_type:
                return digit, index
        raise KeyError(case_type)

    @api.model
    def _where_open_items(self):
        """The open items the receivable of a case counts, on ``l`` joined with ``a`` and ``p``."""
        return open_receivable_where(
            company_id=self.env.company.id, sign="debit", account="a", index=INDEX_UNRECONCILED
        )

    @api.model
    def _with_receivable(self):
        """Open receivable per customer and its items near their limitation date."""
        today = self._problem_date()
        horizon = today + timedelta(days=self._problem_settings()["horizon_days"])
        return [
            (
                "open_lines",
                SQL(
                    """
            SELECT p.commercial_partner_id AS partner_id, l.move_id, l.amount_residual,
                   %(limitation_end)s AS limitation_end
              FROM account_account a
              JOIN account_move_line l ON l.account_id = a.id
              JOIN res_partner p ON p.id = l.partner_id
             WHERE %(open_debits)s
                    """,
                    limitation_end=limitation_end_sql(SQL("COALESCE(l.invoice_date, l.date)")),
                    open_debits=self._where_open_items(),
                ),
            ),
            (
                "flagged_lines",
                SQL(
                    "SELECT open_lines.*, limitation_end <= %s AS is_near_limitation FROM open_lines",
                    horizon,
                ),
            ),
            (
                "receivable",
                SQL(
                    """
            SELECT partner_id,
                   SUM(amount_residual) AS amount,
                   COUNT(DISTINCT move_id) AS item_count,
                   COUNT(DISTINCT move_id) FILTER (WHERE is_near_limitation) AS limitation_count,
                   SUM(amount_residual) FILTER (WHERE is_near_limitation) AS limitation_amount,
                   MIN(limitation_end) FILTER (WHERE is_near_limitation) AS limitation_date
              FROM flagged_lines
          GROUP BY partner_id
                    """
                ),
            ),
        ]

    @api.model
    def _with_escalation(self):
        """The customer's escalation level (a Credit Manager's manual level, else the highest
        dunning level of its open invoices), ranked in the company's scale."""
        company = self.env.company
        levels = SQL(
            """
            SELECT id, name, ROW_NUMBER() OVER (ORDER BY sequence, days, id) AS rank
              FROM credit_dunning_level
             WHERE company_id = %(company)s AND active
            """,
            company=company.id,
        )
        escalated = SQL(
            """
            SELECT e.partner_id, lv.id AS level_id, lv.rank,
                   COALESCE(lv.name ->> %(lang)s, lv.name ->> 'en_US') AS level_name,
                   (SELECT MAX(m.credit_dunning_date) FROM account_move m
                     WHERE m.commercial_partner_id = e.partner_id AND m.company_id = %(company)s
                       AND m.state = 'posted' AND m.credit_dunning_level_id IS NOT NULL
                   ) AS credit_dunning_date
              FROM (%(escalation)s) e
              JOIN levels lv ON lv.id = e.level_id
             WHERE e.company_id = %(company)s
            """,
            lang=self.env.lang or "en_US",
            company=company.id,
            escalation=self.env["credit.partner.escalation"]._table_query,
        )
        return [("levels", levels), ("escalated", escalated)]

    @api.model
    def _with_downgrades(self):
        """The last rating downgrade of each customer in the lookback window, if its rating is
        still the downgraded one."""
        lookback = self._problem_date() - timedelta(days=self._problem_settings()["lookback_days"])
        return SQL(
            """
            SELECT DISTINCT ON (msg.res_id)
                   msg.res_id AS partner_id, tv.old_value_integer AS rating_old_id,
                   tv.new_value_integer AS rating_new_id, msg.date::date AS date
              FROM mail_tracking_value tv
              JOIN mail_message msg ON msg.id = tv.mail_message_id AND msg.model = 'res.partner'
              JOIN ir_model_fields f ON f.id = tv.field_id
                   AND f.model = 'res.partner' AND f.name = 'credit_rating_id'
              JOIN credit_rating old ON old.id = tv.old_value_integer
              JOIN credit_rating new ON new.id = tv.new_value_integer
              JOIN res_partner cp ON cp.id = msg.res_id
             WHERE msg.date >= %(lookback)s
               AND (new.score_min, -new.sequence) < (old.score_min, -old.sequence)
               AND (cp.credit_rating_id ->> %(company_key)s)::int = tv.new_value_integer
          ORDER BY msg.res_id, msg.date DESC, tv.id DESC
            """,
            lookback=lookback,
            company_key=str(self.env.company.id),
        )

    @api.model
    def _with_over_limit(self):
        over_limit = self._over_limit_rows()
        return SQL(
            """
            SELECT * FROM unnest(%(ids)s::int[], %(exposure)s::numeric[], %(limit)s::numeric[])
                AS t(partner_id, exposure, credit_limit)
            """,
            ids=[row[0] for row in over_limit],
            exposure=[row[1] for row in over_limit],
            limit=[row[2] for row in over_limit],
        )

    @api.model
    def _customer_owner(self, first="manager"):
        """SQL: the owner of a customer case on ``cp`` (the customer): its credit manager in the
        company, else its salesperson (``first="sales"``: the other way round)."""
        manager = SQL("(cp.credit_manager_id ->> %s)::int", str(self.env.company.id))
        return (
            SQL("COALESCE(cp.user_id, %s)", manager)
            if first == "sales"
            else SQL("COALESCE(%s, cp.user_id)", manager)
        )

    @api.model
    def _case_over_limit(self, digit, sequence):
        return SQL(
            """
            SELECT ol.partner_id * 10 + %(digit)s AS id, 'over_limit' AS case_type,
                   %(sequence)s AS sequence, ol.partner_id, %(owner)s AS user_id,
                   ol.exposure - ol.credit_limit AS amount, ol.credit_limit AS amount_ref,
                   NULL::int AS item_count, NULL::date AS date, NULL::date AS date_ref,
                   NULL::varchar AS reference, NULL AS state, NULL::int AS rating_old_id,
                   NULL::int AS rating_new_id, 'res.partner' AS res_model, ol.partner_id AS res_id
              FROM over_limit ol
              JOIN res_partner cp ON cp.id = ol.partner_id
            """,
            digit=digit,
            sequence=sequence,
            owner=self._customer_owner("sales"),
        )

    @api.model
    def _case_blocked_order(self, digit, sequence):
        return SQL(
            """
            SELECT so.id * 10 + %(digit)s, 'blocked_order', %(sequence)s,
                   p.commercial_partner_id, so.user_id,
                   so.amount_total / COALESCE(NULLIF(so.currency_rate, 0), 1), NULL,
                   NULL, COALESCE((SELECT MAX(cd.create_date)::date FROM credit_decision cd
                                    WHERE cd.order_id = so.id AND cd.decision_type = 'block'),
                                  so.write_date::date),
                   NULL, so.name, so.credit_block_state, NULL, NULL, 'sale.order', so.id
              FROM sale_order so
              JOIN res_partner p ON p.id = so.partner_id
             WHERE so.company_id = %(company)s AND so.state IN ('draft', 'sent')
               AND so.credit_block_state IN ('blocked', 'requested')
            """,
            digit=digit,
            sequence=sequence,
            company=self.env.company.id,
        )

    @api.model
    def _case_broken_promise(self, digit, sequence):
        today = self._problem_date()
        return SQL(
            """
            SELECT pr.id * 10 + %(digit)s, 'broken_promise', %(sequence)s,
                   p.commercial_partner_id, pr.user_id, pr.amount, NULL, NULL,
                   COALESCE(pr.date_closed, pr.date_grace_end), pr.date_promised,
                   pr.name, pr.state, NULL, NULL, 'credit.promise', pr.id
              FROM credit_promise pr
              JOIN res_partner p ON p.id = pr.partner_id
             WHERE pr.company_id = %(company)s
               AND ((pr.state = 'broken' AND COALESCE(pr.date_closed, pr.date_grace_end) >= %(lookback)s)
                    OR (pr.state = 'open' AND pr.date_grace_end < %(today)s))
            """,
            digit=digit,
            sequence=sequence,
            company=self.env.company.id,
            lookback=today - timedelta(days=self._problem_settings()["lookback_days"]),
            today=today,
        )

    @api.model
    def _case_old_dispute(self, digit, sequence):
        return SQL(
            """
            SELECT d.id * 10 + %(digit)s, 'old_dispute', %(sequence)s,
                   p.commercial_partner_id, d.user_id, d.amount, NULL, NULL,
                   d.create_date::date, d.date_deadline, d.name, d.state, NULL, NULL,
                   'credit.dispute', d.id
              FROM credit_dispute d
              JOIN res_partner p ON p.id = d.partner_id
             WHERE d.company_id = %(company)s AND d.state IN ('open', 'progress')
               AND d.create_date::date <= %(dispute_since)s
            """,
            digit=digit,
            sequence=sequence,
            company=self.env.company.id,
            dispute_since=self._problem_date() - timedelta(days=self._problem_settings()["dispute_days"]),
        )

    @api.model
    def _case_rating_downgrade(self, digit, sequence):
        return SQL(
            """
            SELECT dg.partner_id * 10 + %(digit)s, 'rating_downgrade', %(sequence)s,
                   dg.partner_id, %(owner)s,
                   COALESCE(r.amount, 0), NULL, r.item_count, dg.date, NULL, NULL, NULL,
                   dg.rating_old_id, dg.rating_new_id, 'res.partner', dg.partner_id
              FROM downgrades dg
              JOIN res_partner cp ON cp.id = dg.partner_id
              LEFT JOIN receivable r ON r.partner_id = dg.partner_id
            """,
            digit=digit,
            sequence=sequence,
            owner=self._customer_owner(),
        )

    @api.model
    def _case_escalation(self, digit, sequence):
        return SQL(
            """
            SELECT e.partner_id * 10 + %(digit)s, 'escalation', %(sequence)s,
                   e.partner_id, %(owner)s,
                   COALESCE(r.amount, 0), NULL, e.rank::int, e.credit_dunning_date, NULL,
                   e.level_name, NULL, NULL, NULL, 'res.partner', e.partner_id
              FROM escalated e
              JOIN res_partner cp ON cp.id = e.partner_id
              LEFT JOIN receivable r ON r.partner_id = e.partner_id
             WHERE e.rank >= %(escalation_level)s
            """,
            digit=digit,
            sequence=sequence,
            owner=self._customer_owner(),
            escalation_level=self._problem_settings()["escalation_level"],
        )

    @api.model
    def _case_limitation(self, digit, sequence):
        return SQL(
            """
            SELECT r.partner_id * 10 + %(digit)s, 'limitation', %(sequence)s,
                   r.partner_id, %(owner)s,
                   r.limitation_amount, NULL, r.limitation_count::int, r.limitation_date, NULL,
                   NULL, NULL, NULL, NULL, 'res.partner', r.partner_id
              FROM receivable r
              JOIN res_partner cp ON cp.id = r.partner_id
             WHERE r.limitation_count > 0
            """,
            digit=digit,
            sequence=sequence,
            owner=self._customer_owner(),
        )

    @api.model
    def _select(self):
        company = self.env.company
        # no salesperson or credit manager on the customer (or the record): the company's credit
        # team, so that every case has someone to act on it (active users only, also when the PDF
        # is rendered with active_test off: not OdooBot)
        fallback_owner = responsible_credit_manager(
            self.with_context(active_test=True).env, self.env["res.partner"], company
        )
        return SQL(
            """cases.id, cases.case_type, cases.sequence, cases.partner_id,
               COALESCE(cases.user_id, %(fallback_owner)s::int) AS user_id,
               cases.amount, cases.amount_ref, cases.item_count, cases.date, cases.date_ref,
               cases.reference, cases.state, cases.rating_old_id, cases.rating_new_id,
               cases.res_model, cases.res_id,
               %(company)s AS company_id,
               %(currency)s AS currency_id,
               CASE WHEN cases.date IS NULL THEN NULL ELSE %(today)s::date - cases.date END AS age_days""",
            fallback_owner=fallback_owner.id or None,
            company=company.id,
            currency=company.currency_id.id,
            today=self._problem_date(),
        )

    @api.model
    def _from(self):
        return SQL("cases")

    @api.model
    def _where(self):
        return SQL("TRUE")

    @api.model
    def _flush_sources(self):
        for model, names in (
            (
                "account.move.line",
                ["amount_residual", "reconciled", "parent_state", "partner_id", "invoice_date"],
            ),
            ("account.move", ["invoice_date", "credit_dunning_level_id", "payment_state", "state"]),
            ("sale.order", ["credit_block_state", "state", "amount_total", "user_id"]),
            ("credit.promise", ["state", "date_closed", "date_grace_end", "amount", "user_id"]),
            ("credit.dispute", ["state", "amount", "user_id"]),
            (
                "res.partner",
                ["credit_rating_id", "credit_manager_id", "user_id", "credit_escalation_manual_level_id"],
            ),
            ("credit.agency.handover", ["state", "partner_id"]),
            ("mail.tracking.value", ["old_value_integer", "new_value_integer"]),
        ):
            self.env[model].flush_model(names)

    @api.model
    def search_fetch(self, domain, field_names, offset=0, limit=None, order=None):
        # A live view whose ids come back every day: values cached by an earlier search (another
        # day in the context, or before a change) must not be served again. Every column is
        # fetched with the search itself, so that the view's query runs once, not once more
        # for the fields read afterwards.
        self.invalidate_model()
        columns = [name for name, field in self._fields.items() if field.store and field.column_type]
        return super().search_fetch(domain, columns, offset=offset, limit=limit, order=order)

    # === COMPUTE === #
    @api.depends_context("lang")
    def _compute_texts(self):
        for case in self:
            case.facts, case.next_step = case._get_texts()

    def _get_texts(self):
        """(facts, next step) of this case, in the user's language.

        Long: one pair of sentences per case type, flat, so that translators and readers see every
        case's wording in one place."""
        self.ensure_one()
        currency = self.currency_id or self.env.company.currency_id

        def money(value):
            return format_amount(self.env, value or 0.0, currency)

        def day(value):
            return format_date(self.env, value) if value else ""

        kind = self.case_type
        if kind == "over_limit":
            return (
                self.env._(
                    "Exposure %(exposure)s, limit %(limit)s",
                    exposure=money(self.amount + self.amount_ref),
                    limit=money(self.amount_ref),
                ),
                self.env._("Agree on payments or prepayment, or decide on a higher limit"),
            )
        if kind == "blocked_order":
            if self.state == "requested":
                return (
                    self.env._("Release requested, blocked since %(date)s", date=day(self.date)),
                    self.env._("Credit manager: decide on the release request"),
                )
            return (
                self.env._("Blocked since %(date)s", date=day(self.date)),
                self.env._("Salesperson: request a release or ask for prepayment"),
            )
        if kind == "broken_promise":
            return (
                self.env._(
                    "Promised for %(promised)s, broken on %(date)s",
                    promised=day(self.date_ref),
                    date=day(self.date),
                ),
                self.env._("Call the customer: new promise, payment plan or next dunning level"),
            )
        if kind == "old_dispute":
            return (
                self.env._(
                    "Open for %(days)s days, deadline %(deadline)s",
                    days=self.age_days,
                    deadline=day(self.date_ref),
                )
                if self.date_ref
                else self.env._("Open for %(days)s days", days=self.age_days),
                self.env._("Owner: resolve with a credit note or reject with a reason"),
            )
        if kind == "rating_downgrade":
            return (
                self.env._(
                    "Rating %(old)s → %(new)s on %(date)s",
                    old=self.rating_old_id.display_name,
                    new=self.rating_new_id.display_name,
                    date=day(self.date),
                ),
                self.env._("Review the limit and the payment terms"),
            )
        if kind == "escalation":
            return (
                self.env._(
                    "Dunning level %(level)s (no. %(rank)s)", level=self.reference, rank=self.item_count
                ),
                self.env._("Decide: collection agency or court dunning order (Mahnbescheid)"),
            )
        if kind == "limitation":
            return (
                self.env._(
                    "Time-barred on %(date)s: %(count)s open items",
                    count=self.item_count,
                    date=day(self.date),
                ),
                self.env._(
                    "Interrupt the limitation before %(date)s: court dunning order or "
                    "acknowledgement of the debt",
                    date=day(self.date),
                ),
            )
        return "", ""

    # === ACTIONS === #
    def action_open_source(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": self.res_model,
            "res_id": self.res_id,
            "view_mode": "form",
            "views": [(False, "form")],
        }

    @api.model
    def action_print_all(self):
        """The PDF of every current case (the list's header button)."""
        cases = self.search([])
        return self.env.ref("credit_control.credit_problem_case_report_action").report_action(
            cases, config=False
        )

    @api.model
    def action_export_xlsx(self):
        return self.env["credit.problem.case.xlsx"].action_download()

    def _grouped_for_report(self):
        """[(case type label, cases)] in the order of the case types, for the PDF."""
        labels = dict(self._fields["case_type"]._description_selection(self.env))
        groups = []
        for key, _label, _digit in CASE_TYPES:
            cases = self.filtered(lambda c, k=key: c.case_type == k)
            if cases:
                groups.append((labels[key], cases))
        return groups

    def _report_title(self):
        return _(
            "Problem cases for the sales/credit meeting, %(company)s, %(date)s",
            company=self.env.company.name,
            date=format_date(self.env, self._problem_date()),
        )
