import { expect } from "chai";

/**
 * `x` within ±`delta` of `expected`, for floats. Chai's `closeTo` is taken over by the ethers
 * matchers (loaded by the contract tests in the same run), which turn numbers into bigints and
 * refuse fractions; `within` keeps chai's own for numbers.
 */
export function near(x: number, expected: number, delta: number, what?: string): void {
  expect(x, what).to.be.within(expected - delta, expected + delta);
}
