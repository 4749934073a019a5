import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ClockStamp } from '../../drivers/reading.js';
import { operatorCommand, type CommandResult } from '../commands/index.js';
import type { CommandOutcome, DecodedCommand, GateInput, PlatformCommand, RefusalReason } from './profile.js';
import type { Secret } from './secret.js';

/** Carries out a validated operator command; agent/commands' CommandHandler is one. */
export interface CommandExecutor {
  execute(input: unknown, by: string): CommandResult;
}

/** Receives a pushed site config (wired by the config side); the result goes back to the platform as is. */
export type PushConfigHandler = (
  command: Readonly<Record<string, unknown>>,
  context: { id: string; by: string },
) => CommandResult | Promise<CommandResult>;

/** When a command must carry a valid HMAC: never, only guarded actions, or always. */
export type SignaturePolicy = 'never' | 'guarded' | 'always';

/** Actions that move outputs or change config or alarm state: signed when the policy is "guarded". */
export const DEFAULT_GUARDED_ACTIONS: readonly string[] = ['force', 'release', 'silence', 'reset', 'set-baseline', 'push-config'];

export const PUSH_CONFIG_ACTION = 'push-config';

export interface CommandOptions {
  handler: CommandExecutor;
  pushConfig?: PushConfigHandler;
  /** Shared key for HMAC-SHA256 signatures. */
  hmacKey?: Secret;
  /** Default: "guarded" when a key is given, "never" otherwise. */
  requireSignature?: SignaturePolicy;
  guardedActions?: readonly string[];
  /**
   * Actions this platform may run; default all. A platform that cannot sign its commands is best limited to
   * what it needs (say, acknowledge and set-baseline), so a leaked broker password cannot move a relay.
   */
  allowedActions?: readonly string[];
  /** A command whose expiry lies further ahead than this is refused (a replayable command should not live long); default 1 h. */
  maxLifetimeMs?: number;
  /** How many recent command ids are remembered to refuse duplicates; default 1000. */
  rememberIds?: number;
  /** A snapshot() from before the restart. */
  restore?: unknown;
  /** Called when the snapshot changed (an id was remembered): persist it off the hot path. */
  onStateChange?: () => void;
}

export interface CommandClock {
  stamp(): ClockStamp;
}

interface Remembered {
  status: CommandOutcome['status'];
  reason: RefusalReason | null;
}

export interface CommandMemorySnapshot {
  version: 1;
  /** Oldest first. */
  ids: Array<[string, Remembered]>;
  /** The latest wall time known to be true (seen while the clock was synchronised): a lower bound of "now". */
  knownWallTs: number | null;
}

const STATUSES = new Set(['done', 'refused', 'failed']);

export function parseCommandSnapshot(value: unknown): CommandMemorySnapshot | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as { version?: unknown; ids?: unknown; knownWallTs?: unknown };
  if (v.version !== 1 || !Array.isArray(v.ids)) return undefined;
  const ids: Array<[string, Remembered]> = [];
  for (const entry of v.ids) {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string') continue;
    const r = entry[1] as { status?: unknown; reason?: unknown } | undefined;
    if (!r || typeof r.status !== 'string' || !STATUSES.has(r.status)) continue;
    ids.push([entry[0], { status: r.status as Remembered['status'], reason: typeof r.reason === 'string' ? (r.reason as RefusalReason) : null }]);
  }
  return { version: 1, ids, knownWallTs: typeof v.knownWallTs === 'number' && Number.isFinite(v.knownWallTs) ? v.knownWallTs : null };
}

const KNOWN_ACTIONS: ReadonlySet<string> = new Set([...operatorCommand.options.map((o) => o.shape.action.value), PUSH_CONFIG_ACTION]);
const HEX_SHA256 = /^[0-9a-f]{64}$/i;

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Judges and routes commands from the platform, for any profile: refuses retained, unsigned or badly signed,
 * duplicate and stale ones, hands the rest to the command handler (or the push-config handler), and always
 * returns an outcome saying why. Never throws.
 *
 * Expiry: with a synchronised clock, a command is stale once wall time reaches expiresAt, and refused when
 * expiresAt lies more than maxLifetimeMs ahead. With an unsynchronised clock wall time proves nothing, so a
 * command is refused as stale only when it expired before a time known to have passed (the last synchronised
 * wall time plus the monotonic time since, or the one persisted from before the restart); otherwise it runs,
 * and its result says the clock was not synchronised.
 */
