"""Querysets of a fixed shape, compiled to SQL once per process and run with new values.

The `/v1` hot path runs the same few queries on every call (the key by its hash, an image by
its id for its owner, the queue ahead of a new image). Django builds and compiles a queryset
anew each time: for these small lookups that is about two thirds of the cost, far more than
SQLite or PostgreSQL take to answer. `Prepared` builds the queryset once with placeholder
values, compiles it once per database alias, and then only executes the SQL with the real
values, turning rows into model instances exactly as Django's own iterables do
(`select_related` objects included, database converters applied), or, for a `values_list()`
queryset, into tuples.

Use it only for a lookup that runs on every request and whose shape never changes;
everywhere else a plain queryset reads better.

    _KEY = Prepared(lambda token_hash: ApiKey.objects.filter(key_hash=token_hash)[:1], "text")
    key = _KEY.first(hash_key(raw))
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet
from django.db.models.query import ModelIterable, get_related_populators

M = TypeVar("M", bound=Model)

# What each kind of value is while the SQL is compiled: one no row holds, unique per argument.
_PLACEHOLDERS: dict[str, Callable[[int], Any]] = {
    "text": lambda n: f"\x00prepared-argument-{n}\x00",
    "int": lambda n: -(7_000_000_000_000 + n),
    "datetime": lambda n: datetime(1901, 1, 1, 0, 0, 0, n + 1, tzinfo=UTC),
}


@dataclass
class _Compiled:
    sql: str
    params: list[Any]
    slots: list[int | None]  # per parameter: which argument fills it, or None for a constant
    adapt: list[Callable[[Any], Any]]  # per argument: to the database's value, as its field would
    compiler: Any
    converters: dict[int, Any]
    model: type[Model] | None = None  # None: a values_list() queryset, rows are tuples
    init_list: tuple[str, ...] = ()
    start: int = 0
    end: int = 0
    populators: tuple[Any, ...] = ()
    columns: tuple[int, ...] = ()  # values_list(): the selected column of each field asked for, in order


class Prepared(Generic[M]):
    """`build(*values)` -> a queryset; `all`, `first` (model rows) or `rows` (a `values_list()`
    queryset's tuples) run its compiled SQL with new values.

    Each of `kinds` says what a value is: "text", "int" (a foreign key or an integer) or
    "datetime" (aware). A value must reach the SQL as its field converts it; one that a
    lookup changes (`prompt[:3]`, `__iexact`) is refused when the query is compiled.
    """

    def __init__(self, build: Callable[..., QuerySet[M, Any]], *kinds: str) -> None:
        unknown = set(kinds) - set(_PLACEHOLDERS)
        if unknown:
            raise ValueError(f"Prepared: a value is one of {sorted(_PLACEHOLDERS)}, not {sorted(unknown)}")
        self.build = build
        self.kinds = kinds
        self._compiled: dict[str, _Compiled] = {}
        self._lock = threading.Lock()

    def _compile(self, alias: str) -> _Compiled:
        ops = connections[alias].ops
        marks = [_PLACEHOLDERS[kind](n) for n, kind in enumerate(self.kinds)]
        adapt: list[Callable[[Any], Any]] = [
            ops.adapt_datetimefield_value if kind == "datetime" else _same for kind in self.kinds
        ]
        queryset = self.build(*marks)
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        as_sent = [a(m) for a, m in zip(adapt, marks, strict=True)]
        slots = [as_sent.index(p) if p in as_sent else None for p in params]
        missing = set(range(len(marks))) - {s for s in slots if s is not None}
        if missing:
            raise ValueError(f"Prepared: arguments {sorted(missing)} do not reach the SQL unchanged: {sql}")
        klass_info = compiler.klass_info
        # values_list() gives tuples; otherwise model instances, built as ModelIterable builds them.
        model_rows = issubclass(getattr(queryset, "_iterable_class", ModelIterable), ModelIterable)
        if model_rows and (compiler.annotation_col_map or getattr(queryset, "_known_related_objects", None)):
            raise ValueError("Prepared: model rows with annotations or known related objects are not supported")
        select = compiler.select
        compiled = _Compiled(
            sql=sql,
            params=list(params),
            slots=slots,
            adapt=adapt,
            compiler=compiler,
            converters=compiler.get_converters([column[0] for column in select]),
        )
        if model_rows:
            fields = klass_info["select_fields"]
            compiled.model = klass_info["model"]
            compiled.start, compiled.end = fields[0], fields[-1] + 1
            compiled.init_list = tuple(column[0].target.attname for column in select[compiled.start : compiled.end])
            # Django 5.2 takes three arguments; the type stubs already describe 6.0's fetch_mode.
            compiled.populators = tuple(get_related_populators(klass_info, select, alias))  # type: ignore[call-arg]
        else:
            names = getattr(queryset, "_fields", None) or tuple(compiler.annotation_col_map)
            compiled.columns = tuple(compiler.annotation_col_map[name] for name in names)
        return compiled

    def compiled(self, alias: str = DEFAULT_DB_ALIAS) -> _Compiled:
        compiled = self._compiled.get(alias)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(alias) or self._compile(alias)
                self._compiled[alias] = compiled
        return compiled

    def _execute(self, c: _Compiled, values: tuple[Any, ...], using: str) -> Any:
        if len(values) != len(self.kinds):
            raise TypeError(f"Prepared: {len(self.kinds)} values expected, {len(values)} given")
        sent = [a(v) for a, v in zip(c.adapt, values, strict=True)]
        params = [constant if slot is None else sent[slot] for constant, slot in zip(c.params, c.slots, strict=True)]
        with connections[using].cursor() as cursor:
            cursor.execute(c.sql, params)
            rows: Any = cursor.fetchall()
        return c.compiler.apply_converters(rows, c.converters) if c.converters else rows

    def all(self, *values: Any, using: str = DEFAULT_DB_ALIAS) -> list[M]:
        """The rows for `values`, as model instances (with their `select_related` objects)."""
        c = self.compiled(using)
        if c.model is None:
            raise TypeError("Prepared: a values_list() queryset gives rows(), not model instances")
        found = []
        for row in self._execute(c, values, using):
            obj = c.model.from_db(using, c.init_list, row[c.start : c.end])
            for populator in c.populators:
                populator.populate(row, obj)
            found.append(obj)
        return found  # type: ignore[return-value]  # instances of the queryset's model

    def first(self, *values: Any, using: str = DEFAULT_DB_ALIAS) -> M | None:
        """The first row for `values`, or None."""
        rows = self.all(*values, using=using)
        return rows[0] if rows else None

    def rows(self, *values: Any, using: str = DEFAULT_DB_ALIAS) -> list[tuple[Any, ...]]:
        """A `values_list()` queryset's rows for `values`, as tuples."""
        c = self.compiled(using)
        if c.model is not None:
            raise TypeError("Prepared: a queryset of model rows gives all() or first(), not rows()")
        return [tuple(row[i] for i in c.columns) for row in self._execute(c, values, using)]


def _same(value: Any) -> Any:
    return value
