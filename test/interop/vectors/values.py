"""Writes values.json: what a Nameko 2.14 service on CPython does with the values of
docs/nameko-wire.md, Values. Run with CPython 3.11: python3 values.py > values.json

Nameko's reply step is reproduced from docs/nameko-wire.md (RPC replies, Error object): the
result is trial-serialized with json.dumps; if that raises anything, the error is
UnserializableValueError(result) whose text holds repr(result), or "[__repr__ failed]";
serialize() makes exc_args and str(exc) JSON-safe, "[__unicode__ failed]" when str() raises.
"""
import json
import sys


def safe(value):
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return {safe(k): safe(v) for k, v in value.items()}
    try:
        items = iter(value)
    except TypeError:
        pass
    else:
        return [safe(v) for v in items]
    try:
        return str(value)
    except Exception:
        return "[__unicode__ failed]"


def serialize(exc):
    cls = type(exc)
    return {
        "exc_type": cls.__name__,
        "exc_path": f"{cls.__module__}.{cls.__name__}",
        "exc_args": [safe(a) for a in exc.args],
        "value": safe(exc),
    }


class UnserializableValueError(Exception):
    def __init__(self, value):
        try:
            self.repr_value = repr(value)
        except Exception:
            self.repr_value = "[__repr__ failed]"
        super().__init__()

    def __str__(self):
        return f"Unserializable value: `{self.repr_value}`"


UnserializableValueError.__module__ = "nameko.exceptions"


class MalformedRequest(Exception):
    pass


MalformedRequest.__module__ = "nameko.exceptions"


def reply(result=None, exc=None):
    error = serialize(exc) if exc is not None else None
    try:
        json.dumps(result)
    except Exception:
        error = serialize(UnserializableValueError(result))
        result = None
    return json.dumps({"result": result, "error": error})


class Point:
    """An object of a class json does not know; its repr is given so the text is stable."""

    def __init__(self):
        self.x = 1
        self.y = 2

    def __repr__(self):
        return "<Point object>"


class Unprintable(Exception):
    def __str__(self):
        raise ValueError("no message")


Unprintable.__module__ = "specsvc"


def nested(depth):
    value = []
    for _ in range(depth - 1):
        value = [value]
    return value


def cyclic():
    value = []
    value.append(value)
    return value


def first_failing_depth(call, frames=0):
    """Smallest n for which call(n) raises RecursionError, with `frames` extra frames on the stack."""
    if frames:
        return first_failing_depth(call, frames - 1)
    n = 900
    while True:
        try:
            call(n)
        except RecursionError:
            return n
        n += 1


def loads_nested(n):
    json.loads("[" * n + "]" * n)


def raised(fn):
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 - every exception is what Nameko would serialize
        return exc
    raise AssertionError("expected an exception")


def body_error(body):
    data = json.loads(body)
    exc = raised(lambda: (data["args"], data["kwargs"]))
    ours = MalformedRequest(f"Message body must be a JSON object, not {type(data).__name__}")
    return {"body": body, "nameko_error": serialize(exc), "error": serialize(ours)}


vectors = {
    "description": (
        "What a Nameko 2.14 service on CPython %d.%d.%d does with the values of "
        "docs/nameko-wire.md, Values; written by values.py." % sys.version_info[:3]
    ),
    "replies": [
        {"name": "an object json does not know", "body": reply(Point())},
        {"name": "a set", "body": reply({1, 2})},
        {"name": "the float -0.0", "body": reply(-0.0)},
        {"name": "a list nested 1000 levels", "body": reply(nested(1000))},
        {"name": "a list that contains itself", "body": reply(cyclic())},
        {"name": "a result nested 899 levels", "body": reply(nested(899))},
        {"name": "an exception whose str() raises", "body": reply(exc=Unprintable())},
    ],
    "decoding": [
        {"text": "-0.0", "type": type(json.loads("-0.0")).__name__, "repr": repr(json.loads("-0.0"))},
        {"text": "-0", "type": type(json.loads("-0")).__name__, "repr": repr(json.loads("-0"))},
        {"text": "-0e0", "type": type(json.loads("-0e0")).__name__, "repr": repr(json.loads("-0e0"))},
    ],
    "nesting": {
        "loads_fails_at_from_a_script": first_failing_depth(loads_nested),
        "loads_fails_at_with_25_more_frames": first_failing_depth(loads_nested, 25),
        "dumps_of_1000_levels_raises": type(raised(lambda: json.dumps(nested(1000)))).__name__,
    },
    "non_object_bodies": [body_error(b) for b in ["[1, 2]", "null", '"x"']],
}

print(json.dumps(vectors, indent=2))
