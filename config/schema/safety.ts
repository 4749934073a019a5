import { z } from 'zod';
import { duration, identifier } from './common.js';

/**
 * Local safety control, as a technician writes it in the site file: alarm levels per channel, crack-gauge
 * warning grades, the outputs (fan, siren, relays) and the plain rules that drive them, and GPIO lines.
 * Defaults come from GB/T 50493-2019, GBZ 2.1 and vendor practice (see docs/safety.md); every one can be
 * changed per channel.
 */

export const gasKind = z
  .enum(['ch4', 'h2s', 'co', 'nh3', 'o2'])
  .meta({ description: 'The gas a probe measures; selects the default alarm levels for that gas.' });

export const alarmLevelName = z.enum(['L1', 'L2']).meta({
  description: 'L1 = warning (fan on, report); L2 = alarm (latched, urgent). Over-range counts as above L2.',
});

export const crackGrade = z
  .enum(['blue', 'yellow', 'orange', 'red'])
  .meta({ description: 'Geohazard warning grade, from least to most severe.' });

/** A delay written as a duration ("5s") or as a count of consecutive samples ({ samples: 3 }). */
export const alarmDelay = z
  .union([duration, z.strictObject({ samples: z.number().int().min(1).max(1000) })])
  .meta({ description: 'A duration ("5s") or a number of consecutive samples ({ samples: 3 }).' });

export const alarmLevel = z
  .strictObject({
    direction: z
      .enum(['rising', 'falling', 'band'])
      .optional()
      .meta({ description: 'rising: alarm at or above setpoint; falling: at or below; band: outside low..high.' }),
    setpoint: z.number().optional().meta({ description: 'For rising/falling; in setpointUnit.' }),
    low: z.number().optional().meta({ description: 'For band: alarm below this.' }),
    high: z.number().optional().meta({ description: 'For band: alarm above this.' }),
    deadband: z
      .number()
      .min(0)
      .optional()
      .meta({ description: 'How far back past the setpoint the value must go to clear; default 20 % of the setpoint.' }),
    delayOn: alarmDelay.optional().meta({ description: 'How long the condition must hold before the alarm is raised.' }),
    delayOff: alarmDelay.optional().meta({ description: 'How long the clear condition must hold before it clears.' }),
    latch: z
      .boolean()
      .optional()
      .meta({ description: 'Stays raised until acknowledged AND the value is back below L1 (default: L2 latches).' }),
  })
  .meta({ description: 'One alarm level of a channel.' });

export const channelAlarm = z
  .strictObject({
    gas: gasKind.optional(),
    setpointUnit: z
      .string()
      .min(1)
      .optional()
      .meta({ description: 'Unit the setpoints are written in (default: %LEL for CH4, ppm for toxic gases, %vol for O2).' }),
    lelBasis: z
      .number()
      .positive()
      .max(100)
      .optional()
      .meta({
        description:
          'CH4 %vol at 100 %LEL used to compare a %vol probe with %LEL setpoints: 5 (Chinese practice, default) or 4.4 (IEC 60079-20-1).',
      }),
    L1: alarmLevel.optional(),
    L2: alarmLevel.optional(),
    faultAfter: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(3)
      .meta({ description: 'Consecutive failed polls after which the channel is in fault.' }),
    maxWarmUp: duration
      .optional()
      .meta({ description: 'A probe still warming up after this long is in fault (default 10 min).' }),
    stuckAfter: duration
      .optional()
      .meta({ description: 'A value that has not changed at all for this long is a fault (a frozen sensor).' }),
    accelerate: z
      .array(identifier)
      .optional()
      .meta({ description: "Devices switched to their fast intervals while a level is raised (default: the channel's device)." }),
  })
  .meta({ description: 'Alarm levels of a channel (gas probes get defaults from their gas).' });

const threshold = (grade: string) =>
  z
    .number()
    .positive()
    .optional()
    .meta({ description: `${grade} from this value up (leave out a grade that is not used; grades must rise).` });

const gradeThresholds = {
  blue: threshold('Blue'),
  yellow: threshold('Yellow'),
  orange: threshold('Orange'),
  red: threshold('Red'),
};

