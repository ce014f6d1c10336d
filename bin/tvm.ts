#!/usr/bin/env node
/**
 * The CDK app entry (`cdk synth`, `cdk deploy`; run with tsx, see cdk.json). Configuration
 * comes from cdk.json context and `-c key=value`; see the README's deploy section.
 */
import { createTvmApp } from '../lib/app';

const { app } = createTvmApp();
app.synth();
