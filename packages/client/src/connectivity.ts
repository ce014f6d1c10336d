/**
 * Whether the app can reach its backends right now, as the client last saw it: `offline`
 * after a request got no answer at all (no network, DNS, a dropped connection, a timeout),
 * `online` again after the next answer of any kind. A 503 is an answer: the service is
 * reachable but struggling, which is not what an offline banner is for.
 */

/** The two states of {@link Connectivity}. */
export type ConnectivityState = 'online' | 'offline';

/** A listener of {@link Connectivity.onChange}. */
export type ConnectivityListener = (state: ConnectivityState) => void;

/**
 * The online/offline state shared by a {@link TvmClient} and the storage helpers built on it,
 * for an offline banner. It only reports; it never ends a session (only a 401 from the TVM does).
 */
export class Connectivity {
  private current: ConnectivityState = 'online';
  private readonly listeners = new Set<ConnectivityListener>();

  /** The state now. Starts `online`. */
  get state(): ConnectivityState {
    return this.current;
  }

  /** Calls `listener` on every change (not on repeats). Returns the unsubscribe function. */
  onChange(listener: ConnectivityListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Something answered. */
  markOnline(): void {
    this.set('online');
  }

  /** A request got no answer. */
  markOffline(): void {
    this.set('offline');
  }

  private set(state: ConnectivityState): void {
    if (state === this.current) return;
    this.current = state;
    for (const listener of [...this.listeners]) {
      try {
        listener(state);
      } catch {
        // A broken listener must not stop the others, nor the request that reported the change.
      }
    }
  }
}
