import io
from datetime import datetime, timedelta

import openpyxl
import xlsxwriter

from odoo.exceptions import AccessError
from odoo.tests import tagged

from ..lib.xlsx import FAST_ROWS_XLSXWRITER_VERSIONS
from .dunning_common import DunningCommon


def _sheets(content):
    return openpyxl.load_workbook(io.BytesIO(content))


def _header(sheet, row=3):
    return [cell.value for cell in sheet[row]]


def _column(sheet, header, row=3):
    return _header(sheet, row).index(header) + 1


@tagged("post_install", "-at_install")
class TestCreditXlsxWriter(DunningCommon):
    def test_writer_formats_and_layout(self):
        writer = self.env["credit.xlsx.writer"]
        book = writer._new_book()
        columns = [
            {"key": "name", "field": ("res.partner", "name"), "width": 30},
            {"key": "date", "header": "Date", "type": "date"},
            {"key": "amount", "field": ("res.partner", "credit_exposure"), "type": "money", "total": True},
            {"key": "count", "header": "Count", "type": "integer", "total": True},
            {"key": "usage", "header": "Usage", "type": "percent"},
        ]
        sheet = book.add_sheet("Test: [1]", columns, title="Title")
        sheet.write_row({"name": "A", "date": self.today, "amount": 10.5, "count": 2, "usage": 12.5})
        sheet.write_row(["B", None, 20.25, 3, None])
        sheet.write_row({"name": self.customer, "amount": -5.0})
        sheet.write_total()
        second = book.add_sheet("Test: [1]", columns[:1])
        second.write_row(["only"])
        workbook = _sheets(book.close())
        self.assertEqual(workbook.sheetnames, ["Test   1 ", "Test   1  (2)"])
        ws = workbook.worksheets[0]
        self.assertEqual(ws["A1"].value, "Title")
        self.assertEqual(_header(ws), ["Name", "Date", "Total Exposure", "Count", "Usage"])
        self.assertEqual(ws.freeze_panes, "B4")
        self.assertEqual(ws.auto_filter.ref, "A3:E6")
        self.assertEqual(ws.column_dimensions["A"].width, 30.7109375)
        self.assertEqual(ws["B4"].value, datetime(self.today.year, self.today.month, self.today.day))
        self.assertEqual(ws["B4"].number_format, "mm/dd/yyyy")  # en_US date format
        symbol = self.currency.symbol
        self.assertIn("#,##0.00", ws["C4"].number_format)
        self.assertIn(symbol, ws["C4"].number_format)
        self.assertEqual(ws["D4"].number_format, "#,##0")
        self.assertEqual(ws["A6"].value, "Muster GmbH")
        self.assertEqual(ws["A7"].value, "Total")
        self.assertEqual(ws["C7"].value, 25.75)
        self.assertEqual(ws["D7"].value, 5)
        self.assertTrue(ws["C7"].font.b)
        self.assertIsNone(ws["E7"].value)
        self.assertEqual(workbook.worksheets[1].freeze_panes, "A2", "no title: header on the first line")

    def test_headings_and_dates_in_german(self):
        self.env["res.lang"]._activate_lang("de_DE")
        self.env["ir.module.module"]._load_module_terms(["credit_control"], ["de_DE"], overwrite=True)
        writer = self.env["credit.xlsx.writer"].with_context(lang="de_DE")
        book = writer._new_book()
        sheet = book.add_sheet(
            "X",
            [
                {"key": "a", "field": ("res.partner", "credit_exposure"), "type": "money"},
                {"key": "d", "header": "D", "type": "date"},
            ],
        )
        sheet.write_row([1.0, self.today])
        ws = _sheets(book.close()).active
        self.assertEqual(ws["A1"].value, "Gesamtobligo")
        self.assertEqual(ws["B2"].number_format, "dd.mm.yyyy")

    def _cells(self, content):
        """Everything a user sees of a workbook: per sheet its layout, per cell its value, type,
        number format and boldness."""
        seen = []
        for ws in _sheets(content).worksheets:
            widths = {key: dim.width for key, dim in ws.column_dimensions.items()}
            seen.append((ws.title, ws.dimensions, ws.freeze_panes, ws.auto_filter.ref, widths))
            for row in ws.iter_rows():
                seen += [(c.coordinate, c.value, c.data_type, c.number_format, c.font.b) for c in row]
        return seen

    def test_fast_rows_same_workbook(self):
        """The fast row writer (xlsxwriter internals) and the public cell API write the same
        workbook. Fails after an xlsxwriter update that changes those internals: then take the
        version out of FAST_ROWS_XLSXWRITER_VERSIONS (every export falls back to the public API)."""
        columns = [
            {"key": "name", "header": "Name"},
            {"key": "partner", "header": "Customer"},
            {"key": "date", "header": "Date", "type": "date"},
            {"key": "time", "header": "Time", "type": "datetime"},
            {"key": "days", "header": "Days", "type": "integer"},
            {"key": "rate", "header": "Rate", "type": "percent"},
            {"key": "amount", "header": "Amount", "type": "money", "total": True},
            {"key": "flag", "header": "Flag"},
        ]
        moment = datetime(2026, 3, 1, 13, 5, 7)
        rows = [
            ["INV/1 & <2>", self.customer, self.today, moment, 12, 12.5, 1234.56, True],
            [" leading and trailing ", self.env["res.partner"], None, None, 0, -0.5, -10.0, False],
            ["control\x01char", "", self.today - timedelta(days=400), moment, None, None, 0.1 + 0.2, None],
            {"name": "x" * 40000, "amount": 1e12, "days": -3},
        ]
        contents = []
        for fast_rows in (True, False):
            book = self.env["credit.xlsx.writer"]._new_book(fast_rows=fast_rows)
            sheet = book.add_sheet("Items", columns, title="Title", subtitle="Subtitle")
            sheet.write_rows(rows * 3)
            sheet.write_total()
            book.add_sheet("Second", columns[:2]).write_row(["only", self.customer])
            contents.append(self._cells(book.close()))
        self.assertEqual(contents[0], contents[1])
        self.assertEqual(
            self.env["credit.xlsx.writer"]._new_book().fast_rows,
            xlsxwriter.__version__ in FAST_ROWS_XLSXWRITER_VERSIONS,
            "the fast row writer only with a checked xlsxwriter version",
        )


