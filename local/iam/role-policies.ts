import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PolicyDocument } from '../../policies';

/** One inline policy of the vending role. */
export interface InlineRolePolicy {
  readonly name: string;
  readonly policy: PolicyDocument;
}

/**
 * The vending role's inline policies that an operator manages (tvm-admin's credential
 * cut-off), kept in memory and in `role-policies.json` under the data folder so they survive
 * a restart. The S3 gate reads them on every request, as IAM would apply them.
 */
export class RolePolicyStore {
  private readonly policies = new Map<string, PolicyDocument>();

  constructor(private readonly file: string) {
    if (existsSync(file)) {
      const stored = JSON.parse(readFileSync(file, 'utf8')) as Record<string, PolicyDocument>;
      for (const [name, policy] of Object.entries(stored)) this.policies.set(name, policy);
    }
  }

  /** The file inside a data folder. */
  static fileIn(dataDir: string): string {
    return join(dataDir, 'role-policies.json');
  }

  get(name: string): PolicyDocument | undefined {
    return this.policies.get(name);
  }

  put(name: string, policy: PolicyDocument): void {
    this.policies.set(name, policy);
    this.save();
  }

  delete(name: string): boolean {
    const existed = this.policies.delete(name);
    if (existed) this.save();
    return existed;
  }

  /** Every inline policy, for the gate's evaluation. */
  all(): InlineRolePolicy[] {
    return [...this.policies].map(([name, policy]) => ({ name, policy }));
  }

  private save(): void {
    // Write then rename, so a crash never leaves half a file.
    const temporary = `${this.file}.tmp`;
    writeFileSync(temporary, JSON.stringify(Object.fromEntries(this.policies), null, 2), { mode: 0o600 });
    renameSync(temporary, this.file);
  }
}