export const crackWarning = z
  .strictObject({
    baseline: z
      .union([z.literal('first-reading'), z.number()])
      .default('first-reading')
      .meta({
        description:
          'Displacement that counts as zero: taken from the first good reading and stored (re-set by command), or a fixed number.',
      }),
    cumulative: z
      .strictObject(gradeThresholds)
      .optional()
      .meta({ description: 'Grades on |displacement − baseline|, in mm.' }),
    rate: z
      .strictObject({
        window: duration.prefault('1h').meta({ description: 'Sliding window the rate is measured over.' }),
        per: z.enum(['h', 'd']).default('h').meta({ description: 'Thresholds in mm per hour or per day.' }),
        ...gradeThresholds,
      })
      .optional()
      .meta({ description: 'Grades on the opening rate over a sliding window.' }),
    tangent: z
      .strictObject({
        steadyVelocity: z.number().positive().meta({ description: 'Steady-stage velocity v, mm/d.' }),
        window: duration.prefault('1d').meta({ description: 'Time step Δt of the tangent angle.' }),
        blue: z.number().min(0).max(90).default(44).meta({ description: "≈45° is steady creep: blue from 44°." }),
        yellow: z.number().min(0).max(90).default(46).meta({ description: "Clearly accelerating: yellow above 46°." }),
        orange: z.number().min(0).max(90).default(80).meta({ description: 'Sharply accelerating: orange from 80°.' }),
        red: z.number().min(0).max(90).default(85).meta({ description: 'Near failure: red from 85°.' }),
      })
      .optional()
      .meta({ description: 'Improved tangent-angle criterion: T = S/v, α = arctan(ΔT/Δt); grades at angles in degrees.' }),
    accelerate: z
      .array(identifier)
      .optional()
      .meta({ description: "Devices switched to their fast intervals while a grade is raised (default: the channel's device)." }),
  })
  .meta({ description: 'Warning grades of a crack gauge channel.' });

/** A channel id, or a pattern with * (e.g. "tank1.*"). */
export const channelSelector = z
  .string()
  .regex(/^[A-Za-z0-9_.*-]+$/, 'a channel id or a pattern with * (e.g. "tank1.*")')
  .meta({ description: 'A channel id, or a pattern where * stands for any characters ("tank1.*").' });

export const ruleCondition = z
  .union([
    z.strictObject({
      alarm: alarmLevelName.meta({ description: 'Any of the channels at this level or above.' }),
      channels: z.array(channelSelector).min(1),
    }),
    z.strictObject({
      fault: z.literal(true).meta({ description: 'Any of the channels in fault (or silent).' }),
      channels: z.array(channelSelector).min(1),
    }),
    z.strictObject({
      crack: crackGrade.meta({ description: 'Any of the channels at this grade or above.' }),
      channels: z.array(channelSelector).min(1),
    }),
    z.strictObject({
      input: identifier.meta({ description: 'A contact channel (GPIO input or Modbus bit).' }),
      is: z.enum(['on', 'off']).meta({ description: 'on: while the contact is active; off: while it is not.' }),
    }),
  ])
  .meta({ description: 'One reason to switch an output on.' });

export const gpioLine = z
  .strictObject({
    chip: z
      .string()
      .min(1)
      .optional()
      .meta({ description: 'Chip label (e.g. "pinctrl-bcm2711", "pinctrl-rp1") or name ("gpiochip0"); default: the chip that has the line.' }),
    line: z
      .union([z.number().int().min(0).max(1023), z.string().min(1)])
      .meta({ description: 'Line offset on the chip, or the line name (e.g. "GPIO17"). Never a global sysfs number.' }),
    activeLow: z
      .boolean()
      .default(false)
      .meta({ description: 'true: the line is on when the wire is low (a contact to ground with a pull-up).' }),
  })
  .meta({ description: 'One GPIO line, named by chip and offset or by line name.' });

