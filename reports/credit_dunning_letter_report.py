from collections import defaultdict

from odoo import api, models

# the SEPA credit transfer QR code ("GiroCode") of Odoo's account_qr_code_sepa module
SEPA_QR_METHOD = "sct_qr"


class ReportDunningLetter(models.AbstractModel):
    _name = "report.credit_control.report_dunning_letter"
    _description = "Dunning Letter Report"

    @api.model
    def _get_report_values(self, docids, data=None):
        letters = self.env["credit.dunning.letter"].browse(docids)
        return {
            "doc_ids": docids,
            "doc_model": "credit.dunning.letter",
            "docs": letters,
            "letter_values": {letter.id: self._get_letter_values(letter) for letter in letters},
        }

    @api.model
    def _get_letter_values(self, letter):
        """Everything the letter shows, computed here and not in QWeb: invoice and credit lines,
        totals per currency (open balance + interest + fees: never the original total), the
        company's bank account and the earlier letters."""
        company = letter.company_id
        lines = letter.line_ids.sorted(
            lambda line: (line.line_type != "invoice", line.date_due or line.date_invoice)
        )
        totals = defaultdict(lambda: {"open": 0.0, "interest": 0.0, "flat_fee": 0.0, "fee": 0.0})
        for line in lines:
            total = totals[line.currency_id]
            total["open"] += line.amount_residual
            total["interest"] += line.interest_amount
            total["flat_fee"] += line.flat_fee_amount
        if letter.fee_amount:
            totals[letter.currency_id]["fee"] += letter.fee_amount
        total_list = [
            {
                "currency": currency,
                **values,
                "total": currency.round(
                    values["open"] + values["interest"] + values["flat_fee"] + values["fee"]
                ),
            }
            for currency, values in totals.items()
        ]
        bank = company.partner_id.bank_ids[:1]
        references = ", ".join(
            name
            for name in lines.filtered(lambda line: line.line_type == "invoice").move_id.mapped("name")
            if name
        )
        return {
            "qr_code": self._get_qr_code(letter, bank, total_list, references),
            "invoice_lines": lines.filtered(lambda line: line.line_type == "invoice"),
            "credit_lines": lines.filtered(lambda line: line.line_type == "credit"),
            "totals": total_list,
            "has_charges": any(t["interest"] or t["flat_fee"] or t["fee"] for t in total_list),
            "bank": bank,
            "payment_reference": references,
            "previous_letters": letter.previous_letter_ids[:5],
            "charge_invoices": letter.charge_move_ids.filtered(lambda move: move.state == "posted"),
            "sender_line": " · ".join(
                part
                for part in (
                    company.name,
                    company.street,
                    " ".join(p for p in (company.zip, company.city) if p),
                )
                if part
            ),
        }

    @api.model
    def _get_qr_code(self, letter, bank, totals, reference):
        """A SEPA payment QR code (data URI) for the letter's EUR total, made by Odoo's own
        ``res.partner.bank`` QR API, when the SEPA QR module is installed, the company shows QR
        codes (Invoicing settings) and its account qualifies (a SEPA IBAN); else None."""
        if not bank or not letter.company_id.qr_code:
            return None
        if SEPA_QR_METHOD not in dict(bank.get_available_qr_methods_in_sequence()):
            return None
        total = next((t for t in totals if t["currency"].name == "EUR" and t["total"] > 0), None)
        if not total:
            return None
        return bank.build_qr_code_base64(
            total["total"],
            reference[:140],
            None,
            total["currency"],
            letter.partner_id,
            qr_method=SEPA_QR_METHOD,
            silent_errors=True,
        )
