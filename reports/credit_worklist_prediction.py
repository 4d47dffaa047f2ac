from odoo import api, fields, models
from odoo.tools import SQL

# Priority points of a customer whose open invoices are certain to be paid more than 30 days
# late (probability 1); the points scale with the highest probability of its open invoices.
LATE_POINTS = 40


class CreditWorklist(models.Model):
    """The payment-date prediction on the worklist line: the highest probability of paying more
    than 30 days late among the customer's open invoices, with that invoice and its explanation; with
    the company setting "Use predicted payment dates" it adds up to :data:`LATE_POINTS` to the
    priority."""

    _inherit = "credit.worklist"

    late_probability = fields.Float(string="Probability > 30 Days Late", readonly=True, aggregator="max")
    prediction_move_id = fields.Many2one("account.move", string="Invoice Most Likely Late", readonly=True)
    prediction_explanation = fields.Char(
        string="Prediction", related="prediction_move_id.credit_prediction_explanation"
    )
    points_late = fields.Integer(string="Points: Predicted Late", readonly=True)

    @api.model
    def _with(self):
        # last: the view's query still starts with the module's own expressions
        return [
            *super()._with(),
            (
                "predictions",
                SQL(
                    """
            SELECT DISTINCT ON (p.partner_id)
                   p.partner_id, p.move_id, p.late_probability
              FROM credit_payment_prediction p
              JOIN account_move m ON m.id = p.move_id
             WHERE p.company_id = %(company)s
               AND m.state = 'posted'
               AND m.payment_state IN ('not_paid', 'partial')
          ORDER BY p.partner_id, p.late_probability DESC NULLS LAST, p.move_id
                    """,
                    company=self.env.company.id,
                ),
            ),
        ]

    @api.model
    def _late_points_sql(self):
        if not self.env.company.credit_use_predicted_dates:
            return SQL("0")
        return SQL("ROUND(COALESCE(pred.late_probability, 0) * %s)::int", LATE_POINTS)

    @api.model
    def _select(self):
        return SQL(
            """%(select)s,
               COALESCE(pred.late_probability, 0) AS late_probability,
               pred.move_id AS prediction_move_id,
               %(late_points)s AS points_late""",
            select=super()._select(),
            late_points=self._late_points_sql(),
        )

    @api.model
    def _priority_sql(self):
        return SQL("%s + %s", super()._priority_sql(), self._late_points_sql())

    @api.model
    def _from(self):
        return SQL("%s LEFT JOIN predictions pred ON pred.partner_id = points.partner_id", super()._from())
