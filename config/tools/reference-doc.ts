import { GAS_DEFAULTS } from '../../agent/safety/alarms/gas-defaults.js';
import type { DefaultLevel } from '../../agent/safety/alarms/gas-defaults.js';
import { DURATION_PATTERN } from '../schema/common.js';
import { deviceState } from '../schema/profile.js';
import { describeSettings } from '../settings.js';
import type { JsonSchema } from './json-schemas.js';
import { profileJsonSchema, siteJsonSchema } from './json-schemas.js';

/**
 * docs/configuration.md: a hand-written introduction, then reference tables generated from the very schemas
 * the loader and the settings use, so the documentation cannot drift from what is accepted.
 */

interface Row {
  path: string;
  type: string;
  default: string;
  description: string;
  /** Variants of a union this field belongs to, when not all of them. */
  onlyIn?: string[];
}

const PATTERN_NAMES = new Map<string, string>([
  [DURATION_PATTERN.source, 'duration'],
  ['^[A-Za-z][A-Za-z0-9_.-]{0,63}$', 'id'],
  ['^[a-z][a-z0-9_]{0,47}$', 'register name'],
  ['^[a-z0-9][a-z0-9-]{0,63}$', 'profile id'],
  ['^(\\d|1[0-5])(-(\\d|1[0-5]))?$', 'bit range ("3", "8-11")'],
  ['^(0x[0-9a-fA-F]+|\\d+)$', 'register value (decimal or 0x hex)'],
  ['^(\\d|1[0-5])$', 'bit number 0-15'],
  ['^[A-Za-z][A-Za-z0-9_]*$', 'param name'],
  ['^[A-Za-z0-9_.*-]+$', 'channel id or pattern ("tank1.*")'],
]);

const ENUM_NAMES = new Map<string, string>([[JSON.stringify(deviceState.options), 'device state']]);

/** A variant of a union is named after a key only it requires. */
const VARIANT_NAMES: Record<string, string> = {
  serial: 'serial buses',
  tcp: 'TCP buses',
  fn: 'read registers',
  compute: 'computed registers',
};

function describeType(schema: JsonSchema): string {
  if (schema.enum) {
    return ENUM_NAMES.get(JSON.stringify(schema.enum)) ?? schema.enum.map((v) => `\`${JSON.stringify(v)}\``).join(', ');
  }
  if (schema.const !== undefined) return `\`${JSON.stringify(schema.const)}\``;
  const union = schema.anyOf ?? schema.oneOf;
  if (union) {
    if (union.every(isObjectLike)) return 'mapping';
    return [...new Set(union.map(describeType))].join(' or ');
  }
  switch (schema.type) {
    case 'string': {
      if (schema.pattern) return PATTERN_NAMES.get(schema.pattern) ?? `text matching \`${schema.pattern}\``;
      return 'text';
    }
    case 'integer':
    case 'number': {
      const kind = schema.type === 'integer' ? 'integer' : 'number';
      const low = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? `>${schema.exclusiveMinimum}` : undefined);
      const high = schema.maximum !== undefined && schema.maximum < Number.MAX_SAFE_INTEGER ? schema.maximum : undefined;
      if (low !== undefined && high !== undefined) return `${kind} ${low}–${high}`;
      if (low !== undefined) return typeof low === 'string' ? `${kind} ${low}` : `${kind} ≥ ${low}`;
      if (high !== undefined) return `${kind} ≤ ${high}`;
      return kind;
    }
    case 'boolean':
      return '`true` or `false`';
    case 'array':
      return schema.items ? `list of ${describeType(schema.items)}` : 'list';
    case 'object':
      if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
        const keys = schema.propertyNames ? describeType(schema.propertyNames) : 'name';
        return `mapping of ${keys} → ${describeType(schema.additionalProperties)}`;
      }
      return 'mapping';
    default:
      return 'any';
  }
}

function isObjectLike(schema: JsonSchema): boolean {
  return schema.type === 'object' && (schema.properties !== undefined || typeof schema.additionalProperties === 'object');
}

