/**
 * npm run bench — runs every benchmark, each in its own process, collects the figures each one writes with
 * `--json FILE`, and writes docs/performance.md: every figure beside its target and its physical or published
 * reference, with the machine, the date and the command. Nothing in the document is typed in: each measured
 * figure comes from a benchmark's JSON, and each theoretical reference is computed (the wire rate by bench:bus
 * from the RTU timing formula, the page floor from the commits counted by bench:outbox).
 *
 * Usage: npm run bench [-- --quick] [--only bus,outbox] [--out docs/performance.md]
 *   --quick  short runs (a few minutes in all): the same figures, with less time behind each one.
 *   --only   a subset: its sections of an existing document are replaced, the others stay as they were.
 *   --budget-minutes N  how long bench:budget runs the broker-up variant (the one-hour judgement of growth: 60).
 *   --from-json DIR  with --only: no run; render the sections again from the JSON files a run left in DIR
 *            (<name>.json), e.g. after the page learnt to show a figure the benchmark already recorded.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { BudgetReport } from './budget.js';
import type { FleetReport } from './fleet.js';
import { serviceNodeFlags } from './support/service-flags.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    'budget-minutes': { type: 'string' },
    'from-json': { type: 'string' },
    out: { type: 'string' },
  },
});
const QUICK = args.quick === true;
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const OUT = args.out ?? join(ROOT, 'docs', 'performance.md');
const PAGE = 4096;

// ————— formatting —————

function fmt(n: number | null | undefined, digits = 0): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return 'n/a';
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

const verdict = (ok: boolean): string => (ok ? 'met' : '**not met**');

// ————— benchmarks —————

interface Bench {
  name: string;
  /** The compiled script under dist/test/bench. */
  script: string;
  args: string[];
  quickArgs: string[];
  /** What it measures, for the document. */
  about: string;
  render(json: unknown): string;
  optional?: boolean;
}

// bench:bus — Result[] (test/bench/bus.ts)
interface BusRow {
  name: string;
  baud: number;
  slaves: number;
  registers: number;
  deadSlaves: number;
  theoreticalPollsPerSec: number;
  pollsPerSec: number;
  ratio: number;
  cpuMsPerPoll: number;
  rssMb: number;
}

function renderBus(json: unknown): string {
  const rows = json as BusRow[];
  const body = table(
    ['scenario', 'polls/s (measured)', 'theoretical wire rate', 'ratio', 'CPU ms per poll'],
    rows.map((r) => [r.name, fmt(r.pollsPerSec, 1), fmt(r.theoreticalPollsPerSec, 1), `${fmt(r.ratio * 100, 1)} %`, fmt(r.cpuMsPerPoll, 3)]),
  );
  const dead: string[] = [];
  for (const baud of [...new Set(rows.map((r) => r.baud))]) {
    const healthy = rows.find((r) => r.baud === baud && r.slaves === 8 && r.registers === 10 && r.deadSlaves === 0);
    const withDead = rows.find((r) => r.baud === baud && r.deadSlaves === 1);
    if (healthy && withDead) {
      dead.push(`${fmt(baud)} baud: one dead slave among 8 costs the line ${fmt((1 - withDead.pollsPerSec / healthy.pollsPerSec) * 100, 1)} % of its polls/s (a dead slave's own share is 12.5 %)`);
    }
  }
  return [
    body,
    '',
    ...dead.map((d) => `- ${d}.`),
    '- Target: the wire rate. Reference: the theoretical FC03 rate for the same frames, computed per row from the RTU',
    '  timing (request 8 characters + response 5 + 2N, 11-bit characters, t3.5 after each, no turnaround).',
    '- Published: users of the ThingsBoard IoT Gateway report serial reads capped near 5/s (thingsboard-gateway #714);',
    '  none of the established gateways publishes polls/s per baud rate.',
  ].join('\n');
}

// bench:safety — { transactionMs, targetMs, results } (test/bench/safety.ts)
interface SafetyDir {
  n: number;
  p50: number;
  p99: number;
  max: number;
  missing: number;
  overtaken: number;
}
interface SafetyJson {
  transactionMs: number;
  targetMs: number;
  results: Array<{ scenario: string; on: SafetyDir; off: SafetyDir; lagP99Ms: number }>;
}

