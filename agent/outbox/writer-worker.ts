import { parentPort, workerData } from 'node:worker_threads';
import type { FromWriter, ToWriter, WriterInit } from './messages.js';
import { Writer } from './writer.js';

/** The writer thread: every file operation of the store happens here, synchronously, off the main thread. */
const port = parentPort;
if (!port) throw new Error('writer-worker runs as a worker thread');
const init = workerData as WriterInit;
const post = (message: FromWriter): void => port.postMessage(message);
const writer = new Writer(init, post);

function progress(): void {
  post({ t: 'progress', updates: writer.takeUpdates(), progress: writer.progress() });
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

const timer = setInterval(() => {
  guarded(() => writer.tick());
  progress();
}, init.flushIntervalMs);

port.on('message', (message: ToWriter) => {
  switch (message.t) {
    case 'append':
      guarded(() => writer.append(message.records));
      break;
    case 'ack':
      guarded(() => writer.ack(message.ranges));
      break;
    case 'correct':
      guarded(() => writer.correct(message.offsetMs, message.throughSeq));
      break;
    case 'flush':
      guarded(() => writer.flush());
      progress();
      post({ t: 'done', id: message.id });
      return;
    case 'close':
      clearInterval(timer);
      guarded(() => writer.close());
      progress();
      post({ t: 'done', id: message.id });
      port.close();
      return;
  }
  progress();
});
