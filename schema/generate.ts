/** `npm run schema`: writes the definition format's JSON Schema, generated from the zod schema. */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DEFINITION_SCHEMA_FILE, workflowDefinitionJsonSchemaText } from '../src/workflow/json-schema.js';

const target = fileURLToPath(new URL(`../${DEFINITION_SCHEMA_FILE}`, import.meta.url));
writeFileSync(target, workflowDefinitionJsonSchemaText());
process.stdout.write(`wrote ${DEFINITION_SCHEMA_FILE}\n`);
