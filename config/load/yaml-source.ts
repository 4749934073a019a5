import { LineCounter, isAlias, isMap, isPair, isScalar, isSeq, parseDocument } from 'yaml';
import type { Document, Node } from 'yaml';
import type { ConfigError, PathSegment } from './config-error.js';
import { formatPath } from './config-error.js';

/**
 * A parsed YAML file that remembers where everything was written, so any problem found later in the plain
 * data can be reported at the line and column a technician has to edit.
 */
export interface YamlSource {
  readonly file: string;
  /** The document as plain data; undefined when it could not be parsed. */
  readonly data: unknown;
  /** YAML syntax errors; when there are any, `data` is not trustworthy and is not checked further. */
  readonly syntaxErrors: ConfigError[];
  readonly warnings: ConfigError[];
  /** A problem at `path`: at the key (for keys that should not be there) or at the value. */
  problem(path: readonly PathSegment[], message: string, opts?: ProblemOptions): ConfigError;
  /** The line (1-based) where `path` is written, for "first defined at line N" hints. */
  lineOf(path: readonly PathSegment[]): number;
}

export interface ProblemOptions {
  hint?: string | undefined;
  at?: 'key' | 'value';
  /** 1-based column inside a single-line text value (e.g. where an expression goes wrong). */
  columnInValue?: number;
}

interface Located {
  node: Node | null;
  keyNode: Node | null;
  /** True when the whole path exists; otherwise node/keyNode are those of the nearest existing parent. */
  complete: boolean;
}

export function parseYamlSource(text: string, file: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });

  const position = (offset: number): { line: number; column: number } => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };

  const fromYamlError = (error: { message: string; pos: [number, number] }): ConfigError => ({
    file,
    ...position(error.pos[0]),
    path: '',
    // yaml appends " at line L, column C:" and a snippet; the position is already in the error.
    message: error.message.replace(/ at line \d+, column \d+:[\s\S]*$/, '').trim(),
  });

  const syntaxErrors = doc.errors.map(fromYamlError);
  const warnings = doc.warnings.map(fromYamlError);
  let data: unknown;
  if (syntaxErrors.length === 0) {
    try {
      data = doc.toJS({ maxAliasCount: 1000 });
    } catch (error) {
      syntaxErrors.push({ file, line: 1, column: 1, path: '', message: (error as Error).message });
    }
  }

  const offsetOf = (path: readonly PathSegment[], at: 'key' | 'value'): number => {
    const found = locate(doc, path);
    const preferKey = at === 'key' || !found.complete || !hasRange(found.node);
    const target = preferKey && hasRange(found.keyNode) ? found.keyNode : found.node;
    return hasRange(target) ? target.range[0] : 0;
  };

  return {
    file,
    data,
    syntaxErrors,
    warnings,
    problem(path, message, opts = {}) {
      let offset = offsetOf(path, opts.at ?? 'value');
      if (opts.columnInValue !== undefined) offset += columnOffset(doc, path, text, opts.columnInValue);
      const error: ConfigError = { file, ...position(offset), path: formatPath(path), message };
      if (opts.hint !== undefined) error.hint = opts.hint;
      return error;
    },
    lineOf(path) {
      return position(offsetOf(path, 'key')).line;
    },
  };
}

function hasRange(node: Node | null): node is Node & { range: [number, number, number] } {
  return node !== null && Array.isArray(node.range);
}

/** Walks the YAML node tree along `path`, stopping at the deepest part that exists. */
function locate(doc: Document, path: readonly PathSegment[]): Located {
  let node: unknown = doc.contents;
  let keyNode: Node | null = null;
  for (const segment of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((item) => isPair(item) && keyText(item.key) === String(segment));
      if (!pair) return { node: node as Node, keyNode, complete: false };
      keyNode = isScalar(pair.key) || isMap(pair.key) || isSeq(pair.key) ? (pair.key as Node) : null;
      node = pair.value;
      if (node === null) return { node: null, keyNode, complete: true };
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment];
      if (item === undefined) return { node: node as Node, keyNode, complete: false };
      keyNode = null;
      node = item;
    } else {
      return { node: (node as Node | null) ?? null, keyNode, complete: false };
    }
  }
  if (isAlias(node)) node = node.resolve(doc);
  return { node: (node as Node | null) ?? null, keyNode, complete: true };
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return typeof key === 'string' ? key : undefined;
}

/** Offset from the start of a one-line text value to its n-th character (past an opening quote). */
function columnOffset(doc: Document, path: readonly PathSegment[], text: string, column: number): number {
  const { node, complete } = locate(doc, path);
  if (!complete || !isScalar(node) || !node.range) return 0;
  const source = text.slice(node.range[0], node.range[1]);
  if (source.includes('\n')) return 0;
  if (node.type === 'PLAIN') return column - 1;
  if (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE') return column;
  return 0;
}
