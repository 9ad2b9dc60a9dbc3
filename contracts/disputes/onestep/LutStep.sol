// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {GraphLeaf, Layer} from "../lib/GraphLeaf.sol";
import {OneStepVerifierLutDomain} from "../lib/OneStepErrors.sol";
import {StepReader, StepReaderLib} from "./StepReader.sol";

/**
 * @title LutStep
 * @notice LUT: y[e] = T[x[e] − lo] for x[e] in [lo, hi]. Params `lo, hi`; constants `T [hi − lo + 1]`.
 * Index mapping: x at e, then T at x − lo (data dependent). Reads, in order: `x[e]`, `T[x[e] − lo]`.
 */
library LutStep {
    using StepReaderLib for StepReader;

    uint256 internal constant C_T = 0;

    /// @notice The output element e, direct. Reverts {OneStepVerifierLutDomain} when x is outside
    /// the table's domain (the validator refuses such models, so no honest trace reaches it).
    function direct(Layer memory l, StepReader memory r, uint256 e) internal view returns (int256) {
        int256 lo = GraphLeaf.param(l, 0);
        int256 hi = GraphLeaf.param(l, 1);
        int256 x = r.inputAt(0, e, GraphLeaf.numel(l));
        if (x < lo || x > hi) revert OneStepVerifierLutDomain(x, lo, hi);
        return r.constantAt(C_T, uint256(x - lo), uint256(hi - lo + 1));
    }
}
