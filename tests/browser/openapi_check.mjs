// Checks lattice-web's OpenAPI document against the OpenAPI 3.1 schema with an independent
// validator from npm. Usage: node openapi_check.mjs OPENAPI.json
import { readFile } from 'node:fs/promises';
import { Validator } from '@seriousme/openapi-schema-validator';

const path = process.argv[2];
const document = JSON.parse(await readFile(path, 'utf8'));
const validator = new Validator();
const result = await validator.validate(document);
if (!result.valid) {
  console.error(`${path} is not a valid OpenAPI document:`);
  console.error(JSON.stringify(result.errors, null, 1));
  process.exit(1);
}
if (validator.version !== '3.1') {
  console.error(`${path} validated as OpenAPI ${validator.version}, not 3.1`);
  process.exit(1);
}
console.log(`${path}: a valid OpenAPI ${validator.version} document with ${Object.keys(document.paths).length} paths`);
