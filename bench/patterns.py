"""Patterned payment behaviour for the payment-date prediction bench (issue #21).

The benchmark generator (bench/generate.py) pays an invoice late with a customer's fixed
probability and a random delay: nothing a model can learn beyond the customer's average. This
module builds a second ledger whose lateness follows patterns, in its own company
("Patterns GmbH") of the database it is given — bench/run.py builds it inside the bench copy,
in the savepoint of the measured run (rolled back afterwards), so the shared template is left
alone (generate.py is not changed: its source hash names the template).

Days late of a paid invoice (due date + days late, never before the invoice date, at most today):

* the customer's base: 0-16 days (its punctuality profile of the generator × 20);
* amount: +25 days when the invoice is more than 1.5 × the customer's median invoice so far;
* season: +15 days for a due date in July or August, +10 in December;
* trend: a third of the customers pay worse over time: up to +30 days over the ledger's year;
* noise: a normal spread of 3 days.

The rule (the customer's average days late) knows the base only; the model can learn all four.
"""

import argparse
import statistics
import time
from collections import defaultdict
from datetime import timedelta

import generate  # bench/generate.py, next to this file (bench/run.py puts the folder on sys.path)


class PatternGenerator(generate.Generator):
    """The benchmark generator with patterned lateness, one company, no orders, no big partner."""

    def __init__(self, env, args):
        super().__init__(env, args)
        self.amounts = defaultdict(list)
        self.start = self.today - timedelta(days=395)

    def setup_company(self, index):
        # the parent creates "Bench GmbH"/"Bench Austria GmbH" by index and makes the first the
        # admin's default company: a company of our own, and the users' companies restored
        env = self.env
        user_company, admin = env.user.company_id, env.ref("base.user_admin")
        admin_company = admin.company_id
        # company names are unique: the bench ledger's company steps aside while ours is made
        bench = env["res.company"].search([("name", "=", "Bench GmbH")])
        bench.name = "Bench GmbH (patterns)"
        bench.flush_recordset(["name"])
        cc = super().setup_company(index)
        cc.company.name = "Patterns GmbH"
        cc.company.flush_recordset(["name"])
        bench.name = "Bench GmbH"
        env.user.company_id = user_company
        admin.company_id = admin_company
        return cc

    def create_partners(self):
        super().create_partners()
        rng = self.rng
        for customer in self.customers:
            customer["trend"] = 30.0 if rng.random() < 1 / 3 else 0.0

    def settle(self, inv, kind, customer):
        if kind != "paid" or "trend" not in customer:
            return super().settle(inv, kind, customer)
        rng, today = self.rng, self.today
        due = max(line.date_maturity for line in inv.term_lines)
        history = self.amounts[customer["id"]]
        amount = abs(sum(line.balance for line in inv.term_lines))
        late = customer["lateness"] * 20
        if len(history) >= 3 and amount > 1.5 * statistics.median(history):
            late += 25
        late += {7: 15, 8: 15, 12: 10}.get(due.month, 0)
        late += customer["trend"] * max(0, (inv.date - self.start).days) / 395
        late += rng.gauss(0, 3)
        history.append(amount)
        pay_date = min(max(inv.date, due + timedelta(days=round(late))), today)
        credit = self.make_payment(
            inv.cc,
            inv.partner,
            pay_date,
            sum(line.amount_currency for line in inv.term_lines),
            sum(line.balance for line in inv.term_lines),
            inv.currency,
            inv,
        )
        self.reconcile(inv.term_lines, [credit])
        inv.payment_state = "paid"
        return None

    def run(self):
        timer = generate.Timer()
        self.setup_currencies()
        self.ccs = [self.setup_company(0)]
        self.create_taxes(self.ccs[0])
        self.create_products()
        self.create_partners()
        self.plan_ledger()
        self.write_ledger()
        self.env.invalidate_all()
        self.env.registry.clear_cache()
        self.stats["seconds"] = timer.total
        self.stats["company_id"] = self.ccs[0].id
        return self.stats


def pattern_args(partners=200, invoices=6000, seed=7):
    """Generator parameters of the patterned ledger: EUR only, no orders, credit notes or big
    partner; a year of invoices, 70 % paid."""
    return argparse.Namespace(
        partners=partners,
        invoices=invoices,
        paid_share=0.7,
        partial_share=0.05,
        overdue_share=0.5,
        sale_orders=0,
        usd_share=0.0,
        companies=1,
        seed=seed,
        big_partner_items=0,
        credit_note_share=0.0,
        unreconciled_payments=0.0,
        history_invoices=0,
        no_check=True,
    )


def build(env, **params):
    """Build the patterned ledger in a new company of ``env``'s database (superuser env).
    Returns (company, generator statistics with "seconds")."""
    started = time.perf_counter()
    generator = PatternGenerator(env, pattern_args(**params))
    stats = generator.run()
    stats["seconds"] = round(time.perf_counter() - started, 1)
    return env["res.company"].browse(stats["company_id"]), stats
