// Stands in for the libgpiod command-line tools (v1 or v2 dialect) over a "world" folder, so the character-device
// backend's process handling can be tested on a machine without GPIO. Nothing here touches real hardware.
//
//   node fake-libgpiod.mjs <tool> <world> [tool arguments…]
//
// world/config.json  { "version": "1.6.3" | "2.2.1", "chips": [{ "name", "label", "lineNames": [...] }] }
// world/wire-<chip>-<offset>   "0"/"1": what the outside drives onto an input (tests write it)
// world/held-<chip>-<offset>   JSON: who holds the line (written by gpioset/gpiomon while they run)
// world/log                    one line per request and release, for the tests to read
import { appendFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [tool, world, ...args] = process.argv.slice(2);
const config = JSON.parse(readFileSync(join(world, 'config.json'), 'utf8'));
const major = Number(config.version.split('.')[0]);

const log = (text) => appendFileSync(join(world, 'log'), `${text}\n`);
const fail = (message) => {
  process.stderr.write(`${tool}: ${message}\n`);
  process.exit(1);
};
const chipNamed = (name) => config.chips.find((chip) => chip.name === name) ?? fail(`cannot find GPIO chip character device '${name}'`);
const heldPath = (chip, offset) => join(world, `held-${chip}-${offset}`);
const wirePath = (chip, offset) => join(world, `wire-${chip}-${offset}`);
const held = (chip, offset) => (existsSync(heldPath(chip, offset)) ? JSON.parse(readFileSync(heldPath(chip, offset), 'utf8')) : undefined);
const wire = (chip, offset) => (existsSync(wirePath(chip, offset)) ? readFileSync(wirePath(chip, offset), 'utf8').trim() === '1' : false);

/** Splits arguments the way each dialect's getopt would: options (with values) and positionals. */
function parse(valueOptions) {
  const options = {};
  const positional = [];
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index];
    if (arg.startsWith('--')) {
      const [name, inline] = arg.slice(2).split(/=(.*)/s);
      options[name] = inline ?? (valueOptions.includes(name) ? args[++index] : true);
    } else {
      positional.push(arg);
    }
  }
  return { options, positional };
}

const KNOWN = {
  1: { gpioset: ['mode'], gpiomon: ['format', 'line-buffered', 'bias'], gpioget: ['bias'], gpioinfo: [], gpiodetect: [] },
  2: { gpioset: ['banner', 'consumer', 'chip'], gpiomon: ['banner', 'consumer', 'chip', 'edges', 'format', 'bias'], gpioget: ['chip', 'bias'], gpioinfo: ['chip'], gpiodetect: [] },
};
/** The bias values each dialect's tools accept (v1 spells "disable", v2 "disabled" and has no "as-is"). */
const BIASES = { 1: ['as-is', 'disable', 'pull-down', 'pull-up'], 2: ['pull-down', 'pull-up', 'disabled'] };

if (args[0] === '--version') {
  process.stdout.write(`${tool} (libgpiod) v${config.version}\nCopyright (C) 2017-2023 Bartosz Golaszewski\n`);
  process.exit(0);
}

const { options, positional } = parse(['mode', 'format', 'consumer', 'chip', 'edges']);
for (const name of Object.keys(options)) {
  if (!KNOWN[major][tool].includes(name)) fail(`unrecognized option '--${name}'`);
}
if (options.bias !== undefined && !BIASES[major].includes(options.bias)) fail(`invalid bias: ${options.bias}`);

/** The chip and offsets this call is about: v1 positionally, v2 with --chip. */
function target() {
  if (major === 1) {
    const [chip, ...rest] = positional;
    return { chip: chipNamed(chip ?? fail('gpiochip must be specified')), rest };
  }
  return { chip: chipNamed(options.chip ?? fail('this fake needs --chip')), rest: positional };
}

function takeOrFail(chip, offset, entry) {
  if (offset >= chip.lineNames.length) fail(`offset ${offset} is out of range on chip '${chip.name}'`);
  if (held(chip.name, offset)) fail('unable to request lines: Device or resource busy');
  writeFileSync(heldPath(chip.name, offset), JSON.stringify({ ...entry, pid: process.pid }));
}

