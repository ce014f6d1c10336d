/**
 * Every price the capacity model uses (docs/capacity.md), in one place: US East (N. Virginia),
 * us-east-1, in US dollars, on-demand, without free tiers (an account's free tier is shared
 * with whatever else runs in it; API Gateway's lasts only the first 12 months). Each price
 * names the page it comes from and the day it was read. AWS renders the tables of its pricing
 * pages in the browser, so the figures were read from stored copies of those pages and of the
 * AWS documents and guides that quote them (`via`); check the live page before budgeting.
 */

/** Where a price comes from. */
export interface PriceSource {
  /** AWS's own pricing page for the service. */
  readonly url: string;
  /** The day the figure was read, ISO 8601. */
  readonly read: string;
  /** How it was read, when not from the page itself. */
  readonly via?: string;
}

/** The region every price is for. */
export const PRICE_REGION = 'us-east-1';

/** The day the prices were read. */
export const PRICES_READ = '2026-12-08';

/** One band of a tiered price: `upTo` units (or every further unit when absent) at `price` per unit. */
export interface PriceTier {
  readonly upTo?: number;
  readonly price: number;
}

/** The prices, each with its source. */
export const PRICES = {
  apiGateway: {
    source: {
      url: 'https://aws.amazon.com/api-gateway/pricing/',
      read: PRICES_READ,
      via: 'AWS\'s whitepaper "Best Practices for Designing Amazon API Gateway Private APIs and Private Integration", Cost optimization (Table 4), https://docs.aws.amazon.com/whitepapers/latest/best-practices-api-gateway-private-apis-integration/cost-optimization.html',
    },
    /** REST API calls per month, per call. */
    restRequest: [
      { upTo: 333e6, price: 3.5 / 1e6 },
      { upTo: 1e9, price: 2.8 / 1e6 },
      { upTo: 20e9, price: 2.38 / 1e6 },
      { price: 1.51 / 1e6 },
    ] as readonly PriceTier[],
  },
  lambda: {
    source: {
      url: 'https://aws.amazon.com/lambda/pricing/',
      read: PRICES_READ,
      via: 'rates quoted from the page by artillery (lib/platform/aws-lambda/prices.js) and AWS pricing guides',
    },
    /** Per request, every architecture. */
    request: 0.2 / 1e6,
    /** Per GB-second on Arm (the stack's functions are ARM_64), first 7.5 billion GB-seconds a month. */
    armGbSecond: 0.0000133334,
  },
  dynamoDb: {
    source: {
      url: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
      read: PRICES_READ,
      via: 'the on-demand rates after the November 2024 reduction, as quoted by pricing guides citing the page',
    },
    /** On-demand, Standard table class, per write request unit (1 KB). */
    writeRequestUnit: 0.625 / 1e6,
    /** Per read request unit (a strongly consistent read of 4 KB). */
    readRequestUnit: 0.125 / 1e6,
    /** Storage, Standard table class, per GB-month. */
    storageGbMonth: 0.25,
    /** Continuous backups (point-in-time recovery, on in the stack), per GB-month of table size. */
    pointInTimeRecoveryGbMonth: 0.2,
  },
  cloudWatchLogs: {
    source: { url: 'https://aws.amazon.com/cloudwatch/pricing/', read: PRICES_READ },
    /** Ingestion, Standard log class (and Lambda's vended logs in their first tier), per GB. */
    ingestionGb: 0.5,
    /** Archive storage per GB-month (CloudWatch bills compressed bytes; the model counts them uncompressed). */
    storageGbMonth: 0.03,
  },
  xRay: {
    source: {
      url: 'https://aws.amazon.com/xray/pricing/',
      read: PRICES_READ,
      via: 'the stored German edition, https://aws.amazon.com/de/xray/pricing/ (USD 5 per million traces recorded)',
    },
    /** Per trace recorded. */
    traceRecorded: 5 / 1e6,
  },
  waf: {
    source: {
      url: 'https://aws.amazon.com/waf/pricing/',
      read: PRICES_READ,
      via: 'AWS blog "Cost-effective ways for securing your web applications using AWS WAF" (the same in every Region) and guides quoting the page',
    },
    /** Per web ACL per month. */
    webAclMonth: 5,
    /** Per rule per month. */
    ruleMonth: 1,
    /** Per request inspected. */
    request: 0.6 / 1e6,
  },
  cognito: {
    source: {
      url: 'https://aws.amazon.com/cognito/pricing/',
      read: PRICES_READ,
      via: 'a transcription of the page read 2026-09-20 (api-evangelist/amazon-cognito, plans/amazon-cognito-plans-pricing.yml), which confirms the free 10,000, Lite up to 1,000,000 users and Essentials; the Lite bands above 1,000,000 users are not confirmed there, and no figure in docs/capacity.md uses them',
    },
    /** Lite: per monthly active user, tiered; the first 10,000 free. */
    lite: [
      { upTo: 10_000, price: 0 },
      { upTo: 100_000, price: 0.0055 },
      { upTo: 1_000_000, price: 0.0046 },
      { upTo: 10_000_000, price: 0.00325 },
      { price: 0.0025 },
    ] as readonly PriceTier[],
    /** Essentials (the default plan of a new user pool): per monthly active user; the first 10,000 free. */
    essentials: [{ upTo: 10_000, price: 0 }, { price: 0.015 }] as readonly PriceTier[],
  },
} as const;

/** What `units` cost under a tiered price. */
export function tieredCost(units: number, tiers: readonly PriceTier[]): number {
  let cost = 0;
  let below = 0;
  for (const tier of tiers) {
    const top = tier.upTo ?? Number.POSITIVE_INFINITY;
    if (units <= below) break;
    cost += (Math.min(units, top) - below) * tier.price;
    below = top;
  }
  return cost;
}
