/**
 * The deploy-time configuration of the TVM stack: read from CDK context (cdk.json or
 * `cdk deploy -c key=value`) and stack props, validated once at synth time so a bad value
 * stops `cdk synth` with a message naming the key, long before CloudFormation sees it.
 * Keys, defaults and rules all come from the one settings table, lambda/platform/settings.ts.
 */
import type { Node } from 'constructs';
import {
  DEFAULT_SETTINGS,
  SETTING_KEYS,
  SettingRuleError,
  settingDefinition,
  type SettingKey,
  type TvmSettings,
} from '../lambda/platform/settings';

export { DEFAULT_SETTINGS, type TvmSettings } from '../lambda/platform/settings';

/** The context keys the stack reads, in the order the docs list them. */
export const SETTINGS_KEYS: readonly SettingKey[] = SETTING_KEYS;

/** Configuration as given: every key optional, values as context delivers them (CLI values are strings). */
export type TvmSettingsInput = { readonly [K in SettingKey]?: unknown };

/** A configuration value that cannot be used; the message names the key, the value and the rule. */
export class InvalidSettingError extends Error {
  constructor(key: SettingKey, value: unknown, rule: string) {
    super(`Invalid TVM setting "${key}": ${JSON.stringify(value)}. ${rule}`);
    this.name = 'InvalidSettingError';
  }
}

/**
 * Validates configuration and fills in the defaults. Throws {@link InvalidSettingError} for
 * the first bad value and an Error for a key it does not know (most likely a typo).
 */
export function resolveSettings(input: TvmSettingsInput = {}): TvmSettings {
  for (const key of Object.keys(input)) {
    if (!(SETTING_KEYS as readonly string[]).includes(key)) {
      throw new Error(`Unknown TVM setting "${key}". Known settings: ${SETTING_KEYS.join(', ')}.`);
    }
  }
  const settings: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) {
    // `stage` comes first in the table, so a default that depends on it can read it.
    const stageDefault = settingDefinition(key).defaultForStage;
    const given = input[key] ?? (stageDefault ? stageDefault(settings.stage as string) : DEFAULT_SETTINGS[key]);
    try {
      settings[key] = settingDefinition(key).parse(given);
    } catch (error) {
      if (error instanceof SettingRuleError) throw new InvalidSettingError(key, given, error.rule);
      throw error;
    }
  }
  const resolved = settings as TvmSettings;
  // The sandbox's loopback issuers are for `npm start` only: a deployed stack trusts https issuers alone.
  const plain = resolved.oidcProviders.find((provider) => !provider.issuer.startsWith('https://'));
  if (plain)
    throw new InvalidSettingError(
      'oidcProviders',
      input.oidcProviders,
      `Deployed stages need https issuers; provider ${plain.name} has ${plain.issuer}.`,
    );
  return guardPasskeys(resolved, input.passkeys !== undefined);
}

/** Whether the passkey relying party is the sandbox's: `localhost`, or an origin that is not https. */
export function hasSandboxRelyingParty(settings: TvmSettings): boolean {
  return (
    settings.passkeyRpId === 'localhost' || settings.passkeyOrigins.some((origin) => !origin.startsWith('https://'))
  );
}

/**
 * Outside `dev`, passkeys bound to the sandbox's relying party could never work (and would
 * trust a plain-http origin): they are turned off until the operator names the web app's
 * domain, and asking for them explicitly stops the synth with the setting to fix.
 */
function guardPasskeys(settings: TvmSettings, passkeysGiven: boolean): TvmSettings {
  if (settings.stage === 'dev' || !settings.passkeys || !hasSandboxRelyingParty(settings)) return settings;
  if (passkeysGiven)
    throw new InvalidSettingError(
      'passkeyRpId',
      settings.passkeyRpId,
      `Stage ${settings.stage} needs a real passkey relying party: set passkeyRpId to your web app's domain and passkeyOrigins to its https origin (-c passkeyRpId=files.example.com -c passkeyOrigins=https://files.example.com; in the deploy workflow the repository variables TVM_PASSKEY_RP_ID and TVM_PASSKEY_ORIGINS), or passkeys=false.`,
    );
  return { ...settings, passkeys: false };
}

/** The settings present in a construct's CDK context (cdk.json and `-c key=value`), unvalidated. */
export function settingsFromContext(node: Node): TvmSettingsInput {
  const input: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) {
    const value: unknown = node.tryGetContext(key);
    if (value !== undefined) input[key] = value;
  }
  return input;
}

/** Whether resources holding data are deleted with the stack (only in `dev`). */
export function isDisposableStage(settings: TvmSettings): boolean {
  return settings.stage === 'dev';
}

/**
 * Whether this stack creates the region's API Gateway account setting and its CloudWatch role:
 * only the stack of the stage `apiGatewayAccountStage` names, so two stacks in one account and
 * Region never overwrite each other's, and destroying any other leaves it alone.
 */
export function ownsApiGatewayAccount(settings: TvmSettings): boolean {
  return settings.apiGatewayAccountStage === settings.stage;
}
