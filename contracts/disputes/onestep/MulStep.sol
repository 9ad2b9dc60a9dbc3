// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {GraphLeaf, Layer} from "../lib/GraphLeaf.sol";
import {Requant} from "./Requant.sol";
import {StepReader, StepReaderLib} from "./StepReader.sol";

/**
 * @title MulStep
 * @notice MUL: y[e] = clip((x[e]·C[ch(e)]) >> s[ch(e)], lo, hi). Params `lo, hi`; constants
 * `s [C]`, `C [C]` (both expanded per channel). Index mapping: x at e, s and C at the channel of e.
 * Reads, in order: `x[e]`, `s[ch(e)]`, `C[ch(e)]`.
 */
library MulStep {
    using StepReaderLib for StepReader;

    uint256 internal constant C_S = 0;
    uint256 internal constant C_C = 1;

    /// @notice The output element e, direct.
    function direct(Layer memory l, StepReader memory r, uint256 e) internal view returns (int256) {
        uint256 ch = GraphLeaf.channelOf(l, e);
        uint256 nc = GraphLeaf.channels(l);
        int256 x = r.inputAt(0, e, GraphLeaf.numel(l));
        int256 s = r.constantAt(C_S, ch, nc);
        int256 c = r.constantAt(C_C, ch, nc);
        return Requant.requant(x * c, s, GraphLeaf.param(l, 0), GraphLeaf.param(l, 1));
    }
}
