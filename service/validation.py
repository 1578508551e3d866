"""Request validation with FastAPI/pydantic v2's 422 error shapes (docs/agentos.md §2).

Errors are collected in declaration order (query parameters first, then the body) and raised
together, exactly like FastAPI reports them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from itertools import accumulate
from typing import Any

from service.errors import ApiError
from service.jsonutil import dumps, loads, without_surrogates
from service.operations import Param
from service.schemas import ENUMS, or_list

_INT = re.compile(r"^[+-]?\d+(?:_\d+)*(?:\.0+)?$")
# Hints that a body may hold a non-finite number: searched one by one, each linear in the body
# (an alternation, or a digit run that may start anywhere, backtracks: docs/reliability.md §9).
_EXPONENT_HINT = re.compile(r"[eE]\+?[0-9]{3}")
_LONG_DIGITS_HINT = re.compile(r"(?<![0-9])[0-9]{300}")
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')  # unrolled: linear, no backtracking
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_BRACKET_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
_INT_PARSING = "Input should be a valid integer, unable to parse string as an integer"
_INT_PARSING_SIZE = "Unable to parse input string as an integer, exceeded maximum size"
MAX_INT_DIGITS = 4300
"""pydantic's (and Python's) bound on the digits of an integer parsed from text."""
_BOOL_TRUE = {"1", "true", "t", "yes", "y", "on"}
_BOOL_FALSE = {"0", "false", "f", "no", "n", "off"}
_SURROGATE = re.compile("[\ud800-\udfff]")
MAX_JSON_DEPTH = 256
UNICODE_MESSAGE = "Input should be a valid string, unable to parse raw data as a unicode string"
BODY_PARSE_ERROR = "There was an error parsing the body"
MISSING = object()


def has_surrogate(text: str) -> bool:
    """Whether a string holds an unpaired surrogate (JSON `"\\ud800"`): not Unicode, so no UTF-8
    encoder (PostgreSQL, the answer) can write it."""
    return not text.isascii() and _SURROGATE.search(text) is not None


def pydantic_error(
    type_: str, loc: list[Any], msg: str, value: Any, ctx: dict[str, Any] | None = None
) -> dict[str, Any]:
    error: dict[str, Any] = {"type": type_, "loc": loc, "msg": msg, "input": value}
    if ctx is not None:
        error["ctx"] = ctx
    return error


class Validator:
    """Collects pydantic-shaped errors; `check()` raises them as one 422."""

    def __init__(self) -> None:
        self.errors: list[dict[str, Any]] = []
        # strings that are not Unicode: reported only when pydantic finds nothing else (for pydantic they
        # are valid strings, so AgentOS's 422s never list them)
        self.unicode_errors: list[dict[str, Any]] = []

    def add(self, type_: str, loc: list[Any], msg: str, value: Any, ctx: dict[str, Any] | None = None) -> None:
        self.errors.append(pydantic_error(type_, loc, msg, value, ctx))

    def check(self) -> None:
        if self.errors:
            # divergence `invalid-unicode-echo`: AgentOS cannot encode an echoed unpaired surrogate (500)
            raise ApiError(422, without_surrogates(self.errors))
        if self.unicode_errors:
            raise ApiError(422, self.unicode_errors)

    # ------------------------------------------------------------ scalar values
    def no_nul(self, loc: list[Any], value: str) -> str:
        # divergence: PostgreSQL text cannot hold NUL; AgentOS answers 500, we answer 422
        if "\x00" in value:
            self.add("string_nul", loc, "String should not contain NUL characters", value)
        return self.unicode(loc, value)

    def unicode(self, loc: list[Any], value: str) -> str:
        # divergence `invalid-unicode`: AgentOS answers 500 (echoing its SQL), we answer 422
        if has_surrogate(value):
            self.unicode_errors.append(pydantic_error("string_unicode", loc, UNICODE_MESSAGE, None))
        return value

    def max_length(self, loc: list[Any], value: str, limit: int) -> str | None:
        """pydantic's `max_length` check (`string_too_long`)."""
        if len(value) <= limit:
            return value
        plural = "" if limit == 1 else "s"
        message = f"String should have at most {limit} character{plural}"
        self.add("string_too_long", loc, message, value, {"max_length": limit})
        return None

    def enum(self, loc: list[Any], value: Any, choices: Sequence[str]) -> Any:
        if value in choices:
            return value
        expected = or_list(f"'{c}'" for c in choices)
        self.add("enum", loc, f"Input should be {expected}", value, {"expected": expected})
        return None

    def integer(self, loc: list[Any], raw: str, ge: int | None = None, le: int | None = None) -> int | None:
        text = raw.strip()
        if not _INT.match(text):
            self.add("int_parsing", loc, _INT_PARSING, raw)
            return None
        whole = text.split(".")[0]
        sign = whole[0] if whole[0] in "+-" else ""
        digits = whole.lstrip("+-").lstrip("0_")
        if len(digits.replace("_", "")) > MAX_INT_DIGITS:
            # pydantic: too many digits is `int_parsing_size` (with underscores Python refuses the text)
            if "_" in digits:
                self.add("int_parsing", loc, _INT_PARSING, raw)
            else:
                self.add("int_parsing_size", loc, _INT_PARSING_SIZE, raw)
            return None
        value = int(sign + (digits or "0"))
        if ge is not None and value < ge:
            self.add("greater_than_equal", loc, f"Input should be greater than or equal to {ge}", raw, {"ge": ge})
            return None
        if le is not None and value > le:
            self.add("less_than_equal", loc, f"Input should be less than or equal to {le}", raw, {"le": le})
            return None
        return value

    def boolean(self, loc: list[Any], raw: str) -> bool | None:
        text = raw.strip().lower()
        if text in _BOOL_TRUE:
            return True
        if text in _BOOL_FALSE:
            return False
        self.add("bool_parsing", loc, "Input should be a valid boolean, unable to interpret input", raw)
        return None

    def param(self, param: Param, raw: str, config: object) -> Any:
        """One sent query value, by its spec (service/operations.py); bounds named by a Config
        attribute are read from `config`."""
        loc: list[Any] = ["query", param.name]
        le, max_length = (getattr(config, b) if isinstance(b, str) else b for b in (param.le, param.max_length))
        if param.type in ENUMS:
            return self.enum(loc, raw, ENUMS[param.type])
        if param.type == "str":
            text = self.no_nul(loc, raw)
            return text if max_length is None else self.max_length(loc, text, max_length)
        if param.type == "bool":
            return self.boolean(loc, raw)
        if param.type != "int":
            return raw
        value = self.integer(loc, raw, param.ge, le)
        if value is not None and param.minimum is not None and value < param.minimum:
            message = f"Input should be greater than or equal to {param.minimum}"
            self.add("greater_than_equal", loc, message, raw, {"ge": param.minimum})
        return value

    # ------------------------------------------------------------ body fields
    def string_field(
        self, body: dict[str, Any], name: str, *, required: bool = False, strip_nul: bool = False
    ) -> str | None:
        """A string field. NUL characters are stripped where agno strips them (names); elsewhere
        (ids, user ids) they are a 422 where AgentOS answers 500 (divergence `nul-characters`)."""
        value = body.get(name, MISSING)
        if value is MISSING or (value is None and not required):
            if required:
                self.add("missing", ["body", name], "Field required", None)
            return None
        if not isinstance(value, str):
            self.add("string_type", ["body", name], "Input should be a valid string", value)
            return None
        if strip_nul:
            return self.unicode(["body", name], value.replace("\x00", ""))
        return self.no_nul(["body", name], value)

    def object_field(self, body: dict[str, Any], name: str) -> dict[str, Any] | None:
        value = body.get(name)
        if value is None:
            return None
        if not isinstance(value, dict):
            self.add("dict_type", ["body", name], "Input should be a valid dictionary", value)
            return None
        cleaned: dict[str, Any] = self.storable_json(["body", name], value)
        return cleaned

    def storable_json(self, loc: list[Any], value: Any) -> Any:
        """JSON as PostgreSQL can store it: like agno, NUL characters are stripped from string values;
        a NUL in an object key is a 422 (AgentOS answers 500 there), an unpaired surrogate anywhere a
        422 `string_unicode` (docs/compatibility.md)."""
        # neither shows in the encoded value in the usual case: one C-speed pass over the text instead
        # of a walk of every item on the event loop
        if isinstance(value, (dict, list)):
            text = dumps(value)
            if "\\u0000" not in text and not has_surrogate(text):
                return value
        return self._walk(loc, value)

    def _walk(self, loc: list[Any], value: Any) -> Any:
        if isinstance(value, str):
            return self.unicode(loc, value.replace("\x00", "") if "\x00" in value else value)
        if isinstance(value, list):
            return [self._walk([*loc, index], item) for index, item in enumerate(value)]
        if isinstance(value, dict):
            if any("\x00" in key for key in value):
                self.add("string_nul", loc, "Object keys should not contain NUL characters", None)
                return value
            if any(has_surrogate(key) for key in value):
                message = "Object keys should be valid unicode strings"
                self.unicode_errors.append(pydantic_error("string_unicode", loc, message, None))
                return value
            return {key: self._walk([*loc, key], item) for key, item in value.items()}
        return value

    def list_field(self, body: dict[str, Any], name: str, item_choices: Sequence[str] | None = None) -> list[Any]:
        value = body.get(name, MISSING)
        loc: list[Any] = ["body", name]
        if value is MISSING:
            self.add("missing", loc, "Field required", body)
            return []
        if not isinstance(value, list):
            self.add("list_type", loc, "Input should be a valid list", value)
            return []
        before = len(self.errors)
        for index, item in enumerate(value):
            if item_choices is not None:
                self.enum([*loc, index], item, item_choices)
            elif not isinstance(item, str):
                self.add("string_type", [*loc, index], "Input should be a valid string", item)
        if len(self.errors) == before and not value:
            message = "List should have at least 1 item after validation, not 0"
            self.add("too_short", loc, message, value, {"field_type": "List", "min_length": 1, "actual_length": 0})
        return value


