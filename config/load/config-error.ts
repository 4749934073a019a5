/**
 * One problem in a configuration file, located so a technician can go straight to it.
 * line and column are 1-based; 0 means "the file as a whole" (it could not be read, a folder is missing).
 */
export interface ConfigError {
  file: string;
  line: number;
  column: number;
  /** Where in the document, e.g. devices[3].channels[1].register; "" for the whole file. */
  path: string;
  /** What was expected, or what is wrong. */
  message: string;
  /** A likely fix: "did you mean …", or the allowed names. */
  hint?: string;
}

export type PathSegment = string | number;

const PLAIN_KEY = /^[\w$-]+$/;

/** ["devices", 3, "channels", 1, "register"] → "devices[3].channels[1].register". */
export function formatPath(path: readonly PathSegment[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}

/** Errors in reading order: by file, then position; the order they were found in breaks ties. */
export function sortErrors(errors: readonly ConfigError[]): ConfigError[] {
  return errors
    .map((error, index) => ({ error, index }))
    .sort(
      (a, b) =>
        a.error.file.localeCompare(b.error.file) ||
        a.error.line - b.error.line ||
        a.error.column - b.error.column ||
        a.index - b.index,
    )
    .map(({ error }) => error);
}

const STYLE = {
  location: ['\u001b[1m', '\u001b[22m'],
  path: ['\u001b[36m', '\u001b[39m'],
  error: ['\u001b[31m', '\u001b[39m'],
  warning: ['\u001b[33m', '\u001b[39m'],
  hint: ['\u001b[2m', '\u001b[22m'],
} as const;

export interface FormatOptions {
  color: boolean;
  /** What the list holds, for the count line; errors unless told. */
  kind?: 'error' | 'warning';
}

/**
 * One line per problem, `file:line:column  path  message  (hint)`, then a count line, e.g. "3 errors".
 */
export function formatErrors(errors: readonly ConfigError[], opts: FormatOptions): string {
  const kind = opts.kind ?? 'error';
  const paint = (style: keyof typeof STYLE, text: string): string =>
    opts.color ? `${STYLE[style][0]}${text}${STYLE[style][1]}` : text;
  const lines = errors.map((error) => {
    const where = error.line > 0 ? `${error.file}:${error.line}:${error.column}` : error.file;
    const parts = [paint('location', where)];
    if (error.path !== '') parts.push(paint('path', error.path));
    parts.push(paint(kind, error.message));
    if (error.hint !== undefined) parts.push(paint('hint', `(${error.hint})`));
    return parts.join('  ');
  });
  const count = errors.length;
  lines.push(`${count} ${kind}${count === 1 ? '' : 's'}`);
  return lines.join('\n');
}
