from odoo import fields, models
from odoo.tools import SQL

from .res_partner_exposure import EXPOSURE_FUNCTION_PATTERN

# The open items a total counts: the module's covering index on open items has the same
# condition (``account.move.line.init``), plus the items that are not the company's risk left out.
# Keyed by partner (not commercial partner: a change of the partner hierarchy needs no update,
# the reading query joins the partner), account, company, currency, due date and sign, so that
# the exposure's overdue part (past-due debit items) and the oldest due date come from the totals.
TOTAL_KEY = ("partner_id", "account_id", "company_id", "currency_id", "date_maturity", "debit")
TOTAL_ITEM_CONDITION = """partner_id IS NOT NULL
               AND NOT reconciled
               AND parent_state = 'posted'
               AND (amount_residual <> 0 OR amount_residual_currency <> 0)
               AND credit_exposure_excluded IS NOT TRUE"""
TRIGGER_FUNCTION = "credit_control_exposure_total_trg"
# name -> (event, transition tables)
TRIGGERS = {
    "credit_control_exposure_total_ins": ("INSERT", "REFERENCING NEW TABLE AS new_rows"),
    "credit_control_exposure_total_upd": (
        "UPDATE",
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    ),
    "credit_control_exposure_total_del": ("DELETE", "REFERENCING OLD TABLE AS old_rows"),
    "credit_control_exposure_total_trunc": ("TRUNCATE", ""),
}


def _delta_sql(table, sign):
    return f"""
        SELECT partner_id, account_id, company_id, currency_id, date_maturity,
               amount_residual > 0 AS debit,
               {sign} SUM(amount_residual) AS amount_residual,
               {sign} SUM(amount_residual_currency) AS amount_residual_currency,
               {sign} COUNT(*) AS items
          FROM {table}
         WHERE {TOTAL_ITEM_CONDITION}
      GROUP BY 1, 2, 3, 4, 5, 6"""


def _upsert_sql(deltas):
    key = ", ".join(TOTAL_KEY)
    return f"""
        INSERT INTO credit_exposure_total AS t
               ({key}, amount_residual, amount_residual_currency, items)
        SELECT {key}, SUM(d.amount_residual), SUM(d.amount_residual_currency), SUM(d.items)
          FROM ({" UNION ALL ".join(deltas)}) d
      GROUP BY {key}
        HAVING SUM(d.items) <> 0 OR SUM(d.amount_residual) <> 0 OR SUM(d.amount_residual_currency) <> 0
      ORDER BY {key}
            ON CONFLICT ({key}) DO UPDATE
           SET amount_residual = t.amount_residual + EXCLUDED.amount_residual,
               amount_residual_currency = t.amount_residual_currency + EXCLUDED.amount_residual_currency,
               items = t.items + EXCLUDED.items"""


def _init_statements():
    """The unique key (for the upsert), the trigger function and the triggers, as SQL texts
    made of this module's constants only."""
    key = ", ".join(TOTAL_KEY)
    upsert = {
        "INSERT": _upsert_sql([_delta_sql("new_rows", "")]),
        "UPDATE": _upsert_sql([_delta_sql("new_rows", ""), _delta_sql("old_rows", "-")]),
        "DELETE": _upsert_sql([_delta_sql("old_rows", "-")]),
    }
    statements = [
        f"""CREATE UNIQUE INDEX IF NOT EXISTS credit_exposure_total_key_uniq
                ON credit_exposure_total ({key}) NULLS NOT DISTINCT""",
        # the totals of the receivable accounts of a company (the exposure of many customers
        # reads them instead of every total: the outstanding payment accounts' open items have
        # totals too); columns an update never changes, so the triggers' updates stay HOT
        """CREATE INDEX IF NOT EXISTS credit_exposure_total_account_idx
                ON credit_exposure_total (account_id, company_id)""",
        f"""
        CREATE OR REPLACE FUNCTION {TRIGGER_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $fn$
        BEGIN
            IF TG_OP = 'INSERT' THEN {upsert["INSERT"]};
            ELSIF TG_OP = 'UPDATE' THEN {upsert["UPDATE"]};
            ELSIF TG_OP = 'DELETE' THEN {upsert["DELETE"]};
            ELSIF TG_OP = 'TRUNCATE' THEN DELETE FROM credit_exposure_total;
            END IF;
            RETURN NULL;
        END
        $fn$""",
    ]
    for name, (event, referencing) in TRIGGERS.items():
        statements += [
            f"DROP TRIGGER IF EXISTS {name} ON account_move_line",
            f"""CREATE TRIGGER {name} AFTER {event} ON account_move_line {referencing}
                FOR EACH STATEMENT EXECUTE FUNCTION {TRIGGER_FUNCTION}()""",
            # also with session_replication_role = replica: a total must never go stale
            f"ALTER TABLE account_move_line ENABLE ALWAYS TRIGGER {name}",
        ]
    return [SQL(statement) for statement in statements]


_INIT_STATEMENTS = _init_statements()
_DROP_STATEMENTS = [SQL(f"DROP TRIGGER IF EXISTS {name} ON account_move_line") for name in TRIGGERS] + [
    SQL(f"DROP FUNCTION IF EXISTS {TRIGGER_FUNCTION}()")
]


