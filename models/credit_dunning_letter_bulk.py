"""Bulk creation of dunning letters and lines: the rows ``create`` leaves, in one INSERT per
1,000 records (the proposal of a whole ledger: 986 letters, 12,000 lines)."""

from datetime import date as date_type

from odoo import api, models
from odoo.tools import SQL, float_repr, float_round, split_every


class CreditDunningBulkMixin(models.AbstractModel):
    _name = "credit.dunning.bulk.mixin"
    _description = "Dunning Records Created in Bulk"

    def _bulk_check_create(self, vals_list):
        """Who may create these records, and under which parents (overridden per model)."""
        raise NotImplementedError()

    @api.model
    def _create_bulk(self, vals_list):
        """Create the records of ``vals_list`` (as for ``create``) with one multi-row INSERT per
        1,000 records, leaving the rows ``create`` would leave: defaults and log-access columns
        (create/write user and date) from the ORM, the stored related fields of the parent
        (e.g. a line's run, company, customer) filled in, amounts converted as ``create``
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
        for rows in self._bulk_rows(full_list, fixed_list, templates, columns, converters):
            ids.extend(
                row[0]
                for row in self.env.execute_query(
                    SQL(
                        "INSERT INTO %s (%s) VALUES %s RETURNING id",
                        SQL.identifier(self._table),
                        SQL(", ").join(map(SQL.identifier, columns)),
                        SQL(", ").join(rows),
                    )
                )
            )
        lines = self.browse(ids)
        # the one2many fields holding them (letter.line_ids, run.line_ids, ...) are read again
        for name in columns:
            for inverse in self.pool.field_inverses[self._fields[name]]:
                self.env[inverse.model_name].invalidate_model([inverse.name], flush=False)
        # stored computed fields not given are computed as create would compute them
        for field in self._fields.values():
            if field.store and field.compute and field not in provided:
                self.env.add_to_compute(field, lines)
        with self.env.protecting([field for field in provided if field.compute], lines):
            lines.modified(columns, create=True)
        lines._validate_fields(columns)
        if self._check_company_auto:
            lines._check_company()
        lines.check_access("create")
        return lines

    def _bulk_add_related(self, full_list, given):
        """Add to each of ``full_list`` the stored related fields whose first step is given
        (the letter's run, company and customer): the values create's recomputation stores,
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

    def _bulk_rows(self, full_list, fixed_list, templates, columns, converters):
        """Rows of ``columns`` per 1,000 values: per set of keys the defaults and magic columns
        converted once, DEFAULT for a column the values do not have (as create does), the
        others converted per line."""
        plans = {}
        for chunk in split_every(1000, list(zip(full_list, fixed_list, strict=True))):
            rows = []
            for vals, keys in chunk:
                plan_key = (keys, frozenset(vals))
                if plan_key not in plans:
                    base, variable = [], []
                    for index, (name, convert) in enumerate(zip(columns, converters, strict=True)):
                        if name not in vals:
                            base.append(SQL("DEFAULT"))
                        elif name in templates[keys] and self._fields[name].type != "monetary":
                            base.append(convert(vals, name))
                        else:
                            base.append(None)
                            variable.append((index, name, convert))
                    plans[plan_key] = (base, variable)
                base, variable = plans[plan_key]
                row = list(base)
                for index, name, convert in variable:
                    row[index] = convert(vals, name)
                rows.append(tuple(row))
            yield rows

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
                currencies[key] = self.new({key[0]: key[1]})[currency_name]
            return currencies[key]

        def convert(vals, name):
            value = float(vals.get(name) or 0.0)
            currency = currency_of(vals)
            if currency and not value:
                return float_repr(0.0, currency.decimal_places)
            if currency:
                rounded = float_round(value, precision_rounding=currency.rounding)
                return float_repr(rounded, currency.decimal_places)
            return value

        return convert
