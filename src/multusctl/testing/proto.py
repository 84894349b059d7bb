"""Just enough Kubernetes protobuf decoding to accept what kubectl >= 1.32 POSTs as protobuf.

kubectl 1.32+ sends typed-client request bodies (SelfSubjectAccessReview for `auth can-i`, the
objects of `kubectl create namespace|serviceaccount|secret|configmap`, ...) as
`application/vnd.kubernetes.protobuf` whatever discovery says, and does not retry the request as
JSON when answered 415 (observed with kubectl 1.32 and 1.33; kubernetes/kubernetes issue 86253
tracks client-go's missing fallback). A real apiserver decodes protobuf for every built-in type,
so this module decodes the envelope (`k8s\\x00` + runtime.Unknown) and the messages of those types
into the dicts a JSON body gives; other types get 415. Responses stay JSON, which kubectl's
Accept header allows.
"""

from __future__ import annotations

import base64
from typing import Any

from multusctl.testing.store import ApiError

MAGIC = b"k8s\x00"
_NOT_TOP_LEVEL = frozenset({"Unknown", "TypeMeta", "ObjectMeta", "Time", "PodStatus", "PodIP", "ObjectReference",
                            "EventSource"})

# message -> field number -> (json name, type, repeated). Types: "string", "int", "bool", "bytes",
# a message name from this table, "map" (map<string,string>) or "mapbytes" (map<string,bytes>, base64 in JSON).
Schema = dict[int, tuple[str, str, bool]]
SCHEMAS: dict[str, Schema] = {
    "Unknown": {1: ("typeMeta", "TypeMeta", False), 2: ("raw", "bytes", False),
                3: ("contentEncoding", "string", False), 4: ("contentType", "string", False)},
    "TypeMeta": {1: ("apiVersion", "string", False), 2: ("kind", "string", False)},
    "ObjectMeta": {1: ("name", "string", False), 2: ("generateName", "string", False),
                   3: ("namespace", "string", False), 5: ("uid", "string", False),
                   6: ("resourceVersion", "string", False), 11: ("labels", "map", False),
                   12: ("annotations", "map", False), 14: ("finalizers", "string", True)},
    "Time": {1: ("seconds", "int", False), 2: ("nanos", "int", False)},  # shown as RFC 3339, see _time
    # core/v1 Pod as client-go's UpdateStatus sends it (multus writes its network-status annotation so);
    # the spec of a status update is ignored by the apiserver, and only these status fields are understood:
    # a body with others is refused (415) rather than stored half-read.
    "Pod": {1: ("metadata", "ObjectMeta", False), 3: ("status", "PodStatus", False)},
    "PodStatus": {1: ("phase", "string", False), 3: ("message", "string", False), 4: ("reason", "string", False),
                  5: ("hostIP", "string", False), 6: ("podIP", "string", False), 9: ("qosClass", "string", False),
                  12: ("podIPs", "PodIP", True), 16: ("hostIPs", "PodIP", True)},
    "PodIP": {1: ("ip", "string", False)},
    # core/v1 Event as client-go's event recorder sends it (multus reports AddedInterface this way)
    "Event": {1: ("metadata", "ObjectMeta", False), 2: ("involvedObject", "ObjectReference", False),
              3: ("reason", "string", False), 4: ("message", "string", False), 5: ("source", "EventSource", False),
              6: ("firstTimestamp", "Time", False), 7: ("lastTimestamp", "Time", False), 8: ("count", "int", False),
              9: ("type", "string", False), 14: ("reportingComponent", "string", False),
              15: ("reportingInstance", "string", False)},
    "ObjectReference": {1: ("kind", "string", False), 2: ("namespace", "string", False), 3: ("name", "string", False),
                        4: ("uid", "string", False), 5: ("apiVersion", "string", False),
                        6: ("resourceVersion", "string", False), 7: ("fieldPath", "string", False)},
    "EventSource": {1: ("component", "string", False), 2: ("host", "string", False)},
    # core/v1 objects `kubectl create <kind>` sends
    "Namespace": {1: ("metadata", "ObjectMeta", False), 2: ("spec", "NamespaceSpec", False)},
    "NamespaceSpec": {1: ("finalizers", "string", True)},
    "ServiceAccount": {1: ("metadata", "ObjectMeta", False), 3: ("imagePullSecrets", "LocalObjectReference", True),
                       4: ("automountServiceAccountToken", "bool", False)},
    "LocalObjectReference": {1: ("name", "string", False)},
    "Secret": {1: ("metadata", "ObjectMeta", False), 2: ("data", "mapbytes", False), 3: ("type", "string", False),
               4: ("stringData", "map", False), 5: ("immutable", "bool", False)},
    "ConfigMap": {1: ("metadata", "ObjectMeta", False), 2: ("data", "map", False),
                  3: ("binaryData", "mapbytes", False), 4: ("immutable", "bool", False)},
    # authorization.k8s.io/v1 (generated.proto)
    "SelfSubjectAccessReview": {1: ("metadata", "ObjectMeta", False), 2: ("spec", "SSARSpec", False)},
    "SSARSpec": {1: ("resourceAttributes", "ResourceAttributes", False),
                 2: ("nonResourceAttributes", "NonResourceAttributes", False)},
    "SubjectAccessReview": {1: ("metadata", "ObjectMeta", False), 2: ("spec", "SARSpec", False)},
    "SARSpec": {1: ("resourceAttributes", "ResourceAttributes", False),
                2: ("nonResourceAttributes", "NonResourceAttributes", False), 3: ("user", "string", False),
                4: ("groups", "string", True), 6: ("uid", "string", False)},
    "ResourceAttributes": {1: ("namespace", "string", False), 2: ("verb", "string", False),
                           3: ("group", "string", False), 4: ("version", "string", False),
                           5: ("resource", "string", False), 6: ("subresource", "string", False),
                           7: ("name", "string", False)},
    "NonResourceAttributes": {1: ("path", "string", False), 2: ("verb", "string", False)},
    "SelfSubjectRulesReview": {1: ("metadata", "ObjectMeta", False), 2: ("spec", "SSRRSpec", False)},
    "SSRRSpec": {1: ("namespace", "string", False)},
    # authentication.k8s.io/v1
    "SelfSubjectReview": {1: ("metadata", "ObjectMeta", False)},
    "TokenReview": {1: ("metadata", "ObjectMeta", False), 2: ("spec", "TokenReviewSpec", False)},
    "TokenReviewSpec": {1: ("token", "string", False), 2: ("audiences", "string", True)},
    "TokenRequest": {1: ("metadata", "ObjectMeta", False), 2: ("spec", "TokenRequestSpec", False)},
    "TokenRequestSpec": {1: ("audiences", "string", True), 3: ("boundObjectRef", "BoundObjectReference", False),
                         4: ("expirationSeconds", "int", False)},
    "BoundObjectReference": {1: ("kind", "string", False), 2: ("apiVersion", "string", False),
                             3: ("name", "string", False), 4: ("uid", "string", False)},
}


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise ValueError("truncated varint")
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def _fields(data: bytes) -> list[tuple[int, int, Any]]:
    """(field number, wire type, raw value) of one message."""
    out = []
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        num, wire = key >> 3, key & 7
        if wire == 0:
            val, pos = _varint(data, pos)
        elif wire == 2:
            size, pos = _varint(data, pos)
            val, pos = data[pos:pos + size], pos + size
        elif wire == 1:
            val, pos = data[pos:pos + 8], pos + 8
        elif wire == 5:
            val, pos = data[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        out.append((num, wire, val))
    return out


# Messages whose unknown fields are refused instead of dropped: dropping one would store a wrong object.
STRICT = frozenset({"PodStatus"})


def _time(value: dict[str, Any]) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(int(value.get("seconds", 0)), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def decode_message(data: bytes, message: str) -> dict[str, Any]:
    schema = SCHEMAS[message]
    out: dict[str, Any] = {}
    for num, _wire, raw in _fields(data):
        if num not in schema:
            # gogo-protobuf writes every non-pointer string and int field, empty or zero: only a value counts.
            if message in STRICT and raw not in (b"", 0):
                raise ApiError(415, "UnsupportedMediaType", f"this test server does not decode field {num} of a "
                               f"protobuf {message}; send JSON")
            continue
        name, typ, repeated = schema[num]
        value: Any
        if typ == "string":
            value = raw.decode()
        elif typ == "bytes":
            value = raw
        elif typ == "int":
            value = raw - (1 << 64) if raw >= 1 << 63 else raw
        elif typ == "bool":
            value = bool(raw)
        elif typ in ("map", "mapbytes"):
            entry = {n: v for n, _w, v in _fields(raw)}
            key, val = entry.get(1, b"").decode(), entry.get(2, b"")
            out.setdefault(name, {})[key] = base64.b64encode(val).decode() if typ == "mapbytes" else val.decode()
            continue
        elif typ == "Time":
            value = _time(decode_message(raw, typ))
        else:
            value = decode_message(raw, typ)
        if repeated:
            out.setdefault(name, []).append(value)
        else:
            out[name] = value
    return out


def decode_body(body: bytes, status_update: bool = False) -> dict[str, Any]:
    """A protobuf request body as the equivalent JSON object; 415 for types not in the table. A Pod is
    decoded only for a status update, whose spec the apiserver ignores (its schema here has no spec)."""
    if not body.startswith(MAGIC):
        raise ApiError(400, "BadRequest", "the body of the request was not a Kubernetes protobuf envelope")
    try:
        unknown = decode_message(body[len(MAGIC):], "Unknown")
        type_meta = unknown.get("typeMeta", {})
        kind = type_meta.get("kind", "")
        if kind not in SCHEMAS or kind in _NOT_TOP_LEVEL:
            raise ApiError(415, "UnsupportedMediaType",
                           f"the body of the request was in an unknown format - accepted media types include: "
                           f"application/json, application/yaml (this test server decodes protobuf only for "
                           f"reviews, tokens, Namespaces, ServiceAccounts, Secrets, ConfigMaps, Pod status updates and "
                           f"Events, not "
                           f"{kind or 'this type'})")
        if kind == "Pod" and not status_update:
            raise ApiError(415, "UnsupportedMediaType", "this test server decodes a protobuf Pod only for a "
                           "status update; send JSON")
        obj = decode_message(unknown.get("raw", b""), kind)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "BadRequest", f"the body of the request could not be decoded: {exc}") from None
    return {"apiVersion": type_meta.get("apiVersion", ""), "kind": kind, **obj}