class CreditExposureTotal(models.Model):
    """Running totals of the open items of each customer: what the credit check reads instead
    of summing every open item (a customer with 10,000 open items costs ~300 rows instead).

    Maintained by PostgreSQL statement triggers on ``account_move_line`` (every write, whoever
    makes it: the ORM, raw SQL of Odoo's accounting, imports), in the transaction of the write,
    set-based (one upsert per statement). Rebuilt from the journal items at install and upgrade
    (:meth:`_credit_rebuild`); :meth:`_credit_verify` compares them with the live sums. The
    exposure statement falls back to the live sums when the triggers are not all in place and
    enabled (``res.partner._credit_exposure_receivable_sql``). Written by the triggers only."""

    _name = "credit.exposure.total"
    _description = "Open Receivables Running Total"
    _log_access = False
    _order = "partner_id, company_id, date_maturity"

    partner_id = fields.Many2one("res.partner", required=True, readonly=True, ondelete="cascade")
    account_id = fields.Many2one("account.account", required=True, readonly=True, ondelete="cascade")
    company_id = fields.Many2one("res.company", required=True, readonly=True, ondelete="cascade")
    currency_id = fields.Many2one("res.currency", required=True, readonly=True, ondelete="cascade")
    date_maturity = fields.Date(string="Due Date", readonly=True)
    debit = fields.Boolean(string="Debit Items", readonly=True, help="Items with an amount left above 0.")
    amount_residual = fields.Monetary(
        string="Amount Left", readonly=True, currency_field="company_currency_id"
    )
    amount_residual_currency = fields.Monetary(
        string="Amount Left in Currency", readonly=True, currency_field="currency_id"
    )
    company_currency_id = fields.Many2one(related="company_id.currency_id", string="Company Currency")
    items = fields.Integer(string="Open Items", readonly=True)

    def init(self):
        result = super().init()
        for statement in _INIT_STATEMENTS:
            self.env.cr.execute(statement)
        self._credit_rebuild()
        return result

    # === BUSINESS METHODS === #
    def _credit_rebuild(self):
        """The totals computed again from the journal items (one statement each: delete, insert).
        Concurrent writers of journal items wait for the end of this transaction."""
        self.env.flush_all()
        self.env.cr.execute("LOCK TABLE credit_exposure_total IN EXCLUSIVE MODE")
        self.env.cr.execute("DELETE FROM credit_exposure_total")
        self.env.cr.execute(self._credit_live_sql(insert=True))
        self.env.invalidate_all()

    def _credit_verify(self, rebuild=False):
        """Differences between the totals and the live sums of the open items: a list of
        ``(source, key..., amount_residual, amount_residual_currency, items)`` rows found only in
        the totals (``source`` "total") or only in the live sums ("live"); empty when they agree.
        With ``rebuild``, the totals are rebuilt when they differ."""
        self.env.flush_all()
        key = ", ".join(TOTAL_KEY)
        rows = self.env.execute_query(
            SQL(
                f"""
            WITH live AS (%s),
                 total AS (SELECT {key}, amount_residual, amount_residual_currency, items::bigint
                             FROM credit_exposure_total WHERE items <> 0)
            (SELECT 'total', * FROM (SELECT * FROM total EXCEPT ALL SELECT * FROM live) d)
             UNION ALL
            (SELECT 'live', * FROM (SELECT * FROM live EXCEPT ALL SELECT * FROM total) d)
                """,
                self._credit_live_sql(),
            )
        )
        if rows and rebuild:
            self._credit_rebuild()
        return rows

    def _credit_live_sql(self, insert=False):
        key = ", ".join(TOTAL_KEY)
        select = f"""
            SELECT partner_id, account_id, company_id, currency_id, date_maturity,
                   amount_residual > 0 AS debit, SUM(amount_residual) AS amount_residual,
                   SUM(amount_residual_currency) AS amount_residual_currency, COUNT(*) AS items
              FROM account_move_line
             WHERE {TOTAL_ITEM_CONDITION}
          GROUP BY 1, 2, 3, 4, 5, 6"""
        if insert:
            select = f"""INSERT INTO credit_exposure_total
                                ({key}, amount_residual, amount_residual_currency, items) {select}"""
        return SQL(select)

    @classmethod
    def _credit_totals_in_force_sql(cls):
        """True when every trigger keeping the totals is in place and always enabled: only then
        may a query read the totals instead of the live sums."""
        return SQL(
            """(SELECT COUNT(*) = %s FROM pg_trigger
                 WHERE tgrelid = 'account_move_line'::regclass AND tgname IN %s AND tgenabled = 'A')""",
            len(TRIGGERS),
            tuple(TRIGGERS),
        )


def drop_exposure_total_triggers(cr):
    """Uninstall: the triggers on journal items go with the module (its table is dropped), and
    so do the exposure functions (``res.partner._credit_exposure_function_sql``)."""
    for statement in _DROP_STATEMENTS:
        cr.execute(statement)
    cr.execute(
        SQL(
            "SELECT oid::regprocedure::text FROM pg_proc WHERE proname ~ %s",
            EXPOSURE_FUNCTION_PATTERN,
        )
    )
    for (function,) in cr.fetchall():
        cr.execute(SQL("DROP FUNCTION IF EXISTS %s", SQL(function)))
