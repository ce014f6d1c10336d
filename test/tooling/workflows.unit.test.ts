/**
 * The GitHub Actions workflows shipped for adopters: valid by action-validator (offline,
 * from npm), running the README's commands, and deploying with OIDC only (no stored AWS
 * keys), through a role whose documented trust policy is pinned to one repository's
 * production environment (required reviewers), after the tests pass.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { DEPLOY_CONTEXT_VARIABLES, deployContext } from '../../scripts/deploy-context';

const ROOT = path.join(__dirname, '..', '..');
const read = (file: string): string => readFileSync(path.join(ROOT, file), 'utf8');
const VALIDATOR = path.join(ROOT, 'node_modules', '@action-validator', 'cli', 'cli.mjs');

interface Step {
  readonly uses?: string;
  readonly run?: string;
  readonly with?: Record<string, string | boolean>;
}
interface Workflow {
  readonly on: Record<string, unknown>;
  readonly permissions: Record<string, string>;
  readonly jobs: Record<string, Job>;
}
interface Job {
  readonly steps: Step[];
  readonly environment?: unknown;
  readonly if?: string;
}

/** Runs action-validator on one file; resolves its exit code and output. */
function validate(file: string): { code: number; output: string } {
  try {
    const output = execFileSync(process.execPath, [VALIDATOR, file], { encoding: 'utf8', stdio: 'pipe' });
    return { code: 0, output };
  } catch (error) {
    const failed = error as { status: number; stdout: string; stderr: string };
    return { code: failed.status, output: `${failed.stdout}${failed.stderr}` };
  }
}

function workflow(name: string): Workflow {
  return parse(read(`.github/workflows/${name}`)) as Workflow;
}

function runCommands(flow: Workflow): string[] {
  return Object.values(flow.jobs).flatMap((job) =>
    job.steps.flatMap((step) =>
      (step.run ?? '')
        .split('\n')
        .map((line) => line.trim())
        .filter(Boolean),
    ),
  );
}

