from decimal import Decimal

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, ValidationError
from odoo.tools import format_date


class ResCompany(models.Model):
    _inherit = "res.company"

    # === FIELDS === #
    credit_behaviour_months = fields.Integer(
        string="Payment Behaviour Window (Months)",
        default=12,
        help="Paid invoices of this many months make up a customer's payment behaviour.",
    )
    credit_review_lead_days = fields.Integer(
        string="Review Lead Time (Days)",
        default=30,
        help="Days before a credit check or limit expires that a review activity is opened.",
    )

    # customer scorecard (res_partner_behaviour.py): weights of the factors (relative: each
    # factor counts weight / sum of the weights; 100 together by default) and the values at which
    # a factor scores full points or none
    credit_score_weight_behaviour = fields.Integer(
        string="Weight: Payment Behaviour",
        default=30,
        help="Weight of the customer's weighted average days late in the risk score, "
        "relative to the sum of the weights.",
    )
    credit_score_weight_overdue = fields.Integer(
        string="Weight: Overdue Share",
        default=25,
        help="Weight of the overdue share of the open receivables in the risk score, "
        "relative to the sum of the weights.",
    )
    credit_score_weight_usage = fields.Integer(
        string="Weight: Limit Usage",
        default=15,
        help="Weight of the exposure against the credit limit in the risk score, "
        "relative to the sum of the weights.",
    )
    credit_score_weight_relationship = fields.Integer(
        string="Weight: Relationship Age",
        default=10,
        help="Weight of the age of the customer relationship in the risk score, "
        "relative to the sum of the weights.",
    )
    credit_score_weight_external = fields.Integer(
        string="Weight: External Credit Check",
        default=20,
        help="Weight of the latest valid credit check's score in the risk score, "
        "relative to the sum of the weights.",
    )
    credit_score_days_late_worst = fields.Integer(
        string="Days Late Scoring Nothing",
        default=60,
        help="Payment behaviour: paying on time scores full points, paying this many days late "
        "(weighted average) or later scores none.",
    )
    credit_score_overdue_share_worst = fields.Integer(
        string="Overdue Share Scoring Nothing (%)",
        default=50,
        help="Overdue share: nothing overdue scores full points, this share of the open receivables "
        "overdue or more scores none.",
    )
    credit_score_usage_best = fields.Integer(
        string="Limit Usage Scoring Full Points (%)",
        default=50,
        help="Limit usage: an exposure up to this share of the credit limit scores full points.",
    )
    credit_score_usage_worst = fields.Integer(
        string="Limit Usage Scoring Nothing (%)",
        default=120,
        help="Limit usage: an exposure of this share of the credit limit or more scores none.",
    )
    credit_score_relationship_months = fields.Integer(
        string="Relationship Months for Full Points",
        default=36,
        help="Relationship age: a customer invoiced for the first time this many months ago or "
        "earlier scores full points, a new customer none.",
    )

    # collector worklist (reports/credit_worklist.py): points per factor of a line's priority
    credit_worklist_overdue_per = fields.Monetary(
        string="Worklist: Overdue Amount per Point",
        currency_field="currency_id",
        default=250.0,
        help="One point per full amount overdue (items under an open dispute, under a promise "
        "not due yet or handed over to an agency do not count).",
    )
    credit_worklist_overdue_max = fields.Integer(
        string="Worklist: Overdue Amount, Maximum Points", default=40
    )
    credit_worklist_days_per = fields.Integer(
        string="Worklist: Days Overdue per Point",
        default=3,
        help="One point per full number of days the oldest overdue item is overdue.",
    )
    credit_worklist_days_max = fields.Integer(string="Worklist: Days Overdue, Maximum Points", default=30)
    credit_worklist_rating_max = fields.Integer(
        string="Worklist: Risk Rating, Maximum Points",
        default=20,
        help="Points of a customer with risk score 0, falling linearly to none at score 100.",
    )
    credit_worklist_rating_unrated = fields.Integer(string="Worklist: Unrated Customer Points", default=10)
    credit_worklist_promise_due = fields.Integer(
        string="Worklist: Promise Due Today Points",
        default=15,
        help="Points when an open promise to pay falls due today.",
    )
    credit_worklist_promise_broken = fields.Integer(
        string="Worklist: Broken Promise Points",
        default=25,
        help="Points when a promise to pay was broken within the days below (or is open and past "
        "its grace period).",
    )
    credit_worklist_promise_broken_days = fields.Integer(
        string="Worklist: Broken Promises of the Last (Days)", default=30
    )
    credit_worklist_followup_each = fields.Integer(
        string="Worklist: Points per Follow-up Due",
        default=10,
        help="Per open credit task due today or earlier and per activity due on the customer or its "
        "invoices.",
    )
    credit_worklist_followup_max = fields.Integer(string="Worklist: Follow-ups, Maximum Points", default=20)
    credit_worklist_limitation = fields.Integer(
        string="Worklist: Limitation Points",
        default=30,
        help="Points when open items become time-barred (§§195, 199 BGB) within the limitation "
        "watch horizon.",
    )

    # weekly problem-case list (Jour fixe)
    credit_problem_dispute_days = fields.Integer(
        string="Disputes Open Longer Than (Days)",
        default=14,
        help="Open disputes older than this are problem cases of the weekly meeting.",
    )
    credit_problem_lookback_days = fields.Integer(
        string="Problem Cases Look Back (Days)",
        default=30,
        help="Broken promises and rating downgrades of this many past days are problem cases.",
    )
    credit_problem_escalation_level = fields.Integer(
        string="Problem Case From Dunning Level",
        default=3,
        help="Customers with an open invoice at this dunning level (1 = the first level of the "
        "company's scale) or a later one are problem cases.",
    )

    # sales credit check
    credit_check_sale = fields.Boolean(string="Check Orders on Confirmation", default=True)
    credit_check_invoice = fields.Boolean(string="Check Invoices on Posting", default=False)
    credit_count_draft_invoices = fields.Boolean(string="Count Draft Invoices", default=True)
    credit_count_uninvoiced_orders = fields.Boolean(string="Count Uninvoiced Orders", default=True)
    credit_limit_tolerance = fields.Float(
        string="Limit Tolerance (%)", help="Orders may exceed the limit by this percentage."
    )
    credit_no_limit_policy = fields.Selection(
        [("unlimited", "No limit means unlimited credit"), ("no_credit", "No limit means no credit")],
        string="Customers Without Limit",
        default="unlimited",
        required=True,
    )
    credit_overdue_tolerance_days = fields.Integer(
        string="Tolerated Days Overdue",
        default=0,
        help="For customers without a rating: oldest overdue item tolerated before orders are "
        "blocked. 0 (with no tolerated amount either) = unrated customers are not blocked for "
        "overdue items; the nightly scorecard rates every customer.",
    )
    credit_overdue_tolerance_amount = fields.Monetary(
        string="Tolerated Overdue Amount",
        currency_field="currency_id",
        help="For customers without a rating: overdue amount tolerated (0 = amount not checked).",
    )
    credit_new_customer_check = fields.Boolean(
        string="Require Credit Check for New Customers",
        help="Block orders above an amount for customers without a completed credit check.",
    )
    credit_new_customer_amount = fields.Monetary(string="New Customer Amount", currency_field="currency_id")
    credit_prepayment_term_id = fields.Many2one(
        "account.payment.term",
        string="Prepayment Term",
        help="Orders with this payment term are paid in advance and pass the limit check.",
    )

    # collections (promises to pay, payment plans)
    credit_promise_grace_days = fields.Integer(
        string="Promise Grace Days",
        default=3,
        help="Days after the promised date that payments still keep a promise to pay.",
    )
    credit_plan_grace_days = fields.Integer(
        string="Instalment Grace Days",
        default=3,
        help="Days an instalment of a payment plan may be overdue before it counts as missed.",
    )

    # dunning charges (§288 BGB)
    credit_interest_points_business = fields.Float(
        string="Default Interest over Base Rate, Businesses (Points)",
        default=9.0,
        digits=(16, 2),
        help="§288(2) BGB: default interest for business customers is the base rate plus this many "
        "percentage points (9 by law).",
    )
    credit_interest_points_consumer = fields.Float(
        string="Default Interest over Base Rate, Consumers (Points)",
        default=5.0,
        digits=(16, 2),
        help="§288(1) BGB: default interest for consumers is the base rate plus this many "
        "percentage points (5 by law).",
    )
    credit_dunning_flat_fee = fields.Float(
        string="Default Flat Fee (EUR)",
        default=40.0,
        digits=(16, 2),
        help="§288(5) BGB: flat fee in EUR charged once per invoice to business customers by the "
        "levels that charge it (40 EUR by law, 0 = never). Converted into the invoice currency.",
    )
    credit_dunning_invoice_charges = fields.Boolean(
        string="Invoice Dunning Charges",
        help="On validation of a dunning run, interest and fees of the letters whose level invoices "
        "charges become a separate posted customer invoice referencing the dunned invoices.",
    )
    credit_dunning_charge_journal_id = fields.Many2one(
        "account.journal",
        string="Dunning Charges Journal",
        domain="[('type', '=', 'sale')]",
        help="Sales journal of the charge invoices (the company's first sales journal when empty).",
    )
    credit_dunning_interest_account_id = fields.Many2one(
        "account.account",
        string="Default Interest Account",
        domain="[('account_type', 'in', ('income', 'income_other'))]",
        help="Income account of the interest lines (the journal's default account when empty).",
    )
    credit_dunning_fee_account_id = fields.Many2one(
        "account.account",
        string="Dunning Fee Account",
        domain="[('account_type', 'in', ('income', 'income_other'))]",
        help="Income account of the flat fee and dunning fee lines (the journal's default account "
        "when empty).",
    )

    # escalation policy and limitation watch
    credit_escalation_credit_level_id = fields.Many2one(
        "credit.dunning.level",
        string="Credit Team From Level",
        help="From this escalation level on, the credit team owns the case instead of the "
        "salesperson. Empty: cases stay with the salesperson until the agency level.",
    )
    credit_escalation_agency_level_id = fields.Many2one(
        "credit.dunning.level",
        string="Agency / Legal From Level",
        help="From this escalation level on, the case goes to a collection agency or to court "
        "(gerichtliches Mahnverfahren). Empty: only handed-over customers are agency cases.",
    )
    credit_limitation_horizon_days = fields.Integer(
        string="Limitation Watch Horizon (Days)",
        default=120,
        help="Open items whose limitation period (§§195, 199 BGB) ends within this many days are "
        "listed in the limitation watch.",
    )

    # go-live of the automatic dunning
    credit_dunning_start_date = fields.Date(
        string="Automatic Dunning From",
        help="Go-live of the automatic dunning: until a Credit Manager sets this date, and before "
        "it, the daily scheduled action sends nothing for this company. Dunning runs proposed by "
        "hand work regardless.",
    )
    credit_dunning_items_from = fields.Date(
        string="Dun Items Due From",
        help="Open items due before this date are never dunned automatically (older history stays "
        "with the collectors, who may still propose it by hand). Empty: every overdue item.",
    )
    credit_dunning_first_run_review = fields.Boolean(
        string="Review the First Automatic Run",
        default=True,
        help="The automatic dunning only proposes (nothing is sent) until a person has validated "
        "the company's first automatic proposal; the credit managers are told to review it.",
    )
    credit_dunning_start_level = fields.Selection(
        [("first", "First level"), ("age", "Level matching the age")],
        string="First Letter of an Invoice",
        default="first",
        required=True,
        help="Level of the first letter for an invoice never dunned before: the first level of "
        "the scale (default), or the level its days overdue reach. Either way an invoice gets one "
        "letter per run and moves on one level at a time afterwards.",
    )

    # === CONSTRAINTS === #
    @api.constrains("credit_promise_grace_days", "credit_plan_grace_days")
    def _check_credit_collection_grace_days(self):
        for company in self:
            if company.credit_promise_grace_days < 0 or company.credit_plan_grace_days < 0:
                raise ValidationError(
                    _("The grace days of %(company)s cannot be negative.", company=company.name)
                )

    @api.constrains(
        "credit_limit_tolerance",
        "credit_overdue_tolerance_days",
        "credit_overdue_tolerance_amount",
        "credit_new_customer_amount",
    )
    def _check_credit_check_settings(self):
        for company in self:
            if (
                min(
                    company.credit_limit_tolerance,
                    company.credit_overdue_tolerance_days,
                    company.credit_overdue_tolerance_amount,
                    company.credit_new_customer_amount,
                )
                < 0
            ):
                raise ValidationError(
                    _(
                        "Credit check tolerances and amounts of %(company)s cannot be negative.",
                        company=company.name,
                    )
                )

    @api.constrains(
        "credit_problem_dispute_days", "credit_problem_lookback_days", "credit_problem_escalation_level"
    )
    def _check_credit_problem_settings(self):
        for company in self:
            if (
                min(company.credit_problem_dispute_days, company.credit_problem_lookback_days) < 0
                or company.credit_problem_escalation_level < 1
            ):
                raise ValidationError(
                    _(
                        "The problem-case settings of %(company)s cannot be negative, and the "
                        "escalation starts at dunning level 1 or later.",
                        company=company.name,
                    )
                )

    @api.constrains(
        "credit_score_weight_behaviour",
        "credit_score_weight_overdue",
        "credit_score_weight_usage",
        "credit_score_weight_relationship",
        "credit_score_weight_external",
        "credit_score_days_late_worst",
        "credit_score_overdue_share_worst",
        "credit_score_usage_best",
        "credit_score_usage_worst",
        "credit_score_relationship_months",
    )
    def _check_credit_scorecard_settings(self):
        for company in self:
            weights = company._credit_scorecard_weights()
            if min(weights.values()) < 0 or not sum(weights.values()):
                raise ValidationError(
                    _(
                        "The scorecard weights of %(company)s cannot be negative, and at least one "
                        "must be above 0.",
                        company=company.name,
                    )
                )
            if (
                min(
                    company.credit_score_days_late_worst,
                    company.credit_score_overdue_share_worst,
                    company.credit_score_relationship_months,
                )
                <= 0
                or company.credit_score_usage_best < 0
                or company.credit_score_usage_worst <= company.credit_score_usage_best
            ):
                raise ValidationError(
                    _(
                        "The scorecard thresholds of %(company)s must be above 0, and the limit usage "
                        "scoring nothing above the usage scoring full points.",
                        company=company.name,
                    )
                )

    @api.constrains(
        "credit_worklist_overdue_per",
        "credit_worklist_overdue_max",
        "credit_worklist_days_per",
        "credit_worklist_days_max",
        "credit_worklist_rating_max",
        "credit_worklist_rating_unrated",
        "credit_worklist_promise_due",
        "credit_worklist_promise_broken",
        "credit_worklist_promise_broken_days",
        "credit_worklist_followup_each",
        "credit_worklist_followup_max",
        "credit_worklist_limitation",
    )
    def _check_credit_worklist_points(self):
        for company in self:
            points = company._credit_worklist_points()
            if (
                min(points.values()) < 0
                or min(company.credit_worklist_overdue_per, company.credit_worklist_days_per) <= 0
                or company.credit_worklist_rating_max <= 0
            ):
                raise ValidationError(
                    _(
                        "The worklist points of %(company)s cannot be negative; the amount and the days "
                        "per point and the maximum rating points must be above 0.",
                        company=company.name,
                    )
                )

    @api.constrains("credit_behaviour_months", "credit_review_lead_days")
    def _check_credit_settings(self):
        for company in self:
            if company.credit_behaviour_months < 1 or company.credit_review_lead_days < 0:
                raise ValidationError(
                    _(
                        "The payment behaviour window of %(company)s must be at least one month "
                        "and the review lead time cannot be negative.",
                        company=company.name,
                    )
                )

    @api.constrains(
        "credit_interest_points_business", "credit_interest_points_consumer", "credit_dunning_flat_fee"
    )
    def _check_credit_dunning_settings(self):
        for company in self:
            if (
                min(
                    company.credit_interest_points_business,
                    company.credit_interest_points_consumer,
                    company.credit_dunning_flat_fee,
                )
                < 0
            ):
                raise ValidationError(
                    _(
                        "Interest points and the flat fee of %(company)s cannot be negative.",
                        company=company.name,
                    )
                )

    @api.constrains("credit_escalation_credit_level_id", "credit_escalation_agency_level_id")
    def _check_credit_escalation_policy(self):
        for company in self:
            credit = company.credit_escalation_credit_level_id
            agency = company.credit_escalation_agency_level_id
            if (credit and credit.company_id != company) or (agency and agency.company_id != company):
                raise ValidationError(
                    _(
                        "The escalation levels of %(company)s must be its own dunning levels.",
                        company=company.name,
                    )
                )
            if credit and agency and credit._rank() > agency._rank():
                raise ValidationError(
                    _(
                        "In the escalation policy of %(company)s the agency level must not come "
                        "before the credit team level.",
                        company=company.name,
                    )
                )

    @api.constrains("credit_limitation_horizon_days")
    def _check_credit_limitation_horizon(self):
        for company in self:
            if company.credit_limitation_horizon_days < 0:
                raise ValidationError(
                    _("The limitation watch horizon of %(company)s cannot be negative.", company=company.name)
                )

    @api.constrains(
        "credit_dunning_start_date", "credit_dunning_items_from", "credit_dunning_first_run_review"
    )
    def _check_credit_dunning_go_live(self):
        # go-live of the automatic dunning: a Credit Manager's decision (a constraint, not a
        # write() override, so that it also holds at creation)
        if self.env.su or self.env.user.has_group("credit_control.credit_control_group_manager"):
            return
        if any(company.credit_dunning_start_date for company in self):
            raise AccessError(_("Only a Credit Manager sets the go-live of the automatic dunning."))

    # === CRUD === #
    @api.model_create_multi
    def create(self, vals_list):
        companies = super().create(vals_list)
        companies._credit_dunning_create_default_levels()
        return companies

    # === BUSINESS METHODS === #
    def _credit_dunning_create_default_levels(self):
        """Give each of these companies without dunning levels the default German scale
        (Zahlungserinnerung … Übergabe an Inkasso): copies of the module's default levels,
        translations included."""
        return self.env["credit.dunning.level"]._create_default_levels(self)

    def _credit_scorecard_weights(self):
        """The scorecard's factor weights of this company: {factor key: weight}."""
        self.ensure_one()
        return {
            "behaviour": self.credit_score_weight_behaviour,
            "overdue": self.credit_score_weight_overdue,
            "usage": self.credit_score_weight_usage,
            "relationship": self.credit_score_weight_relationship,
            "external": self.credit_score_weight_external,
        }

    def _credit_worklist_points(self):
        """The worklist's points per factor of this company, keyed as the worklist query reads
        them (see ``credit.worklist._table_query``)."""
        self.ensure_one()
        return {
            "overdue_per": self.credit_worklist_overdue_per,
            "overdue_max": self.credit_worklist_overdue_max,
            "days_per": self.credit_worklist_days_per,
            "days_max": self.credit_worklist_days_max,
            # (100 - risk score) / divisor: 0 points at score 100, the maximum at score 0; exact
            # (numeric), so that the default 20 points divide by 5 as before
            "rating_divisor": Decimal(100) / Decimal(self.credit_worklist_rating_max or 1),
            "rating_unrated": self.credit_worklist_rating_unrated,
            "promise_due": self.credit_worklist_promise_due,
            "promise_broken": self.credit_worklist_promise_broken,
            "promise_broken_days": self.credit_worklist_promise_broken_days,
            "followup_each": self.credit_worklist_followup_each,
            "followup_max": self.credit_worklist_followup_max,
            "limitation": self.credit_worklist_limitation,
        }

    def _credit_dunning_automatic_active(self, date=None):
        """True when the automatic dunning of this company runs on ``date`` (today): the start
        date is set and reached. For the dashboard and the settings."""
        self.ensure_one()
        date = date or fields.Date.context_today(self)
        return bool(self.credit_dunning_start_date and self.credit_dunning_start_date <= date)

    def _credit_dunning_review_pending(self):
        """True while the first automatic run after go-live is to be reviewed: the company asks
        for it and no automatic run has been validated since the start date."""
        self.ensure_one()
        if not self.credit_dunning_first_run_review:
            return False
        return (
            not self.env["credit.dunning.run"]
            .sudo()
            .search_count(
                [
                    ("company_id", "=", self.id),
                    ("is_automatic", "=", True),
                    ("state", "=", "done"),
                    ("date", ">=", self.credit_dunning_start_date),
                ],
                limit=1,
            )
        )

    def _credit_dunning_go_live_status(self):
        """For the dashboard: {"active", "start_date", "items_from", "review_pending",
        "message"} — the go-live of the automatic dunning in plain words."""
        self.ensure_one()
        active = self._credit_dunning_automatic_active()
        if not self.credit_dunning_start_date:
            message = _("Automatic dunning is off: a Credit Manager sets its start date in the settings.")
        elif not active:
            message = _(
                "Automatic dunning starts on %(date)s.",
                date=format_date(self.env, self.credit_dunning_start_date),
            )
        elif self._credit_dunning_review_pending():
            message = _(
                "Automatic dunning proposes letters; nothing is sent until its first run is validated."
            )
        else:
            message = _("Automatic dunning is active.")
        return {
            "active": active,
            "start_date": self.credit_dunning_start_date,
            "items_from": self.credit_dunning_items_from,
            "review_pending": active and self._credit_dunning_review_pending(),
            "message": message,
        }
