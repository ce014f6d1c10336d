import { contentSecurityPolicy } from '../../web/csp';

const connectSources = (policy: string) =>
  policy
    .split('; ')
    .find((directive) => directive.startsWith('connect-src '))
    ?.split(' ')
    .slice(1);

describe('web app CSP connect-src (issue 14 item 10)', () => {
  it('names only the page itself, the configured API origin and the configured S3 endpoint', () => {
    const policy = contentSecurityPolicy({
      apiUrl: 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod',
      s3Endpoint: 'https://s3.eu-west-1.amazonaws.com',
    });
    expect(connectSources(policy)).toEqual([
      "'self'",
      'https://abc123.execute-api.eu-west-1.amazonaws.com',
      'https://s3.eu-west-1.amazonaws.com',
    ]);
  });

  it('never allows any https: origin or a wildcard host', () => {
    for (const options of [{}, { apiUrl: 'https://api.example.com/x' }, { s3Endpoint: 'http://127.0.0.1:3001' }]) {
      const sources = connectSources(contentSecurityPolicy(options)) ?? [];
      expect(sources).not.toContain('https:');
      expect(sources.filter((source) => /^https?:\/\/\*/.test(source))).toEqual([]);
    }
  });

  it("the sandbox's S3 gate is named with its port once known; before that only loopback ports", () => {
    expect(connectSources(contentSecurityPolicy({ s3Endpoint: 'http://127.0.0.1:3001' }))).toEqual([
      "'self'",
      'http://127.0.0.1:3001',
    ]);
    expect(connectSources(contentSecurityPolicy({}))).toEqual(["'self'", 'http://127.0.0.1:*', 'http://localhost:*']);
  });

  it("adds the origin of each sign-in provider's issuer, and nothing else of it", () => {
    const policy = contentSecurityPolicy({
      apiUrl: 'https://api.example.com/v1',
      s3Endpoint: 'https://s3.eu-west-1.amazonaws.com',
      oidcIssuers: ['https://login.example.com/tenant/v2.0', 'http://127.0.0.1:3002'],
    });
    expect(connectSources(policy)).toEqual([
      "'self'",
      'https://api.example.com',
      'https://login.example.com',
      'http://127.0.0.1:3002',
      'https://s3.eu-west-1.amazonaws.com',
    ]);
  });
});
