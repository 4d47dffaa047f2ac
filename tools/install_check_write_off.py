# Odoo shell script of tools/install_check.sh ("de" round): the bad-debt write-off on Odoo's real
# German charts (l10n_de), which the unit tests cannot load. SKR03 is the main company's chart
# (loaded in the template); SKR04 is loaded here into a second company.
#
# Invoice 1,000.00 net at 19 % + 500.00 net at 7 % = 1,725.00 gross, 690.00 paid, 1,035.00 open.
# Expected write-off (§17 UStG): 600.00 net to the 19 % loss account (SKR03 2406 / SKR04 6936),
# 300.00 net to the 7 % one (2401 / 6931), VAT corrected 114.00 + 21.00 on the accounts of the
# invoice's taxes, the receivable cleared; undo restores 1,035.00 open.
# Prints "write-off <chart>: passed" per chart, else "write-off <chart>: FAILED: ..." and exits 1.
import sys

from odoo import Command, fields

MANAGER = "credit_control.credit_control_group_manager"
env = globals()["env"]  # given by odoo shell


def book(company, chart, codes):
    env_c = env(context=dict(env.context, allowed_company_ids=[company.id], lang="en_US"))
    admin = env_c.ref("base.user_admin")
    admin.write(
        {"company_ids": [Command.link(company.id)], "groups_id": [Command.link(env_c.ref(MANAGER).id)]}
    )
    suffix = chart.removeprefix("de_")  # the chart's tax ids end in skr03 / skr04
    tax_19 = env_c.ref(f"account.{company.id}_tax_ust_19_{suffix}")
    tax_7 = env_c.ref(f"account.{company.id}_tax_ust_7_{suffix}")
    customer = env_c["res.partner"].create({"name": f"Insolvent Kunde GmbH ({chart})", "is_company": True})
    today = fields.Date.context_today(admin)
    invoice = env_c["account.move"].create(
        {
            "move_type": "out_invoice",
            "company_id": company.id,
            "partner_id": customer.id,
            "invoice_date": today,
            "invoice_line_ids": [
                Command.create(
                    {
                        "name": "Maschine",
                        "quantity": 1,
                        "price_unit": 1000.0,
                        "tax_ids": [Command.set(tax_19.ids)],
                    }
                ),
                Command.create(
                    {
                        "name": "Fachbuch",
                        "quantity": 1,
                        "price_unit": 500.0,
                        "tax_ids": [Command.set(tax_7.ids)],
                    }
                ),
            ],
        }
    )
    invoice.action_post()
    env_c["account.payment.register"].with_context(
        active_model="account.move", active_ids=invoice.ids
    ).create({"amount": 690.0, "payment_date": today})._create_payments()
    problems = []
    if invoice.amount_residual != 1035.0:
        problems.append(f"open before {invoice.amount_residual} (expected 1035.00)")
    wizard = (
        env_c["credit.write.off"]
        .with_user(admin)
        .with_context(active_model="account.move", active_ids=invoice.ids)
        .create({"reason": "insolvency", "note": "Insolvenzverfahren 12 IN 345/26"})
    )
    wizard.action_write_off()
    entry = env_c["credit.write.off.entry"].search([("invoice_id", "=", invoice.id)])
    refund = entry.refund_id
    lines = refund.line_ids

    def balance(predicate):
        return round(sum(lines.filtered(predicate).mapped("balance")), 2)

    expected = {
        f"net to {codes[19]}": (
            balance(lambda ml: ml.display_type == "product" and ml.account_id.code == codes[19]),
            600.0,
        ),
        f"net to {codes[7]}": (
            balance(lambda ml: ml.display_type == "product" and ml.account_id.code == codes[7]),
            300.0,
        ),
        "VAT 19 % corrected": (balance(lambda ml: ml.tax_line_id == tax_19), 114.0),
        "VAT 7 % corrected": (balance(lambda ml: ml.tax_line_id == tax_7), 21.0),
        "receivable credited": (
            balance(lambda ml: ml.account_id.account_type == "asset_receivable"),
            -1035.0,
        ),
    }
    for what, (got, want) in expected.items():
        if got != want:
            problems.append(f"{what}: {got} (expected {want})")
    vat_accounts = {
        tax: tax.invoice_repartition_line_ids.filtered(lambda r: r.repartition_type == "tax").account_id
        for tax in (tax_19, tax_7)
    }
    for tax, account in vat_accounts.items():
        if lines.filtered(lambda ml, t=tax: ml.tax_line_id == t).account_id != account:
            problems.append(f"VAT of {tax.name} not on the tax's account {account.code}")
    if (entry.amount, entry.amount_tax, entry.state) != (1035.0, 135.0, "done"):
        problems.append(f"entry {entry.amount} / {entry.amount_tax} / {entry.state}")
    if not invoice.currency_id.is_zero(invoice.amount_residual):
        problems.append(f"invoice still open: {invoice.amount_residual}")
    entry.with_user(admin).write({"undo_reason": "Zahlung doch erhalten"})
    entry.with_user(admin).action_undo()
    if invoice.amount_residual != 1035.0:
        problems.append(f"after undo open {invoice.amount_residual} (expected 1035.00)")
    figures = ", ".join(f"{what} {got:.2f}" for what, (got, _want) in expected.items())
    return problems, figures


results = []
skr03 = env.ref("base.main_company")
results.append(("de_skr03", skr03, {19: "2406", 7: "2401"}))
skr04 = env["res.company"].create(
    {
        "name": "Muster Handel GmbH (SKR04)",
        "country_id": env.ref("base.de").id,
        "currency_id": env.ref("base.EUR").id,
    }
)
env["account.chart.template"].try_loading("de_skr04", skr04, install_demo=False)
results.append(("de_skr04", skr04, {19: "6936", 7: "6931"}))
failed = False
for chart, company, codes in results:
    try:
        problems, figures = book(company, chart, codes)
    except Exception as error:  # noqa: BLE001 - reported as the check's failure
        problems, figures = [f"{type(error).__name__}: {error}"], ""
    if problems:
        failed = True
        print(f"write-off {chart}: FAILED: {'; '.join(problems)}")
    else:
        print(f"write-off {chart}: passed ({figures})")
env.cr.rollback()
sys.stdout.flush()
if failed:
    sys.exit(1)
