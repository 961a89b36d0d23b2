"""Report builders: streamed CSV exports, PDF rendering (WeasyPrint, restricted fetcher) and their contexts."""
