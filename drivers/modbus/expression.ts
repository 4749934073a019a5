/**
 * A small arithmetic language for computed registers, parsed by hand so a profile can never run code.
 *
 *   expression := sum
 *   sum        := product (("+" | "-") product)*
 *   product    := unary (("*" | "/") unary)*
 *   unary      := ("-" | "+") unary | power
 *   power      := atom ("^" unary)?              right-associative; -2^2 = -(2^2), 2^-1 = 0.5
 *   atom       := number | identifier | function "(" expression ("," expression)* ")" | "(" expression ")"
 *
 * Parsing compiles to a tree of closures once, so evaluating on every poll costs no re-parsing.
 */

export type ParsedExpression =
  | { ok: true; identifiers: string[]; evaluate(vars: Record<string, number>): number }
  | { ok: false; message: string; column: number };

type Evaluator = (vars: Record<string, number>) => number;

interface FunctionSpec {
  minArgs: number;
  maxArgs: number;
  apply(args: number[]): number;
}

const FUNCTIONS: Readonly<Record<string, FunctionSpec>> = {
  abs: { minArgs: 1, maxArgs: 1, apply: (a) => Math.abs(a[0]!) },
  sqrt: { minArgs: 1, maxArgs: 1, apply: (a) => Math.sqrt(a[0]!) },
  min: { minArgs: 1, maxArgs: Infinity, apply: (a) => Math.min(...a) },
  max: { minArgs: 1, maxArgs: Infinity, apply: (a) => Math.max(...a) },
};

/** Guards the recursive descent against stack exhaustion on hostile input like "((((((...". */
const MAX_NESTING = 64;
const MAX_LENGTH = 2000;

type Token =
  | { kind: 'number'; value: number; column: number }
  | { kind: 'identifier'; name: string; column: number }
  | { kind: 'symbol'; symbol: string; column: number }
  | { kind: 'end'; column: number };

class ExpressionError extends Error {
  constructor(
    message: string,
    readonly column: number,
  ) {
    super(message);
  }
}

const NUMBER_PATTERN = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/;
const IDENTIFIER_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*/;
const SYMBOLS = new Set(['+', '-', '*', '/', '^', '(', ')', ',']);

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      i++;
      continue;
    }
    const rest = text.slice(i);
    const number = NUMBER_PATTERN.exec(rest);
    if (number) {
      tokens.push({ kind: 'number', value: Number(number[0]), column: i + 1 });
      i += number[0].length;
      continue;
    }
    const identifier = IDENTIFIER_PATTERN.exec(rest);
    if (identifier) {
      tokens.push({ kind: 'identifier', name: identifier[0], column: i + 1 });
      i += identifier[0].length;
      continue;
    }
    if (SYMBOLS.has(ch)) {
      tokens.push({ kind: 'symbol', symbol: ch, column: i + 1 });
      i++;
      continue;
    }
    throw new ExpressionError(`unexpected character "${ch}"`, i + 1);
  }
  tokens.push({ kind: 'end', column: text.length + 1 });
  return tokens;
}

function describe(token: Token): string {
  switch (token.kind) {
    case 'number':
      return `number ${token.value}`;
    case 'identifier':
      return `"${token.name}"`;
    case 'symbol':
      return `"${token.symbol}"`;
    case 'end':
      return 'end of expression';
  }
}

class Parser {
  private position = 0;
  private depth = 0;
  readonly identifiers = new Set<string>();

  constructor(private readonly tokens: Token[]) {}

  parse(): Evaluator {
    const result = this.sum();
    const next = this.peek();
    if (next.kind !== 'end') throw new ExpressionError(`unexpected ${describe(next)}`, next.column);
    return result;
  }

  private peek(): Token {
    return this.tokens[this.position]!;
  }

  private take(): Token {
    const token = this.tokens[this.position]!;
    if (token.kind !== 'end') this.position++;
    return token;
  }

  private isSymbol(symbol: string): boolean {
    const token = this.peek();
    return token.kind === 'symbol' && token.symbol === symbol;
  }

  private expect(symbol: string): void {
    const token = this.peek();
    if (!this.isSymbol(symbol)) throw new ExpressionError(`expected "${symbol}" but found ${describe(token)}`, token.column);
    this.take();
  }

