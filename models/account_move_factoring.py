from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL
from odoo.tools.misc import format_amount

# Server-side sentinel: only the assignment and take-back below write the factoring fields of an
# invoice; RPC callers cannot forge this object.
FACTORING_WRITE = object()
FACTORING_MOVE_FIELDS = frozenset(
    {
        "credit_factoring_contract_id",
        "credit_factoring_date",
        "credit_factoring_state",
        "credit_factoring_over_limit",
        "credit_factoring_takeback_date",
        "credit_factoring_takeback_reason",
    }
)


class AccountMove(models.Model):
    """Factoring: an invoice sold to a factor leaves the company's own collections;
    sold without recourse, its receivable items leave the customer's exposure."""

    _inherit = "account.move"

    # === FIELDS === #
    credit_factoring_contract_id = fields.Many2one(
        "credit.factoring.contract",
        string="Factoring Contract",
        readonly=True,
        copy=False,
        index="btree_not_null",
        tracking=True,
    )
    credit_factoring_state = fields.Selection(
        [("sold", "Sold"), ("taken_back", "Taken Back")],
        string="Factoring",
        readonly=True,
        copy=False,
        index="btree_not_null",
        tracking=True,
    )
    credit_factoring_date = fields.Date(string="Assigned On", readonly=True, copy=False)
    credit_factoring_over_limit = fields.Boolean(
        string="Above Factor's Limit",
        readonly=True,
        copy=False,
        help="At assignment, the customer's sold and open items went above the factor's purchase "
        "limit: the factor may refuse to buy this invoice.",
    )
    credit_factoring_takeback_date = fields.Date(string="Taken Back On", readonly=True, copy=False)
    credit_factoring_takeback_reason = fields.Char(string="Take-back Reason", readonly=True, copy=False)

    # === CRUD === #
    @api.model
    def default_get(self, fields_list):
        """``default_credit_factoring_*`` context keys are ignored: only the assignment sells."""
        result = super().default_get(fields_list)
        if self.env.context.get("credit_factoring_write") is not FACTORING_WRITE:
            for fname in FACTORING_MOVE_FIELDS.intersection(result):
                del result[fname]
        return result

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_credit_factoring_write(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._check_credit_factoring_write(vals)
        return super().write(vals)

    # === ACTIONS === #
    def action_credit_factoring_assign(self):
        """Button / list action (Credit Managers): sell the invoices to the factoring contract of
        their customer."""
        self.env["credit.factoring.contract"]._check_manager()
        for moves in self.grouped(lambda m: (m.company_id, m.commercial_partner_id)).values():
            contract = moves.commercial_partner_id.with_company(moves.company_id).credit_factoring_contract_id
            if not contract:
                raise UserError(
                    _(
                        "%(customer)s is not assigned to a factoring contract: set the contract on the "
                        "customer's Credit tab first.",
                        customer=moves.commercial_partner_id.display_name,
                    )
                )
            moves._credit_factoring_assign(contract)
        return True

    def action_credit_factoring_take_back(self):
        """Button (Credit Managers): the factor hands the invoice back (recourse)."""
        return {
            "type": "ir.actions.act_window",
            "name": _("Take Back from Factor"),
            "res_model": "credit.factoring.take.back",
            "view_mode": "form",
            "target": "new",
            "context": {"active_model": "account.move", "active_ids": self.ids},
        }

    # === BUSINESS METHODS === #
    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        candidates = posted.filtered(lambda m: m.move_type == "out_invoice" and not m.credit_factoring_state)
        for company, moves in candidates.grouped("company_id").items():
            # sudo: the salesperson posting the invoice may not read the contract; one read of
            # the customers' (company-dependent) contracts per company
            partners = moves.commercial_partner_id.with_company(company).sudo()
            contracts = {partner.id: partner.credit_factoring_contract_id for partner in partners}
            for contract, sold in moves.grouped(lambda m, c=contracts: c[m.commercial_partner_id.id]).items():
                if contract.active:
                    sold.sudo()._credit_factoring_assign(contract)
        return posted

    def _check_credit_factoring_write(self, vals):
        if self.env.context.get("credit_factoring_write") is FACTORING_WRITE:
            return
        written = FACTORING_MOVE_FIELDS.intersection(vals)
        if written:
            raise AccessError(
                _(
                    "The factoring of an invoice (%(fields)s) changes only through its buttons.",
                    fields=", ".join(
                        sorted(self._fields[name].get_description(self.env)["string"] for name in written)
                    ),
                )
            )

    def _credit_factoring_assign(self, contract, date=None):
        """Sell ``self`` (posted customer invoices) to ``contract``: state, assignment date; sold
        without recourse, the receivable items leave the exposure (one write). Above the factor's
        purchase limit for the customer, the invoices are flagged and the customer's credit
        manager gets a task; posting is never blocked."""
        if not contract.factor_id:
            raise ValidationError(_("A factoring contract needs a factor."))
        self._credit_factoring_check_sellable(contract)
        date = date or fields.Date.context_today(self)
        self.with_context(credit_factoring_write=FACTORING_WRITE).write(
            {
                "credit_factoring_contract_id": contract.id,
                "credit_factoring_state": "sold",
                "credit_factoring_date": date,
                "credit_factoring_takeback_date": False,
                "credit_factoring_takeback_reason": False,
            }
        )
        if not contract.with_recourse:
            self._credit_receivable_lines().sudo().write({"credit_exposure_excluded": True})
        self._credit_factoring_check_limit(contract)
        body = Markup("%s") % _(
            "Sold to the factor %(factor)s (%(contract)s) on %(date)s.",
            factor=contract.factor_id.display_name,
            contract=contract.name,
            date=date,
        )
        self.sudo()._message_log_batch(dict.fromkeys(self.ids, body))

    def _credit_factoring_check_sellable(self, contract):
        """Refuse what cannot be sold to ``contract``: not a posted customer invoice, another
        company's, already sold, or collected by the company itself."""
        wrong = self.filtered(lambda m: m.move_type != "out_invoice" or m.state != "posted")
        if wrong:
            raise UserError(
                _(
                    "Only posted customer invoices can be sold: %(moves)s.",
                    moves=", ".join(wrong.mapped("display_name")),
                )
            )
        other_company = self.filtered(lambda m: m.company_id != contract.company_id)
        if other_company:
            raise UserError(
                _(
                    "The invoices %(moves)s belong to another company than the factoring contract "
                    "%(contract)s.",
                    moves=", ".join(other_company.mapped("display_name")),
                    contract=contract.display_name,
                )
            )
        sold = self.filtered(lambda m: m.credit_factoring_state == "sold")
        if sold:
            raise UserError(
                _(
                    "The invoices %(moves)s are already sold to a factor.",
                    moves=", ".join(sold.mapped("display_name")),
                )
            )
        # claimed at court or handed to a collection agency: the company is collecting the
        # receivable itself and cannot sell it (the factor buys what it can collect)
        collecting = self.env["credit.legal.claim"].sudo()._taken_move_ids(self.ids) | self.env[
            "credit.agency.handover"
        ].sudo()._blocked_move_ids(self.ids)
        if collecting:
            raise UserError(
                _(
                    "The invoices %(moves)s are claimed in a court dunning case or with a collection "
                    "agency: they cannot be sold to a factor.",
                    moves=", ".join(self.browse(sorted(collecting)).mapped("display_name")),
                )
            )

    def _credit_factoring_take_back(self, reason, date=None):
        """The factor hands the invoices back (recourse): they count in the exposure again and
        are dunned from their own history (level and date kept)."""
        self.env["credit.factoring.contract"]._check_manager()
        if not (reason or "").strip():
            raise UserError(_("Give the reason why the factor hands the invoices back."))
        not_sold = self.filtered(lambda m: m.credit_factoring_state != "sold")
        if not_sold:
            raise UserError(
                _(
                    "The invoices %(moves)s are not sold to a factor.",
                    moves=", ".join(not_sold.mapped("display_name")),
                )
            )
        date = date or fields.Date.context_today(self)
        self.with_context(credit_factoring_write=FACTORING_WRITE).write(
            {
                "credit_factoring_state": "taken_back",
                "credit_factoring_takeback_date": date,
                "credit_factoring_takeback_reason": reason,
                "credit_factoring_over_limit": False,
            }
        )
        self._credit_receivable_lines().filtered("credit_exposure_excluded").sudo().write(
            {"credit_exposure_excluded": False}
        )
        body = Markup("%s") % _(
            "Taken back from the factor on %(date)s: %(reason)s", date=date, reason=reason
        )
        self.sudo()._message_log_batch(dict.fromkeys(self.ids, body))

    def _credit_receivable_lines(self):
        return self.sudo().line_ids.filtered(lambda line: line.account_id.account_type == "asset_receivable")

    def _credit_factoring_check_limit(self, contract):
        for moves in self.grouped("commercial_partner_id").values():
            customer = moves.commercial_partner_id.with_company(contract.company_id).sudo()
            limit = customer._credit_factoring_limit()
            if not limit:
                continue
            used = self._credit_factoring_used(customer.ids, contract.company_id).get(customer.id, 0.0)
            currency = contract.company_id.currency_id
            if currency.compare_amounts(used, limit) <= 0:
                continue
            moves.with_context(credit_factoring_write=FACTORING_WRITE).write(
                {"credit_factoring_over_limit": True}
            )
            message = _(
                "%(customer)s: the invoices sold to %(factor)s (%(used)s open) exceed the factor's "
                "purchase limit of %(limit)s.",
                customer=customer.display_name,
                factor=contract.factor_id.display_name,
                used=format_amount(self.env, used, currency),
                limit=format_amount(self.env, limit, currency),
            )
            self.env["credit.task"]._create_auto(
                "review",
                "factoring_limit",
                customer,
                message,
                company=contract.company_id,
                move_ids=moves,
                description=message,
            )

    @api.model
    def _credit_factoring_used(self, partner_ids, company):
        """Open receivable amount (company currency) of the invoices sold to a factor, per
        commercial partner id: one query."""
        if not partner_ids:
            return {}
        self.env["account.move.line"].flush_model(["amount_residual", "reconciled", "partner_id", "move_id"])
        self.flush_model(["credit_factoring_state"])
        rows = self.env.execute_query(
            SQL(
                """
            SELECT p.commercial_partner_id, SUM(l.amount_residual)
              FROM account_move m
              JOIN account_move_line l ON l.move_id = m.id
              JOIN account_account a ON a.id = l.account_id
              JOIN res_partner p ON p.id = l.partner_id
             WHERE m.credit_factoring_state = 'sold'
               AND m.company_id = %(company_id)s
               AND p.commercial_partner_id IN %(partner_ids)s
               AND a.account_type = 'asset_receivable'
               AND NOT l.reconciled
             GROUP BY p.commercial_partner_id
                """,
                company_id=company.id,
                partner_ids=tuple(partner_ids),
            )
        )
        return dict(rows)

    @api.model
    def _credit_dunning_blocked_queries(self, date):
        """Sold invoices are the factor's to collect, except under silent factoring where the
        company keeps dunning on its own letterhead."""
        self.flush_model(["credit_factoring_state", "credit_factoring_contract_id"])
        self.env["credit.factoring.contract"].flush_model(["factoring_type", "company_keeps_dunning"])
        return [
            *super()._credit_dunning_blocked_queries(date),
            SQL(
                """
            SELECT m.id, NULL::integer
              FROM account_move m
              JOIN dunning_candidate cand ON cand.move_id = m.id
              JOIN credit_factoring_contract c ON c.id = m.credit_factoring_contract_id
             WHERE m.credit_factoring_state = 'sold'
               AND NOT (c.factoring_type = 'silent' AND COALESCE(c.company_keeps_dunning, FALSE))
                """
            ),
        ]

    def _credit_check_not_sold(self, document):
        """Refuse a collection document (promise, dispute, payment plan, agency handover) on
        invoices sold to a factor: the factor collects them."""
        sold = self.sudo().filtered(lambda m: m.credit_factoring_state == "sold")
        if sold:
            raise ValidationError(
                _(
                    "%(document)s: the invoices %(moves)s are sold to a factor, who collects them. "
                    "Take them back from the factor first.",
                    document=document,
                    moves=", ".join(sold.mapped("display_name")),
                )
            )

    def _credit_factoring_notice(self):
        """The contract whose assignment notice the invoice PDF carries (open factoring), or an
        empty recordset."""
        self.ensure_one()
        contract = self.sudo().credit_factoring_contract_id
        if self.credit_factoring_state == "sold" and contract.factoring_type == "open":
            return contract
        return contract.browse()

    def _credit_factoring_notice_text(self):
        """The assignment notice (Abtretungsvermerk) of open factoring, in the invoice's language."""
        contract = self._credit_factoring_notice()
        if not contract:
            return ""
        return self.env._(
            "We have assigned the claim arising from this invoice to %(factor)s. Payment with "
            "discharging effect can only be made to %(factor)s.",
            factor=contract.factor_id.name,
        )

    def _credit_factoring_payment_text(self):
        """Where to pay under open factoring: the factor's bank account and the reference."""
        contract = self._credit_factoring_notice()
        bank = contract.bank_account_id
        if not bank:
            return ""
        account = bank.display_name + (" (BIC %s)" % bank.bank_bic if bank.bank_bic else "")
        if self.payment_reference:
            return self.env._(
                "Please pay to the account of %(factor)s: %(account)s, reference %(reference)s.",
                factor=contract.factor_id.name,
                account=account,
                reference=self.payment_reference,
            )
        return self.env._(
            "Please pay to the account of %(factor)s: %(account)s.",
            factor=contract.factor_id.name,
            account=account,
        )