function renderSafety(json: unknown): string {
  const s = json as SafetyJson;
  const rows = s.results.flatMap((r) =>
    (['on', 'off'] as const).map((dir) => {
      const d = r[dir];
      return [
        `${r.scenario}, ${dir.toUpperCase()}`,
        fmt(d.n),
        `${fmt(d.p50, 1)} / ${fmt(d.p99, 1)} / ${fmt(d.max, 1)} ms`,
        `p99 ≤ ${fmt(s.targetMs, 1)} ms`,
        verdict(d.p99 <= s.targetMs),
        fmt(d.missing + d.overtaken),
      ];
    }),
  );
  return [
    table(['scenario', 'crossings', 'p50 / p99 / max (measured)', 'target', '', 'missed'], rows),
    '',
    `- Target: p99 ≤ one bus transaction (median probe read, measured: ${fmt(s.transactionMs, 1)} ms) + 5 ms, with the store`,
    '  normal and with every state commit 500 ms slower.',
    '- Published: NeuronEX control write latency 85 / 523 / 778 ms (min / avg / max); Fledge adds up to 5 s of',
    '  control latency by default.',
  ].join('\n');
}

// bench:outbox — { append, drain, sites } (test/bench/outbox.ts)
interface OutboxJson {
  append: { telemetryPerSec: number; telemetryUsPerAppend: number; eventsPerSec: number; eventUsPerAppend: number };
  drain: { records: number; diskMb: number; openMs: number; recordsPerSec: number; leftAfter: number; rssMb: number };
  sites: Array<{ shape: string; ack: boolean; seconds: number; readings: number; syncs: number; writeBytes: number; deviceBytes: number | null; logBytes: number }>;
}

function renderOutbox(json: unknown): string {
  const o = json as OutboxJson;
  const rows = o.sites.map((r) => {
    // The floor: one 4 KiB page per commit, spread over the readings of the run.
    const floor = (PAGE * r.syncs) / r.readings;
    const perReading = r.writeBytes / r.readings;
    return [
      `${r.shape === 'records' ? '50 records/s' : '1 batch of 50/s'}, ${r.ack ? 'acking' : 'outage'}`,
      fmt(r.syncs),
      fmt(perReading, 1),
      fmt(floor, 1),
      `${fmt(perReading / floor, 2)} ×`,
      verdict(perReading <= 2 * floor),
      r.deviceBytes === null ? 'n/a (not root)' : fmt(r.deviceBytes / r.readings, 1),
    ];
  });
  return [
    table(
      ['figure', 'measured', 'reference'],
      [
        ['telemetry append, main-thread time', `${fmt(o.append.telemetryUsPerAppend, 2)} µs (${fmt(o.append.telemetryPerSec)} records/s)`, 'the safety loop never waits on the disk'],
        ['committed events/s (one fdatasync each)', fmt(o.append.eventsPerSec), '—'],
        [`reopen with ${fmt(o.drain.records)} records (${fmt(o.drain.diskMb, 1)} MiB)`, `${fmt(o.drain.openMs)} ms`, 'full CRC scan at open'],
        ['drain from disk', `${fmt(o.drain.recordsPerSec)} records/s, ${fmt(o.drain.leftAfter)} left`, '—'],
      ],
    ),
    '',
    'Disk writes on a 50-channel, 1 Hz site, default flush interval (1 s):',
    '',
    table(['shape', 'commits', 'write_bytes per reading', 'floor: one 4 KiB page per commit', '× floor', 'target ≤ 2 ×', 'device bytes per reading (journal incl.)'], rows),
    '',
    '- Reference: one 4 KiB page per commit (fdatasync) is the least a durable commit can write; the floor per reading is',
    '  4096 × commits / readings of the run.',
    '- Published failures: Telegraf\'s disk buffer synced once per metric (telegraf #18085). For comparison, SQLite WAL with',
    '  synchronous=FULL writes 8.5 KB per 110-byte record at one record per commit and 382 B at 100 per commit.',
  ].join('\n');
}

