from datetime import date, timedelta

from odoo import Command, fields

from .common import CreditControlCommon

# the day the worklist and the problem cases are built for (context worklist_date /
# problem_date): the test ledgers are dated around it
T = date(2026, 11, 20)


class WorklistLedgerMixin(CreditControlCommon):
    """Invoices and promises dated around ``T`` for the worklist and problem-case tests."""

    @classmethod
    def _wl_invoice(cls, partner, amount, invoice_date, term=None, company=None):
        company = company or cls.company
        move = (
            cls.env["account.move"]
            .with_company(company)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "company_id": company.id,
                    "invoice_date": invoice_date,
                    "date": invoice_date,
                    "invoice_payment_term_id": (term or cls.immediate).id,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": "Goods",
                                "quantity": 1,
                                "price_unit": amount,
                                "tax_ids": [Command.clear()],
                            }
                        )
                    ],
                }
            )
        )
        move.action_post()
        return move

    @classmethod
    def _wl_promise(cls, partner, moves, amount, date_promised, state, date_closed=None):
        """A promise in any state and date: dates and state are set in SQL, whatever checks the
        promise model makes when one is recorded (these are facts of the past)."""
        promise = cls.env["credit.promise"].create(
            {
                "partner_id": partner.id,
                "move_ids": [Command.set(moves.ids)],
                "amount": amount,
                "date_promised": fields.Date.today() + timedelta(days=30),
            }
        )
        promise.flush_recordset()
        cls.env.cr.execute(
            "UPDATE credit_promise SET date_promised = %s, date_grace_end = %s + grace_days, state = %s, "
            "date_closed = %s WHERE id = %s",
            (date_promised, date_promised, state, date_closed, promise.id),
        )
        promise.invalidate_recordset()
        return promise
