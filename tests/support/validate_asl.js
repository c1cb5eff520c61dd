#!/usr/bin/env node
// Validate many ASL definitions with asl-validator (pinned in package.json) in one node process.
// The test suite batches every definition it makes (examples, golden files, generated DAGs)
// into one call of this script, because starting node per file would cost ~0.3 s each.
//
// Usage:
//   node tests/support/validate_asl.js [--no-arn-check] [--no-path-check] file1.json file2.json ...
//   node tests/support/validate_asl.js [...flags] -        # read file paths, one per line, from stdin
//   flags: --no-arn-check  --no-path-check  (these really work here; in the 4.0.0 CLI they are no-ops)
//          --no-cache      (do not reuse one Ajv instance; ~50 ms/file instead of ~2 ms/file)
//
// Prints one JSON line per file, in argument order:
//   {"file":"a.json","valid":true,"errors":[]}
//   {"file":"b.json","valid":false,"errors":[{"code":"SCHEMA_VALIDATION_FAILED","message":"..."}]}
// A file that cannot be read/parsed gets valid:false and code "PARSE_ERROR".
// Exit status: 0 all valid, 1 at least one invalid, 2 usage error.
"use strict";
const fs = require("fs");
const path = require("path");

const opts = { checkArn: true, checkPaths: true };
let useCache = true;
let files = [];
for (const a of process.argv.slice(2)) {
  if (a === "--no-arn-check") opts.checkArn = false;
  else if (a === "--no-path-check") opts.checkPaths = false;
  else if (a === "--no-cache") useCache = false;
  else if (a === "-") {
    files.push(...fs.readFileSync(0, "utf8").split(/\r?\n/).filter((l) => l.trim() !== ""));
  } else if (a === "-h" || a === "--help") {
    process.stdout.write("usage: node validate_asl.js [--no-arn-check] [--no-path-check] FILE... | -\n");
    process.exit(0);
  } else files.push(a);
}
if (files.length === 0) {
  process.stderr.write("usage: node validate_asl.js [--no-arn-check] [--no-path-check] FILE... | -\n");
  process.exit(2);
}

// Resolve asl-validator from the repository (node_modules two folders up), then the
// current directory.
let validator;
try {
  const avMain = require.resolve("asl-validator", { paths: [path.join(__dirname, "..", ".."), process.cwd()] });
  if (useCache) {
    // asl-validator 4.0.0 builds a new Ajv and recompiles every schema on *each* call
    // (~50 ms). Options are fixed for this process, so the schemas and formats are the
    // same every time: hand out one real Ajv instance and, after the first call, a thin
    // stand-in whose add* methods are no-ops and whose validate/errors go to that instance.
    const ajvMod = require(require.resolve("ajv", { paths: [path.dirname(avMain)] }));
    const RealAjv = ajvMod.default;
    let real = null;
    const CachedAjv = function (ajvOpts) {
      if (!real) {
        real = new RealAjv(ajvOpts);
        return real;
      }
      const stub = {
        opts: real.opts,
        addFormat() { return stub; },
        addKeyword() { return stub; },
        addSchema() { return stub; },
        validate: (...args) => real.validate(...args),
      };
      Object.defineProperty(stub, "errors", { get: () => real.errors });
      return stub;
    };
    ajvMod.default = CachedAjv;
  }
  validator = require(avMain);
} catch (e) {
  process.stderr.write("cannot load asl-validator: " + e.message + "\n");
  process.exit(2);
}

let anyInvalid = false;
const out = [];
for (const file of files) {
  let rec;
  try {
    const def = JSON.parse(fs.readFileSync(file, "utf8"));
    // validator() mutates its input (adds QueryLanguage to every state); we parse fresh each time.
    const res = validator(def, opts);
    rec = {
      file,
      valid: res.isValid,
      errors: res.errors.map((e) => ({
        code: e["Error code"],
        message: e.Message,
        ...(e.schemaError ? { instancePath: e.schemaError.instancePath } : {}),
      })),
    };
  } catch (e) {
    rec = { file, valid: false, errors: [{ code: "PARSE_ERROR", message: String(e && e.message ? e.message : e) }] };
  }
  if (!rec.valid) anyInvalid = true;
  out.push(JSON.stringify(rec));
}
process.stdout.write(out.join("\n") + "\n");
process.exitCode = anyInvalid ? 1 : 0;
