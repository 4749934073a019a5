import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkProfileFile, loadSite, loadSiteText, shippedProfileDir } from '../../config/index.js';

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

  it('the septic-tank example alarms on every gas probe, and its fan, siren and healthy relay follow the field practice', () => {
    const result = loadSite(join(examples, 'septic-tank.yaml'));
    if (!result.ok) throw new Error('invalid example');
    const { site } = result;
    const alarms = site.devices.flatMap((d) => d.channels.filter((c) => c.alarm).map((c) => [c.id, c.alarm?.gas]));
    expect(alarms).toEqual([
      ['tank1.ch4', 'ch4'],
      ['tank1.h2s', 'h2s'],
      ['tank1.o2', 'o2'],
    ]);
    const gas = ['tank1.ch4', 'tank1.h2s', 'tank1.o2'];
    const [fan, siren, healthy] = site.outputs;
    expect(fan).toMatchObject({
      kind: 'fan',
      modbus: { device: 'tank1-relays', register: 'relay_1' },
      when: { any: [{ alarm: 'L1', channels: gas }, { fault: true, channels: gas }] },
      feedback: { channel: 'tank1.fan.running' },
      persistentAfter: 45 * 60_000,
    });
    expect(fan?.interlock).toBeUndefined();
    expect(siren).toMatchObject({
      kind: 'sounder',
      modbus: { register: 'relay_2' },
      when: { any: [{ alarm: 'L2', channels: gas }] },
      minOn: 60_000,
      minOff: 0,
    });
    expect(healthy).toMatchObject({ kind: 'healthy', modbus: { register: 'relay_8' } });
    expect(healthy?.when).toBeUndefined();
    expect(site.gpio?.inputs).toMatchObject([{ id: 'tank1.lid', kind: 'contact' }]);
  });

  it('the options the septic-tank example shows in comments are valid when uncommented', () => {
    const file = join(examples, 'septic-tank.yaml');
    const text = readFileSync(file, 'utf8');
    const uncommented = text.replace(/^(\s*)# ((?:lelBasis|L1|interlock): .*)$/gm, '$1$2');
    expect(uncommented.split('\n').filter((line, i) => line !== text.split('\n')[i])).toHaveLength(3);
    const result = loadSiteText(uncommented, file);
    expect(result.ok ? [] : result.errors).toEqual([]);
    if (!result.ok) return;
    expect(result.site.outputs[0]?.interlock).toEqual({ alarm: 'L2', channels: ['tank1.ch4'] });
    expect(result.site.devices[1]?.channels[0]?.alarm?.L1).toMatchObject({ setpoint: 5, delayOn: { samples: 3 } });
  });

  it('the dangerous-rock example grades every crack gauge and sounds its siren from orange', () => {
    const result = loadSite(join(examples, 'dangerous-rock.yaml'));
    if (!result.ok) throw new Error('invalid example');
    const graded = result.site.devices.flatMap((d) => d.channels.filter((c) => c.crack));
    expect(graded.map((c) => c.id)).toEqual(['w7.crack1', 'w7.crack2', 'w7.crack3']);
    for (const channel of graded) {
      expect(channel.crack?.rate).toMatchObject({ window: 3_600_000, per: 'h' });
      expect(channel.crack?.accelerate).toEqual(['crack-1', 'crack-2', 'crack-3']);
    }
    expect(graded[2]?.crack?.tangent).toMatchObject({ steadyVelocity: 0.2, blue: 44, red: 85 });
    expect(result.site.outputs).toMatchObject([
      { id: 'siren', kind: 'sounder', when: { any: [{ crack: 'orange', channels: ['w7.crack*'] }] } },
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
