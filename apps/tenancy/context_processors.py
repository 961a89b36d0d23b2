"""Template context: the organisation switcher, and failed background tasks for those who may see them."""

from .selectors import current_organization, organization_list


def tenancy(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or request.path.startswith(("/admin/", "/api/")):
        return {}
    return {"organizations": organization_list(user), "current_organization": current_organization(request)}


FAILED_TASKS_WINDOW_HOURS = 24


def failed_tasks(request):
    """How many background tasks failed in the last day, for users who may read django-q2's failures in the admin.

    Failures are the installation's, not one organisation's (their arguments and errors can name any tenant), so the
    count is shown only to holders of ``django_q.view_failure`` (superusers, and whoever the operator grants it).
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or request.path.startswith(("/admin/", "/api/")):
        return {}
    if not user.has_perm("django_q.view_failure"):
        return {}
    import datetime

    from django.utils import timezone
    from django_q.models import Failure

    since = timezone.now() - datetime.timedelta(hours=FAILED_TASKS_WINDOW_HOURS)
    return {"failed_tasks": Failure.objects.filter(stopped__gte=since).count()}