def read_params(
    v: Validator, params: Iterable[Param], query: Mapping[str, list[bytes]], path: Mapping[str, str], config: object
) -> dict[str, Any]:
    """An operation's parameters by name, each validated (errors into `v`) or its default when not
    sent; query parameters first, in declaration order, then the path ones (FastAPI's error order)."""
    values: dict[str, Any] = {}
    for param in sorted(params, key=lambda p: p.location == "path"):
        if param.location == "path":
            raw = path[param.name]
            values[param.name] = raw if param.type == "raw" else v.no_nul(["path", param.name], raw)
            continue
        sent = [value.decode("utf-8", "replace") for value in query.get(param.name, ())]
        if param.type == "strs":
            values[param.name] = sent
        elif not sent:
            values[param.name] = param.default
        else:  # FastAPI: the last of duplicate values wins
            values[param.name] = v.param(param, sent[-1], config)
    return values


def parse_json_body(raw: bytes, content_type: str | None) -> Any:
    """FastAPI's body reading: JSON when the content type is JSON (or absent), else the raw text.

    Returns MISSING for an empty body. Raises a 422 `json_invalid` like FastAPI for bad JSON.
    """
    if not raw:
        return MISSING
    if content_type:
        main = content_type.split(";", 1)[0].strip().lower()
        if not (main == "application/json" or (main.startswith("application/") and main.endswith("+json"))):
            return raw.decode("utf-8", "replace")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, BODY_PARSE_ERROR) from None
    try:
        value = loads(text)
    except (ValueError, RecursionError, OverflowError):
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            raise _json_invalid(exc.pos, exc.msg) from None
        except (RecursionError, ValueError):
            # ValueError: an integer over 4,300 digits; FastAPI answers any non-syntax failure 400
            raise ApiError(400, BODY_PARSE_ERROR) from None
        raise _json_invalid(0, "Invalid JSON") from None
    if (text.count("[") + text.count("{")) > MAX_JSON_DEPTH and _depth_of_text(text) > MAX_JSON_DEPTH:
        # what AgentOS answers for JSON too deep for its parser (divergence `json-too-deep` below that)
        raise ApiError(400, BODY_PARSE_ERROR)
    if _may_hold_non_finite(text) and _has_non_finite(value):
        message = "JSON contains a non-finite number (NaN, Infinity, out of range)"
        raise ApiError(422, [pydantic_error("value_error", ["body"], message, None)])
    return value


