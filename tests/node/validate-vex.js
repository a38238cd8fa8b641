// Check drydock's VEX documents: OpenVEX 0.2.0 against its schema (draft
// 2020-12; ../shared/schemas, given on the command line), the CycloneDX
// 1.6 VEX document against the schema shipped in
// @cyclonedx/cyclonedx-library, then what the schemas miss: both say the
// same thing of the same packages, every reference points at a component
// of the document, statements carry what their status requires.
//   node validate-vex.js OPENVEX-SCHEMA vex.openvex.json vex.cdx.json
"use strict";
const fs = require("fs");
const path = require("path");
const Ajv2020 = require("ajv/dist/2020").default;
const Ajv = require("ajv").default;
const addFormats = require("ajv-formats").default;

const [schemaPath, openvexPath, cdxPath] = process.argv.slice(2);
const errors = [];
const fail = (m) => errors.push(m);
const read = (p) => JSON.parse(fs.readFileSync(p, "utf8"));
const rfc3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function checkSchema(ajv, schema, doc, what) {
  if (!ajv.validate(schema, doc))
    for (const e of ajv.errors) fail(`${what}: schema: ${e.instancePath} ${e.message}`);
}

// OpenVEX
const ov = read(openvexPath);
{
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats(ajv);
  ajv.addFormat("iri", true);
  checkSchema(ajv, read(schemaPath), ov, "openvex");
  if (!rfc3339.test(ov.timestamp)) fail("openvex: timestamp is not RFC 3339");
  if (ov["@context"] !== "https://openvex.dev/ns/v0.2.0") fail("openvex: @context");
}

// CycloneDX
const cdx = read(cdxPath);
{
  const dir = path.join(path.dirname(require.resolve("@cyclonedx/cyclonedx-library/package.json")), "res/schema");
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  ajv.addFormat("iri-reference", true);
  ajv.addFormat("idn-email", true);
  for (const f of ["spdx.SNAPSHOT.schema.json", "jsf-0.82.SNAPSHOT.schema.json"]) {
    const s = read(path.join(dir, f));
    delete s.$id;
    ajv.addSchema(s, "http://cyclonedx.org/schema/" + f);
  }
  checkSchema(ajv, read(path.join(dir, "bom-1.6.SNAPSHOT.schema.json")), cdx, "cyclonedx");
  const refs = new Set(cdx.components.map((c) => c["bom-ref"]));
  if (refs.size !== cdx.components.length) fail("cyclonedx: duplicate bom-ref");
  for (const v of cdx.vulnerabilities)
    for (const a of v.affects) if (!refs.has(a.ref)) fail(`cyclonedx: ${v.id} affects unknown ${a.ref}`);
}

// the same statements in both
const map = { fixed: "resolved", affected: "exploitable", not_affected: "not_affected" };
const a = ov.statements.map((s) => [s.vulnerability.name, s.products[0].subcomponents[0]["@id"], map[s.status]].join(" ")).sort();
const b = cdx.vulnerabilities.map((v) => [v.id, v.affects[0].ref, v.analysis.state].join(" ")).sort();
if (JSON.stringify(a) !== JSON.stringify(b)) fail("the OpenVEX and CycloneDX documents disagree");
for (const s of ov.statements)
  if (s.status === "affected" && !s.action_statement) fail(`openvex: ${s.vulnerability.name}: affected without an action`);

for (const e of errors) console.log(e);
console.log(errors.length ? "INVALID" : "valid");
process.exit(errors.length ? 1 : 0);
