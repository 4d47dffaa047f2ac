"""Open receivable items of customers, defined once.

An open receivable item is a journal item that is

- posted (``parent_state = 'posted'``),
- on a receivable account (``account_type = 'asset_receivable'``),
- not reconciled (``reconciled`` false) — in SQL also with an amount left
  (``amount_residual <> 0 OR amount_residual_currency <> 0``) when the module's covering index
  is used, see :data:`INDEX_OPEN_ITEM`,
- of a customer: its commercial partner (``res_partner.commercial_partner_id``) is the customer,
- of a company,

optionally only debit items (``sign="debit"``: invoices, amount left > 0) or credit items
(``sign="credit"``: credit notes, unallocated payments), due before a date, or open *as of* a
past date (only reconciliations dated on or before it count).

:func:`open_receivable_domain` gives the condition as an ORM domain on ``account.move.line``,
:func:`open_receivable_where` as a SQL condition on a journal item alias (``l``) joined with its
partner (``p``), :data:`OPEN_ITEM_FIELDS` the columns to flush before a query reads them. A
query keeps its own SELECT, joins and grouping; the condition comes from here::

    from odoo.tools import SQL
    from ..lib.open_items import flush_open_items, open_receivable_where

    flush_open_items(self.env)
    rows = self.env.execute_query(SQL(
        '''SELECT p.commercial_partner_id, SUM(l.amount_residual)
             FROM account_move_line l
             JOIN res_partner p ON p.id = l.partner_id
            WHERE %s
         GROUP BY 1''',
        open_receivable_where(company_id=company.id, sign="debit"),
    ))
"""

from odoo.tools import SQL

# The receivable accounts as an array for ``account_id = ANY(...)``: filtered this way (instead of
# a join with account_account) the index on open items filters them, and the planner estimates
# the number of receivable items right (a join estimates a fraction and reads the items' partials
# by an index probe per item).
RECEIVABLE_ACCOUNT_IDS = SQL("ARRAY(SELECT id FROM account_account WHERE account_type = 'asset_receivable')")

# Which partial index the "not reconciled" condition is written for: PostgreSQL uses a partial
# index only when the query repeats its WHERE clause.
# - INDEX_OPEN_ITEM: the module's covering index ``credit_control_aml_open_item_idx`` on
#   (partner_id, account_id), items with an amount left (exposure, payment behaviour, forecast:
#   queries per customer)
# - INDEX_UNRECONCILED: account's ``account_move_line__unreconciled_index`` on
#   (account_id, partner_id) (worklist, problem cases: every customer of a company)
INDEX_OPEN_ITEM = "open_item"
INDEX_UNRECONCILED = "unreconciled"

# the journal item columns the condition reads (plus what the callers commonly select)
OPEN_ITEM_FIELDS = (
    "account_id",
    "amount_residual",
    "amount_residual_currency",
    "company_id",
    "date",
    "date_maturity",
    "parent_state",
    "partner_id",
    "reconciled",
)


def flush_open_items(env, extra=()):
    """Pending ORM writes of the columns an open-item query reads go to the database first."""
    env["account.move.line"].flush_model([*OPEN_ITEM_FIELDS, *extra])
    env["res.partner"].flush_model(["commercial_partner_id"])


def open_receivable_domain(company=None, partners=None, sign=None, due_before=None):
    """The open receivable items as a domain on ``account.move.line``.

    :param company: a ``res.company`` (or id); None: every company
    :param partners: ``res.partner`` records (or ids); their commercial partners and every contact
        of them; None: every customer
    :param sign: None, ``"debit"`` (amount left > 0) or ``"credit"`` (amount left < 0)
    :param due_before: a date: only items due before it
    """
    domain = [
        ("parent_state", "=", "posted"),
        ("account_type", "=", "asset_receivable"),
        ("reconciled", "=", False),
    ]
    if company is not None:
        domain.append(("company_id", "=", company if isinstance(company, int) else company.id))
    if partners is not None:
        ids = partners if isinstance(partners, list | tuple) else partners.commercial_partner_id.ids
        domain.append(("partner_id", "child_of", list(ids)))
    if sign:
        domain.append(("amount_residual", _sign_operator(sign), 0))
    if due_before:
        domain.append(("date_maturity", "<", due_before))
    return domain


