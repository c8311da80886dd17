"""A one-row ORM lookup compiled to SQL once and run many times.

Django compiles a QuerySet into SQL each time it is evaluated. For the lookup
behind every authenticated API request (the token's session with its user,
``select_related``) that compilation costs about ten times the query itself:
0.4 ms against 0.04 ms on the 2-core bench machine (README, "Benchmark").

``CompiledLookup`` builds the QuerySet once per database connection with a
stand-in value, finds where that value sits among the SQL parameters, and
from then on only swaps in the real value (prepared by the same model field)
and runs the SQL. Rows become model instances the way Django's own
``ModelIterable`` makes them: the database's converters, then ``from_db`` for
the model and for each ``select_related`` model. The result is what
``build(value).first()`` would give, minus the ORDER BY.

The plan leans on Django internals (the compiler's ``klass_info``,
``get_related_populators``). If a Django upgrade changes them so that no plan
can be built, the lookup logs it once and runs the plain ORM query from then
on: an upgrade may cost speed, never correctness.

A lookup whose QuerySet locks its row (``select_for_update``) reads from the
database that takes the writes and refuses to run outside a transaction, as
Django's own does — checked on every call, where Django checks only when it
compiles the query, which here happens once per connection.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model, QuerySet
from django.db.models.query import get_related_populators
from django.db.transaction import TransactionManagementError

M = TypeVar("M", bound=Model)

logger = logging.getLogger("authsite.compiled")

# In place of a plan: this connection runs the plain ORM query.
_ORM = object()


@dataclass(frozen=True)
class _Plan:
    sql: str
    params: tuple[Any, ...]
    slot: int  # where the looked-up value goes among ``params``
    converters: list[tuple[int, list[Callable], Any]]
    model: type[Model]
    init_list: list[str]
    start: int
    end: int
    related: list[Any]  # django.db.models.query.RelatedPopulator


class CompiledLookup(Generic[M]):
    """``build(value)`` is a QuerySet of ``model`` that filters ``field`` on
    ``value`` (and may add fixed filters and ``select_related``); ``get(value)``
    runs it and returns the first row's instance, or None."""

    def __init__(
        self,
        model: type[M],
        field: Field,
        build: Callable[[Any], QuerySet[M]],
        stand_in: Any,
    ) -> None:
        self.model = model
        self.field = field
        self.build = build
        self.stand_in = stand_in
        # Connections are per thread; a plan holds converters bound to one.
        self._plans: weakref.WeakKeyDictionary[BaseDatabaseWrapper, _Plan | object] = (
            weakref.WeakKeyDictionary()
        )
        self._fallback_logged = False
        # Whether ``build`` locks the row (``select_for_update``): learnt on
        # the first ``get``, when the models are surely loaded.
        self._for_update: bool | None = None

    def get(self, value: Any) -> M | None:
        for_update = self._for_update
        if for_update is None:
            for_update = self._for_update = bool(self.build(self.stand_in).query.select_for_update)
        if for_update:
            # As Django's select_for_update(): the database that takes the
            # writes, and never in autocommit, where the lock would end with
            # the statement. Checked on every call: Django checks when it
            # compiles, which a plan does once per connection.
            alias = router.db_for_write(self.model)
            connection = connections[alias]
            if connection.get_autocommit():
                raise TransactionManagementError(
                    "select_for_update cannot be used outside of a transaction."
                )
        else:
            alias = router.db_for_read(self.model)
            connection = connections[alias]
        plan = self._plans.get(connection)
        if plan is None:
            plan = self._plans[connection] = self._plan_or_orm(alias, connection)
        if plan is _ORM:
            return self.build(value).using(alias).order_by().first()
        assert isinstance(plan, _Plan)
        params = list(plan.params)
        params[plan.slot] = self.field.get_db_prep_value(value, connection, prepared=False)
        with connection.cursor() as cursor:
            cursor.execute(plan.sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        if plan.converters:
            row = list(row)
            for pos, converters, expression in plan.converters:
                for converter in converters:
                    row[pos] = converter(row[pos], expression, connection)
        obj = plan.model.from_db(alias, plan.init_list, row[plan.start : plan.end])
        for populator in plan.related:
            populator.populate(row, obj)
        return obj  # type: ignore[return-value]

    def _plan_or_orm(self, alias: str, connection: BaseDatabaseWrapper) -> _Plan | object:
        try:
            return self._compile(alias, connection)
        except Exception:
            if not self._fallback_logged:
                self._fallback_logged = True
                logger.warning(
                    "No compiled plan for the %s lookup; running the ORM query instead.",
                    self.model._meta.label,
                    exc_info=True,
                )
            return _ORM

    def _compile(self, alias: str, connection: BaseDatabaseWrapper) -> _Plan:
        queryset = self.build(self.stand_in).order_by()[:1]
        compiler = queryset.query.get_compiler(using=alias, connection=connection)
        sql, params = compiler.as_sql()
        marker = self.field.get_db_prep_value(self.stand_in, connection, prepared=False)
        slots = [i for i, param in enumerate(params) if param == marker]
        if len(slots) != 1:
            raise ValueError(f"the stand-in value must appear once in the parameters: {params!r}")
        select = compiler.select
        klass_info = compiler.klass_info
        fields = klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        converters = compiler.get_converters([col for col, _alias, _sql in select])
        return _Plan(
            sql=sql,
            params=tuple(params),
            slot=slots[0],
            converters=[(pos, convs, expr) for pos, (convs, expr) in converters.items()],
            model=klass_info["model"],
            init_list=[f[0].target.attname for f in select[start:end]],
            start=start,
            end=end,
            related=get_related_populators(klass_info, select, alias),
        )
