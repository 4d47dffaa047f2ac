"""Make `make run`'s demo database a German company (tools/run.sh calls each step once).

    demo_setup.py -c CONF -d DB company   # after base: the main company becomes German (EUR)
    demo_setup.py -c CONF -d DB chart     # after l10n_de and sale_management (SKR03 loaded)
    demo_setup.py -c CONF -d DB finish    # after credit_control

"company" runs before `account` is installed, so that installing l10n_de picks the German
chart (SKR03) for the main company. "finish" completes what a German company has on its
letters: bank account with a valid IBAN, commercial register, managing directors in the
footer, Odoo's DIN 5008 document layout (printing needs no layout dialog) and German as the
language of the German and Austrian customers (their letters and statements). Then it walks
the newer capabilities once, as the Credit Manager Karin Kredit would, through the models' own
methods and wizards (:func:`demo_features`): a credit insurance policy with insured customers
and the daily deadline job (one notification due), an open factoring contract with the
invoices of one customer sold to it, a court dunning case of the most overdue customer with its
claims (prepared and filed), a sample bureau file (demo/credit_bureau_sample.csv, preset "Credit
index 100-600") through the import wizard and one run of the payment-date prediction job.
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
    # a logo of its own: without one every PDF shows Odoo's "Your logo" placeholder
    logo = _demo_logo()
    if logo:
        company.logo = logo
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
    features = demo_features(env)
    return (
        f"{features}; {company.name}: chart {company.chart_template}, {company.currency_id.name}, "
        f"IBAN {account.acc_number}, layout {company.external_report_layout_id.key}, "
        f"{len(german)} customers set to German"
    )


def _demo_logo():
    """The demo company's logo (PNG, base64): a blue square with "MM" and the name beside it,
    drawn with Pillow (Odoo's own dependency) in DejaVu/Liberation Sans Bold where installed."""
    import base64
    import io

    from PIL import Image, ImageDraw, ImageFont

    def font(size):
        for name in ("DejaVuSans-Bold.ttf", "LiberationSans-Bold.ttf"):
            for folder in ("/usr/share/fonts/truetype/dejavu/", "/usr/share/fonts/truetype/liberation/", ""):
                try:
                    return ImageFont.truetype(folder + name, size)
                except OSError:
                    continue
        return ImageFont.load_default()

    blue = (31, 56, 100, 255)
    image = Image.new("RGBA", (600, 160), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 10, 140, 150), radius=18, fill=blue)
    draw.text((70, 80), "MM", font=font(64), fill=(255, 255, 255, 255), anchor="mm")
    draw.text((165, 48), "Muster", font=font(52), fill=blue, anchor="lm")
    draw.text((165, 112), "Maschinenbau", font=font(52), fill=(91, 103, 112, 255), anchor="lm")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue())


# === the newer capabilities (finish step) === #
INSURER = {
    "name": "Allianz Trade Deutschland",
    "is_company": True,
    "street": "Friedensallee 254",
    "zip": "22763",
    "city": "Hamburg",
}
FACTOR = {
    "name": "Südwest Factoring GmbH",
    "is_company": True,
    "street": "Königstraße 10",
    "zip": "70173",
    "city": "Stuttgart",
}
FACTOR_IBAN = "DE02 1203 0000 0000 2020 51"  # a valid example IBAN
BUREAU_FILE = "credit_bureau_sample.csv"
LEGAL_FORMS = ("GmbH & Co. KG", "GmbH", "AG", "e.K.", "KG", "SARL", "B.V.", "S.r.l.")
BUREAU_PRESET = "credit_control.credit_bureau_provider_index_100_600"


