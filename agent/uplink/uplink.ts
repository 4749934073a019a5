import { ReconnectBackoff } from './backoff.js';
import { asMessages } from './batch.js';
import { CommandGate, type CommandMemorySnapshot } from './command-gate.js';
import { DeliverySession, newCounters, type DeliveryCounters } from './delivery.js';
import { effectiveWindow, resolveDelivery, safeUrl, type ResolvedDelivery, type UplinkOptions } from './options.js';
import type { BirthInfo, CommandOutcome, ConnectIdentity, DecodedCommand, OutgoingMessage, PlatformCommand, PlatformProfile, ProfileHost, StateStamp } from './profile.js';
import { createNativeProfile } from './profiles/native.js';
import { TokenBucket } from './token-bucket.js';
import { openConnection, type Connection, type PublishOutcome } from './transport.js';

/** online: connected and delivering; held: connected, but a gated profile waits (e.g. for its primary host). */
export type UplinkState = 'stopped' | 'connecting' | 'waiting' | 'held' | 'online';

export interface UplinkStats {
  state: UplinkState;
  connects: number;
  connectFailures: number;
  /** Present while online. */
  window: number | null;
  inflight: number;
  liveQueued: number;
  historicalPending: number;
  replaying: boolean;
  /** What mqtt.js holds for the current connection (never more than the window). */
  transportHeld: { queued: number; outgoing: number };
  delivered: DeliveryCounters;
  commands: { received: number; done: number; refused: number; failed: number; resultsDropped: number };
  /** Profile messages outside the data stream (answers, on-demand reports) dropped because the queue overflowed. */
  profileMessagesDropped: number;
}

/** Results waiting for a connection, at most this many (older ones are dropped: the platform may resend). */
const MAX_QUEUED_RESULTS = 100;
/** Profile messages outside the data stream (answers, on-demand reports, rebirths) waiting for the window. */
const MAX_QUEUED_SIDE = 1000;

/**
 * The uplink: one broker connection at a time, our own reconnect with capped exponential back-off and full
 * jitter, a retained birth on connect and a retained will, delivery from the outbox in a bounded window, and
 * commands through the gate. Nothing here throws into its caller or blocks the field side; a broker that
 * refuses, drops, stalls or crawls only changes what this class reports.
 */
export class Uplink {
  private readonly profile: PlatformProfile;
  private readonly delivery: ResolvedDelivery;
  private readonly backoff: ReconnectBackoff;
  private readonly counters = newCounters();
  private readonly gate: CommandGate | undefined;
  private readonly log;
  private state: UplinkState = 'stopped';
  private connection: Connection | undefined;
  private session: DeliverySession | undefined;
  private window: number | null = null;
  private attempt = 0;
  private connects = 0;
  private connectFailures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private stableTimer: NodeJS.Timeout | undefined;
  private readonly results: CommandOutcome[] = [];
  /** Our QoS 1 messages in flight besides data (results, births, host publishes): they count against the window. */
  private sideInflight = 0;
  /** Host publishes waiting for a window slot (live only: dropped with the connection). */
  private readonly sideQueue: OutgoingMessage[] = [];
  private sideDropped = 0;
  /** When each side message in flight was published: a broker that stops acknowledging them is dropped too. */
  private readonly sideSentAt = new Map<number, number>();
  private nextSideId = 1;
  private sideStallTimer: NodeJS.Timeout | undefined;
  private gateOpen = false;
  private birthGeneration = 0;
  /** The birth of this connection went out (and data started, or will once it is acknowledged). */
  private born = false;
  private readonly commandCounts = { received: 0, done: 0, refused: 0, failed: 0, resultsDropped: 0 };
  private lastRejectLog = -Infinity;

