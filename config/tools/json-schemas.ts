import { z } from 'zod';
import { profile } from '../schema/profile.js';
import { site } from '../schema/site.js';

/**
 * JSON Schemas for editors (yaml-language-server, VS Code), generated from the same zod schemas the loader
 * validates with. They describe what a person writes (durations as "2s" text, defaults as written), and use
 * draft-07, which every YAML editor plugin understands.
 */

export interface JsonSchema {
  $schema?: string;
  $id?: string;
  title?: string;
  description?: string;
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
}

function toJsonSchema(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, { io: 'input', target: 'draft-7', unrepresentable: 'any' }) as JsonSchema;
}

export function siteJsonSchema(): JsonSchema {
  return toJsonSchema(site);
}

export function profileJsonSchema(): JsonSchema {
  return toJsonSchema(profile);
}
