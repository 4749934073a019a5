// Imported directly, not through drivers/modbus/index.ts: that front file pulls in the profile device,
// which itself depends on config, and the cycle would leave bindings uninitialised at load time.
import { parseExpression } from '../../drivers/modbus/expression.js';
import type { ConfigError, PathSegment } from './config-error.js';
import type { Fields } from './lenient.js';
import { fieldsOf, has, isFields, listField, numberField, textField } from './lenient.js';
import { didYouMean, listNames } from './suggest.js';
import type { YamlSource } from './yaml-source.js';

/**
 * The checks on a driver profile that a schema cannot express: references between registers, which register
 * types each Modbus table can hold, whether addresses exist, and whether computed values can be computed.
 * They run on whatever parts of the profile are well-formed, so all problems come out together.
 */

const WIDE_TYPES = new Set(['u32', 's32', 'f32']);
const TABLE_NAMES: Record<number, string> = {
  1: 'coils',
  2: 'discrete inputs',
  3: 'holding registers',
  4: 'input registers',
};

interface RegisterEntry {
  index: number;
  raw: Fields;
  name: string | undefined;
  computed: boolean;
}

export function checkProfileSemantics(data: unknown, source: YamlSource): ConfigError[] {
  const errors: ConfigError[] = [];
  const report: Report = (path, message, hint, at = 'value', columnInValue) => {
    errors.push(source.problem(path, message, { hint, at, ...(columnInValue === undefined ? {} : { columnInValue }) }));
  };

  const addressBase = numberField(data, 'addressBase');
  const entries: RegisterEntry[] = listField(data, 'registers').map((raw, index) => ({
    index,
    raw: fieldsOf(raw),
    name: textField(raw, 'name'),
    computed: has(raw, 'compute'),
  }));

  const byName = new Map<string, RegisterEntry>();
  for (const entry of entries) {
    if (entry.name === undefined) continue;
    const first = byName.get(entry.name);
    if (first) {
      report(
        ['registers', entry.index, 'name'],
        `register name "${entry.name}" is used twice`,
        `first at line ${source.lineOf(['registers', first.index, 'name'])}`,
      );
    } else {
      byName.set(entry.name, entry);
    }
  }
  const registerNames = [...byName.keys()];

  const checkReference = (path: PathSegment[], target: string | undefined, purpose: string): RegisterEntry | undefined => {
    if (target === undefined) return undefined;
    const found = byName.get(target);
    if (!found) {
      report(path, `no register "${target}" in this profile (${purpose})`, referenceHint(target, registerNames));
      return undefined;
    }
    if (found.computed) {
      report(path, `register "${target}" is computed; ${purpose} must be read from the device`);
      return undefined;
    }
    return found;
  };

  for (const entry of entries) {
    const at = (...rest: PathSegment[]): PathSegment[] => ['registers', entry.index, ...rest];
    const { raw } = entry;

    const status = textField(raw, 'status');
    if (status !== undefined && status === entry.name) {
      report(at('status'), `a register cannot be its own status`);
    } else {
      const target = checkReference(at('status'), status, 'the status register');
      if (target && !has(target.raw, 'states')) {
        report(
          at('status'),
          `register "${status}" has no "states", so it cannot qualify other values`,
          `add a "states" map to register "${status}"`,
        );
      }
    }
    checkReference(at('decimalsFrom', 'register'), textField(raw.decimalsFrom, 'register'), 'decimalsFrom');
    checkReference(at('unitFrom', 'register'), textField(raw.unitFrom, 'register'), 'unitFrom');
    for (const key of ['decimalsFrom', 'unitFrom'] as const) checkBitRange(raw[key], at(key, 'bits'), report);

    if (!entry.computed) checkReadRegister(raw, addressBase, at, report);
  }

  checkComputed(entries, byName, report);
  return errors;
}

type Report = (
  path: PathSegment[],
  message: string,
  hint?: string,
  at?: 'key' | 'value',
  columnInValue?: number,
) => void;

