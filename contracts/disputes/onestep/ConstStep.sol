// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {GraphLeaf, Layer} from "../lib/GraphLeaf.sol";
import {StepReader, StepReaderLib} from "./StepReader.sol";

/**
 * @title ConstStep
 * @notice CONST: y[e] = C[e], a layer with no inputs whose output is its constant (e.g. a position
 * embedding the later layers combine with activations). No params; constants `C [numel(out)]` in
 * the output's row-major order. Index mapping: C at e. Reads: `C[e]`.
 */
library ConstStep {
    using StepReaderLib for StepReader;

    uint256 internal constant C_C = 0;

    /// @notice The output element e, direct.
    function direct(Layer memory l, StepReader memory r, uint256 e) internal view returns (int256) {
        return r.constantAt(C_C, e, GraphLeaf.numel(l));
    }
}
