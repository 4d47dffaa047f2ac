from odoo import models
from odoo.tools import SQL


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    def init(self):
        result = super().init()
        # Open items per partner, read by the credit exposure and payment behaviour aggregates
        # with an index-only scan: a few milliseconds for a partner with 10,000 open items or
        # for a thousand partners, instead of a scan of every journal item.
        self.env.cr.execute(
            SQL(
                """
            CREATE INDEX IF NOT EXISTS credit_control_aml_open_item_idx
                ON account_move_line (partner_id, account_id)
                INCLUDE (company_id, currency_id, amount_residual, amount_residual_currency, date_maturity)
             WHERE NOT reconciled
               AND parent_state = 'posted'
               AND (amount_residual <> 0 OR amount_residual_currency <> 0)
            """
            )
        )
        return result
