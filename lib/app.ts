import { App, Validations, type AppProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { resolveSettings, settingsFromContext, type TvmSettingsInput } from './settings';
import { stackNameFor } from './stack-name';
import { TvmStack } from './tvm-stack';

/** What {@link createTvmApp} builds. */
export interface TvmApp {
  readonly app: App;
  readonly stack: TvmStack;
}

/** Options of {@link createTvmApp}. */
export interface TvmAppOptions {
  /** Passed to the App, e.g. `context` in tests. @default {} */
  readonly appProps?: AppProps;
  /** Settings that override context. @default {} */
  readonly settings?: TvmSettingsInput;
}

/**
 * The CDK app: one stack named `tvm-<stage>`, with cdk-nag's AwsSolutions checks as a
 * validation plugin, so every synth (CLI or test) fails on an unacknowledged finding.
 * Environment-agnostic: the account and region come from the CLI's credentials at deploy.
 */
export function createTvmApp(options: TvmAppOptions = {}): TvmApp {
  const app = new App(options.appProps);
  // Resolved here too so a bad stage fails before it becomes part of a stack name.
  const { stage } = resolveSettings({ ...settingsFromContext(app.node), ...definedOnly(options.settings ?? {}) });
  const stack = new TvmStack(app, stackNameFor(stage), {
    description: `serverless-tvm (${stage}): token vending machine for per-user S3 folders`,
    settings: options.settings ?? {},
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

function definedOnly(input: TvmSettingsInput): TvmSettingsInput {
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined));
}
