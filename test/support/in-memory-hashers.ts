/**
 * Fast password hashers for domain tests (the accounts port PasswordHasher), and a wrapper that
 * counts the checks a hasher runs (for the lockout bound). For tests only.
 */
import { createHash } from 'node:crypto';
import type { Password, PasswordHasher } from '../../lambda/accounts/password';
import { roundTrip, type FakeOptions } from './in-memory-platform';

/**
 * A fast stand-in for bcrypt with the same contract: a salted hash that never equals the
 * password, `verify` true only for the same password, `verifyAgainstDummy` always false.
 * Counts its calls.
 */
export class FakePasswordHasher implements PasswordHasher {
  readonly calls = { hash: 0, verify: 0, verifyAgainstDummy: 0 };
  private salt = 0;
  private readonly wait: () => Promise<void>;

  constructor(options: Pick<FakeOptions, 'roundTrip'> = {}) {
    this.wait = options.roundTrip ?? roundTrip;
  }

  async hash(password: Password): Promise<string> {
    this.calls.hash += 1;
    const salt = `s${(this.salt += 1)}`;
    return `fake$${salt}$${digest(salt, password)}`;
  }

  async verify(password: Password, hash: string): Promise<boolean> {
    this.calls.verify += 1;
    await this.wait();
    const [scheme, salt, stored] = hash.split('$');
    return scheme === 'fake' && salt !== undefined && stored === digest(salt, password);
  }

  async verifyAgainstDummy(password: Password): Promise<false> {
    this.calls.verifyAgainstDummy += 1;
    await this.wait();
    digest('dummy', password);
    return false;
  }

  /** Hashes of another scheme (as tests plant them) count as weaker. */
  needsRehash(hash: string): boolean {
    return !hash.startsWith('fake$');
  }

  /** All password checks so far, real or dummy. */
  get checks(): number {
    return this.calls.verify + this.calls.verifyAgainstDummy;
  }
}

function digest(salt: string, password: string): string {
  return createHash('sha256').update(`${salt}:${password}`, 'utf8').digest('hex');
}

/** Wraps any hasher and counts the password checks it runs (for the lockout bound). */
export class CountingHasher implements PasswordHasher {
  readonly calls = { hash: 0, verify: 0, verifyAgainstDummy: 0 };
  constructor(private readonly inner: PasswordHasher) {}
  hash(password: Password): Promise<string> {
    this.calls.hash += 1;
    return this.inner.hash(password);
  }
  verify(password: Password, hash: string): Promise<boolean> {
    this.calls.verify += 1;
    return this.inner.verify(password, hash);
  }
  verifyAgainstDummy(password: Password): Promise<false> {
    this.calls.verifyAgainstDummy += 1;
    return this.inner.verifyAgainstDummy(password);
  }
  needsRehash(hash: string): boolean {
    return this.inner.needsRehash(hash);
  }
  get checks(): number {
    return this.calls.verify + this.calls.verifyAgainstDummy;
  }
}
