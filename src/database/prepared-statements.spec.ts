import { describe, expect, it } from 'vitest';
import { preparedStatement } from './prepared-statements.js';

describe('preparedStatement', () => {
  it('numbers ? placeholders in order and leaves quoted text alone', () => {
    const s = preparedStatement(
      'spec.numbered',
      `select ?::uuid, "a"."x" = ?, 'it''s $1' as "q" from "t" as "a" where y = ?`,
    );
    expect(s.text).toBe(`select $1::uuid, "a"."x" = $2, 'it''s $1' as "q" from "t" as "a" where y = $3`);
    expect(preparedStatement('spec.dollar', 'select $1 where $2 = $1').text).toBe('select $1 where $2 = $1');
    expect(s.name).toBe('spec.numbered');
  });

  it('refuses a ? inside a literal or an identifier instead of guessing', () => {
    expect(() => preparedStatement('spec.literal', `select '?' from t where a = ?`)).toThrow(/quoted/);
    expect(() => preparedStatement('spec.identifier', `select "a?" from t`)).toThrow(/quoted/);
  });

  it('refuses what it cannot number safely: comments, dollar quotes, ?-operators, ? next to $n', () => {
    expect(() => preparedStatement('spec.comment', 'select ? -- a ?')).toThrow(/not supported/);
    expect(() => preparedStatement('spec.block', 'select ? /* x */')).toThrow(/not supported/);
    expect(() => preparedStatement('spec.dq', 'select $$a$$, ?')).toThrow(/not supported/);
    expect(() => preparedStatement('spec.jsonb', `select j ?| array['a'] from t where id = ?`)).toThrow(
      /not supported/,
    );
    expect(() => preparedStatement('spec.mixed', 'select ? where $1 = 1')).toThrow(/not supported/);
  });

  it('refuses one name for two texts (each connection keeps a name for one text)', () => {
    preparedStatement('spec.once', 'select 1 where ? = 1');
    expect(() => preparedStatement('spec.once', 'select 2 where ? = 1')).toThrow(/another text/);
    expect(preparedStatement('spec.once', 'select 1 where ? = 1').text).toBe('select 1 where $1 = 1');
  });
});
