from odoo import _, api, fields, models
from odoo.exceptions import AccessError

# Written only by the payment-date prediction (one SQL UPDATE, see credit.payment.model).
PREDICTION_FIELDS = frozenset(
    {
        "credit_predicted_date",
        "credit_predicted_date_low",
        "credit_predicted_date_high",
        "credit_predicted_late_probability",
        "credit_prediction_source",
        "credit_prediction_reasons",
        "credit_predicted_on",
    }
)


class AccountMove(models.Model):
    """The predicted payment date of an open customer invoice, its band, the probability of
    paying more than 30 days late, where it comes from (model or rule) and why."""

    _inherit = "account.move"

    # === FIELDS === #
    credit_predicted_date = fields.Date(string="Expected Payment", readonly=True, copy=False)
    credit_predicted_date_low = fields.Date(string="Expected Payment (Earliest)", readonly=True, copy=False)
    credit_predicted_date_high = fields.Date(string="Expected Payment (Latest)", readonly=True, copy=False)
    credit_predicted_late_probability = fields.Float(
        string="Probability > 30 Days Late", readonly=True, copy=False, digits=(16, 2)
    )
    credit_prediction_source = fields.Selection(
        [("model", "Model"), ("rule", "Rule (Average Days Late)")],
        string="Prediction Source",
        readonly=True,
        copy=False,
    )
    # the largest contributions (feature, value, days) or the rule's figures, in no language
    credit_prediction_reasons = fields.Json(readonly=True, copy=False)
    credit_prediction_explanation = fields.Char(
        string="Why", compute="_compute_credit_prediction_explanation"
    )
    credit_predicted_on = fields.Date(string="Predicted On", readonly=True, copy=False)

    # === COMPUTE === #
    @api.depends("credit_prediction_source", "credit_prediction_reasons")
    @api.depends_context("lang")
    def _compute_credit_prediction_explanation(self):
        model = self.env["credit.payment.model"]
        for move in self:
            move.credit_prediction_explanation = model._explanation_text(
                move.credit_prediction_source, move.credit_prediction_reasons
            )

    # === CRUD === #
    @api.model
    def default_get(self, fields_list):
        result = super().default_get(fields_list)
        for fname in PREDICTION_FIELDS.intersection(result):
            del result[fname]
        return result

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            for vals in vals_list:
                if any(vals[fname] for fname in PREDICTION_FIELDS.intersection(vals)):
                    raise AccessError(_("Payment-date predictions are computed, not entered."))
                for fname in PREDICTION_FIELDS.intersection(vals):
                    del vals[fname]
        return super().create(vals_list)

    def write(self, vals):
        if PREDICTION_FIELDS.intersection(vals) and not self.env.su:
            raise AccessError(_("Payment-date predictions are computed, not entered."))
        return super().write(vals)
