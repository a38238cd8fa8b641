// Check drydock's SBOMs: SPDX 2.3 against the official schema
// (../shared/schemas, or $SPDX_SCHEMA), CycloneDX 1.6 against the schema
// shipped in @cyclonedx/cyclonedx-library, then what the schemas miss:
// relationships and dependencies point at elements that exist, licences
// are valid SPDX expressions, dates are RFC 3339.
//   node validate-sbom.js SPDX-SCHEMA sbom.spdx.json sbom.cdx.json
"use strict";
const fs = require("fs");
const path = require("path");
const Ajv = require("ajv").default;
const addFormats = require("ajv-formats").default;
const parseSpdx = require("spdx-expression-parse");

const [spdxSchemaPath, spdxPath, cdxPath] = process.argv.slice(2);
const errors = [];
const fail = (m) => errors.push(m);
const read = (p) => JSON.parse(fs.readFileSync(p, "utf8"));
const rfc3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function checkSchema(ajv, schema, doc, what) {
  const ok = ajv.validate(schema, doc);
  if (!ok) for (const e of ajv.errors) fail(`${what}: schema: ${e.instancePath} ${e.message}`);
}

function checkLicense(expr, what) {
  if (expr === "NOASSERTION" || expr === "NONE") return;
  try { parseSpdx(expr); } catch (e) { fail(`${what}: licence '${expr}' is not an SPDX expression`); }
}

// SPDX
const spdx = read(spdxPath);
{
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  checkSchema(ajv, read(spdxSchemaPath), spdx, "spdx");
  const ids = new Set(["SPDXRef-DOCUMENT", ...spdx.packages.map((p) => p.SPDXID)]);
  if (ids.size !== spdx.packages.length + 1) fail("spdx: duplicate SPDXID");
  if (!spdx.documentNamespace || !/^https?:\/\//.test(spdx.documentNamespace)) fail("spdx: documentNamespace");
  if (!rfc3339.test(spdx.creationInfo.created)) fail("spdx: created is not RFC 3339");
  for (const r of spdx.relationships) {
    if (!ids.has(r.spdxElementId)) fail(`spdx: relationship from unknown ${r.spdxElementId}`);
    if (!ids.has(r.relatedSpdxElement)) fail(`spdx: relationship to unknown ${r.relatedSpdxElement}`);
  }
  for (const d of spdx.documentDescribes || []) if (!ids.has(d)) fail(`spdx: describes unknown ${d}`);
  for (const p of spdx.packages) {
    if (p.licenseDeclared) checkLicense(p.licenseDeclared, `spdx: ${p.SPDXID}`);
    for (const a of p.annotations || []) if (!rfc3339.test(a.annotationDate)) fail(`spdx: ${p.SPDXID}: annotation date`);
  }
}

// CycloneDX
if (cdxPath) {
  const dir = path.join(path.dirname(require.resolve("@cyclonedx/cyclonedx-library/package.json")), "res/schema");
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  ajv.addFormat("iri-reference", true);
  ajv.addFormat("idn-email", true);
  // the bom schema refers to these by file name, relative to its own $id
  for (const f of ["spdx.SNAPSHOT.schema.json", "jsf-0.82.SNAPSHOT.schema.json"]) {
    const s = read(path.join(dir, f));
    delete s.$id;
    ajv.addSchema(s, "http://cyclonedx.org/schema/" + f);
  }
  const cdx = read(cdxPath);
  checkSchema(ajv, read(path.join(dir, "bom-1.6.SNAPSHOT.schema.json")), cdx, "cyclonedx");
  const refs = new Set([cdx.metadata.component["bom-ref"], ...cdx.components.map((c) => c["bom-ref"])]);
  if (refs.size !== cdx.components.length + 1) fail("cyclonedx: duplicate bom-ref");
  if (!rfc3339.test(cdx.metadata.timestamp)) fail("cyclonedx: timestamp is not RFC 3339");
  for (const d of cdx.dependencies || []) {
    if (!refs.has(d.ref)) fail(`cyclonedx: dependency of unknown ${d.ref}`);
    for (const x of d.dependsOn || []) if (!refs.has(x)) fail(`cyclonedx: ${d.ref} depends on unknown ${x}`);
  }
  for (const c of cdx.components)
    for (const l of c.licenses || []) if (l.expression) checkLicense(l.expression, `cyclonedx: ${c["bom-ref"]}`);
}

for (const e of errors) console.log(e);
console.log(errors.length ? "INVALID" : "valid");
process.exit(errors.length ? 1 : 0);
