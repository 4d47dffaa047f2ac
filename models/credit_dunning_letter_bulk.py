"""Bulk creation of dunning letters and lines: the rows ``create`` leaves, in one INSERT of
column arrays per 20,000 records (the proposal of a whole ledger: 986 letters, 12,000 lines)."""

from collections import defaultdict
from datetime import date as date_type
from datetime import datetime
from decimal import Decimal

from odoo import api, models
from odoo.osv import expression
from odoo.tools import SQL, float_repr, float_round, split_every

# a column a record's values do not have (NULL, as create leaves it)
MISSING = object()
NoneType = type(None)
# records per INSERT (one array per column)
BULK_CHUNK = 20000
# field types whose inserted values are also their cache values (as read from the database)
CACHED_AS_INSERTED = ("many2one", "selection", "char", "text", "integer", "boolean", "date", "datetime")
# the Python types whose str() is PostgreSQL's input for the column (date: ISO, datetime: ISO
# with a space, float: repr as psycopg2 sends it, bool: True/False)
LITERAL_TYPES = (str, int, float, bool, date_type, datetime, Decimal)
# the types whose text is never quoted in an array literal (no space, comma, quote or brace)
UNQUOTED_TYPES = frozenset((int, float, bool, date_type, Decimal))


def amount_text(value, rounding, digits):
    """``float_repr(float_round(value, precision_rounding=rounding), digits)`` (what ``create``
    inserts for an amount in a currency), without rounding an amount already rounded (read from
    the ledger): when the rounding is one unit of the last digit and the amount is that close to
    its text, the text is what rounding gives (far from the half-way point)."""
    if not value:
        return float_repr(0.0, digits)
    if abs(rounding - 10**-digits) < 1e-12:
        text = "%.*f" % (digits, value)
        if abs(float(text) - value) < rounding * 1e-6:
            return text
    return float_repr(float_round(value, precision_rounding=rounding), digits)


def array_literal(values):
    """``values`` as ONE PostgreSQL array literal (``'{"1","2",NULL}'``, cast to the column's
    array type by the INSERT), or the list itself when a value is of another type (adapted by
    psycopg2 as ``ARRAY[...]``). A literal is one string parameter, read by the array type's
    input function; ``ARRAY[...]`` is one expression node per value for the server to parse
    and fold (12,140 lines x 23 columns: about 280,000 nodes) and a Python adaptation per
    value. Every element is quoted; backslashes and double quotes are escaped."""
    types = set(map(type, values))
    if types <= UNQUOTED_TYPES | {NoneType}:
        # ids, counts, amounts, dates, flags: their text never needs quotes in an array literal
        # (a float's str() is its repr(); no text of these types contains "None")
        text = ",".join(map(str, values))
        return "{%s}" % (text.replace("None", "NULL") if NoneType in types else text)
    if types == {str}:
        # texts (amounts as create rounds them, selection keys): each quoted, escaped if needed
        joined = "".join(values)
        if "\\" in joined or '"' in joined:
            values = [value.replace("\\", "\\\\").replace('"', '\\"') for value in values]
        return '{"%s"}' % '","'.join(values)
    parts = []
    for value in values:
        if value is None:
            parts.append("NULL")
        elif type(value) in (int, float):
            parts.append('"%r"' % value)
        elif isinstance(value, LITERAL_TYPES):
            parts.append('"%s"' % str(value).replace("\\", "\\\\").replace('"', '\\"'))
        else:
            return values
    return "{%s}" % ",".join(parts)


