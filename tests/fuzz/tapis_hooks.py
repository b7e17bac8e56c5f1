"""Schemathesis hooks for tests/fuzz/tapis.sh: what the run adds to tapipy's
Tapis Pods spec, each with its reason, and nothing else.

The spec is FastAPI's generated document: every route lists 200 and 422 only.
The real Pods service never answers 422 (its error handler turns request
validation errors into 400) and answers the Tapis error envelope with 400,
401, 403 and 404 as tapisservice's errors carry them. Berth answers those too,
plus 409 for a taken id. ERROR_STATUSES documents each of them on exactly the
operations where it is a correct answer; any other status (a 5xx, 405, 413,
415, a 404 from an unrouted path, a 409 on a read) stays a failure of
`status_code_conformance`. The added responses carry the error envelope's
schema, so `response_schema_conformance` checks error bodies too.
"""

import re
from urllib.parse import quote

import schemathesis

# The Tapis error envelope, as Berth and the Pods service send it.
ERROR_ENVELOPE = {
    "type": "object",
    "required": ["status", "message", "result", "version", "metadata"],
    "properties": {
        "status": {"const": "error"},
        "message": {"type": "string"},
        "result": {"type": "null"},
        "version": {"type": "string"},
        "metadata": {"type": "object"},
    },
}

# Operations whose answer names no object: nothing to find, refuse or collide with.
PLAIN_LISTS = r"GET /pods(/volumes|/snapshots|/templates|/images)?"
# Operations that make a new object under an id the caller picks.
CREATES = (
    r"POST /pods(/volumes|/snapshots|/templates|/images(/bulk)?)?"
    r"|POST /pods/templates/\{template_id\}/tags"
    r"|POST /pods/\{pod_id_net\}/save_pod_as_template_tag"
)

# (status, operations it is documented on as a full-match regex over
# "METHOD /path", why it is a correct answer there).
ERROR_STATUSES = [
    (
        400,
        r"(?!" + PLAIN_LISTS + r"$).*",
        "bad input: the Pods service answers validation errors with 400 (its "
        "error handler maps RequestValidationError and ValueError to 400); the "
        "spec's 422 is FastAPI's generated default, never sent",
    ),
    (
        403,
        r"(?!" + PLAIN_LISTS + r"$).*",
        "the caller lacks the level (READ < USER < ADMIN) on an object the "
        "request names, or is no administrator where only they may act (the "
        "image allow-list); the Pods service answers PermissionsError with 403",
    ),
    (
        404,
        r".*\{.*",
        "the object a path parameter names does not exist (or the caller may "
        "not see it)",
    ),
    (
        409,
        CREATES,
        "the id to create is taken: a conflict with what exists, not bad input",
    ),
]


def error_response(reason):
    return {
        "description": reason,
        "content": {"application/json": {"schema": ERROR_ENVELOPE}},
    }


def add_error_statuses(raw_schema):
    """Documents ERROR_STATUSES in the loaded spec, where they apply."""
    for path, operations in raw_schema.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in ("get", "put", "post", "delete", "patch"):
                continue
            label = f"{method.upper()} {path}"
            responses = operation.setdefault("responses", {})
            for status, where, reason in ERROR_STATUSES:
                if re.fullmatch(where, label):
                    responses.setdefault(str(status), error_response(reason))


# Bodies that make real objects: random ids seldom fit Berth's
# `[a-z][a-z0-9]+` and random images are not on the allow-list, so without
# them no pod would ever run. Schemathesis sends each once (its examples
# phase) and reuses the ids it gets back in the operations that take them.
EXAMPLES = {
    ("post", "/pods"): {
        "pod_id": "fuzzpod",
        "image": "busybox:latest",
        "command": ["sleep", "3600"],
        "description": "made by tests/fuzz/tapis.sh",
    },
    ("post", "/pods/volumes"): {"volume_id": "fuzzvol", "description": "fuzz"},
}


def type_path_parameters(raw_schema):
    """Types the untyped path parameters (`{"title": "User"}`) as strings.

    FastAPI wrote them without a type because the service's handlers take
    them unannotated; a URL path segment is a string all the same. Untyped,
    schemathesis draws any JSON value for them and drops most (objects, null),
    so its health check stops the fuzzing of those operations.
    """
    for operations in raw_schema.get("paths", {}).values():
        for operation in operations.values():
            for param in operation.get("parameters", []) if isinstance(operation, dict) else []:
                schema = param.get("schema", {})
                if param.get("in") == "path" and "type" not in schema and "$ref" not in schema:
                    schema["type"] = "string"


def allow_unset_fields(raw_schema):
    """Lets the optional fields without a default be null, as sent.

    The service's models declare them `X | None = None` (`command`,
    `arguments`, `time_to_stop_instance`, `time_to_stop_ts`,
    `start_instance_ts`, ...) and send null while unset; FastAPI's generator
    wrote their type without the null. A field with a default, or a required
    one, stays non-null.
    """
    for model in raw_schema.get("components", {}).get("schemas", {}).values():
        required = set(model.get("required", []))
        for name, prop in model.get("properties", {}).items():
            if name in required or "default" in prop or "type" not in prop:
                continue
            types = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
            if "null" not in types:
                prop["type"] = types + ["null"]


# Fields Berth sends that the bundled spec (Pods 1.9.0) predates: the
# current service's pods carry `secret_map` (names only, never values) and
# `template_overrides` (docs/tapis.md, "Secrets and overrides").
NEWER_POD_FIELDS = {
    "secret_map": {"type": "object"},
    "template_overrides": {"type": ["object", "null"]},
}


def add_newer_pod_fields(raw_schema):
    pod = raw_schema["components"]["schemas"]["PodResponseModel"]
    pod["properties"].update(NEWER_POD_FIELDS)


def add_examples(raw_schema):
    for (method, path), body in EXAMPLES.items():
        content = raw_schema["paths"][path][method]["requestBody"]["content"]
        content["application/json"]["example"] = body


def quote_path_values(case):
    """Percent-encodes path parameters schemathesis left unencoded.

    A negative case may give a path parameter as a list or a number, which
    schemathesis puts in the URL as Python writes it, without quoting: a `#`
    in it then cuts the path short and the request reaches another route
    (POST /pods/{id} instead of POST /pods/{id}/save_pod_as_template_tag, a
    405). Strings are already encoded.
    """
    params = case.path_parameters or {}
    for name, value in params.items():
        if not isinstance(value, str):
            params[name] = quote(str(value), safe="")


@schemathesis.hook
def before_load_schema(context, raw_schema):
    add_error_statuses(raw_schema)
    type_path_parameters(raw_schema)
    allow_unset_fields(raw_schema)
    add_newer_pod_fields(raw_schema)
    add_examples(raw_schema)


@schemathesis.hook
def before_call(context, case, **kwargs):
    quote_path_values(case)
