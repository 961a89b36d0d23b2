from rest_framework.pagination import LimitOffsetPagination


class StandardPagination(LimitOffsetPagination):
    """``?limit=&offset=`` with a sane ceiling."""

    default_limit = 50
    max_limit = 1000
