/** Value scripts: validation (shared by the API and the simulation file) and evaluation over time. */
import { z } from 'zod';
import { parseDuration } from '../../config/schema/index.js';
import { seededRandom, type Random } from './random.js';
import type { ValueScript } from './types.js';

/** Milliseconds as a number, or a duration with its unit ("500ms", "2s", "5m"). */
export const milliseconds = z.preprocess(
  (input) => (typeof input === 'string' ? (parseDuration(input) ?? input) : input),
  z.number({ error: 'milliseconds, or a duration with its unit like "500ms", "2s" or "5m"' }).min(0),
);

const SCRIPT_KINDS = ['constant', 'ramp', 'noise', 'steps', 'replay'] as const;

const scriptObject = z
  .strictObject({
    constant: z.number().optional(),
    ramp: z
      .strictObject({ from: z.number(), to: z.number(), overMs: milliseconds, repeat: z.boolean().optional() })
      .optional(),
    noise: z
      .strictObject({ base: z.number(), amplitude: z.number().min(0), seed: z.number().int().optional() })
      .optional(),
    steps: z.array(z.tuple([milliseconds, z.number()])).min(1).optional(),
    replay: z
      .strictObject({
        values: z.array(z.number()).min(1),
        everyMs: milliseconds.refine((ms) => ms > 0, 'everyMs must be above 0'),
        repeat: z.boolean().optional(),
      })
      .optional(),
  })
  .refine((o) => SCRIPT_KINDS.filter((k) => o[k] !== undefined).length === 1, {
    message: `a value script has exactly one of: ${SCRIPT_KINDS.join(', ')}`,
  })
  .transform((o): ValueScript => {
    if (o.constant !== undefined) return { constant: o.constant };
    if (o.ramp) return { ramp: o.ramp };
    if (o.noise) return { noise: o.noise };
    if (o.steps) return { steps: o.steps };
    return { replay: o.replay! };
  });

/** A value script; a bare number is a constant. Durations may be written with their unit. */
export const valueScript = z.preprocess((input) => (typeof input === 'number' ? { constant: input } : input), scriptObject);

/** Throws a readable error when a script given through the API is malformed. */
export function checkValueScript(script: ValueScript, where: string): ValueScript {
  const parsed = valueScript.safeParse(script);
  if (!parsed.success) {
    const why = parsed.error.issues.map((i) => `${i.path.join('.') || '(script)'}: ${i.message}`).join('; ');
    throw new TypeError(`${where}: invalid value script ${JSON.stringify(script)}: ${why}`);
  }
  return parsed.data;
}

/** A script being played: holds the noise generator so that reads follow one reproducible sequence. */
export class ScriptPlayer {
  private readonly random: Random | null;
  private readonly sortedSteps: Array<[number, number]>;

  constructor(
    readonly script: ValueScript,
    fallbackSeed: number,
  ) {
    this.random = 'noise' in script ? seededRandom(script.noise.seed ?? fallbackSeed) : null;
    this.sortedSteps = 'steps' in script ? [...script.steps].sort((a, b) => a[0] - b[0]) : [];
  }

  valueAt(tMs: number): number {
    const s = this.script;
    if ('constant' in s) return s.constant;
    if ('ramp' in s) {
      const { from, to, overMs, repeat } = s.ramp;
      if (overMs <= 0) return to;
      const phase = repeat ? (tMs % overMs) / overMs : Math.min(1, tMs / overMs);
      return from + (to - from) * phase;
    }
    if ('noise' in s) return s.noise.base + s.noise.amplitude * (2 * this.random!() - 1);
    if ('steps' in s) {
      let value = this.sortedSteps[0]![1];
      for (const [afterMs, stepValue] of this.sortedSteps) if (afterMs <= tMs) value = stepValue;
      return value;
    }
    const { values, everyMs, repeat } = s.replay;
    const index = Math.floor(tMs / everyMs);
    return values[repeat ? index % values.length : Math.min(index, values.length - 1)]!;
  }
}
