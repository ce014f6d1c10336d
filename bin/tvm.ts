#!/usr/bin/env node
/**
 * The CDK app entry (`cdk synth`, `cdk deploy`; run with tsx, see cdk.json). Configuration
 * comes from cdk.json context and `-c key=value`; see "Settings (CDK context)" in docs/deploying.md.
 */
import { createTvmApp } from '../lib/app';
import { InvalidSettingError } from '../lib/settings';

try {
  const { app } = createTvmApp();
  app.synth();
} catch (error) {
  // A bad setting is the operator's input, not a bug: state it without a stack trace.
  if (!(error instanceof InvalidSettingError)) throw error;
  console.error(`\n${error.message}\nSee "Settings (CDK context)" in docs/deploying.md.\n`);
  process.exitCode = 1;
}
