// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {GraphLeaf, Layer} from "../lib/GraphLeaf.sol";
import {Requant} from "./Requant.sol";
import {StepReader, StepReaderLib} from "./StepReader.sol";

/**
 * @title AddStep
 * @notice ADD: y[e] = clip((a[e] + b) >> s, lo, hi), b = b[e] (second layer operand, same shape)
 * or B[ch(e)] (constant broadcast per channel). Params `lo, hi`; constants `s [1]`, then `B [C]`
 * when `inputs` has one entry. Index mapping: a and b are read at e, B at the channel of e, s at 0.
 * Reads, in order: `a[e]`, `b[e]` (two operands) or `B[ch(e)]` (constant operand), `s[0]`.
 */
library AddStep {
    using StepReaderLib for StepReader;

    uint256 internal constant C_S = 0;
    uint256 internal constant C_B = 1;

    /// @notice The output element e, direct.
    function direct(Layer memory l, StepReader memory r, uint256 e) internal view returns (int256) {
        uint256 n = GraphLeaf.numel(l);
        int256 a = r.inputAt(0, e, n);
        int256 b = l.inputs.length == 2 ? r.inputAt(1, e, n) : r.constantAt(C_B, GraphLeaf.channelOf(l, e), GraphLeaf.channels(l));
        int256 s = r.constantAt(C_S, 0, 1);
        return Requant.requant(a + b, s, GraphLeaf.param(l, 0), GraphLeaf.param(l, 1));
    }
}
