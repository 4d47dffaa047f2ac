from odoo import _, api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL
from odoo.tools.sql import column_exists, create_index

from ..lib.protected_fields import drop_protected_defaults


class CreditPaymentPrediction(models.Model):
    """The payment-date prediction of an open customer invoice: one row per open invoice,
    replaced per company by the prediction job in two statements (DELETE + INSERT … SELECT FROM
    unnest), so that predicting does not rewrite the invoices (account_move has dozens of
    indexes: an UPDATE of every open invoice was most of the prediction's time). Nobody but
    the job writes it (sudo); users read it through the invoice's fields."""

    _name = "credit.payment.prediction"
    _description = "Payment-Date Prediction"
    _order = "move_id"
    _rec_name = "move_id"
    # written by SQL only: no create/write user and date columns to fill
    _log_access = False

    # === FIELDS === #
    # indexes: move_id's unique constraint, (company, partner, probability) of init() - each one
    # more is written for every row of every run
    move_id = fields.Many2one("account.move", required=True, readonly=True, ondelete="cascade")
    company_id = fields.Many2one("res.company", required=True, readonly=True, ondelete="cascade")
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, readonly=True, ondelete="cascade"
    )
    date = fields.Date(string="Expected Payment", readonly=True)
    date_low = fields.Date(string="Expected Payment (Earliest)", readonly=True)
    date_high = fields.Date(string="Expected Payment (Latest)", readonly=True)
    late_probability = fields.Float(string="Probability > 30 Days Late", readonly=True)
    source = fields.Selection(
        [("model", "Model"), ("rule", "Rule (Average Days Late)")], string="Prediction Source", readonly=True
    )
    # the largest contributions (feature, value, days) or the rule's figures, in no language
    reasons = fields.Json(readonly=True)
    predicted_on = fields.Date(readonly=True)

    _sql_constraints = [
        ("move_uniq", "unique(move_id)", "An invoice has one payment-date prediction."),
    ]

    def init(self):
        result = super().init()
        self._move_predictions_off_invoices()
        # the worklist's "predictions": per customer of a company, the highest probability of
        # paying late first, read from the index alone
        create_index(
            self.env.cr,
            "credit_payment_prediction_partner_late_idx",
            self._table,
            ["company_id", "partner_id", "late_probability DESC NULLS LAST", "move_id"],
        )
        return result

    def _move_predictions_off_invoices(self):
        """Databases of the module's versions that stored the predictions on account_move: the
        stored predictions move here, the invoice's columns and their index go (every write of
        an invoice updated that index)."""
        cr = self.env.cr
        if not column_exists(cr, "account_move", "credit_prediction_source"):
            return
        cr.execute(
            SQL(
                """
            INSERT INTO credit_payment_prediction
                   (move_id, company_id, partner_id, date, date_low, date_high, late_probability,
                    source, reasons, predicted_on)
            SELECT id, company_id, commercial_partner_id, credit_predicted_date,
                   credit_predicted_date_low, credit_predicted_date_high,
                   credit_predicted_late_probability, credit_prediction_source,
                   credit_prediction_reasons, credit_predicted_on
              FROM account_move
             WHERE credit_prediction_source IS NOT NULL AND commercial_partner_id IS NOT NULL
                ON CONFLICT (move_id) DO NOTHING
                """
            )
        )
        cr.execute(SQL("DROP INDEX IF EXISTS credit_control_move_open_prediction_idx"))
        cr.execute(
            SQL(
                "ALTER TABLE account_move %s",
                SQL(", ").join(
                    SQL("DROP COLUMN IF EXISTS %s", SQL.identifier(column))
                    for column in (
                        "credit_predicted_date",
                        "credit_predicted_date_low",
                        "credit_predicted_date_high",
                        "credit_predicted_late_probability",
                        "credit_prediction_source",
                        "credit_prediction_reasons",
                        "credit_predicted_on",
                    )
                ),
            )
        )

    # === CRUD === #
    @api.model
    def default_get(self, fields_list):
        return drop_protected_defaults(self, super().default_get(fields_list), set(self._fields), False)

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            raise AccessError(_("Payment-date predictions are computed, not entered."))
        return super().create(vals_list)

    def write(self, vals):
        if not self.env.su:
            raise AccessError(_("Payment-date predictions are computed, not entered."))
        return super().write(vals)
