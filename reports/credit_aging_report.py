from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, format_date

from ..lib.open_items import open_receivable_where

BUCKETS = [
    ("not_due", "Not Due"),
    ("1_30", "1-30 Days"),
    ("31_60", "31-60 Days"),
    ("61_90", "61-90 Days"),
    ("91_180", "91-180 Days"),
    ("180_plus", "Over 180 Days"),
]


class CreditAgingReport(models.Model):
    """Open receivable items as of a date (``aging_date`` in the context, default today), with
    the amount still open at that date: only reconciliations dated on or before it count."""

    _name = "credit.aging.report"
    _description = "Receivables Aging"
    _auto = False
    _order = "date_maturity, id"
    _rec_name = "move_name"

    aging_date = fields.Date(string="As Of", readonly=True)
    move_line_id = fields.Many2one("account.move.line", string="Journal Item", readonly=True)
    move_id = fields.Many2one("account.move", string="Document", readonly=True)
    move_name = fields.Char(string="Number", readonly=True)
    date = fields.Date(readonly=True)
    date_maturity = fields.Date(string="Due Date", readonly=True)
    days_overdue = fields.Integer(readonly=True, aggregator="max")
    bucket = fields.Selection(BUCKETS, readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    country_id = fields.Many2one("res.country", string="Country", readonly=True)
    industry_id = fields.Many2one("res.partner.industry", string="Industry", readonly=True)
    rating_id = fields.Many2one("credit.rating", string="Risk Rating", readonly=True)
    dunning_level_id = fields.Many2one("credit.dunning.level", string="Document Dunning Level", readonly=True)
    escalation_level_id = fields.Many2one(
        "credit.dunning.level",
        string="Escalation Level",
        readonly=True,
        help="Highest dunning level of the customer's open invoices in the item's company.",
    )
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", string="Company Currency", readonly=True)
    amount_open = fields.Monetary(
        string="Open",
        readonly=True,
        aggregator="sum",
        help="Open amount of the document (credits negative). The buckets hold the invoices' open "
        "amounts net of the customer's open credits (oldest invoices first); a credit larger "
        "than the customer's invoices stays as Unapplied Credit: buckets + unapplied credit = open.",
    )
    amount_net = fields.Monetary(
        string="Open Net of Credits",
        readonly=True,
        aggregator="sum",
        help="An invoice's open amount less the customer's open credits it absorbs (oldest "
        "invoices first); 0 for credits.",
    )
    amount_credit = fields.Monetary(
        string="Unapplied Credit",
        readonly=True,
        aggregator="sum",
        help="The part of an open credit (credit note, unallocated payment) that the customer's "
        "open invoices do not absorb.",
    )
    amount_not_due = fields.Monetary(string="Not Due", readonly=True, aggregator="sum")
    amount_1_30 = fields.Monetary(string="1-30", readonly=True, aggregator="sum")
    amount_31_60 = fields.Monetary(string="31-60", readonly=True, aggregator="sum")
    amount_61_90 = fields.Monetary(string="61-90", readonly=True, aggregator="sum")
    amount_91_180 = fields.Monetary(string="91-180", readonly=True, aggregator="sum")
    amount_180_plus = fields.Monetary(string="> 180", readonly=True, aggregator="sum")

    @api.model
    def _aging_date(self):
        return fields.Date.to_date(self.env.context.get("aging_date")) or fields.Date.context_today(self)

    @property
    def _table_query(self):
        # the query reads the ledger's columns: pending writes first
        self.env["account.move.line"].flush_model()
        self.env["account.partial.reconcile"].flush_model()
        self.env["account.move"].flush_model()
        self.env["res.partner"].flush_model()
        # JIT compilation takes seconds for this query and saves nothing (SET LOCAL: this
        # transaction only; the query is built just before it runs)
        self.env.cr.execute("SET LOCAL jit = off")
        return self._query()

    # Report SQL from named pieces, as sale.report builds its query. The journal items:
    # _select_items(), _from_items(), _where_items() (alias l, joined with a, p, cp, m); netted
    # per customer in _netted_items(); the buckets: _select(), _from(), _where(). Another module
    # extends a piece and calls super(); a column added to _select_items() reaches the result.
    @api.model
    def _query(self):
        return SQL("SELECT %s FROM %s WHERE %s", self._select(), self._from(), self._where())

    @api.model
    def _days_overdue_sql(self):
        return SQL("(%(as_of)s::date - COALESCE(l.date_maturity, l.date))", as_of=self._aging_date())

    @api.model
    def _select_items(self):
        days = self._days_overdue_sql()
        return SQL(
            """l.id AS id,
               l.id AS move_line_id,
               l.move_id,
               l.move_name,
               l.date,
               l.date_maturity,
               %(as_of)s::date AS aging_date,
               GREATEST(%(days)s, 0) AS days_overdue,
               p.commercial_partner_id AS partner_id,
               cp.user_id,
               cp.country_id,
               cp.industry_id,
               -- company-dependent rating: the value of the item's company (jsonb by company id)
               (cp.credit_rating_id ->> l.company_id::text)::int AS rating_id,
               m.credit_dunning_level_id AS dunning_level_id,
               esc.level_id AS escalation_level_id,
               l.company_id,
               l.company_currency_id AS currency_id,
               l.balance - COALESCE(settled.amount, 0) AS amount_open,
               %(days)s AS raw_days""",
            as_of=self._aging_date(),
            days=days,
        )

    @api.model
    def _from_items(self):
        as_of = self._aging_date()
        # amounts settled on or before the date per journal item (debit side +, credit side -),
        # aggregated once and hash-joined: correlated sub-selects per item cost seconds on a
        # large ledger (and their cost estimate switches PostgreSQL's JIT on)
        settled = SQL(
            """
            SELECT line_id, SUM(amount) AS amount
              FROM (SELECT pr.debit_move_id AS line_id, pr.amount
                      FROM account_partial_reconcile pr WHERE pr.max_date <= %(as_of)s
                    UNION ALL
                    SELECT pr.credit_move_id, -pr.amount
                      FROM account_partial_reconcile pr WHERE pr.max_date <= %(as_of)s) moves
          GROUP BY line_id
            """,
            as_of=as_of,
        )
        # escalation level: the highest level (sequence, days, id) of the customer's open
        # invoices per company, as res.partner.credit_dunning_level_id computes it
        escalation = SQL(
            """
            SELECT DISTINCT ON (m.commercial_partner_id, m.company_id)
                   m.commercial_partner_id AS partner_id, m.company_id, m.credit_dunning_level_id AS level_id
              FROM account_move m
              JOIN credit_dunning_level dl ON dl.id = m.credit_dunning_level_id
             WHERE m.credit_dunning_level_id IS NOT NULL
               AND m.state = 'posted'
               AND m.move_type = 'out_invoice'
               AND m.payment_state IN ('not_paid', 'partial')
          ORDER BY m.commercial_partner_id, m.company_id, dl.sequence DESC, dl.days DESC, dl.id DESC
            """
        )
        return SQL(
            """account_move_line l
              JOIN account_account a ON a.id = l.account_id
              JOIN res_partner p ON p.id = l.partner_id
              JOIN res_partner cp ON cp.id = p.commercial_partner_id
              JOIN account_move m ON m.id = l.move_id
         LEFT JOIN (%(escalation)s) esc ON esc.partner_id = cp.id AND esc.company_id = l.company_id
         LEFT JOIN (%(settled)s) settled ON settled.line_id = l.id""",
            escalation=escalation,
            settled=settled,
        )

    @api.model
    def _where_items(self):
        return open_receivable_where(account="a", as_of=self._aging_date())

    @api.model
    def _netted_items(self):
        """Open credits netted per customer and company, oldest invoices first: an invoice keeps
        what the customer's credits do not absorb (amount_net); a credit keeps what the
        invoices do not absorb (amount_credit)."""
        return SQL(
            """
            SELECT items.*,
                   CASE WHEN items.amount_open > 0 THEN GREATEST(0, LEAST(items.amount_open,
                        SUM(GREATEST(items.amount_open, 0)) OVER same_sign
                        - SUM(GREATEST(-items.amount_open, 0)) OVER customer)) ELSE 0 END AS amount_net,
                   CASE WHEN items.amount_open < 0 THEN -GREATEST(0, LEAST(-items.amount_open,
                        SUM(GREATEST(-items.amount_open, 0)) OVER same_sign
                        - SUM(GREATEST(items.amount_open, 0)) OVER customer)) ELSE 0 END AS amount_credit
              FROM (SELECT %(select)s FROM %(from)s WHERE %(where)s) items
             WHERE items.amount_open <> 0
            WINDOW customer AS (PARTITION BY items.partner_id, items.company_id),
                   same_sign AS (PARTITION BY items.partner_id, items.company_id, items.amount_open > 0
                                 ORDER BY COALESCE(items.date_maturity, items.date), items.id
                                 ROWS UNBOUNDED PRECEDING)
            """,
            select=self._select_items(),
            where=self._where_items(),
            **{"from": self._from_items()},
        )

    @api.model
    def _select(self):
        def bucket_amount(condition):
            return SQL("CASE WHEN %s THEN open_items.amount_net ELSE 0 END", SQL(condition))

        return SQL(
            """open_items.*,
               CASE WHEN open_items.days_overdue <= 0 THEN 'not_due'
                    WHEN open_items.days_overdue <= 30 THEN '1_30'
                    WHEN open_items.days_overdue <= 60 THEN '31_60'
                    WHEN open_items.days_overdue <= 90 THEN '61_90'
                    WHEN open_items.days_overdue <= 180 THEN '91_180'
                    ELSE '180_plus' END AS bucket,
               %(not_due)s AS amount_not_due,
               %(b1)s AS amount_1_30,
               %(b2)s AS amount_31_60,
               %(b3)s AS amount_61_90,
               %(b4)s AS amount_91_180,
               %(b5)s AS amount_180_plus""",
            not_due=bucket_amount("open_items.raw_days <= 0"),
            b1=bucket_amount("open_items.raw_days BETWEEN 1 AND 30"),
            b2=bucket_amount("open_items.raw_days BETWEEN 31 AND 60"),
            b3=bucket_amount("open_items.raw_days BETWEEN 61 AND 90"),
            b4=bucket_amount("open_items.raw_days BETWEEN 91 AND 180"),
            b5=bucket_amount("open_items.raw_days > 180"),
        )

    @api.model
    def _from(self):
        return SQL("(%s) open_items", self._netted_items())

    @api.model
    def _where(self):
        return SQL("TRUE")

    @api.model
    def _get_aging(self, as_of, domain=None):
        """The aging rows as of ``as_of``. Rows are journal items, so the same ids come back for
        another date: the model's cache is cleared first, or values of the previous date would
        be read."""
        self.invalidate_model()
        return self.with_context(aging_date=fields.Date.to_string(fields.Date.to_date(as_of))).search(
            domain or []
        )

    @api.model
    def _get_aging_totals(self, as_of, domain=None):
        """Sums of the open amount and of each bucket as of ``as_of`` in the current company."""
        measures = ["amount_open", "amount_credit"] + ["amount_%s" % key for key, _label in BUCKETS]
        report = self.with_context(aging_date=fields.Date.to_string(fields.Date.to_date(as_of)))
        sums = report._read_group(
            [("company_id", "=", self.env.company.id)] + (domain or []),
            [],
            ["%s:sum" % name for name in measures],
        )[0]
        return {name: value or 0.0 for name, value in zip(measures, sums, strict=True)}

    @api.model
    def _check_aging_date(self, as_of):
        """Bad input gets a clear error: no aging in the future or before the first entry."""
        today = fields.Date.context_today(self)
        if as_of > today:
            raise UserError(_("The aging cannot be computed for a future date (%(date)s).", date=as_of))
        first = self.env["account.move.line"].search(
            [("company_id", "in", self.env.companies.ids), ("parent_state", "=", "posted")],
            order="date",
            limit=1,
        )
        if not first or as_of < first.date:
            raise UserError(
                _("There are no journal entries on or before %(date)s: choose a later date.", date=as_of)
            )
        return True

    @api.model
    def action_open(self, as_of=None):
        as_of = fields.Date.to_date(as_of) or fields.Date.context_today(self)
        self._check_aging_date(as_of)
        action = self.env["ir.actions.act_window"]._for_xml_id("credit_control.credit_aging_report_action")
        action["context"] = {"aging_date": fields.Date.to_string(as_of)}
        action["display_name"] = _("Aging as of %(date)s", date=format_date(self.env, as_of))
        return action
