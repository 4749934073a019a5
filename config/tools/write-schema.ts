import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { absolutePath, generatedFiles } from './generate.js';

/** `npm run schema`: regenerates the JSON Schemas and docs/configuration.md from the zod and convict schemas. */
for (const file of generatedFiles()) {
  const target = absolutePath(file);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, file.content);
  process.stdout.write(`wrote ${file.path}\n`);
}