// bench:drain — { results } (test/bench/drain.ts)
interface DrainPass {
  name: string;
  tuning: string;
  backlog: number;
  drainSec: number;
  readingsPerSec: number;
  live: { sent: number; received: number; p50: number | null; p99: number | null; max: number | null };
  histDuplicates: number;
  histMissing: number;
  liveDuplicates: number;
  liveMissing: number;
  timedOut: boolean;
}

/** The loopback reference of the notes: mqtt.js → Mosquitto, QoS 1, 100 in flight. */
const LOOPBACK_MSGS_PER_SEC = 100_000;

function renderDrain(json: unknown): string {
  const { results } = json as { results: DrainPass[] };
  const rows = results.map((r) => [
    `${r.name} (${fmt(r.backlog)} readings)`,
    `${fmt(r.readingsPerSec)} readings/s${r.timedOut ? ' (timed out)' : ''}`,
    `${fmt(r.drainSec, 1)} s`,
    `${fmt(r.live.p50, 1)} / ${fmt(r.live.p99, 1)} / ${fmt(r.live.max, 1)} ms`,
    `${fmt(r.histMissing + r.liveMissing)} / ${fmt(r.histDuplicates + r.liveDuplicates)}`,
    verdict(r.histMissing + r.liveMissing === 0 && !r.timedOut),
  ]);
  return [
    table(['pass', 'drain rate (measured)', 'drain time', 'live latency p50 / p99 / max', 'missing / duplicates', 'nothing lost'], rows),
    '',
    `- Reference: ~${fmt(LOOPBACK_MSGS_PER_SEC)} msg/s for mqtt.js → Mosquitto on loopback (QoS 1, 100 in flight) on this machine`,
    '  class; the drain sends up to 500 readings per message, so readings/s may exceed it. The default pass is paced by',
    '  the uplink\'s token bucket on purpose (5,000 readings/s).',
    '- Published: Kura\'s publish ceiling is 1 message/ms; MQTT.js\'s own offline store replays stop-and-wait.',
    `- Tuning: ${results.map((r) => `${r.name}: ${r.tuning}`).join('; ')}.`,
  ].join('\n');
}

// bench:budget (test/bench/budget.ts)
function renderBudget(json: unknown): string {
  const b = json as BudgetReport;
  const rows = b.variants.flatMap((v) => [
    [`${v.name}: RSS, max over the run`, `${fmt(v.rssMaxMb, 1)} MiB`, `≤ ${fmt(b.targets.rssMb)} MB (${fmt(b.rssTargetMiB, 1)} MiB)`, verdict(v.rssMaxMb <= b.rssTargetMiB)],
    [
      `${v.name}: RSS slope (least squares, second half of the run)`,
      `${fmt(v.rssSlopeMbPerHour, 2)} MiB/h over ${fmt(v.seconds / 60, 1)} min`,
      `no growth (≤ ${fmt(b.targets.slopeMbPerHour)} MiB/h over ≥ 30 min)`,
      v.seconds >= 30 * 60 ? verdict(v.rssSlopeMbPerHour <= b.targets.slopeMbPerHour) : 'run too short to judge',
    ],
    // Where growth would come from: anonymous pages (heaps, malloc) or file-backed ones (the binary), and the
    // main thread's heap as the agent itself reports it. Absent from reports made before these were sampled.
    ...(v.heapSamples === undefined
      ? []
      : [
          [
            `${v.name}: RSS slope, anonymous / file-backed pages`,
            `${fmt(v.rssAnonSlopeMbPerHour, 2)} / ${fmt(v.rssFileSlopeMbPerHour, 2)} MiB/h`,
            'what a slope is made of',
            '—',
          ],
          [
            `${v.name}: main-thread heap, used (max of ${fmt(v.heapTotalMaxMb, 1)} MiB allocated)`,
            `max ${fmt(v.heapUsedMaxMb, 1)} MiB, slope ${fmt(v.heapUsedSlopeMbPerHour, 2)} MiB/h (${fmt(v.heapSamples.length)} samples)`,
            'no growth',
            '—',
          ],
        ]),
    [`${v.name}: CPU, one core`, `${fmt(v.cpuPercent, 2)} % (main thread ${fmt(v.mainThreadCpuPercent, 2)} %)`, `≤ ${fmt(b.targets.cpuPercent)} %`, verdict(v.cpuPercent <= b.targets.cpuPercent)],
    [`${v.name}: start → first poll`, `${fmt(v.startToFirstPollMs)} ms`, `≤ ${fmt(b.targets.firstPollMs)} ms`, verdict(v.startToFirstPollMs <= b.targets.firstPollMs)],
    [`${v.name}: polls seen by the simulator`, `${fmt(v.requestsPerSec, 1)} requests/s`, `${fmt(b.devices)} devices at 1 Hz`, '—'],
  ]);
  return [
    table(['figure', 'measured', 'target', ''], rows),
    '',
    `- Site: ${b.channels} channels on ${b.devices} devices (${b.profile}), 1 Hz, ${b.transport === 'tcp' ? 'RTU over TCP' : 'one RS-485 line (a socat pty pair, serialport in the agent)'} from a simulator in its own`,
    `  process; the agent is \`node ${b.nodeFlags.join(' ')} dist/agent/cli/main.js run\`${b.asDeployed ? ' as systemd/vigil.service starts it' : ' (NOT the service\'s flags)'}, everything on but OPC UA. The broker-up variant ran ${fmt(b.minutes, 2)} min,`,
    `  a sample every ${fmt(b.sampleEverySec)} s from /proc/<pid>/status (VmRSS, RssAnon, RssFile) and /proc/<pid>/stat (utime + stime);`,
    '  the heap every 30 s from the agent\'s local API (`GET /v1/status`, `agent.memory`).',
    '- "No growth" is judged on the one-hour run (`npm run bench:budget -- --minutes 60`); a short run\'s slope mostly',
    '  shows warm-up.',
    '- Published: Neuron claims "< 10 MB" and recommends 128 MB of RAM for 100 tags; NeuronEX on a 4-core Xeon: 10k points',
    '  at 1 s take 199 MB and 3 % CPU. Failures: node-red-contrib-modbus grew 60 → 481 MB in 12 h on a Pi Zero (#106);',
    '  ThingsBoard IoT Gateway 1 → 6 GB (#1445) and a 60 s start when offline (#1829).',
  ].join('\n');
}

