// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {GraphLeaf, Layer} from "../lib/GraphLeaf.sol";
import {GatherStepIndexOutOfRange} from "../lib/OneStepErrors.sol";
import {StepReader, StepReaderLib} from "./StepReader.sol";

/**
 * @title GatherStep
 * @notice GATHER, data movement (Transpose, Slice, Concat, Split, Expand, zero Pad, Gather on
 * constant indices, nearest Resize, …): y[e] = v[idx[e]], v the inputs' elements concatenated in
 * `inputs` order with one 0 appended, i.e. y[e] = 0 when idx[e] = Z = Σ n_i (docs/SEMANTICS.md).
 * Params `n_0, …, n_{I−1}`, the element count of each input (one per input, I >= 1); constants
 * `idx [numel(out)]`, integers in [0, Z].
 * Index mapping: idx at e; then, unless idx[e] = Z, the input i with
 * offset_i <= idx[e] < offset_i + n_i (offset_i = Σ_{i' < i} n_{i'}) at element idx[e] − offset_i.
 * Reads, in order: `idx[e]`, then `t_i[idx[e] − offset_i]` (nothing more when idx[e] = Z).
 */
library GatherStep {
    using StepReaderLib for StepReader;

    uint256 internal constant C_IDX = 0;

    /// @notice The output element e, direct. Reverts {GatherStepIndexOutOfRange} when idx[e] is
    /// negative or above Z (the validator refuses such models, so no honest trace reaches it).
    function direct(Layer memory l, StepReader memory r, uint256 e) internal view returns (int256) {
        int256 idx = r.constantAt(C_IDX, e, GraphLeaf.numel(l));
        uint256 inputs = l.params.length;
        uint256 total;
        for (uint256 i = 0; i < inputs; ++i) total += GraphLeaf.dim(l, i);
        if (idx < 0 || uint256(idx) > total) revert GatherStepIndexOutOfRange(e, idx, total);
        uint256 at = uint256(idx);
        // The appended zero.
        if (at == total) return 0;
        uint256 slot;
        uint256 offset;
        uint256 n = GraphLeaf.dim(l, 0);
        // INVARIANT: at < total, so the walk stops at the input (with n_i > 0) holding it.
        while (at >= offset + n) {
            offset += n;
            n = GraphLeaf.dim(l, ++slot);
        }
        return r.inputAt(slot, at - offset, n);
    }
}
