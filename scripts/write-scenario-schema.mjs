// Rewrites media/scenario.schema.json from src/scenarios/schema.ts and media/lab.schema.json from src/scenarios/lab-schema.ts (a unit test fails when they differ).
// Usage: node --import tsx scripts/write-scenario-schema.mjs
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import schemaModule from '../src/scenarios/schema.ts';
import labSchemaModule from '../src/scenarios/lab-schema.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { SCENARIO_SCHEMA } = schemaModule;
writeFileSync(join(root, 'media', 'scenario.schema.json'), `${JSON.stringify(SCENARIO_SCHEMA, null, 2)}\n`);
console.log('wrote media/scenario.schema.json');
writeFileSync(join(root, 'media', 'lab.schema.json'), `${JSON.stringify(labSchemaModule.LAB_SCHEMA, null, 2)}\n`);
console.log('wrote media/lab.schema.json');
