import base64
import json
import logging
import time
from bisect import insort
from datetime import timedelta
from itertools import groupby
from operator import itemgetter

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from ..lib import payment_prediction as pp
from .cron_retry import retry_on_conflict

_logger = logging.getLogger(__name__)

# The backtest's cut-off: this many days before the training date.
BACKTEST_DAYS = 90
# With at least this many backtest items, a model worse than the rule is not used.
MIN_BACKTEST_ITEMS = 30

# The start of the feature statements (_feature_rows; _open_item_columns): the settings and the
# company's posted customer invoices up to the cut-off (%(company_id)s, %(cutoff)s). JIT
# compilation takes seconds here (the planner's row estimates of the CTEs are far too high) and
# saves nothing (SET LOCAL: this transaction only, as in the aging). Without nested loops: on a
# ledger not yet analysed (a company's first import) the planner expects a row or two and would
# rescan the CTEs per row (quadratic); every join is over all the company's invoices, a hash or
# merge join. The sorts and hashes over every invoice fit in memory (the default 4 MB spilled
# five of them to disk on the bench ledger).
FEATURE_INVOICES_SQL = """
            SET LOCAL jit = off;
            SET LOCAL enable_nestloop = off;
            SET LOCAL work_mem = '64MB';
            WITH inv AS (
                SELECT m.id, m.commercial_partner_id AS partner_id, m.invoice_date,
                       COALESCE(m.invoice_date_due, m.invoice_date) AS date_due,
                       ABS(m.amount_total_signed) AS amount,
                       m.payment_state IN ('paid', 'in_payment') AS is_paid,
                       lvl.days AS dunning_days
                  FROM account_move m
             LEFT JOIN credit_dunning_level lvl ON lvl.id = m.credit_dunning_level_id
                 WHERE m.company_id = %(company_id)s
                   AND m.move_type = 'out_invoice'
                   AND m.state = 'posted'
                   AND m.payment_state != 'reversed'
                   AND m.invoice_date <= %(cutoff)s
            ),
"""


def _prefix_medians(rows):
    """Fill in the history medians (days late, amount) of the training ``rows`` of
    :meth:`CreditPaymentModel._feature_rows`: a training item's history is the first
    ``hist_count`` payments of its customer in payment order (date, id), and the training rows
    are exactly those payments. Per customer, one pass in that order keeps the amounts and days
    late seen so far sorted (bisect) and notes the median after each payment: linear in the
    payments but for the insertions."""
    train = sorted(
        (row for row in rows if row["is_train"]), key=lambda r: (r["partner_id"], r["paid_date"], r["id"])
    )
    medians = {}  # partner -> ([median days late after k payments], [median amount after k])
    for partner_id, payments in groupby(train, key=itemgetter("partner_id")):
        lates, amounts, median_late, median_amount = [], [], [None], [None]
        for payment in payments:
            insort(lates, payment["days_late"])
            insort(amounts, payment["amount"])
            middle = len(lates) // 2
            median_late.append((lates[middle] + lates[~middle]) / 2.0)
            median_amount.append((amounts[middle] + amounts[~middle]) / 2.0)
        medians[partner_id] = (median_late, median_amount)
    for row in train:
        median_late, median_amount = medians[row["partner_id"]]
        count = row["hist_count"] or 0
        row["hist_median_late"] = median_late[count]
        row["amount_ratio"] = row["amount"] / median_amount[count] if median_amount[count] else None


