// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {GraphLeaf, Layer} from "../lib/GraphLeaf.sol";
import {Requant} from "./Requant.sol";
import {StepReader, StepReaderLib} from "./StepReader.sol";

/**
 * @title DenseStep
 * @notice DENSE: y[m] = clip((B[m] + Σ_{j<K} x[j]·W[m,j]) >> s[m], lo, hi) (docs/SEMANTICS.md).
 * Params `K, M, lo, hi`; constants `W [M, K]` (row m contiguous), `B [M]`, `s [M]`.
 * Index mapping: output element e is output unit m = e (shape [1, M]); term j reads input element
 * j and weight m·K + j. Reads, in order: Reduce `x[j]`, `W[m·K + j]`, after `B[m]` (s_0) at j = 0;
 * Final `s[m]`.
 */
library DenseStep {
    using StepReaderLib for StepReader;

    uint256 internal constant P_K = 0;
    uint256 internal constant P_M = 1;
    uint256 internal constant P_LO = 2;
    uint256 internal constant P_HI = 3;
    uint256 internal constant C_W = 0;
    uint256 internal constant C_B = 1;
    uint256 internal constant C_S = 2;

    /// @notice L = K, the dot product's length.
    function length(Layer memory l) internal pure returns (uint256) {
        return GraphLeaf.dim(l, P_K);
    }

    /// @notice Term j of output element e reads input element `x` and weight element `w`.
    function termIndices(Layer memory l, uint256 e, uint256 j) internal pure returns (uint256 x, uint256 w) {
        return (j, e * GraphLeaf.dim(l, P_K) + j);
    }

    /// @notice s_0 = B[m].
    function initial(Layer memory l, StepReader memory r, uint256 e) internal view returns (int256) {
        return r.constantAt(C_B, e, GraphLeaf.dim(l, P_M));
    }

    /// @notice s_{j+1} = s_j + x[j]·W[m, j].
    function reduce(Layer memory l, StepReader memory r, uint256 e, uint256 j, int256 s) internal view returns (int256) {
        uint256 k = GraphLeaf.dim(l, P_K);
        (uint256 xi, uint256 wi) = termIndices(l, e, j);
        int256 x = r.inputAt(0, xi, k);
        int256 w = r.constantAt(C_W, wi, GraphLeaf.dim(l, P_M) * k);
        return s + x * w;
    }

    /// @notice y = clip(s_K >> s[m], lo, hi).
    function finish(Layer memory l, StepReader memory r, uint256 e, int256 acc) internal view returns (int256) {
        int256 s = r.constantAt(C_S, e, GraphLeaf.dim(l, P_M));
        return Requant.requant(acc, s, GraphLeaf.param(l, P_LO), GraphLeaf.param(l, P_HI));
    }
}
