"""Instance templates of the GCP connector: which image (or image family) each template's boot disk starts from."""

from __future__ import annotations

from google.api_core import exceptions as api_exceptions
from google.cloud import compute_v1

from .gcp_clients import CallOptions, GcpClients
from .gcp_refs import image_ref_or_empty, normalise_resource_ref, project_of

__all__ = ["TemplateIndex", "template_source_image"]


def template_source_image(template: compute_v1.InstanceTemplate, default_project: str = "") -> str:
    """The canonical boot image reference of a template (may be a family reference; ``""`` when it has none)."""
    boot = next((disk for disk in template.properties.disks if disk.boot), None)
    source = boot.initialize_params.source_image if boot else ""
    return image_ref_or_empty(source, project=project_of(template.self_link) or default_project)


class TemplateIndex:
    """Template ref → boot image ref: the project's global templates are listed once, any other is fetched once."""

    def __init__(self, clients: GcpClients, options: CallOptions, project: str):
        self.clients = clients
        self.options = options
        self.project = project
        self._known: dict[str, str] | None = None

    def source_image(self, template_ref: str) -> str:
        """The boot image reference of the template ``template_ref`` (``""`` when unknown or deleted)."""
        if not template_ref:
            return ""
        if self._known is None:
            pager = self.clients.templates.list(project=self.project, **self.options.kwargs())
            self._known = {normalise_resource_ref(t.self_link): template_source_image(t, self.project) for t in pager}
        if template_ref not in self._known:
            self._known[template_ref] = self._fetch(template_ref)
        return self._known[template_ref]

    def _fetch(self, template_ref: str) -> str:
        parts = template_ref.split("/")
        try:
            if len(parts) == 5 and parts[2] == "global":  # projects/<p>/global/instanceTemplates/<t>
                template = self.clients.templates.get(
                    project=parts[1], instance_template=parts[4], **self.options.kwargs()
                )
            elif len(parts) == 6 and parts[2] == "regions":  # projects/<p>/regions/<r>/instanceTemplates/<t>
                template = self.clients.region_templates.get(
                    project=parts[1], region=parts[3], instance_template=parts[5], **self.options.kwargs()
                )
            else:
                return ""
        except api_exceptions.NotFound:  # a template deleted after the MIG moved on to a newer one
            return ""
        return template_source_image(template, parts[1])
