"""spdx-tools' SPDX 2.x tag-value grammar, with the two costs that made it unusable on a real document removed.

* Its licence rule calls ``license_expression.get_spdx_licensing()`` for every licence line, which rebuilds the whole
  SPDX licence index each time (~0.1 s): 1,000 packages took minutes, a distribution's SBOM most of an hour. The
  rule here parses with the licensing object spdx-tools itself builds once (``spdx_tools.common.spdx_licensing``,
  the one its JSON parser uses) — the same grammar, the same result.
* PLY generated the LALR tables for every document (~0.1–0.2 s). They are generated once per process into a private
  temporary directory (PLY's own ``picklefile`` cache, checked against the grammar's signature) and read from there.

A fresh parser per document is still needed: spdx-tools keeps the document being built on the parser.
"""

from __future__ import annotations

import os
import tempfile
import threading

from license_expression import ExpressionError
from ply import yacc
from spdx_tools.common.spdx_licensing import spdx_licensing
from spdx_tools.spdx.parser.tagvalue.helper_methods import grammar_rule
from spdx_tools.spdx.parser.tagvalue.parser import Parser

_lock = threading.Lock()
_tables: str | None = None


class _Parser(Parser):
    @grammar_rule("license_or_no_assertion_or_none : LINE")
    def p_license(self, p):
        try:
            p[0] = spdx_licensing.parse(p[1])
        except ExpressionError as err:
            error_message = f"Error while parsing license expression: {p[1]}"
            if err.args:
                error_message += f": {err.args[0]}"
            self.current_element["logger"].append(error_message)


def tag_value_parser() -> Parser:
    """A parser for one document, its tables read from this process's cache (built by the first call)."""
    global _tables
    with _lock:
        if _tables is None:
            path = os.path.join(tempfile.mkdtemp(prefix="qlrf-spdx-tag-value-"), "lalr-tables.pickle")
            _new(path)  # generates and writes the tables while the lock is held: never read half-written
            _tables = path
            return _new(path)
    return _new(_tables)


def _new(tables: str) -> Parser:
    # start: PLY takes the first rule by source line as the start symbol, and the rule above comes from this file.
    return _Parser(write_tables=False, debug=False, errorlog=yacc.NullLogger(), picklefile=tables, start="start")
