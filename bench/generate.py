#!/usr/bin/env python3
"""Benchmark ledger generator for credit_control (see bench/README.md).

Builds a realistic, reproducible receivables ledger in an Odoo 18 database that has
``credit_control`` installed (no demo data):

* company "Bench GmbH" (Germany, EUR, generic chart, 19 % / 7 % VAT), optionally a second one;
* customers (companies, some with contacts), credit limits on most of them, products;
* confirmed, not yet invoiced sale orders (through the ORM: ``create`` + ``action_confirm``);
* posted customer invoices with several lines and taxes over the last 13 months, various payment
  terms (instalments included), EUR and USD; payments reconciled with them (full, partial, in two
  parts, some late), credit notes (reversals and open ones), unreconciled customer payments;
* one "big" customer with ``--big-partner-items`` open items (single-partner exposure benchmark).

Master data goes through the ORM. The ledger (moves, lines, payments, partial/full
reconciliations) is computed in Python exactly the way Odoo would store it and written with COPY,
then checked against Odoo's own compute methods (``--no-check`` skips that). About 30,000 invoices
take well under five minutes; the ORM way (create + post + payment register) takes ~20.

Usage (normally through tools/bench.sh)::

    python bench/generate.py -c odoo.conf -d DB [--partners 1000 --invoices 20000 ...]
    python bench/generate.py --name-only [params]   # prints the template database name
"""

import argparse
import hashlib
import itertools
import json
import logging
import random
import sys
import time
from collections import defaultdict
from contextlib import ExitStack, contextmanager
from datetime import date, timedelta
from pathlib import Path

from psycopg2 import sql as pgsql

GENERATOR_VERSION = 1
_logger = logging.getLogger("bench.generate")

# payment term xmlid -> list of (share, days) instalments (the standard terms of account)
TERMS = {
    "account.account_payment_term_immediate": [(1.0, 0)],
    "account.account_payment_term_15days": [(1.0, 15)],
    "account.account_payment_term_21days": [(1.0, 21)],
    "account.account_payment_term_30days": [(1.0, 30)],
    "account.account_payment_term_45days": [(1.0, 45)],
    "account.account_payment_term_advance_60days": [(0.3, 0), (0.7, 60)],
}
TERM_WEIGHTS = [8, 15, 5, 45, 17, 10]
PRODUCT_NAMES = [
    "Hydraulic Pump",
    "Steel Bracket",
    "Control Unit",
    "Sensor Kit",
    "Gear Box",
    "Cable Set",
    "Valve Block",
    "Filter Cartridge",
    "Bearing Set",
    "Motor 2kW",
    "Spare Parts Kit",
    "Installation Service",
    "Maintenance Contract",
    "Engineering Hour",
    "Training Day",
    "Food Supplement",
    "Technical Book",
    "Safety Gloves",
    "Packaging Material",
    "Transport Flat Fee",
]
CITY_NAMES = ["Berlin", "Hamburg", "München", "Köln", "Frankfurt", "Stuttgart", "Leipzig", "Dresden"]
NAME_PARTS_A = ["Nord", "Süd", "Alpen", "Rhein", "Elb", "Main", "Donau", "Hansa", "Ost", "West", "Isar"]
NAME_PARTS_B = ["Metall", "Technik", "Handel", "Logistik", "Bau", "Energie", "Maschinen", "Chemie", "Food"]
NAME_FORMS = ["GmbH", "AG", "KG", "GmbH & Co. KG", "OHG", "e.K."]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("-c", "--config", help="Odoo configuration file")
    p.add_argument("-d", "--database", help="database to fill (credit_control installed)")
    p.add_argument("--name-only", action="store_true", help="print the template database name and exit")
    p.add_argument(
        "--same-data-names",
        action="store_true",
        help="print the names of older templates with the same data (one a line) and exit",
    )
    p.add_argument("--stats-file", help="also write the statistics JSON to this file")
    p.add_argument("--no-check", action="store_true", help="skip the ledger self-check")
    g = p.add_argument_group("data set (part of the template name)")
    g.add_argument("--partners", type=int, default=1000, help="customers (default 1000)")
    g.add_argument("--invoices", type=int, default=20000, help="customer invoices (default 20000)")
    g.add_argument("--paid-share", type=float, default=0.6, help="share of invoices fully paid")
    g.add_argument("--partial-share", type=float, default=0.1, help="share of invoices partially paid")
    g.add_argument("--overdue-share", type=float, default=0.5, help="share of the open invoices overdue")
    g.add_argument("--sale-orders", type=int, default=500, help="confirmed, uninvoiced sale orders")
    g.add_argument("--usd-share", type=float, default=0.1, help="share of invoices in USD (rest EUR)")
    g.add_argument("--companies", type=int, default=1, choices=(1, 2), help="companies (1 or 2)")
    g.add_argument("--seed", type=int, default=42, help="random seed")
    g.add_argument("--big-partner-items", type=int, default=10000, help="open items of the big partner")
    g.add_argument("--credit-note-share", type=float, default=0.03, help="credit notes per invoice")
    g.add_argument(
        "--unreconciled-payments", type=float, default=0.05, help="unallocated payments per customer"
    )
    g.add_argument(
        "--history-invoices",
        type=int,
        default=75000,
        help="paid one-line invoices of the two years before the main ledger (volume for the aging "
        "as of a past date: each adds two or three receivable lines)",
    )
    g.add_argument(
        "--scale",
        type=int,
        default=1,
        help="multiply the customers, invoices, history invoices and sale orders by this (e.g. 10: "
        "10,000 customers, ~960,000 invoices); a customer's own size and the big customer stay",
    )
    args = p.parse_args(argv)
    if args.scale < 1:
        p.error("--scale must be 1 or more")
    for key in SCALED_KEYS:
        setattr(args, key, getattr(args, key) * args.scale)
    if not (args.name_only or args.same_data_names) and not (args.config and args.database):
        p.error("-c and -d are required (or --name-only)")
    return args


# what --scale multiplies (the template name covers the results, not --scale itself)
SCALED_KEYS = ("partners", "invoices", "sale_orders", "history_invoices")
DATA_KEYS = (
    "partners",
    "invoices",
    "paid_share",
    "partial_share",
    "overdue_share",
    "sale_orders",
    "usd_share",
    "companies",
    "seed",
    "big_partner_items",
    "credit_note_share",
    "unreconciled_payments",
    "history_invoices",
)


def template_name(args):
    """Template database name: a hash of the data parameters and of this generator's source,
    without the lines between the "bulk load" markers (how the rows reach PostgreSQL, not which
    rows: a faster load keeps the templates already built)."""
    params = {k: getattr(args, k) for k in DATA_KEYS}
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode() + _data_source())
    return "cc_bench_%s" % digest.hexdigest()[:10]


def _data_source():
    kept, skipping = [], False
    for line in Path(__file__).read_text().splitlines(keepends=True):
        if line.startswith(BULK_BEGIN):
            skipping = True
        elif line.startswith(BULK_END):
            skipping = False
        elif not skipping:
            kept.append(line)
    return "".join(kept).encode()


BULK_BEGIN, BULK_END = "# >>> bulk load", "# <<< bulk load"


def same_data_names(name):
    """Templates built by earlier versions of this generator that hold the same data as ``name``
    (tools/bench.sh uses one of them when ``name`` does not exist)."""
    return SAME_DATA.get(name, ())


# ------------------------------------------------------------------------------------- helpers
# >>> bulk load (not part of the template name: see template_name)
# template -> older templates with the same data: before the bulk load above, the whole source
# was hashed; the same parameters gave the same rows (table by table, compared at 0.1x: every
# column but create/write dates and sale.order.date_order, Odoo's confirmation time)
SAME_DATA = {"cc_bench_bd1c12c8c8": ("cc_bench_9eba7545a0",)}


def _copy_value(value):
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    if isinstance(value, dict):
        return _copy_value(json.dumps(value))
    return str(value)


