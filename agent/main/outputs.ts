import type { GpioLine, Output, Profile, Site } from '../../config/schema/index.js';
import { gpioOutputDriver, type GpioBackend } from '../../drivers/gpio/index.js';
import type { ModbusBus } from '../bus/index.js';
import type { Logger } from '../log/index.js';
import { modbusCoilDriver, type OutputDriver } from '../safety/index.js';

/** A holding register used as an on/off output (1/0), for boards that expose relays as registers. */
function registerDriver(bus: ModbusBus, deviceId: string, pduAddress: number, description: string): OutputDriver {
  return {
    description,
    async write(on: boolean) {
      const outcome = await bus.write(deviceId, { fn: 6, address: pduAddress, value: on ? 1 : 0 });
      return outcome.ok ? { ok: true } : { ok: false, error: outcome.detail };
    },
  };
}

function modbusDriver(output: Output & { modbus: NonNullable<Output['modbus']> }, site: Site, profiles: ReadonlyMap<string, Profile>, buses: ReadonlyMap<string, ModbusBus>): OutputDriver | string {
  const device = site.devices.find((d) => d.id === output.modbus.device);
  const profile = device && profiles.get(device.profile);
  const bus = device && buses.get(device.bus);
  const register = profile?.registers.find((r) => r.name === output.modbus.register);
  if (!device || !profile || !bus || !register || !('fn' in register)) return `no writable register ${output.modbus.register} on ${output.modbus.device}`;
  const pduAddress = register.address - profile.addressBase;
  const description = `${register.name} of ${device.id} (unit ${device.unit})`;
  if (register.fn === 1) return modbusCoilDriver(bus, device.id, pduAddress, `coil ${description}`);
  if (register.fn === 3) return registerDriver(bus, device.id, pduAddress, `register ${description}`);
  return `${output.modbus.register} of ${output.modbus.device} is read-only (function ${register.fn})`;
}

/**
 * A GPIO output whose line is opened once GPIO discovery has finished: discovery runs external tools and must
 * never hold up the first poll or the Modbus outputs. Writes before then wait for it.
 */
function deferredGpioDriver(gpio: Promise<GpioBackend | undefined>, line: GpioLine, description: string, logger: Logger): OutputDriver {
  const driver = gpio.then(
    (backend) => (backend ? gpioOutputDriver(backend, line, description) : undefined),
  ).catch((error: unknown) => {
    logger.error({ err: error, line: description }, 'cannot open GPIO output');
    return undefined;
  });
  return {
    description,
    async write(on: boolean) {
      const ready = await driver;
      return ready ? ready.write(on) : { ok: false, error: `${description}: no GPIO on this gateway` };
    },
  };
}

/**
 * One driver per output. An output whose driver cannot be made is left out and logged: the controller reports
 * it as failed and drives the others.
 */
export function createOutputDrivers(
  site: Site,
  profiles: ReadonlyMap<string, Profile>,
  buses: ReadonlyMap<string, ModbusBus>,
  gpio: Promise<GpioBackend | undefined>,
  logger: Logger,
): Map<string, OutputDriver> {
  const drivers = new Map<string, OutputDriver>();
  for (const output of site.outputs) {
    if (output.modbus) {
      const driver = modbusDriver({ ...output, modbus: output.modbus }, site, profiles, buses);
      if (typeof driver === 'string') logger.error({ output: output.id }, driver);
      else drivers.set(output.id, driver);
    } else if (output.gpio) {
      const chip = output.gpio.chip ? `${output.gpio.chip}:` : '';
      drivers.set(output.id, deferredGpioDriver(gpio, output.gpio, `GPIO ${chip}${output.gpio.line}`, logger));
    }
  }
  return drivers;
}
