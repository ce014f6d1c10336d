/**
 * Writes cdk.context.json from the deploy workflow's environment, so a deploy from GitHub gets
 * the stack settings the repository variables hold (docs/deploying.md, "Repository variables")
 * and the deploy command stays the documented one. Only variables that are set are written;
 * the synth then checks each value as it checks `-c key=value`. Prints the keys, never values.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { SettingKey } from '../lambda/platform/settings';

/** The settings a deploy takes from the environment, by variable name. */
export const DEPLOY_CONTEXT_VARIABLES: Readonly<Record<string, SettingKey>> = {
  TVM_ALLOWED_ORIGINS: 'allowedOrigins',
  TVM_PASSKEY_RP_ID: 'passkeyRpId',
  TVM_PASSKEY_ORIGINS: 'passkeyOrigins',
  TVM_OIDC_PROVIDERS: 'oidcProviders',
  TVM_REGISTRATION: 'registration',
  TVM_WAF: 'waf',
  TVM_API_GATEWAY_ACCOUNT_STAGE: 'apiGatewayAccountStage',
};

/** The context the set variables of `environment` give. */
export function deployContext(environment: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const context: Record<string, string> = {};
  for (const [variable, key] of Object.entries(DEPLOY_CONTEXT_VARIABLES)) {
    const value = environment[variable]?.trim();
    if (value) context[key] = value;
  }
  return context;
}

if (require.main === module) {
  const context = deployContext(process.env);
  writeFileSync(resolve(__dirname, '..', 'cdk.context.json'), `${JSON.stringify(context, null, 2)}\n`);
  console.log(`cdk.context.json: ${Object.keys(context).join(', ') || 'no settings'} from repository variables.`);
}
