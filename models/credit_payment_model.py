import base64
import json
import logging
import time
from datetime import timedelta

from babel.dates import get_day_names, get_month_names

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL
from odoo.tools.misc import babel_locale_parse, get_lang

from ..lib import payment_prediction as pp
from .cron_retry import retry_on_conflict

_logger = logging.getLogger(__name__)

# The backtest's cut-off: this many days before the training date.
BACKTEST_DAYS = 90
# With at least this many backtest items, a model worse than the rule is not used.
MIN_BACKTEST_ITEMS = 30


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
    def _feature_rows(self, cutoff, open_only=False):
        """Long for one SQL statement (the features side by side, read in one pass).

        One set-based query for the current company: a row per customer invoice issued up to
        ``cutoff`` — kind "train" (paid up to the cut-off: ``days_late`` is the target) or
        "open" (not paid at the cut-off; ``days_late`` is known when it was paid later) — with
        the :data:`~..lib.payment_prediction.FEATURES`, the rule's days late and the customer's
        maximum / over-30-days share. History never leaks the future: a training item sees the
        invoices paid before its invoice date, an open item those paid up to the cut-off.
        ``open_only``: the open rows only (prediction)."""
        company = self.env.company
        for model in ("account.move", "account.move.line", "account.partial.reconcile"):
            self.env[model].flush_model()
        for model in ("credit.promise", "credit.dispute"):
            self.env[model].flush_model()
        return self.env.execute_query_dict(
            SQL(
                """
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
            paid_dates AS (
                SELECT il.move_id, MAX(pr.max_date) AS paid_date
                  FROM account_move_line il
                  JOIN account_partial_reconcile pr ON pr.debit_move_id = il.id
                 WHERE il.display_type = 'payment_term'
                   AND il.company_id = %(company_id)s
                   AND il.move_id IN (SELECT id FROM inv WHERE is_paid)
              GROUP BY il.move_id
            ),
            base AS (
                SELECT inv.*, pd.paid_date, pd.paid_date - inv.date_due AS days_late,
                       MIN(inv.invoice_date) OVER (PARTITION BY inv.partner_id) AS first_date
                  FROM inv
             LEFT JOIN paid_dates pd ON pd.move_id = inv.id
            ),
            hist AS (
                -- the history known at the cut-off, numbered per customer in payment order:
                -- the history before a date is a prefix (seq <= n), whose running sum gives the trend
                SELECT b.partner_id, b.paid_date, b.days_late, b.amount, b.dunning_days,
                       ROW_NUMBER() OVER w AS seq, SUM(b.days_late) OVER w AS cum_late
                  FROM base b
                 WHERE b.paid_date <= %(cutoff)s
                WINDOW w AS (PARTITION BY b.partner_id ORDER BY b.paid_date, b.id)
            ),
            items AS (
                SELECT b.*, b.paid_date <= %(cutoff)s AS is_train,
                       CASE WHEN b.paid_date <= %(cutoff)s THEN b.invoice_date
                            ELSE %(cutoff)s::date + 1 END AS asof
                  FROM base b
                 WHERE NOT %(open_only)s OR b.paid_date IS NULL OR b.paid_date > %(cutoff)s
            ),
            broken AS (
                SELECT i.id, COUNT(*) AS n
                  FROM items i
                  JOIN (SELECT pp.commercial_partner_id AS partner_id, cp.date_closed AS day
                          FROM credit_promise cp JOIN res_partner pp ON pp.id = cp.partner_id
                         WHERE cp.company_id = %(company_id)s AND cp.state = 'broken') b
                    ON b.partner_id = i.partner_id AND b.day < i.asof
              GROUP BY i.id
            ),
            disputed AS (
                SELECT i.id, COUNT(*) AS n
                  FROM items i
                  JOIN (SELECT dp.commercial_partner_id AS partner_id, cd.create_date AS day
                          FROM credit_dispute cd JOIN res_partner dp ON dp.id = cd.partner_id
                         WHERE cd.company_id = %(company_id)s) d
                    ON d.partner_id = i.partner_id AND d.day < i.asof
              GROUP BY i.id
            ),
            stats AS (
                SELECT i.id,
                       COUNT(h.seq) AS n,
                       AVG(h.days_late) AS mean_late,
                       SUM(h.days_late) AS sum_late,
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY h.days_late) AS median_late,
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY h.amount) AS median_amount,
                       AVG((h.days_late > 0)::int) AS late_share,
                       AVG((h.days_late > %(late_days)s)::int) AS late30_share,
                       SUM(GREATEST(h.days_late, 0) * h.amount) / NULLIF(SUM(h.amount), 0) AS rule_late,
                       MAX(GREATEST(h.days_late, 0)) AS max_late,
                       MAX(h.dunning_days) AS dunning_days
                  FROM items i
             LEFT JOIN hist h ON h.partner_id = i.partner_id AND h.paid_date < i.asof
              GROUP BY i.id
            )
            SELECT i.id, i.partner_id, i.is_train, i.invoice_date, i.date_due, i.paid_date,
                   i.days_late, i.asof,
                   s.mean_late AS hist_mean_late,
                   s.median_late AS hist_median_late,
                   CASE WHEN s.n > 5
                        THEN (s.sum_late - h5.cum_late) / 5.0 - h5.cum_late / (s.n - 5.0) END AS hist_trend,
                   i.amount / NULLIF(s.median_amount, 0) AS amount_ratio,
                   i.date_due - i.invoice_date AS term_days,
                   EXTRACT(ISODOW FROM i.date_due) - 1 AS due_weekday,
                   EXTRACT(MONTH FROM i.date_due) AS due_month,
                   COALESCE(s.dunning_days, 0) AS dunning_days,
                   COALESCE(bp.n, 0) AS broken_promises,
                   COALESCE(ds.n, 0) AS disputes,
                   s.late_share,
                   i.invoice_date - i.first_date AS relationship_days,
                   s.n AS hist_count,
                   COALESCE(s.rule_late, 0) AS rule_late,
                   COALESCE(s.max_late, 0) AS max_late,
                   COALESCE(s.late30_share, 0) AS late30_share
              FROM items i
              JOIN stats s ON s.id = i.id
         LEFT JOIN hist h5 ON h5.partner_id = i.partner_id AND h5.seq = s.n - 5
         LEFT JOIN broken bp ON bp.id = i.id
         LEFT JOIN disputed ds ON ds.id = i.id
          ORDER BY i.id
                """,
                company_id=company.id,
                cutoff=cutoff,
                late_days=pp.LATE_DAYS,
                open_only=bool(open_only),
            )
        )

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
        trained = model._train(today)
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

    def _train(self, today):
        """Train on the invoices paid up to ``today`` (the most recent
        :data:`~..lib.payment_prediction.MAX_TRAINING_SAMPLES`) and keep the boosters on this
        company's model record: {"boosters": model strings or None (too little history),
        "count": samples}."""
        record = self._get_for_company(self.env.company) if not self else self
        train = sorted(
            (row for row in record._feature_rows(today) if row["is_train"]),
            key=lambda row: (row["invoice_date"], row["id"]),
        )[-pp.MAX_TRAINING_SAMPLES :]
        vals = {"date_trained": fields.Datetime.now(), "sample_count": len(train), "state": "insufficient"}
        boosters = None
        if len(train) >= pp.MIN_TRAINING_SAMPLES:
            boosters = pp.train(pp.matrix(train), [row["days_late"] for row in train])
            vals.update(state="trained", attachment_id=record._store_boosters(boosters).id)
        record.write(vals)
        return {"boosters": boosters, "count": len(train)}

    def _predict_open_items(self, boosters, today):
        """Predict the company's open invoices with the loaded ``boosters`` (None: the rule for
        all) and store the predictions; returns the counts per source."""
        return self._store_predictions(self._feature_rows(today, open_only=True), boosters, today)

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
    def _backtest(self, cutoff):
        """The time-split backtest at ``cutoff`` (see :func:`..lib.payment_prediction.backtest`):
        the items open at the cut-off and paid since are the test set."""
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
        )

    @api.model
    def _prediction_labels(self):
        """Phrases of the features for the explanation (feature value -> words), in the
        language of the environment."""
        locale = babel_locale_parse(get_lang(self.env).code)
        weekdays = get_day_names("wide", locale=locale)
        months = get_month_names("wide", locale=locale)

        def num(value):
            return f"{value:.0f}"

        return {
            "hist_mean_late": lambda v: self.env._("on average %(days)s days late", days=num(v)),
            "hist_median_late": lambda v: self.env._("usually %(days)s days late", days=num(v)),
            "hist_trend": lambda v: self.env._("recent payments %(days)s days later than before", days=num(v))
            if v >= 0
            else self.env._("recent payments %(days)s days earlier than before", days=num(-v)),
            "amount_ratio": lambda v: self.env._(
                "this invoice is %(ratio)s× the usual amount", ratio="%.1f" % v
            ),
            "term_days": lambda v: self.env._("payment term of %(days)s days", days=num(v)),
            "due_weekday": lambda v: self.env._("due on a %(weekday)s", weekday=weekdays[int(v) % 7]),
            "due_month": lambda v: self.env._("due in %(month)s", month=months[int(v)]),
            "dunning_days": lambda v: self.env._("dunned at %(days)s days overdue before", days=num(v)),
            "broken_promises": lambda v: self.env._("%(count)s broken promises", count=num(v)),
            "disputes": lambda v: self.env._("%(count)s disputes", count=num(v)),
            "late_share": lambda v: self.env._("%(share)s%% of invoices paid late", share=num(100 * v)),
            "relationship_days": lambda v: self.env._("customer for %(days)s days", days=num(v)),
            "hist_count": lambda v: self.env._("%(count)s paid invoices known", count=num(v)),
        }

    @api.model
    def _explanation_text(self, source, data):
        """The explanation in words of a stored prediction (``data``: the invoice's
        ``credit_prediction_reasons``), in the language of the environment."""
        if not source or not data:
            return False
        if source == "rule":
            if data.get("count"):
                return self.env._(
                    "Rule (only %(count)s paid invoices known): the customer's average of %(days)s days late",
                    count=data["count"],
                    days="%.1f" % data.get("rule", 0.0),
                )
            return self.env._("Rule: no payment history, expected on the due date")
        labels = self._prediction_labels()
        reasons = "; ".join(
            self.env._("%(reason)s: %(days)s days", reason=labels[name](value), days="%+d" % days)
            for name, value, days in data.get("reasons", [])
            if name in labels
        )
        return self.env._(
            "Expected %(days)s days late (all customers: %(base)s); %(reasons)s",
            days=data.get("mid", 0),
            base=data.get("base", 0),
            reasons=reasons,
        )

    @api.model
    def _predictions(self, open_rows, boosters, today):
        """Prediction per open row: {move id: (date, low, high, probability, source, reasons)}
        (reasons: what :meth:`_explanation_text` puts in words). Customers with fewer than
        :data:`MIN_HISTORY` paid invoices (or no model) follow the rule: due date + the
        customer's average days late, band due date .. + maximum days late."""
        result = {}
        use_model = boosters is not None
        model_rows = [row for row in open_rows if use_model and (row["hist_count"] or 0) >= pp.MIN_HISTORY]
        if model_rows:
            features = pp.matrix(model_rows)
            prediction = pp.predict(boosters, features)
            min_late = [(today - row["date_due"]).days for row in model_rows]
            low, mid, high = pp.clamp_band(prediction, min_late)
            # the phrases are not needed here: only which features have one
            named = dict.fromkeys(pp.FEATURES, str)
            for i, row in enumerate(model_rows):
                contrib = prediction["contrib"][i]
                reasons = [
                    [pp.FEATURES[index], float(features[i][index]), days]
                    for index, days in pp.top_contributions(features[i], contrib, named)
                ]
                due = row["date_due"]
                result[row["id"]] = (
                    due + timedelta(days=round(mid[i])),
                    due + timedelta(days=round(low[i])),
                    due + timedelta(days=round(high[i])),
                    float(prediction["late"][i]),
                    "model",
                    {"mid": round(mid[i]), "base": round(contrib[-1]), "reasons": reasons},
                )
        for row in open_rows:
            if row["id"] in result:
                continue
            due = row["date_due"]
            floor = max((today - due).days, 0)
            rule = max(round(row["rule_late"]), floor)
            result[row["id"]] = (
                due + timedelta(days=rule),
                due + timedelta(days=min(floor, rule)),
                due + timedelta(days=max(int(row["max_late"]), rule)),
                float(row["late30_share"]),
                "rule",
                {"count": row["hist_count"] or 0, "rule": float(row["rule_late"])},
            )
        return result

    @api.model
    def _store_predictions(self, open_rows, boosters, today):
        """Write the predictions on the open invoices of the current company in one UPDATE …
        FROM (VALUES …), and clear those of the company's other invoices (paid since)."""
        predictions = self._predictions(open_rows, boosters, today)
        company = self.env.company
        self.env["account.move"].flush_model()
        self.env.execute_query(
            SQL(
                """
            UPDATE account_move
               SET credit_predicted_date = NULL, credit_predicted_date_low = NULL,
                   credit_predicted_date_high = NULL, credit_predicted_late_probability = NULL,
                   credit_prediction_source = NULL, credit_prediction_reasons = NULL,
                   credit_predicted_on = NULL
             WHERE company_id = %s AND credit_prediction_source IS NOT NULL AND NOT (id = ANY(%s))
                """,
                company.id,
                list(predictions),
            )
        )
        if predictions:
            values = SQL(", ").join(
                SQL(
                    "(%s, %s::date, %s::date, %s::date, %s::float, %s, %s::jsonb)",
                    move_id,
                    *values[:5],
                    json.dumps(values[5]),
                )
                for move_id, values in predictions.items()
            )
            self.env.execute_query(
                SQL(
                    """
                UPDATE account_move m
                   SET credit_predicted_date = v.day, credit_predicted_date_low = v.low,
                       credit_predicted_date_high = v.high, credit_predicted_late_probability = v.prob,
                       credit_prediction_source = v.source, credit_prediction_reasons = v.reasons,
                       credit_predicted_on = %(today)s
                  FROM (VALUES %(values)s) AS v(id, day, low, high, prob, source, reasons)
                 WHERE m.id = v.id
                    """,
                    values=values,
                    today=today,
                )
            )
        self.env["account.move"].invalidate_model(
            [
                "credit_predicted_date",
                "credit_predicted_date_low",
                "credit_predicted_date_high",
                "credit_predicted_late_probability",
                "credit_prediction_source",
                "credit_prediction_reasons",
                "credit_prediction_explanation",
                "credit_predicted_on",
            ]
        )
        sources = [values[4] for values in predictions.values()]
        return {"model": sources.count("model"), "rule": sources.count("rule")}

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
