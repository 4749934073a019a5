import { parentPort, workerData } from 'node:worker_threads';
import type { FromWriter, ToWriter, WriterInit } from './messages.js';
import { Writer } from './writer.js';

/** The writer thread: every file operation of the store happens here, synchronously, off the main thread. */
const port = parentPort;
if (!port) throw new Error('writer-worker runs as a worker thread');
const init = workerData as WriterInit;
const post = (message: FromWriter): void => port.postMessage(message);
const writer = new Writer(init, post);

/** The last figures posted: an unchanged report is not sent again (each message wakes the main thread). */
let lastReported = '';

function progress(always = false): void {
  const updates = writer.takeUpdates();
  const figures = writer.progress();
  const text = JSON.stringify(figures);
  if (!always && updates.length === 0 && text === lastReported) return;
  lastReported = text;
  post({ t: 'progress', updates, progress: figures });
}

function guarded(action: () => void): void {
  try {
    action();
  } catch (error) {
    post({ t: 'log', level: 'error', msg: 'outbox writer error', fields: { error: (error as Error).stack ?? String(error) } });
  }
}

try {
  post(writer.open());
} catch (error) {
  post({ t: 'fatal', message: (error as Error).message });
  process.exit(1);
}

/**
 * The group commit runs when the main thread's batch asks for it: within one flush interval of any telemetry
 * or ack it holds. This timer, re-armed after every commit, is the fallback when no batch comes (retries after
 * a refused write, the age bound); at twice the interval it does not wake the thread just before each batch.
 */
const FALLBACK_TICK_MS = 2 * init.flushIntervalMs;
let timer: NodeJS.Timeout | undefined;
function tick(): void {
  if (timer) clearTimeout(timer);
  guarded(() => writer.tick());
  progress();
  timer = setTimeout(tick, FALLBACK_TICK_MS);
}
timer = setTimeout(tick, FALLBACK_TICK_MS);

port.on('message', (message: ToWriter) => {
  switch (message.t) {
    case 'batch':
      if (message.records.length > 0) guarded(() => writer.append(message.records));
      if (message.acks.length > 0) guarded(() => writer.ack(message.acks));
      if (message.commit) return tick();
      break;
    case 'correct':
      guarded(() => writer.correct(message.offsetMs, message.throughSeq));
      break;
    case 'flush':
      guarded(() => writer.flush());
      progress(true);
      post({ t: 'done', id: message.id });
      return;
    case 'close':
      clearTimeout(timer);
      guarded(() => writer.close());
      progress(true);
      post({ t: 'done', id: message.id });
      port.close();
      return;
  }
  progress();
});