function variantName(branch: JsonSchema, all: JsonSchema[]): string {
  // A tagged union names its variants by the tag: "profile: sparkplug".
  const tag = Object.entries(branch.properties ?? {}).find(([, property]) => property.const !== undefined);
  if (tag) return `${tag[0]}: ${String(tag[1].const)}`;
  const requiredOnlyHere = (key: string): boolean =>
    all.every((other) => other === branch || !(other.required ?? []).includes(key));
  const own = (branch.required ?? []).find(requiredOnlyHere);
  return own === undefined ? 'one variant' : VARIANT_NAMES[own] ?? `entries with "${own}"`;
}

function rowsOf(schema: JsonSchema, prefix: string): Row[] {
  const union = schema.anyOf ?? schema.oneOf;
  if (union && union.every(isObjectLike)) {
    const branches = union;
    const merged = new Map<string, Row & { variants: string[] }>();
    for (const branch of branches) {
      const name = variantName(branch, branches);
      for (const row of rowsOf(branch, prefix)) {
        const existing = merged.get(row.path);
        if (existing) {
          existing.variants.push(name);
          // The tag itself: one constant per variant, listed together.
          if (!existing.type.split(', ').includes(row.type)) existing.type = `${existing.type}, ${row.type}`;
        } else {
          merged.set(row.path, { ...row, variants: [name] });
        }
      }
    }
    return [...merged.values()].map(({ variants, ...row }) =>
      variants.length < branches.length ? { ...row, onlyIn: variants } : row,
    );
  }
  if (schema.type === 'array' && schema.items) return rowsOf(schema.items, `${prefix}[]`);
  if (schema.type !== 'object') return [];

  const rows: Row[] = [];
  const required = new Set(schema.required ?? []);
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    if (name === '$schema') continue;
    const path = prefix === '' ? name : `${prefix}.${name}`;
    rows.push({
      path,
      type: describeType(property),
      default:
        property.default !== undefined
          ? `\`${JSON.stringify(property.default)}\``
          : required.has(name)
            ? '**required**'
            : '',
      description: property.description ?? '',
    });
    rows.push(...rowsOf(property, path));
  }
  if (typeof schema.additionalProperties === 'object' && isObjectLike(schema.additionalProperties)) {
    rows.push(...rowsOf(schema.additionalProperties, `${prefix}.<name>`));
  }
  return rows;
}

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function table(rows: Row[]): string {
  const lines = ['| Field | Type | Default | Description |', '|---|---|---|---|'];
  for (const row of rows) {
    const only = row.onlyIn ? ` *(${row.onlyIn.join(', ')} only)*` : '';
    lines.push(`| \`${cell(row.path)}\` | ${cell(row.type)} | ${cell(row.default)} | ${cell(row.description)}${only} |`);
  }
  return lines.join('\n');
}

function settingsTable(): string {
  const lines = ['| Key | Environment variable | Default | Description |', '|---|---|---|---|'];
  for (const setting of describeSettings()) {
    const fallback = setting.default === null ? 'unset' : `\`${String(setting.default)}\``;
    lines.push(`| \`${setting.key}\` | \`${setting.env ?? ''}\` | ${fallback} | ${cell(setting.doc)} |`);
  }
  return lines.join('\n');
}

