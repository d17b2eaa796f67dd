import { describe, expect, expectTypeOf, it } from 'vitest';
import { BoardErrors, CardErrors } from '../../boards/boards.errors.js';
import { InvitationErrors } from '../../invitations/invitations.errors.js';
import { WikiErrors } from '../../wiki/wiki.errors.js';
import { AppError, Errors } from './app-error.js';
import { defineErrors, DomainError, fieldProblem } from './domain-errors.js';
import { toProblem } from './to-problem.js';

/** What a client receives: the body and the headers (the request id is fixed). */
const answer = (e: unknown) => {
  const { body, headers } = toProblem(e, 'req');
  return { body, headers };
};

describe('domain errors', () => {
  it('carry their feature name and the status and code their feature mapped them to', () => {
    const e = InvitationErrors.PendingExists();
    expect(e).toBeInstanceOf(DomainError);
    expect(e).toBeInstanceOf(AppError);
    expect(e).toMatchObject({ domainCode: 'invitations.PendingExists', status: 409, code: 'CONFLICT' });
    expect(InvitationErrors.AlreadyAccepted('other detail').detail).toBe('other detail');
    expect(InvitationErrors.AlreadyAccepted().detail).toBe('The invitation was accepted already');
  });

  it("map to the status and code of API.md: a full column is 409 WIP_LIMIT, the filter renders it with the feature's name for the logs", () => {
    const rendered = toProblem(BoardErrors.WipLimitReached('Doing', 3), 'req-1');
    expect(rendered.body).toEqual({
      type: 'https://tenantry.dev/problems/wip-limit',
      title: 'Conflict',
      status: 409,
      detail: 'The column "Doing" is at its WIP limit of 3 card(s)',
      code: 'WIP_LIMIT',
      requestId: 'req-1',
    });
    expect(rendered.domainCode).toBe('boards.WipLimitReached');
    expect(rendered.serverFault).toBe(false);
    // An HTTP-shaped error has no domain name to log.
    expect(toProblem(Errors.conflict('x'), 'req-1').domainCode).toBeUndefined();
  });

  it('render through the one filter exactly like the HTTP-shaped error they replace', () => {
    expect(answer(InvitationErrors.Unknown())).toEqual(answer(Errors.notFound('Invitation')));
    expect(answer(BoardErrors.ColumnAfterItself())).toEqual(
      answer(Errors.field('afterColumnId', 'must be another column')),
    );
    // 412 with the ETag header and the `currentVersion` member (a number for cards, a string for wiki pages).
    const stale = answer(CardErrors.Stale(7));
    expect(stale).toEqual(
      answer(
        Errors.preconditionFailed(
          'The card changed since you read it: its current version is 7; read it again and retry',
          7,
        ),
      ),
    );
    expect(stale.headers).toEqual({ ETag: '"7"' });
    expect(stale.body.currentVersion).toBe(7);
    expect(answer(WikiErrors.Stale(7)).body.currentVersion).toBe('7');
  });

  it('take the parameters of their detail builder, and any part of the problem body it returns', () => {
    const Sample = defineErrors('sample', {
      Fixed: { status: 409, code: 'CONFLICT', detail: 'fixed' },
      Field: { status: 400, code: 'VALIDATION_FAILED', detail: (n: number) => fieldProblem('n', `is ${n}`) },
      Later: {
        status: 429,
        code: 'RATE_LIMITED',
        detail: (seconds: number) => ({
          detail: 'later',
          headers: { 'Retry-After': String(seconds) },
          extensions: { policy: 'sample' },
        }),
      },
    });
    expect(Sample.Fixed()).toMatchObject({ domainCode: 'sample.Fixed', detail: 'fixed' });
    expect(Sample.Field(2)).toMatchObject({
      status: 400,
      detail: 'n: is 2',
      errors: [{ field: 'n', message: 'is 2' }],
    });
    expect(answer(Sample.Later(5))).toEqual(answer(Errors.rateLimited(5, 'later', 'sample')));
  });

  it('type each factory from its entry (checked by npm run typecheck)', () => {
    expectTypeOf(BoardErrors.WipLimitReached).parameters.toEqualTypeOf<[string, number]>();
    expectTypeOf(CardErrors.Stale).parameters.toEqualTypeOf<[number]>();
    expectTypeOf(InvitationErrors.PendingExists).parameters.toEqualTypeOf<[detail?: string]>();
    expectTypeOf(BoardErrors.ColumnNotEmpty).returns.toEqualTypeOf<DomainError>();
  });
});