// bench:fleet (test/bench/fleet.ts)
function renderFleet(json: unknown): string {
  const f = json as FleetReport;
  const histogram = f.reconnectHistogram.map((n, s) => `${s}–${s + 1} s: ${n}`).join(', ');
  return [
    table(
      ['figure', 'measured', 'target / reference'],
      [
        ['agents (uplinks, each with its own outbox)', fmt(f.agents), `${fmt(f.processes)} processes`],
        ['broker down', `${fmt(f.outageSec, 1)} s`, `readings appended meanwhile: ${fmt(f.channelsPerAgent)} per agent per second`],
        ['reconnect spread: first → last reconnect', `${fmt(f.reconnectSpreadSec, 1)} s`, 'spread by full-jitter back-off, not all at once'],
        ['peak connects/s the broker saw', fmt(f.peakConnectsPerSec), `no stampede: far below ${fmt(f.agents)} in one second`],
        ['time until every backlog drained (broker back → last seq received)', `${fmt(f.drainSec, 1)} s`, '—'],
        ['readings appended / received unique', `${fmt(f.appended)} / ${fmt(f.receivedUnique)}`, 'equal'],
        ['lost', fmt(f.lost), verdict(f.lost === 0)],
        ['duplicates (at least once)', fmt(f.duplicates), 'allowed: in flight at the outage'],
      ],
    ),
    '',
    `- Reconnects per second after the broker came back (from Mosquitto's own log): ${histogram}.`,
    '- Published failure: MQTT.js has no reconnect back-off (mqtt.js #561): a restarted broker is stampeded by every',
    '  client at once.',
  ].join('\n');
}

// bench:opcua (test/bench/opcua.ts)
interface OpcuaStartup {
  rssMb: number;
  heapUsedMb: number;
  firstReadingMs: number;
  readyMs: number;
}
interface OpcuaJson {
  runs: number;
  clients: number;
  startup: { off: OpcuaStartup; on: OpcuaStartup };
  safety: Array<{ scenario: string; on: SafetyDir; off: SafetyDir; transactionMs: number }>;
}

