import { Injectable, type OnModuleInit } from '@nestjs/common';
import { hash, verify, type Algorithm, type Options } from '@node-rs/argon2';

/** `Algorithm.Argon2id` (a const enum, which isolated modules cannot read). */
const ARGON2ID = 2 as Algorithm;

/**
 * Argon2id with explicit parameters (OWASP's second recommended set: m = 19 MiB, t = 2, p = 1).
 * A verification against an unknown account runs against a dummy hash, so a wrong email and a wrong
 * password cost the same time and answer the same 401.
 */
const ARGON2: Options = {
  algorithm: ARGON2ID,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
  outputLen: 32,
};

@Injectable()
export class PasswordService implements OnModuleInit {
  private dummy: Promise<string> | undefined;

  /**
   * Computes the dummy hash at start: made lazily, the first login with an unknown email would pay for a hash
   * *and* a verification, twice the time of a wrong password, and so tell the two apart.
   */
  async onModuleInit(): Promise<void> {
    await this.dummyHash();
  }

  hash(password: string): Promise<string> {
    return hash(password, ARGON2);
  }

  async verify(passwordHash: string | undefined, password: string): Promise<boolean> {
    if (!passwordHash) {
      await verify(await this.dummyHash(), password).catch(() => false);
      return false;
    }
    try {
      return await verify(passwordHash, password);
    } catch {
      return false;
    }
  }

  private dummyHash(): Promise<string> {
    this.dummy ??= this.hash('tenantry-dummy-password-for-timing');
    return this.dummy;
  }
}
