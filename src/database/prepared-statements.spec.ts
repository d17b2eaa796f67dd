import { describe, expect, it } from 'vitest';
import { preparedStatement } from './prepared-statements.js';

describe('preparedStatement', () => {
  it('numbers ? placeholders in order and leaves $n and quoted text alone', () => {
    const s = preparedStatement(
      'spec.numbered',
      `select ?::uuid, "a"."x" = ?, 'it''s' as "q", $1 as again from "t" as "a" where y = ?`,
    );
    expect(s.text).toBe(
      `select $1::uuid, "a"."x" = $2, 'it''s' as "q", $1 as again from "t" as "a" where y = $3`,
    );
    expect(s.name).toBe('spec.numbered');
  });

  it('refuses a ? inside a literal or an identifier instead of guessing', () => {
    expect(() => preparedStatement('spec.literal', `select '?' from t where a = ?`)).toThrow(/quoted/);
    expect(() => preparedStatement('spec.identifier', `select "a?" from t`)).toThrow(/quoted/);
  });

  it('refuses one name for two texts (each connection keeps a name for one text)', () => {
    preparedStatement('spec.once', 'select 1 where ? = 1');
    expect(() => preparedStatement('spec.once', 'select 2 where ? = 1')).toThrow(/another text/);
    expect(preparedStatement('spec.once', 'select 1 where ? = 1').text).toBe('select 1 where $1 = 1');
  });
});