const INTRO = `# Configuring Vigil

<!-- Generated by \`npm run build && npm run schema\` from config/schema/*.ts and config/settings.ts.
     Edit those (or the introduction in config/tools/reference-doc.ts), not this file. -->

A gateway is configured by three things, each changed by different people at different times:

| What | Where | Who changes it | Holds |
|---|---|---|---|
| **Site file** | \`/etc/vigil/site.yaml\` (setting \`siteFile\`) | the technician who installs the site | the buses (RS-485 lines), the devices on them and their channels, alarm levels, relays and their rules |
| **Driver profiles** | \`drivers/profiles/*.yaml\`, plus the site's \`profileDirs\` | whoever adds a device model | the register map of one device model: addresses, types, scaling, status words |
| **Settings** | \`VIGIL_*\` environment variables, or a settings file | whoever runs the machine | broker URL, credential file paths, data folder, log level |

A device in the site file names its **profile** by id and maps **channels** to the profile's **registers**
by name. So a site file contains no Modbus addresses at all: those live once, in the profile. Settings hold
nothing about the site, so the same site file runs unchanged on the installed gateway and on a spare.

## Checking

\`\`\`sh
vigil check /etc/vigil/site.yaml            # the site and every profile it uses
\`\`\`

Every problem is reported at once, one per line: \`file:line:column  path  message  (hint)\`, for example

\`\`\`text
site.yaml:14:14  devices[0].profile  no profile "gas-modul-10reg"  (did you mean "gas-module-10reg"?)
site.yaml:23:37  devices[1].channels[0].register  profile "crack-drawwire-u16" has no register "displacment"  (did you mean "displacement"? (registers: displacement))
\`\`\`

An invalid site file is never started: the agent refuses it and keeps nothing half-applied.

Beyond the field types below, the check also verifies:

- ids are unique: bus ids, device ids, and channel ids across the whole site; register names within a profile;
- every device's \`bus\` and \`profile\` exist, every channel's \`register\` exists in that profile;
- no two buses use one serial port (also when one path is a symlink to the other) or one TCP host:port;
- no two devices on one bus share a unit id;
- a channel of a computed register gives every param that has no default, and no unknown ones;
- \`fastInterval\` is not longer than the interval it accelerates;
- alarms: a level is complete (a band has \`low\` below \`high\`; rising and falling levels have a setpoint, written
  or from the gas default); an alarm without \`gas\` gives L1 or L2; L1 is below L2 for a rising alarm (above for
  a falling one; an L2 lies outside an L1 band); every level can clear again; \`lelBasis\` only with \`gas: ch4\`;
  the setpoints can be written in \`setpointUnit\` and the readings converted to it — a gas alarm on a register that
  reports no unit needs the channel's \`unit\` ("state the unit"); \`accelerate\` names existing devices;
- crack grading: at least one criterion (cumulative, rate, tangent) that grades something, thresholds rising
  blue < yellow < orange < red (the tangent defaults included), windows longer than 0, a value in mm;
- outputs: ids unique and distinct from channel ids; exactly one of \`modbus\` / \`gpio\`; the Modbus device and
  register exist and the register is a writable coil (fn 1) or holding register (fn 3); one output per coil and
  per GPIO line; \`when\` is given, except for the healthy output, which takes none; every channel selector
  matches a channel, and an alarm or crack rule matches a channel that can reach its level (a rule that can
  never fire is an error); \`input\` conditions and \`feedback.channel\` are contacts (a GPIO contact input or a
  one-bit register); \`minOn\` is at most a day and \`minOff\` at most an hour; an override expires within a day;
- GPIO inputs: ids unique among all channels, one input or output per line, \`perPulse\` only on counters;
- in profiles: \`status\`, \`decimalsFrom\` and \`unitFrom\` name existing registers (a status register needs
  \`states\`); \`bit\` and \`bits\` go with types \`bit\` and \`bitfield\`; 32-bit types only on fn 3/4; coils and
  discrete inputs (fn 1/2) are type \`bit\`; only fn 1 and fn 3 are writable; every address exists in the
  profile's \`addressBase\` (there is no address 0 when counting from 1); computed expressions parse, use only
  registers and declared params, and do not depend on themselves.

Warnings (printed, not fatal) point at things that are legal but often unintended, such as a bus baud rate that
differs from the profile's factory setting.

## Editor completion

The JSON Schemas \`config/site.schema.json\` and \`config/profile.schema.json\` give completion, hover help and
inline errors in any editor with the YAML language server (VS Code: the "YAML" extension by Red Hat). Put a
first line pointing at the schema, relative to the file or as a URL:

\`\`\`yaml
# yaml-language-server: $schema=../site.schema.json
\`\`\`

The example sites in \`config/examples/\` and the shipped profiles carry this line already.

## Safety control

A channel with \`alarm\` has two levels: **L1**, the warning (a fan starts, the platform is told), and **L2**, the
alarm (latched: it stays until acknowledged *and* the value is back under L1). \`gas\` gives the default levels;
write only what differs, e.g. \`L1: { setpoint: 5 }\` keeps the default direction, deadband and delays. A fault
(no answer, a status word that says so, a sentinel, a value out of range, a value stuck for \`stuckAfter\`) is its
own state and never reads as 0; over-range counts as above L2.

GAS_DEFAULTS_TABLE

A crack gauge channel with \`crack\` is graded blue < yellow < orange < red on the opening since its baseline
(\`cumulative\`, mm), on the opening rate over a sliding window (\`rate\`, mm/h or mm/d) and on the improved tangent
angle (\`tangent\`, degrees, once a steady-stage velocity is known). Any warning switches the channel's device (or
the devices in \`accelerate\`) to its \`fastInterval\`.

An **output** is a relay: a coil of a Modbus relay board (\`modbus\`) or a line of the gateway (\`gpio\`). It is on
while any condition under \`when.any\` holds — \`{ alarm: L1, channels: [...] }\`, \`{ fault: true, channels: [...] }\`,
\`{ crack: orange, channels: [...] }\` or \`{ input: tank1.lid, is: on }\` — and kept on and off for \`minOn\` /
\`minOff\`. Channels are named by id or by a pattern where \`*\` stands for any characters (\`tank1.*\`). A fan
also runs while a probe of its rule is in fault. The \`healthy\` output has no rule: it is energised while the
safety loop runs and drops when the agent stops.

## Durations

Intervals and back-offs are written with their unit: \`500ms\`, \`2s\`, \`5m\`, \`1h\`, \`7d\`. A bare number is
refused, because "30" could mean seconds or minutes.

## Profile folders

Profiles are searched in this order; the first folder that has an id wins:

1. folders given to \`vigil check --profile-dir\`,
2. the site's \`profileDirs\`, relative to the site file,
3. the shipped \`drivers/profiles\`.

So a site can override a shipped profile by giving its own with the same id. Two files with the same id in one
folder are an error. To check a single profile file on its own, use \`checkProfileFile\` (the same messages).
`;

