// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {GraphLeaf, Layer} from "../lib/GraphLeaf.sol";
import {Requant} from "./Requant.sol";
import {StepReader, StepReaderLib} from "./StepReader.sol";

/**
 * @title MatMulStep
 * @notice MATMUL, the product of two layer outputs batched over the leading axes (attention):
 * y[g,n,m] = clip((Σ_{j<K} a[g,n,j]·b[g,j,m]) >> s, lo, hi), a [1, G…, N, K], b [1, G…, K, M],
 * output [1, G…, N, M] (docs/SEMANTICS.md). A reduction of length K from s_0 = 0.
 * Params `N, K, M, lo, hi` (G = numel(out) / (N·M)); constants `s [1]`. Inputs `[a, b]` (slots 0
 * and 1, possibly the same trace leaf).
 * Index mapping: output element e -> (g, n, m) = (⌊e / (N·M)⌋, ⌊e / M⌋ mod N, e mod M); term j
 * reads a[(g·N + n)·K + j] (of G·N·K) and b[(g·K + j)·M + m] (of G·K·M).
 * Reads, in order: Reduce `a[(g·N + n)·K + j]`, `b[(g·K + j)·M + m]` (nothing more at j = 0: s_0 is
 * 0); Final `s[0]`.
 */
library MatMulStep {
    using StepReaderLib for StepReader;

    uint256 internal constant P_N = 0;
    uint256 internal constant P_K = 1;
    uint256 internal constant P_M = 2;
    uint256 internal constant P_LO = 3;
    uint256 internal constant P_HI = 4;
    uint256 internal constant C_S = 0;

    /// @notice L = K, the dot product's length.
    function length(Layer memory l) internal pure returns (uint256) {
        return GraphLeaf.dim(l, P_K);
    }

    /// @notice Term j of output element e reads `a` of input 0 and `b` of input 1, which hold
    /// `na` = G·N·K and `nb` = G·K·M elements. Reverts {GraphLeafBadParam} unless N, M > 0.
    function termIndices(Layer memory l, uint256 e, uint256 j)
        internal
        pure
        returns (uint256 a, uint256 b, uint256 na, uint256 nb)
    {
        uint256 n = GraphLeaf.positive(l, P_N);
        uint256 k = GraphLeaf.dim(l, P_K);
        uint256 m = GraphLeaf.positive(l, P_M);
        uint256 g = e / (n * m);
        uint256 groups = GraphLeaf.numel(l) / (n * m);
        a = (g * n + (e / m) % n) * k + j;
        b = (g * k + j) * m + e % m;
        na = groups * n * k;
        nb = groups * k * m;
    }

    /// @notice s_0 = 0: no bias, nothing read.
    function initial() internal pure returns (int256) {
        return 0;
    }

    /// @notice s_{j+1} = s_j + a[g, n, j]·b[g, j, m].
    function reduce(Layer memory l, StepReader memory r, uint256 e, uint256 j, int256 s) internal view returns (int256) {
        (uint256 ai, uint256 bi, uint256 na, uint256 nb) = termIndices(l, e, j);
        int256 a = r.inputAt(0, ai, na);
        int256 b = r.inputAt(1, bi, nb);
        return s + a * b;
    }

    /// @notice y = clip(s_K >> s, lo, hi).
    function finish(Layer memory l, StepReader memory r, int256 acc) internal view returns (int256) {
        int256 s = r.constantAt(C_S, 0, 1);
        return Requant.requant(acc, s, GraphLeaf.param(l, P_LO), GraphLeaf.param(l, P_HI));
    }
}
