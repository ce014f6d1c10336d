import fc from 'fast-check';
import {
  AccessCutOffError,
  Connectivity,
  LoginRequiredError,
  NetworkError,
  ServiceUnavailableError,
  type ConnectivityState,
} from '@serverless-tvm/client';
import {
  AbortedError,
  FileTooLargeError,
  InvalidFileNameError,
  S3_LIMITS,
  StorageUnreachableError,
  checkSize,
  isCredentialRefusal,
  isNoAnswer,
  keyFor,
  partSizeFor,
  sendWithRecovery,
  utf8Bytes,
  type RecoveryContext,
} from '@serverless-tvm/client/storage';

/** An S3-like error as the AWS SDK throws them. */
function s3Error(name: string, status: number): Error {
  return Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
}

function connectionError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:9`), { code });
}

function context(
  overrides: Partial<RecoveryContext> = {},
): RecoveryContext & { states: ConnectivityState[]; refreshes: () => number } {
  const connectivity = new Connectivity();
  const states: ConnectivityState[] = [];
  connectivity.onChange((state) => states.push(state));
  let refreshes = 0;
  return {
    policy: { initialDelayMs: 2, maxDelayMs: 8, patienceMs: 60_000 },
    connectivity,
    refreshCredentials: async () => {
      refreshes++;
    },
    now: Date.now,
    random: () => 0.5,
    ...overrides,
    states,
    refreshes: () => refreshes,
  };
}

/** A send that fails with `failures` in order, then answers `result`. */
function scripted<T>(failures: unknown[], result: T): { send: () => Promise<T>; calls: () => number } {
  let calls = 0;
  return {
    send: async () => {
      const failure = failures[calls++];
      if (failure !== undefined) throw failure;
      return result;
    },
    calls: () => calls,
  };
}

describe('sendWithRecovery', () => {
  it('fetches fresh credentials once after an AccessDenied on the own folder, then sends again', async () => {
    const ctx = context();
    const request = scripted([s3Error('AccessDenied', 403)], 'stored');
    await expect(sendWithRecovery(request.send, ctx)).resolves.toBe('stored');
    expect(ctx.refreshes()).toBe(1);
    expect(request.calls()).toBe(2);
  });

  it("refreshes only once: refused again with fresh credentials is AccessCutOffError (S3's error as its cause), not a loop", async () => {
    const ctx = context();
    const denied = s3Error('AccessDenied', 403);
    const request = scripted([denied, denied, denied], 'never');
    const error = await sendWithRecovery(request.send, ctx).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AccessCutOffError);
    expect(error).toMatchObject({ code: 'access_cut_off', status: 403, cause: denied });
    expect(ctx.refreshes()).toBe(1);
    expect(request.calls()).toBe(2);
  });

  it('waits out a refresh answered 503 with Retry-After (a cut-off instant ahead) for at least that long, then works with the fresh credentials', async () => {
    let clock = 0;
    const waits: number[] = [];
    const realSetTimeout = global.setTimeout;
    let refreshes = 0;
    const ctx = context({
      now: () => clock,
      refreshCredentials: async () => {
        refreshes++;
        if (refreshes === 1)
          throw new ServiceUnavailableError('Access was cut off moments ago.', { status: 503, retryAfterSeconds: 3 });
      },
    });
    const spy = jest.spyOn(global, 'setTimeout').mockImplementation(((callback: () => void, ms?: number) => {
      waits.push(ms ?? 0);
      clock += ms ?? 0;
      return realSetTimeout(callback, 0);
    }) as typeof setTimeout);
    try {
      const denied = s3Error('AccessDenied', 403);
      const request = scripted([denied, denied], 'listed');
      await expect(sendWithRecovery(request.send, ctx)).resolves.toBe('listed');
      expect(refreshes).toBe(2);
      expect(waits).toHaveLength(1);
      expect(waits[0]).toBeGreaterThanOrEqual(3_000);
      expect(request.calls()).toBe(3);
    } finally {
      spy.mockRestore();
    }
  });

  it('never retries an AccessCutOffError thrown by the request itself', async () => {
    const ctx = context();
    const request = scripted([new AccessCutOffError()], 'never');
    await expect(sendWithRecovery(request.send, ctx)).rejects.toBeInstanceOf(AccessCutOffError);
    expect(request.calls()).toBe(1);
    expect(ctx.refreshes()).toBe(0);
  });

  it('ends with LoginRequiredError when the refresh gets a 401 from /token', async () => {
    const ctx = context({
      refreshCredentials: async () => {
        throw new LoginRequiredError();
      },
    });
    const request = scripted([s3Error('ExpiredToken', 400)], 'never');
    await expect(sendWithRecovery(request.send, ctx)).rejects.toBeInstanceOf(LoginRequiredError);
    expect(request.calls()).toBe(1);
  });

  it('waits through refused and reset connections and the TVM being unreachable, going offline then online', async () => {
    const ctx = context();
    const request = scripted(
      [
        connectionError('ECONNREFUSED'),
        connectionError('ECONNRESET'),
        new NetworkError(),
        new TypeError('fetch failed'),
      ],
      'stored',
    );
    await expect(sendWithRecovery(request.send, ctx)).resolves.toBe('stored');
    expect(request.calls()).toBe(5);
    expect(ctx.states).toEqual(['offline', 'online']);
    expect(ctx.refreshes()).toBe(0);
  });

  it('retries a 5xx, throttling and a 503 from the TVM without reporting offline (they are answers)', async () => {
    const ctx = context();
    const request = scripted(
      [s3Error('InternalError', 500), s3Error('SlowDown', 503), new ServiceUnavailableError('busy')],
      'ok',
    );
    await expect(sendWithRecovery(request.send, ctx)).resolves.toBe('ok');
    expect(ctx.states).toEqual([]);
  });

  it('throws other errors at once, without a refresh or a retry', async () => {
    const ctx = context();
    const missing = s3Error('NoSuchKey', 404);
    const request = scripted([missing], 'never');
    await expect(sendWithRecovery(request.send, ctx)).rejects.toBe(missing);
    expect(request.calls()).toBe(1);
    expect(ctx.refreshes()).toBe(0);
  });

  it('gives up with StorageUnreachableError once the patience has run out, and never asks for a login', async () => {
    let clock = 0;
    const ctx = context({ now: () => clock, policy: { initialDelayMs: 1, maxDelayMs: 1, patienceMs: 10_000 } });
    const send = async (): Promise<string> => {
      clock += 3_000;
      throw connectionError('ECONNREFUSED');
    };
    await expect(sendWithRecovery(send, ctx)).rejects.toBeInstanceOf(StorageUnreachableError);
    // The first failure was seen at 3 s; the attempt at 15 s is the first 10 s after it.
    expect(clock).toBe(15_000);
    expect(ctx.connectivity.state).toBe('offline');
  });

  it('stops waiting with AbortedError as soon as the signal aborts', async () => {
    const controller = new AbortController();
    const ctx = context({
      signal: controller.signal,
      policy: { initialDelayMs: 60_000, maxDelayMs: 60_000, patienceMs: 600_000 },
    });
    const request = scripted([connectionError('ECONNREFUSED')], 'never');
    const sending = sendWithRecovery(request.send, ctx);
    setTimeout(() => controller.abort(), 10);
    await expect(sending).rejects.toBeInstanceOf(AbortedError);
    expect(request.calls()).toBe(1);
  });

  it('classifies errors: a HEAD 403 is a refusal, a timeout and a nested socket error are no answer, a 404 is neither', () => {
    expect(isCredentialRefusal(s3Error('Unknown', 403))).toBe(true);
    expect(isCredentialRefusal(s3Error('NoSuchKey', 404))).toBe(false);
    expect(isNoAnswer(Object.assign(new Error('timed out'), { name: 'TimeoutError' }))).toBe(true);
    expect(isNoAnswer(new TypeError('fetch failed', { cause: connectionError('UND_ERR_SOCKET') }))).toBe(true);
    expect(isNoAnswer(s3Error('NoSuchKey', 404))).toBe(false);
  });
});

describe('storage names and limits', () => {
  const prefix = 'alice/';

  it('maps every accepted name into the own folder, and refuses the rest with a reason', () => {
    expect(() =>
      fc.assert(
        fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (name) => {
          let key: string;
          try {
            key = keyFor(prefix, name);
          } catch (error) {
            return error instanceof InvalidFileNameError && error.reason !== '';
          }
          const segments = key.slice(prefix.length).replace(/\/$/, '').split('/');
          return (
            key.startsWith(prefix) &&
            segments.every((segment) => !['', '.', '..'].includes(segment)) &&
            utf8Bytes(key) <= S3_LIMITS.maxKeyBytes
          );
        }),
      ),
    ).not.toThrow();
  });

  it('refuses names that would leave or blur the folder, and says how long a name may be', () => {
    for (const name of ['', '/', '/etc/passwd', '../bob/x', 'a//b', 'a/./b', 'a\u0000b']) {
      expect(() => keyFor(prefix, name)).toThrow(InvalidFileNameError);
    }
    expect(() => keyFor(prefix, 'é'.repeat(510))).toThrow('at most 1018 bytes');
    expect(keyFor(prefix, 'é'.repeat(509))).toHaveLength(prefix.length + 509);
  });

  it('refuses a file over 5 TiB with the limit in the message, and grows the part size to stay within 10,000 parts', () => {
    expect(() => checkSize('huge.iso', S3_LIMITS.maxObjectBytes + 1)).toThrow(FileTooLargeError);
    expect(() => checkSize('huge.iso', S3_LIMITS.maxObjectBytes + 1)).toThrow(
      `at most ${S3_LIMITS.maxObjectBytes} bytes`,
    );
    expect(partSizeFor(200 * 1024 ** 2, 8 * 1024 ** 2)).toBe(8 * 1024 ** 2);
    expect(partSizeFor(undefined, 1)).toBe(S3_LIMITS.minPartBytes);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: S3_LIMITS.maxObjectBytes }), (size) => {
        expect(Math.ceil(size / partSizeFor(size, 8 * 1024 ** 2))).toBeLessThanOrEqual(S3_LIMITS.maxParts);
      }),
    );
  });
});
