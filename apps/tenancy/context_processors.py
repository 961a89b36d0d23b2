"""Template context: the organisation switcher."""

from .selectors import current_organization, organization_list


def tenancy(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or request.path.startswith(("/admin/", "/api/")):
        return {}
    return {"organizations": organization_list(user), "current_organization": current_organization(request)}