def demo_features(env):
    """The newer capabilities, made once by the Credit Manager Karin Kredit ("credit") through
    the models' own methods and wizards (she gets their tasks; German texts: the stored task names
    and messages are the company's). Idempotent: a part already there is skipped."""
    company = env.ref("base.main_company")
    # the applicant of a court dunning application: legal form and representatives (administrator)
    if not company.partner_id.credit_legal_form:
        company.partner_id.write(
            {
                "credit_legal_form": "GmbH",
                "credit_legal_representatives": f"Geschäftsführer {MANAGING_DIRECTORS}",
            }
        )
    manager = env["res.users"].search([("login", "=", "credit")], limit=1)
    env = env(user=manager, su=False, context=dict(env.context, lang="de_DE", tracking_disable=False))
    germany = env.ref("base.de")
    done = []
    done.append(_demo_insurance(env, germany))
    done.append(_demo_factoring(env, germany))
    done.append(_demo_legal_case(env))
    done.append(_demo_write_off(env))
    done.append(_demo_bureau_import(env))
    done.append(_demo_prediction(env, company))
    return "; ".join(done)


def _demo_insurance(env, germany):
    """A policy of a credit insurer covering three customers (insured limits; Wagner's below its
    credit limit), its reporting deadline such that Wagner's overdue invoice is on the watch
    list now, and the daily deadline job run once (the task "report to the insurer")."""
    Policy = env["credit.insurance.policy"]
    if Policy.search_count([]):
        return "insurance: there"
    insurer = env["res.partner"].create(dict(INSURER, country_id=germany.id))
    today = _today(env)
    policy = Policy.create(
        {
            "name": "KV-4711-2026",
            "insurer_id": insurer.id,
            "date_from": today.replace(month=1, day=1),
            "date_to": today.replace(month=12, day=31),
            "max_payment_term_days": 60,
            # Wagner's invoice 45 days overdue: deadline in 5 days, on the watch list (10 days lead)
            "reporting_days": 50,
            "claim_days": 90,
        }
    )
    insured = {
        "credit_control.credit_demo_partner_wagner": 8000.0,  # below its credit limit of 10,000
        "credit_control.credit_demo_partner_hoffmann": 20000.0,
        "credit_control.credit_demo_partner_mueller": 50000.0,
    }
    for xmlid, limit in insured.items():
        partner = env.ref(xmlid)
        partner.write(
            {
                "credit_insurance_policy_id": policy.id,
                "credit_insurer_id": insurer.id,
                "credit_insured_limit": limit,
                "credit_insurance_date_end": policy.date_to,
            }
        )
    tasks = env["credit.insurance.watch"].sudo()._cron_insurance_deadlines()
    return f"insurance: policy {policy.name}, {len(insured)} customers, {len(tasks)} deadline task(s)"


def _demo_factoring(env, germany):
    """An open factoring contract without recourse; Schmidt Logistik is assigned to it and its
    open invoices are sold (the invoices' button "Sell to Factor")."""
    Contract = env["credit.factoring.contract"]
    if Contract.search_count([]):
        return "factoring: there"
    factor = env["res.partner"].create(dict(FACTOR, country_id=germany.id))
    account = env["res.partner.bank"].create({"acc_number": FACTOR_IBAN, "partner_id": factor.id})
    contract = Contract.create(
        {
            "name": "FV-2026-01",
            "factor_id": factor.id,
            "factoring_type": "open",
            "with_recourse": False,
            "bank_account_id": account.id,
            "purchase_limit": 40000.0,
            "fee_percent": 1.2,
            "retention_percent": 10.0,
            "date_start": _today(env).replace(day=1),
        }
    )
    customer = env.ref("credit_control.credit_demo_partner_schmidt")
    customer.credit_factoring_contract_id = contract
    moves = env["account.move"].search(
        [
            ("commercial_partner_id", "=", customer.id),
            ("move_type", "=", "out_invoice"),
            ("state", "=", "posted"),
            ("payment_state", "in", ("not_paid", "partial")),
        ]
    )
    moves.action_credit_factoring_assign()
    return f"factoring: {contract.name}, {len(moves)} invoice(s) of {customer.name} sold"


