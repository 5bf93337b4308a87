import { conditionsOf, sameStatus, setCondition } from './conditions';

const t0 = new Date('2026-01-01T00:00:00Z');
const t1 = new Date('2026-01-01T00:01:00Z');

describe('conditions', () => {
  it('keeps lastTransitionTime while the status stays, moves it when the status changes', () => {
    const first = setCondition([], { type: 'Ready', status: 'False', reason: 'Progressing', message: 'a', observedGeneration: 1 }, t0);
    const same = setCondition(first, { type: 'Ready', status: 'False', reason: 'Progressing', message: 'b', observedGeneration: 2 }, t1);
    const flipped = setCondition(same, { type: 'Ready', status: 'True', reason: 'Available', message: 'c', observedGeneration: 2 }, t1);
    expect(same[0]).toMatchObject({ message: 'b', observedGeneration: 2, lastTransitionTime: t0.toISOString() });
    expect(flipped).toHaveLength(1);
    expect(flipped[0]).toMatchObject({ status: 'True', lastTransitionTime: t1.toISOString() });
  });

  it('compares statuses without their timestamps', () => {
    const a = { observedGeneration: 1, conditions: conditionsOf(undefined, [{ type: 'Ready', status: 'True', reason: 'Available', message: '' }], t0) };
    const b = { observedGeneration: 1, conditions: conditionsOf(undefined, [{ type: 'Ready', status: 'True', reason: 'Available', message: '' }], t1) };
    expect(sameStatus(a, b)).toBe(true);
    expect(sameStatus(a, { ...b, observedGeneration: 2 })).toBe(false);
  });
});