class CreditPaymentModel(models.Model):
    """The payment-date prediction model of a company: LightGBM boosters learned from the
    company's paid invoices (kept as an attachment), the training date and the backtest's
    figures against the rule (the customer's average days late). Trained by the scheduled
    action "Credit Control: train payment-date prediction", company by company, which then
    stores a prediction on every open invoice of the company."""

    _name = "credit.payment.model"
    _description = "Payment-Date Prediction Model"
    _order = "company_id"
    _rec_name = "company_id"

    # === FIELDS === #
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True, ondelete="cascade")
    state = fields.Selection(
        [("draft", "Not Trained"), ("insufficient", "Too Little History"), ("trained", "Trained")],
        default="draft",
        required=True,
        readonly=True,
    )
    date_trained = fields.Datetime(string="Trained On", readonly=True)
    sample_count = fields.Integer(string="Paid Invoices Learned From", readonly=True)
    training_seconds = fields.Float(string="Training Time (s)", readonly=True, digits=(16, 1))
    attachment_id = fields.Many2one("ir.attachment", string="Model File", readonly=True, ondelete="set null")
    backtest_date = fields.Date(string="Backtest Cut-off", readonly=True)
    backtest_count = fields.Integer(string="Backtest Items", readonly=True)
    backtest_mae_model = fields.Float(string="Error of the Model (Days)", readonly=True, digits=(16, 1))
    backtest_mae_rule = fields.Float(string="Error of the Rule (Days)", readonly=True, digits=(16, 1))
    backtest_coverage = fields.Float(string="Payments Inside the Band (%)", readonly=True, digits=(16, 1))
    backtest_model_better = fields.Boolean(string="Model Better Than Rule", readonly=True)
    predicted_count = fields.Integer(string="Open Invoices Predicted", readonly=True)
    rule_count = fields.Integer(string="Open Invoices on the Rule", readonly=True)

    _sql_constraints = [
        ("company_uniq", "unique(company_id)", "A company has one payment-date prediction model."),
    ]

    def init(self):
        result = super().init()
        # The payment-term lines of the invoices, read by the prediction's feature query for
        # every paid invoice (its payment date): an index-only scan of a small index instead of
        # a heap fetch of each invoice's journal items.
        self.env.cr.execute(
            SQL(
                """
            CREATE INDEX IF NOT EXISTS credit_control_aml_payment_term_idx
                ON account_move_line (move_id, id)
             WHERE display_type = 'payment_term'
                """
            )
        )
        return result

    # === ACTIONS === #
    def action_train(self):
        """Button (credit managers): train, backtest and predict now."""
        if not self.env.user.has_group("credit_control.credit_control_group_manager"):
            raise AccessError(_("Only credit managers train the payment-date prediction."))
        for record in self:
            # sudo: the model's figures and attachment are written by the module only
            record.sudo().with_company(record.company_id)._train_and_predict()
        return True

    # === BUSINESS METHODS === #
    @api.model
    def _get_for_company(self, company):
        model = self.sudo().search([("company_id", "=", company.id)], limit=1)
        return model or self.sudo().create({"company_id": company.id})

    @api.model
    def _feature_rows(self, cutoff):
        """Long for one SQL statement (the features side by side, read in one pass).

        A row per customer invoice of the current company issued up to ``cutoff`` — kind "train"
        (paid up to the cut-off: ``days_late`` is the target) or "open" (not paid at the
        cut-off; ``days_late`` is known when it was paid later) — with the
        :data:`~..lib.payment_prediction.FEATURES`, the rule's days late and the customer's
        maximum / over-30-days share. History never leaks the future: a training item sees the
        invoices paid before its invoice date, an open item those paid up to the cut-off.
        Predicting needs the open rows only: :meth:`_open_item_columns` gives them (the same
        figures, tested) from one aggregate per customer.

        Linear in the invoices: one query whose window functions run once over each customer's
        time line (its items and what became known: payments, broken promises, disputes) and
        give every item the running figures of the events before its date; the medians of the
        history are one aggregate per customer for the open items (their history is all of it)
        and, for the training items, prefix medians computed in :func:`_prefix_medians`."""
        for model in ("account.move", "account.move.line", "account.partial.reconcile"):
            self.env[model].flush_model()
        for model in ("credit.promise", "credit.dispute"):
            self.env[model].flush_model()
        rows = self.env.execute_query_dict(
            SQL(
                """
            %(invoices)s
            paid_dates AS (
                -- the payment-term lines of the paid invoices: an index-only scan (see init())
                SELECT il.move_id, MAX(pr.max_date) AS paid_date
                  FROM inv
                  JOIN account_move_line il ON il.move_id = inv.id AND il.display_type = 'payment_term'
                  JOIN account_partial_reconcile pr ON pr.debit_move_id = il.id
                 WHERE inv.is_paid
              GROUP BY il.move_id
            ),
            first_dates AS (
                SELECT partner_id, MIN(invoice_date) AS first_date FROM inv GROUP BY partner_id
            ),
            base AS (
                SELECT inv.*, pd.paid_date, pd.paid_date - inv.date_due AS days_late, fd.first_date
                  FROM inv
                  JOIN first_dates fd ON fd.partner_id = inv.partner_id
             LEFT JOIN paid_dates pd ON pd.move_id = inv.id
            ),
            hist AS (
                -- the payments known at the cut-off, numbered per customer in payment order:
                -- an item's history is a prefix (seq <= n), whose running sum gives the trend
                SELECT b.partner_id, b.id, b.paid_date, b.days_late, b.amount, b.dunning_days,
                       ROW_NUMBER() OVER w AS seq, SUM(b.days_late) OVER w AS cum_late
                  FROM base b
                 WHERE b.paid_date <= %(cutoff)s
                WINDOW w AS (PARTITION BY b.partner_id ORDER BY b.paid_date, b.id)
            ),
            items AS (
                SELECT b.*, COALESCE(b.paid_date <= %(cutoff)s, FALSE) AS is_train,
                       CASE WHEN b.paid_date <= %(cutoff)s THEN b.invoice_date
                            ELSE %(cutoff)s::date + 1 END AS asof
                  FROM base b
            ),
            events AS (
                -- a customer's time line: its items (kind 0, on their as-of date) and the events
                -- (payment 1, broken promise 2, dispute 3); an item sorts before the events of
                -- its own day, so it sees those of the days before only
                SELECT i.partner_id, i.asof AS day, 0 AS kind, i.id,
                       NULL::int AS late, NULL::numeric AS amount, NULL::int AS dunning
                  FROM items i
             UNION ALL
                SELECT h.partner_id, h.paid_date, 1, h.id, h.days_late, h.amount, h.dunning_days
                  FROM hist h
             UNION ALL
                SELECT p.commercial_partner_id, cp.date_closed, 2, cp.id, NULL, NULL, NULL
                  FROM credit_promise cp JOIN res_partner p ON p.id = cp.partner_id
                 WHERE cp.company_id = %(company_id)s AND cp.state = 'broken'
                   AND cp.date_closed IS NOT NULL
             UNION ALL
                SELECT p.commercial_partner_id, cd.create_date::date, 3, cd.id, NULL, NULL, NULL
                  FROM credit_dispute cd JOIN res_partner p ON p.id = cd.partner_id
                 WHERE cd.company_id = %(company_id)s
            ),
            running AS (
                SELECT e.id, e.kind,
                       COUNT(e.late) OVER w AS n,
                       SUM(e.late) OVER w AS sum_late,
                       SUM((e.late > 0)::int) OVER w AS n_late,
                       SUM((e.late > %(late_days)s)::int) OVER w AS n_late30,
                       SUM(GREATEST(e.late, 0) * e.amount) OVER w AS late_amount,
                       SUM(e.amount) OVER w AS sum_amount,
                       MAX(GREATEST(e.late, 0)) OVER w AS max_late,
                       MAX(e.dunning) OVER w AS dunning_days,
                       COUNT(*) FILTER (WHERE e.kind = 2) OVER w AS broken,
                       COUNT(*) FILTER (WHERE e.kind = 3) OVER w AS disputes
                  FROM events e
                WINDOW w AS (PARTITION BY e.partner_id ORDER BY e.day, e.kind, e.id ROWS UNBOUNDED PRECEDING)
            ),
            medians AS (
                -- the medians of a customer's whole history: those of its open items
                SELECT h.partner_id,
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY h.days_late) AS median_late,
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY h.amount) AS median_amount
                  FROM hist h
                 WHERE h.partner_id IN (SELECT partner_id FROM items WHERE NOT is_train)
              GROUP BY h.partner_id
            )
            SELECT i.id, i.partner_id, i.is_train, i.invoice_date, i.date_due, i.paid_date,
                   i.days_late, i.asof, i.amount,
                   r.sum_late::float / NULLIF(r.n, 0) AS hist_mean_late,
                   CASE WHEN NOT i.is_train THEN md.median_late END AS hist_median_late,
                   CASE WHEN r.n > 5
                        THEN (r.sum_late - h5.cum_late) / 5.0 - h5.cum_late / (r.n - 5.0) END AS hist_trend,
                   CASE WHEN NOT i.is_train THEN i.amount / NULLIF(md.median_amount, 0) END AS amount_ratio,
                   i.date_due - i.invoice_date AS term_days,
                   EXTRACT(ISODOW FROM i.date_due) - 1 AS due_weekday,
                   EXTRACT(MONTH FROM i.date_due) AS due_month,
                   COALESCE(r.dunning_days, 0) AS dunning_days,
                   r.broken AS broken_promises,
                   r.disputes AS disputes,
                   r.n_late::float / NULLIF(r.n, 0) AS late_share,
                   i.invoice_date - i.first_date AS relationship_days,
                   r.n AS hist_count,
                   COALESCE(r.late_amount / NULLIF(r.sum_amount, 0), 0) AS rule_late,
                   COALESCE(r.max_late, 0) AS max_late,
                   COALESCE(r.n_late30::float / NULLIF(r.n, 0), 0) AS late30_share
              FROM items i
              JOIN running r ON r.id = i.id AND r.kind = 0
         LEFT JOIN hist h5 ON h5.partner_id = i.partner_id AND h5.seq = r.n - 5
         LEFT JOIN medians md ON md.partner_id = i.partner_id
          ORDER BY i.id
                """,
                invoices=SQL(FEATURE_INVOICES_SQL, company_id=self.env.company.id, cutoff=cutoff),
                company_id=self.env.company.id,
                cutoff=cutoff,
                late_days=pp.LATE_DAYS,
            )
        )
        self.env.cr.execute(SQL("RESET enable_nestloop; RESET work_mem"))
        _prefix_medians(rows)
        return rows

    @api.model
    def _split(self, rows):
        train = [row for row in rows if row["is_train"]]
        open_rows = [row for row in rows if not row["is_train"]]
        return train, open_rows

    def _train_and_predict(self):
        """Backtest at the cut-off :data:`BACKTEST_DAYS` before today, train on everything paid
        up to today, store the boosters, predict the open invoices."""
        self.ensure_one()
        model = self.with_company(self.company_id)
        today = fields.Date.context_today(model)
        started = time.monotonic()
        cutoff = today - timedelta(days=BACKTEST_DAYS)
        figures = model._backtest(cutoff)
        # the median model's rounds for today: the best of the backtest just run
        trained = model._train(today, median_rounds=figures["best_rounds"])
        boosters = pp.load(trained["boosters"]) if trained["boosters"] else None
        if (
            figures["count"] >= MIN_BACKTEST_ITEMS
            and figures["mae_model"] is not None
            and figures["mae_model"] > figures["mae_rule"]
        ):
            # the backtest shows the model worse than the rule for this company: the rule predicts
            boosters = None
        counts = model._predict_open_items(boosters, today)
        self.write(
            {
                "training_seconds": time.monotonic() - started,
                "backtest_date": cutoff,
                "backtest_count": figures["count"],
                "backtest_mae_model": figures["mae_model"] or 0.0,
                "backtest_mae_rule": figures["mae_rule"] or 0.0,
                "backtest_coverage": 100.0 * (figures["coverage"] or 0.0),
                "backtest_model_better": figures["mae_model"] is not None
                and figures["mae_model"] <= (figures["mae_rule"] or 0.0),
                "predicted_count": counts["model"],
                "rule_count": counts["rule"],
            }
        )
        return figures

    def _train(self, today, median_rounds=None):
        """Train on the invoices paid up to ``today`` (the most recent
        :data:`~..lib.payment_prediction.MAX_TRAINING_SAMPLES`) and keep the boosters on this
        company's model record: {"boosters": model strings or None (too little history),
        "count": samples}. ``median_rounds``: the median model's rounds (default: chosen by
        :meth:`_median_rounds` at :data:`BACKTEST_DAYS` before ``today``)."""
        record = self._get_for_company(self.env.company) if not self else self
        if median_rounds is None:
            median_rounds = record._median_rounds(today - timedelta(days=BACKTEST_DAYS))
        train = sorted(
            (row for row in record._feature_rows(today) if row["is_train"]),
            key=lambda row: (row["invoice_date"], row["id"]),
        )[-pp.MAX_TRAINING_SAMPLES :]
        vals = {"date_trained": fields.Datetime.now(), "sample_count": len(train), "state": "insufficient"}
        boosters = None
        if len(train) >= pp.MIN_TRAINING_SAMPLES:
            boosters = pp.train(
                pp.matrix(train), [row["days_late"] for row in train], median_rounds=median_rounds
            )
            vals.update(state="trained", attachment_id=record._store_boosters(boosters).id)
        record.write(vals)
        return {"boosters": boosters, "count": len(train)}

    def _store_boosters(self, boosters_str):
        old = self.attachment_id
        attachment = self.env["ir.attachment"].create(
            {
                "name": f"payment_prediction_{self.company_id.id}.json",
                "res_model": self._name,
                "res_id": self.id,
                "mimetype": "application/json",
                "datas": base64.b64encode(json.dumps(boosters_str).encode()),
            }
        )
        old.unlink()
        return attachment

    def _load_boosters(self):
        self.ensure_one()
        if self.state != "trained" or not self.attachment_id:
            return None
        return pp.load(json.loads(base64.b64decode(self.attachment_id.datas)))

    @api.model
    def _median_rounds(self, cutoff):
        """The median model's boosting rounds for a training at ``cutoff`` +
        :data:`BACKTEST_DAYS`: the best count of the backtest at ``cutoff`` (0: the rule is the
        median; :data:`~..lib.payment_prediction.NUM_ROUNDS` without enough history to tell)."""
        best = self._backtest(cutoff, median_rounds=pp.NUM_ROUNDS)["best_rounds"]
        return pp.NUM_ROUNDS if best is None else best

    @api.model
    def _backtest(self, cutoff, median_rounds=None):
        """The time-split backtest at ``cutoff`` (see :func:`..lib.payment_prediction.backtest`):
        the items open at the cut-off and paid since are the test set; the median model has
        ``median_rounds`` rounds (default: chosen as for production, by :meth:`_median_rounds`
        one :data:`BACKTEST_DAYS` period earlier, from what was known at the cut-off)."""
        if median_rounds is None:
            median_rounds = self._median_rounds(cutoff - timedelta(days=BACKTEST_DAYS))
        train, open_rows = self._split(self._feature_rows(cutoff))
        train = sorted(train, key=lambda row: (row["invoice_date"], row["id"]))[-pp.MAX_TRAINING_SAMPLES :]
        tested = [row for row in open_rows if row["days_late"] is not None]
        return pp.backtest(
            pp.matrix(train),
            [row["days_late"] for row in train],
            pp.matrix(tested),
            [row["days_late"] for row in tested],
            [row["rule_late"] for row in tested],
            [(row["asof"] - row["date_due"]).days for row in tested],
            median_rounds=median_rounds,
        )

    @api.model
    @retry_on_conflict
    def _cron_train(self):
        """Scheduled: train, backtest and predict for one company per run (the company trained
        longest ago first); the scheduler re-runs the job at once while companies remain."""
        today = fields.Date.context_today(self)
        # sudo: the scheduler's user trains every company's model
        companies = self.env["res.company"].sudo().search([])
        trained_today = (
            self.sudo()
            .search(
                [
                    ("company_id", "in", companies.ids),
                    ("date_trained", ">=", fields.Datetime.to_datetime(today)),
                ]
            )
            .company_id
        )
        pending = companies - trained_today
        if pending:
            company = pending[0]
            try:
                self._get_for_company(company).with_company(company)._train_and_predict()
            except (ValueError, UserError):
                _logger.exception("payment-date prediction of company %s failed", company.name)
                self._get_for_company(company).write({"date_trained": fields.Datetime.now()})
        self.env["ir.cron"]._notify_progress(done=1 if pending else 0, remaining=max(len(pending) - 1, 0))
