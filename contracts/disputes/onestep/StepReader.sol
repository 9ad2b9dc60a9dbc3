// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TensorOpening} from "../../interfaces/IOneStepVerifier.sol";
import {MerkleProof} from "../lib/MerkleProof.sol";
import {TensorProof} from "../lib/TensorProof.sol";
import {Layer} from "../lib/GraphLeaf.sol";
import {OneStepVerifierMissingOpening, OneStepVerifierTraceLeafMismatch} from "../lib/OneStepErrors.sol";

/// @notice The proven world of one step: layer k's descriptor, the agreed trace, and the
/// openings still to be consumed (one per element read, in order).
struct StepReader {
    bytes32 traceRoot;
    Layer layer;
    TensorOpening[] openings;
    /// Openings consumed so far.
    uint256 used;
}

/**
 * @title StepReaderLib
 * @notice Reads proven elements for the per-kind step libraries: `inputAt` opens an element of a
 * layer input (trace leaf proven against the agreed trace root), `constantAt` an element of one of
 * layer k's constants (root taken from the proven graph leaf). Each read consumes the next opening.
 */
library StepReaderLib {
    /// @notice Element `index` of the layer's input `slot` (trace leaf `layer.inputs[slot]`, which
    /// holds `numel` elements).
    function inputAt(StepReader memory r, uint256 slot, uint256 index, uint256 numel) internal view returns (int256) {
        TensorOpening memory o = _next(r);
        uint256 t = r.layer.inputs[slot];
        // INVARIANT: t < k (GraphLeaf checked it), so the leaf is one both parties agreed on.
        bytes32 computed = MerkleProof.root(o.root, t, o.rootProof);
        if (computed != r.traceRoot) revert OneStepVerifierTraceLeafMismatch(r.traceRoot, t, computed);
        return TensorProof.read(o.root, index, numel, o.chunk, o.chunkProof);
    }

    /// @notice Element `index` of constant `c` of the layer (holding `numel` elements).
    function constantAt(StepReader memory r, uint256 c, uint256 index, uint256 numel) internal view returns (int256) {
        TensorOpening memory o = _next(r);
        // INVARIANT: the root comes from the proven graph leaf, never from the opening.
        return TensorProof.read(r.layer.constants[c], index, numel, o.chunk, o.chunkProof);
    }

    function _next(StepReader memory r) private pure returns (TensorOpening memory o) {
        if (r.used >= r.openings.length) revert OneStepVerifierMissingOpening(r.used + 1, r.openings.length);
        o = r.openings[r.used];
        r.used += 1;
    }
}