  constructor(private readonly options: UplinkOptions) {
    this.profile = (options.profile ?? createNativeProfile)({
      siteId: options.siteId,
      gatewayId: options.gatewayId,
      topicPrefix: options.topicPrefix ?? 'vigil',
      host: this.host(),
    });
    this.delivery = resolveDelivery(options.delivery);
    const reconnect = options.reconnect ?? {};
    this.backoff = new ReconnectBackoff(reconnect.minDelayMs ?? 1000, reconnect.maxDelayMs ?? 60_000, options.random);
    this.gate = options.commands ? new CommandGate(options.commands, options.clock) : undefined;
    this.log = options.logger.child({ part: 'uplink', profile: this.profile.name, ...(options.name ? { platform: options.name } : {}) });
  }

  start(): void {
    if (this.state !== 'stopped') return;
    this.log.info({ broker: safeUrl(this.options.broker.url), clientId: this.options.clientId ?? this.options.gatewayId, protocolVersion: this.protocolVersion }, 'uplink starting');
    this.connect();
  }

  /** Orderly stop: an offline state (retained) if connected, then DISCONNECT. Waits at most `graceMs`. */
  async stop(graceMs = 2000): Promise<void> {
    if (this.state === 'stopped') return;
    const connection = this.connection;
    const session = this.session;
    this.state = 'stopped';
    if (session) {
      // The last poll may be lingering: send it, and wait for its PUBACK, within half the grace.
      let settleTimer: NodeJS.Timeout | undefined;
      await Promise.race([session.settleLive(), new Promise<void>((resolve) => (settleTimer = setTimeout(resolve, graceMs / 2)))]);
      clearTimeout(settleTimer);
    }
    clearTimeout(this.retryTimer);
    clearTimeout(this.stableTimer);
    clearTimeout(this.sideStallTimer);
    this.session?.stop();
    this.session = undefined;
    this.connection = undefined;
    this.endProfileSession();
    this.disposeProfile();
    if (!connection) return;
    let goodbyeMessages: readonly OutgoingMessage[] = [];
    try {
      goodbyeMessages = asMessages(this.profile.encodeShutdown(this.stamp()));
    } catch (error) {
      this.log.error({ error: describe(error) }, 'could not encode the shutdown message');
    }
    const goodbye = Promise.all(
      goodbyeMessages.map((message) => new Promise<void>((resolve) => connection.publish(this.wire(message), () => resolve()))),
    ).then(() => connection.end());
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([goodbye, new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    connection.destroy();
    this.log.info('uplink stopped');
  }

  /** The command memory (recent ids, last known true time), for the state store. */
  snapshot(): CommandMemorySnapshot | undefined {
    return this.gate?.snapshot();
  }

  stats(): UplinkStats {
    const session = this.session?.stats();
    return {
      state: this.state,
      connects: this.connects,
      connectFailures: this.connectFailures,
      window: this.window,
      inflight: (session?.inflight ?? 0) + this.sideInflight,
      liveQueued: session?.liveQueued ?? 0,
      historicalPending: session?.historicalPending ?? 0,
      replaying: session?.replaying ?? false,
      transportHeld: this.connection?.held() ?? { queued: 0, outgoing: 0 },
      delivered: { ...this.counters },
      commands: { ...this.commandCounts },
      profileMessagesDropped: this.sideDropped,
    };
  }

  private get protocolVersion(): 4 | 5 {
    return this.options.broker.protocolVersion ?? 5;
  }

  private stamp(): StateStamp {
    const s = this.options.clock.stamp();
    return { ts: s.wallTs, clock: s.clockSynced ? 'synced' : 'unsynced' };
  }

  private trace(event: Parameters<NonNullable<UplinkOptions['trace']>>[0]): void {
    try {
      this.options.trace?.(event);
    } catch {
      // diagnostics only
    }
  }

  private connect(): void {
    this.state = 'connecting';
    this.attempt++;
    const attempt = this.attempt;
    this.trace({ type: 'connecting', attempt });
    const broker = this.options.broker;
    let identity: ConnectIdentity = { clientId: this.options.clientId ?? this.options.gatewayId, credentials: broker.credentials ?? {} };
    try {
      identity = this.profile.connectIdentity?.(identity) ?? identity;
    } catch (error) {
      this.log.error({ error: describe(error) }, 'profile could not derive the connect identity; using the configured one');
    }
    openConnection({
      url: broker.url,
      clientId: identity.clientId,
      protocolVersion: this.protocolVersion,
      credentials: identity.credentials,
      rejectUnauthorized: broker.rejectUnauthorized ?? true,
      keepaliveSec: broker.keepaliveSec ?? 30,
      connectTimeoutMs: broker.connectTimeoutMs ?? 15_000,
      will: this.profile.encodeWill(),
    }).then(
      (connection) => {
        if (this.state === 'stopped') {
          connection.destroy();
          return;
        }
        this.onConnected(connection);
      },
      (error: unknown) => {
        if (this.state === 'stopped') return;
        this.connectFailures++;
        const message = error instanceof Error ? error.message : String(error);
        const delay = this.scheduleReconnect();
        this.log.warn({ attempt, error: message, retryInMs: delay }, 'broker connection failed');
        this.trace({ type: 'connect-failed', attempt, error: message, retryInMs: delay });
      },
    );
  }

  private scheduleReconnect(): number {
    const delay = this.backoff.next();
    this.state = 'waiting';
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.state === 'waiting') this.connect();
    }, delay);
    return delay;
  }

  private onConnected(connection: Connection): void {
    this.connection = connection;
    this.connects++;
    this.state = 'held';
    this.born = false;
    this.gateOpen = !this.profile.gated;
    connection.onClose((reason) => this.onClosed(connection, reason));
    const stableAfter = this.options.reconnect?.stableAfterMs ?? 30_000;
    this.stableTimer = setTimeout(() => this.backoff.reset(), stableAfter);
    this.window = effectiveWindow(this.delivery, connection.receiveMaximum).window;
    this.guardProfile('sessionStarted', () => this.profile.sessionStarted?.());
    this.gate?.observeClock(this.options.clock.stamp());

    const filters = [
      ...(this.gate || this.profile.gated ? this.profile.commandSubscriptions : []),
      ...(this.profile.controlSubscriptions ?? []),
    ];
    if (filters.length > 0) {
      connection.onMessage((topic, payload, retained) => this.onCommandMessage(topic, payload, retained));
      connection.subscribe([...new Set(filters)]).catch((error: unknown) => {
        this.log.error({ error: describe(error) }, 'command subscription failed: commands will not arrive');
      });
    }
    if (this.gateOpen) this.beginDelivery(connection);
    else this.log.info('connected; waiting for the platform to open the gate before birth and data');
  }

  /** The birth goes first; data starts once the broker has it, so the platform sees "online" before readings. */
  private beginDelivery(connection: Connection): void {
    if (this.born || this.connection !== connection) return;
    this.born = true;
    // A gate that closes and opens again on this connection starts a new birth; this one's answers then count for nothing.
    const generation = ++this.birthGeneration;
    let births: readonly OutgoingMessage[];
    try {
      births = asMessages(this.profile.encodeBirth(this.birthInfo()));
    } catch (error) {
      this.log.error({ error: describe(error) }, 'could not encode the birth message; reconnecting');
      connection.destroy();
      return;
    }
    let waiting = births.length;
    let next = 0;
    let refused: string | undefined;
    const started = (): void => {
      if (this.connection !== connection || !this.born || generation !== this.birthGeneration) return;
      if (refused !== undefined) {
        this.log.error({ error: refused }, 'broker refused the birth message; reconnecting');
        connection.destroy();
        return;
      }
      this.startSession(connection);
    };
    if (waiting === 0) {
      started();
      return;
    }
    // One birth per window slot: a node with many devices must not exceed the broker's receive maximum.
    const window = this.window ?? 1;
    const sendMore = (): void => {
      while (next < births.length && this.sideInflight < window) {
        const birth = births[next++];
        if (!birth) break;
        this.trackSide(connection, (outcome) => {
          if (generation !== this.birthGeneration) return;
          if (outcome.kind !== 'acked') refused ??= outcome.message;
          if (--waiting === 0) started();
          else sendMore();
        }, birth);
      }
    };
    sendMore();
  }

  /**
   * Publishes one message outside the data stream, counted against the window until its PUBACK, and watched:
   * a broker that stops acknowledging is dropped as it is for data.
   */
  private trackSide(connection: Connection, done: (outcome: PublishOutcome) => void, message: OutgoingMessage): void {
    const id = this.nextSideId++;
    this.sideInflight++;
    this.sideSentAt.set(id, performance.now());
    this.armSideStall(connection);
    connection.publish(this.wire(message), (outcome) => {
      if (this.connection !== connection) return;
      this.sideInflight--;
      this.sideSentAt.delete(id);
      done(outcome);
    });
  }

  private armSideStall(connection: Connection): void {
    if (this.sideStallTimer) return;
    const oldest = this.sideSentAt.values().next().value;
    if (oldest === undefined) return;
    const timeout = this.delivery.ackTimeoutMs;
    this.sideStallTimer = setTimeout(() => {
      this.sideStallTimer = undefined;
      if (this.connection !== connection) return;
      const first = this.sideSentAt.values().next().value;
      if (first === undefined) return;
      if (performance.now() - first >= timeout) {
        this.counters.ackTimeouts++;
        this.log.warn({ reason: `no PUBACK for ${timeout} ms` }, 'broker stopped acknowledging; reconnecting');
        connection.destroy();
        return;
      }
      this.armSideStall(connection);
    }, Math.max(0, oldest + timeout - performance.now()));
    this.sideStallTimer.unref?.();
  }

  private startSession(connection: Connection): void {
    const window = this.window ?? 1;
    const { liveReserve } = effectiveWindow(this.delivery, connection.receiveMaximum);
    this.state = 'online';
    const maxBytes = Math.min(this.delivery.batchBytes, connection.maximumPacketSize ? connection.maximumPacketSize - 1024 : Infinity);
      this.session = new DeliverySession({
        outbox: this.options.outbox,
        publish: (message, done) => connection.publish(this.wire(message), done),
        profile: this.profile,
        window,
        liveReserve,
        limits: { maxRecords: this.delivery.batchRecords, maxBytes: Math.max(1024, maxBytes) },
        bucket: new TokenBucket(this.delivery.replayRecordsPerSecond, this.delivery.replayBurst, () => performance.now()),
        maxLiveRecords: this.delivery.maxLiveQueue,
        lingerMs: this.delivery.lingerMs,
        ackTimeoutMs: this.delivery.ackTimeoutMs,
        counters: this.counters,
        onStall: (reason) => {
          this.log.warn({ reason }, 'broker stopped acknowledging; reconnecting');
          connection.destroy();
        },
        onRejected: (rejection, records) => this.onRejected(rejection, records),
        extraInflight: () => this.sideInflight,
        onReadError: (readError) => this.log.error({ error: readError instanceof Error ? readError.message : String(readError) }, 'outbox read or ack failed'),
        onEncodeError: (encodeError, seq) => this.onEncodeError(encodeError, seq),
      });
      const backlogThrough = this.session.start();
      this.log.info({ window, liveReserve, backlogThrough }, 'uplink online');
      this.trace({ type: 'connected', window, backlogThrough });
      this.flushSide();
  }

  private onClosed(connection: Connection, reason: string): void {
    if (this.connection !== connection) return;
    this.connection = undefined;
    this.window = null;
    clearTimeout(this.stableTimer);
    const inflightSeqs = this.session?.stop() ?? [];
    this.session = undefined;
    this.sideInflight = 0;
    this.sideSentAt.clear();
    this.sideQueue.length = 0;
    clearTimeout(this.sideStallTimer);
    this.sideStallTimer = undefined;
    this.born = false;
    this.endProfileSession();
    if (this.state === 'stopped') return;
    const delay = this.scheduleReconnect();
    this.log.warn({ reason, unacked: inflightSeqs.length, retryInMs: delay }, 'broker connection lost');
    this.trace({ type: 'disconnected', reason, inflightSeqs, retryInMs: delay });
  }

  private lastEncodeErrorLog = -Infinity;

  private onEncodeError(error: unknown, seq: number): void {
    const now = performance.now();
    if (now - this.lastEncodeErrorLog < 10_000) return;
    this.lastEncodeErrorLog = now;
    this.log.error({ seq, error: describe(error), unencodable: this.counters.unencodable }, 'the profile could not encode a record: dropped for this platform');
  }

  private onRejected(refusal: { reasonCode: number; message: string }, records: number): void {
    // Rate-limited: a broker that refuses everything must not flood the journal.
    const now = performance.now();
    if (now - this.lastRejectLog < 10_000) return;
    this.lastRejectLog = now;
    this.log.error({ reasonCode: refusal.reasonCode, error: refusal.message, records }, 'broker refused a message; its records stay in the outbox for the next connection');
  }

  private onCommandMessage(topic: string, payload: Buffer, retained: boolean): void {
    let decoded: DecodedCommand;
    try {
      decoded = this.profile.decodeCommand(topic, payload, retained);
    } catch (error) {
      decoded = { ok: false, id: null, topic, error: `undecodable: ${describe(error)}` };
    }
    if (decoded.ok === 'handled') return;
    this.commandCounts.received++;
    this.judge(decoded, retained);
  }

  private judge(decoded: DecodedCommand, retained: boolean): void {
    const gate = this.gate;
    if (!gate) {
      this.commandCounts.refused++;
      this.log.warn({ id: decoded.ok === true ? decoded.command.id : null }, 'platform command ignored: commands are not enabled for this platform');
      return;
    }
    void gate.handle(decoded, retained).then((outcome) => {
      this.commandCounts[outcome.status]++;
      const level = outcome.status === 'done' ? 'info' : 'warn';
      this.log[level]({ id: outcome.id, action: outcome.action, status: outcome.status, reason: outcome.reason, message: outcome.message }, 'platform command');
      this.sendResult(outcome);
    });
  }

  private sendResult(outcome: CommandOutcome): void {
    this.results.push(outcome);
    while (this.results.length > MAX_QUEUED_RESULTS) {
      this.results.shift();
      this.commandCounts.resultsDropped++;
    }
    this.flushSide();
  }

  /**
   * Results and host publishes go before data (they are few), inside the same window, so the broker's receive
   * maximum holds; at most a quarter of the window, so data keeps moving.
   */
  private flushSide(): void {
    const connection = this.connection;
    const window = this.window;
    if (!connection || !this.born || window === null) return;
    const budget = Math.max(1, Math.floor(window / 4));
    const room = (): boolean => this.sideInflight < budget && (this.session?.used() ?? this.sideInflight) < window;
    while (this.session && this.results.length > 0 && room()) {
      const outcome = this.results.shift();
      if (!outcome) break;
      let message: OutgoingMessage | null;
      try {
        message = this.profile.encodeCommandResult(outcome);
      } catch (error) {
        this.log.error({ error: describe(error) }, 'could not encode a command result');
        continue;
      }
      if (message) this.publishSide(connection, message);
    }
    while (this.sideQueue.length > 0 && room()) {
      const message = this.sideQueue.shift();
      if (message) this.publishSide(connection, message);
    }
  }

  /** A QoS 1 message outside the data stream, inside the window; frees its slot on PUBACK. */
  private publishSide(connection: Connection, message: OutgoingMessage): void {
    this.trackSide(connection, () => {
      this.flushSide();
      this.session?.poke();
    }, message);
  }

  /** Queues profile messages for the window (live only: a queue that overflows loses its oldest). */
  private queueSide(messages: readonly OutgoingMessage[]): void {
    this.sideQueue.push(...messages);
    while (this.sideQueue.length > MAX_QUEUED_SIDE) {
      this.sideQueue.shift();
      this.sideDropped++;
    }
    this.flushSide();
  }

  /** Every message passes here right before the wire, in wire order (the profile may stamp a counter). */
  private wire(message: OutgoingMessage): OutgoingMessage {
    if (!this.profile.onWire) return message;
    try {
      return this.profile.onWire(message);
    } catch (error) {
      this.log.error({ error: describe(error) }, 'profile failed to stamp a message; sent as encoded');
      return message;
    }
  }

  private birthInfo(): BirthInfo {
    let skipped: { from: number; to: number } | null = null;
    let ranges: ReadonlyArray<{ from: number; to: number }> = [];
    try {
      skipped = this.options.skippedSeqs?.() ?? null;
      ranges = this.options.skippedRanges?.() ?? [];
    } catch {
      // a diagnostic only: the birth goes out without it
    }
    return {
      ...this.stamp(),
      ...this.options.birth,
      latest: this.latestValues(),
      ...(skipped ? { skippedSeqs: skipped } : {}),
      ...(ranges.length > 0 ? { skippedRanges: ranges } : {}),
    };
  }

  private latestValues(): ReturnType<ProfileHost['latest']> {
    try {
      return this.options.latest?.() ?? [];
    } catch (error) {
      this.log.error({ error: describe(error) }, 'latest readings unavailable');
      return [];
    }
  }

  private guardProfile(what: string, run: () => void): void {
    try {
      run();
    } catch (error) {
      this.log.error({ error: describe(error) }, `profile ${what} failed`);
    }
  }

  private endProfileSession(): void {
    this.guardProfile('sessionEnded', () => this.profile.sessionEnded?.());
  }

  private disposeProfile(): void {
    this.guardProfile('dispose', () => this.profile.dispose?.());
  }

  /** What a profile may ask of this uplink; see ProfileHost. */
  private host(): ProfileHost {
    return {
      publish: (messages) => {
        if (!this.connection || !this.born) return;
        this.queueSide(messages);
      },
      rebirth: () => {
        if (!this.connection || !this.born) return;
        let births: readonly OutgoingMessage[];
        try {
          births = asMessages(this.profile.encodeBirth(this.birthInfo()));
        } catch (error) {
          this.log.error({ error: describe(error) }, 'could not encode the birth for a rebirth');
          return;
        }
        this.log.info('rebirth requested by the platform');
        this.queueSide(births);
      },
      setGate: (open) => {
        if (open === this.gateOpen) return;
        this.gateOpen = open;
        const connection = this.connection;
        if (!connection) return;
        if (open) {
          this.log.info('gate opened: birth and data start');
          this.beginDelivery(connection);
        } else {
          // Data stays in the outbox; what was in flight is read again when the gate reopens.
          this.log.warn('gate closed: data held in the outbox');
          this.session?.stop();
          this.session = undefined;
          this.born = false;
          this.state = 'held';
        }
      },
      reconnect: (reason) => {
        const connection = this.connection;
        if (!connection) return;
        this.log.warn({ reason }, 'profile ends the session: reconnecting');
        connection.destroy();
      },
      latest: () => this.latestValues(),
      requestSample: () => {
        try {
          return this.options.requestSample?.() ?? false;
        } catch {
          return false;
        }
      },
      now: () => this.stamp(),
      submit: (command: PlatformCommand, retained = false) => {
        this.commandCounts.received++;
        this.judge({ ok: true, command }, retained);
      },
      log: (level, message, details) => this.log[level](details ?? {}, message),
    };
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