/** Like the real tools, the line is requested (and signals handled) before anything is printed. */
function holdUntilSignal(chip, offset, onExit = () => {}) {
  const release = () => {
    onExit();
    rmSync(heldPath(chip.name, offset), { force: true });
    log(`released ${tool} ${chip.name} ${offset} pid ${process.pid}`);
    process.exit(0);
  };
  process.on('SIGTERM', release);
  process.on('SIGINT', release);
  setInterval(() => {}, 1 << 30);
}

switch (tool) {
  case 'gpiodetect':
    for (const chip of config.chips) process.stdout.write(`${chip.name} [${chip.label}] (${chip.lineNames.length} lines)\n`);
    break;

  case 'gpioinfo': {
    const chips = major === 1 ? (positional.length ? positional.map(chipNamed) : config.chips) : options.chip ? [chipNamed(options.chip)] : config.chips;
    for (const chip of chips) {
      process.stdout.write(`${chip.name} - ${chip.lineNames.length} lines:\n`);
      chip.lineNames.forEach((name, offset) => {
        const holder = held(chip.name, offset);
        const direction = holder?.direction ?? 'input';
        if (major === 1) {
          const quotedName = name ? `"${name}"` : 'unnamed';
          const consumer = holder ? `"${holder.consumer}"` : 'unused';
          process.stdout.write(`\tline ${String(offset).padStart(3)}: ${quotedName.padStart(12)} ${consumer.padStart(12)} ${`${direction} `.padStart(8)}${'active-high '.padStart(13)}${holder ? '[used]' : ''}\n`);
        } else {
          const quotedName = (name ? `"${name}"` : 'unnamed').padEnd(16);
          process.stdout.write(`\tline ${String(offset).padStart(3)}:\t${quotedName}\t${direction}${holder ? ` consumer="${holder.consumer}"` : ''}\n`);
        }
      });
    }
    break;
  }

  case 'gpioget': {
    const { chip, rest } = target();
    const offset = Number(rest[0]);
    if (held(chip.name, offset)) fail('unable to request lines: Device or resource busy');
    const level = wire(chip.name, offset);
    process.stdout.write(major === 1 ? `${level ? 1 : 0}\n` : `"${offset}"=${level ? 'active' : 'inactive'}\n`);
    break;
  }

  case 'gpioset': {
    const { chip, rest } = target();
    const [offsetText, valueText] = (rest[0] ?? fail('no line=value')).split('=');
    const offset = Number(offsetText);
    takeOrFail(chip, offset, { tool, consumer: major === 1 ? 'gpioset' : (options.consumer ?? 'gpioset'), direction: 'output', value: Number(valueText) });
    log(`gpioset ${chip.name} ${offset}=${valueText} pid ${process.pid}`);
    if (major === 1 && options.mode !== 'signal') {
      // v1's default mode sets the value and exits at once, releasing the line.
      rmSync(heldPath(chip.name, offset), { force: true });
      log(`released gpioset ${chip.name} ${offset} pid ${process.pid}`);
      process.exit(0);
    }
    holdUntilSignal(chip, offset);
    if (options.banner) process.stdout.write(`Setting line '${offset}'...\n`);
    break;
  }

  case 'gpiomon': {
    const { chip, rest } = target();
    const offset = Number(rest[0]);
    let level = wire(chip.name, offset);
    takeOrFail(chip, offset, { tool, consumer: major === 1 ? 'gpiomon' : (options.consumer ?? 'gpiomon'), direction: 'input', bias: options.bias ?? 'as-is' });
    log(`gpiomon ${chip.name} ${offset} pid ${process.pid}`);
    const falling = major === 1 ? 0 : 2;
    const poll = setInterval(() => {
      const now = wire(chip.name, offset);
      if (now === level) return;
      level = now;
      process.stdout.write(`${offset} ${now ? 1 : falling}\n`);
    }, 5);
    holdUntilSignal(chip, offset, () => clearInterval(poll));
    if (options.banner) process.stdout.write(`Monitoring line '${offset}'...\n`);
    break;
  }

  default:
    fail('unknown tool');
}