@tagged("post_install", "-at_install")
class TestCreditExports(DunningCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.rating_a = cls.env["credit.rating"].search([("code", "=", "A")], limit=1)
        cls.customer.with_company(cls.company).write(
            {"credit_limit": 5000.0, "credit_limit_set": True, "credit_rating_id": cls.rating_a.id}
        )
        cls.old = cls._invoice(1000.0, days_ago=40)
        cls.new = cls._invoice(500.0, days_ago=2, term=cls.term_30)
        cls.other = cls.env["res.partner"].create({"name": "Zeta KG", "is_company": True})
        cls._invoice(300.0, partner=cls.other, days_ago=200)
        cls._set_level(cls.old, cls.first, 5)
        cls.other_company = cls.setup_other_company(name="Zweite GmbH")["company"]

    def test_exposure_list(self):
        content = self.env["credit.exposure.xlsx"]._generate(self.customer | self.other)
        ws = _sheets(content).active
        rows = {ws.cell(r, 1).value: r for r in range(4, ws.max_row + 1)}
        self.assertEqual(set(rows), {"Muster GmbH", "Zeta KG", "Total"})
        row = rows["Muster GmbH"]

        def value(header, r=row):
            return ws.cell(r, _column(ws, header)).value

        self.assertEqual(value("Risk Rating"), self.rating_a.display_name)
        self.assertEqual(value("Credit Limit"), 5000.0)
        self.assertEqual(value("Total Exposure"), 1500.0)
        self.assertEqual(value("Overdue"), 1000.0)
        self.assertEqual(value("Available Credit"), 3500.0)
        self.assertEqual(value("Limit Used (%)"), 30.0)
        self.assertIsNone(value("Credit Limit", rows["Zeta KG"]), "no limit: empty, not 0")
        self.assertEqual(value("Total Exposure", rows["Total"]), 1800.0)
        self.assertIn(self.currency.symbol, ws.cell(row, _column(ws, "Total Exposure")).number_format)
        action = self.env["credit.exposure.xlsx"].action_download()
        self.assertEqual(action["type"], "ir.actions.act_url")

    def test_titles_give_the_date_as_the_user_reads_it(self):
        """The title line of each export dates it in the user's format (German: 04.12.2026),
        not as 2026-12-04."""
        self.env["res.lang"]._activate_lang("de_DE")
        german = self.env(context=dict(self.env.context, lang="de_DE"))
        run = self._propose()
        contents = {
            "aging": german["credit.aging.xlsx"]._generate(self.today),
            "exposure": german["credit.exposure.xlsx"]._generate(self.customer),
            "forecast": german["credit.forecast.xlsx"]._generate(today=self.today),
            "dunning run": german["credit.dunning.run.xlsx"]._generate(run.with_env(german)),
        }
        for name, content in contents.items():
            for sheet in _sheets(content).worksheets:
                title = sheet["A1"].value
                self.assertIn(run.date.strftime("%d.%m.%Y"), title, f"{name}: {title}")
                self.assertNotIn(run.date.isoformat(), title, f"{name}: {title}")

    def test_forecast_export_matches_the_computation(self):
        forecast = self.env["credit.forecast"]._compute(self.today)
        workbook = _sheets(self.env["credit.forecast.xlsx"]._generate(today=self.today))
        self.assertEqual(workbook.sheetnames, ["Weeks", "Months"])
        weeks = workbook["Weeks"]
        self.assertEqual(_header(weeks, 4), ["Week Starting", "Best Case", "Expected", "Worst Case"])
        self.assertEqual(weeks.freeze_panes, "B5")
        for i, period in enumerate(forecast["weeks"]):
            self.assertEqual(weeks.cell(5 + i, 1).value.date(), period["start"])
            self.assertEqual(weeks.cell(5 + i, 3).value, period["expected"])
        self.assertEqual(weeks.cell(5 + 13, 1).value, "Total")
        self.assertEqual(weeks.cell(5 + 13, 2).value, 1800.0)
        self.assertEqual(workbook["Months"].cell(5 + 6, 4).value, sum(p["worst"] for p in forecast["months"]))

    def test_dunning_run_export(self):
        run = self._propose()
        self.assertTrue(run.letter_ids)
        workbook = _sheets(self.env["credit.dunning.run.xlsx"]._generate(run))
        letters, lines = workbook["Letters"], workbook["Lines"]
        self.assertEqual(letters["A3"].value, "Customer")
        customers = [letters.cell(r, 1).value for r in range(4, letters.max_row)]
        self.assertEqual(sorted(customers), sorted(run.letter_ids.partner_id.mapped("display_name")))
        col = _column(letters, "Open Amount")
        self.assertEqual(
            letters.cell(letters.max_row, col).value, sum(run.letter_ids.mapped("amount_residual"))
        )
        documents = [lines.cell(r, 2).value for r in range(4, lines.max_row)]
        self.assertEqual(sorted(documents), sorted(run.line_ids.move_id.mapped("name")))
        self.assertNotIn(self.old.name, documents, "dunned 5 days ago: not again yet")
        self.assertEqual(lines.freeze_panes, "B4")
        self.assertTrue(lines.auto_filter.ref.startswith("A3"))

    def test_ui_actions(self):
        run = self._propose()
        for xmlid, model, ids in (
            ("credit_control.credit_dunning_run_xlsx_action_server", "credit.dunning.run", run.ids),
            ("credit_control.credit_exposure_xlsx_action_server", "res.partner", self.customer.ids),
            ("credit_control.credit_exposure_xlsx_action_server_all", "res.partner", []),
            ("credit_control.credit_forecast_xlsx_action_server", "res.partner", []),
        ):
            action = (
                self.env.ref(xmlid)
                .with_user(self.collector)
                .with_context(active_model=model, active_ids=ids, active_id=ids[0] if ids else False)
                .run()
            )
            self.assertEqual(action["type"], "ir.actions.act_url", xmlid)
            attachment = self.env["ir.attachment"].browse(int(action["url"].split("/")[3].split("?")[0]))
            self.assertTrue(attachment.name.endswith(".xlsx"))
            self.assertTrue(_sheets(attachment.raw).worksheets)
        wizard = self.env["credit.aging.open"].create(
            {"group_by": "escalation_level_id", "include_items": True}
        )
        attachment_id = int(wizard.action_export_xlsx()["url"].split("/")[3].split("?")[0])
        workbook = _sheets(self.env["ir.attachment"].browse(attachment_id).raw)
        self.assertEqual(workbook.sheetnames, ["Aging", "Open Items"])
        self.assertEqual(workbook["Aging"]["A3"].value, "Escalation Level")

    def test_access_rights_and_companies(self):
        # a salesperson exports nothing: no aging, no exposure, no forecast
        for model, args in (
            ("credit.aging.xlsx", (self.today,)),
            ("credit.exposure.xlsx", ()),
            ("credit.forecast.xlsx", ()),
        ):
            with self.assertRaises(AccessError, msg=model) as caught:
                self.env[model].with_user(self.sales_user)._generate(*args)
            self.assertRegex(str(caught.exception), r"Only the credit team may export credit control data\.")
        with self.assertRaises(AccessError) as caught:
            self.env["credit.aging.xlsx"].with_user(self.sales_user).action_download(self.today)
        self.assertRegex(str(caught.exception), r"Only the credit team may export credit control data\.")
        with self.assertRaises(AccessError) as caught:  # the public methods, as RPC calls them
            self.env["credit.exposure.xlsx"].with_user(self.sales_user).action_download(self.customer.ids)
        self.assertRegex(str(caught.exception), r"Only the credit team may export credit control data\.")
        with self.assertRaises(AccessError) as caught:
            self.env["credit.dunning.run.xlsx"].with_user(self.sales_user).action_download(self._propose().id)
        self.assertRegex(str(caught.exception), r"Only the credit team may export credit control data\.")
        # a collector exports, but not for a company that is not one of theirs
        collector = self.env["credit.aging.xlsx"].with_user(self.collector)
        self.assertTrue(collector._generate(self.today))
        with self.assertRaisesRegex(AccessError, "not one of your companies"):
            collector._generate(self.today, company=self.other_company)
        with self.assertRaisesRegex(AccessError, "not one of your companies"):
            self.env["credit.exposure.xlsx"].with_user(self.collector)._generate(company=self.other_company)
        with self.assertRaisesRegex(AccessError, "not one of your companies"):
            self.env["credit.forecast.xlsx"].with_user(self.collector)._generate(company=self.other_company)
        run = self._propose()
        run.sudo().company_id = self.other_company  # a run of a company the collector may not see
        with self.assertRaises(AccessError) as caught:
            self.env["credit.dunning.run.xlsx"].with_user(self.collector)._generate(
                run.with_user(self.collector)
            )
        self.assertRegex(
            str(caught.exception),
            r"You may not export data of the company Zweite GmbH: it is not one of your companies\.",
        )

    def test_aging_export_by_rating_and_escalation(self):
        aging = self.env["credit.aging.xlsx"]
        ws = _sheets(aging._generate(self.today, group_by="rating_id")).active
        self.assertEqual(ws["A3"].value, "Risk Rating")
        rows = {ws.cell(r, 1).value: ws.cell(r, 8).value for r in range(4, ws.max_row + 1)}
        self.assertEqual(rows, {self.rating_a.display_name: 1500.0, "None": 300.0, "Total": 1800.0})
        ws = _sheets(aging._generate(self.today, group_by="escalation_level_id")).active
        rows = {ws.cell(r, 1).value: ws.cell(r, 8).value for r in range(4, ws.max_row + 1)}
        self.assertEqual(rows, {self.first.display_name: 1500.0, "None": 300.0, "Total": 1800.0})
        # the aging rows carry the customer's escalation level and their document's own level
        report = self.env["credit.aging.report"]._get_aging(
            self.today, [("partner_id", "=", self.customer.id)]
        )
        self.assertEqual(report.escalation_level_id, self.first)
        self.assertEqual(report.filtered(lambda r: r.move_id == self.new).dunning_level_id.ids, [])
        self.assertEqual(report.rating_id, self.rating_a)
        # the rating is company-dependent: in the other company the customer has none
        self.assertFalse(self.customer.with_company(self.other_company).credit_rating_id)

    def test_aging_export_with_items(self):
        workbook = _sheets(self.env["credit.aging.xlsx"]._generate(self.today, detail=True))
        self.assertEqual(workbook.sheetnames, ["Aging", "Open Items"])
        items = workbook["Open Items"]
        self.assertEqual(items["A3"].value, "Number")
        numbers = [items.cell(r, 1).value for r in range(4, items.max_row)]
        self.assertEqual(sorted(numbers), sorted([self.old.name, self.new.name, *self._names_of(self.other)]))
        amount_col = _column(items, "Open")
        self.assertEqual(items.cell(items.max_row, amount_col).value, 1800.0)
        row = numbers.index(self.old.name) + 4
        self.assertEqual(items.cell(row, _column(items, "Escalation Level")).value, self.first.display_name)
        self.assertEqual(items.cell(row, _column(items, "Days Overdue")).value, 40)
        self.assertEqual(
            items.cell(row, _column(items, "Due Date")).value.date(), self.today - timedelta(days=40)
        )
        self.assertEqual(items.cell(row, _column(items, "Due Date")).number_format, "mm/dd/yyyy")

    def _names_of(self, partner):
        return self.env["account.move"].search([("partner_id", "=", partner.id)]).mapped("name")