def open_receivable_where(
    line="l",
    partner="p",
    *,
    company_id=None,
    partner_ids=None,
    sign=None,
    due_before=None,
    account=None,
    index=INDEX_OPEN_ITEM,
    as_of=None,
):
    """The open receivable items as a SQL condition on the journal item alias ``line`` (with
    ``partner``, the alias of ``res_partner`` joined on ``line.partner_id``, when ``partner_ids``
    is given).

    :param company_id: id of the company (None: every company)
    :param partner_ids: ids of commercial partners (None: every customer)
    :param sign: None, ``"debit"`` (amount left > 0) or ``"credit"`` (amount left < 0)
    :param due_before: a date or SQL: only items due before it
    :param account: alias of a joined ``account_account`` to test the account type on; None:
        ``account_id = ANY(`` :data:`RECEIVABLE_ACCOUNT_IDS` ``)``
    :param index: :data:`INDEX_OPEN_ITEM` or :data:`INDEX_UNRECONCILED`, the partial index the
        "not reconciled" condition is written for
    :param as_of: a date: the items open at the end of that day (dated on or before it, not
        reconciled or reconciled by a partial dated after it); the amount left at that date is
        the caller's (``balance`` less the partials dated on or before it)
    """
    l = SQL.identifier(line)  # noqa: E741 - the journal item alias of every query of the module
    conditions = [
        SQL("%s.account_type = 'asset_receivable'", SQL.identifier(account))
        if account
        else SQL("%s.account_id = ANY(%s)", l, RECEIVABLE_ACCOUNT_IDS)
    ]
    if company_id is not None:
        conditions.append(SQL("%s.company_id = %s", l, company_id))
    conditions.append(SQL("%s.parent_state = 'posted'", l))
    conditions.append(_open_sql(l, index, as_of))
    if partner_ids is not None:
        conditions.append(
            SQL("%s.commercial_partner_id IN %s", SQL.identifier(partner), tuple(partner_ids) or (0,))
        )
    if sign and not as_of:
        conditions.append(SQL("%s.amount_residual %s 0", l, SQL(_sign_operator(sign))))
    if due_before is not None:
        conditions.append(SQL("%s.date_maturity < %s", l, due_before))
    return SQL(" AND ").join(conditions)


def _open_sql(l, index, as_of):  # noqa: E741
    """Not reconciled (in the form of ``index``), or open at the end of ``as_of``."""
    if as_of:
        return SQL(
            """%(l)s.date <= %(as_of)s
               AND (NOT %(l)s.reconciled OR %(l)s.id IN (
                    SELECT pr.debit_move_id FROM account_partial_reconcile pr
                     WHERE pr.max_date > %(as_of)s
                     UNION ALL
                    SELECT pr.credit_move_id FROM account_partial_reconcile pr
                     WHERE pr.max_date > %(as_of)s))""",
            l=l,
            as_of=as_of,
        )
    if index == INDEX_UNRECONCILED:
        # exactly as account's partial index has it, or the index is not used
        return SQL(
            "(%(l)s.reconciled IS NULL OR %(l)s.reconciled = false OR %(l)s.reconciled IS NOT true)", l=l
        )
    if index == INDEX_OPEN_ITEM:
        return SQL(
            "NOT %(l)s.reconciled AND (%(l)s.amount_residual <> 0 OR %(l)s.amount_residual_currency <> 0)",
            l=l,
        )
    raise ValueError("unknown open-item index %r" % (index,))


def _sign_operator(sign):
    if sign == "debit":
        return ">"
    if sign == "credit":
        return "<"
    raise ValueError("sign must be 'debit' or 'credit', not %r" % (sign,))
