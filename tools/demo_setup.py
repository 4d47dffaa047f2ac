"""Make `make run`'s demo database a German company (tools/run.sh calls each step once).

    demo_setup.py -c CONF -d DB company   # after base: the main company becomes German (EUR)
    demo_setup.py -c CONF -d DB chart     # after l10n_de and sale_management (SKR03 loaded)
    demo_setup.py -c CONF -d DB finish    # after credit_control

"company" runs before `account` is installed, so that installing l10n_de picks the German
chart (SKR03) for the main company. "finish" completes what a German company has on its
letters: bank account with a valid IBAN, commercial register, managing directors in the
footer, Odoo's DIN 5008 document layout (printing needs no layout dialog) and German as the
language of the German and Austrian customers (their letters and statements).
Only for the demo database: the module itself depends on neither l10n_de nor sale_management.
"""

import argparse
import sys

COMPANY = {
    "name": "Muster Maschinenbau GmbH",
    "street": "Industriestraße 12",
    "zip": "70565",
    "city": "Stuttgart",
    "phone": "+49 711 987654-0",
    "email": "info@muster-maschinenbau.example.de",
    "website": "https://www.muster-maschinenbau.example.de",
    "vat": "DE287654324",  # check digit valid (ISO 7064 mod 11,10)
    # the DIN 5008 footer prints "HRB Nr: <company_registry>"
    "company_registry": "12345, Amtsgericht Stuttgart",
}
MANAGING_DIRECTORS = "Dr. Anna Muster, Thomas Beispiel"
IBAN = "DE89 3704 0044 0532 0130 00"  # the standard valid example IBAN (Commerzbank Köln)
BANK = {"name": "Commerzbank", "bic": "COBADEFFXXX", "city": "Köln"}


def setup_company(env):
    company = env.ref("base.main_company")
    eur = env.ref("base.EUR")
    eur.active = True
    vals = dict(COMPANY, vat=False)  # the VAT number is checked once base_vat is installed
    vals.update(
        country_id=env.ref("base.de").id,
        state_id=env.ref("base.state_de_bw").id,
        currency_id=eur.id,
    )
    company.write(vals)
    company.partner_id.lang = "de_DE"
    return f"main company: {company.name}, {company.country_id.code}, {company.currency_id.name}"


def setup_chart(env):
    """After l10n_de: German customers with a VAT number get the domestic fiscal position.

    Odoo 18 ranks "VAT number required" first among auto-applied fiscal positions, so the
    SKR03 position "Business partner EU (with VAT ID)" (country group: the whole EU) would win
    over "Domestic business partner" for German customers with a VAT number and their invoices
    would carry 0 % (intra-EU) instead of 19 %. As a German accountant would configure it, the
    EU position applies to the other EU countries only.
    """
    company = env.ref("base.main_company")
    if company.chart_template != "de_skr03":
        raise SystemExit(f"demo setup: chart {company.chart_template!r} instead of de_skr03")
    europe = env.ref("base.europe")
    group = env["res.country.group"].search([("name", "=", "EU ohne Deutschland")], limit=1)
    if not group:
        group = env["res.country.group"].create(
            {
                "name": "EU ohne Deutschland",
                "country_ids": [(6, 0, (europe.country_ids - env.ref("base.de")).ids)],
            }
        )
    positions = env["account.fiscal.position"].search(
        [
            ("company_id", "=", company.id),
            ("country_group_id", "=", europe.id),
            ("auto_apply", "=", True),
        ]
    )
    positions.country_group_id = group
    return f"{len(positions)} EU fiscal position(s) now for {group.name}"


def finish(env):
    from markupsafe import Markup

    company = env.ref("base.main_company")
    problems = []
    if "account.chart.template" in env and company.chart_template != "de_skr03":
        problems.append(f"chart {company.chart_template!r} instead of de_skr03")
    company.write(
        {
            "vat": COMPANY["vat"],
            "company_registry": COMPANY["company_registry"],
            "external_report_layout_id": env.ref("l10n_din5008.external_layout_din5008").id,
            "paperformat_id": env.ref("base.paperformat_euro").id,
            "company_details": Markup("<b>{name}</b><br/>{street}<br/>{zip} {city}<br/>Deutschland").format(
                **COMPANY
            ),
            "report_footer": Markup(
                "Geschäftsführer: {directors}<br/>Tel. {phone}<br/>{email}<br/>{website}"
            ).format(directors=MANAGING_DIRECTORS, **COMPANY),
            "primary_color": "#1f3864",
            "secondary_color": "#5b6770",
        }
    )
    bank = env["res.bank"].search([("bic", "=", BANK["bic"])], limit=1) or env["res.bank"].create(
        dict(BANK, country=env.ref("base.de").id)
    )
    account = env["res.partner.bank"].search(
        [("partner_id", "=", company.partner_id.id), ("acc_number", "=", IBAN)], limit=1
    ) or env["res.partner.bank"].create(
        {
            "acc_number": IBAN,
            "partner_id": company.partner_id.id,
            "bank_id": bank.id,
            "allow_out_payment": True,
        }
    )
    if account.acc_type != "iban":
        problems.append(f"{IBAN} is not recognised as an IBAN")
    journal = env["account.journal"].search(
        [("type", "=", "bank"), ("company_id", "=", company.id)], order="sequence, id", limit=1
    )
    if journal and not journal.bank_account_id:
        journal.bank_account_id = account
    # German letters for German and Austrian customers (their language, not the user's)
    german = env["res.partner"].search([("country_id.code", "in", ("DE", "AT")), ("lang", "!=", "de_DE")])
    german.write({"lang": "de_DE"})
    # the users work in English, as the README's menu paths (Preferences switch to Deutsch);
    # a database created with German loaded has English inactive
    env["res.lang"]._activate_lang("en_US")
    users = env["res.users"].search([("login", "in", ("admin", "sales", "credit"))])
    users.write({"lang": "en_US"})
    # l10n_de's own demo data adds a second company ("DE Company"): the demo shows one company
    others = env["res.company"].search([("id", "!=", company.id)])
    if others:
        env["res.users"].with_context(active_test=False).search([]).write(
            {"company_id": company.id, "company_ids": [(3, c.id) for c in others]}
        )
        others.write({"active": False})
    for login in ("sales", "credit"):
        user = env["res.users"].search([("login", "=", login)])
        if not user:
            problems.append(f"demo user {login!r} missing")
    if not env["ir.module.module"].search([("name", "=", "sale_management"), ("state", "=", "installed")]):
        problems.append("sale_management is not installed")
    if problems:
        raise SystemExit("demo setup: " + "; ".join(problems))
    return (
        f"{company.name}: chart {company.chart_template}, {company.currency_id.name}, "
        f"IBAN {account.acc_number}, layout {company.external_report_layout_id.key}, "
        f"{len(german)} customers set to German"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument("step", choices=("company", "chart", "finish"))
    args = parser.parse_args(argv)
    import odoo
    from odoo import SUPERUSER_ID, api

    odoo.tools.config.parse_config(["-c", args.config, "-d", args.database, "--log-level=warn"])
    odoo.netsvc.init_logger()
    registry = odoo.modules.registry.Registry(args.database)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
        step = {"company": setup_company, "chart": setup_chart, "finish": finish}[args.step]
        message = step(env)
        cr.commit()
    print(f"demo setup ({args.step}): {message}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