def _demo_legal_case(env):
    """A court dunning case of the customer with the oldest overdue invoice: its overdue
    invoices loaded as claims, prepared (application data checked, dunning costs added) and
    filed at the dunning court."""
    Case = env["credit.legal.case"]
    if Case.search_count([]):
        return "legal: there"
    oldest = env["account.move"].search(
        [
            ("move_type", "=", "out_invoice"),
            ("state", "=", "posted"),
            ("payment_state", "in", ("not_paid", "partial")),
            ("invoice_date_due", "<", _today(env)),
            ("credit_factoring_state", "!=", "sold"),
        ],
        order="invoice_date_due, id",
        limit=1,
    )
    if not oldest:
        return "legal: no overdue invoice"
    customer = oldest.commercial_partner_id
    if customer.is_company and not customer.credit_legal_form:
        contact = customer.child_ids.filtered("function")[:1]
        customer.write(
            {
                "credit_legal_form": next(
                    (form for form in LEGAL_FORMS if customer.name.endswith(" " + form)), "GmbH"
                ),
                "credit_legal_representatives": f"{contact.function} {contact.name}" if contact else "",
            }
        )
    case = Case.create(
        {
            "partner_id": customer.id,
            "our_reference": f"MB-{customer.ref or customer.id}",
            "no_counter_performance": True,
        }
    )
    case.action_load_invoices()
    case.action_prepare()
    if case.court_id:
        case.action_apply()
    return f"legal: {case.name} for {customer.name}, {len(case.claim_ids)} claim(s), {case.state}"


def _demo_write_off(env):
    """Van Dijk's partly paid invoice: the rest written off after a settlement (the write-off
    wizard of the invoice list: credit note against the loss account)."""
    Entry = env["credit.write.off.entry"]
    if Entry.search_count([]):
        return "write-off: there"
    customer = env.ref("credit_control.credit_demo_partner_vandijk")
    moves = env["account.move"].search(
        [
            ("commercial_partner_id", "=", customer.id),
            ("move_type", "=", "out_invoice"),
            ("state", "=", "posted"),
            ("payment_state", "=", "partial"),
        ],
        limit=1,
    )
    if not moves:
        return "write-off: no partly paid invoice"
    wizard = (
        env["credit.write.off"]
        .with_context(active_model="account.move", active_ids=moves.ids)
        .create({"reason": "decision", "note": "Vergleich: Restbetrag nach Teilzahlung ausgebucht."})
    )
    wizard.action_write_off()
    entries = Entry.search([("partner_id", "=", customer.id)])
    return f"write-off: {moves.name} of {customer.name}, {len(entries)} entry"


def _demo_bureau_import(env):
    """The sample bureau file through the import wizard with the preset "Credit index 100-600":
    the matched rows become credit checks, one row (a company that is no customer) is listed."""
    import base64
    import os

    provider = env.ref(BUREAU_PRESET)
    if env["credit.check"].search_count([("bureau_provider_id", "=", provider.id)]):
        return "bureau: there"
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "demo", BUREAU_FILE)
    with open(path, "rb") as fh:
        data = fh.read()
    wizard = env["credit.bureau.import"].create(
        {"provider_id": provider.id, "file": base64.b64encode(data), "filename": BUREAU_FILE}
    )
    wizard.action_import()
    rejected = wizard.line_ids.filtered(lambda line: line.status == "rejected")
    return (
        f"bureau: {wizard.imported_count} check(s) imported, {len(rejected)} row(s) listed "
        f"({', '.join(rejected.mapped('name'))})"
    )


def _demo_prediction(env, company):
    """The scheduled payment-date prediction job, once (with the demo's short history the rule
    predicts; the invoice's tab says so)."""
    Model = env["credit.payment.model"]
    Model._cron_train()
    model = Model.sudo().search([("company_id", "=", company.id)], limit=1)
    return f"prediction: {model.state}, {model.predicted_count} by the model, {model.rule_count} by the rule"


def _today(env):
    from odoo import fields

    return fields.Date.context_today(env["res.partner"])


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