def copy_rows(cr, table, columns, rows, count=None):
    """Bulk insert with COPY (values are streamed as data, never interpolated into SQL); ``rows``
    may be any iterable (``count``: its length when it is not a list), its text is made while
    PostgreSQL reads it. Many rows: the table's plain indexes are dropped during the COPY and built
    again after it (one index build is much faster than maintaining ~20 indexes row by row)."""
    count = len(rows) if count is None else count
    if not count:
        return
    if count >= BULK_INDEX_ROWS:
        cr.execute(
            """
            SELECT i.relname, pg_get_indexdef(i.oid)
              FROM pg_index x
              JOIN pg_class i ON i.oid = x.indexrelid
             WHERE x.indrelid = %s::regclass
               AND NOT x.indisprimary AND NOT x.indisunique
               AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)
            """,
            [table],
        )
        indexes = cr.fetchall()
        for name, _definition in indexes:
            cr.execute(pgsql.SQL("DROP INDEX {}").format(pgsql.Identifier(name)).as_string(cr._obj))
        try:
            _copy(cr, table, columns, rows)
        finally:
            for _name, definition in indexes:
                cr.execute(definition)  # pg_get_indexdef's own text
        return
    _copy(cr, table, columns, rows)


# from this many rows on, a table's plain indexes are built after the COPY, not during it
BULK_INDEX_ROWS = 5000


class _CopyStream:
    """File-like object for ``copy_expert``: the COPY text of ``rows``, a batch at a time (the
    whole text of ten times the ledger would not fit in memory beside the ledger)."""

    def __init__(self, rows, batch=5000):
        self.rows = iter(rows)
        self.batch = batch

    def read(self, _size=-1):
        lines = [
            # numbers (most values) inline, the rest through _copy_value: the same text, faster
            "\t".join([str(v) if (t := type(v)) is int or t is float else _copy_value(v) for v in row])
            for row in itertools.islice(self.rows, self.batch)
        ]
        return "\n".join(lines) + "\n" if lines else ""


def _copy(cr, table, columns, rows):
    query = pgsql.SQL("COPY {} ({}) FROM STDIN").format(
        pgsql.Identifier(table), pgsql.SQL(", ").join(pgsql.Identifier(c) for c in columns)
    )
    cr._obj.copy_expert(query.as_string(cr._obj), _CopyStream(rows))


@contextmanager
def bulk_load(env, tables):
    """The ledger's bulk load: without the per-row foreign key checks (``session_replication_role
    = replica``, when the database user may set it) and without the module's running totals of
    open items (their INSERT trigger disabled). Afterwards every foreign key of ``tables`` is
    checked in one pass per table and the totals are built once from the journal items: the end
    state is the one the checks and the trigger would have made. Yields whether the foreign keys
    are deferred (then rows may refer to rows written later in the load)."""
    cr = env.cr
    cr.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    deferred = bool(cr.fetchone()[0])
    cr.execute(
        "SELECT tgname FROM pg_trigger WHERE tgrelid = 'account_move_line'::regclass AND tgname = %s",
        [TOTALS_TRIGGER],
    )
    totals = bool(cr.fetchall()) and "credit.exposure.total" in env.registry
    cr.execute("SET maintenance_work_mem = '512MB'")
    if deferred:
        cr.execute("SET session_replication_role = replica")
    if totals:
        cr.execute(f"ALTER TABLE account_move_line DISABLE TRIGGER {TOTALS_TRIGGER}")
    try:
        yield deferred
    finally:
        cr.execute("RESET session_replication_role")
        cr.execute("RESET maintenance_work_mem")
        if totals:
            cr.execute(f"ALTER TABLE account_move_line ENABLE ALWAYS TRIGGER {TOTALS_TRIGGER}")
    if deferred:
        check_foreign_keys(cr, tables)
    if totals:
        env["credit.exposure.total"]._credit_rebuild()


TOTALS_TRIGGER = "credit_control_exposure_total_ins"
# the tables the ledger is written to
BULK_TABLES = (
    "account_full_reconcile",
    "account_move",
    "account_payment",
    "account_move__account_payment",
    "account_move_line",
    "account_move_line_account_tax_rel",
    "account_partial_reconcile",
)


def check_foreign_keys(cr, tables):
    """Every single-column foreign key of ``tables`` verified set-based (one scan per table,
    a hash join per key); raises on a dangling reference."""
    cr.execute(
        """
        SELECT c.conrelid::regclass::text, c.conname, a.attname, c.confrelid::regclass::text, fa.attname
          FROM pg_constraint c
          JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
          JOIN pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = c.confkey[1]
         WHERE c.contype = 'f' AND cardinality(c.conkey) = 1 AND c.conrelid::regclass::text = ANY(%s)
      ORDER BY 1, 2
        """,
        [list(tables)],
    )
    by_table = defaultdict(list)
    for table, name, column, ref_table, ref_column in cr.fetchall():
        by_table[table].append((name, column, ref_table, ref_column))
    broken = []
    cr.execute("SET work_mem = '256MB'")
    for table, keys in by_table.items():
        Id = pgsql.Identifier
        counts = pgsql.SQL(", ").join(
            pgsql.SQL("count(*) FILTER (WHERE x.{} IS NOT NULL AND {}.{} IS NULL)").format(
                Id(column), Id("r%d" % n), Id(ref_column)
            )
            for n, (_name, column, _ref_table, ref_column) in enumerate(keys)
        )
        joins = pgsql.SQL(" ").join(
            pgsql.SQL("LEFT JOIN {} {} ON {}.{} = x.{}").format(
                Id(ref_table), Id("r%d" % n), Id("r%d" % n), Id(ref_column), Id(column)
            )
            for n, (_name, column, ref_table, ref_column) in enumerate(keys)
        )
        query = pgsql.SQL("SELECT {} FROM {} x {}").format(counts, Id(table), joins)
        cr.execute(query.as_string(cr._obj))
        for (name, *_rest), dangling in zip(keys, cr.fetchone(), strict=True):
            if dangling:
                broken.append("%s.%s: %d rows refer to nothing" % (table, name, dangling))
    cr.execute("RESET work_mem")
    if broken:
        raise SystemExit("foreign keys broken by the bulk load: %s" % "; ".join(broken))


# <<< bulk load


def reserve_ids(cr, table, count):
    """Reserve ``count`` consecutive ids of ``table``'s sequence; returns an iterator."""
    if not count:
        return iter(())
    seq = "%s_id_seq" % table
    cr.execute("SELECT nextval(%(seq)s)", {"seq": seq})
    start = cr.fetchone()[0]
    cr.execute("SELECT setval(%(seq)s, %(last)s)", {"seq": seq, "last": start + count - 1})
    return iter(range(start, start + count))


def r2(value):
    return round(value + 0.0, 2) + 0.0


class Timer:
    def __init__(self, indent="  "):
        self.t0 = time.perf_counter()
        self.last = self.t0
        self.steps = {}
        self.indent = indent

    def step(self, name):
        now = time.perf_counter()
        self.steps[name] = round(now - self.last, 2)
        print("%s%-28s %6.1fs" % (self.indent, name, now - self.last), flush=True)
        self.last = now

    @property
    def total(self):
        return round(time.perf_counter() - self.t0, 2)


# ------------------------------------------------------------------------------------ the ledger
class Line:
    """An account.move.line being planned (receivable lines also take part in reconciliation)."""

    __slots__ = (
        "id",
        "move",
        "account_id",
        "display_type",
        "name",
        "balance",
        "amount_currency",
        "res_bal",
        "res_cur",
        "date_maturity",
        "product_id",
        "quantity",
        "price_unit",
        "price_subtotal",
        "price_total",
        "tax_ids",
        "tax",
        "tax_base_amount",
        "sequence",
        "tax_tag_invert",
        "full_id",
        "partials",
        "payment_id",
    )

    def __init__(self, move, account_id, display_type, name, amount_currency, balance, **kw):
        self.id = None
        self.move = move
        self.account_id = account_id
        self.display_type = display_type
        self.name = name
        self.amount_currency = amount_currency
        self.balance = balance
        self.res_bal = balance
        self.res_cur = amount_currency
        self.date_maturity = kw.get("date_maturity")
        self.product_id = kw.get("product_id")
        self.quantity = kw.get("quantity", 0.0)
        self.price_unit = kw.get("price_unit", 0.0)
        self.price_subtotal = kw.get("price_subtotal", 0.0)
        self.price_total = kw.get("price_total", 0.0)
        self.tax_ids = kw.get("tax_ids", ())
        self.tax = kw.get("tax")
        self.tax_base_amount = kw.get("tax_base_amount")
        self.sequence = kw.get("sequence", 100)
        self.tax_tag_invert = kw.get("tax_tag_invert", False)
        self.full_id = None
        self.partials = []
        self.payment_id = kw.get("payment_id")


