"""Streamed XLSX workbooks with the module's formats (the classes behind ``credit.xlsx.writer``,
see reports/credit_xlsx_writer.py for the API).

The workbook is streamed (xlsxwriter ``constant_memory``: a row is written out when the next one
starts, so memory does not grow with the number of rows): rows go strictly top to bottom, one
sheet after the other. Every sheet gets a title line, a bold header line that stays frozen, an
autofilter over the data and the column widths.

Data rows go through xlsxwriter's public cell API (``write_number``, ``write_string`` ...), or,
with an xlsxwriter version listed in ``FAST_ROWS_XLSXWRITER_VERSIONS``, through a fast row
writer that appends the row's XML to the worksheet's stream itself (about three times faster:
the "XLSX export, 100,000 rows" bench budget). That writer depends on xlsxwriter internals;
tests/test_credit_xlsx.py writes the same rows both ways and compares the workbooks, so a
version is added to the list only once that test passes with it, and any other version writes
through the public API.
"""

import io
import re
from datetime import date, datetime

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from odoo.models import BaseModel

EXCEL_EPOCH = date(1899, 12, 30).toordinal()  # day 0 of Excel's 1900 date system
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# xlsxwriter versions whose worksheet internals (``_write_single_row``, ``fh``, ``previous_row``,
# ``dim_rowmax``, ``_check_dimensions``, ``Format._get_xf_index``) the fast row writer was checked
# against (TestCreditXlsxWriter.test_fast_rows_same_workbook); tools/requirements.txt pins 3.1.9.
FAST_ROWS_XLSXWRITER_VERSIONS = frozenset({"3.1.9"})
DEFAULT_WIDTHS = {
    "text": 24,
    "money": 16,
    "integer": 10,
    "float": 12,
    "percent": 10,
    "date": 12,
    "datetime": 18,
}
_STRFTIME_TO_EXCEL = {
    "%d": "dd",
    "%m": "mm",
    "%Y": "yyyy",
    "%y": "yy",
    "%b": "mmm",
    "%B": "mmmm",
    "%H": "hh",
    "%I": "hh",
    "%M": "mm",
    "%S": "ss",
    "%p": "AM/PM",
    "%A": "dddd",
    "%a": "ddd",
}


def excel_date_format(strftime_format):
    """Odoo language date format (strftime) as an Excel number format: %d.%m.%Y → dd.mm.yyyy."""
    return re.sub(
        r"%[a-zA-Z]", lambda m: _STRFTIME_TO_EXCEL.get(m.group(0), ""), strftime_format or "%Y-%m-%d"
    )


def excel_money_format(currency):
    """Number format with the currency's decimals and symbol: #,##0.00 "€" (or "$" #,##0.00)."""
    number = "#,##0.%s" % ("0" * currency.decimal_places) if currency.decimal_places else "#,##0"
    symbol = '"%s"' % (currency.symbol or currency.name).replace('"', "")
    if currency.position == "before":
        positive = "%s %s" % (symbol, number)
        return "%s;-%s" % (positive, positive)
    positive = "%s %s" % (number, symbol)
    return "%s;-%s" % (positive, positive)


class XlsxBook:
    """A streamed workbook; ``add_sheet`` returns an :class:`XlsxSheet`, ``close`` the bytes."""

    def __init__(self, env, currency, lang=None, fast_rows=None):
        self.env = env
        self.currency = currency
        if fast_rows is None:  # the fast row writer if this xlsxwriter version is a checked one
            fast_rows = xlsxwriter.__version__ in FAST_ROWS_XLSXWRITER_VERSIONS
        self.fast_rows = fast_rows
        self.buffer = io.BytesIO()
        # constant_memory streams rows to a temporary file (in_memory would turn it off)
        self.workbook = xlsxwriter.Workbook(
            self.buffer, {"constant_memory": True, "strings_to_numbers": False}
        )
        language = env["res.lang"]._lang_get(lang or env.lang or "en_US")
        self.date_format = excel_date_format(language.date_format if language else "%Y-%m-%d")
        self.time_format = excel_date_format(language.time_format if language else "%H:%M:%S")
        self._formats = {}
        self._sheet = None
        self.sheet_names = set()

    def format(self, kind, currency=None, bold=False):
        """Cached cell format of a column type."""
        currency = currency or self.currency
        key = (kind, currency.id if kind == "money" else None, bold)
        if key not in self._formats:
            props = {"bold": True} if bold else {}
            if kind == "money":
                props["num_format"] = excel_money_format(currency)
            elif kind == "integer":
                props["num_format"] = "#,##0"
            elif kind == "float":
                props["num_format"] = "#,##0.00"
            elif kind == "percent":
                props["num_format"] = '0.0" %"'
            elif kind == "date":
                props["num_format"] = self.date_format
            elif kind == "datetime":
                props["num_format"] = "%s %s" % (self.date_format, self.time_format)
            elif kind == "header":
                props.update(
                    {"bold": True, "bg_color": "#D9E1F2", "border": 1, "text_wrap": True, "valign": "top"}
                )
            elif kind == "title":
                props.update({"bold": True, "font_size": 13})
            if bold and kind not in ("header", "title"):
                props["top"] = 1
            self._formats[key] = self.workbook.add_format(props)
        return self._formats[key]

    def add_sheet(self, name, columns, title=None, subtitle=None, currency=None):
        if self._sheet:
            self._sheet.finish()
        self._sheet = XlsxSheet(self, name, columns, title=title, subtitle=subtitle, currency=currency)
        return self._sheet

    def close(self):
        if self._sheet:
            self._sheet.finish()
        if not self.workbook.worksheets():
            self.workbook.add_worksheet()
        self.workbook.close()
        return self.buffer.getvalue()