  private nested<T>(column: number, parse: () => T): T {
    if (++this.depth > MAX_NESTING) throw new ExpressionError(`nested more than ${MAX_NESTING} deep`, column);
    try {
      return parse();
    } finally {
      this.depth--;
    }
  }

  private sum(): Evaluator {
    let left = this.product();
    while (this.isSymbol('+') || this.isSymbol('-')) {
      const op = this.take();
      const right = this.product();
      const l = left;
      left = op.kind === 'symbol' && op.symbol === '+' ? (v) => l(v) + right(v) : (v) => l(v) - right(v);
    }
    return left;
  }

  private product(): Evaluator {
    let left = this.unary();
    while (this.isSymbol('*') || this.isSymbol('/')) {
      const op = this.take();
      const right = this.unary();
      const l = left;
      left = op.kind === 'symbol' && op.symbol === '*' ? (v) => l(v) * right(v) : (v) => l(v) / right(v);
    }
    return left;
  }

  private unary(): Evaluator {
    const token = this.peek();
    if (this.isSymbol('-') || this.isSymbol('+')) {
      this.take();
      const operand = this.nested(token.column, () => this.unary());
      return token.kind === 'symbol' && token.symbol === '-' ? (v) => -operand(v) : operand;
    }
    return this.power();
  }

  private power(): Evaluator {
    const base = this.atom();
    if (!this.isSymbol('^')) return base;
    const caret = this.take();
    const exponent = this.nested(caret.column, () => this.unary());
    return (v) => Math.pow(base(v), exponent(v));
  }

  private atom(): Evaluator {
    const token = this.take();
    if (token.kind === 'number') {
      const value = token.value;
      return () => value;
    }
    if (token.kind === 'identifier') {
      if (this.isSymbol('(')) return this.call(token.name, token.column);
      if (Object.hasOwn(FUNCTIONS, token.name)) {
        throw new ExpressionError(`"${token.name}" is a function: write ${token.name}(...)`, token.column);
      }
      const name = token.name;
      this.identifiers.add(name);
      return (vars) => {
        // Own properties only: a plain object inherits "constructor", "toString" and the like.
        const value = Object.hasOwn(vars, name) ? vars[name] : undefined;
        if (typeof value !== 'number') throw new Error(`expression variable "${name}" has no value`);
        return value;
      };
    }
    if (token.kind === 'symbol' && token.symbol === '(') {
      const inner = this.nested(token.column, () => this.sum());
      this.expect(')');
      return inner;
    }
    throw new ExpressionError(`expected a number, a name or "(" but found ${describe(token)}`, token.column);
  }

  private call(name: string, column: number): Evaluator {
    const spec = Object.hasOwn(FUNCTIONS, name) ? FUNCTIONS[name] : undefined;
    if (!spec) {
      throw new ExpressionError(`unknown function "${name}" (known: ${Object.keys(FUNCTIONS).join(', ')})`, column);
    }
    this.expect('(');
    const args = this.nested(column, () => {
      const parsed: Evaluator[] = [this.sum()];
      while (this.isSymbol(',')) {
        this.take();
        parsed.push(this.sum());
      }
      return parsed;
    });
    this.expect(')');
    if (args.length < spec.minArgs || args.length > spec.maxArgs) {
      const wanted = spec.minArgs === spec.maxArgs ? `${spec.minArgs}` : `at least ${spec.minArgs}`;
      throw new ExpressionError(`${name}() takes ${wanted} argument(s), got ${args.length}`, column);
    }
    return (v) => spec.apply(args.map((arg) => arg(v)));
  }
}

/**
 * Parses an arithmetic expression. `evaluate` throws when a variable in `identifiers` is missing from `vars`;
 * it returns IEEE results otherwise (x/0 = Infinity, sqrt(-1) = NaN), so callers must check Number.isFinite.
 */
export function parseExpression(text: string): ParsedExpression {
  if (text.length > MAX_LENGTH) return { ok: false, message: `longer than ${MAX_LENGTH} characters`, column: MAX_LENGTH + 1 };
  try {
    const parser = new Parser(tokenize(text));
    const evaluator = parser.parse();
    return { ok: true, identifiers: [...parser.identifiers], evaluate: evaluator };
  } catch (error) {
    if (error instanceof ExpressionError) return { ok: false, message: error.message, column: error.column };
    throw error;
  }
}
