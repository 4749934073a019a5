import { describe, expect, it } from 'vitest';
import { JobQueue } from '../../agent/bus/job-queue.js';

describe('JobQueue', () => {
  it('serves write > critical > normal > low, FIFO within a priority', () => {
    const queue = new JobQueue<string>();
    queue.push('low1', 'low');
    queue.push('normal1', 'normal');
    queue.push('critical1', 'critical');
    queue.push('normal2', 'normal');
    queue.push('write1', 'write');
    queue.push('critical2', 'critical');
    const order: string[] = [];
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) order.push(item);
    expect(order).toEqual(['write1', 'critical1', 'critical2', 'normal1', 'normal2', 'low1']);
    expect(queue.size).toBe(0);
  });

  it('puts a retry back at the head of its own lane only', () => {
    const queue = new JobQueue<string>();
    queue.push('a', 'normal');
    queue.push('b', 'normal');
    expect(queue.shift()).toBe('a');
    queue.pushFront('a-retry', 'normal');
    queue.push('w', 'write');
    expect([queue.shift(), queue.shift(), queue.shift()]).toEqual(['w', 'a-retry', 'b']);
  });

  it('keeps order through many pushes and shifts (no loss when it compacts)', () => {
    const queue = new JobQueue<number>();
    const out: number[] = [];
    let next = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 7; i++) queue.push(next++, 'normal');
      for (let i = 0; i < 5; i++) out.push(queue.shift()!);
    }
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) out.push(item);
    expect(out).toEqual(Array.from({ length: next }, (_, i) => i));
  });

  it('takeAll empties every lane, most urgent first', () => {
    const queue = new JobQueue<string>();
    queue.push('n', 'normal');
    queue.push('w', 'write');
    queue.shift();
    queue.push('l', 'low');
    expect(queue.takeAll()).toEqual(['n', 'l']);
    expect(queue.size).toBe(0);
    expect(queue.peek()).toBeUndefined();
  });
});
