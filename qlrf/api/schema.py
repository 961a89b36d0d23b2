"""The OpenAPI schema's error answers, attached once for every operation instead of per view.

``ErrorSerializer`` is the body ``qlrf.api.exceptions`` writes for every failure. ``ErrorAwareAutoSchema`` adds to
each operation the error statuses it can produce, derived from what the operation is: authenticated → 401/403; path
parameters (or an ``organization`` query parameter outside a filterset) → 404; query parameters or a write → 400; a
request body → 413/415/422; a write → 409; throttled → 429; with a request time budget → 503. Statuses a view
documents itself keep their description; only their missing body is filled in. It also marks read-only fields read
through a nullable model field as nullable, and pages only real lists (not an object's action answering a list, nor
a write).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers
from rest_framework.permissions import AllowAny


class ErrorItemSerializer(serializers.Serializer):
    path = serializers.CharField(help_text="JSON pointer of the fault (``/query/<name>`` for a query parameter)")
    code = serializers.CharField()
    detail = serializers.CharField()
    line = serializers.IntegerField(required=False, allow_null=True, help_text="line in the submitted document")


class ErrorSerializer(serializers.Serializer):
    """Every 4xx body: a stable ``code``, a human ``detail`` and, for bad input, one entry per fault."""

    code = serializers.CharField()
    detail = serializers.CharField()
    errors = ErrorItemSerializer(many=True, required=False)


ERROR_DESCRIPTIONS = {
    "400": "bad input (query parameter, body field or nesting too deep); `errors` locates each fault",
    "401": "no or invalid credentials",
    "403": "authenticated, but the role does not grant this action",
    "404": "no such object among those the caller can see (another organisation's object is the same 404)",
    "409": "conflicts with the current state (object in use, immutable, already exists)",
    "413": "body larger than the limit (code too_large / payload_too_large)",
    "415": "unsupported Content-Type",
    "422": "a well-formed but invalid document; `errors` locates each fault",
    "429": "too many requests",
    "503": "the request did not finish within its time budget (code time_budget_exceeded; see Retry-After)",
}
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _source_is_nullable(field) -> bool:
    """Whether a read-only serializer field reads through a nullable model field (``parent``, ``actor`` …)."""
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    for attr in getattr(field, "source_attrs", None) or []:
        if model is None:
            return False
        try:
            model_field = model._meta.get_field(attr)
        except FieldDoesNotExist:
            return False
        if model_field.null:
            return True
        model = model_field.related_model
    return False


class ErrorAwareAutoSchema(AutoSchema):
    def _get_serializer_field_meta(self, field, direction):
        meta = super()._get_serializer_field_meta(field, direction)
        if field.read_only and not meta.get("nullable") and _source_is_nullable(field):
            meta["nullable"] = True
        return meta

    def _is_detail_action(self) -> bool:
        return bool(getattr(self.view, "detail", False)) and getattr(self.view, "action", None) != "retrieve"

    def _get_paginator(self):
        # Lists answered by an object's action (history, a revocation's versions) or by a write are not paged.
        if self._is_detail_action() or self.method != "GET":
            return None
        return super()._get_paginator()

    def get_filter_backends(self):
        if self._is_detail_action() or self.method != "GET":
            return []
        return super().get_filter_backends()

    def _error_statuses(self, operation: dict) -> list[str]:
        statuses = []
        if not all(isinstance(p, AllowAny) for p in self.view.get_permissions()):
            statuses += ["401", "403"]
        parameters = operation.get("parameters", [])
        has_body = "requestBody" in operation
        if any(p.get("in") == "query" for p in parameters) or self.method in WRITE_METHODS:
            statuses.append("400")
        names_organization = not getattr(self.view, "filterset_class", None) and any(
            (p.get("in"), p.get("name")) == ("query", "organization") for p in parameters
        )
        if names_organization or any(p.get("in") == "path" for p in parameters):
            statuses.append("404")
        if self.method in WRITE_METHODS:
            statuses.append("409")
        if has_body:
            statuses += ["413", "415", "422"]
        if self.view.get_throttles():
            statuses.append("429")
        if getattr(settings, "QLRF_REQUEST_TIME_BUDGET_SECONDS", 0):
            statuses.append("503")  # qlrf.request_budget: any operation that outlives its budget
        return statuses

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation["responses"]
        for status in self._error_statuses(operation):
            documented = responses.get(status, {})
            if "content" in documented:
                continue
            error = self._get_response_for_code(ErrorSerializer, status, media_types=["application/json"])
            error["description"] = documented.get("description") or ERROR_DESCRIPTIONS[status]
            responses[status] = error
        operation["responses"] = dict(sorted(responses.items()))
        return operation
