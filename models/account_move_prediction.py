from odoo import _, api, fields, models
from odoo.exceptions import AccessError

# The invoice's prediction fields and the field of credit.payment.prediction each one reads:
# written only by the payment-date prediction (see credit.payment.model._store_predictions).
PREDICTION_FIELDS = {
    "credit_predicted_date": "date",
    "credit_predicted_date_low": "date_low",
    "credit_predicted_date_high": "date_high",
    "credit_predicted_late_probability": "late_probability",
    "credit_prediction_source": "source",
    "credit_prediction_reasons": "reasons",
    "credit_predicted_on": "predicted_on",
}


class AccountMove(models.Model):
    """The predicted payment date of an open customer invoice, its band, the probability of
    paying more than 30 days late, where it comes from (model or rule) and why: read from the
    invoice's row of credit.payment.prediction (not stored on the invoice: predicting every
    open invoice would rewrite them all)."""

    _inherit = "account.move"

    # === FIELDS === #
    credit_predicted_date = fields.Date(
        string="Expected Payment",
        compute="_compute_credit_prediction",
        search="_search_credit_predicted_date",
    )
    credit_predicted_date_low = fields.Date(
        string="Expected Payment (Earliest)",
        compute="_compute_credit_prediction",
        search="_search_credit_predicted_date_low",
    )
    credit_predicted_date_high = fields.Date(
        string="Expected Payment (Latest)",
        compute="_compute_credit_prediction",
        search="_search_credit_predicted_date_high",
    )
    credit_predicted_late_probability = fields.Float(
        string="Probability > 30 Days Late",
        compute="_compute_credit_prediction",
        search="_search_credit_predicted_late_probability",
    )
    credit_prediction_source = fields.Selection(
        [("model", "Model"), ("rule", "Rule (Average Days Late)")],
        string="Prediction Source",
        compute="_compute_credit_prediction",
        search="_search_credit_prediction_source",
    )
    # the largest contributions (feature, value, days) or the rule's figures, in no language
    credit_prediction_reasons = fields.Json(compute="_compute_credit_prediction")
    credit_prediction_explanation = fields.Char(
        string="Why", compute="_compute_credit_prediction_explanation"
    )
    credit_predicted_on = fields.Date(
        string="Predicted On", compute="_compute_credit_prediction", search="_search_credit_predicted_on"
    )

    # === COMPUTE === #
    def _compute_credit_prediction(self):
        # sudo: the invoice's own access rules apply to the invoice; its prediction follows it
        predictions = (
            self.env["credit.payment.prediction"]
            .sudo()
            .search_fetch([("move_id", "in", self.ids)], ["move_id", *PREDICTION_FIELDS.values()])
        )
        by_move = {prediction.move_id.id: prediction for prediction in predictions}
        for move in self:
            prediction = by_move.get(move.id)
            for fname, pname in PREDICTION_FIELDS.items():
                move[fname] = prediction[pname] if prediction else False

    @api.depends("credit_prediction_source", "credit_prediction_reasons")
    @api.depends_context("lang")
    def _compute_credit_prediction_explanation(self):
        model = self.env["credit.payment.model"]
        # the model's contributions of all these invoices at once (copies: the field's value
        # stays as stored)
        datas = model._explained_reasons(
            [
                dict(move.credit_prediction_reasons or {})
                if move.credit_prediction_source == "model"
                else None
                for move in self
            ]
        )
        for move, data in zip(self, datas, strict=True):
            move.credit_prediction_explanation = model._explanation_text(
                move.credit_prediction_source, data if data is not None else move.credit_prediction_reasons
            )

    def _search_credit_prediction_field(self, pname, operator, value):
        """Search (and filter, sort in a list) on a prediction field: the invoices whose
        prediction matches; ``= False`` / ``!= <value>`` also match the invoices without one."""
        predictions = self.env["credit.payment.prediction"].sudo()
        if operator in ("=", "!=") and value is False:
            operator, value = (
                ("not in" if operator == "=" else "in"),
                predictions._search([(pname, "!=", False)]).subselect("move_id"),
            )
            return [("id", operator, value)]
        if operator in ("!=", "not in"):
            positive = "=" if operator == "!=" else "in"
            return [("id", "not in", predictions._search([(pname, positive, value)]).subselect("move_id"))]
        return [("id", "in", predictions._search([(pname, operator, value)]).subselect("move_id"))]

    def _search_credit_predicted_date(self, operator, value):
        return self._search_credit_prediction_field("date", operator, value)

    def _search_credit_predicted_date_low(self, operator, value):
        return self._search_credit_prediction_field("date_low", operator, value)

    def _search_credit_predicted_date_high(self, operator, value):
        return self._search_credit_prediction_field("date_high", operator, value)

    def _search_credit_predicted_late_probability(self, operator, value):
        return self._search_credit_prediction_field("late_probability", operator, value)

    def _search_credit_prediction_source(self, operator, value):
        return self._search_credit_prediction_field("source", operator, value)

    def _search_credit_predicted_on(self, operator, value):
        return self._search_credit_prediction_field("predicted_on", operator, value)

    # === CRUD === #
    @api.model
    def default_get(self, fields_list):
        result = super().default_get(fields_list)
        for fname in PREDICTION_FIELDS.keys() & result.keys():
            del result[fname]
        return result

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            for vals in vals_list:
                if any(vals[fname] for fname in PREDICTION_FIELDS.keys() & vals.keys()):
                    raise AccessError(_("Payment-date predictions are computed, not entered."))
                for fname in PREDICTION_FIELDS.keys() & vals.keys():
                    del vals[fname]
        return super().create(vals_list)

    def write(self, vals):
        if PREDICTION_FIELDS.keys() & vals.keys() and not self.env.su:
            raise AccessError(_("Payment-date predictions are computed, not entered."))
        return super().write(vals)