/** The shell lines of the fenced `sh` blocks of a Markdown file, comments dropped. */
function documentedCommands(file: string): string[] {
  const blocks = [...read(file).matchAll(/```sh\n([\s\S]*?)```/g)].map(([, body]) => body ?? '');
  return blocks.flatMap((block) =>
    block
      .replace(/\\\n\s*/g, ' ')
      .split('\n')
      .map((line) => line.replace(/\s+#.*$/, '').trim())
      .filter((line) => line !== '' && !line.startsWith('#')),
  );
}

describe('the workflows', () => {
  it.each(['ci.yml', 'deploy.yml', 'release.yml'])('%s passes action-validator', (file) => {
    expect(validate(path.join(ROOT, '.github', 'workflows', file))).toEqual({ code: 0, output: '' });
  });

  it.each(['ci.yml', 'deploy.yml', 'release.yml'])(
    '%s pins every action to a full commit SHA, its release named beside it',
    (file) => {
      // A tag can be moved to other code; a commit cannot. The comment keeps it readable and updatable.
      const lines = read(`.github/workflows/${file}`)
        .split('\n')
        .filter((line) => /^\s*(-\s+)?uses:/.test(line));
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) expect(line).toMatch(/uses: [\w.-]+\/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
    },
  );

  it('action-validator refuses a broken workflow (negative control)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tvm-workflow-'));
    try {
      const broken = path.join(dir, 'broken.yml');
      writeFileSync(broken, 'name: broken\non:\n  pull_request:\njobs:\n  test:\n    steps:\n      - run: npm test\n');
      expect(validate(broken).code).not.toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ci.yml', () => {
  const ci = workflow('ci.yml');
  const commands = runCommands(ci);

  it('runs on every pull request with read-only repository rights', () => {
    expect(Object.keys(ci.on)).toEqual(['pull_request']);
    expect(ci.permissions).toEqual({ contents: 'read' });
  });

  it("installs from the lockfile, then runs the README's test command and the documented synth", () => {
    const readme = documentedCommands('README.md');
    expect(readme).toEqual(expect.arrayContaining(['npm ci && npm start', 'npm test']));
    expect(documentedCommands('docs/deploying.md')).toContain('npm run synth');
    const install = commands.findIndex((command) => command.startsWith('npm ci'));
    expect(install).toBeGreaterThanOrEqual(0);
    expect(commands.slice(install + 1)).toEqual(['npm test', 'npm run synth']);
    // .ci/run, the repository's own CI entry, runs the same two commands.
    expect(read('.ci/run')).toMatch(/^npm ci --no-audit --no-fund\nnpm test$/m);
  });

  it('uploads the synthesised template as an artifact, even when a step failed', () => {
    const upload = Object.values(ci.jobs)
      .flatMap((job) => job.steps)
      .find((step) => step.uses?.startsWith('actions/upload-artifact@'));
    expect(upload?.with?.path).toContain('cdk.out/*.template.json');
    expect(upload).toMatchObject({ if: 'always()' });
  });
});

describe('deploy.yml', () => {
  const text = read('.github/workflows/deploy.yml');
  const deploy = workflow('deploy.yml');
  const steps = Object.values(deploy.jobs).flatMap((job) => job.steps);

  it('deploys only from main', () => {
    expect(deploy.on).toEqual({ push: { branches: ['main'] }, workflow_dispatch: null });
    expect(Object.values(deploy.jobs).map((job) => job.if)).toEqual([
      "github.ref == 'refs/heads/main'",
      "github.ref == 'refs/heads/main'",
    ]);
  });

  it('runs the tests first, and deploys only after they pass and a reviewer approves the production environment', () => {
    const { test, deploy: deployJob } = deploy.jobs as Record<string, Job & { needs?: string; environment?: string }>;
    expect(runCommands({ ...deploy, jobs: { test: test as Job } })).toEqual(expect.arrayContaining(['npm test']));
    expect(deployJob?.needs).toBe('test');
    expect(deployJob?.environment).toBe('production');
  });

  it('gets AWS credentials from GitHub OIDC only, in the deploy job alone: an id-token, a role to assume, no stored keys', () => {
    expect(deploy.permissions).toEqual({ contents: 'read' });
    const jobs = deploy.jobs as Record<string, Job & { permissions?: unknown }>;
    expect(jobs.deploy?.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
    expect(jobs.test?.permissions).toBeUndefined();
    const assume = steps.find((step) => step.uses?.startsWith('aws-actions/configure-aws-credentials@'));
    expect(assume?.with?.['role-to-assume']).toBe('${{ vars.AWS_DEPLOY_ROLE_ARN }}');
    expect(assume?.with).not.toHaveProperty('aws-access-key-id');
    expect(text).not.toMatch(/secrets\.|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY/);
  });

  it('checks out without keeping the token, in containers pinned by digest', () => {
    for (const job of Object.values(deploy.jobs) as (Job & { container?: string })[]) {
      expect(job.container).toMatch(/^node:24-bookworm@sha256:[0-9a-f]{64}$/);
      const checkout = job.steps.find((step) => step.uses?.startsWith('actions/checkout@'));
      expect(checkout?.with?.['persist-credentials']).toBe(false);
    }
  });

  it('runs the documented install, settings, deploy and smoke commands', () => {
    const commands = runCommands({ ...deploy, jobs: { deploy: deploy.jobs.deploy as Job } });
    expect(commands[0]).toMatch(/^npm ci\b/);
    expect(commands.slice(1)).toEqual([
      'npx tsx scripts/deploy-context.ts',
      'npm run cdk -- deploy -c "stage=$TVM_STAGE" --require-approval never --outputs-file cdk-outputs.json',
      './bin/tvm-admin.cjs smoke --stack "tvm-$TVM_STAGE" --region "$AWS_REGION"',
    ]);
    const documented = documentedCommands('docs/deploying.md');
    expect(
      documented.some(
        (line) => line.startsWith('npm run cdk -- deploy') && line.includes('--outputs-file cdk-outputs.json'),
      ),
    ).toBe(true);
    expect(documented.some((line) => line.startsWith('./bin/tvm-admin.cjs smoke --stack tvm-'))).toBe(true);
  });

  it('passes every repository variable the settings step reads, each documented', () => {
    const settingsStep = steps.find((step) => step.run === 'npx tsx scripts/deploy-context.ts') as
      | (Step & { env?: Record<string, string> })
      | undefined;
    const docs = read('docs/deploying.md');
    for (const variable of Object.keys(DEPLOY_CONTEXT_VARIABLES)) {
      expect(settingsStep?.env?.[variable]).toBe(`\${{ vars.${variable} }}`);
      expect(docs).toContain(`\`${variable}\``);
    }
  });
});

describe('dependabot.yml', () => {
  it('keeps the GitHub Actions pins and the npm lockfile current', () => {
    const config = parse(read('.github/dependabot.yml')) as {
      version: number;
      updates: { 'package-ecosystem': string; directory: string }[];
    };
    expect(config.version).toBe(2);
    expect(config.updates.map((update) => [update['package-ecosystem'], update.directory])).toEqual([
      ['github-actions', '/'],
      ['npm', '/'],
    ]);
  });
});

describe('scripts/deploy-context.ts', () => {
  it('writes only the variables that are set, as the settings they name', () => {
    expect(deployContext({ TVM_PASSKEY_RP_ID: 'example.com', TVM_WAF: ' true ', TVM_ALLOWED_ORIGINS: '' })).toEqual({
      passkeyRpId: 'example.com',
      waf: 'true',
    });
  });
});

describe('the documented deploy role', () => {
  const blocks = [...read('docs/deploying.md').matchAll(/```json\n([\s\S]*?)```/g)].map(
    ([, body]) =>
      JSON.parse((body ?? '').replace(/^ {3}/gm, '')) as {
        Statement: {
          Effect: string;
          Action: string | string[];
          Principal?: unknown;
          Condition?: Record<string, Record<string, string>>;
          Resource?: string | string[];
        }[];
      },
  );
  const trust = blocks.find((document) =>
    document.Statement.some((statement) => statement.Action === 'sts:AssumeRoleWithWebIdentity'),
  );
  const permissions = blocks.find((document) =>
    document.Statement.some((statement) => statement.Action === 'cloudformation:DescribeStacks'),
  );

  it("trusts GitHub OIDC tokens of one repository's production environment only, with exact matches", () => {
    expect(trust?.Statement).toEqual([
      {
        Effect: 'Allow',
        Principal: { Federated: 'arn:aws:iam::<account-id>:oidc-provider/token.actions.githubusercontent.com' },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: {
            'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
            'token.actions.githubusercontent.com:sub': 'repo:<owner>/<repo>:environment:production',
          },
        },
      },
    ]);
  });

  it('allows no wildcard action and nothing but Allow statements on named resources', () => {
    expect(permissions).toBeDefined();
    for (const statement of permissions?.Statement ?? []) {
      expect(statement.Effect).toBe('Allow');
      for (const action of [statement.Action].flat()) expect(action).not.toMatch(/\*/);
      for (const resource of [statement.Resource ?? '*'].flat()) expect(resource).not.toBe('*');
    }
  });
});

describe('release.yml', () => {
  const release = workflow('release.yml');
  const jobs = Object.values(release.jobs) as Array<{ steps: Step[]; permissions?: Record<string, string> }>;
  const steps = jobs.flatMap((job) => job.steps);

  it('runs only when a version tag is pushed, with an id-token only for the publishing job', () => {
    expect(release.on).toEqual({ push: { tags: ['v*.*.*'] } });
    expect(release.permissions).toEqual({ contents: 'read' });
    expect(jobs.map((job) => job.permissions)).toEqual([{ contents: 'read', 'id-token': 'write' }]);
  });

  it("checks the tag against the client's version, tests, then publishes packages/client with provenance, publicly", () => {
    const commands = runCommands(release);
    expect(commands[0]).toBe(
      'test "$GITHUB_REF_NAME" = "v$(node -p "require(\'./packages/client/package.json\').version")"',
    );
    expect(commands.indexOf('npm ci --no-audit --no-fund')).toBeLessThan(
      commands.indexOf('npx jest --selectProjects unit test/client'),
    );
    expect(commands.at(-1)).toBe('npm publish --provenance --access public');
    const publish = steps.at(-1) as Step & { 'working-directory'?: string };
    expect(publish['working-directory']).toBe('packages/client');
    expect(steps.find((step) => step.uses?.startsWith('actions/setup-node@'))?.with).toMatchObject({
      'registry-url': 'https://registry.npmjs.org',
    });
  });
});
