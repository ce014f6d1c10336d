import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The bytes every request of one server may hold in memory at once, across requests: a
 * request that would take more is refused (S3 answers 503 SlowDown) instead of letting a few
 * large uploads grow the process without bound.
 */
export class ByteBudget {
  private used = 0;

  constructor(
    /** The most bytes all leases together may hold. */
    readonly capacity: number,
  ) {}

  /** Bytes held now (for tests and logs). */
  get inUse(): number {
    return this.used;
  }

  /** A lease for one request; release it once its body is no longer held. */
  lease(): BudgetLease {
    let held = 0;
    return {
      take: (bytes: number) => {
        if (this.used + bytes > this.capacity) return false;
        this.used += bytes;
        held += bytes;
        return true;
      },
      release: () => {
        this.used -= held;
        held = 0;
      },
    };
  }
}

/** One request's share of a {@link ByteBudget}. */
export interface BudgetLease {
  /** Takes `bytes` more; false (and nothing taken) when the budget has no room. */
  take(bytes: number): boolean;
  /** Gives back everything this lease took. Idempotent. */
  release(): void;
}

/** Extra guards of {@link readBody}. */
export interface ReadBodyGuards {
  /** Aborted (with the error to reject with) when the body is too slow; see {@link watchBodyRate}. */
  readonly signal?: AbortSignal;
  /** The shared budget; past it, rejects with what `overBudget` makes. */
  readonly lease?: BudgetLease;
  readonly overBudget?: () => Error;
}

/**
 * Reads a request body up to `limit` bytes. Past the limit (or past the shared budget) it
 * stops collecting, drains the rest (so the server can still answer) and rejects with the
 * error made for it, in the calling service's own shape. A body cut off or timed out rejects
 * too, so nothing waits on a body that will never come.
 */
export function readBody(
  req: IncomingMessage,
  limit: number,
  tooLarge: () => Error,
  guards: ReadBodyGuards = {},
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const { signal, lease, overBudget } = guards;
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    // Bytes already taken from the budget: a declared length is taken whole, up front, so
    // concurrent uploads are admitted or refused at once rather than all starved halfway.
    let reserved = 0;
    const finish = (error: Error | undefined) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      if (error) {
        chunks.length = 0;
        lease?.release();
        req.removeListener('data', onData);
        req.resume();
        reject(error);
      } else {
        resolve(Buffer.concat(chunks));
      }
    };
    const onAbort = () => finish(signal?.reason as Error);
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) return finish(tooLarge());
      if (size > reserved) {
        if (lease && !lease.take(size - reserved)) return finish((overBudget ?? tooLarge)());
        reserved = size;
      }
      chunks.push(chunk);
    };
    const declared = req.headers['transfer-encoding'] === undefined ? Number(req.headers['content-length'] ?? 0) : 0;
    if (Number.isSafeInteger(declared) && declared > 0) {
      if (declared > limit) return finish(tooLarge());
      if (lease && !lease.take(declared)) return finish((overBudget ?? tooLarge)());
      reserved = declared;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('data', onData);
    req.on('end', () => finish(undefined));
    req.on('error', (error) => finish(error));
    // A client that goes away mid-body: nothing more will come.
    req.on('close', () => finish(req.complete ? undefined : new Error('The request body was cut off.')));
  });
}

/** Options of {@link watchBodyRate}. */
export interface BodyRateOptions {
  /** How often the rate is checked. */
  readonly windowMs: number;
  /** The fewest bytes a body must bring per window while it is still arriving. */
  readonly minBytesPerWindow: number;
  /** The error to abort with (each service's own RequestTimeout). */
  readonly timedOut: () => Error;
}

/**
 * Watches a request's body as it arrives: when two windows in a row pass with fewer than
 * `minBytesPerWindow` new bytes each (a stalled or trickling, "slowloris", body) the returned
 * signal aborts, so a pending {@link readBody} rejects at once; if the answer has already
 * been sent (a request refused before its body was read), the connection is closed. So a
 * slow body holds neither memory nor a connection for more than a window or two. Stops by
 * itself once the body is complete or the connection closes.
 */
export function watchBodyRate(req: IncomingMessage, res: ServerResponse, options: BodyRateOptions): AbortSignal {
  const controller = new AbortController();
  const hasBody = req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0';
  if (req.complete || !hasBody) return controller.signal;
  const socket = req.socket;
  let last = socket.bytesRead;
  let lastTick = Date.now();
  let slowWindows = 0;
  const timer = setInterval(() => {
    if (req.complete || socket.destroyed) {
      stop();
      return;
    }
    const now = Date.now();
    const bytes = socket.bytesRead;
    // Not the client's fault, so not judged: this process was too busy to run the timer on
    // time (or to read the socket), or it is not reading the body yet (the body waits in
    // the request's buffer, e.g. during authorisation).
    const ourStall =
      now - lastTick > options.windowMs * 1.5 || (req.readableFlowing !== true && req.readableLength > 0);
    lastTick = now;
    if (ourStall || bytes - last >= options.minBytesPerWindow) {
      last = bytes;
      slowWindows = 0;
      return;
    }
    // Two slow windows in a row, so one unlucky window never cuts a client off.
    slowWindows += 1;
    if (slowWindows < 2) return;
    stop();
    controller.abort(options.timedOut());
    // Refused earlier, or the abort found nothing reading: nobody else will end this connection.
    if (res.writableEnded) socket.destroy();
    else res.once('finish', () => socket.destroy());
  }, options.windowMs);
  timer.unref();
  const stop = () => {
    clearInterval(timer);
    req.removeListener('end', stop);
    socket.removeListener('close', stop);
  };
  req.once('end', stop);
  // A kept-alive socket serves many requests: its listener goes with this request's body.
  socket.once('close', stop);
  return controller.signal;
}