export class CommandGate {
  private readonly ids = new Map<string, Remembered>();
  private readonly capacity: number;
  private readonly maxLifetimeMs: number;
  private readonly policy: SignaturePolicy;
  private readonly guarded: ReadonlySet<string>;
  private knownWallTs: number | null = null;
  private lastSynced: { wallTs: number; monoTs: number } | undefined;

  constructor(
    private readonly options: CommandOptions,
    private readonly clock: CommandClock,
  ) {
    this.capacity = Math.max(1, options.rememberIds ?? 1000);
    this.maxLifetimeMs = options.maxLifetimeMs ?? 3_600_000;
    this.policy = options.requireSignature ?? (options.hmacKey ? 'guarded' : 'never');
    this.guarded = new Set(options.guardedActions ?? DEFAULT_GUARDED_ACTIONS);
    if (this.policy !== 'never' && !options.hmacKey) {
      throw new Error(`commands: signatures are required (${this.policy}) but no HMAC key is configured`);
    }
    const restored = options.restore === undefined ? undefined : parseCommandSnapshot(options.restore);
    if (restored) {
      for (const [id, remembered] of restored.ids.slice(-this.capacity)) this.ids.set(id, remembered);
      this.knownWallTs = restored.knownWallTs;
    }
  }

  snapshot(): CommandMemorySnapshot {
    this.observeClock(this.clock.stamp());
    return { version: 1, ids: [...this.ids.entries()], knownWallTs: this.knownWallTs };
  }

  /** Notes the time when the clock is synchronised (a lower bound for later, unsynchronised judgements). */
  observeClock(stamp: ClockStamp): void {
    if (!stamp.clockSynced) return;
    this.lastSynced = { wallTs: stamp.wallTs, monoTs: stamp.monoTs };
    if (this.knownWallTs === null || stamp.wallTs > this.knownWallTs) this.knownWallTs = stamp.wallTs;
  }

  async handle(input: DecodedCommand, retained: boolean): Promise<CommandOutcome> {
    const decoded: GateInput = input.ok === 'handled' ? { ok: false, id: null, topic: '', error: 'internal: a command the profile handled itself has nothing to judge' } : input;
    try {
      return await this.judge(decoded, retained);
    } catch (error) {
      const id = decoded.ok ? decoded.command.id : decoded.id;
      return this.outcome(decoded.ok ? decoded.command : undefined, id, decoded.ok ? decoded.command.topic : decoded.topic, 'failed', 'failed', `internal error: ${describe(error)}`);
    }
  }

  private async judge(decoded: GateInput, retained: boolean): Promise<CommandOutcome> {
    if (!decoded.ok) {
      const outcome = this.outcome(undefined, decoded.id, decoded.topic, 'refused', 'malformed', decoded.error, decoded.action);
      return decoded.context ? { ...outcome, context: decoded.context } : outcome;
    }
    const command = decoded.command;
    const refuse = (reason: RefusalReason, message: string): CommandOutcome =>
      this.outcome(command, command.id, command.topic, 'refused', reason, message);

    // A retained command would run again on every subscribe: never act on one.
    if (retained) return refuse('retained', 'retained commands are not accepted (publish commands with retain off)');

    const signatureProblem = this.checkSignature(command);
    if (signatureProblem) return refuse(signatureProblem.reason, signatureProblem.message);

    const previous = this.ids.get(command.id);
    if (previous) {
      return {
        ...refuse('duplicate', `command id already received (${previous.status}${previous.reason ? `: ${previous.reason}` : ''}); not run again`),
        details: { original: { status: previous.status, reason: previous.reason } },
      };
    }

    const stamp = this.clock.stamp();
    this.observeClock(stamp);
    const expiryProblem = this.checkExpiry(command.expiresAt, stamp);
    if (expiryProblem) return refuse(expiryProblem.reason, expiryProblem.message);

    if (command.action === undefined || !KNOWN_ACTIONS.has(command.action)) {
      return refuse('unsupported', `unknown action "${command.action ?? ''}" (known: ${[...KNOWN_ACTIONS].join(', ')})`);
    }
    const allowed = this.options.allowedActions;
    if (allowed && !allowed.includes(command.action)) {
      return refuse('unsupported', `"${command.action}" is not allowed from this platform (allowed: ${allowed.join(', ') || 'none'})`);
    }

    // Remembered before it runs, so a duplicate arriving while a push-config is being applied is refused too.
    this.remember(command.id, { status: 'done', reason: null });
    const result = await this.run(command);
    const outcome =
      'thrown' in result
        ? this.outcome(command, command.id, command.topic, 'failed', 'failed', `failed: ${result.thrown}`)
        : result.ok
          ? this.outcome(command, command.id, command.topic, 'done', null, result.message, result.action, result.details)
          : this.outcome(command, command.id, command.topic, 'refused', 'invalid', result.error, result.action);
    this.remember(command.id, { status: outcome.status, reason: outcome.reason });
    if (!stamp.clockSynced) outcome.details = { ...outcome.details, clock: 'expiry not checked against wall time: clock not synchronised' };
    return outcome;
  }