function checkReadRegister(
  raw: Fields,
  addressBase: number | undefined,
  at: (...rest: PathSegment[]) => PathSegment[],
  report: Report,
): void {
  const fn = numberField(raw, 'fn');
  const type = has(raw, 'type') ? textField(raw, 'type') : 'u16';
  const typePath = has(raw, 'type') ? at('type') : at('fn');
  const onBits = fn === 1 || fn === 2;
  const onRegisters = fn === 3 || fn === 4;
  const table = fn === undefined ? '' : TABLE_NAMES[fn] ?? '';

  if (type === 'bit') {
    if (onRegisters && !has(raw, 'bit')) {
      report(at('type'), `type bit on fn ${fn} (${table}) needs "bit": which bit of the register, 0-15`);
    }
    if (onBits && has(raw, 'bit')) {
      report(at('bit'), `fn ${fn} reads single ${table}: "bit" is not needed here`, 'remove "bit"', 'key');
    }
  } else if (has(raw, 'bit')) {
    report(at('bit'), `"bit" only goes with type bit (this register is ${type ?? 'not a bit'})`, undefined, 'key');
  }

  if (type === 'bitfield') {
    if (!has(raw, 'bits')) report(at('type'), 'type bitfield needs "bits", e.g. "8-11"');
  } else if (has(raw, 'bits')) {
    const is = type ?? 'not a bitfield';
    report(at('bits'), `"bits" only goes with type bitfield (this register is ${is})`, undefined, 'key');
  }
  checkBitRange(raw, at('bits'), report);

  if (onBits && type !== undefined && type !== 'bit') {
    const why = WIDE_TYPES.has(type) ? `${type} spans two registers` : `${type} is a register type`;
    report(typePath, `fn ${fn} reads single bits (${table}): ${why}; use type bit or fn 3/4`);
  }

  if (has(raw, 'writable') && raw.writable === true && (fn === 2 || fn === 4)) {
    report(
      at('writable'),
      `fn ${fn} (${table}) is read-only on every Modbus device`,
      'writable values are coils (fn 1) or holding registers (fn 3)',
    );
  }

  const address = numberField(raw, 'address');
  if (address === undefined || (addressBase !== 0 && addressBase !== 1)) return;
  if (addressBase === 1 && address === 0) {
    report(
      at('address'),
      'address 0 does not exist when addressBase is 1',
      'if the manual counts from 0, set addressBase: 0',
    );
    return;
  }
  const width = type !== undefined && WIDE_TYPES.has(type) ? 2 : 1;
  const last = 65535 + addressBase;
  if (address + width - 1 > last) {
    const span = width === 2 ? ` (a ${type} also uses ${address + 1})` : '';
    report(
      at('address'),
      `address ${address}${span} is beyond the last Modbus address, ${last} with addressBase ${addressBase}`,
    );
  }
}

function checkBitRange(owner: unknown, path: PathSegment[], report: Report): void {
  const bits = textField(owner, 'bits');
  const match = bits === undefined ? null : /^(\d+)-(\d+)$/.exec(bits);
  if (match && Number(match[1]) > Number(match[2])) {
    report(path, `bit range "${bits}" runs backwards`, `write "${match[2]}-${match[1]}"`);
  }
}

function checkComputed(entries: readonly RegisterEntry[], byName: Map<string, RegisterEntry>, report: Report): void {
  const registerNames = [...byName.keys()];
  const dependsOn = new Map<string, string[]>();

  for (const entry of entries) {
    if (!entry.computed) continue;
    const at = (...rest: PathSegment[]): PathSegment[] => ['registers', entry.index, ...rest];
    const params = isFields(entry.raw.params) ? Object.keys(entry.raw.params) : [];
    for (const param of params) {
      if (byName.has(param)) {
        report(at('params', param), `param "${param}" has the same name as a register`, 'rename the param', 'key');
      }
    }

    const text = textField(entry.raw, 'compute');
    if (text === undefined) continue;
    const parsed = parseExpression(text);
    if (!parsed.ok) {
      report(at('compute'), `cannot read the expression: ${parsed.message}`, undefined, 'value', parsed.column);
      continue;
    }
    const unknown = parsed.identifiers.filter((name) => !byName.has(name) && !params.includes(name));
    for (const name of unknown) {
      const hint =
        didYouMean(name, [...registerNames, ...params]) ??
        `registers: ${listNames(registerNames)}${params.length > 0 ? `; params: ${params.join(', ')}` : ''}`;
      report(
        at('compute'),
        `"${name}" in the expression is neither a register of this profile nor a declared param`,
        hint,
        'value',
        columnOfWord(text, name),
      );
    }
    if (entry.name !== undefined) {
      dependsOn.set(
        entry.name,
        parsed.identifiers.filter((name) => byName.get(name)?.computed === true),
      );
    }
  }

  for (const cycle of findCycles(dependsOn)) {
    const first = byName.get(cycle[0]!);
    if (!first) continue;
    report(
      ['registers', first.index, 'compute'],
      `computed registers depend on each other in a circle: ${[...cycle, cycle[0]].join(' → ')}`,
      'a computed value may use other computed values, but not itself through them',
    );
  }
}

/** Each cycle once, starting at its first member in profile order. */
function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const done = new Set<string>();
  const onStack: string[] = [];

  const visit = (node: string): void => {
    const at = onStack.indexOf(node);
    if (at >= 0) {
      cycles.push(onStack.slice(at));
      return;
    }
    if (done.has(node)) return;
    onStack.push(node);
    for (const next of graph.get(node) ?? []) visit(next);
    onStack.pop();
    done.add(node);
  };

  for (const node of graph.keys()) visit(node);
  return cycles;
}

/** 1-based column of `word` as a whole identifier in `text`. */
function columnOfWord(text: string, word: string): number | undefined {
  const match = new RegExp(`(?<![A-Za-z0-9_])${word}(?![A-Za-z0-9_])`).exec(text);
  return match ? match.index + 1 : undefined;
}

function referenceHint(target: string, names: readonly string[]): string {
  return didYouMean(target, names) ?? `registers: ${listNames(names)}`;
}