class XlsxSheet:
    """One worksheet of an :class:`XlsxBook`: title, frozen header, rows, totals, autofilter."""

    def __init__(self, book, name, columns, title=None, subtitle=None, currency=None):
        self.book = book
        env = book.env
        # sheet names: at most 31 characters, without []:*?/\ and unique in the workbook
        base = re.sub(r"[\[\]:*?/\\]", " ", name or "Sheet")[:31]
        name, n = base, 1
        while name.lower() in book.sheet_names:
            n += 1
            name = "%s (%d)" % (base[:26], n)
        book.sheet_names.add(name.lower())
        self.sheet = book.workbook.add_worksheet(name)
        self.currency = currency or book.currency
        self.columns = []
        for column in columns:
            column = dict(column)
            column.setdefault("type", "text")
            if "header" not in column:
                model, field_name = column["field"]
                column["header"] = env[model]._fields[field_name]._description_string(env)
            column.setdefault("key", column.get("field", (None, column["header"]))[1])
            column.setdefault("width", DEFAULT_WIDTHS.get(column["type"], 16))
            column["cell_format"] = book.format(column["type"], self.currency)
            self.columns.append(column)
        self.totals = [0.0] * len(self.columns)
        self._total_cols = [col for col, column in enumerate(self.columns) if column.get("total")]
        self._fast_rows = book.fast_rows and self.sheet.constant_memory
        self._streaming = False
        if self._fast_rows:
            self._cell_heads = [
                (xl_col_to_name(col), ' s="%d"' % column["cell_format"]._get_xf_index())
                for col, column in enumerate(self.columns)
            ]
        self.row = 0
        if title:
            self.sheet.write(self.row, 0, title, book.format("title"))
            self.row += 1
        if subtitle:
            self.sheet.write(self.row, 0, subtitle)
            self.row += 1
        if title or subtitle:
            self.row += 1
        self.header_row = self.row
        for col, column in enumerate(self.columns):
            self.sheet.set_column(col, col, column["width"])
            self.sheet.write_string(self.row, col, column["header"], book.format("header"))
        self.row += 1
        self.sheet.freeze_panes(self.row, 1 if len(self.columns) > 1 else 0)
        self.last_data_row = self.header_row
        self._finished = False

    def _write_cell(self, col, column, value, cell_format=None):
        cell_format = cell_format or column["cell_format"]
        if value is None or value is False:
            self.sheet.write_blank(self.row, col, None, cell_format)
        elif isinstance(value, BaseModel):
            self.sheet.write_string(self.row, col, ", ".join(value.mapped("display_name")), cell_format)
        elif isinstance(value, datetime):
            self.sheet.write_datetime(self.row, col, value, cell_format)
        elif isinstance(value, date):
            self.sheet.write_datetime(
                self.row, col, datetime(value.year, value.month, value.day), cell_format
            )
        elif isinstance(value, bool):
            self.sheet.write_boolean(self.row, col, value, cell_format)
        elif isinstance(value, int | float):
            self.sheet.write_number(self.row, col, value, cell_format)
        else:
            self.sheet.write_string(self.row, col, str(value), cell_format)

    def write_row(self, values):
        """Write one data row: a dict by column key or a sequence in column order."""
        if isinstance(values, dict):
            values = [values.get(column["key"]) for column in self.columns]
        if self._fast_rows:
            self._stream_row(values)
        else:
            self._write_data_row(values)
        for col in self._total_cols:
            value = values[col] if col < len(values) else None
            if isinstance(value, int | float) and not isinstance(value, bool):
                self.totals[col] += value
        self.last_data_row = self.row
        self.row += 1

    def _write_data_row(self, values):
        """One data row through xlsxwriter's public API. Empty values (None, False, "") leave
        the cell out; strings lose the characters XML cannot hold (as in ``_stream_row``)."""
        sheet, row = self.sheet, self.row
        for col, (column, value) in enumerate(zip(self.columns, values, strict=False)):
            if value is None or value is False or (isinstance(value, str) and not value):
                continue
            cell_format = column["cell_format"]
            if isinstance(value, bool):
                sheet.write_boolean(row, col, value, cell_format)
            elif isinstance(value, int | float):
                sheet.write_number(row, col, value, cell_format)
            elif isinstance(value, date):  # datetime included
                sheet.write_datetime(row, col, value, cell_format)
            else:
                if isinstance(value, BaseModel):
                    value = ", ".join(value.mapped("display_name"))
                sheet.write_string(row, col, _XML_INVALID.sub("", str(value)), cell_format)

    def _stream_row(self, values):
        """The row's XML straight into the worksheet's stream (constant_memory mode).

        xlsxwriter's cell API costs ~10 µs per cell (argument checks, a cell tuple, attribute
        escaping); a data row of plain values needs none of it. The XML is what xlsxwriter
        writes itself (``<c r= s=><v>`` numbers, inline strings); rows before and after go through
        the API, which keeps its row pointer and the sheet dimensions right."""
        sheet = self.sheet
        if not self._streaming:
            sheet._write_single_row(self.row)  # writes the header row still buffered
            self._streaming = True
            sheet._check_dimensions(self.row, len(self.columns) - 1)
        row_ref = str(self.row + 1)
        cells = []
        for (ref, style), value in zip(self._cell_heads, values, strict=False):
            if value is None or value is False or value == "":
                continue
            if isinstance(value, bool):
                cells.append('<c r="%s%s"%s t="b"><v>1</v></c>' % (ref, row_ref, style))
            elif isinstance(value, int | float):
                cells.append('<c r="%s%s"%s><v>%.16G</v></c>' % (ref, row_ref, style, value))
            elif isinstance(value, datetime):
                serial = (
                    value.toordinal()
                    - EXCEL_EPOCH
                    + (value.hour * 3600 + value.minute * 60 + value.second) / 86400.0
                )
                cells.append('<c r="%s%s"%s><v>%.16G</v></c>' % (ref, row_ref, style, serial))
            elif isinstance(value, date):
                cells.append(
                    '<c r="%s%s"%s><v>%d</v></c>' % (ref, row_ref, style, value.toordinal() - EXCEL_EPOCH)
                )
            else:
                if isinstance(value, BaseModel):
                    value = ", ".join(value.mapped("display_name"))
                text = _XML_INVALID.sub("", str(value))[:32767]
                text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
                cells.append(
                    '<c r="%s%s"%s t="inlineStr"><is><t%s>%s</t></is></c>'
                    % (ref, row_ref, style, space, text)
                )
        sheet.fh.write('<row r="%s">%s</row>' % (row_ref, "".join(cells)))
        sheet.previous_row = self.row + 1
        sheet.dim_rowmax = max(sheet.dim_rowmax or 0, self.row)

    def write_rows(self, rows):
        for values in rows:
            self.write_row(values)

    def write_total(self, label=None):
        """A bold total line below the data with the sums of the columns marked ``total``."""
        self._set_autofilter()
        for col, column in enumerate(self.columns):
            if column.get("total"):
                value = self.totals[col]
                if column["type"] == "money":
                    value = self.currency.round(value)
                self._write_cell(
                    col, column, value, self.book.format(column["type"], self.currency, bold=True)
                )
            elif col == 0:
                self._write_cell(
                    col, column, label or self.book.env._("Total"), self.book.format("text", bold=True)
                )
        self.row += 1

    def _set_autofilter(self):
        if not self._finished:
            self.sheet.autofilter(
                self.header_row, 0, max(self.last_data_row, self.header_row), len(self.columns) - 1
            )
            self._finished = True

    def finish(self):
        self._set_autofilter()
