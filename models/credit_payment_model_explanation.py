import base64
import json

import numpy as np
from babel.dates import get_day_names, get_month_names

from odoo import api, models
from odoo.tools.misc import babel_locale_parse, formatLang, get_lang

from ..lib import payment_prediction as pp

# (database, model file id) -> the loaded median booster, for the explanations
_CONTRIBUTION_BOOSTERS = {}


class CreditPaymentModel(models.Model):
    """The explanation of a prediction in words: the largest contributions of its features
    (computed when read, from the features stored with the prediction) or the rule's figures."""

    _inherit = "credit.payment.model"

    # === BUSINESS METHODS === #
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
                "this invoice is %(ratio)s× the usual amount", ratio=formatLang(self.env, v, digits=1)
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
            "rule_late": lambda v: self.env._("on average %(days)s days late (by amount)", days=num(v)),
        }

    @api.model
    def _explained_reasons(self, datas):
        """The explanations' figures of stored model predictions (``datas``: their
        ``credit_prediction_reasons`` with the features and the model file): the same dicts
        with "base" (the rule and all customers, rounded days) and "reasons" (the largest
        contributions: [feature, value, rounded days]) added, computed for these rows at once
        with the model file they were predicted with. A prediction whose model file is gone
        (retrained since) is left without reasons."""
        by_file = {}
        for data in datas:
            if data and data.get("features") is not None and "reasons" not in data:
                by_file.setdefault(data.get("model"), []).append(data)
        for file_id, group in by_file.items():
            boosters = self._contribution_boosters(file_id)
            if boosters is None:
                continue
            features = pp.matrix([data["features"] for data in group])
            contrib = pp.contributions(boosters, features)
            top = pp.top_contributions_matrix(features, contrib)
            base = np.rint(contrib[:, -1]).astype(np.int64).tolist()
            values = features.tolist()
            for k, data in enumerate(group):
                data["base"] = base[k]
                data["reasons"] = [[pp.FEATURES[f], values[k][f], days] for f, days in top[k]]
        return datas

    @api.model
    def _contribution_boosters(self, file_id):
        """The median booster of the model file ``file_id`` (an attachment of this model; a
        new file per training, so never changed): loaded once per process and database."""
        key = (self.env.cr.dbname, file_id)
        if key not in _CONTRIBUTION_BOOSTERS:
            # sudo: the model's file belongs to the module, users read the explanation only
            attachment = self.env["ir.attachment"].sudo().browse(file_id or []).exists()
            if not attachment or attachment.res_model != self._name:
                return None
            models_str = json.loads(base64.b64decode(attachment.datas))
            while len(_CONTRIBUTION_BOOSTERS) >= 8:
                _CONTRIBUTION_BOOSTERS.pop(next(iter(_CONTRIBUTION_BOOSTERS)))
            _CONTRIBUTION_BOOSTERS[key] = pp.load(models_str, keys=("q50", "median_rounds"))
        return _CONTRIBUTION_BOOSTERS[key]

    @api.model
    def _explanation_text(self, source, data):
        """The explanation in words of a stored prediction (``data``: the invoice's
        ``credit_prediction_reasons``), in the language of the environment."""
        if not source or not data:
            return False
        if source == "rule":
            if data.get("count"):
                return self.env._(
                    "Rule (paid invoices known: %(count)s): the customer's average of %(days)s days late",
                    count=data["count"],
                    days=formatLang(self.env, data.get("rule", 0.0), digits=1),
                )
            return self.env._("Rule: no payment history, expected on the due date")
        if "reasons" not in data:
            # the model file it was predicted with is gone (retrained since): no factors
            return self.env._("Expected %(days)s days late (model)", days=data.get("mid", 0))
        if not data.get("reasons"):
            # no factor beyond the rule (the median model was left out for this company)
            return self.env._("Expected %(days)s days late (model)", days=data.get("mid", 0))
        labels = self._prediction_labels()
        reasons = "; ".join(
            self.env._("%(reason)s: %(days)s days", reason=labels[name](value), days="%+d" % days)
            for name, value, days in data.get("reasons", [])
            if name in labels
        )
        return self.env._(
            "Expected %(days)s days late (the customer's average and all customers: %(base)s); %(reasons)s",
            days=data.get("mid", 0),
            base=data.get("base", 0),
            reasons=reasons,
        )