export const output = z
  .strictObject({
    id: identifier.meta({ description: 'Unique among outputs and channels; names the output in events.' }),
    name: z.string().optional().meta({ description: 'What it switches, for people.' }),
    kind: z
      .enum(['fan', 'sounder', 'relay', 'healthy'])
      .default('relay')
      .meta({
        description:
          'fan: ventilation (fail-safe on); sounder: siren/beacon (can be silenced); relay: anything else; ' +
          'healthy: the "system OK" output, energised while the safety loop runs (no rule).',
      }),
    modbus: z
      .strictObject({
        device: identifier.meta({ description: 'The id of the device (e.g. the relay board).' }),
        register: z
          .string()
          .min(1)
          .meta({ description: 'A writable coil (fn 1) or holding register (fn 3) of its profile, e.g. "relay_1".' }),
      })
      .optional()
      .meta({ description: 'A writable coil or register of a Modbus device (e.g. a relay board).' }),
    gpio: gpioLine.optional(),
    when: z
      .strictObject({
        any: z.array(ruleCondition).min(1).meta({ description: 'The conditions; the output is on while any of them holds.' }),
      })
      .optional()
      .meta({ description: 'On while any of these holds (plus min on/off times). Required except for healthy.' }),
    minOn: duration.prefault('10m').meta({ description: 'Once on, it stays on at least this long.' }),
    minOff: duration
      .prefault('2m')
      .meta({
        description: 'Once off, it stays off at least this long (protects motors); an alarm or fault still starts a fan or sounder at once.',
      }),
    persistentAfter: duration
      .optional()
      .meta({ description: 'Report "persistent exceedance" when the rule has kept it on this long.' }),
    interlock: z
      .strictObject({
        alarm: alarmLevelName,
        channels: z.array(channelSelector).min(1).meta({ description: 'The channels whose level blocks it.' }),
      })
      .optional()
      .meta({
        description: 'Do not switch on while any of these channels is at this level (a non-Ex fan at CH4 ≥ L2): escalate instead.',
      }),
    feedback: z
      .strictObject({
        channel: identifier.meta({ description: 'A contact or coil read-back channel that follows the output.' }),
        within: duration
          .prefault('10s')
          .meta({ description: 'It must follow the command within this time, else "output failed" is reported.' }),
        retries: z.number().int().min(0).max(10).default(2).meta({ description: 'Commands repeated after a failure.' }),
      })
      .optional()
      .meta({ description: 'Checking that the relay really switched.' }),
    safeState: z
      .enum(['on', 'off'])
      .optional()
      .meta({ description: 'The state when the agent cannot decide (default: on for fans, off otherwise).' }),
    onStartup: z
      .enum(['persisted', 'safe', 'hold'])
      .default('persisted')
      .meta({ description: 'persisted: the last commanded state; safe: safeState; hold: leave it until a rule decides.' }),
    onShutdown: z
      .enum(['safe', 'hold'])
      .default('hold')
      .meta({ description: 'When the agent stops: safe: switch to safeState; hold: leave it as it is.' }),
    maxOverride: duration
      .prefault('8h')
      .meta({ description: 'The longest a manual force may last (every force expires); at most 1d.' }),
  })
  .meta({ description: 'A relay the gateway drives, and the rule that drives it.' });

export const gpioInput = z
  .strictObject({
    id: identifier.meta({ description: 'Channel id of the input; unique among all channels.' }),
    name: z.string().optional().meta({ description: 'What it senses, for people.' }),
    line: gpioLine,
    kind: z
      .enum(['contact', 'counter'])
      .default('contact')
      .meta({ description: 'contact: on/off (lid, detector contact, fan running); counter: counts pulses (rain-gauge tips).' }),
    bias: z
      .enum(['as-is', 'pull-up', 'pull-down', 'disabled'])
      .default('as-is')
      .meta({
        description:
          "The line's internal resistor: pull-up for a dry contact to ground, pull-down for one to 3.3 V; as-is leaves the firmware's setting (config.txt). Set by the character device backend; the sysfs backend cannot, and says so.",
      }),
    debounce: duration.prefault('50ms').meta({ description: 'A change must hold this long to count (contacts bounce).' }),
    interval: duration.prefault('5s').meta({ description: 'Report interval (changes of a contact are reported at once).' }),
    perPulse: z.number().positive().default(1).meta({ description: 'Counter: engineering units per pulse (0.2 mm per tip).' }),
    unit: z.string().optional().meta({ description: 'Counter: unit of the counted value (e.g. "mm").' }),
    indicator: z.string().optional().meta({ description: "The platform's indicator code for this channel." }),
  })
  .meta({ description: 'A GPIO input: a debounced contact or a pulse counter, reported as a channel.' });

export const gpio = z
  .strictObject({
    backend: z
      .enum(['auto', 'chardev', 'sysfs', 'simulated'])
      .default('auto')
      .meta({ description: 'auto: the character device when present, else sysfs.' }),
    inputs: z.array(gpioInput).default([]).meta({ description: 'Contacts and pulse counters, reported as channels.' }),
  })
  .meta({ description: 'GPIO of the gateway itself.' });

export type GasKind = z.output<typeof gasKind>;
export type AlarmLevelName = z.output<typeof alarmLevelName>;
export type CrackGrade = z.output<typeof crackGrade>;
export type AlarmDelay = z.output<typeof alarmDelay>;
export type AlarmLevelSpec = z.output<typeof alarmLevel>;
export type ChannelAlarm = z.output<typeof channelAlarm>;
export type CrackWarning = z.output<typeof crackWarning>;
export type RuleCondition = z.output<typeof ruleCondition>;
export type GpioLine = z.output<typeof gpioLine>;
export type Output = z.output<typeof output>;
export type GpioInput = z.output<typeof gpioInput>;
export type Gpio = z.output<typeof gpio>;