function renderOpcua(json: unknown): string {
  const o = json as OpcuaJson;
  const startupRows: Array<[string, (s: OpcuaStartup) => number, string, number]> = [
    ['RSS (1 s after ready)', (s) => s.rssMb, 'MiB', 1],
    ['heap used', (s) => s.heapUsedMb, 'MiB', 1],
    ['start → first reading', (s) => s.firstReadingMs, 'ms', 0],
    ['start → ready', (s) => s.readyMs, 'ms', 0],
  ];
  return [
    table(
      ['figure (median of ' + fmt(o.runs) + ' starts)', 'OPC UA off', 'OPC UA on', 'reference'],
      startupRows.map(([label, pick, unit, digits]) => [
        label,
        `${fmt(pick(o.startup.off), digits)} ${unit}`,
        `${fmt(pick(o.startup.on), digits)} ${unit}`,
        label.startsWith('start → first') ? 'OPC UA must never delay the first poll' : label.startsWith('RSS') ? 'node-opcua alone: 130–180 MiB RSS, ~40 MiB heap' : '—',
      ]),
    ),
    '',
    table(
      ['safety latency (bench:safety scenario)', 'ON p50 / p99 / max', 'OFF p50 / p99 / max', 'target p99 ≤ transaction + 5 ms'],
      o.safety.map((r) => [
        r.scenario,
        `${fmt(r.on.p50, 1)} / ${fmt(r.on.p99, 1)} / ${fmt(r.on.max, 1)} ms`,
        `${fmt(r.off.p50, 1)} / ${fmt(r.off.p99, 1)} / ${fmt(r.off.max, 1)} ms`,
        verdict(Math.max(r.on.p99, r.off.p99) <= r.transactionMs + 5),
      ]),
    ),
    '',
    `- ${fmt(o.clients)} OPC UA clients subscribed to every channel (SignAndEncrypt) in the "on" scenario.`,
    '- Published: OPC UA servers are a paid edition in Neuron and Kura; Fledge ships one.',
  ].join('\n');
}

const BENCHES: Bench[] = [
  {
    name: 'bus',
    script: 'bus.js',
    args: [],
    quickArgs: ['--seconds', '2'],
    about: 'polls/s through the bus owner against a wire-timed simulator in another process, beside the physical limit.',
    render: renderBus,
  },
  {
    name: 'safety',
    script: 'safety.js',
    args: [],
    quickArgs: ['--crossings', '20'],
    about: 'from the Modbus response that crosses a gas setpoint to the relay write leaving on the wire, with the bus saturated.',
    render: renderSafety,
  },
  {
    name: 'outbox',
    script: 'outbox.js',
    args: [],
    quickArgs: ['--backlog', '100000', '--site-seconds', '15', '--appends', '50000', '--events', '300'],
    about: 'append cost, drain of a backlog from disk, bytes written per reading on a 50-channel 1 Hz site.',
    render: renderOutbox,
  },
  {
    name: 'drain',
    script: 'drain.js',
    args: [],
    quickArgs: ['--backlog', '100000', '--default-backlog', '20000'],
    about: 'a backlog to Mosquitto through the uplink, with live readings\' latency meanwhile.',
    render: renderDrain,
  },
  {
    name: 'budget',
    script: 'budget.js',
    args: args['budget-minutes'] !== undefined ? ['--minutes', args['budget-minutes']] : [],
    quickArgs: ['--minutes', '0.75'],
    about: 'RSS, RSS slope, CPU and start-to-first-poll of the agent on a 50-channel site at 1 Hz, broker up and unreachable.',
    render: renderBudget,
  },
  {
    name: 'fleet',
    script: 'fleet.js',
    args: [],
    quickArgs: ['--agents', '60', '--outage', '6'],
    about: '200 uplinks with their own outboxes against one Mosquitto that is restarted: reconnect spread, connect rate, drain.',
    render: renderFleet,
  },
  {
    name: 'opcua',
    script: 'opcua.js',
    args: [],
    quickArgs: ['--runs', '1', '--crossings', '20'],
    about: 'what the OPC UA server costs: RSS and start time with and without it, safety latency while clients subscribe.',
    render: renderOpcua,
    optional: true,
  },
];

