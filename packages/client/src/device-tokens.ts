/**
 * Where the client keeps the device token a login returns, per username. Sent back on later
 * logins, it makes the TVM count this device's wrong passwords apart from strangers', so a
 * stranger's guesses never lock this device out. It is not a credential (it opens nothing),
 * and it outlives logout on purpose: it identifies the device, not the session.
 */

/** A device-token store: in memory by default; give one over persistent storage to keep it across app starts. */
export interface DeviceTokenStore {
  load(username: string): string | undefined | Promise<string | undefined>;
  save(username: string, token: string): void | Promise<void>;
}

/** Keeps device tokens for the life of the client object only. */
export class MemoryDeviceTokenStore implements DeviceTokenStore {
  private readonly tokens = new Map<string, string>();

  load(username: string): string | undefined {
    return this.tokens.get(username);
  }

  save(username: string, token: string): void {
    this.tokens.set(username, token);
  }
}
