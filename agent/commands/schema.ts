import { z } from 'zod';
import { duration, identifier } from '../../config/schema/index.js';

/**
 * Operator commands, whoever sends them (platform, CLI, OPC UA method): one schema, one validation, one path.
 * Unknown fields are refused so a misspelt parameter is never silently ignored.
 */
const channelTarget = z.union([z.literal('*'), identifier]).meta({ description: 'A channel id, or "*" for all.' });

export const operatorCommand = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('acknowledge'), channel: channelTarget }),
  z.strictObject({ action: z.literal('reset'), channel: channelTarget }),
  z.strictObject({ action: z.literal('silence') }),
  z.strictObject({
    action: z.literal('force'),
    output: identifier,
    state: z.enum(['on', 'off']),
    for: duration.meta({ description: 'How long the force lasts; required: a force always expires.' }),
  }),
  z.strictObject({ action: z.literal('release'), output: identifier }),
  z.strictObject({ action: z.literal('set-baseline'), channel: identifier, value: z.number().optional() }),
]);

export type OperatorCommand = z.output<typeof operatorCommand>;
export type OperatorCommandInput = z.input<typeof operatorCommand>;
