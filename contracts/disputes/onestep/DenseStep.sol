// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {GraphLeaf, Layer} from "../lib/GraphLeaf.sol";
import {Requant} from "./Requant.sol";
import {StepReader, StepReaderLib} from "./StepReader.sol";

/**
 * @title DenseStep
 * @notice DENSE over the last axis: y[r,m] = clip((B[m] + Σ_{j<K} x[r,j]·W[m,j]) >> s[m], lo, hi)
 * for every row r of the input [1, R…, K] (docs/SEMANTICS.md). Params `K, M, lo, hi`; constants
 * `W [M, K]` (row m contiguous), `B [M]`, `s [M]`.
 * Index mapping: output element e (output [1, R…, M]) is row r = ⌊e / M⌋, unit m = e mod M, with
 * R = numel(out) / M; term j reads input element r·K + j (of R·K) and weight m·K + j. A [1, M]
 * output has one row, so e = m as before rows existed.
 * Reads, in order: Reduce `x[r·K + j]`, `W[m·K + j]`, after `B[m]` (s_0) at j = 0; Final `s[m]`.
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

    /// @notice The unit m = e mod M of output element e (indexes B, s and the weight row).
    /// Reverts {GraphLeafBadParam} unless M > 0.
    function unit(Layer memory l, uint256 e) internal pure returns (uint256) {
        return e % GraphLeaf.positive(l, P_M);
    }

    /// @notice Term j of output element e reads input element `x` (row ⌊e / M⌋) and weight element `w`.
    function termIndices(Layer memory l, uint256 e, uint256 j) internal pure returns (uint256 x, uint256 w) {
        uint256 k = GraphLeaf.dim(l, P_K);
        uint256 m = GraphLeaf.positive(l, P_M);
        return ((e / m) * k + j, (e % m) * k + j);
    }

    /// @notice s_0 = B[m].
    function initial(Layer memory l, StepReader memory r, uint256 e) internal view returns (int256) {
        return r.constantAt(C_B, unit(l, e), GraphLeaf.dim(l, P_M));
    }

    /// @notice s_{j+1} = s_j + x[r, j]·W[m, j].
    function reduce(Layer memory l, StepReader memory r, uint256 e, uint256 j, int256 s) internal view returns (int256) {
        (uint256 xi, uint256 wi) = termIndices(l, e, j);
        // Two statements: the openings are consumed in read order (x, then W).
        int256 x = _x(l, r, xi);
        return s + x * _w(l, r, wi);
    }

    /// @dev Input element `i`: the input holds R·K elements, R = numel(out) / M rows.
    function _x(Layer memory l, StepReader memory r, uint256 i) private view returns (int256) {
        return r.inputAt(0, i, (GraphLeaf.numel(l) / GraphLeaf.dim(l, P_M)) * GraphLeaf.dim(l, P_K));
    }

    /// @dev Weight element `i` of W [M, K].
    function _w(Layer memory l, StepReader memory r, uint256 i) private view returns (int256) {
        return r.constantAt(C_W, i, GraphLeaf.dim(l, P_M) * GraphLeaf.dim(l, P_K));
    }

    /// @notice y = clip(s_K >> s[m], lo, hi).
    function finish(Layer memory l, StepReader memory r, uint256 e, int256 acc) internal view returns (int256) {
        int256 s = r.constantAt(C_S, unit(l, e), GraphLeaf.dim(l, P_M));
        return Requant.requant(acc, s, GraphLeaf.param(l, P_LO), GraphLeaf.param(l, P_HI));
    }
}