  private async run(command: PlatformCommand): Promise<CommandResult | { thrown: string }> {
    const by = `platform:${command.id}`;
    try {
      if (command.action === PUSH_CONFIG_ACTION) {
        if (!this.options.pushConfig) return { ok: false, action: PUSH_CONFIG_ACTION, error: 'push-config is not enabled on this gateway' };
        return await this.options.pushConfig(command.command as Record<string, unknown>, { id: command.id, by });
      }
      return this.options.handler.execute(command.command, by);
    } catch (error) {
      return { thrown: describe(error) };
    }
  }

  private checkSignature(command: PlatformCommand): { reason: RefusalReason; message: string } | undefined {
    const key = this.options.hmacKey;
    const needed = this.policy === 'always' || (this.policy === 'guarded' && command.action !== undefined && this.guarded.has(command.action));
    const signature = command.signature;
    if (signature && key) {
      const expected = createHmac('sha256', key.reveal()).update(signature.signed, 'utf8').digest();
      const given = HEX_SHA256.test(signature.value) ? Buffer.from(signature.value, 'hex') : undefined;
      if (!given || given.length !== expected.length || !timingSafeEqual(given, expected)) {
        return { reason: 'bad-signature', message: 'signature does not match (HMAC-SHA256 of the canonical command, hex)' };
      }
      return undefined;
    }
    if (needed) return { reason: 'signature-required', message: `"${command.action ?? ''}" commands must be signed on this gateway` };
    return undefined;
  }

  private checkExpiry(expiresAt: number, stamp: ClockStamp): { reason: RefusalReason; message: string } | undefined {
    if (stamp.clockSynced) {
      if (expiresAt <= stamp.wallTs) return { reason: 'stale', message: `expired ${stamp.wallTs - expiresAt} ms ago` };
      if (expiresAt - stamp.wallTs > this.maxLifetimeMs) {
        return { reason: 'expiry-too-far', message: `expires more than ${this.maxLifetimeMs} ms ahead; commands must be short-lived` };
      }
      return undefined;
    }
    const inProcess = this.lastSynced ? this.lastSynced.wallTs + (stamp.monoTs - this.lastSynced.monoTs) : null;
    const lowerBound = Math.max(inProcess ?? -Infinity, this.knownWallTs ?? -Infinity);
    if (Number.isFinite(lowerBound) && expiresAt <= lowerBound) {
      return { reason: 'stale', message: `expired: it is at least ${new Date(lowerBound).toISOString()} (clock not synchronised; last known true time)` };
    }
    return undefined;
  }

  private remember(id: string, remembered: Remembered): void {
    this.ids.delete(id);
    this.ids.set(id, remembered);
    while (this.ids.size > this.capacity) {
      const oldest = this.ids.keys().next().value;
      if (oldest === undefined) break;
      this.ids.delete(oldest);
    }
    try {
      this.options.onStateChange?.();
    } catch {
      // persisting is the owner's concern; a failing callback does not change the outcome
    }
  }

  private outcome(
    command: PlatformCommand | undefined,
    id: string | null,
    topic: string,
    status: CommandOutcome['status'],
    reason: RefusalReason | null,
    message: string,
    action?: string,
    details?: Record<string, unknown>,
  ): CommandOutcome {
    const stamp = this.clock.stamp();
    const act = action ?? command?.action;
    return {
      id,
      status,
      reason,
      message,
      topic,
      ts: stamp.wallTs,
      clock: stamp.clockSynced ? 'synced' : 'unsynced',
      ...(act === undefined ? {} : { action: act }),
      ...(details === undefined ? {} : { details }),
      ...(command?.context === undefined ? {} : { context: command.context }),
    };
  }
}
