// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {GraphLeaf, Layer} from "../lib/GraphLeaf.sol";
import {StepReader, StepReaderLib} from "./StepReader.sol";

/**
 * @title ReshapeStep
 * @notice RESHAPE (Flatten or Reshape): y[e] = x[e], same row-major order, new shape. No params,
 * no constants. Reads: `x[e]`.
 */
library ReshapeStep {
    using StepReaderLib for StepReader;

    /// @notice The output element e, direct.
    function direct(Layer memory l, StepReader memory r, uint256 e) internal view returns (int256) {
        return r.inputAt(0, e, GraphLeaf.numel(l));
    }
}
