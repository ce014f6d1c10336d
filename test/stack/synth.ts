/**
 * Builds the TVM app the way `cdk synth` does (cdk.json's context, cdk-nag as a validation
 * plugin) and returns the synthesised template, so each test file synthesises once.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { App } from 'aws-cdk-lib';
import { Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { createTvmApp } from '../../lib/app';
import type { TvmSettingsInput } from '../../lib/settings';
import type { TvmStack } from '../../lib/tvm-stack';

/** The context of cdk.json (feature flags and any settings), as the CLI would pass it. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  return cdkJson.context ?? {};
}

/** One synthesised TVM app. */
export interface SynthesisedTvm {
  readonly app: App;
  readonly stack: TvmStack;
  readonly template: Template;
  /** The raw template JSON. */
  readonly json: TemplateJson;
}

/** The parts of a CloudFormation template the tests read. */
export interface TemplateJson {
  readonly Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; DeletionPolicy?: string }>;
  readonly Outputs?: Record<string, { Value: unknown }>;
}

/**
 * Synthesises the app with cdk-nag on; synthesis throws if cdk-nag reports an
 * unacknowledged error. `bundle: false` skips esbuild (for variants whose code is the same).
 */
export function synthesiseTvm(
  options: { settings?: TvmSettingsInput; context?: Record<string, unknown>; bundle?: boolean } = {},
): SynthesisedTvm {
  const context: Record<string, unknown> = { ...cdkJsonContext(), ...options.context };
  if (options.bundle === false) context['aws:cdk:bundling-stacks'] = [];
  const { app, stack } = createTvmApp({ appProps: { context }, settings: options.settings ?? {} });
  const assembly = app.synth();
  const json = assembly.getStackByName(stack.stackName).template as TemplateJson;
  return { app, stack, template: Template.fromJSON(json as unknown as Record<string, unknown>), json };
}

/** Logical IDs of the resources of one type whose logical ID starts with `prefix`. */
export function logicalIds(json: TemplateJson, type: string, prefix = ''): string[] {
  return Object.entries(json.Resources)
    .filter(([id, resource]) => resource.Type === type && id.startsWith(prefix))
    .map(([id]) => id);
}

/** The one logical ID of a type with a prefix; fails the test when there is not exactly one. */
export function onlyLogicalId(json: TemplateJson, type: string, prefix = ''): string {
  const ids = logicalIds(json, type, prefix);
  if (ids.length !== 1)
    throw new Error(`Expected one ${type} starting with "${prefix}", found ${ids.length}: ${ids.join(', ')}`);
  return ids[0] as string;
}

/**
 * The unacknowledged AwsSolutions findings in a construct tree, as `rule at resource` lines.
 * Synthesis already fails on them; this names them in a test failure.
 */
export function unacknowledgedFindings(scope: IConstruct): string[] {
  const report = new AwsSolutionsChecks().validateScope(scope);
  return report.violations.flatMap((violation) =>
    violation.violatingResources.map(
      (found) => `${violation.ruleName} at ${found.resourceLogicalId ?? found.constructPath ?? '?'}`,
    ),
  );
}

/** `template.hasResourceProperties`, named so the lint rule sees an assertion. */
export function assertHasResourceProperties(template: Template, type: string, properties: unknown): void {
  template.hasResourceProperties(type, properties);
}

/** `template.hasResource`, named so the lint rule sees an assertion. */
export function assertHasResource(template: Template, type: string, definition: unknown): void {
  template.hasResource(type, definition);
}

/** `template.allResourcesProperties`, named so the lint rule sees an assertion. */
export function assertAllResourcesProperties(template: Template, type: string, properties: unknown): void {
  template.allResourcesProperties(type, properties);
}

/** `template.resourceCountIs`, named so the lint rule sees an assertion. */
export function assertResourceCount(template: Template, type: string, count: number): void {
  template.resourceCountIs(type, count);
}

/**
 * cdk-nag acknowledgements that cover no finding: each `id at path` listed would still be there if
 * it were deleted, so it only adds noise (or hides a future finding). Found by running the
 * checks with acknowledgements ignored and matching each one to a finding at or under the
 * construct it is on.
 */
export function staleAcknowledgements(scope: IConstruct): string[] {
  const pack = new AwsSolutionsChecks();
  // cdk-nag has no public switch for this; its private check is replaced on this one instance.
  (pack as unknown as { isAcknowledged: () => boolean }).isAcknowledged = () => false;
  const findings = pack
    .validateScope(scope)
    .violations.flatMap((violation) =>
      violation.violatingResources.map((found) => ({ rule: violation.ruleName, path: found.constructPath ?? '' })),
    );
  const stale: string[] = [];
  for (const construct of scope.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const qualifiedId of Object.keys(entry.data as Record<string, string>)) {
        const rule = qualifiedId.slice(qualifiedId.indexOf('::') + 2);
        // Only cdk-nag's; the CDK acknowledges some of its own template checks (e.g. W3045).
        if (!rule.startsWith('AwsSolutions-')) continue;
        const at = construct.node.path;
        const covers = findings.some(
          (finding) => finding.rule === rule && (finding.path === at || finding.path.startsWith(`${at}/`)),
        );
        if (!covers) stale.push(`${rule} at ${at}`);
      }
    }
  }
  return stale;
}