// ————— machine —————

function osName(): string {
  try {
    const text = readFileSync('/etc/os-release', 'utf8');
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(text)?.[1];
    if (pretty) return `${pretty}, Linux ${release()}`;
  } catch {
    // not Linux, or no os-release
  }
  return `${process.platform} ${release()}`;
}

function gitCommit(): string {
  const r = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : 'unknown';
}

function mosquittoVersion(): string {
  const binary = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto'].find((path) => existsSync(path)) ?? 'mosquitto';
  const out = spawnSync(binary, ['-h'], { encoding: 'utf8' });
  return `${out.stdout ?? ''}${out.stderr ?? ''}`.split('\n')[0]?.trim() || 'not found';
}

function machine(): string[][] {
  const cpu = cpus();
  return [
    ['CPU', `${cpu[0]?.model.trim() ?? 'unknown'}, ${cpu.length} logical cores`],
    ['RAM', `${fmt(totalmem() / 2 ** 30, 1)} GiB`],
    ['OS', osName()],
    ['Node.js', process.version],
    ['Node flags of each benchmark process and of the agents bench:budget and bench:opcua start (those of systemd/vigil.service; the child processes of bench:outbox and bench:fleet, and simulators, run with Node\'s defaults)', `\`${serviceNodeFlags().join(' ')}\``],
    ['mosquitto', mosquittoVersion()],
  ];
}

// ————— run —————

interface Outcome {
  bench: Bench;
  json?: unknown;
  error?: string;
  seconds: number;
  command: string;
  /** The figures come from a saved JSON (--from-json), not from a run of this invocation. */
  saved?: true;
}

async function runBench(bench: Bench, dir: string): Promise<Outcome> {
  const script = fileURLToPath(new URL(`./${bench.script}`, import.meta.url));
  const benchArgs = QUICK ? bench.quickArgs : bench.args;
  const command = `npm run bench:${bench.name}${benchArgs.length > 0 ? ` -- ${benchArgs.join(' ')}` : ''}`;
  const jsonFile = join(dir, `${bench.name}.json`);
  console.log(`\n━━━ ${command}`);
  const started = performance.now();
  const code = await new Promise<number | null>((resolve) => {
    // Under the service's Node flags: what runs agent code in-process is measured as the agent runs in the field.
    const child = spawn(process.execPath, [...serviceNodeFlags(), script, ...benchArgs, '--json', jsonFile], { stdio: 'inherit', cwd: ROOT });
    child.once('exit', (c, signal) => resolve(signal ? -1 : c));
  });
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) return { bench, error: `exited with ${code}`, seconds, command };
  try {
    return { bench, json: JSON.parse(readFileSync(jsonFile, 'utf8')) as unknown, seconds, command };
  } catch (error) {
    return { bench, error: `no figures: ${(error as Error).message}`, seconds, command };
  }
}

/** A benchmark's figures as a run left them (--from-json): nothing is measured again. */
function savedOutcome(bench: Bench, dir: string): Outcome {
  const jsonFile = join(dir, `${bench.name}.json`);
  const benchArgs = QUICK ? bench.quickArgs : bench.args;
  const command = `npm run bench:${bench.name}${benchArgs.length > 0 ? ` -- ${benchArgs.join(' ')}` : ''}`;
  try {
    const json = JSON.parse(readFileSync(jsonFile, 'utf8')) as unknown;
    return { bench, json, seconds: NaN, command, saved: true };
  } catch (error) {
    return { bench, error: `no figures in ${jsonFile}: ${(error as Error).message}`, seconds: NaN, command };
  }
}

