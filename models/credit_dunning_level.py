from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

# the module's default scale (data/credit_dunning_level_data.xml, main company): every other
# company gets copies of these levels
DEFAULT_LEVEL_XMLIDS = (
    "credit_control.credit_dunning_level_reminder",
    "credit_control.credit_dunning_level_first",
    "credit_control.credit_dunning_level_second",
    "credit_control.credit_dunning_level_final",
    "credit_control.credit_dunning_level_collection",
)


class CreditDunningLevel(models.Model):
    _name = "credit.dunning.level"
    _description = "Dunning Level"
    _order = "company_id, sequence, days, id"
    _check_company_auto = True

    # === FIELDS === #
    sequence = fields.Integer(default=10)
    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    days = fields.Integer(
        string="Days After Due Date",
        required=True,
        help="An invoice reaches this level this many days after its due date. A negative value "
        "makes a friendly reminder before the due date.",
    )
    min_days_since_previous = fields.Integer(
        string="Minimum Days Since Previous Level",
        default=7,
        help="An invoice moves on to this level only this many days after its previous letter.",
    )
    channel_email = fields.Boolean(
        string="E-mail", default=True, help="Send the letter by e-mail with the PDF attached."
    )
    channel_letter = fields.Boolean(
        string="Letter (PDF)",
        help="Print the letter for the post. Customers without an e-mail address always get a letter.",
    )
    channel_phone = fields.Boolean(
        string="Phone Call", help="Schedule a phone call activity for the collector of the customer."
    )
    is_automatic = fields.Boolean(
        string="Automatic",
        help="The daily scheduled action sends this level by itself. Otherwise only runs started "
        "by a collector propose it.",
    )
    mail_template_id = fields.Many2one(
        "mail.template",
        domain=[("model", "=", "credit.dunning.letter")],
        help="E-mail sent with the letter attached.",
    )
    introduction = fields.Html(translate=True, help="Opening text of the letter.")
    closing = fields.Html(translate=True, help="Closing text of the letter, e.g. a deadline.")
    fee = fields.Monetary(
        string="Dunning Fee",
        currency_field="currency_id",
        help="Fixed fee per letter. Only actual costs may be claimed (roughly 1 to 2.50 EUR); the "
        "letter that first puts the customer in default is not chargeable.",
    )
    charge_interest = fields.Boolean(
        string="Charge Statutory Interest", help="Default interest of §288 BGB on the open amounts."
    )
    charge_flat_fee = fields.Boolean(
        string="Charge 40 EUR Flat Fee",
        help="The flat fee of §288(5) BGB, once per invoice, for business customers only.",
    )
    invoice_charges = fields.Boolean(
        default=True,
        help="When the company invoices dunning charges (Settings), the interest and fees of this "
        "level's letters become a separate customer invoice on validation.",
    )
    block_orders = fields.Boolean(
        string="Block New Orders", help="Customers with an invoice at this level get no new orders."
    )
    is_collection = fields.Boolean(
        string="Hand Over to Collection Agency",
        help="Invoices reaching this level are handed over to the collection agency (Inkasso).",
    )

    # === CONSTRAINTS === #
    @api.constrains("sequence", "days", "company_id", "active")
    def _check_days_increase(self):
        levels = self.search([("company_id", "in", self.company_id.ids)], order="sequence, id")
        for company in self.company_id:
            previous = None
            for level in levels.filtered(lambda lvl, c=company: lvl.company_id == c):
                if previous and level.days <= previous.days:
                    raise ValidationError(
                        _(
                            "The days after due date must increase with the dunning levels: "
                            "%(level)s (%(days)s days) follows %(previous)s (%(previous_days)s days).",
                            level=level.name,
                            days=level.days,
                            previous=previous.name,
                            previous_days=previous.days,
                        )
                    )
                previous = level

    @api.constrains("fee", "min_days_since_previous")
    def _check_fee(self):
        for level in self:
            if level.fee < 0 or level.min_days_since_previous < 0:
                raise ValidationError(
                    _(
                        "Fee and minimum days of the dunning level %(level)s cannot be negative.",
                        level=level.name,
                    )
                )

    # === BUSINESS METHODS === #
    def _rank(self):
        """The level's place in the escalation, as ``_order`` sorts within a company:
        (sequence, days, id). Compare levels by it (the SQL reports order by the same columns)."""
        self.ensure_one()
        return (self.sequence, self.days, self.id)

    @api.model
    def _create_default_levels(self, companies):
        """Copies of the module's default levels (translations included) for each of
        ``companies`` that has no dunning level yet, archived ones included. Returns them."""
        # sudo: creating a company (or installing the module) sets up its scale for every user
        levels = self.sudo().with_context(active_test=False)
        with_levels = {
            company.id
            for [company] in levels._read_group([("company_id", "in", companies.ids)], ["company_id"])
        }
        templates = levels.browse()
        for xmlid in DEFAULT_LEVEL_XMLIDS:
            templates |= self.env.ref(xmlid, raise_if_not_found=False) or levels.browse()
        created = levels.browse()
        for company in companies.filtered(lambda c: c.id not in with_levels):
            for template in templates.filtered(lambda t, c=company: t.company_id != c):
                created |= template.copy({"company_id": company.id, "active": template.active})
        return created
