from odoo import _, fields, models
from odoo.tools import float_is_zero, format_date


class CreditLegalCase(models.Model):
    """The court dunning case's ancillary items from the dunning (fees, the §288(5) BGB flat fee)
    and the allocation of payments during the case (§367 BGB: costs, interest, principal)."""

    _inherit = "credit.legal.case"

    # === BUSINESS METHODS === #
    def _add_dunning_costs(self):
        """Ancillary items from the dunning: the fees of the validated letters of the claims'
        invoices not invoiced separately, and the flat fee of §288(5) BGB per invoice of a
        business customer where no letter charged it. Entered once (at preparation)."""
        self.ensure_one()
        Cost = self.env["credit.legal.cost"]
        moves = self.claim_ids.sudo().move_id
        vals = []
        letters = (
            self.env["credit.dunning.line"]
            .sudo()
            .search([("move_id", "in", moves.ids), ("letter_id.state", "=", "done")])
            .letter_id.filtered(lambda letter: letter.fee_amount and not letter.charge_move_ids)
        )
        existing = self.cost_ids
        for letter in letters.sorted(lambda letter: (letter.dunning_date, letter.id)):
            if existing.filtered(lambda cost, lt=letter: cost.letter_id == lt):
                continue
            vals.append(
                {
                    "case_id": self.id,
                    "cost_type": "dunning_fee",
                    "letter_id": letter.id,
                    "name": _(
                        "Dunning fee: %(level)s of %(date)s",
                        level=letter.level_id.name,
                        date=format_date(self.env, letter.dunning_date),
                    ),
                    "amount": letter.currency_id._convert(
                        letter.fee_amount, self.currency_id, self.company_id, letter.dunning_date
                    ),
                    "date": letter.dunning_date,
                }
            )
        if self.claim_flat_fee and self.partner_id.is_company and self.company_id.credit_dunning_flat_fee:
            for claim in self.claim_ids.sudo().sorted(lambda c: (c.date_due, c.id)):
                move = claim.move_id
                if move.credit_dunning_flat_fee_charged or existing.filtered(
                    lambda cost, m=move: cost.cost_type == "flat_fee" and cost.move_id == m
                ):
                    continue
                vals.append(
                    {
                        "case_id": self.id,
                        "cost_type": "flat_fee",
                        "move_id": move.id,
                        "name": _("Flat fee (§288(5) BGB) on %(invoice)s", invoice=move.name),
                        "amount": self.env["credit.dunning.line"]._flat_fee_in(
                            self.currency_id, self.company_id, self.date_interest
                        ),
                        "date": claim.date_due,
                    }
                )
        return Cost.create(vals)

    def _allocate_payments(self):
        """Payments received on the claims' invoices since the case opened (what their open
        amount went down since), allocated per §367(1) BGB to costs, then interest, then
        principal; among the claims per §366(2) BGB the one due first. Amounts in the case's
        currency; per claim in ``claims`` {claim: (interest, principal)}."""
        self.ensure_one()
        currency = self.currency_id
        claims = self.claim_ids.sorted(lambda claim: (claim.date_due or fields.Date.today(), claim.id))
        principal = sum(claims.mapped("principal"))
        interest = sum(claims.mapped("interest_amount"))
        costs = sum(self.cost_ids.mapped("amount"))
        open_now = sum(claim.sudo().move_id.amount_residual for claim in claims)
        paid = currency.round(max(principal - open_now, 0.0))
        rest = paid
        allocated_costs = min(rest, costs)
        rest -= allocated_costs
        per_claim = {}
        allocated_interest = allocated_principal = 0.0
        for claim in claims:
            part = min(rest, claim.interest_amount)
            rest -= part
            per_claim[claim] = [part, 0.0]
            allocated_interest += part
        for claim in claims:
            part = min(rest, claim.principal)
            rest -= part
            per_claim[claim][1] = part
            allocated_principal += part
        if not float_is_zero(rest, precision_rounding=currency.rounding):
            # more received than claimed (e.g. running interest paid): shown as paid, not allocated
            pass
        return {
            "principal": principal,
            "interest": interest,
            "costs": costs,
            "paid": paid,
            "allocated_costs": currency.round(allocated_costs),
            "allocated_interest": currency.round(allocated_interest),
            "allocated_principal": currency.round(allocated_principal),
            "claims": per_claim,
        }
