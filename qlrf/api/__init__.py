"""API plumbing shared by every app: base viewsets, errors, pagination, the /api/v1/ router."""
