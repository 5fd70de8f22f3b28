// Validates an AsyncAPI document with the AsyncAPI project's own parser
// (@asyncapi/parser, which applies the specification's JSON Schema and its
// Spectral rules). Exits non-zero on any error-level diagnostic; prints
// every diagnostic. Usage: node asyncapi-validate.mjs <document.json>
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const [, , documentPath, toolsDir] = process.argv;
const require = createRequire(`${toolsDir}/`);
const { Parser, DiagnosticSeverity } = require('@asyncapi/parser');

const parser = new Parser();
const { document, diagnostics } = await parser.parse(readFileSync(documentPath, 'utf8'));
const names = { [DiagnosticSeverity.Error]: 'error', [DiagnosticSeverity.Warning]: 'warning',
                [DiagnosticSeverity.Information]: 'info', [DiagnosticSeverity.Hint]: 'hint' };
for (const d of diagnostics) {
  console.log(`${names[d.severity] ?? d.severity} ${d.code} at ${d.path.join('.')}: ${d.message}`);
}
const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
const warnings = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Warning);
if (!document || errors.length > 0 || warnings.length > 0) {
  console.error(`${documentPath}: ${errors.length} errors, ${warnings.length} warnings`);
  process.exit(1);
}
const channels = document.channels().length;
const messages = document.allMessages().length;
console.log(`${documentPath}: valid AsyncAPI ${document.version()}, ${channels} channels, ${messages} messages`);
