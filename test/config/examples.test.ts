import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkProfileFile, loadSite, shippedProfileDir } from '../../config/index.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const examples = join(repo, 'config', 'examples');

describe('shipped examples and profiles', () => {
  it.each(['septic-tank.yaml', 'dangerous-rock.yaml'])('%s passes with the shipped profiles', (name) => {
    const result = loadSite(join(examples, name));
    expect(result.ok ? [] : result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
  });

  it('the septic-tank example has the devices the field practice needs', () => {
    const result = loadSite(join(examples, 'septic-tank.yaml'));
    if (!result.ok) throw new Error('invalid example');
    const { site } = result;
    expect(site.site.kind).toBe('septic-tank');
    const byProfile = site.devices.map((d) => [d.profile, d.unit, d.priority]);
    expect(byProfile).toEqual([
      ['gas-module-10reg', 1, 'critical'],
      ['gas-status-word', 2, 'critical'],
      ['gas-module-10reg', 3, 'critical'],
      ['relay-board-8ch', 10, 'normal'],
    ]);
    const relays = site.devices[3]!.channels.map((c) => c.register);
    expect(relays).toEqual(['relay_1', 'relay_2', 'input_1']);
  });

  it('the dangerous-rock example computes the vibrating-wire displacement with all gauge factors', () => {
    const result = loadSite(join(examples, 'dangerous-rock.yaml'));
    if (!result.ok) throw new Error('invalid example');
    const vw = result.site.devices.find((d) => d.profile === 'vw-converter');
    expect(Object.keys(vw?.channels[0]?.params ?? {}).sort()).toEqual(['G', 'K', 'R0', 'T0']);
    expect(result.site.devices.map((d) => d.profile).sort()).toEqual([
      'crack-drawwire-s16',
      'crack-drawwire-u16',
      'rain-tipping-bucket',
      'relay-board-8ch',
      'vw-converter',
    ]);
  });

  it('every shipped profile passes the profile check', () => {
    const files = readdirSync(shippedProfileDir()).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(8);
    for (const file of files) {
      const result = checkProfileFile(join(shippedProfileDir(), file));
      expect(result.ok ? [] : result.errors, file).toEqual([]);
    }
  });
});
