"""One mechanism maps every model to InvoiceBox's camelCase JSON and back.

Each attribute declared with ``metadata=json_meta(...)`` carries a :class:`JsonSpec` (its JSON
key — camelCase of the attribute name unless given — and a :class:`Codec` for its value), and
:class:`JsonModel` turns any such class into JSON and back. No model writes its own mapping.

Writing (``to_json``) gives the API's keys: ``None`` values are left out, ``Decimal`` stays
``Decimal`` (``jsonutil.dumps`` writes it as a number), date-times are ATOM in whole seconds
(``2024-07-01T09:00:00+00:00``), dates ``YYYY-MM-DD``.

Reading (``from_json``) is lenient, because it reads what the server sends: missing keys are
fine, unknown keys are kept in ``extra`` and written back, a key that was ``null`` is written back
as ``null`` — so ``from_json(x).to_json() == x`` — and nothing is derived or refused beyond what
cannot be converted. Models built in code convert their values with the same codecs and refuse
what is not convertible (a float amount, ``"abc"`` as a quantity) with a typed error naming the
field; the rules themselves are checked by ``validate()`` (:mod:`invoicebox_flow.rulebook`).
"""

from __future__ import annotations

import contextvars
import copy
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, ClassVar, Self, cast

import attrs

from ..errors import ValidationError
from ..rulebook.catalogue import EXPIRATION, TYPE
from ..rulebook.findings import Rule
from ..rulebook.values import number_or_reason, parse_datetime

__all__ = [
    "DATE",
    "DATETIME",
    "DECIMAL",
    "EXPIRATION_DATE",
    "RAW",
    "Codec",
    "JsonModel",
    "JsonSpec",
    "day",
    "decimal_value",
    "expiration",
    "json_field",
    "json_meta",
    "json_specs",
    "list_codec",
    "model_codec",
    "moment",
    "prefixed",
    "reading",
    "wrong",
]

# True while a model is being read from JSON: keep what was sent, derive and refuse nothing.
_READING: contextvars.ContextVar[bool] = contextvars.ContextVar("invoicebox_flow_models_reading", default=False)


def reading() -> bool:
    """True inside ``from_json``: converters are lenient, post-init checks are skipped."""
    return _READING.get()


def wrong(message: str, name: str = "") -> ValidationError:
    """A ``wrong_value`` error whose field name is relative; enclosing readers prefix it."""
    return ValidationError(message, code="wrong_value", fields=[{"name": name, "code": "wrong_value", "message": message}])


def prefixed(error: ValidationError, prefix: str) -> ValidationError:
    """``error`` with its field names placed under ``prefix`` (``amount`` → ``basketItems[0].amount``)."""

    def join(name: str) -> str:
        if not name:
            return prefix
        return prefix + name if name.startswith("[") else f"{prefix}.{name}"

    fields = [dict(f, name=join(f.get("name", ""))) for f in error.fields] or [
        {"name": prefix, "code": error.code, "message": error.message}]
    message = error.message if error.message.startswith(prefix) else f"{prefix}: {error.message}"
    return type(error)(message, code=error.code, fields=fields)


# --- codecs: how one kind of value is read and written ---------------------------------------


@attrs.frozen
class Codec:
    """How one kind of value is read from JSON (``load``) and written to it (``dump``)."""

    load: Callable[[Any], Any]
    dump: Callable[[Any], Any]


def _plain_copy(value: Any) -> Any:
    return copy.deepcopy(value) if isinstance(value, (dict, list)) else value


def decimal_value(value: Decimal | int | str | None) -> Decimal | None:
    """Converter of numeric attributes: a finite ``Decimal`` (never from a float)."""
    if value is None:
        return None
    number = number_or_reason(value)
    if isinstance(number, str):
        raise wrong(number)
    return number


def _moment(value: Any, rule: Rule, *, lenient: bool) -> datetime | None:
    if value is None:
        return None
    if lenient and reading():
        # servers have sent date-times without an offset: they are UTC
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value.strip())
            except ValueError:
                raise wrong(f"expected an ATOM date-time like 2024-07-01T09:00:00+00:00, got {value!r}") from None
        if isinstance(value, datetime) and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
    try:
        return parse_datetime(value, field="", rule=rule)
    except ValidationError as error:
        message = error.message.removeprefix(": ")
        raise type(error)(message, code=error.code, fields=[{"name": "", "code": error.code, "message": message}]) from None


def moment(value: datetime | str | None) -> datetime | None:
    """Converter of date-time attributes: aware; built in code, a naive one is refused (which
    zone was meant cannot be guessed); read from JSON, one without offset is UTC."""
    return _moment(value, TYPE, lenient=True)


