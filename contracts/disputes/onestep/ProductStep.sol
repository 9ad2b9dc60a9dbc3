// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {GraphLeaf, Layer} from "../lib/GraphLeaf.sol";
import {Requant} from "./Requant.sol";
import {StepReader, StepReaderLib} from "./StepReader.sol";

/**
 * @title ProductStep
 * @notice PRODUCT: y[e] = clip((a[e]·b[e]) >> s, lo, hi), the elementwise product of two layer
 * outputs of the output's shape (inputs `[a, b]`, possibly the same trace leaf). Params `lo, hi`;
 * constants `s [1]`. Index mapping: a and b at e, s at 0.
 * Reads, in order: `a[e]`, `b[e]`, `s[0]`.
 */
library ProductStep {
    using StepReaderLib for StepReader;

    uint256 internal constant P_LO = 0;
    uint256 internal constant P_HI = 1;
    uint256 internal constant C_S = 0;

    /// @notice The output element e, direct.
    function direct(Layer memory l, StepReader memory r, uint256 e) internal view returns (int256) {
        uint256 n = GraphLeaf.numel(l);
        int256 a = r.inputAt(0, e, n);
        int256 b = r.inputAt(1, e, n);
        int256 s = r.constantAt(C_S, 0, 1);
        return Requant.requant(a * b, s, GraphLeaf.param(l, P_LO), GraphLeaf.param(l, P_HI));
    }
}