/** The default gas levels, from the table the alarm engine uses. */
function gasDefaultsTable(): string {
  const level = (spec: DefaultLevel, unit: string): string =>
    spec.direction === 'band'
      ? `outside ${spec.low}–${spec.high} ${unit}`
      : `${spec.direction === 'rising' ? '≥' : '≤'} ${spec.setpoint} ${unit}`;
  const lines = ['| `gas` | L1 (warning) | L2 (alarm, latched) |', '|---|---|---|'];
  for (const [gas, defaults] of Object.entries(GAS_DEFAULTS)) {
    const { L1, L2 } = defaults.levels;
    lines.push(`| \`${gas}\` | ${level(L1, defaults.setpointUnit)} | ${level(L2, defaults.setpointUnit)} |`);
  }
  return lines.join('\n');
}

export function configurationDoc(): string {
  return [
    INTRO.replace('GAS_DEFAULTS_TABLE', gasDefaultsTable()),
    '## Site file reference',
    '',
    siteJsonSchema().description ?? '',
    '',
    table(rowsOf(siteJsonSchema(), '')),
    '',
    '## Driver profile reference',
    '',
    profileJsonSchema().description ?? '',
    '',
    table(rowsOf(profileJsonSchema(), '')),
    '',
    `A **device state** is one of ${deviceState.options.map((s) => `\`${s}\``).join(', ')}. ` +
      (deviceState.description ?? ''),
    '',
    '## Settings reference',
    '',
    'Lowest precedence first: the default, the settings file (YAML or JSON, same keys, nested: `mqtt: { url: … }`),',
    'the environment variable, the command line. An empty variable (`VIGIL_MQTT_URL=`) counts as unset. Secrets',
    'are never settings themselves: the settings name the files that hold them.',
    '',
    settingsTable(),
    '',
  ].join('\n');
}
