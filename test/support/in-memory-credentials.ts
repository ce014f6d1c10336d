/** An in-memory fake of the credentials port (lambda/credentials/ports.ts). For tests only. */
import { BackendUnavailableError } from '../../lambda/platform/errors';
import type { Clock } from '../../lambda/platform/clock';
import type { CredentialIssuer, CredentialRequest } from '../../lambda/credentials/ports';
import type { IssuedCredentials } from '../../lambda/contract/wire';
import { Faults, waitFor, type FakeOptions } from './in-memory-platform';

/**
 * Records every request and answers with fake credentials expiring `durationSeconds` after
 * the clock's now. Secrets are distinct per call so tests can tell them apart.
 */
export class InMemoryCredentialIssuer implements CredentialIssuer {
  readonly requests: CredentialRequest[] = [];
  private readonly faults = new Faults<'issue'>();
  readonly calls = new Map<'issue', number>();
  private serial = 0;
  private readonly wait: (() => Promise<void>) | undefined;

  constructor(
    private readonly clock: Clock,
    options: FakeOptions = {},
  ) {
    this.wait = waitFor(options);
  }

  failNext(error?: unknown): void {
    this.faults.failNext('issue', error ?? new BackendUnavailableError('STS'));
  }

  async issue(request: CredentialRequest): Promise<IssuedCredentials> {
    await this.faults.enter('issue', this.calls, this.wait);
    this.requests.push({ ...request });
    this.serial += 1;
    const id = String(this.serial).padStart(8, '0');
    return {
      accessKeyId: `ASIAFAKE${id}`,
      secretAccessKey: `fake-secret-${id}`,
      sessionToken: `fake-session-token-${id}`,
      expiration: new Date(this.clock.now() + request.durationSeconds * 1000).toISOString(),
    };
  }
}
