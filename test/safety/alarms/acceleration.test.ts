import { describe, expect, it } from 'vitest';
import { AlarmEngine } from '../../../agent/safety/alarms/index.js';
import { Harness, siteWith } from './harness.js';

const SECOND = 1000;

describe('accelerated polling', () => {
  const site = () =>
    siteWith([
      { device: 'tank1-ch4', channels: [{ id: 'tank1.ch4', register: 'c', unit: '%LEL', alarm: { gas: 'ch4', L2: { latch: false } } }] },
      {
        device: 'tank1-h2s',
        channels: [
          {
            id: 'tank1.h2s',
            register: 'c',
            unit: 'ppm',
            alarm: { gas: 'h2s', L1: { delayOn: '0s' }, accelerate: ['tank1-h2s', 'tank1-ch4', 'tank1-relays'] },
          },
        ],
      },
      { device: 'tank1-relays', channels: [{ id: 'tank1.fan', register: 'relay_1' }] },
    ]);

  it('a raised level puts its device in the set until everything clears; the same Set until it changes', () => {
    const h = new Harness(site());
    const idle = h.engine.acceleratedDevices();
    expect(idle.size).toBe(0);
    h.poll('tank1.ch4', 3, SECOND, () => 10);
    expect(h.engine.acceleratedDevices()).toBe(idle);

    h.poll('tank1.ch4', 6, SECOND, () => 25);
    const raised = h.engine.acceleratedDevices();
    expect([...raised]).toEqual(['tank1-ch4']);
    h.poll('tank1.ch4', 6, SECOND, () => 55);
    expect(h.status('tank1.ch4').level).toBe('L2');
    expect(h.engine.acceleratedDevices()).toBe(raised);

    h.read('tank1.ch4', 15);
    expect([...h.engine.acceleratedDevices()]).toEqual([]);
  });

  it('a configured accelerate list replaces the channel\'s own device', () => {
    const h = new Harness(site());
    h.read('tank1.h2s', 8);
    expect([...h.engine.acceleratedDevices()].sort()).toEqual(['tank1-ch4', 'tank1-h2s', 'tank1-relays']);
    h.read('tank1.h2s', 1);
    expect(h.engine.acceleratedDevices().size).toBe(0);
  });

  it('a fault alone does not accelerate (the outputs treat it as fail-safe)', () => {
    const h = new Harness(site());
    h.poll('tank1.ch4', 5, SECOND, () => null);
    expect(h.status('tank1.ch4').fault).toBe(true);
    expect(h.engine.acceleratedDevices().size).toBe(0);
  });

  it('channels without alarm settings are followed for faults only', () => {
    const h = new Harness(site());
    h.poll('tank1.fan', 3, SECOND, () => null);
    expect(h.status('tank1.fan')).toMatchObject({ fault: true, level: 'normal', grade: null });
    expect(h.status('tank1.fan').compared).toBeUndefined();
  });

  it('readings of channels the site does not list (GPIO inputs) get a status for faults', () => {
    const h = new Harness(site());
    h.read('lid.open', null, { quality: 'bad', reason: 'sensor-fault' });
    expect(h.engine.channel('lid.open')).toMatchObject({ deviceId: 'unlisted', fault: true });
  });
});

describe('operator actions over all channels', () => {
  it("acknowledge('*') acknowledges every raised channel once and records who", () => {
    const h = new Harness(
      siteWith([
        { device: 'a', channels: [{ id: 'a.co', register: 'c', unit: 'ppm', alarm: { gas: 'co', L1: { delayOn: '0s' } } }] },
        { device: 'b', channels: [{ id: 'b.co', register: 'c', unit: 'ppm', alarm: { gas: 'co', L1: { delayOn: '0s' } } }] },
        { device: 'c', channels: [{ id: 'c.co', register: 'c', unit: 'ppm', alarm: { gas: 'co' } }] },
      ]),
    );
    h.read('a.co', 20);
    h.read('b.co', 20);
    h.read('c.co', 1);
    expect(h.engine.acknowledge('*', 'duty-officer')).toEqual({ acknowledged: ['a.co', 'b.co'] });
    expect(h.of('alarm-acknowledged').map((e) => [e.channelId, e.by, e.level, e.rule])).toEqual([
      ['a.co', 'duty-officer', 'L1', 'a.co ≥ 17 ppm (L1)'],
      ['b.co', 'duty-officer', 'L1', 'b.co ≥ 17 ppm (L1)'],
    ]);
    expect(h.engine.acknowledge('*', 'duty-officer')).toEqual({ acknowledged: [] });
    expect(h.engine.reset('nope', 'x')).toEqual({ reset: [], refused: [{ channelId: 'nope', why: 'no such channel' }] });
  });

  it('an event sink that throws does not leave the engine half-way: state is consistent, the error surfaces', () => {
    const h = new Harness(
      siteWith([
        {
          device: 'a',
          channels: [{ id: 'a.co', register: 'c', unit: 'ppm', alarm: { gas: 'co', L1: { delayOn: '0s' }, L2: { delayOn: '0s' } } }],
        },
      ]),
    );
    const thrown: unknown[] = [];
    let calls = 0;
    const engine = new AlarmEngine({
      site: h.site,
      clock: h.clock,
      emit: () => {
        calls++;
        throw new Error('sink down');
      },
    });
    try {
      engine.onReadings([h.reading('a.co', 40)]);
    } catch (error) {
      thrown.push(error);
    }
    expect(thrown).toHaveLength(1);
    expect(calls).toBe(2); // L1 and L2 both offered, although the first one threw
    expect(engine.channel('a.co')).toMatchObject({ level: 'L2', latched: true });
  });
});
