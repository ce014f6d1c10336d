/**
 * The Mann-Whitney U test (two-sided, normal approximation with tie and continuity
 * corrections): does one sample tend to be larger than the other? It assumes nothing about
 * the shape of the distributions, which suits timings (skewed, with outliers).
 */

/** Standard normal cumulative distribution (Abramowitz and Stegun 7.1.26 for erf). */
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf =
    1 -
    t *
      (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) *
      Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/** U of the first sample, and the two-sided p-value of "both come from one distribution". */
export function mannWhitney(first: readonly number[], second: readonly number[]): { u: number; p: number } {
  const n1 = first.length;
  const n2 = second.length;
  const pooled = [...first.map((value) => ({ value, group: 0 })), ...second.map((value) => ({ value, group: 1 }))].sort(
    (a, b) => a.value - b.value,
  );
  const ranks = new Array<number>(pooled.length);
  let tieTerm = 0;
  for (let start = 0; start < pooled.length; ) {
    let end = start;
    while (end + 1 < pooled.length && pooled[end + 1]!.value === pooled[start]!.value) end++;
    const rank = (start + end) / 2 + 1;
    for (let i = start; i <= end; i++) ranks[i] = rank;
    const ties = end - start + 1;
    tieTerm += ties ** 3 - ties;
    start = end + 1;
  }
  const rankSum = pooled.reduce((sum, item, i) => (item.group === 0 ? sum + ranks[i]! : sum), 0);
  const u = rankSum - (n1 * (n1 + 1)) / 2;
  const n = n1 + n2;
  const mean = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  if (variance === 0) return { u, p: 1 };
  const z = (Math.abs(u - mean) - 0.5) / Math.sqrt(variance);
  return { u, p: Math.min(1, 2 * (1 - normalCdf(Math.max(0, z)))) };
}
