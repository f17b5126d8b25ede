"""Querysets of a fixed shape, compiled to SQL once per process and run with new values.

The `/v1` hot path runs the same two or three queries on every call (the key by its hash,
an image by its id for its owner). Django builds and compiles a queryset anew each time:
for these single-row lookups that is about two thirds of the cost, far more than SQLite or
PostgreSQL take to answer. `Prepared` builds the queryset once with placeholder values,
compiles it once per database connection alias, and then only executes the SQL with the
real values and turns rows into model instances exactly as Django's own model iterable
does (`select_related` objects included, database converters applied).

Use it only for a lookup that is called on every request and whose shape never changes;
everywhere else a plain queryset reads better.

    _KEY = Prepared(lambda token_hash: ApiKey.objects.filter(key_hash=token_hash)[:1])
    key = _KEY.first(hash_key(raw))
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators

M = TypeVar("M", bound=Model)


def _placeholder(n: int, kind: str) -> Any:
    """What stands for the n-th argument while the SQL is compiled: a string no row holds for a
    text lookup, a negative integer no row has for a key or an integer."""
    if kind == "int":
        return -(7_000_000_000_000 + n)
    if kind == "text":
        return f"\x00prepared-argument-{n}\x00"
    raise ValueError(f"Prepared: a value is 'text' or 'int', not {kind!r}")


@dataclass
class _Compiled:
    sql: str
    params: list[Any]
    slots: list[int | None]  # per parameter: which argument fills it, or None for a constant
    compiler: Any
    init_list: list[str]
    start: int
    end: int
    populators: list[Any]
    converters: dict[int, Any]


class Prepared(Generic[M]):
    """`build(*values)` -> a queryset of model rows; `first(*values)` runs its compiled SQL.

    Each of `kinds` says what a value is: "text" or "int" (the placeholder must pass through
    the field's own conversion unchanged, so a foreign key or an integer takes "int").
    """

    def __init__(self, build: Callable[..., QuerySet[M]], *kinds: str) -> None:
        self.build = build
        self.kinds = kinds
        self._compiled: dict[str, _Compiled] = {}
        self._lock = threading.Lock()

    def _compile(self, alias: str) -> _Compiled:
        marks = [_placeholder(n, kind) for n, kind in enumerate(self.kinds)]
        queryset = self.build(*marks)
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        slots = [marks.index(p) if p in marks else None for p in params]
        missing = set(range(len(marks))) - {s for s in slots if s is not None}
        if missing:
            raise ValueError(f"Prepared: arguments {sorted(missing)} do not reach the SQL unchanged: {sql}")
        klass_info, select = compiler.klass_info, compiler.select
        if compiler.annotation_col_map or getattr(queryset, "_known_related_objects", None):
            raise ValueError("Prepared: annotations and known related objects are not supported")
        fields = klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        return _Compiled(
            sql=sql,
            params=list(params),
            slots=slots,
            compiler=compiler,
            init_list=[column[0].target.attname for column in select[start:end]],
            start=start,
            end=end,
            # Django 5.2 takes three arguments; the type stubs already describe 6.0's fetch_mode.
            populators=get_related_populators(klass_info, select, alias),  # type: ignore[call-arg]
            converters=compiler.get_converters([column[0] for column in select]),
        )

    def compiled(self, alias: str = DEFAULT_DB_ALIAS) -> _Compiled:
        compiled = self._compiled.get(alias)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(alias) or self._compile(alias)
                self._compiled[alias] = compiled
        return compiled

    def all(self, *values: Any, using: str = DEFAULT_DB_ALIAS) -> list[M]:
        """The rows for `values`, as model instances (with their `select_related` objects)."""
        c = self.compiled(using)
        params = [constant if slot is None else values[slot] for constant, slot in zip(c.params, c.slots, strict=True)]
        with connections[using].cursor() as cursor:
            cursor.execute(c.sql, params)
            rows: Any = cursor.fetchall()
        if c.converters:
            rows = c.compiler.apply_converters(rows, c.converters)
        model = c.compiler.klass_info["model"]
        found = []
        for row in rows:
            obj = model.from_db(using, c.init_list, row[c.start : c.end])
            for populator in c.populators:
                populator.populate(row, obj)
            found.append(obj)
        return found

    def first(self, *values: Any, using: str = DEFAULT_DB_ALIAS) -> M | None:
        """The first row for `values`, or None."""
        rows = self.all(*values, using=using)
        return rows[0] if rows else None
