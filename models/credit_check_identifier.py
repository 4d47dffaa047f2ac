"""Credit check: validation of the customer's identifiers (VAT number, commercial register
number, LEI, IBANs) with python-stdnum."""

from markupsafe import Markup
from stdnum import exceptions as stdnum_exceptions
from stdnum import iban as stdnum_iban
from stdnum import lei as stdnum_lei
from stdnum.de import handelsregisternummer
from stdnum.eu import vat as stdnum_eu_vat
from stdnum.util import get_cc_module

from odoo import _, api, fields, models

# EU VAT prefixes that differ from the ISO country code.
VAT_PREFIX_COUNTRY = {"EL": "GR", "XI": "GB"}


class _IdentifierIssue(str):
    """An issue text, as opposed to the compact number stdnum's ``validate`` returns."""


class CreditCheck(models.Model):
    _inherit = "credit.check"

    # === FIELDS === #
    # identifiers of the customer
    identifier_issues = fields.Html(
        compute="_compute_identifier_issues",
        sanitize=False,
        help="VAT number, commercial register number, LEI and IBANs of the customer that fail validation.",
    )
    identifiers_valid = fields.Boolean(compute="_compute_identifier_issues")

    # === COMPUTE === #
    @api.depends(
        "partner_id.vat",
        "partner_id.company_registry",
        "partner_id.country_id",
        "partner_id.bank_ids.acc_number",
    )
    def _compute_identifier_issues(self):
        for check in self:
            issues = check._get_identifier_issues()
            check.identifiers_valid = not issues
            check.identifier_issues = (
                Markup("<ul class='mb-0'>%s</ul>")
                % Markup("").join(
                    Markup("<li><strong>%s</strong> %s: %s</li>") % (label, value, reason)
                    for label, value, reason in issues
                )
                if issues
                else False
            )

    # === BUSINESS METHODS === #
    def _get_partner_identifiers(self):
        """(label, value, validator) of every identifier of the customer worth validating.
        A validator raises a stdnum ``ValidationError`` or returns an issue text (or None)."""
        self.ensure_one()
        partner = self.partner_id
        if not partner:
            return []
        country = (partner.country_id.code or "").upper()
        identifiers = []
        if partner.vat:
            identifiers.append((_("VAT"), partner.vat, lambda value: self._validate_vat(value, country)))
        if partner.company_registry and country == "DE":
            identifiers.append(
                (_("Commercial Register"), partner.company_registry, handelsregisternummer.validate)
            )
        if "lei" in partner._fields and partner.lei:
            identifiers.append((_("LEI"), partner.lei, stdnum_lei.validate))
        for bank in partner.bank_ids:
            number = (bank.acc_number or "").strip()
            # account numbers that do not start with a country code are not IBANs
            if number[:2].isalpha():
                identifiers.append((_("IBAN"), number, stdnum_iban.validate))
        return identifiers

    def _get_identifier_issues(self):
        """(label, value, reason) for each invalid identifier of the customer. Never raises on odd
        input: empty values are skipped, anything stdnum rejects is reported."""
        issues = []
        for label, value, validator in self._get_partner_identifiers():
            value = (value or "").strip()
            if not any(char.isalnum() for char in value):
                continue
            try:
                result = validator(value)
            except stdnum_exceptions.ValidationError as error:
                result = self._identifier_error_message(error)
            except (TypeError, ValueError) as error:
                result = _IdentifierIssue(str(error))
            # stdnum's validate returns the compact number: only issues are _IdentifierIssue
            if isinstance(result, _IdentifierIssue):
                issues.append((label, value, str(result)))
        return issues

    def _validate_vat(self, value, country):
        prefix = "".join(char for char in value.upper() if char.isalnum())[:2]
        if prefix.isalpha() and (prefix.lower() in stdnum_eu_vat.MEMBER_STATES or prefix == "EL"):
            stdnum_eu_vat.validate(value)
            prefix_country = VAT_PREFIX_COUNTRY.get(prefix, prefix)
            if country and prefix_country != country and not (country == "GB" and prefix == "XI"):
                return _IdentifierIssue(
                    _(
                        "the country prefix %(prefix)s does not match the customer's country %(country)s",
                        prefix=prefix,
                        country=country,
                    )
                )
            return None
        module = get_cc_module(country.lower(), "vat") if country.isalpha() else None
        if module is None:
            if prefix.isalpha():
                return _IdentifierIssue(_("unknown country prefix %(prefix)s", prefix=prefix))
            return None  # no country to check a number without a prefix against
        module.validate(value)
        return None

    @api.model
    def _identifier_error_message(self, error):
        messages = {
            stdnum_exceptions.InvalidChecksum: _("wrong check digit"),
            stdnum_exceptions.InvalidLength: _("wrong length"),
            stdnum_exceptions.InvalidFormat: _("wrong format"),
            stdnum_exceptions.InvalidComponent: _("unknown or invalid part (country code, court, bank)"),
        }
        for error_class, message in messages.items():
            if isinstance(error, error_class):
                return _IdentifierIssue(message)
        return _IdentifierIssue(str(error))