class Move:
    __slots__ = (
        "id",
        "cc",
        "move_type",
        "partner",
        "date",
        "currency",
        "rate",
        "term_id",
        "lines",
        "name",
        "ref",
        "reversed_entry",
        "payment",
        "journal_id",
        "payment_state",
    )

    def __init__(self, cc, move_type, partner, move_date, currency, rate, journal_id):
        self.id = None
        self.cc = cc
        self.move_type = move_type
        self.partner = partner  # (partner_id, commercial_id, display_name)
        self.date = move_date
        self.currency = currency
        self.rate = rate
        self.journal_id = journal_id
        self.term_id = None
        self.lines = []
        self.name = None
        self.ref = None
        self.reversed_entry = None
        self.payment = None
        self.payment_state = "not_paid"

    @property
    def term_lines(self):
        return [
            ln
            for ln in self.lines
            if ln.display_type == "payment_term" or ln.account_id == self.cc.receivable
        ]


class Generator:
    def __init__(self, env, args):
        self.env = env
        self.cr = env.cr
        self.args = args
        self.rng = random.Random(args.seed)
        self.today = date.today()
        self.moves = []
        self.payments = []  # dicts
        self.partials = []  # (id, debit_line, credit_line, amount, amount_currency, max_date)
        self.full_reconciles = 0
        self.stats = {}

    # ---------------------------------------------------------------------------- master data
    def run(self):
        timer = Timer()
        self.setup_currencies()
        self.ccs = [self.setup_company(i) for i in range(self.args.companies)]
        for cc in self.ccs:
            self.create_taxes(cc)
        timer.step("companies + chart")
        self.create_products()
        self.create_partners()
        timer.step("products + partners")
        self.create_sale_orders()
        self.set_credit_limits()
        timer.step("sale orders (ORM)")
        self.plan_ledger()
        timer.step("ledger planned")
        self.write_ledger()
        timer.step("ledger written (COPY)")
        self.env.invalidate_all()
        self.env.registry.clear_cache()
        self.stats["generate_seconds"] = timer.total
        if not self.args.no_check:
            self.self_check()
            timer.step("self-check")
        self.create_collections()
        timer.step("promises, disputes, tasks (ORM)")
        self.stats.update(
            {
                "template_name": template_name(self.args),
                "params": {k: getattr(self.args, k) for k in DATA_KEYS},
                "anchor_date": self.today.isoformat(),
                "steps": timer.steps,
                "total_seconds": timer.total,
            }
        )
        self.env["ir.config_parameter"].sudo().set_param("credit_control.bench_stats", json.dumps(self.stats))
        return self.stats

    def setup_currencies(self):
        env = self.env
        self.eur = env.ref("base.EUR")
        self.usd = env.ref("base.USD")
        (self.eur | self.usd).write({"active": True})

    def setup_company(self, index):
        env = self.env
        names = [("Bench GmbH", "base.de"), ("Bench Austria GmbH", "base.at")]
        name, country = names[index]
        # no country at creation: a country would install its localisation module (committing
        # mid-way) and load that chart at commit time; the country goes on the partner afterwards
        company = env["res.company"].create({"name": name, "currency_id": self.eur.id})
        env.user.write({"company_ids": [(4, company.id)]})
        if index == 0:
            env.user.company_id = company
            admin = env.ref("base.user_admin")
            admin.write({"company_ids": [(4, company.id)], "company_id": company.id})
        cenv = env(context=dict(env.context, allowed_company_ids=[company.id]))
        cenv["account.chart.template"].try_loading("generic_coa", company, install_demo=False)
        company = cenv["res.company"].browse(company.id)
        company.partner_id.write(
            {"country_id": env.ref(country).id, "city": "Berlin" if index == 0 else "Wien"}
        )
        Journal = cenv["account.journal"]
        sale_journal = Journal.search([("company_id", "=", company.id), ("type", "=", "sale")], limit=1)
        bank_journal = Journal.search([("company_id", "=", company.id), ("type", "=", "bank")], limit=1)
        method_line = bank_journal.inbound_payment_method_line_ids.filtered(
            lambda pml: pml.payment_method_id.code == "manual"
        )[:1]
        receivable = cenv["res.partner"].new({}).with_company(company).property_account_receivable_id
        outstanding = method_line.payment_account_id or cenv["account.chart.template"].ref(
            "account_journal_payment_debit_account_id"
        )
        # monthly EUR->USD rates for the whole period (a slow random walk)
        rate_vals = []
        rate = 1.08
        for months_back in range(16, -1, -1):
            day = (self.today.replace(day=1) - timedelta(days=31 * months_back)).replace(day=1)
            rate = round(min(1.2, max(1.0, rate + self.rng.uniform(-0.02, 0.02))), 4)
            rate_vals.append(
                {"currency_id": self.usd.id, "company_id": company.id, "name": day, "rate": rate}
            )
        cenv["res.currency.rate"].create(rate_vals)
        cc = argparse.Namespace(
            index=index,
            company=company,
            id=company.id,
            env=cenv,
            sale_journal=sale_journal,
            bank_journal=bank_journal,
            method_line=method_line,
            receivable=receivable.id,
            income=sale_journal.default_account_id.id,
            outstanding=outstanding.id,
            taxes=[],
            usd_rates=sorted((r["name"], r["rate"]) for r in rate_vals),
        )
        return cc

    def create_taxes(self, cc):
        """19 % and 7 % VAT, copied from the chart's sale tax (once every chart is loaded)."""
        cenv, company = cc.env, cc.company
        base_tax = cenv["account.tax"].search(
            [("company_id", "=", company.id), ("type_tax_use", "=", "sale"), ("amount_type", "=", "percent")],
            limit=1,
        )
        taxes = []
        for rate in (19.0, 7.0):
            group = cenv["account.tax.group"].create({"name": "VAT %d%%" % rate, "company_id": company.id})
            tax = base_tax.copy({"name": "%d%% VAT" % rate, "amount": rate, "tax_group_id": group.id})
            rep = tax.invoice_repartition_line_ids.filtered(lambda r: r.repartition_type == "tax")
            taxes.append(
                {
                    "id": tax.id,
                    "name": tax.name,
                    "rate": rate / 100.0,
                    "group_id": group.id,
                    "rep_id": rep.id,
                    "account_id": rep.account_id.id,
                    "refund_rep_id": tax.refund_repartition_line_ids.filtered(
                        lambda r: r.repartition_type == "tax"
                    ).id,
                }
            )
        cc.taxes = taxes

    def usd_rate(self, cc, day):
        rate = cc.usd_rates[0][1]
        for start, value in cc.usd_rates:
            if start <= day:
                rate = value
        return rate

    def create_products(self):
        env = self.ccs[0].env
        uom = env.ref("uom.product_uom_unit")
        vals = []
        for i, name in enumerate(PRODUCT_NAMES):
            service = "Service" in name or "Hour" in name or "Day" in name or "Contract" in name
            vals.append(
                {
                    "name": name,
                    "type": "service" if service else "consu",
                    "list_price": round(self.rng.uniform(5, 900), 2),
                    "invoice_policy": "order",
                    "uom_id": uom.id,
                    "uom_po_id": uom.id,
                    # food and books: reduced rate
                    "taxes_id": [(6, 0, [cc.taxes[1 if i in (15, 16) else 0]["id"] for cc in self.ccs])],
                }
            )
        products = env["product.product"].create(vals)
        self.uom_id = uom.id
        self.products = [
            {"id": p.id, "name": p.name, "price": p.list_price, "tax_index": 1 if i in (15, 16) else 0}
            for i, p in enumerate(products)
        ]

    def create_partners(self):
        args, rng = self.args, self.rng
        env = self.ccs[0].env(
            context=dict(
                self.ccs[0].env.context, tracking_disable=True, mail_create_nolog=True, mail_notrack=True
            )
        )
        term_ids = [env.ref(x).id for x in TERMS]
        self.term_by_id = {env.ref(x).id: TERMS[x] for x in TERMS}
        country = env.ref("base.de")
        vals = []
        for i in range(args.partners):
            name = "%s%s %s %04d" % (
                rng.choice(NAME_PARTS_A),
                rng.choice(NAME_PARTS_B),
                rng.choice(NAME_FORMS),
                i,
            )
            vals.append(
                {
                    "name": name,
                    "is_company": True,
                    "customer_rank": 1,
                    "country_id": country.id,
                    "city": rng.choice(CITY_NAMES),
                    "email": "ap%04d@example.com" % i,
                    "property_payment_term_id": rng.choices(term_ids, TERM_WEIGHTS)[0],
                }
            )
        vals.append(
            {
                "name": "Big Exposure Industries AG",
                "is_company": True,
                "customer_rank": 1,
                "country_id": country.id,
                "city": "Düsseldorf",
                "property_payment_term_id": env.ref("account.account_payment_term_30days").id,
            }
        )
        partners = env["res.partner"].create(vals)
        self.big_partner = partners[-1]
        customers = partners[:-1]
        # contacts for 20 % of the customers (invoices are sometimes addressed to them)
        contact_vals = [
            {"name": "Buchhaltung %s" % p.name[:30], "parent_id": p.id, "type": "invoice"}
            for p in customers
            if rng.random() < 0.2
        ]
        contacts = env["res.partner"].create(contact_vals)
        contacts_of = defaultdict(list)
        for contact in contacts:
            contacts_of[contact.parent_id.id].append((contact.id, contact.display_name))
        self.customers = []
        for p in customers:
            self.customers.append(
                {
                    "id": p.id,
                    "name": p.display_name,
                    "term_id": p.property_payment_term_id.id,
                    "contacts": contacts_of.get(p.id, []),
                    # a customer's invoice size and punctuality profile
                    "size": rng.lognormvariate(0, 0.8),
                    "lateness": rng.choice([0.05, 0.15, 0.3, 0.5, 0.8]),
                }
            )
        self.stats["partners"] = len(customers) + 1
        self.stats["contacts"] = len(contacts)

    def set_credit_limits(self):
        """Credit limits (company-dependent) on 80 % of the customers, per company, in bulk; set
        after the sale orders so that no credit check can block their confirmation."""
        rng = self.rng
        env = self.ccs[0].env(context=dict(self.ccs[0].env.context, tracking_disable=True, mail_notrack=True))
        for cc in self.ccs:
            penv = env(context=dict(env.context, allowed_company_ids=[cc.id]))
            by_limit = defaultdict(list)
            for p in self.customers:
                if rng.random() < 0.8:
                    by_limit[rng.choice([5000, 10000, 25000, 50000, 100000, 250000])].append(p["id"])
            for limit, ids in by_limit.items():
                penv["res.partner"].browse(ids).write({"credit_limit": limit, "credit_limit_set": True})
            penv["res.partner"].browse(self.big_partner.id).write(
                {"credit_limit": 5000000, "credit_limit_set": True}
            )

    def create_sale_orders(self):
        args, rng = self.args, self.rng
        if not args.sale_orders:
            return
        for cc in self.ccs:
            count = args.sale_orders if cc.index == 0 else args.sale_orders // 4
            env = cc.env(
                context=dict(cc.env.context, tracking_disable=True, mail_create_nolog=True, mail_notrack=True)
            )
            vals = []
            for _i in range(count):
                customer = rng.choice(self.customers)
                lines = []
                for _j in range(rng.randint(1, 4)):
                    product = rng.choice(self.products)
                    lines.append(
                        (
                            0,
                            0,
                            {
                                "product_id": product["id"],
                                "product_uom_qty": rng.randint(1, 20),
                                "price_unit": r2(product["price"] * rng.uniform(0.8, 1.1)),
                            },
                        )
                    )
                vals.append({"partner_id": customer["id"], "order_line": lines, "company_id": cc.id})
            orders = env["sale.order"].create(vals)
            orders.action_confirm()
        self.stats["sale_orders"] = args.sale_orders + (args.sale_orders // 4 if len(self.ccs) > 1 else 0)

    # ------------------------------------------------------------------------------- planning
    def plan_ledger(self):
        args, rng = self.args, self.rng
        today = self.today
        start = today - timedelta(days=395)
        self.invoice_plans = []
        for i in range(args.invoices):
            cc = self.ccs[0] if len(self.ccs) == 1 or rng.random() < 0.8 else self.ccs[1]
            customer = rng.choice(self.customers)
            term_id = customer["term_id"] if rng.random() < 0.85 else rng.choice(list(self.term_by_id))
            usd = rng.random() < args.usd_share
            if usd and len(self.term_by_id[term_id]) > 1:
                term_id = next(t for t, spec in self.term_by_id.items() if spec == [(1.0, 30)])
            term_days = self.term_by_id[term_id][-1][1]
            roll = rng.random()
            if roll < args.paid_share:
                kind = "paid"
                inv_date = start + timedelta(days=rng.randint(0, 390))
            elif roll < args.paid_share + args.partial_share:
                kind = "partial"
                inv_date = start + timedelta(days=rng.randint(0, 394))
            else:
                kind = "open"
                if rng.random() < args.overdue_share:
                    due = today - timedelta(days=int(rng.triangular(1, 365, 20)))
                    inv_date = max(start, due - timedelta(days=term_days))
                else:
                    inv_date = today - timedelta(days=rng.randint(0, term_days))
            self.invoice_plans.append((i, cc, customer, term_id, usd, kind, inv_date))
        # invoices are numbered in date order, like a real journal
        self.invoice_plans.sort(key=lambda x: (x[6], x[0]))
        for _i, cc, customer, term_id, usd, kind, inv_date in self.invoice_plans:
            partner = self.pick_partner(customer)
            move = self.make_invoice(cc, partner, inv_date, term_id, usd, rng.randint(1, 5), customer["size"])
            if kind != "open":
                self.settle(move, kind, customer)
        # the big partner: many small open items, a few partially paid
        big = self.big_partner
        big_partner = (big.id, big.id, big.display_name)
        big_term = next(t for t, spec in self.term_by_id.items() if spec == [(1.0, 30)])
        for _i in range(args.big_partner_items):
            inv_date = today - timedelta(days=int(rng.triangular(0, 180, 10)))
            move = self.make_invoice(self.ccs[0], big_partner, inv_date, big_term, False, 1, 0.3)
            if rng.random() < 0.05:
                self.settle(move, "partial", {"lateness": 0.2})
        # credit notes: full reversals of some open invoices, and open goodwill credits
        open_invoices = [
            m for m in self.moves if m.move_type == "out_invoice" and m.payment_state == "not_paid"
        ]
        n_notes = int(args.invoices * args.credit_note_share)
        for inv in rng.sample(open_invoices, min(len(open_invoices), n_notes * 2 // 3)):
            self.make_reversal(inv)
        for _i in range(n_notes - n_notes * 2 // 3):
            customer = rng.choice(self.customers)
            refund_date = today - timedelta(days=rng.randint(0, 300))
            self.make_invoice(
                self.ccs[0], self.pick_partner(customer), refund_date, None, False, 1, 0.2, "out_refund"
            )
        # unallocated customer payments (advances, unidentified transfers)
        for customer in rng.sample(self.customers, int(len(self.customers) * args.unreconciled_payments)):
            pay_date = today - timedelta(days=rng.randint(0, 120))
            amount = r2(rng.uniform(100, 3000) * customer["size"])
            self.make_payment(
                self.ccs[0],
                (customer["id"], customer["id"], customer["name"]),
                pay_date,
                amount,
                amount,
                None,
            )
        # history: small paid invoices of the two years before the main ledger (drawn last, so
        # the main ledger stays the same; numbered in date order below), untaxed: fewer lines
        # to write, the same receivable lines
        history_start = start - timedelta(days=730)
        history = sorted(
            (
                (history_start + timedelta(days=rng.randint(0, 729)), rng.choice(self.customers))
                for _i in range(args.history_invoices)
            ),
            key=lambda plan: plan[0],
        )
        for inv_date, customer in history:
            move = self.make_invoice(
                self.ccs[0],
                self.pick_partner(customer),
                inv_date,
                customer["term_id"],
                False,
                1,
                1,
                taxed=False,
            )
            self.settle(move, "paid", customer)
        self.stats["history_invoices"] = len(history)
        self.number_moves()

    def pick_partner(self, customer):
        if customer["contacts"] and self.rng.random() < 0.3:
            contact_id, contact_name = self.rng.choice(customer["contacts"])
            return (contact_id, customer["id"], contact_name)
        return (customer["id"], customer["id"], customer["name"])

    def make_invoice(
        self, cc, partner, inv_date, term_id, usd, n_lines, size, move_type="out_invoice", taxed=True
    ):
        rng = self.rng
        currency = self.usd.id if usd else self.eur.id
        rate = self.usd_rate(cc, inv_date) if usd else 1.0
        journal_id = cc.sale_journal.id
        move = Move(cc, move_type, partner, inv_date, currency, rate, journal_id)
        move.term_id = term_id
        sign = -1 if move_type == "out_invoice" else 1  # product lines: credit on invoices
        tax_totals = defaultdict(lambda: [0.0, 0.0])  # tax index -> [tax amount, base amount]
        total_cur = total_bal = 0.0
        for _j in range(n_lines):
            product = rng.choice(self.products)
            qty = float(rng.randint(1, 25))
            price = r2(product["price"] * rng.uniform(0.7, 1.2) * min(size, 8) * (1.1 if usd else 1.0))
            subtotal = r2(qty * price)
            tax_index = product["tax_index"] if rng.random() < 0.97 and taxed else None
            tax_amount = r2(subtotal * cc.taxes[tax_index]["rate"]) if tax_index is not None else 0.0
            amount_currency = sign * subtotal
            balance = r2(amount_currency / rate)
            line = Line(
                move,
                cc.income,
                "product",
                product["name"],
                amount_currency,
                balance,
                product_id=product["id"],
                quantity=qty,
                price_unit=price,
                price_subtotal=subtotal,
                price_total=r2(subtotal + tax_amount),
                tax_ids=(cc.taxes[tax_index]["id"],) if tax_index is not None else (),
                tax_tag_invert=tax_index is not None and move_type == "out_invoice",
            )
            move.lines.append(line)
            total_cur += amount_currency
            total_bal += balance
            if tax_index is not None:
                tax_totals[tax_index][0] += tax_amount
                tax_totals[tax_index][1] += balance
        for tax_index, (tax_amount, base_balance) in sorted(tax_totals.items()):
            tax = cc.taxes[tax_index]
            amount_currency = r2(sign * tax_amount)
            balance = r2(amount_currency / rate)
            move.lines.append(
                Line(
                    move,
                    tax["account_id"],
                    "tax",
                    tax["name"],
                    amount_currency,
                    balance,
                    tax=tax,
                    tax_base_amount=r2(-base_balance if move_type == "out_invoice" else base_balance),
                    sequence=10000,
                    tax_tag_invert=move_type == "out_invoice",
                )
            )
            total_cur += amount_currency
            total_bal += balance
        # receivable: the payment term instalments
        spec = self.term_by_id[term_id] if term_id else [(1.0, 0)]
        rest_cur, rest_bal = -r2(total_cur), -r2(total_bal)
        for n, (share, days) in enumerate(spec):
            last = n == len(spec) - 1
            cur = rest_cur if last else r2(-total_cur * share)
            bal = rest_bal if last else r2(-total_bal * share)
            rest_cur, rest_bal = r2(rest_cur - cur), r2(rest_bal - bal)
            line = Line(
                move,
                cc.receivable,
                "payment_term",
                None,
                cur,
                bal,
                date_maturity=inv_date + timedelta(days=days),
            )
            line.sequence = 12000
            line.name = len(spec)  # resolved to a label once the move has a number
            move.lines.append(line)
        self.moves.append(move)
        return move

    def make_payment(self, cc, partner, pay_date, amount_cur, amount_bal, currency, memo=None):
        """An inbound customer payment (account.payment + its move); returns its receivable line."""
        currency = currency or self.eur.id
        move = Move(cc, "entry", partner, pay_date, currency, None, cc.bank_journal.id)
        payment = {"move": move, "amount": amount_cur, "amount_company": amount_bal, "memo": memo}
        move.payment = payment
        move.lines.append(
            Line(move, cc.outstanding, "product", None, amount_cur, amount_bal, date_maturity=pay_date)
        )
        counterpart = Line(
            move, cc.receivable, "product", None, -amount_cur, -amount_bal, date_maturity=pay_date
        )
        move.lines.append(counterpart)
        for line in move.lines:
            line.quantity = 1.0
            line.price_subtotal = line.price_total = line.amount_currency
        self.payments.append(payment)
        self.moves.append(move)
        return counterpart

    def settle(self, inv, kind, customer):
        """Pay ``inv`` fully (in one or two payments) or partially, on time or late."""
        rng, today = self.rng, self.today
        due = max(ln.date_maturity for ln in inv.term_lines)
        total_cur = sum(ln.amount_currency for ln in inv.term_lines)
        total_bal = sum(ln.balance for ln in inv.term_lines)
        if kind == "paid":
            if rng.random() < customer["lateness"]:
                pay_date = due + timedelta(days=int(rng.triangular(1, 90, 8)))
            else:
                pay_date = inv.date + timedelta(days=rng.randint(0, max(0, (due - inv.date).days)))
            pay_date = min(pay_date, today)
            parts = [1.0] if rng.random() < 0.9 else [rng.uniform(0.3, 0.7), None]
        else:
            pay_date = min(today, inv.date + timedelta(days=rng.randint(0, max(0, (today - inv.date).days))))
            parts = [rng.uniform(0.2, 0.8)]
        paid_cur = paid_bal = 0.0
        for n, share in enumerate(parts):
            if share is None:  # the rest
                cur, bal = r2(total_cur - paid_cur), r2(total_bal - paid_bal)
            elif share == 1.0:
                cur, bal = total_cur, total_bal
            else:
                cur = r2(total_cur * share)
                bal = r2(cur / inv.rate)
            paid_cur, paid_bal = r2(paid_cur + cur), r2(paid_bal + bal)
            day = (
                pay_date
                if n == len(parts) - 1
                else inv.date + timedelta(days=(pay_date - inv.date).days // 2)
            )
            credit = self.make_payment(inv.cc, inv.partner, day, cur, bal, inv.currency, inv)
            self.reconcile(inv.term_lines, [credit])
        inv.payment_state = "paid" if kind == "paid" else "partial"

    def make_reversal(self, inv):
        refund = Move(inv.cc, "out_refund", inv.partner, inv.date, inv.currency, inv.rate, inv.journal_id)
        refund.reversed_entry = inv
        refund.date = min(self.today, inv.date + timedelta(days=self.rng.randint(0, 20)))
        for line in inv.lines:
            if line.display_type == "payment_term":
                continue
            copy = Line(
                refund, line.account_id, line.display_type, line.name, -line.amount_currency, -line.balance
            )
            for slot in ("product_id", "quantity", "price_unit", "price_subtotal", "price_total", "tax_ids"):
                setattr(copy, slot, getattr(line, slot))
            copy.tax, copy.sequence, copy.tax_base_amount = line.tax, line.sequence, line.tax_base_amount
            refund.lines.append(copy)
        total_cur = sum(ln.amount_currency for ln in inv.term_lines)
        total_bal = sum(ln.balance for ln in inv.term_lines)
        term = Line(
            refund, inv.cc.receivable, "payment_term", 1, -total_cur, -total_bal, date_maturity=refund.date
        )
        term.sequence = 12000
        refund.lines.append(term)
        self.moves.append(refund)
        self.reconcile(inv.term_lines, [term])
        inv.payment_state = "reversed"
        refund.payment_state = "paid"

    def reconcile(self, debit_lines, credit_lines):
        """Greedy matching of open debit and credit lines, oldest maturity first (like Odoo)."""
        debits = sorted((ln for ln in debit_lines if ln.res_cur), key=lambda ln: ln.date_maturity)
        credits = [ln for ln in credit_lines if ln.res_cur]
        for debit in debits:
            for credit in credits:
                if not debit.res_cur:
                    break
                if not credit.res_cur:
                    continue
                amount_cur = min(debit.res_cur, -credit.res_cur)
                if amount_cur == debit.res_cur and amount_cur == -credit.res_cur:
                    amount = debit.res_bal
                elif amount_cur == debit.res_cur:
                    amount = debit.res_bal
                elif amount_cur == -credit.res_cur:
                    amount = -credit.res_bal
                else:
                    amount = r2(amount_cur / debit.move.rate)
                partial = [None, debit, credit, amount, amount_cur, max(debit.move.date, credit.move.date)]
                self.partials.append(partial)
                debit.partials.append(partial)
                credit.partials.append(partial)
                debit.res_cur, debit.res_bal = r2(debit.res_cur - amount_cur), r2(debit.res_bal - amount)
                credit.res_cur, credit.res_bal = r2(credit.res_cur + amount_cur), r2(credit.res_bal + amount)

    def number_moves(self):
        """Sequence names per journal, prefix and year, in date order (as the sequence mixin does)."""
        counters = defaultdict(int)
        self.moves.sort(key=lambda m: (m.date, m.move_type != "out_invoice"))
        for move in self.moves:
            journal = move.cc.bank_journal if move.payment else move.cc.sale_journal
            prefix = {"out_invoice": "", "out_refund": "R", "entry": "P"}[move.move_type]
            seq_prefix = "%s%s/%d/" % (prefix, journal.code, move.date.year)
            counters[seq_prefix] += 1
            move.name = "%s%05d" % (seq_prefix, counters[seq_prefix])

    # -------------------------------------------------------------------------------- writing
    def write_ledger(self):
        cr = self.cr
        move_ids = reserve_ids(cr, "account_move", len(self.moves))
        for move in self.moves:
            move.id = next(move_ids)
        lines = [ln for move in self.moves for ln in move.lines]
        line_ids = reserve_ids(cr, "account_move_line", len(lines))
        for line in lines:
            line.id = next(line_ids)
        payment_ids = reserve_ids(cr, "account_payment", len(self.payments))
        for payment in self.payments:
            payment["id"] = next(payment_ids)
        partial_ids = reserve_ids(cr, "account_partial_reconcile", len(self.partials))
        for partial in self.partials:
            partial[0] = next(partial_ids)
        # reconciliation groups: a debit line's group closes when all its lines are reconciled
        groups = self.reconcile_groups(lines)
        full_groups = [g for g in groups if all(not ln.res_cur and not ln.res_bal for ln in g)]
        full_ids = reserve_ids(cr, "account_full_reconcile", len(full_groups))
        full_rows = []
        for group in full_groups:
            full_id = next(full_ids)
            full_rows.append((full_id, self.env.uid, self.env.uid, self.now, self.now))
            for line in group:
                line.full_id = full_id
        self.full_reconciles = len(full_rows)
        self.write_timer = Timer(indent="    ")
        with bulk_load(self.env, BULK_TABLES) as self.fk_deferred:
            copy_rows(
                cr,
                "account_full_reconcile",
                ["id", "create_uid", "write_uid", "create_date", "write_date"],
                full_rows,
            )
            self.write_timer.step("full reconciles")
            self.insert_moves()
            self.write_timer.step("moves")
            self.insert_payments()
            self.write_timer.step("payments")
            self.insert_lines(lines, groups)
            self.write_timer.step("move lines")
            partial_rows = []
            for pid, debit, credit, amount, amount_cur, max_date in self.partials:
                partial_rows.append(
                    (
                        pid,
                        debit.id,
                        credit.id,
                        debit.full_id if debit.full_id == credit.full_id else None,
                        debit.move.currency,
                        credit.move.currency,
                        debit.move.cc.id,
                        max_date,
                        amount,
                        amount_cur,
                        amount_cur,
                        self.env.uid,
                        self.env.uid,
                        self.now,
                        self.now,
                    )
                )
            copy_rows(
                cr,
                "account_partial_reconcile",
                [
                    "id",
                    "debit_move_id",
                    "credit_move_id",
                    "full_reconcile_id",
                    "debit_currency_id",
                    "credit_currency_id",
                    "company_id",
                    "max_date",
                    "amount",
                    "debit_amount_currency",
                    "credit_amount_currency",
                    "create_uid",
                    "write_uid",
                    "create_date",
                    "write_date",
                ],
                partial_rows,
            )
            self.write_timer.step("partial reconciles")
        self.write_timer.step("foreign keys + totals")
        self.stats["write_steps"] = self.write_timer.steps
        self.stats.update(
            {
                "invoices": sum(1 for m in self.moves if m.move_type == "out_invoice"),
                "credit_notes": sum(1 for m in self.moves if m.move_type == "out_refund"),
                "payments": len(self.payments),
                "move_lines": len(lines),
                "receivable_lines": sum(1 for ln in lines if ln.account_id == ln.move.cc.receivable),
                "partial_reconciles": len(self.partials),
                "full_reconciles": self.full_reconciles,
                "big_partner_id": self.big_partner.id,
                "company_ids": [cc.id for cc in self.ccs],
            }
        )

    @property
    def now(self):
        return self.__dict__.setdefault("_now", time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()))

    @staticmethod
    def reconcile_groups(lines):
        """Connected components of lines linked by partials (lists of lines)."""
        seen, groups = set(), []
        for line in lines:
            if not line.partials or line.id in seen:
                continue
            group, todo = [], [line]
            seen.add(line.id)
            while todo:
                current = todo.pop()
                group.append(current)
                for partial in current.partials:
                    for other in (partial[1], partial[2]):
                        if other.id not in seen:
                            seen.add(other.id)
                            todo.append(other)
            groups.append(group)
        return groups

    @staticmethod
    def move_ref(move):
        if move.payment:
            return move.payment["memo"].name if move.payment["memo"] else None
        if move.reversed_entry:
            return "Reversal of: %s" % move.reversed_entry.name
        return None

    def insert_moves(self):
        uid, now = self.env.uid, self.now
        team = self.env["crm.team"].search([], limit=1).id or None
        rows = []
        for move in self.moves:
            is_invoice = move.move_type != "entry"
            name = move.name
            prefix, number = name.rsplit("/", 1)
            if is_invoice:
                sign = 1 if move.move_type == "out_invoice" else -1
                untaxed_cur = -sum(ln.amount_currency for ln in move.lines if ln.display_type == "product")
                untaxed_bal = -sum(ln.balance for ln in move.lines if ln.display_type == "product")
                tax_cur = -sum(ln.amount_currency for ln in move.lines if ln.display_type == "tax")
                tax_bal = -sum(ln.balance for ln in move.lines if ln.display_type == "tax")
                terms = move.term_lines
                residual_cur = sum(ln.res_cur for ln in terms)
                residual_bal = sum(ln.res_bal for ln in terms)
                amounts = (
                    r2(sign * untaxed_cur),
                    r2(sign * tax_cur),
                    r2(sign * (untaxed_cur + tax_cur)),
                    r2(sign * residual_cur),
                    r2(untaxed_bal),
                    r2(untaxed_cur),
                    r2(tax_bal),
                    r2(untaxed_bal + tax_bal),
                    r2(untaxed_cur + tax_cur),
                    r2(residual_bal),
                )
                due = max(ln.date_maturity for ln in terms)
                rate = round(move.rate, 6) if move.currency != self.eur.id else 1.0
            else:
                total = abs(move.lines[0].amount_currency)
                total_bal = abs(move.lines[0].balance)
                amounts = (0.0, 0.0, total, 0.0, 0.0, 0.0, 0.0, total_bal, total, 0.0)
                due = move.date
                rate = 0.0
            ref = self.move_ref(move)
            rows.append(
                (
                    move.id,
                    int(number),
                    move.journal_id,
                    move.cc.id,
                    # with the foreign keys deferred, else set once the payments exist
                    move.payment["id"] if move.payment and self.fk_deferred else None,
                    move.term_id,
                    move.partner[0],
                    move.partner[1],
                    move.partner[0] if is_invoice else None,
                    move.currency,
                    move.reversed_entry.id if move.reversed_entry else None,
                    uid if is_invoice else None,
                    uid,
                    uid,
                    prefix + "/",
                    name,
                    ref,
                    "posted",
                    move.move_type,
                    "no",
                    name if is_invoice else None,
                    move.payment_state if is_invoice else "not_paid",
                    move.partner[2],
                    move.date,
                    move.date if is_invoice else None,
                    due,
                    rate,
                    *amounts,
                    False,
                    not is_invoice,
                    True,
                    True,
                    False,
                    False,
                    now,
                    now,
                    team if is_invoice else None,
                )
            )
        copy_rows(
            self.cr,
            "account_move",
            [
                "id",
                "sequence_number",
                "journal_id",
                "company_id",
                "origin_payment_id",
                "invoice_payment_term_id",
                "partner_id",
                "commercial_partner_id",
                "partner_shipping_id",
                "currency_id",
                "reversed_entry_id",
                "invoice_user_id",
                "create_uid",
                "write_uid",
                "sequence_prefix",
                "name",
                "ref",
                "state",
                "move_type",
                "auto_post",
                "payment_reference",
                "payment_state",
                "invoice_partner_display_name",
                "date",
                "invoice_date",
                "invoice_date_due",
                "invoice_currency_rate",
                "amount_untaxed",
                "amount_tax",
                "amount_total",
                "amount_residual",
                "amount_untaxed_signed",
                "amount_untaxed_in_currency_signed",
                "amount_tax_signed",
                "amount_total_signed",
                "amount_total_in_currency_signed",
                "amount_residual_signed",
                "is_storno",
                "always_tax_exigible",
                "checked",
                "posted_before",
                "made_sequence_gap",
                "is_manually_modified",
                "create_date",
                "write_date",
                "team_id",
            ],
            rows,
        )

    def insert_lines(self, lines, groups):
        uid, now = self.env.uid, self.now
        matching = {}
        for group in groups:
            if group[0].full_id:
                number = str(group[0].full_id)
            else:
                number = "P%d" % min(p[0] for ln in group for p in ln.partials)
            for line in group:
                matching[line.id] = number
        tax_rel = []

        def rows():  # made while COPY reads them (tax_rel filled on the way)
            for line in lines:
                move = line.move
                is_invoice = move.move_type != "entry"
                name = line.name
                move.ref = self.move_ref(move)
                if move.payment:
                    name = "Manual Payment: %s" % move.ref if move.ref else "Manual Payment"
                elif line.display_type == "payment_term":
                    name = (
                        move.name
                        if name == 1
                        else "%s installment #%d" % (move.name, move.term_lines.index(line) + 1)
                    )
                tax = line.tax
                if tax and move.move_type == "out_refund":
                    rep_id = tax["refund_rep_id"]
                else:
                    rep_id = tax["rep_id"] if tax else None
                reconcilable = line.account_id in (move.cc.receivable, move.cc.outstanding)
                yield (
                    line.id,
                    move.id,
                    move.journal_id,
                    move.cc.id,
                    self.eur.id,
                    line.sequence,
                    line.account_id,
                    move.currency,
                    move.partner[1],
                    move.payment["id"] if move.payment else None,
                    tax["id"] if tax else None,
                    tax["group_id"] if tax else None,
                    rep_id,
                    line.full_id,
                    line.product_id,
                    self.uom_id if line.product_id else None,
                    uid,
                    uid,
                    move.name,
                    "posted",
                    move.ref,
                    name,
                    matching.get(line.id),
                    line.display_type,
                    move.date,
                    move.date if is_invoice else None,
                    line.date_maturity,
                    r2(max(line.balance, 0.0)),
                    r2(max(-line.balance, 0.0)),
                    line.balance,
                    line.amount_currency,
                    line.tax_base_amount,
                    line.res_bal if reconcilable else 0.0,
                    line.res_cur if reconcilable else 0.0,
                    line.quantity,
                    line.price_unit,
                    line.price_subtotal,
                    line.price_total,
                    0.0,
                    0.0 if line.display_type == "payment_term" else None,
                    0.0 if line.display_type == "payment_term" else None,
                    line.tax_tag_invert,
                    bool(reconcilable and not line.res_bal and not line.res_cur),
                    now,
                    now,
                )
                for tax_id in line.tax_ids:
                    tax_rel.append((line.id, tax_id))

        copy_rows(
            self.cr,
            "account_move_line",
            [
                "id",
                "move_id",
                "journal_id",
                "company_id",
                "company_currency_id",
                "sequence",
                "account_id",
                "currency_id",
                "partner_id",
                "payment_id",
                "tax_line_id",
                "tax_group_id",
                "tax_repartition_line_id",
                "full_reconcile_id",
                "product_id",
                "product_uom_id",
                "create_uid",
                "write_uid",
                "move_name",
                "parent_state",
                "ref",
                "name",
                "matching_number",
                "display_type",
                "date",
                "invoice_date",
                "date_maturity",
                "debit",
                "credit",
                "balance",
                "amount_currency",
                "tax_base_amount",
                "amount_residual",
                "amount_residual_currency",
                "quantity",
                "price_unit",
                "price_subtotal",
                "price_total",
                "discount",
                "discount_amount_currency",
                "discount_balance",
                "tax_tag_invert",
                "reconciled",
                "create_date",
                "write_date",
            ],
            rows(),
            count=len(lines),
        )
        copy_rows(
            self.cr, "account_move_line_account_tax_rel", ["account_move_line_id", "account_tax_id"], tax_rel
        )

    def insert_payments(self):
        uid, now = self.env.uid, self.now
        rows, rel = [], []
        for payment in self.payments:
            move = payment["move"]
            cc = move.cc
            counterpart = move.lines[1]
            invoice = payment["memo"]
            rows.append(
                (
                    payment["id"],
                    move.id,
                    move.journal_id,
                    cc.id,
                    cc.method_line.id,
                    cc.method_line.payment_method_id.id,
                    move.currency,
                    move.partner[1],
                    cc.outstanding,
                    cc.receivable,
                    uid,
                    uid,
                    move.name,
                    "in_process",
                    "inbound",
                    "customer",
                    invoice.name if invoice else None,
                    move.date,
                    payment["amount"],
                    payment["amount_company"],
                    not counterpart.res_cur,
                    False,
                    False,
                    now,
                    now,
                )
            )
            if invoice:
                rel.append((invoice.id, payment["id"]))
        copy_rows(
            self.cr,
            "account_payment",
            [
                "id",
                "move_id",
                "journal_id",
                "company_id",
                "payment_method_line_id",
                "payment_method_id",
                "currency_id",
                "partner_id",
                "outstanding_account_id",
                "destination_account_id",
                "create_uid",
                "write_uid",
                "name",
                "state",
                "payment_type",
                "partner_type",
                "memo",
                "date",
                "amount",
                "amount_company_currency_signed",
                "is_reconciled",
                "is_matched",
                "is_sent",
                "create_date",
                "write_date",
            ],
            rows,
        )
        copy_rows(self.cr, "account_move__account_payment", ["invoice_id", "payment_id"], rel)
        if self.payments and not self.fk_deferred:
            self.cr.execute(
                "UPDATE account_move m SET origin_payment_id = p.id FROM account_payment p "
                "WHERE p.move_id = m.id AND p.id BETWEEN %(first)s AND %(last)s",
                {"first": self.payments[0]["id"], "last": self.payments[-1]["id"]},
            )

    # ----------------------------------------------------------------------------- self-check
    @staticmethod
    def recompute_sample(moves, lines, payments):
        """Odoo's compute methods, in the cache only (the fields are protected)."""
        lines._compute_amount_residual()
        lines._compute_debit_credit()
        moves._compute_amount()
        moves._compute_payment_state()
        moves._compute_invoice_date_due()
        payments._compute_reconciliation_status()

    def create_collections(self):
        """Promises to pay (open: due today or later; broken), disputes and collaboration tasks on
        open overdue invoices of the first company, for the worklist and the problem-case list.
        Made through the ORM with a future date, then dated in SQL: they are facts of the past."""
        if "credit.promise" not in self.env.registry:
            return
        company = self.ccs[0].company
        rows = self._query(
            """
            SELECT DISTINCT ON (m.commercial_partner_id) m.id, m.commercial_partner_id, m.amount_residual
              FROM account_move m
             WHERE m.company_id = %s AND m.move_type = 'out_invoice' AND m.state = 'posted'
               AND m.payment_state IN ('not_paid', 'partial') AND m.invoice_date_due < %s
               AND m.currency_id = %s
          ORDER BY m.commercial_partner_id, m.invoice_date_due, m.id
            """,
            (company.id, self.today, company.currency_id.id),
        )
        rng = random.Random(self.args.seed + 7)
        later = self.today + timedelta(days=30)
        promise_vals, promise_dates, dispute_vals, task_vals = [], [], [], []
        for move_id, partner_id, residual in rows:
            draw = rng.random()
            if draw < 0.5:
                kind = rng.choice(["today", "later", "broken"])
                promise_vals.append(
                    {
                        "partner_id": partner_id,
                        "company_id": company.id,
                        "move_ids": [(6, 0, [move_id])],
                        "amount": round(residual / 2, 2),
                        "date_promised": later,
                    }
                )
                promise_dates.append(kind)
            elif draw < 0.75:
                dispute_vals.append(
                    {
                        "partner_id": partner_id,
                        "company_id": company.id,
                        "move_ids": [(6, 0, [move_id])],
                        "amount": round(residual / 3, 2),
                        "reason": rng.choice(["price", "quality", "delivery"]),
                    }
                )
            if rng.random() < 0.2:
                task_vals.append(
                    {
                        "name": "Call about the overdue invoice",
                        "task_type": "call",
                        "partner_id": partner_id,
                        "company_id": company.id,
                        "date_deadline": self.today - timedelta(days=rng.randint(0, 10)),
                    }
                )
        env = self.env(context=dict(self.env.context, tracking_disable=True, mail_create_nolog=True))
        promises = env["credit.promise"].with_company(company).create(promise_vals)
        for promise, kind in zip(promises, promise_dates, strict=True):
            if kind == "today":
                values = (self.today, "open", None)
            elif kind == "later":
                values = (self.today + timedelta(days=rng.randint(1, 14)), "open", None)
            else:
                values = (
                    self.today - timedelta(days=rng.randint(5, 20)),
                    "broken",
                    self.today - timedelta(days=2),
                )
            self.cr.execute(
                "UPDATE credit_promise SET date_promised = %s, date_grace_end = %s::date + grace_days,"
                " state = %s, date_closed = %s WHERE id = %s",
                (values[0], values[0], values[1], values[2], promise.id),
            )
        disputes = env["credit.dispute"].with_company(company).create(dispute_vals)
        self.cr.execute(
            "UPDATE credit_dispute SET create_date = create_date - interval '20 days' WHERE id = ANY(%s)",
            (disputes.ids[::2],),
        )
        env["credit.task"].with_company(company).create(task_vals)
        self.env.invalidate_all()
        self.stats.update(
            {"promises": len(promise_vals), "disputes": len(dispute_vals), "tasks": len(task_vals)}
        )

    def _query(self, sql_text, params=None):
        self.cr.execute(sql_text, params or {})
        return self.cr.fetchall()

    def self_check(self):
        """Compare the written ledger with Odoo's own computations; raises on any mismatch."""
        problems = self._check_sql() + self._check_orm() + self._check_partner_ledger()
        self.stats["invoice_payment_states"] = dict(
            self._query(
                "SELECT payment_state, count(*) FROM account_move WHERE move_type = 'out_invoice' GROUP BY 1"
            )
        )
        self.stats["check"] = {"problems": len(problems)}
        if problems:
            for problem in problems[:40]:
                print("  CHECK FAILED: %s" % problem)
            raise SystemExit("ledger self-check failed: %d problems" % len(problems))

    def _check_sql(self):
        problems = []
        # every move balanced
        (unbalanced,) = self._query(
            "SELECT count(*) FROM (SELECT move_id FROM account_move_line GROUP BY move_id "
            "HAVING abs(sum(balance)) > 0.001) x"
        )[0]
        if unbalanced:
            problems.append("%d unbalanced moves" % unbalanced)
        # residuals = balance minus the partials, per line, company and foreign currency
        (bad_residual,) = self._query(
            """
            WITH partials AS (
                SELECT line_id, sum(amt) amt, sum(cur) cur
                  FROM (SELECT debit_move_id line_id, amount amt, debit_amount_currency cur
                          FROM account_partial_reconcile
                         UNION ALL
                        SELECT credit_move_id, -amount, -credit_amount_currency
                          FROM account_partial_reconcile) p
              GROUP BY line_id)
            SELECT count(*) FROM account_move_line l
              JOIN account_account a ON a.id = l.account_id AND a.reconcile
              LEFT JOIN partials p ON p.line_id = l.id
             CROSS JOIN LATERAL (SELECT COALESCE(p.amt, 0) amt, COALESCE(p.cur, 0) cur) r
             WHERE abs(l.balance - r.amt - l.amount_residual) > 0.001
                OR abs(l.amount_currency - r.cur - l.amount_residual_currency) > 0.001
                OR l.reconciled != (l.amount_residual = 0 AND l.amount_residual_currency = 0)
                OR (l.full_reconcile_id IS NOT NULL AND NOT l.reconciled)
                OR (l.matching_number IS NULL) != (r.amt = 0 AND r.cur = 0 AND l.full_reconcile_id IS NULL)
                OR (l.full_reconcile_id IS NOT NULL AND l.matching_number != l.full_reconcile_id::text)
            """
        )[0]
        if bad_residual:
            problems.append("%d lines with inconsistent residual/reconciled/matching number" % bad_residual)
        # receivable: sum of residuals = account balance, per company
        for cc in self.ccs:
            residual, balance = self._query(
                "SELECT sum(amount_residual), sum(balance) FROM account_move_line "
                "WHERE account_id = %(account)s AND company_id = %(company)s AND parent_state = 'posted'",
                {"account": cc.receivable, "company": cc.id},
            )[0]
            self.stats.setdefault("receivable_balance", {})[cc.company.name] = float(balance)
            if abs(residual - balance) > 0.001:
                problems.append(
                    "%s: receivable residual %s != balance %s" % (cc.company.name, residual, balance)
                )
        return problems

    def _check_orm(self):
        """Odoo's own compute methods on a sample of invoices, their lines and payments."""
        env, cr, problems = self.env, self.cr, []
        rng = random.Random(self.args.seed + 1)
        move_ids = [m.id for m in self.moves if m.move_type != "entry" or rng.random() < 0.3]
        sample = env["account.move"].browse(rng.sample(move_ids, min(600, len(move_ids))))
        checks = [
            (
                sample,
                "amount_untaxed amount_tax amount_total amount_residual amount_total_signed "
                "amount_residual_signed amount_untaxed_signed payment_state invoice_date_due".split(),
            ),
            (sample.line_ids, "amount_residual amount_residual_currency reconciled debit credit".split()),
            (sample.origin_payment_id, ["is_reconciled", "is_matched", "state"]),
        ]
        stored = [{rec.id: [rec[f] for f in fnames] for rec in records} for records, fnames in checks]
        cr.execute("SAVEPOINT bench_check")
        try:
            with ExitStack() as stack:
                for records, _fnames in checks:
                    computed = [f for f in records._fields.values() if f.compute and f.store]
                    stack.enter_context(env.protecting(computed, records))
                self.recompute_sample(*(records for records, _fnames in checks))
            for (records, fnames), before in zip(checks, stored, strict=True):
                for rec in records:
                    for fname, old in zip(fnames, before[rec.id], strict=True):
                        new = rec[fname]
                        if new != old and not (isinstance(new, float) and abs(new - old) < 0.001):
                            problems.append("%s %s: stored %r, Odoo computes %r" % (rec, fname, old, new))
            sample._check_balanced({"records": sample})
        finally:
            env.clear()
            cr.execute("ROLLBACK TO SAVEPOINT bench_check")
        self.stats["checked_moves"] = len(sample)
        return problems

    def _check_partner_ledger(self):
        """account's partner balance (res.partner.credit) agrees with the open receivable lines."""
        cc = self.ccs[0]
        partners = cc.env["res.partner"].browse([c["id"] for c in self.customers] + [self.big_partner.id])
        total_credit = sum(partners.mapped("credit")) - sum(partners.mapped("debit"))
        (open_sum,) = self._query(
            "SELECT sum(l.amount_residual) FROM account_move_line l "
            "JOIN account_account a ON a.id = l.account_id "
            "WHERE a.account_type = 'asset_receivable' AND l.parent_state = 'posted' "
            "AND l.company_id = %(company)s AND l.partner_id = ANY(%(partners)s)",
            {"company": cc.id, "partners": partners.ids},
        )[0]
        print(
            "  self-check: %d moves recomputed by Odoo, partner ledger %.2f"
            % (self.stats["checked_moves"], total_credit)
        )
        if abs(total_credit - float(open_sum or 0)) > 0.01:
            return ["partner ledger total %s != open receivable lines %s" % (total_credit, open_sum)]
        return []


def main(argv=None):
    args = parse_args(argv)
    if args.name_only:
        print(template_name(args))
        return 0
    if args.same_data_names:
        print("\n".join(same_data_names(template_name(args))))
        return 0
    import odoo
    from odoo import SUPERUSER_ID, api

    odoo.tools.config.parse_config(["-c", args.config, "-d", args.database, "--log-level=warn"])
    odoo.netsvc.init_logger()
    registry = odoo.modules.registry.Registry(args.database)
    t0 = time.perf_counter()
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
        stats = Generator(env, args).run()
        cr.commit()
    stats["total_seconds"] = round(time.perf_counter() - t0, 2)
    print(
        "generated %(invoices)d invoices, %(credit_notes)d credit notes, %(payments)d payments, "
        "%(move_lines)d move lines, %(partial_reconciles)d partial reconciles in %(total_seconds).1fs "
        "(ledger part %(generate_seconds).1fs)" % stats
    )
    if args.stats_file:
        Path(args.stats_file).parent.mkdir(parents=True, exist_ok=True)
        Path(args.stats_file).write_text(json.dumps(stats, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
