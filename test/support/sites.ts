import type { Profile, SiteInput } from '../../config/schema/index.js';
import type { RunningSimulator, SimDeviceSpec, ValueScript } from '../../drivers/simulator/index.js';

/**
 * Pieces of the test site most agent tests run: a methane probe (unit 1, the 10-register gas module, channel
 * tank.ch4) and an 8-channel relay board (unit 10) on one bus to the device simulator over TCP, and a fan on
 * relay 1. Each builder gives the common shape; a test passes what it depends on (timeouts, alarm delays,
 * intervals, rules) so that those values stay in the test.
 */

type BusInput = SiteInput['buses'][number];
type DeviceInput = SiteInput['devices'][number];
type ChannelInput = DeviceInput['channels'][number];
type ChannelAlarmInput = NonNullable<ChannelInput['alarm']>;
type OutputInput = NonNullable<SiteInput['outputs']>[number];
type Profiles = ReadonlyMap<string, Profile>;

/** Bus `b`: raw RTU frames over TCP to this simulator, 200 ms timeout unless overridden. */
export function tcpBusFor(sim: RunningSimulator, overrides: Partial<Omit<Extract<BusInput, { tcp: unknown }>, 'tcp'>> = {}): BusInput {
  if (sim.endpoint.kind !== 'tcp') throw new Error('tcp expected');
  return { id: 'b', tcp: { host: sim.endpoint.host, port: sim.endpoint.port }, timeoutMs: 200, ...overrides };
}

/** Channel tank.ch4: the gas module's concentration register, 0–100 %LEL. */
export function ch4Channel(overrides: Partial<ChannelInput> = {}): ChannelInput {
  return { id: 'tank.ch4', register: 'concentration', range: { min: 0, max: 100 }, ...overrides };
}

/** A methane alarm whose L1 and L2 are each raised after `samples` readings past the level. */
export function ch4Alarm(samples: number, extra: Omit<ChannelAlarmInput, 'gas' | 'L1' | 'L2'> = {}): ChannelAlarmInput {
  return { gas: 'ch4', L1: { delayOn: { samples } }, L2: { delayOn: { samples } }, ...extra };
}

/** Device `probe`: the 10-register gas module at unit 1 on bus `b`, polled every 100 ms, with channel tank.ch4. */
export function gasProbeDevice(overrides: Partial<DeviceInput> = {}): DeviceInput {
  return { id: 'probe', bus: 'b', unit: 1, profile: 'gas-module-10reg', interval: '100ms', channels: [ch4Channel()], ...overrides };
}

/** Device `relays`: the 8-channel relay board at unit 10 on bus `b`, polled every second, relay 1 read as tank.fan. */
export function relayBoardDevice(overrides: Partial<DeviceInput> = {}): DeviceInput {
  return {
    id: 'relays',
    bus: 'b',
    unit: 10,
    profile: 'relay-board-8ch',
    interval: '1s',
    channels: [{ id: 'tank.fan', register: 'relay_1' }],
    ...overrides,
  };
}

/** Output `fan` on relay 1 of the relay board, on at L1 of tank.ch4, no minimum times unless overridden. */
export function fanOutput(overrides: Partial<OutputInput> = {}): OutputInput {
  return {
    id: 'fan',
    kind: 'fan',
    modbus: { device: 'relays', register: 'relay_1' },
    when: { any: [{ alarm: 'L1', channels: ['tank.ch4'] }] },
    minOn: '0s',
    minOff: '0s',
    ...overrides,
  };
}

/** The simulated gas module: reports %LEL (unit code 0x2400) following `concentration`. */
export function simulatedGasProbe(profiles: Profiles, concentration: ValueScript, unit = 1): SimDeviceSpec {
  return { unit, profile: profileOf(profiles, 'gas-module-10reg'), values: { unit_code: { constant: 0x2400 }, concentration } };
}

/** The simulated 8-channel relay board, all coils off. */
export function simulatedRelayBoard(profiles: Profiles, unit = 10): SimDeviceSpec {
  return { unit, profile: profileOf(profiles, 'relay-board-8ch') };
}

function profileOf(profiles: Profiles, id: string): Profile {
  const found = profiles.get(id);
  if (!found) throw new Error(`no profile ${id}`);
  return found;
}
