from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from ..lib.limitation import limitation_end_sql
from ..lib.open_items import INDEX_UNRECONCILED, open_receivable_domain, open_receivable_where

# Priority of a worklist line: points per factor (integers), a company setting each (res.company
# ``credit_worklist_*``, read by ``_credit_worklist_points``). The line's priority is their sum
# (at most 180 with the defaults); the list is ordered by it. Amounts in company currency.


class CreditWorklist(models.Model):
    """Today's worklist of the collectors: one line per customer of the current company with
    something to do today, ranked by a priority in points (company settings ``credit_worklist_*``)."""

    _name = "credit.worklist"
    _inherit = ["credit.report.pieces"]
    _description = "Collector Worklist"
    _auto = False
    _order = "priority desc, overdue_amount desc, partner_id"
    _rec_name = "partner_id"

    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    collector_id = fields.Many2one("res.users", string="Credit Manager", readonly=True)
    rating_id = fields.Many2one("credit.rating", string="Risk Rating", readonly=True)
    score = fields.Integer(string="Risk Score", readonly=True, aggregator=None)
    open_amount = fields.Monetary(
        string="Open",
        readonly=True,
        help="Open invoices net of the customer's open credits (unallocated payments and credit "
        "notes), which offset the oldest invoices first.",
    )
    credit_amount = fields.Monetary(
        string="Open Credits",
        readonly=True,
        help="Unallocated payments and credit notes of the customer: money already received, "
        "netted against the oldest open invoices before the overdue amount and days count.",
    )
    overdue_amount = fields.Monetary(string="Overdue", readonly=True)
    overdue_count = fields.Integer(string="Overdue Invoices", readonly=True)
    days_overdue = fields.Integer(readonly=True, aggregator="max")
    disputed_amount = fields.Monetary(string="Disputed", readonly=True)
    promised_amount = fields.Monetary(string="Under Promise", readonly=True)
    promise_due_count = fields.Integer(string="Promises Due Today", readonly=True)
    promise_due_amount = fields.Monetary(string="Promised Today", readonly=True)
    promise_broken_count = fields.Integer(string="Broken Promises", readonly=True)
    date_promise_broken = fields.Date(string="Promise Broken On", readonly=True)
    task_due_count = fields.Integer(string="Tasks Due", readonly=True)
    activity_due_count = fields.Integer(string="Activities Due", readonly=True)
    date_followup = fields.Date(string="Follow-up Due Since", readonly=True)
    limitation_count = fields.Integer(string="Items Near Limitation", readonly=True)
    limitation_amount = fields.Monetary(string="Amount Near Limitation", readonly=True)
    date_limitation = fields.Date(string="Limitation Ends", readonly=True)
    points_overdue = fields.Integer(string="Points: Overdue Amount", readonly=True)
    points_days = fields.Integer(string="Points: Days Overdue", readonly=True)
    points_rating = fields.Integer(string="Points: Risk Rating", readonly=True)
    points_promise_due = fields.Integer(string="Points: Promise Due", readonly=True)
    points_promise_broken = fields.Integer(string="Points: Promise Broken", readonly=True)
    points_followup = fields.Integer(string="Points: Follow-ups", readonly=True)
    points_limitation = fields.Integer(string="Points: Limitation", readonly=True)
    priority = fields.Integer(readonly=True, aggregator="max")
    move_line_ids = fields.Many2many(
        "account.move.line", compute="_compute_related_records", string="Open Items"
    )
    promise_ids = fields.Many2many("credit.promise", compute="_compute_related_records", string="Promises")
    dispute_ids = fields.Many2many("credit.dispute", compute="_compute_related_records", string="Disputes")
    task_ids = fields.Many2many("credit.task", compute="_compute_related_records", string="Open Tasks")

    # === SQL === #
    @api.model
    def _worklist_date(self):
        return fields.Date.to_date(self.env.context.get("worklist_date")) or fields.Date.context_today(self)

    @property
    def _table_query(self):
        self._flush_sources()
        # JIT compilation of this large query (hundreds of expressions, parallel workers)
        # takes longer than running it: 1-2 s on the benchmark ledger against about 1 s to run
        self.env.cr.execute(SQL("SET LOCAL jit = off"))
        return self._query()

    # Report SQL from named pieces, as sale.report builds its query: _with() (the common table
    # expressions, one method each), _select(), _from(), _where(). Another module extends a piece
    # and calls super(); the values of the day come from _query_values().
    @api.model
    def _query_values(self):
        """What the pieces share: the company, the day and the company's settings."""
        company = self.env.company
        today = self._worklist_date()
        return {
            "company": company,
            "today": today,
            "horizon": today + timedelta(days=company.credit_limitation_horizon_days),
            "points": company._credit_worklist_points(),
        }

    @api.model
    def _with(self):
        """The common table expressions, in order: (name, SQL)."""
        return [
            ("credits", self._with_credits()),
            ("gross_items", self._with_gross_items()),
            ("items", self._with_items()),
            ("flagged", self._with_flagged()),
            ("open_items", self._with_open_items()),
            ("promises", self._with_promises()),
            ("tasks", self._with_tasks()),
            ("activities", self._with_activities()),
            ("customers", self._with_customers()),
            ("facts", self._with_facts()),
            ("points", self._with_points()),
        ]

    @api.model
    def _where_open_items(self, sign):
        """The customers' open items the worklist counts (``sign``: ``"debit"`` for the invoices,
        ``"credit"`` for the open credits), on ``l`` joined with ``a`` (account) and ``p``."""
        # the unreconciled condition as account's partial index on (account_id, partner_id) has
        # it, so that the index is used
        return open_receivable_where(
            company_id=self.env.company.id, sign=sign, account="a", index=INDEX_UNRECONCILED
        )

    @api.model
    def _with_credits(self):
        # open credits (unallocated payments, credit notes) per customer: money already
        # received, netted against the customer's open items oldest first (see _with_items)
        return SQL(
            """
            SELECT p.commercial_partner_id AS partner_id, -SUM(l.amount_residual) AS credit_amount
              FROM account_account a
              JOIN account_move_line l ON l.account_id = a.id
              JOIN res_partner p ON p.id = l.partner_id
             WHERE %(open_credits)s
          GROUP BY p.commercial_partner_id
            """,
            open_credits=self._where_open_items("credit"),
        )

    @api.model
    def _with_gross_items(self):
        today = self._query_values()["today"]
        return SQL(
            """
            SELECT p.commercial_partner_id AS partner_id,
                   l.id AS line_id,
                   COALESCE(l.date_maturity, l.date) AS date_due,
                   l.move_id,
                   l.amount_residual AS gross_residual,
                   l.date_maturity < %(today)s AS is_overdue,
                   %(today)s::date - l.date_maturity AS days,
                   %(limitation_end)s AS limitation_end,
                   EXISTS (SELECT 1 FROM credit_dispute_account_move_rel dr
                             JOIN credit_dispute d ON d.id = dr.dispute_id
                            WHERE dr.move_id = l.move_id AND d.state IN ('open', 'progress')
                   ) AS is_disputed,
                   EXISTS (SELECT 1 FROM credit_promise_account_move_rel prl
                             JOIN credit_promise pr ON pr.id = prl.promise_id
                            WHERE prl.move_id = l.move_id AND pr.state = 'open'
                              AND pr.date_promised > %(today)s
                   ) AS is_promised,
                   EXISTS (SELECT 1 FROM credit_agency_handover_account_move_rel hr
                             JOIN credit_agency_handover h ON h.id = hr.handover_id
                            WHERE hr.move_id = l.move_id AND h.state = 'handed_over'
                   ) AS is_handed_over
              FROM account_account a
              JOIN account_move_line l ON l.account_id = a.id
              JOIN res_partner p ON p.id = l.partner_id
             WHERE %(open_debits)s
            """,
            today=today,
            limitation_end=limitation_end_sql(SQL("COALESCE(l.invoice_date, l.date)")),
            open_debits=self._where_open_items("debit"),
        )

    @api.model
    def _with_items(self):
        # what is left of each item after the customer's open credits, oldest first: a customer
        # whose credits cover its items (net balance 0 or less) has none left
        return SQL(
            """
            SELECT * FROM (
                SELECT gi.*,
                       GREATEST(0, LEAST(gi.gross_residual,
                           SUM(gi.gross_residual) OVER (PARTITION BY gi.partner_id
                                                        ORDER BY gi.date_due, gi.line_id
                                                        ROWS UNBOUNDED PRECEDING)
                           - COALESCE(cr.credit_amount, 0))) AS residual,
                       COALESCE(cr.credit_amount, 0) AS credit_amount
                  FROM gross_items gi
                  LEFT JOIN credits cr ON cr.partner_id = gi.partner_id
            ) netted
             WHERE residual > 0
            """
        )

    @api.model
    def _with_flagged(self):
        return SQL(
            """
            SELECT items.*,
                   is_overdue AND NOT is_disputed AND NOT is_promised AND NOT is_handed_over AS is_chased,
                   limitation_end <= %(horizon)s AS is_near_limitation
              FROM items
            """,
            horizon=self._query_values()["horizon"],
        )

    @api.model
    def _with_open_items(self):
        return SQL(
            """
            SELECT partner_id,
                   SUM(residual) AS open_amount,
                   MAX(credit_amount) AS credit_amount,
                   SUM(residual) FILTER (WHERE is_chased) AS overdue_amount,
                   COUNT(DISTINCT move_id) FILTER (WHERE is_chased) AS overdue_count,
                   MAX(days) FILTER (WHERE is_chased) AS days_overdue,
                   SUM(residual) FILTER (WHERE is_disputed) AS disputed_amount,
                   SUM(residual) FILTER (WHERE is_promised AND NOT is_disputed) AS promised_amount,
                   COUNT(DISTINCT move_id) FILTER (WHERE is_near_limitation) AS limitation_count,
                   SUM(residual) FILTER (WHERE is_near_limitation) AS limitation_amount,
                   MIN(limitation_end) FILTER (WHERE is_near_limitation) AS date_limitation
              FROM flagged
          GROUP BY partner_id
            """
        )

    @api.model
    def _with_promises(self):
        values = self._query_values()
        today = values["today"]
        broken = SQL(
            """(pr.state = 'broken' AND COALESCE(pr.date_closed, pr.date_grace_end) >= %(since)s)
               OR (pr.state = 'open' AND pr.date_grace_end < %(today)s)""",
            since=today - timedelta(days=values["points"]["promise_broken_days"]),
            today=today,
        )
        return SQL(
            """
            SELECT p.commercial_partner_id AS partner_id,
                   COUNT(*) FILTER (WHERE pr.state = 'open' AND pr.date_promised = %(today)s)
                       AS promise_due_count,
                   SUM(pr.amount) FILTER (WHERE pr.state = 'open' AND pr.date_promised = %(today)s)
                       AS promise_due_amount,
                   COUNT(*) FILTER (WHERE %(broken)s) AS promise_broken_count,
                   MAX(COALESCE(pr.date_closed, pr.date_grace_end)) FILTER (WHERE %(broken)s)
                       AS date_promise_broken
              FROM credit_promise pr
              JOIN res_partner p ON p.id = pr.partner_id
             WHERE pr.company_id = %(company)s AND pr.state IN ('open', 'broken')
          GROUP BY p.commercial_partner_id
            """,
            today=today,
            broken=broken,
            company=values["company"].id,
        )

    @api.model
    def _with_tasks(self):
        return SQL(
            """
            SELECT p.commercial_partner_id AS partner_id,
                   COUNT(*) AS task_due_count,
                   MIN(t.date_deadline) AS date_due
              FROM credit_task t
              JOIN res_partner p ON p.id = t.partner_id
             WHERE t.company_id = %(company)s AND t.is_open AND t.date_deadline <= %(today)s
          GROUP BY p.commercial_partner_id
            """,
            company=self.env.company.id,
            today=self._query_values()["today"],
        )

    @api.model
    def _with_activities(self):
        # activities due on the customer's invoices, promises, disputes and payment plans of
        # this company, and on the customer itself when it belongs to this company
        return SQL(
            """
            SELECT COALESCE(m.commercial_partner_id, prp.commercial_partner_id,
                            dp.commercial_partner_id, pp.commercial_partner_id,
                            p.commercial_partner_id) AS partner_id,
                   COUNT(*) AS activity_due_count,
                   MIN(act.date_deadline) AS date_due
              FROM mail_activity act
              LEFT JOIN account_move m ON act.res_model = 'account.move' AND m.id = act.res_id
                   AND m.company_id = %(company)s
              LEFT JOIN credit_promise pr ON act.res_model = 'credit.promise' AND pr.id = act.res_id
                   AND pr.company_id = %(company)s
              LEFT JOIN res_partner prp ON prp.id = pr.partner_id
              LEFT JOIN credit_dispute d ON act.res_model = 'credit.dispute' AND d.id = act.res_id
                   AND d.company_id = %(company)s
              LEFT JOIN res_partner dp ON dp.id = d.partner_id
              LEFT JOIN credit_payment_plan plan ON act.res_model = 'credit.payment.plan'
                   AND plan.id = act.res_id AND plan.company_id = %(company)s
              LEFT JOIN res_partner pp ON pp.id = plan.partner_id
              LEFT JOIN res_partner p ON act.res_model = 'res.partner' AND p.id = act.res_id
                   AND p.company_id = %(company)s
             WHERE act.res_model IN ('account.move', 'credit.promise', 'credit.dispute',
                                     'credit.payment.plan', 'res.partner')
               AND act.active
               AND act.date_deadline <= %(today)s
          GROUP BY 1
            """,
            company=self.env.company.id,
            today=self._query_values()["today"],
        )

    @api.model
    def _with_customers(self):
        """The customers with something to do today."""
        return SQL(
            """
            SELECT partner_id FROM open_items WHERE overdue_amount > 0 OR limitation_count > 0
            UNION SELECT partner_id FROM promises WHERE promise_due_count > 0 OR promise_broken_count > 0
            UNION SELECT partner_id FROM tasks
            UNION SELECT partner_id FROM activities WHERE partner_id IS NOT NULL
            """
        )

    @api.model
    def _with_facts(self):
        return SQL(
            """
            SELECT c.partner_id,
                   cp.user_id,
                   (cp.credit_manager_id ->> %(company_key)s)::int AS collector_id,
                   (cp.credit_rating_id ->> %(company_key)s)::int AS rating_id,
                   (cp.credit_score ->> %(company_key)s)::int AS score,
                   COALESCE(oi.open_amount, 0) AS open_amount,
                   COALESCE(oi.credit_amount, 0) AS credit_amount,
                   COALESCE(oi.overdue_amount, 0) AS overdue_amount,
                   COALESCE(oi.overdue_count, 0) AS overdue_count,
                   COALESCE(oi.days_overdue, 0) AS days_overdue,
                   COALESCE(oi.disputed_amount, 0) AS disputed_amount,
                   COALESCE(oi.promised_amount, 0) AS promised_amount,
                   COALESCE(pr.promise_due_count, 0) AS promise_due_count,
                   COALESCE(pr.promise_due_amount, 0) AS promise_due_amount,
                   COALESCE(pr.promise_broken_count, 0) AS promise_broken_count,
                   pr.date_promise_broken,
                   COALESCE(t.task_due_count, 0) AS task_due_count,
                   COALESCE(act.activity_due_count, 0) AS activity_due_count,
                   LEAST(t.date_due, act.date_due) AS date_followup,
                   COALESCE(oi.limitation_count, 0) AS limitation_count,
                   COALESCE(oi.limitation_amount, 0) AS limitation_amount,
                   oi.date_limitation
              FROM customers c
              JOIN res_partner cp ON cp.id = c.partner_id
              LEFT JOIN open_items oi ON oi.partner_id = c.partner_id
              LEFT JOIN promises pr ON pr.partner_id = c.partner_id
              LEFT JOIN tasks t ON t.partner_id = c.partner_id
              LEFT JOIN activities act ON act.partner_id = c.partner_id
            """,
            company_key=str(self.env.company.id),
        )

    @api.model
    def _with_points(self):
        """The points per factor (company settings ``credit_worklist_*``)."""
        pts = self._query_values()["points"]
        return SQL(
            """
            SELECT facts.*,
                   LEAST(%(overdue_max)s, FLOOR(overdue_amount / %(overdue_per)s))::int AS points_overdue,
                   LEAST(%(days_max)s, days_overdue / %(days_per)s)::int AS points_days,
                   CASE WHEN rating_id IS NULL THEN %(rating_unrated)s
                        ELSE ROUND((100 - LEAST(GREATEST(COALESCE(score, 0), 0), 100))::numeric
                                   / %(rating_divisor)s) END::int AS points_rating,
                   CASE WHEN promise_due_count > 0 THEN %(promise_due)s ELSE 0 END AS points_promise_due,
                   CASE WHEN promise_broken_count > 0 THEN %(promise_broken)s ELSE 0 END
                       AS points_promise_broken,
                   LEAST(%(followup_max)s, %(followup_each)s * (task_due_count + activity_due_count))::int
                       AS points_followup,
                   CASE WHEN limitation_count > 0 THEN %(limitation)s ELSE 0 END AS points_limitation
              FROM facts
            """,
            **{key: value for key, value in pts.items() if key != "promise_broken_days"},
        )

    @api.model
    def _select(self):
        company = self.env.company
        return SQL(
            """points.partner_id AS id,
               %(company)s AS company_id,
               %(currency)s AS currency_id,
               points.*,
               %(priority)s AS priority""",
            company=company.id,
            currency=company.currency_id.id,
            priority=self._priority_sql(),
        )

    @api.model
    def _priority_sql(self):
        """The line's priority: the sum of the points (another module adds its own)."""
        return SQL(
            """points_overdue + points_days + points_rating + points_promise_due
                   + points_promise_broken + points_followup + points_limitation"""
        )

    @api.model
    def _from(self):
        return SQL("points")

    @api.model
    def _where(self):
        return SQL("TRUE")

    # === COMPUTE === #
    def _compute_related_records(self):
        """Open items, promises, disputes and open tasks of the lines' customers (the form)."""
        company = self.env.company
        partners = self.partner_id
        lines = self.env["account.move.line"].search(
            open_receivable_domain(company, partners), order="date_maturity, id"
        )
        promises = self.env["credit.promise"].search(
            [("partner_id", "child_of", partners.ids), ("company_id", "=", company.id)]
        )
        disputes = self.env["credit.dispute"].search(
            [("partner_id", "child_of", partners.ids), ("company_id", "=", company.id)]
        )
        tasks = self.env["credit.task"].search(
            [
                ("partner_id", "child_of", partners.ids),
                ("company_id", "=", company.id),
                ("is_open", "=", True),
            ]
        )
        for line in self:
            partner = line.partner_id
            line.move_line_ids = lines.filtered(lambda r, p=partner: r.partner_id.commercial_partner_id == p)
            line.promise_ids = promises.filtered(lambda r, p=partner: r.partner_id.commercial_partner_id == p)
            line.dispute_ids = disputes.filtered(lambda r, p=partner: r.partner_id.commercial_partner_id == p)
            line.task_ids = tasks.filtered(lambda r, p=partner: r.partner_id.commercial_partner_id == p)

    # === ACTIONS === #
    def action_open_partner(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "res.partner",
            "res_id": self.partner_id.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }

    def action_record_promise(self):
        """Open the small "Record Promise" form for this customer's overdue invoices."""
        self.ensure_one()
        return self.env["credit.worklist.promise"].action_new_for_partner(self.partner_id)

    @api.model
    @api.readonly
    def web_search_read(self, domain, specification, offset=0, limit=None, order=None, count_limit=None):
        """The list as the web client opens it: the page and the number of lines from one run of
        the view's query. The query computes every line to order them anyway; the standard
        method would run it a second time for the count (search_count)."""
        if not limit:
            return super().web_search_read(domain, specification, offset, limit, order, count_limit)
        lines = self.search_fetch(domain, specification.keys(), order=order)
        page = lines[offset : offset + limit].web_read(specification)
        if not page:
            return {"length": 0, "records": []}
        # the length as _format_web_search_read_results gives it
        length = offset + len(page)
        if len(page) == limit and not (count_limit and count_limit <= length):
            length = min(len(lines), count_limit) if count_limit else len(lines)
        return {"length": length, "records": page}

    @api.model
    def search_fetch(self, domain, field_names, offset=0, limit=None, order=None):
        # A live view whose ids come back every day: values cached by an earlier search (another
        # day in the context, or before a change) must not be served again. Every column is
        # fetched with the search itself, so that the view's query runs once, not once more
        # for the fields read afterwards.
        self.invalidate_model()
        columns = [name for name, field in self._fields.items() if field.store and field.column_type]
        return super().search_fetch(domain, columns, offset=offset, limit=limit, order=order)

    @api.model
    def _flush_sources(self):
        """The view reads these tables directly: pending ORM writes go to the database first."""
        for model, names in (
            (
                "account.move.line",
                ["amount_residual", "reconciled", "date_maturity", "parent_state", "partner_id"],
            ),
            ("account.move", ["invoice_date", "commercial_partner_id"]),
            ("res.partner", ["credit_rating_id", "credit_score", "credit_manager_id", "user_id"]),
            (
                "credit.promise",
                [
                    "state",
                    "date_promised",
                    "date_grace_end",
                    "date_closed",
                    "amount",
                    "move_ids",
                    "partner_id",
                ],
            ),
            ("credit.dispute", ["state", "move_ids", "partner_id"]),
            ("credit.payment.plan", ["partner_id"]),
            ("credit.agency.handover", ["state", "move_ids"]),
            ("credit.task", ["is_open", "date_deadline", "partner_id"]),
            ("mail.activity", ["date_deadline", "res_model", "res_id", "active"]),
        ):
            self.env[model].flush_model(names)
