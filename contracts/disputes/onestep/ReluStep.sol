// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {GraphLeaf, Layer} from "../lib/GraphLeaf.sol";
import {StepReader, StepReaderLib} from "./StepReader.sol";

/**
 * @title ReluStep
 * @notice RELU: y[e] = max(x[e], 0). No params, no constants. Reads: `x[e]`.
 */
library ReluStep {
    using StepReaderLib for StepReader;

    /// @notice The output element e, direct.
    function direct(Layer memory l, StepReader memory r, uint256 e) internal view returns (int256) {
        int256 x = r.inputAt(0, e, GraphLeaf.numel(l));
        return x > 0 ? x : int256(0);
    }
}