/** Replaces the `## bench:NAME` sections of a generated page by new ones (appending those it lacks). */
function mergeSections(page: string, sections: ReadonlyMap<string, string>): string {
  const parts = page.split(/\n(?=## bench:)/);
  const header = parts.shift() ?? '';
  const existing = new Map(parts.map((part) => [/^## bench:(\S+)/.exec(part)?.[1] ?? '', part.replace(/\n+$/, '')]));
  for (const [name, section] of sections) existing.set(name, section);
  return `${[header.replace(/\n+$/, ''), ...existing.values()].join('\n\n')}\n`;
}

function selected(): Bench[] {
  const only = args.only?.split(',').map((s) => s.trim()).filter(Boolean);
  if (only) {
    const unknown = only.filter((name) => !BENCHES.some((b) => b.name === name));
    if (unknown.length > 0) {
      console.error(`npm run bench: unknown benchmark(s) ${unknown.join(', ')}; known: ${BENCHES.map((b) => b.name).join(', ')}`);
      process.exit(2);
    }
    return BENCHES.filter((b) => only.includes(b.name));
  }
  return BENCHES.filter((b) => !b.optional || existsSync(fileURLToPath(new URL(`./${b.script}`, import.meta.url))));
}

async function main(): Promise<void> {
  const benches = selected();
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-all-'));
  const loadStart = loadavg();
  const date = new Date();
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const outcomes: Outcome[] = [];
  const fromJson = args['from-json'];
  if (fromJson !== undefined && !args.only) {
    console.error('npm run bench: --from-json re-renders sections of an existing page: name them with --only');
    process.exit(2);
  }
  try {
    for (const bench of benches) outcomes.push(fromJson !== undefined ? savedOutcome(bench, fromJson) : await runBench(bench, dir));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const loadEnd = loadavg();

  const doc: string[] = [
    '# Performance',
    '',
    `<!-- Generated by \`${command}\` (test/bench/all.ts). Do not edit: run it again. -->`,
    '',
    'Every figure below was measured by the benchmark named in its section, on the machine described here, and written',
    'into this page by `npm run bench`. Targets come from the project\'s requirements; references are either computed',
    '(the physical limit of the same work) or published figures of established gateways, cited with their source.',
    QUICK ? '\n**Quick run** (`--quick`): short durations, so the figures have less time behind them than a full run.' : '',
    '',
    table(
      ['', ''],
      [
        ['date', date.toISOString().replace(/\.\d+Z$/, 'Z')],
        ['command', `\`${command}\``],
        ['commit', gitCommit()],
        ...machine(),
        ['load average (1 min) at start / end', `${fmt(loadStart[0], 2)} / ${fmt(loadEnd[0], 2)}`],
      ],
    ),
    '',
    'The machine is shared: a load average above the core count means other work ran beside the benchmarks, which',
    'lowers throughput figures and raises latency tails.',
  ];
  const sections = new Map<string, string>();
  for (const o of outcomes) {
    const lines = [`## bench:${o.bench.name}`, '', `${o.bench.about[0]!.toUpperCase()}${o.bench.about.slice(1)}`, ''];
    if (o.saved) {
      lines.push(`Command: \`${o.command}\`, in the run this page's header describes; this section was rendered again from the figures that run wrote (\`--from-json\`).`);
    } else {
      lines.push(`Command: \`${o.command}\` (${fmt(o.seconds)} s).`);
      if (args.only) lines.push(`Run on its own on ${date.toISOString().replace(/\.\d+Z$/, 'Z')} at commit ${gitCommit()}, load average ${fmt(loadStart[0], 2)} → ${fmt(loadEnd[0], 2)}.`);
    }
    lines.push('');
    if (o.error !== undefined) lines.push(`**Failed**: ${o.error}. No figures.`);
    else {
      try {
        lines.push(o.bench.render(o.json));
      } catch (error) {
        lines.push(`**Figures could not be read**: ${(error as Error).message}`);
      }
    }
    sections.set(o.bench.name, lines.join('\n'));
  }
  if (args.only && existsSync(OUT)) {
    // A subset re-run replaces only its own sections of the existing page; the rest, and its header, stay.
    writeFileSync(OUT, mergeSections(readFileSync(OUT, 'utf8'), sections));
  } else {
    for (const section of sections.values()) doc.push('', section);
    writeFileSync(OUT, `${doc.join('\n')}\n`);
  }
  const failed = outcomes.filter((o) => o.error !== undefined);
  console.log(`\nnpm run bench: wrote ${OUT} (${outcomes.length - failed.length}/${outcomes.length} benchmarks${failed.length > 0 ? `; failed: ${failed.map((o) => o.bench.name).join(', ')}` : ''})`);
  if (failed.length > 0) process.exitCode = 1;
}

await main();
