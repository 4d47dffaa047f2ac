import json

import numpy as np

from odoo import api, models
from odoo.tools import SQL

from ..lib import payment_prediction as pp
from .account_move_prediction import PREDICTION_FIELDS
from .credit_dunning_letter_bulk import array_literal
from .credit_payment_model import FEATURE_INVOICES_SQL

# The columns of :meth:`CreditPaymentModel._open_item_columns`, in the statement's order: the
# item, then its :data:`~..lib.payment_prediction.FEATURES` side by side (one slice of each row
# is its feature vector), then the rule's band figures.
OPEN_ITEM_COLUMNS = ("id", "partner_id", "date_due", *pp.FEATURES, "max_late", "late30_share")
_FIRST_FEATURE = OPEN_ITEM_COLUMNS.index(pp.FEATURES[0])
_LAST_FEATURE = _FIRST_FEATURE + len(pp.FEATURES)
_HIST_COUNT = pp.FEATURES.index("hist_count")


def _plain_literal(texts):
    """A PostgreSQL array literal of ``texts`` that need no quotes (numbers, ISO dates, plain
    words): one string parameter for the INSERT's ``unnest``."""
    return "{%s}" % ",".join(texts)


class CreditPaymentModel(models.Model):
    """The prediction of the open items: their features from one aggregate per customer over
    its payment history (an open item's history is all the payments known at the cut-off),
    the four models' predictions as one matrix, stored by one DELETE and one INSERT."""

    _inherit = "credit.payment.model"

    # === BUSINESS METHODS === #
    @api.model
    def _open_item_columns(self, cutoff):
        """Long for one SQL statement (the features side by side, read in one pass).

        The items open at ``cutoff`` (issued up to it, not paid by it) with their features,
        as columns: {name: list} for the names of :data:`OPEN_ITEM_COLUMNS` (ids ascending; NaN
        for a missing feature), "features_json" (each item's features as a JSON array, null for
        a missing one) and "features", the feature matrix (n x len(FEATURES)).

        The same figures as the open rows of :meth:`_feature_rows` (its time line gives an
        open item, as of the day after the cut-off, exactly the events up to the cut-off), in
        one pass over the customer's history: one GROUP BY per customer of the payments known
        at the cut-off (counts, sums, medians and the last five payments for the trend),
        joined to its open items. Amounts and ratios are read as float8 (no Decimal per value)."""
        for model in ("account.move", "account.move.line", "account.partial.reconcile"):
            self.env[model].flush_model()
        for model in ("credit.promise", "credit.dispute"):
            self.env[model].flush_model()
        rows = self.env.execute_query(
            SQL(
                """
            %(invoices)s
            paid_dates AS (
                -- the latest match of each payment-term line (the debit side) of the company:
                -- an index-only scan (see init()); a paid invoice's payment date in base
                SELECT il.move_id, MAX(pr.max_date) AS paid_date
                  FROM account_partial_reconcile pr
                  JOIN account_move_line il ON il.id = pr.debit_move_id AND il.display_type = 'payment_term'
                 WHERE pr.company_id = %(company_id)s
              GROUP BY il.move_id
            ),
            base AS MATERIALIZED (
                -- every invoice with its payment date (MATERIALIZED: one join for the history
                -- and the open items, and the open items filtered before their joins)
                SELECT inv.*, pd.paid_date, pd.paid_date - inv.date_due AS days_late
                  FROM inv
             LEFT JOIN paid_dates pd ON pd.move_id = inv.id AND inv.is_paid
            ),
            known AS (
                -- the payments known at the cut-off, the last ones first (the trend's five)
                SELECT b.partner_id, b.days_late AS late, b.amount, b.dunning_days,
                       ROW_NUMBER() OVER (PARTITION BY b.partner_id
                                              ORDER BY b.paid_date DESC, b.id DESC) AS rank
                  FROM base b
                 WHERE b.paid_date <= %(cutoff)s
            ),
            hist AS (
                SELECT k.partner_id,
                       COUNT(*) AS n,
                       SUM(k.late) AS sum_late,
                       SUM(k.late) FILTER (WHERE k.rank <= 5) AS last5_late,
                       SUM((k.late > 0)::int) AS n_late,
                       SUM((k.late > %(late_days)s)::int) AS n_late30,
                       SUM(GREATEST(k.late, 0) * k.amount) AS late_amount,
                       SUM(k.amount) AS sum_amount,
                       MAX(GREATEST(k.late, 0)) AS max_late,
                       MAX(k.dunning_days) AS dunning_days,
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY k.late) AS median_late,
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY k.amount) AS median_amount
                  FROM known k
              GROUP BY k.partner_id
            ),
            first_dates AS (
                SELECT partner_id, MIN(invoice_date) AS first_date FROM inv GROUP BY partner_id
            ),
            broken AS (
                SELECT p.commercial_partner_id AS partner_id, COUNT(*) AS n
                  FROM credit_promise cp JOIN res_partner p ON p.id = cp.partner_id
                 WHERE cp.company_id = %(company_id)s AND cp.state = 'broken'
                   AND cp.date_closed <= %(cutoff)s
              GROUP BY p.commercial_partner_id
            ),
            disputes AS (
                SELECT p.commercial_partner_id AS partner_id, COUNT(*) AS n
                  FROM credit_dispute cd JOIN res_partner p ON p.id = cd.partner_id
                 WHERE cd.company_id = %(company_id)s AND cd.create_date::date <= %(cutoff)s
              GROUP BY p.commercial_partner_id
            ),
            items AS MATERIALIZED (
                SELECT b.* FROM base b WHERE b.paid_date IS NULL OR b.paid_date > %(cutoff)s
            ),
            features AS (
            -- the expressions (and types) of _feature_rows, for the same values
            SELECT i.id, i.partner_id, i.date_due,
                   h.sum_late::float / NULLIF(h.n, 0) AS hist_mean_late,
                   h.median_late AS hist_median_late,
                   (CASE WHEN h.n > 5
                         THEN h.last5_late / 5.0 - (h.sum_late - h.last5_late) / (h.n - 5.0) END)::float8
                       AS hist_trend,
                   (i.amount / NULLIF(h.median_amount, 0))::float8 AS amount_ratio,
                   i.date_due - i.invoice_date AS term_days,
                   (EXTRACT(ISODOW FROM i.date_due) - 1)::float8 AS due_weekday,
                   EXTRACT(MONTH FROM i.date_due)::float8 AS due_month,
                   COALESCE(h.dunning_days, 0) AS dunning_days,
                   COALESCE(b.n, 0) AS broken_promises,
                   COALESCE(d.n, 0) AS disputes,
                   h.n_late::float / NULLIF(h.n, 0) AS late_share,
                   i.invoice_date - fd.first_date AS relationship_days,
                   COALESCE(h.n, 0) AS hist_count,
                   COALESCE(h.late_amount / NULLIF(h.sum_amount, 0), 0)::float8 AS rule_late,
                   COALESCE(h.max_late, 0) AS max_late,
                   COALESCE(h.n_late30::float / NULLIF(h.n, 0), 0) AS late30_share
              FROM items i
              JOIN first_dates fd ON fd.partner_id = i.partner_id
         LEFT JOIN hist h ON h.partner_id = i.partner_id
         LEFT JOIN broken b ON b.partner_id = i.partner_id
         LEFT JOIN disputes d ON d.partner_id = i.partner_id
            )
            -- NaN for a missing feature (numpy reads floats faster than None); the features
            -- also as JSON (PostgreSQL writes the numbers: the prediction keeps them)
            SELECT f.id, f.partner_id, f.date_due, %(features)s, f.max_late, f.late30_share,
                   json_build_array(%(json_features)s)::text
              FROM features f
          ORDER BY f.id
                """,
                invoices=SQL(FEATURE_INVOICES_SQL, company_id=self.env.company.id, cutoff=cutoff),
                company_id=self.env.company.id,
                cutoff=cutoff,
                late_days=pp.LATE_DAYS,
                features=SQL(", ").join(
                    SQL("COALESCE(f.%s::float8, 'NaN')", SQL.identifier(name)) for name in pp.FEATURES
                ),
                json_features=SQL(", ").join(SQL("f.%s", SQL.identifier(name)) for name in pp.FEATURES),
            )
        )
        self.env.cr.execute(SQL("RESET enable_nestloop; RESET work_mem"))
        names = (*OPEN_ITEM_COLUMNS, "features_json")
        values = list(zip(*rows, strict=True)) if rows else [()] * len(names)
        columns = {name: list(column) for name, column in zip(names, values, strict=True)}
        columns["features"] = (
            np.array([row[_FIRST_FEATURE:_LAST_FEATURE] for row in rows], dtype=np.float64)
            if rows
            else np.empty((0, len(pp.FEATURES)))
        )
        return columns

    @api.model
    def _open_item_rows(self, cutoff):
        """:meth:`_open_item_columns` as rows: dicts of :data:`OPEN_ITEM_COLUMNS` (None for a
        missing value), the same values as under these keys in the open rows of
        :meth:`_feature_rows`."""
        columns, names = self._open_item_columns(cutoff), OPEN_ITEM_COLUMNS
        return [
            {name: None if value != value else value for name, value in zip(names, values, strict=True)}
            for values in zip(*(columns[name] for name in OPEN_ITEM_COLUMNS), strict=True)
        ]

    def _predict_open_items(self, boosters, today):
        """Predict the company's open invoices with the loaded ``boosters`` (None: the rule for
        all) and store the predictions; returns the counts per source."""
        return self._store_predictions(self._open_item_columns(today), boosters, today)

    @api.model
    def _predictions(self, items, boosters, today):
        """Prediction per open item (``items``: :meth:`_open_item_columns`), as columns in the
        order of the items: "day", "low", "high" (datetime64[D] arrays), "probability" (float
        array), "source" (array of "model" / "rule"), "reasons" (list of JSON texts: what
        :meth:`_explanation_text` puts in words). Customers with fewer than
        :data:`MIN_HISTORY` paid invoices (or no model) follow the rule: due date + the
        customer's average days late, band due date .. + maximum days late. The model's rows
        are predicted as one matrix; each keeps its features and the model file (this record's
        attachment) for its explanation (:meth:`_explained_reasons`)."""
        features = items["features"]
        count = len(features)
        due = np.array(items["date_due"], dtype="datetime64[D]")
        overdue = (np.datetime64(today, "D") - due).astype(np.int64)
        floor = np.maximum(overdue, 0)
        rule_late = pp.rule_of(features)
        rule = np.maximum(np.rint(rule_late).astype(np.int64), floor)
        mid, low = rule, np.minimum(floor, rule)
        high = np.maximum(np.array(items["max_late"], dtype=np.int64), rule)
        probability = np.array(items["late30_share"], dtype=np.float64)
        hist_count = np.nan_to_num(features[:, _HIST_COUNT]).astype(np.int64)
        use_model = (hist_count >= pp.MIN_HISTORY) if boosters is not None else np.zeros(count, dtype=bool)
        # the rule's figures (JSON: the count, the average as Python writes a float)
        reasons = [
            '{"count": %d, "rule": %r}' % pair
            for pair in zip(hist_count.tolist(), rule_late.tolist(), strict=True)
        ]
        if use_model.any():
            index = np.flatnonzero(use_model)
            model_features = features[index]
            prediction = pp.predict(boosters, model_features)
            band = [np.rint(days).astype(np.int64) for days in pp.clamp_band(prediction, overdue[index])]
            low, mid, high = low.copy(), mid.copy(), high.copy()
            low[index], mid[index], high[index] = band
            probability[index] = prediction["late"]
            # the features as predicted from (JSON as PostgreSQL wrote them, null for a missing
            # value), for the contributions of the predictions a user reads (_explained_reasons)
            template = '{"mid": %%d, "model": %s, "features": %%s}' % json.dumps(
                self.attachment_id.id if self else False
            )
            features_json = items["features_json"]
            for i, mid_days in zip(index.tolist(), mid[index].tolist(), strict=True):
                reasons[i] = template % (mid_days, features_json[i])
        # still unpaid more than 30 days after the due date: it is paid more than 30 days late
        probability = np.where(overdue > pp.LATE_DAYS, 1.0, probability)
        return {
            "day": due + mid,
            "low": due + low,
            "high": due + high,
            "probability": probability,
            "source": np.where(use_model, "model", "rule"),
            "reasons": reasons,
        }

    @api.model
    def _store_predictions(self, items, boosters, today):
        """Replace the predictions of the current company (credit.payment.prediction) by those
        of its open ``items`` (:meth:`_open_item_columns`): one DELETE and one INSERT … SELECT
        FROM unnest(arrays), each array one literal (read by the array type's input, not an
        expression per value; the numbers and dates written by numpy at once). The invoices
        themselves are not written (an UPDATE of account_move rewrites every row and all its
        index entries: most of the prediction's time when the columns were there)."""
        predictions = self._predictions(items, boosters, today)
        company_id = self.env.company.id
        self.env["credit.payment.prediction"].flush_model()
        self.env.execute_query(SQL("DELETE FROM credit_payment_prediction WHERE company_id = %s", company_id))
        if items["id"]:
            self.env.execute_query(
                SQL(
                    """
                INSERT INTO credit_payment_prediction
                       (move_id, company_id, partner_id, date, date_low, date_high, late_probability,
                        source, reasons, predicted_on)
                SELECT v.id, %(company)s, v.partner, v.day, v.low, v.high, v.prob, v.source,
                       v.reasons::jsonb, %(today)s
                  FROM unnest(%(id)s::int[], %(partner)s::int[], %(day)s::date[], %(low)s::date[],
                              %(high)s::date[], %(prob)s::float8[], %(source)s::varchar[],
                              %(reasons)s::text[])
                       AS v(id, partner, day, low, high, prob, source, reasons)
                    """,
                    company=company_id,
                    today=today,
                    id=_plain_literal(map(str, items["id"])),
                    partner=_plain_literal(map(str, items["partner_id"])),
                    day=_plain_literal(np.datetime_as_string(predictions["day"], unit="D").tolist()),
                    low=_plain_literal(np.datetime_as_string(predictions["low"], unit="D").tolist()),
                    high=_plain_literal(np.datetime_as_string(predictions["high"], unit="D").tolist()),
                    prob=_plain_literal(map(repr, predictions["probability"].tolist())),
                    source=_plain_literal(predictions["source"].tolist()),
                    reasons=array_literal(predictions["reasons"]),
                )
            )
        self.env["credit.payment.prediction"].invalidate_model()
        self.env["account.move"].invalidate_model([*PREDICTION_FIELDS, "credit_prediction_explanation"])
        model_count = int(np.count_nonzero(predictions["source"] == "model"))
        return {"model": model_count, "rule": len(items["id"]) - model_count}
