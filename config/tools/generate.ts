import { join } from 'node:path';
import { packageRoot } from '../load/locate.js';
import { profileJsonSchema, siteJsonSchema } from './json-schemas.js';
import { configurationDoc } from './reference-doc.js';

/** Every generated file, with its path relative to the package root and its exact content. */
export interface GeneratedFile {
  path: string;
  content: string;
}

export function generatedFiles(): GeneratedFile[] {
  const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;
  return [
    { path: 'config/site.schema.json', content: json(siteJsonSchema()) },
    { path: 'config/profile.schema.json', content: json(profileJsonSchema()) },
    { path: 'docs/configuration.md', content: configurationDoc() },
  ];
}

export function absolutePath(file: GeneratedFile): string {
  return join(packageRoot(), file.path);
}
