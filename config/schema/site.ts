import { z } from 'zod';
import { duration, identifier, serialLine } from './common.js';
import { platform } from './platforms.js';
import { channelAlarm, crackWarning, gpio, output } from './safety.js';

/**
 * The site file: what is installed at one site. Machine-specific settings (broker URL, data directory,
 * credentials) are not here but in the settings (see settings.ts), so one site file can be copied between
 * a spare gateway and the installed one.
 */

export const priority = z
  .enum(['critical', 'normal', 'low'])
  .meta({ description: 'Bus priority of polls: critical (gas probes) before normal before low.' });

export const breaker = z
  .strictObject({
      failures: z.number().int().min(1).max(100).default(3).meta({
        description: 'Consecutive failed polls that open the breaker.',
      }),
      minBackoff: duration.prefault('2s').meta({ description: 'First wait before retrying a dead device.' }),
      maxBackoff: duration.prefault('1m').meta({ description: 'Longest wait between retries of a dead device.' }),
  })
  .meta({ description: 'A dead device is retried after a back-off that doubles up to maxBackoff.' });

const echoOption = z.boolean().default(false).meta({
  description:
    'The RS-485 transceiver hears its own transmission (some 2-wire adapters without echo suppression): each request comes back before the answer and is skipped. Without this, the echo of a write would pass for its confirmation.',
});

export const serialBus = z
  .strictObject({
    id: identifier.meta({ description: 'Unique in the site; devices name it in "bus".' }),
    serial: serialLine
      .extend({
        path: z.string().min(1).meta({ description: 'Serial device, preferably a /dev/serial/by-id/... path.' }),
      })
      .meta({ description: 'The local serial port and its line settings.' }),
    timeoutMs: z
      .number()
      .int()
      .min(10)
      .max(30_000)
      .default(500)
      .meta({ description: 'How long to wait for a response, in milliseconds.' }),
    retries: z.number().int().min(0).max(5).default(1).meta({ description: 'Retries of a failed read (never of a write).' }),
    guardMs: z.number().min(0).max(1000).optional().meta({
      description:
        'Silence after each transaction; default t3.5 of the line (1.75 ms above 19200 baud). Never shorter. While ' +
        'the line has time to spare it may run up to 2 ms longer (half a character on slower lines); on a saturated ' +
        'line, typically under half a character longer.',
    }),
    echo: echoOption,
  })
  .meta({ description: 'A local serial port (USB RS-485 adapter or UART).' });

export const tcpBus = z
  .strictObject({
    id: identifier.meta({ description: 'Unique in the site; devices name it in "bus".' }),
    tcp: z
      .strictObject({
        host: z.string().min(1).meta({ description: 'Host name or IP address of the serial device server.' }),
        port: z.number().int().min(1).max(65535).meta({ description: 'Its TCP port for raw RTU frames.' }),
      })
      .meta({ description: 'A serial device server that passes raw RTU frames over TCP.' }),
    line: serialLine
      .optional()
      .meta({ description: 'Line settings on the far side of the serial device server (for timing only).' }),
    timeoutMs: z
      .number()
      .int()
      .min(10)
      .max(30_000)
      .default(500)
      .meta({ description: 'How long to wait for a response, in milliseconds.' }),
    retries: z.number().int().min(0).max(5).default(1).meta({ description: 'Retries of a failed read (never of a write).' }),
    guardMs: z.number().min(0).max(1000).optional().meta({ description: 'Silence after each transaction, in milliseconds.' }),
    echo: echoOption,
  })
  .meta({ description: 'A serial device server reached over TCP.' });

export const bus = z
  .union([serialBus, tcpBus])
  .meta({ description: 'One physical RS-485 line: a local serial port, or raw RTU frames over TCP to a device server.' });

