import type { OperatorCommand } from './schema.js';
import { operatorCommand } from './schema.js';

/** What a command touches; the safety engines satisfy these. */
export interface AlarmCommands {
  acknowledge(channelId: string | '*', by: string): { acknowledged: string[] };
  reset(channelId: string | '*', by: string): { reset: string[]; refused: Array<{ channelId: string; why: string }> };
  setBaseline(channelId: string, by: string, value?: number): { ok: true; baseline: number } | { ok: false; error: string };
  channel(channelId: string): unknown;
}

export interface OutputCommands {
  force(outputId: string, state: 'on' | 'off', forMs: number, by: string): { ok: true; until: number } | { ok: false; error: string };
  clearOverride(outputId: string, by: string): { ok: true } | { ok: false; error: string };
  silence(by: string): { silenced: string[] };
}

export type CommandResult =
  | { ok: true; action: OperatorCommand['action'] | 'push-config'; message: string; details?: Record<string, unknown> }
  | { ok: false; action?: string; error: string };

function describeIssues(error: { issues: ReadonlyArray<{ path: PropertyKey[]; message: string }> }): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.map(String).join('.') : 'command'}: ${issue.message}`)
    .join('; ');
}

/**
 * Validates and carries out operator commands. Never throws for bad input: a malformed or impossible command
 * gets a result that says what and where, and changes nothing.
 */
export class CommandHandler {
  constructor(
    private readonly alarms: AlarmCommands,
    private readonly outputs: OutputCommands,
  ) {}

  execute(input: unknown, by: string): CommandResult {
    const parsed = operatorCommand.safeParse(input);
    if (!parsed.success) {
      const action = typeof input === 'object' && input !== null && 'action' in input ? String(input.action) : undefined;
      return { ok: false, ...(action ? { action } : {}), error: describeIssues(parsed.error) };
    }
    return this.run(parsed.data, by);
  }

  private run(command: OperatorCommand, by: string): CommandResult {
    switch (command.action) {
      case 'acknowledge': {
        if (command.channel !== '*' && !this.alarms.channel(command.channel)) return unknownChannel(command);
        const { acknowledged } = this.alarms.acknowledge(command.channel, by);
        return { ok: true, action: command.action, message: `acknowledged ${acknowledged.length} alarm(s)`, details: { acknowledged } };
      }
      case 'reset': {
        if (command.channel !== '*' && !this.alarms.channel(command.channel)) return unknownChannel(command);
        const result = this.alarms.reset(command.channel, by);
        if (result.reset.length === 0 && result.refused.length > 0) {
          return { ok: false, action: command.action, error: result.refused.map((r) => `${r.channelId}: ${r.why}`).join('; ') };
        }
        return { ok: true, action: command.action, message: `reset ${result.reset.length} alarm(s)`, details: result };
      }
      case 'silence': {
        const { silenced } = this.outputs.silence(by);
        return { ok: true, action: command.action, message: `silenced ${silenced.length} sounder(s)`, details: { silenced } };
      }
      case 'force': {
        const result = this.outputs.force(command.output, command.state, command.for, by);
        return result.ok
          ? { ok: true, action: command.action, message: `${command.output} forced ${command.state}`, details: { untilMono: result.until } }
          : { ok: false, action: command.action, error: result.error };
      }
      case 'release': {
        const result = this.outputs.clearOverride(command.output, by);
        return result.ok
          ? { ok: true, action: command.action, message: `${command.output} back under its rule` }
          : { ok: false, action: command.action, error: result.error };
      }
      case 'set-baseline': {
        const result = this.alarms.setBaseline(command.channel, by, command.value);
        return result.ok
          ? { ok: true, action: command.action, message: `${command.channel} baseline set to ${result.baseline}`, details: { baseline: result.baseline } }
          : { ok: false, action: command.action, error: result.error };
      }
    }
  }
}

function unknownChannel(command: { action: OperatorCommand['action']; channel: string }): CommandResult {
  return { ok: false, action: command.action, error: `channel: no channel "${command.channel}" with alarms on this gateway` };
}
