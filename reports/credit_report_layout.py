import functools
import logging
import subprocess

from odoo import api, models

from odoo.addons.base.models.ir_actions_report import _get_wkhtmltopdf_bin

_logger = logging.getLogger(__name__)

# Odoo's DIN 5008 layout (l10n_din5008, installed automatically with a German or Swiss company)
DIN5008_LAYOUT = "l10n_din5008.external_layout_din5008"
DIN5008_COUNTRIES = ("DE", "CH")
STANDARD_LAYOUT = "web.external_layout_standard"
# dpi of l10n_din5008's paper formats (paperformat_euro_din, paperformat_euro_din_a)
DIN5008_DPI = 70


@functools.cache
def wkhtmltopdf_renders_header_footer():
    """True when the installed wkhtmltopdf is built on a patched Qt: only that build renders
    the separate header and footer HTML of Odoo's layouts (Debian's and Ubuntu's packages
    ignore ``--header-html`` / ``--footer-html``). Asked once per process."""
    try:
        result = subprocess.run(
            [_get_wkhtmltopdf_bin(), "--version"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as error:
        _logger.info("wkhtmltopdf version not readable (%s): company details go into the page body", error)
        return False
    return "patched qt" in (result.stdout or "").lower()


class IrActionsReport(models.Model):
    _inherit = "ir.actions.report"

    def _credit_is_own_report(self):
        return bool(self.report_name) and self.report_name.startswith("credit_control.")

    @api.model
    def _credit_default_layout(self, company):
        """The layout a company without one gets: DIN 5008 for German and Swiss companies when
        Odoo's l10n_din5008 is installed, else Odoo's standard layout."""
        if company.country_id.code in DIN5008_COUNTRIES:
            din = self.env.ref(DIN5008_LAYOUT, raise_if_not_found=False)
            if din:
                return din
        return self.env.ref(STANDARD_LAYOUT)

    @api.model
    def _credit_ensure_layout(self, companies=None):
        """Give every company without a document layout its default layout, so that the first
        print does not stop at Odoo's "configure your document layout" dialog."""
        companies = (companies if companies is not None else self.env["res.company"].search([])).sudo()
        for company in companies.filtered(lambda c: not c.external_report_layout_id):
            # sudo: the layout is a company setting; a collector printing the first statement
            # must not need the settings right to get a printable document
            company.external_report_layout_id = self._credit_default_layout(company)

    def report_action(self, docids, data=None, config=True):
        if self._credit_is_own_report():
            self._credit_ensure_layout(self.env.company)
        return super().report_action(docids, data=data, config=config)

    def _get_rendering_context(self, report, docids, data):
        data = super()._get_rendering_context(report, docids, data)
        if report._credit_is_own_report():
            # the company's details (legal form, seat, register, managing directors, bank, VAT id)
            # go into the page body when wkhtmltopdf cannot render the layout's footer
            data["credit_uses_din5008"] = lambda company: (
                company.sudo().external_report_layout_id.key == DIN5008_LAYOUT
            )
            # Odoo's DIN 5008 layout is drawn for its paper format's 70 dpi (its widths in mm
            # come out right only at that zoom): the same dpi for a company on that layout
            data["credit_din5008_dpi"] = lambda company: (
                DIN5008_DPI if company and data["credit_uses_din5008"](company) else None
            )
            # (also in the HTML rendering: the dunning run turns the HTML of all its letters into
            # one PDF itself)
            data["credit_details_in_body"] = not wkhtmltopdf_renders_header_footer()
        return data
