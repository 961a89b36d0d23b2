"""Request parsers for documents posted as they are (YAML contracts, SBOMs, scan results)."""

from rest_framework.parsers import BaseParser


class RawDocumentParser(BaseParser):
    """Hands the body over as bytes; the service parses and validates it (with its own size limit)."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        return stream.read()


class YamlParser(RawDocumentParser):
    media_type = "application/yaml"


class TextParser(RawDocumentParser):
    media_type = "text/plain"
