from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class ResCompany(models.Model):
    _inherit = "res.company"

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

    # === FIELDS: dunning (credit_dunning) === #
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

    @api.model_create_multi
    def create(self, vals_list):
        companies = super().create(vals_list)
        companies._credit_dunning_create_default_levels()
        return companies

    def _credit_dunning_create_default_levels(self):
        """Give each of these companies without dunning levels the default German scale
        (Zahlungserinnerung … Übergabe an Inkasso): copies of the module's default levels,
        translations included."""
        return self.env["credit.dunning.level"]._create_default_levels(self)

    # escalation policy and limitation watch (credit_collab)
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
            if (
                credit
                and agency
                and (credit.sequence, credit.days, credit.id)
                > (
                    agency.sequence,
                    agency.days,
                    agency.id,
                )
            ):
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

    # === FIELDS: dunning go-live (credit_dunning, issue #13) === #
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

    @api.constrains(
        "credit_dunning_start_date", "credit_dunning_items_from", "credit_dunning_first_run_review"
    )
    def _check_credit_dunning_go_live(self):
        from odoo.exceptions import AccessError  # noqa: PLC0415 - imported here: shared file

        # go-live of the automatic dunning: a Credit Manager's decision (a constraint, not a
        # write() override, so that it also holds at creation)
        if self.env.su or self.env.user.has_group("credit_control.credit_control_group_manager"):
            return
        if any(company.credit_dunning_start_date for company in self):
            raise AccessError(_("Only a Credit Manager sets the go-live of the automatic dunning."))

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
                date=fields.Date.to_string(self.credit_dunning_start_date),
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
