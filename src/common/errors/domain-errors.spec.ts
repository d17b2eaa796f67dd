import { describe, expect, it } from 'vitest';
import { InvitationErrors } from '../../invitations/invitations.errors.js';
import { AppError, Errors } from './app-error.js';
import { DomainError } from './domain-errors.js';
import { toProblem } from './to-problem.js';

describe('domain errors', () => {
  it('carry their feature name and the status and code their feature mapped them to', () => {
    const e = InvitationErrors.PendingExists();
    expect(e).toBeInstanceOf(DomainError);
    expect(e).toBeInstanceOf(AppError);
    expect(e).toMatchObject({ domainCode: 'invitations.PendingExists', status: 409, code: 'CONFLICT' });
    expect(InvitationErrors.AlreadyAccepted('other detail').detail).toBe('other detail');
  });

  it('render through the one filter exactly like the HTTP-shaped error they replace', () => {
    const strip = (e: unknown) => {
      const { body } = toProblem(e, 'req');
      return body;
    };
    expect(strip(InvitationErrors.Unknown())).toEqual(strip(Errors.notFound('Invitation')));
  });
});
