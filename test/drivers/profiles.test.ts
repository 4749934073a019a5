import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { isComputed, profile } from '../../config/schema/index.js';
import { planReads } from '../../drivers/modbus/plan.js';
import { loadShippedProfile, PROFILE_DIR } from './helpers.js';

const SHIPPED: Record<string, string[]> = {
  'gas-module-10reg': ['unit_code', 'concentration', 'low_setpoint', 'high_setpoint', 'full_scale', 'status', 'temperature', 'gas_type', 'humidity'],
  'gas-status-word': ['status_word', 'concentration', 'run_status'],
  'jxbs-3001-gas': ['concentration', 'device_address', 'baud_code'],
  'crack-drawwire-u16': ['displacement'],
  'crack-drawwire-s16': ['displacement'],
  'vw-converter': ['frequency', 'temperature', 'digits', 'displacement'],
  'rain-tipping-bucket': ['tips', 'rainfall'],
  'relay-board-8ch': [1, 2, 3, 4, 5, 6, 7, 8].map((i) => `relay_${i}`).concat([1, 2, 3, 4, 5, 6, 7, 8].map((i) => `input_${i}`)),
};

describe('shipped driver profiles', () => {
  it('ships exactly the agreed profiles', () => {
    const files = readdirSync(PROFILE_DIR).filter((f) => f.endsWith('.yaml')).sort();
    expect(files).toEqual(Object.keys(SHIPPED).map((id) => `${id}.yaml`).sort());
  });

  for (const [id, names] of Object.entries(SHIPPED)) {
    describe(id, () => {
      const text = readFileSync(join(PROFILE_DIR, `${id}.yaml`), 'utf8');

      it('points editors at the JSON schema on its first line', () => {
        expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=../../config/profile.schema.json');
      });

      it('parses with the profile schema, has its file name as id and the agreed register names', () => {
        const parsed = profile.safeParse(YAML.parse(text));
        expect(parsed.success, parsed.success ? '' : JSON.stringify(parsed.error.issues, null, 2)).toBe(true);
        const p = loadShippedProfile(id);
        expect(p.id).toBe(id);
        expect(p.registers.map((r) => r.name)).toEqual(names);
      });

      it('states its address base explicitly and can plan a read of every register', () => {
        expect(text).toMatch(/^addressBase: [01]$/m);
        const p = loadShippedProfile(id);
        const plan = planReads(p, p.registers.map((r) => r.name));
        expect(plan.blocks.length).toBeGreaterThan(0);
        for (const block of plan.blocks) expect(block.count).toBeLessThanOrEqual(block.fn <= 2 ? 2000 : p.maxRegistersPerRead);
      });
    });
  }

  it('gives the slow vibrating-wire reader a long timeout and the cheap probes 9600 8N1', () => {
    expect(loadShippedProfile('vw-converter').timeoutMs).toBeGreaterThanOrEqual(3000);
    for (const id of ['gas-module-10reg', 'gas-status-word', 'jxbs-3001-gas']) {
      expect(loadShippedProfile(id).serial).toEqual({ baud: 9600, dataBits: 8, parity: 'none', stopBits: 1 });
    }
  });

  it('makes the relay coils writable and the inputs not', () => {
    const relay = loadShippedProfile('relay-board-8ch');
    for (const register of relay.registers) {
      if (isComputed(register)) throw new Error('no computed registers expected');
      expect(register.writable).toBe(register.name.startsWith('relay_'));
      expect(register.fn).toBe(register.name.startsWith('relay_') ? 1 : 2);
    }
  });
});