def expiration(value: datetime | str | None) -> datetime | None:
    """A request's ``expirationDate``: aware, refused with ``wrong_expiration_date`` otherwise —
    even when read from JSON, since a request is the shop's own (the sandbox refuses the same)."""
    return _moment(value, EXPIRATION, lenient=False)


def day(value: date | str | None) -> date | None:
    """Converter of date attributes (``serviceDate``, ``documentDate``)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise wrong(f"expected a date like 2024-07-05, got {value!r}") from None
    raise wrong(f"expected a date, got {value!r}")


def _atom(value: datetime) -> str:
    return value.isoformat(timespec="seconds")  # ATOM: whole seconds, as the SDK writes them


RAW = Codec(load=_plain_copy, dump=_plain_copy)
DECIMAL = Codec(load=decimal_value, dump=lambda v: v)
DATETIME = Codec(load=moment, dump=_atom)
EXPIRATION_DATE = Codec(load=expiration, dump=_atom)
DATE = Codec(load=day, dump=lambda v: v.isoformat())


def model_codec(load: Callable[[Any], Any]) -> Codec:
    return Codec(load=load, dump=lambda v: v.to_json())


def list_codec(item: Codec) -> Codec:
    def load(value: Any) -> list[Any]:
        if not isinstance(value, list):
            raise wrong(f"expected a list, got {type(value).__name__}")
        out = []
        for index, element in enumerate(value):
            try:
                out.append(item.load(element))
            except ValidationError as error:
                raise prefixed(error, f"[{index}]") from None
        return out

    return Codec(load=load, dump=lambda v: [item.dump(x) for x in v])


@attrs.frozen
class JsonSpec:
    codec: Codec
    key: str | None = None  # JSON key; None: camelCase of the attribute name


def json_meta(codec: Codec = RAW, key: str | None = None) -> dict[Any, Any]:
    """``attrs.field(metadata=...)`` of an attribute that is written to and read from JSON."""
    return {JsonSpec: JsonSpec(codec=codec, key=key)}


def json_field(*, codec: Codec = RAW, key: str | None = None, **kwargs: Any) -> Any:
    """``attrs.field(metadata=json_meta(codec, key), **kwargs)``, for models of one's own.

    The models here spell ``attrs.field(..., metadata=json_meta(...))`` out instead: type checkers
    recognise ``attrs.field`` and so see the fields, their defaults and their converters.
    """
    metadata = dict(kwargs.pop("metadata", {}))
    metadata.update(json_meta(codec, key))
    return attrs.field(metadata=metadata, **kwargs)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


_SPECS: dict[type, tuple[tuple[attrs.Attribute[Any], str, JsonSpec], ...]] = {}


def json_specs(cls: type) -> tuple[tuple[attrs.Attribute[Any], str, JsonSpec], ...]:
    """The JSON fields of a model class with their keys, worked out once per class (a model's
    fields never change, and every read and write of it walks them)."""
    specs = _SPECS.get(cls)
    if specs is None:
        specs = _SPECS[cls] = tuple((field, spec.key or _camel(field.name), spec) for field in attrs.fields(cls)
                                    if (spec := field.metadata.get(JsonSpec)) is not None)
    return specs


# read_fields' plans, by class and attributes asked for: (attribute, JSON key, the codec's load)
_FIELD_PLANS: dict[tuple[type, tuple[str, ...]], tuple[tuple[str, str, Callable[[Any], Any]], ...]] = {}


_PLANS: dict[type, tuple[tuple[tuple[str, str, Callable[[Any], Any] | None], ...], frozenset[str]]] = {}


def _reading_plan(cls: type) -> tuple[tuple[tuple[str, str, Callable[[Any], Any] | None], ...], frozenset[str]]:
    """How ``from_json`` reads a model class: (argument, JSON key, the codec's load or None where
    the attribute's converter is that same function and will run anyway), and the keys it knows."""
    plan = _PLANS.get(cls)
    if plan is None:
        specs = json_specs(cls)
        steps = tuple((field.alias or field.name, key,
                       None if spec.codec.load is cast(Any, field.converter) else spec.codec.load)
                      for field, key, spec in specs)
        known = frozenset(key for _, key, _ in specs) | ({"type"} if getattr(cls, "JSON_TYPE", None) is not None else set())
        plan = _PLANS[cls] = (steps, known)
    return plan


def _read_value(load: Callable[[Any], Any] | None, value: Any, key: str) -> Any:
    """A value (not None) read from JSON key ``key`` by a plan's ``load``: None leaves it to the
    attribute's converter, a plain one is copied where it is a container; what ``load`` refuses
    is a typed error under ``key``."""
    if load is None:
        return value
    if load is _plain_copy:
        return copy.deepcopy(value) if isinstance(value, (dict, list)) else value
    try:
        return load(value)
    except ValidationError as error:
        raise prefixed(error, key) from None


def _dict(value: Mapping[str, Any] | None) -> dict[str, Any]:
    return dict(value or {})


# --- the generic model -----------------------------------------------------------------------


@attrs.frozen(kw_only=True, repr=False)
class JsonModel:
    """Base of every model: camelCase JSON both ways, unknown keys kept in ``extra``."""

    # A fixed ``"type"`` key written first and consumed on reading (customers use it).
    JSON_TYPE: ClassVar[str | None] = None

    extra: dict[str, Any] = attrs.field(factory=dict, converter=_dict)
    # JSON keys that were explicitly null when read, so that writing gives them back as null.
    _json_nulls: frozenset[str] = attrs.field(factory=frozenset, repr=False, eq=False, converter=frozenset)

    @classmethod
    def _name_error(cls, kwargs: Mapping[str, Any], error: ValidationError) -> ValidationError:
        """Which argument the constructor could not convert: ``error`` under that field's JSON key."""
        for field, key, _ in json_specs(cls):
            alias = field.alias or field.name
            if alias in kwargs and field.converter is not None:
                try:
                    field.converter(kwargs[alias])  # type: ignore[operator]
                except ValidationError as again:
                    return prefixed(again, key)
        return error

    def _json_type(self) -> tuple[bool, Any]:
        """Whether to write a ``type`` key, and its value."""
        return self.JSON_TYPE is not None, self.JSON_TYPE

    @classmethod
    def _read_type(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        """Extra constructor arguments recording the ``type`` that was read (customers)."""
        return {}

    def to_json(self) -> dict[str, Any]:
        """The API's camelCase JSON object (``Decimal`` numbers; dump with ``jsonutil.dumps``)."""
        out: dict[str, Any] = {}
        write_type, kind = self._json_type()
        if write_type:
            out["type"] = kind
        for field, key, spec in json_specs(type(self)):
            value = getattr(self, field.name)
            if value is None:
                if key in self._json_nulls:
                    out[key] = None
                continue
            out[key] = spec.codec.dump(value)
        for key, value in self.extra.items():
            out.setdefault(key, _plain_copy(value))  # a known field always wins over a stray copy
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        """Read a server object leniently: missing keys become ``None``, unknown ones go to ``extra``."""
        if not isinstance(data, Mapping):
            raise wrong(f"{cls.__name__}: expected a JSON object, got {type(data).__name__}")
        plan, known = _reading_plan(cls)
        token = _READING.set(True)
        try:
            kwargs: dict[str, Any] = {}
            nulls = set()
            for name, key, load in plan:
                value = data.get(key)
                if value is None:
                    if key in data:
                        nulls.add(key)
                else:
                    value = _read_value(load, value, key)
                kwargs[name] = value
            kwargs["extra"] = {} if known.issuperset(data) else {
                key: _plain_copy(value) for key, value in data.items() if key not in known}
            kwargs["json_nulls"] = nulls
            kwargs.update(cls._read_type(data))
            return cls(**kwargs)
        finally:
            _READING.reset(token)

    @classmethod
    def read_fields(cls, data: Mapping[str, Any], names: Iterable[str]) -> dict[str, Any]:
        """Some attributes of the model, read from ``data`` exactly as :meth:`from_json` reads
        them (leniently; an unconvertible value is a typed error naming its key), without
        building the model: for a reader that needs a few fields of a large object."""
        if not isinstance(data, Mapping):
            raise wrong(f"{cls.__name__}: expected a JSON object, got {type(data).__name__}")
        names = tuple(names)
        plan = _FIELD_PLANS.get((cls, names))
        if plan is None:
            specs = {field.name: (key, spec) for field, key, spec in json_specs(cls)}
            plan = _FIELD_PLANS[cls, names] = tuple((name, specs[name][0], specs[name][1].codec.load) for name in names)
        token = _READING.set(True)
        try:
            out: dict[str, Any] = {}
            for name, key, load in plan:
                value = data.get(key)
                out[name] = None if value is None else _read_value(load, value, key)
            return out
        finally:
            _READING.reset(token)

    def __repr__(self) -> str:
        # Only what is set, ``extra`` last: a request with three basket lines stays readable.
        parts = []
        for field in attrs.fields(type(self)):
            if not field.repr or field.name == "extra":
                continue
            value = getattr(self, field.name)
            if value is not None:
                parts.append(f"{field.name}={value!r}")
        if self.extra:
            parts.append(f"extra={self.extra!r}")
        return f"{type(self).__name__}({', '.join(parts)})"