class CreditDunningBulkMixin(models.AbstractModel):
    _name = "credit.dunning.bulk.mixin"
    _description = "Dunning Records Created in Bulk"

    def _bulk_check_create(self, vals_list):
        """Who may create these records, and under which parents (overridden per model)."""
        raise NotImplementedError()

    @api.model
    def _create_bulk(self, vals_list):
        """Create the records of ``vals_list`` (as for ``create``) with one INSERT of column
        arrays (``unnest``) per 20,000 records, leaving the rows ``create`` would leave:
        defaults and log-access columns (create/write user and date) from the ORM, the stored
        related fields of the parent
        (e.g. a letter's company and dunning date) filled in, amounts converted as ``create``
        converts them, stored computed fields given in ``vals_list`` kept (the caller computed
        them as the ORM would), the others computed as after ``create``; then, as ``create``
        does, the fields depending on the records marked for recomputation, the constraints
        checked (company consistency set-based) and the record rules applied. Used by the
        proposal: the ORM's per-record work (a ``default_get`` and a cache entry per field and
        record, the related fields computed one record at a time) takes seconds for the 986
        letters and 12,000 lines of a ledger. tests/test_dunning_records.py
        (TestDunningBulkCreate) compares both row by row. Long for the steps of create, kept in
        its order."""
        if not vals_list:
            return self.browse()
        self._bulk_check_create(vals_list)
        self.check_access("create")
        # complete each set of keys the way create does (defaults and magic columns, once)
        templates = {}
        full_list, fixed_list = [], []
        for vals in vals_list:
            keys = frozenset(vals)
            if keys not in templates:
                prepared = self._prepare_create_values([dict(vals)])[0]
                prepared.pop("__precomputed__", None)
                templates[keys] = {key: value for key, value in prepared.items() if key not in vals}
            full_list.append({**templates[keys], **vals})
            fixed_list.append(keys)
        given = set().union(*full_list)
        unknown = given - set(self._fields)
        if unknown:
            raise ValueError("Invalid fields %s on model %r" % (sorted(unknown), self._name))
        related = self._bulk_add_related(full_list, given)
        provided = {self._fields[name] for name in given} | set(related)
        columns = sorted(
            name for name in given | {field.name for field in related} if self._fields[name].column_type
        )
        converters = [self._bulk_column_converter(self._fields[name], given) for name in columns]
        ids = []
        inserted = {name: [] for name in columns}
        for chunk in split_every(BULK_CHUNK, list(zip(full_list, fixed_list, strict=True))):
            arrays = self._bulk_arrays(chunk, templates, columns, converters)
            for name, values in zip(columns, arrays, strict=True):
                inserted[name].extend(values)
            names = SQL(", ").join(map(SQL.identifier, columns))
            # the ids follow the arrays' order (taken from the sequence in that order)
            ids.extend(
                sorted(
                    row[0]
                    for row in self.env.execute_query(
                        SQL(
                            """INSERT INTO %(table)s (%(names)s)
                               SELECT %(names)s FROM unnest(%(arrays)s)
                                      WITH ORDINALITY AS bulk (%(names)s, bulk_row)
                             ORDER BY bulk_row RETURNING id""",
                            table=SQL.identifier(self._table),
                            names=names,
                            arrays=SQL(", ").join(
                                SQL(
                                    "%%s::%s[]" % self._fields[name].column_type[1],
                                    array_literal(values),
                                )
                                for name, values in zip(columns, arrays, strict=True)
                            ),
                        )
                    )
                )
            )
        lines = self.browse(ids)
        # the values inserted are in the cache, as after create (the constraints, the company
        # check and the recomputation triggers read them from there, not in 12 queries)
        self._bulk_cache(lines, inserted)
        self._bulk_cache_inverses(lines, inserted)
        # stored computed fields not given are computed as create would compute them
        for field in self._fields.values():
            if field.store and field.compute and field not in provided:
                self.env.add_to_compute(field, lines)
        with self.env.protecting([field for field in provided if field.compute], lines):
            lines.modified(columns, create=True)
        lines._validate_fields(columns)
        if self._check_company_auto:
            lines._check_company()
        lines._bulk_check_access()
        return lines

    def _bulk_cache(self, records, inserted):
        """Put the column values of the new ``records`` (in order, as inserted) into the cache,
        in the form reading them from the database gives: ids, strings, dates and booleans as
        inserted, amounts as floats (NULL: 0.0); other types are left to be read. ``create``
        leaves its values in the cache the same way."""
        for name, values in inserted.items():
            field = self._fields[name]
            if field.type in CACHED_AS_INSERTED and not getattr(field, "translate", False):
                self.env.cache.update(records, field, values)
            elif field.type == "monetary":
                # rounded in the currency as inserted (float: rounded again when read, left out)
                self.env.cache.update(records, field, [float(value or 0.0) for value in values])

    def _bulk_cache_inverses(self, records, inserted):
        """As ``create`` leaves them: the one2many and many2many fields of the new ``records``
        empty (nothing refers to them yet), and each new record added to the cached one2many
        fields holding it (a letter's lines, a run's letters: read back without a query; not
        cached: read when needed)."""
        for field in self._fields.values():
            if field.type in ("one2many", "many2many") and not field.compute and not field.related:
                self.env.cache.update(records, field, [()] * len(records))
        for name, values in inserted.items():
            field = self._fields[name]
            if field.type != "many2one" or not self.pool.field_inverses[field]:
                continue
            by_value = defaultdict(list)
            for record_id, value in zip(records._ids, values, strict=True):
                if value:
                    by_value[value].append(record_id)
            cached = set()
            for inverse in self.pool.field_inverses[field]:
                corecords = self.env[inverse.model_name].browse(by_value)
                cached |= set(corecords._ids) - set(self.env.cache.get_missing_ids(corecords, inverse))
            for value in cached:
                field._update_inverses(self.browse(by_value[value]), value)

    def _bulk_field_values(self, name):
        """The values of the many2one ``name`` of these records, in their order (ids, None when
        empty), as the cache holds them (after ``_create_bulk``: the inserted values), the
        missing ones fetched first in one query; no record read one by one."""
        field = self._fields[name]
        missing = list(self.env.cache.get_missing_ids(self, field))
        if missing:
            self.browse(missing).fetch([name])
        values = list(self.env.cache.get_values(self, field))
        if len(values) != len(self):
            # a record that does not exist (any more): Odoo's own read names it
            return [record[name].id or None for record in self]
        return values

    def _bulk_check_access(self):
        """``check_access("create")`` of these new records (the model's access was checked
        before the insert): the record rules in one query counting the records they allow,
        instead of reading each record's fields into the cache and filtering them in Python;
        Odoo's own check names the records when one is not allowed."""
        domain = self.env["ir.rule"]._compute_domain(self._name, "create")
        if not domain:
            return
        allowed = (
            self.sudo()
            .with_context(active_test=False)
            .search_count(expression.AND([[("id", "in", self.ids)], domain]))
        )
        if allowed != len(self):
            self.check_access("create")

    def _bulk_add_related(self, full_list, given):
        """Add to each of ``full_list`` the stored related fields whose first step is given
        (a letter's company and dunning date, from its run): the values create's recomputation stores,
        read from the records (in cache: just created). Returns those fields."""
        related = [
            field
            for field in self._fields.values()
            if field.store
            and field.related
            and field.name not in given
            and field.related.split(".")[0] in given
        ]
        for field in related:
            first, *path = field.related.split(".")
            values = {}
            for vals in full_list:
                key = vals[first]
                if key not in values:
                    value = self[first].browse(key)
                    for name in path:
                        value = value[name]
                    values[key] = field.convert_to_write(value, self)
                vals[field.name] = values[key]
        return related

    def _bulk_arrays(self, chunk, templates, columns, converters):
        """One list per column of the values ``create`` would insert for the ``(vals, keys)`` of
        ``chunk``, in order: the defaults and magic columns converted once per set of keys, NULL
        for a column the values do not have (create leaves it out: no database default), the
        others converted per record (plain ids, numbers, dates, flags and texts of a column all
        at once, ``_bulk_plain_column``). Passed as arrays and inserted with ``unnest``:
        psycopg2 adapts a list in C, where a row of values costs a Python adaptation per row."""
        arrays = []
        keysets = {keys for _vals, keys in chunk}
        for name, convert in zip(columns, converters, strict=True):
            field = self._fields[name]
            constant = field.type != "monetary"
            if constant and all(name in templates[keys] for keys in keysets):
                # a default or magic column: the same value for every record of a set of keys
                fixed = {}
                values = []
                for vals, keys in chunk:
                    if keys not in fixed:
                        fixed[keys] = convert(vals, name)
                    values.append(fixed[keys])
                arrays.append(values)
                continue
            raw = [vals.get(name, MISSING) for vals, _keys in chunk]
            if any(value is MISSING for value in raw):
                values = None
            elif constant:
                values = self._bulk_plain_column(field, raw)
            elif hasattr(convert, "column"):
                values = convert.column([vals for vals, _keys in chunk], name)
            else:
                values = None
            if values is None:
                values = [
                    None if value is MISSING else convert(vals, name)
                    for value, (vals, _keys) in zip(raw, chunk, strict=True)
                ]
            arrays.append(values)
        return arrays

    def _bulk_plain_column(self, field, raw):
        """The values ``_bulk_column_converter`` gives for the values ``raw`` of ``field``
        (``MISSING``: not given, NULL), converted as one list when they are plain Python values
        of the field's type (ids, integers, flags, dates, texts, selection keys); None when one
        of them needs the field's own conversion."""
        types = set(map(type, raw))
        if any(value is MISSING for value in raw):
            return None
        if bool in types and field.type not in ("boolean", "integer") and any(value is True for value in raw):
            return None
        if field.company_dependent:
            return None
        kind = field.type
        if kind == "many2one" and types <= {int, bool, NoneType}:
            return [value or None for value in raw]
        if kind == "integer" and types <= {int, bool, NoneType}:
            return [int(value or 0) for value in raw]
        if kind == "boolean":
            return [bool(value) for value in raw]
        if kind == "date" and types <= {date_type, bool, NoneType}:
            return [value or None for value in raw]
        if kind == "char" and not field.translate and not field.size and types <= {str, bool, NoneType}:
            return [None if value is None or value is False else value for value in raw]
        if kind == "selection" and types <= {str, bool, NoneType}:
            allowed = set(field.get_values(self.env))
            if all(value in allowed for value in set(raw) if value):
                return [value or None for value in raw]
        return None

    def _bulk_column_converter(self, field, given):
        """A function (vals, name) -> the SQL value ``create`` would insert for ``field``.
        Monetary amounts: rounded in the currency create finds in the caller's values
        (``given``: the field's currency field, or the first step of its related path), else
        stored as given."""

        def generic(vals, name):
            return field.convert_to_column_insert(vals.get(name), self, vals)

        if field.company_dependent:
            return generic
        if field.type == "many2one":
            # ids as create converts them (anything else: the field's own conversion)
            return lambda vals, name: (
                (vals.get(name) or None) if isinstance(vals.get(name), int) else generic(vals, name)
            )
        if field.type == "integer":
            return lambda vals, name: int(vals.get(name) or 0)
        if field.type == "boolean":
            return lambda vals, name: bool(vals.get(name))
        if field.type == "date":
            return lambda vals, name: (
                vals.get(name) or None
                if not vals.get(name) or type(vals.get(name)) is date_type
                else generic(vals, name)
            )
        if field.type != "monetary":
            return generic
        return self._bulk_monetary_converter(field, given)

    def _bulk_monetary_converter(self, field, given):
        """``_bulk_column_converter`` of a monetary field: the amount rounded in the currency
        create finds in the caller's values (``given``: the field's currency field, or the first
        step of its related path), else stored as given."""
        currency_name = field.get_currency_field(self)
        currency_field = self._fields[currency_name]
        first = currency_field.related.split(".")[0] if currency_field.related else None
        currencies = {}

        def currency_of(vals):
            if currency_name in vals:
                key = (currency_name, vals[currency_name])
            elif first and first in given:
                key = (first, vals[first])
            else:
                return None
            if key not in currencies:
                # the currency's rounding and digits, read once (not two fields per amount)
                currency = self.new({key[0]: key[1]})[currency_name]
                currencies[key] = (currency.rounding, currency.decimal_places) if currency else None
            return currencies[key]

        def convert(vals, name):
            value = float(vals.get(name) or 0.0)
            currency = currency_of(vals)
            if currency is None:
                return value
            return amount_text(value, *currency)

        def convert_column(vals_list, name):
            # convert() of each of vals_list: the amounts of one currency formatted as a list,
            # amount_text's shortcut (an amount already rounded) tested per amount
            currencies_list = [currency_of(vals) for vals in vals_list]
            values = [float(vals.get(name) or 0.0) for vals in vals_list]
            result = [None] * len(values)
            for currency in set(currencies_list):
                indexes = [index for index, each in enumerate(currencies_list) if each == currency]
                if currency is None:
                    for index in indexes:
                        result[index] = values[index]
                    continue
                rounding, digits = currency
                exact = abs(rounding - 10**-digits) < 1e-12
                tolerance = rounding * 1e-6
                pattern = "%%.%df" % digits
                for index in indexes:
                    value = values[index]
                    if exact and value:
                        text = pattern % value
                        if abs(float(text) - value) < tolerance:
                            result[index] = text
                            continue
                    result[index] = amount_text(value, rounding, digits)
            return result

        convert.column = convert_column
        return convert
