from odoo import fields, models

# loss accounts (Forderungsverluste) of the German charts, used when the company sets none:
# verified in Odoo 18's l10n_de chart templates (account.account-de_skr03.csv / _skr04.csv):
# SKR03 2400 (übliche Höhe), 2401 (7 % USt), 2406 (19 % USt); SKR04 6930, 6931 (7 %), 6936 (19 %)
WRITE_OFF_DEFAULT_CODES = {
    "general": ("2400", "6930"),
    "reduced": ("2401", "6931"),
    "standard": ("2406", "6936"),
}


class ResCompany(models.Model):
    _inherit = "res.company"

    credit_write_off_account_id = fields.Many2one(
        "account.account",
        string="Loss Account",
        check_company=True,
        domain="[('account_type', 'in', ('expense', 'expense_direct_cost'))]",
        help="Written-off receivables are booked here (e.g. SKR03 2400, SKR04 6930): lines without "
        "VAT, and lines whose rate has no own loss account. Empty: the account with code 2400 or 6930.",
    )
    credit_write_off_account_reduced_id = fields.Many2one(
        "account.account",
        string="Loss Account, Reduced VAT Rate",
        check_company=True,
        domain="[('account_type', 'in', ('expense', 'expense_direct_cost'))]",
        help="For lines taxed below the standard rate (e.g. SKR03 2401, SKR04 6931: 7 %). "
        "Empty: the account with code 2401 or 6931, else the loss account.",
    )
    credit_write_off_account_standard_id = fields.Many2one(
        "account.account",
        string="Loss Account, Standard VAT Rate",
        check_company=True,
        domain="[('account_type', 'in', ('expense', 'expense_direct_cost'))]",
        help="For lines taxed at the rate of the company's default sales tax or above (e.g. SKR03 "
        "2406, SKR04 6936: 19 %). Empty: the account with code 2406 or 6936, else the loss account.",
    )

    def _credit_write_off_accounts(self):
        """{"general" | "reduced" | "standard": account or empty}: the configured loss accounts,
        else the German chart's account by code."""
        self.ensure_one()
        configured = {
            "general": self.credit_write_off_account_id,
            "reduced": self.credit_write_off_account_reduced_id,
            "standard": self.credit_write_off_account_standard_id,
        }
        accounts_model = self.env["account.account"].with_company(self)
        missing = [key for key, account in configured.items() if not account]
        if missing:
            codes = [code for key in missing for code in WRITE_OFF_DEFAULT_CODES[key]]
            found = accounts_model.search(
                [*accounts_model._check_company_domain(self), ("code", "in", codes)]
            )
            by_code = {account.code: account for account in found}
            for key in missing:
                configured[key] = next(
                    (by_code[code] for code in WRITE_OFF_DEFAULT_CODES[key] if code in by_code),
                    accounts_model,
                )
        return configured