def _json_invalid(position: int, message: str) -> ApiError:
    return ApiError(
        422, [pydantic_error("json_invalid", ["body", position], "JSON decode error", {}, {"error": message})]
    )


def _depth_of_text(text: str) -> int:
    """The nesting depth of valid JSON text: its brackets outside strings, summed up in C-speed passes
    (walking a decoded megabyte of small containers in Python takes most of a second)."""
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    return max(accumulate(map(_BRACKET_STEP.__getitem__, brackets)), default=0)


def _may_hold_non_finite(text: str) -> bool:
    return (
        "NaN" in text
        or "Infinity" in text
        or _EXPONENT_HINT.search(text) is not None
        or _LONG_DIGITS_HINT.search(text) is not None
    )


def _has_non_finite(value: Any) -> bool:
    if isinstance(value, float):
        return value != value or value in (float("inf"), float("-inf"))
    if isinstance(value, dict):
        return any(_has_non_finite(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_non_finite(v) for v in value)
    return False


def body_object(v: Validator, body: Any, *, required: bool) -> dict[str, Any] | None:
    """The body as an object, or a pydantic `missing` / `model_attributes_type` error."""
    if body is MISSING:
        if required:
            v.add("missing", ["body"], "Field required", None)
        return None
    if not isinstance(body, dict):
        v.add(
            "model_attributes_type",
            ["body"],
            "Input should be a valid dictionary or object to extract fields from",
            body,
        )
        return None
    return body
