import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StateStore, loadState, stateFile } from '../../agent/state/index.js';
import { silentLogger } from '../../agent/log/index.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'vigil-state-'));
}

describe('state store', () => {
  it('writes the newest snapshot of every section and reads it back', async () => {
    const file = stateFile(tempDir());
    const store = new StateStore(file, silentLogger(), 10);
    let latch = { 'tank1.ch4': 'L2' };
    store.section('alarms', () => latch);
    store.section('outputs', () => ({ fan: { commanded: true, cause: 'rule' } }));
    store.markDirty();
    latch = { 'tank1.ch4': 'acknowledged' };
    await store.flush();
    expect(loadState(file).sections).toEqual({
      alarms: { 'tank1.ch4': 'acknowledged' },
      outputs: { fan: { commanded: true, cause: 'rule' } },
    });
    expect(existsSync(`${file}.tmp`)).toBe(false);
  });

  it('coalesces many changes into few writes', async () => {
    const file = stateFile(tempDir());
    const store = new StateStore(file, silentLogger(), 50);
    let n = 0;
    store.section('counter', () => n);
    for (let i = 0; i < 1000; i++) {
      n = i;
      store.markDirty();
    }
    await new Promise((r) => setTimeout(r, 200));
    await store.flush();
    expect(store.writes).toBe(1);
    expect(loadState(file).sections).toEqual({ counter: 999 });
  });

  it('moves a damaged file aside and starts from defaults', () => {
    const dir = tempDir();
    const file = stateFile(dir);
    writeFileSync(file, '{"version":1,"sections":{"alar');
    const loaded = loadState(file);
    expect(loaded.sections).toEqual({});
    expect(loaded.damaged?.error).toMatch(/JSON/);
    expect(readdirSync(dir).some((f) => f.startsWith('state.json.damaged-'))).toBe(true);
    expect(readFileSync(loaded.damaged!.movedTo, 'utf8')).toContain('alar');
  });

  it('keeps the state in memory when the disk refuses, and writes once it can', async () => {
    // A regular file where the state folder should be fails for every user, root included.
    const dir = tempDir();
    const blocker = join(dir, 'state');
    writeFileSync(blocker, '');
    const store = new StateStore(join(blocker, 'state.json'), silentLogger(), 10);
    store.section('s', () => 42);
    store.markDirty();
    await store.flush();
    expect(store.healthy).toBe(false);
    expect(store.writes).toBe(0);

    rmSync(blocker);
    mkdirSync(blocker);
    await new Promise((r) => setTimeout(r, 50));
    await store.flush();
    expect(store.healthy).toBe(true);
    expect(loadState(join(blocker, 'state.json')).sections).toEqual({ s: 42 });
  });
});
