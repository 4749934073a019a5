import { stat } from 'node:fs/promises';

/**
 * Notices when a serial device path stops naming the device that was opened: a USB adapter unplugged (the
 * path disappears) or plugged back in as another tty (a /dev/serial/by-id link now points elsewhere). An open
 * port on a vanished device does not always report an error, and then it stays silent for good; comparing the
 * path's device number with the opened one catches that.
 */
export interface IdentityWatch {
  stop(): void;
}

export function watchDeviceIdentity(path: string, onLost: (why: string) => void, everyMs = 1000): IdentityWatch {
  let opened: { rdev: number; ino: number } | undefined;
  let stopped = false;
  const check = (): void => {
    stat(path).then(
      (now) => {
        if (stopped) return;
        if (!opened) {
          opened = { rdev: now.rdev, ino: now.ino };
          return;
        }
        if (now.rdev !== opened.rdev || now.ino !== opened.ino) {
          stopped = true;
          onLost(`${path} now names another device (adapter re-plugged)`);
        }
      },
      () => {
        if (stopped) return;
        stopped = true;
        onLost(`${path} is gone (adapter unplugged)`);
      },
    );
  };
  check();
  const timer = setInterval(check, everyMs);
  timer.unref();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
