from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class CreditRating(models.Model):
    _name = "credit.rating"
    _description = "Credit Risk Rating"
    _order = "sequence, score_min desc, id"
    _check_company_auto = True

    # === FIELDS === #
    sequence = fields.Integer(default=10)
    code = fields.Char(required=True, help="Short code shown as a badge, e.g. A to E.")
    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", help="Leave empty to use this rating class in every company.")
    currency_id = fields.Many2one(
        "res.currency", compute="_compute_currency_id", help="Currency of the default limit."
    )
    score_min = fields.Integer(string="Score From", required=True, default=0)
    score_max = fields.Integer(string="Score To", required=True, default=100)
    default_limit = fields.Monetary(
        currency_field="currency_id", help="Credit limit proposed for customers of this class."
    )
    payment_term_id = fields.Many2one(
        "account.payment.term",
        string="Required Payment Term",
        check_company=True,
        help="Orders of customers in this class must use this payment term (e.g. prepayment).",
    )
    overdue_tolerance_days = fields.Integer(
        string="Tolerated Days Overdue",
        default=30,
        help="Oldest overdue item (in days) tolerated before new orders are blocked.",
    )
    overdue_tolerance_amount = fields.Monetary(
        string="Tolerated Overdue Amount",
        currency_field="currency_id",
        help="Overdue amount tolerated before new orders are blocked (0 = none tolerated).",
    )
    color = fields.Integer(help="Colour index of the rating badge.")
    description = fields.Text(translate=True)

    _sql_constraints = [
        ("score_range", "CHECK(score_min <= score_max)", "The score range is inverted."),
    ]

    # === COMPUTE === #
    @api.depends("company_id")
    @api.depends_context("company")
    def _compute_currency_id(self):
        for rating in self:
            rating.currency_id = (rating.company_id or self.env.company).currency_id

    @api.depends("code", "name")
    def _compute_display_name(self):
        for rating in self:
            rating.display_name = f"{rating.code} – {rating.name}" if rating.code else rating.name

    # === CONSTRAINTS === #
    @api.constrains("score_min", "score_max")
    def _check_score_range(self):
        for rating in self:
            if not (0 <= rating.score_min <= rating.score_max <= 100):
                raise ValidationError(
                    _(
                        "The score range of rating %(rating)s must lie within 0 to 100 "
                        "and start below its end.",
                        rating=rating.display_name,
                    )
                )

    @api.constrains("default_limit", "overdue_tolerance_days", "overdue_tolerance_amount")
    def _check_positive(self):
        for rating in self:
            if (
                rating.default_limit < 0
                or rating.overdue_tolerance_days < 0
                or rating.overdue_tolerance_amount < 0
            ):
                raise ValidationError(
                    _(
                        "Limits and tolerances of rating %(rating)s cannot be negative.",
                        rating=rating.display_name,
                    )
                )

    # === BUSINESS METHODS === #
    @api.model
    def _for_score(self, score, company=None):
        """Return the rating class whose score range holds ``score`` in ``company``."""
        return self._for_scores([score], company=company).get(score, self.browse())

    @api.model
    def _for_scores(self, scores, company=None):
        """{score: rating class whose score range holds it} in ``company`` (one search), for
        the scores that fall in a class."""
        company = company or self.env.company
        ratings = self.search(
            [("company_id", "in", [False, company.id])], order="company_id, sequence, score_min desc"
        )
        # a company's own scale wins over the shared one
        scale = ratings.filtered("company_id") or ratings
        result = {}
        for score in scores:
            for rating in scale:
                if rating.score_min <= score <= rating.score_max:
                    result[score] = rating
                    break
        return result