export const channel = z.strictObject({
  id: identifier.meta({ description: 'Unique in the site; appears in topics and on the platform.' }),
  register: z.string().min(1).meta({ description: "Name of the register in the device's profile." }),
  name: z.string().optional().meta({ description: 'What it measures, for people (e.g. "CH4 in tank 1").' }),
  indicator: z
    .string()
    .min(1)
    .optional()
    .meta({ description: "The platform's indicator code for this channel (unified indicator system)." }),
  interval: duration.optional().meta({ description: 'Poll interval; defaults to the device interval.' }),
  fastInterval: duration.optional().meta({ description: 'Accelerated poll interval used while a warning is active.' }),
  unit: z.string().min(1).optional().meta({ description: 'Unit, where the profile does not know it.' }),
  range: z
    .strictObject({
      min: z.number().meta({ description: 'Lowest value the sensor can report.' }),
      max: z.number().meta({ description: 'Highest value the sensor can report.' }),
    })
    .refine((r) => r.min < r.max, { message: 'min must be below max' })
    .optional()
    .meta({ description: "Physical range; overrides the profile's." }),
  params: z
    .record(z.string(), z.number())
    .optional()
    .meta({ description: 'Values for the params of a computed register (e.g. gauge factors G, K, R0, T0).' }),
  alarm: channelAlarm.optional(),
  crack: crackWarning.optional(),
  report: z
    .strictObject({
      deadband: z.number().min(0).optional().meta({ description: 'Report a change only beyond this much (channel unit); 0 = every change.' }),
      heartbeat: duration.optional().meta({ description: 'Report at least this often even without change (default 5m).' }),
      fastInterval: duration.optional().meta({ description: 'While the device is accelerated (a warning), report at least this often.' }),
    })
    .optional()
    .meta({ description: 'What goes to the platform: on change beyond a deadband, with a heartbeat. Quality changes and events always go.' }),
});

export const device = z.strictObject({
  id: identifier.meta({ description: 'Unique in the site.' }),
  name: z.string().optional().meta({ description: 'Where it is and what it is, for people.' }),
  bus: identifier.meta({ description: 'The id of the bus it is wired to.' }),
  unit: z.number().int().min(1).max(247).meta({ description: 'Modbus unit id (slave address).' }),
  profile: z.string().min(1).meta({ description: 'Driver profile id (a file in drivers/profiles or profileDirs).' }),
  interval: duration.prefault('5s').meta({ description: 'Default poll interval of its channels.' }),
  fastInterval: duration
    .optional()
    .meta({ description: 'Default accelerated poll interval of its channels, used while a warning is active.' }),
  priority: priority.default('normal'),
  timeoutMs: z.number().int().min(10).max(30_000).optional().meta({ description: "Overrides the bus's timeout." }),
  retries: z.number().int().min(0).max(5).optional().meta({ description: "Overrides the bus's retries." }),
  mergeReads: z
    .boolean()
    .default(true)
    .meta({ description: 'Merge near-contiguous registers into one request; off for devices that reject large reads.' }),
  maxGap: z.number().int().min(0).max(124).optional().meta({ description: "Overrides the profile's maxGap." }),
  maxRegistersPerRead: z
    .number()
    .int()
    .min(1)
    .max(125)
    .optional()
    .meta({ description: "Overrides the profile's maxRegistersPerRead." }),
  breaker: breaker.prefault({}),
  channels: z.array(channel).min(1).meta({ description: 'The registers of this device that the site uses.' }),
});

export const site = z
  .strictObject({
    $schema: z.string().optional().meta({ description: 'Path or URL of the JSON Schema, for editors.' }),
    site: z
      .strictObject({
        id: identifier.meta({ description: 'The site id; the gateway id is derived from it unless set.' }),
        name: z.string().min(1).meta({ description: 'Name for people.' }),
        kind: z
          .enum(['septic-tank', 'dangerous-rock', 'other'])
          .default('other')
          .meta({ description: 'What is monitored here.' }),
        location: z.string().optional().meta({ description: 'Address or coordinates, for people.' }),
      })
      .meta({ description: 'Which site this is.' }),
    profileDirs: z
      .array(z.string().min(1))
      .default([])
      .meta({ description: 'Extra folders of driver profiles, relative to the site file; searched before the shipped ones.' }),
    buses: z.array(bus).min(1).meta({ description: 'The RS-485 lines of this gateway.' }),
    devices: z.array(device).min(1).meta({ description: 'The Modbus devices on those lines.' }),
    gpio: gpio.optional(),
    outputs: z.array(output).default([]).meta({ description: 'Relays the gateway drives, and their rules.' }),
    platforms: z
      .array(platform)
      .optional()
      .meta({
        description:
          'The platforms this gateway reports to, each over its own broker connection and outbox cursor. Absent: one native uplink from the machine settings (mqtt.*).',
      }),
  })
  .meta({ title: 'Vigil site', description: 'What is installed at one site: buses, devices and their channels.' });

export type SiteInput = z.input<typeof site>;
export type Site = z.output<typeof site>;
export type Bus = z.output<typeof bus>;
export type SerialBus = z.output<typeof serialBus>;
export type TcpBus = z.output<typeof tcpBus>;
export type Device = z.output<typeof device>;
export type Channel = z.output<typeof channel>;
export type Priority = z.output<typeof priority>;

export function isSerialBus(b: Bus): b is SerialBus {
  return 'serial' in b;
}
