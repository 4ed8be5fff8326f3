#!/usr/bin/env node
// Independent FHIR STU3 check with FHIR.js: the npm `fhir@4.12.0` engine loaded with the
// STU3 definition bundles shipped inside npm `fhir@3.3.1` (installed side by side by setup.sh
// under the aliases fhir4 / fhir3).  Usage: check_fhirjs.js [--ndjson] FILE...
// Only `error` / `fatal` messages count as failures (FHIR.js reports example-strength bindings
// such as SNOMED codes as info/warning).  Exit status 1 if any file fails, 2 on usage/setup error.
// With --ndjson (used by agree.sh) the output is machine-readable instead: one JSON line per file,
// {"file": PATH, "valid": BOOL, "problems": ["[severity] location: message", ...]}, and no summary
// line; the exit status is the same.
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..', '..');
const nodeDir = process.env.ITKBRIDGE_EXTERNAL_CACHE
  ? path.join(process.env.ITKBRIDGE_EXTERNAL_CACHE, 'node')
  : path.join(root, 'target', 'external', 'node');
const modules = path.join(nodeDir, 'node_modules');

let engine;
try {
  engine = require(path.join(modules, 'fhir4'));
} catch (e) {
  console.error(`check_fhirjs: cannot load fhir@4.12.0 from ${modules} (run tests/external/setup.sh): ${e.message}`);
  process.exit(2);
}
const { Fhir, ParseConformance, Versions } = engine;

let files = process.argv.slice(2);
const ndjson = files[0] === '--ndjson';
if (ndjson) files = files.slice(1);
if (files.length === 0) {
  console.error('usage: check_fhirjs.js [--ndjson] FILE...');
  process.exit(2);
}

const stu3Dir = path.join(modules, 'fhir3', 'profiles', 'stu3');
const parser = new ParseConformance(false, Versions.STU3);
for (const name of ['valuesets.json', 'profiles-types.json', 'profiles-resources.json']) {
  parser.parseBundle(JSON.parse(fs.readFileSync(path.join(stu3Dir, name), 'utf8')));
}
const fhir = new Fhir(parser);

let failed = 0;
for (const file of files) {
  let problems = [];
  try {
    const obj = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (!obj || obj.resourceType !== 'Bundle') {
      problems.push({ severity: 'error', location: '', message: `top-level resourceType is ${JSON.stringify(obj && obj.resourceType)}, expected "Bundle"` });
    }
    const res = fhir.validate(obj, { errorOnUnexpected: true });
    problems = problems.concat(res.messages.filter((m) => m.severity === 'error' || m.severity === 'fatal'));
  } catch (e) {
    problems.push({ severity: 'fatal', location: '', message: `${e.name}: ${e.message}` });
  }
  if (ndjson) {
    if (problems.length > 0) failed += 1;
    const texts = problems.map((m) => `[${m.severity}] ${m.location || '-'}: ${m.message}`);
    console.log(JSON.stringify({ file, valid: problems.length === 0, problems: texts }));
    continue;
  }
  if (problems.length > 0) {
    failed += 1;
    for (const m of problems) {
      console.log(`FAIL ${file}: [${m.severity}] ${m.location || '-'}: ${m.message}`);
    }
  } else if (process.env.VERBOSE) {
    console.log(`ok   ${file}`);
  }
}
if (!ndjson) console.log(`fhir.js: ${files.length - failed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
