// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {GraphLeaf, Layer} from "../lib/GraphLeaf.sol";
import {Requant} from "./Requant.sol";
import {StepReader, StepReaderLib} from "./StepReader.sol";

/**
 * @title ClipStep
 * @notice CLIP: y[e] = clip(x[e], lo, hi). Params `lo, hi`; no constants. Reads: `x[e]`.
 */
library ClipStep {
    using StepReaderLib for StepReader;

    /// @notice The output element e, direct.
    function direct(Layer memory l, StepReader memory r, uint256 e) internal view returns (int256) {
        int256 x = r.inputAt(0, e, GraphLeaf.numel(l));
        return Requant.clip(x, GraphLeaf.param(l, 0), GraphLeaf.param(l, 1));
    }
}
