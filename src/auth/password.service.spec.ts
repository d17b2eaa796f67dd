import { describe, expect, it, vi } from 'vitest';
import { PasswordService } from './password.service.js';

describe('PasswordService', () => {
  it('hashes the dummy password at start, so an unknown account costs one verification like any other', async () => {
    const passwords = new PasswordService();
    await passwords.onModuleInit();
    const hashing = vi.spyOn(passwords, 'hash');
    expect(await passwords.verify(undefined, 'whatever password')).toBe(false);
    expect(await passwords.verify(undefined, 'another password')).toBe(false);
    expect(hashing).not.toHaveBeenCalled();
  });

  it('verifies a real hash and refuses a wrong password or a malformed hash', async () => {
    const passwords = new PasswordService();
    const stored = await passwords.hash('correct horse battery staple');
    expect(await passwords.verify(stored, 'correct horse battery staple')).toBe(true);
    expect(await passwords.verify(stored, 'wrong horse battery staple')).toBe(false);
    expect(await passwords.verify('not-a-hash', 'correct horse battery staple')).toBe(false);
  });
});
