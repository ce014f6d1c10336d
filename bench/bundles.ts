/**
 * The bundles `npm run bench` measures: each function's bundle as `cdk synth` builds it (the
 * CDK app run in-process into a temporary cloud assembly; asset folder per function from the
 * template), the same entry rebuilt with the AWS SDK left external, and the imports-only
 * baselines the cold starts are divided by, built the same ways.
 */
import { App } from 'aws-cdk-lib';
import { build, type Plugin } from 'esbuild';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createTvmApp } from '../lib/app';
import { BUNDLING } from '../lib/tvm-api';
import type { RouteDefinition } from '../lambda/contract/routes';
import { MEASURED_ROUTES } from './first-events';

/** The repository's root. */
export const ROOT = resolve(__dirname, '..');

/** A function's bundle as the stack ships it. */
export interface FunctionBundle {
  readonly route: RouteDefinition;
  /** The asset folder cdk synth wrote. */
  readonly assetDir: string;
  readonly bundlePath: string;
  readonly bundleBytes: number;
  /** Everything in the asset (bundle plus source map), what the zip holds. */
  readonly assetBytes: number;
}

/** A production bundle with its SDK-external twin (the timed-backends preload hooks its `require`). */
export interface MeasuredBundle extends FunctionBundle {
  /** The same entry built with the AWS SDK left out, as the stack used to ship it. */
  readonly externalPath: string;
  readonly externalBytes: number;
  /** The @aws-sdk/* modules the external build requires at run time. */
  readonly sdkModules: readonly string[];
}

function synthesiseBundles(outdir: string): FunctionBundle[] {
  const cdkJson = JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  const { app, stack } = createTvmApp({ appProps: { outdir, context: cdkJson.context ?? {} } });
  const assembly = (app as App).synth();
  const template = assembly.getStackByName(stack.stackName).template as {
    Resources: Record<string, { Metadata?: Record<string, unknown>; Properties?: { Code?: { S3Key?: unknown } } }>;
  };
  return MEASURED_ROUTES.map((route) => {
    const fn = stack.api.functions.get(route.name);
    if (!fn) throw new Error(`no function for ${route.name}`);
    const id = stack.getLogicalId(fn.node.defaultChild as never);
    // The CLI adds aws:asset:path metadata; in-process, the asset's hash is the S3 key's name.
    const resource = template.Resources[id];
    const s3Key = resource?.Properties?.Code?.S3Key;
    const assetPath =
      resource?.Metadata?.['aws:asset:path'] ??
      (typeof s3Key === 'string' ? `asset.${s3Key.replace(/\.zip$/, '')}` : undefined);
    if (typeof assetPath !== 'string') throw new Error(`no asset path for ${route.name} (${id})`);
    const assetDir = join(outdir, assetPath);
    const bundlePath = join(assetDir, 'index.js');
    const assetBytes = readdirSync(assetDir).reduce((sum, file) => sum + statSync(join(assetDir, file)).size, 0);
    return { route, assetDir, bundlePath, bundleBytes: statSync(bundlePath).size, assetBytes };
  });
}

/** The @aws-sdk/* modules a bundle requires at run time. */
function requiredSdkModules(bundlePath: string): string[] {
  const text = readFileSync(bundlePath, 'utf8');
  return [...new Set([...text.matchAll(/require\("(@aws-sdk\/[^"]+)"\)/g)].map((match) => match[1] as string))].sort();
}

/**
 * esbuild with the options NodejsFunction uses (lib/tvm-api.ts BUNDLING): `bundleSdk` as the
 * stack ships (the SDK inside, ESM entry points first), or the SDK left external.
 */
export async function esbuildLikeCdk(
  entry: { path?: string; contents?: string },
  outfile: string,
  bundleSdk: boolean,
  plugins: Plugin[] = [],
): Promise<number> {
  await build({
    plugins,
    ...(entry.path
      ? { entryPoints: [entry.path] }
      : { stdin: { contents: entry.contents ?? '', resolveDir: ROOT, loader: 'ts' } }),
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    external: bundleSdk ? [] : ['@aws-sdk/*'],
    ...(bundleSdk ? { mainFields: [...(BUNDLING.mainFields ?? [])] } : {}),
    logLevel: 'error',
  });
  return statSync(outfile).size;
}

/** A handler that only requires the given SDK modules (and keeps them), as the baseline. */
export function baselineSource(modules: readonly string[]): string {
  const lines = modules.map((name, index) => `import * as sdk${index} from '${name}';`);
  const keep = modules.map((_, index) => `Object.keys(sdk${index}).length`).join(' + ') || '0';
  return `${lines.join('\n')}\nexport const handler = async () => ({ statusCode: 200, body: String(${keep}) });\n`;
}

/**
 * A second baseline: the same SDK modules, plus one DynamoDB GetItem and one STS AssumeRole
 * against the same backends, i.e. the SDK's first-call work that /token also does.
 */
export const BASELINE_WITH_CALLS = `
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import * as documentClient from '@aws-sdk/lib-dynamodb';
const dynamodb = new DynamoDBClient({ region: process.env.AWS_REGION });
const sts = new STSClient({ region: process.env.AWS_REGION });
export const handler = async () => {
  await dynamodb.send(new GetItemCommand({ TableName: process.env.TABLE_NAME, Key: { pk: { S: 'USER#nobody' }, sk: { S: 'PROFILE' } }, ConsistentRead: true }));
  await sts.send(new AssumeRoleCommand({ RoleArn: process.env.VENDING_ROLE_ARN, RoleSessionName: 'bench-baseline', DurationSeconds: 900 }));
  return { statusCode: 200, body: String(Object.keys(documentClient).length) };
};
`;

/**
 * Synthesises the stack into `work` and builds each measured function's SDK-external twin
 * there; returns the bundles and their report (bundles in bench/results.json).
 */
export async function measureBundles(
  work: string,
): Promise<{ bundles: MeasuredBundle[]; report: Record<string, unknown> }> {
  const bundles: MeasuredBundle[] = [];
  const report: Record<string, unknown> = {};
  for (const bundle of synthesiseBundles(join(work, 'cdk.out'))) {
    const externalPath = join(work, `external-${bundle.route.name}`, 'index.js');
    const externalBytes = await esbuildLikeCdk({ path: join(ROOT, bundle.route.entry) }, externalPath, false);
    const measured = { ...bundle, externalPath, externalBytes, sdkModules: requiredSdkModules(externalPath) };
    bundles.push(measured);
    report[bundle.route.name] = {
      // As the stack ships it: the AWS SDK inside.
      bundleBytes: bundle.bundleBytes,
      assetBytes: bundle.assetBytes,
      sdkExternalBytes: externalBytes,
      sdkModulesOfExternalBuild: measured.sdkModules,
      under300KB: bundle.bundleBytes < 300 * 1024,
    };
  }
  return { bundles, report };
}
