import { describe, expect, it } from 'vitest';
import { AppError } from '../common/errors/app-error.js';
import { CompanyWriteGate } from './company-write-gate.js';

describe('CompanyWriteGate', () => {
  it('lets at most N writes of one company run at once, in arrival order, and others through', async () => {
    const gate = new CompanyWriteGate(2);
    const order: string[] = [];
    const a1 = await gate.acquire('a');
    const a2 = await gate.acquire('a');
    const a3 = gate.acquire('a').then((release) => {
      order.push('a3');
      return release;
    });
    const a4 = gate.acquire('a').then((release) => {
      order.push('a4');
      return release;
    });
    // Another company is not held back by a's queue.
    const b1 = await gate.acquire('b');
    expect(gate.load('a')).toEqual({ active: 2, waiting: 2 });
    a1();
    a1(); // releasing twice frees one slot only
    const r3 = await a3;
    expect(order).toEqual(['a3']);
    expect(gate.load('a')).toEqual({ active: 2, waiting: 1 });
    a2();
    const r4 = await a4;
    expect(order).toEqual(['a3', 'a4']);
    r3();
    r4();
    b1();
    expect(gate.load('a')).toEqual({ active: 0, waiting: 0 });
  });

  it('answers 429 when a company queue is full', async () => {
    const gate = new CompanyWriteGate(1, 1);
    await gate.acquire('a');
    void gate.acquire('a');
    await expect(gate.acquire('a')).rejects.toBeInstanceOf(AppError);
  });

  it('drops a waiter whose request ended, and never hands it a slot', async () => {
    const gate = new CompanyWriteGate(1);
    const first = await gate.acquire('a');
    const gone = new AbortController();
    const abandoned = gate.acquire('a', gone.signal);
    const next = gate.acquire('a');
    expect(gate.load('a')).toEqual({ active: 1, waiting: 2 });
    gone.abort(new Error('client left'));
    await expect(abandoned).rejects.toThrow('client left');
    expect(gate.load('a')).toEqual({ active: 1, waiting: 1 });
    first();
    (await next)();
    expect(gate.occupancy()).toEqual({ companies: 0, active: 0, waiting: 0, perCompany: 1 });
    await expect(gate.acquire('a', gone.signal)).rejects.toThrow('client left');
  });
});
