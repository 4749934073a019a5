import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadSite } from '../../../config/index.js';
import { Harness } from './harness.js';

const examples = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'config', 'examples');

describe('the shipped example sites', () => {
  it.each(['septic-tank.yaml', 'dangerous-rock.yaml', 'demo/site.yaml'])('%s: every alarm and crack setting is usable', (name) => {
    const result = loadSite(join(examples, name));
    if (!result.ok) throw new Error(`invalid example: ${result.errors.map((e) => e.message).join('; ')}`);
    const h = new Harness(result.site);
    expect(h.events).toEqual([]);
    expect(h.engine.channels().filter((c) => c.fault)).toEqual([]);
  });
});
