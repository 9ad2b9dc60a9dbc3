// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IOneStepVerifier, StepContext, StepPhase, StepProofs} from "../interfaces/IOneStepVerifier.sol";
import {GraphLeaf, Layer} from "./lib/GraphLeaf.sol";
import {EXACT_BOUND} from "./lib/Types.sol";
import {
    ConvStepBadGroup,
    GatherStepIndexOutOfRange,
    GraphLeafBadLayout,
    GraphLeafBadParam,
    GraphLeafInputNotEarlier,
    GraphLeafUnknownKind,
    OneStepVerifierBadShift,
    OneStepVerifierElementOutOfRange,
    OneStepVerifierEmptyWindow,
    OneStepVerifierLutDomain,
    OneStepVerifierTermOutOfRange,
    OneStepVerifierUnusedOpenings,
    OneStepVerifierWrongPhase
} from "./lib/OneStepErrors.sol";
import {AddStep} from "./onestep/AddStep.sol";
import {ClipStep} from "./onestep/ClipStep.sol";
import {ConstStep} from "./onestep/ConstStep.sol";
import {ConvStep} from "./onestep/ConvStep.sol";
import {DenseStep} from "./onestep/DenseStep.sol";
import {GatherStep} from "./onestep/GatherStep.sol";
import {LutStep} from "./onestep/LutStep.sol";
import {MatMulStep} from "./onestep/MatMulStep.sol";
import {MaxPoolStep} from "./onestep/MaxPoolStep.sol";
import {MulStep} from "./onestep/MulStep.sol";
import {ProductStep} from "./onestep/ProductStep.sol";
import {ReluStep} from "./onestep/ReluStep.sol";
import {ReshapeStep} from "./onestep/ReshapeStep.sol";
import {StepReader} from "./onestep/StepReader.sol";

/**
 * @title OneStepVerifier
 * @notice Recomputes one step of one output element of one layer from proven inputs, constants and
 * graph leaf (docs/SEMANTICS.md). Stateless: the dispute game holds it behind {IOneStepVerifier} and
 * compares what it returns with the disputed claim. The arithmetic and the index mapping of each
 * layer kind live in one library each (contracts/disputes/onestep/).
 */
contract OneStepVerifier is IOneStepVerifier {
    /// @notice Largest magnitude (exclusive) of any committed value or partial sum.
    int256 public constant EXACT_LIMIT = EXACT_BOUND;

    /// @notice Largest MAXPOOL window the game checks in one Direct step; a wider one is stepped as a
    /// running-maximum reduction ({reductionLength} returns its window), so no step opens more than this
    /// many chunks.
    uint256 public constant MAX_DIRECT_WINDOW = 16;

    ////////////////////////////////////////////////////////////////
    //                          Entry points                      //
    ////////////////////////////////////////////////////////////////

    /// @inheritdoc IOneStepVerifier
    function step(StepContext calldata ctx, int256 pre, bytes calldata proofs)
        external
        view
        returns (bool exact, int256 post)
    {
        // A layer that is malformed in the model itself (bytes proven against the graph commitment,
        // so no prover chose them) makes the step impossible: the defender served a model no
        // canonical/1 computation runs, and loses, as for an inexact value. Any other revert is the
        // prover's (a wrong opening, a proof of another leaf) and stands.
        try this.strictStep(ctx, pre, proofs) returns (bool e, int256 v) {
            return (e, v);
        } catch (bytes memory err) {
            if (_isMalformedModel(err)) return (false, 0);
            _bubble(err);
        }
    }

    /// @notice {step} without the malformed-model rule: reverts on a malformed layer too. (External
    /// only so that {step} can catch its revert; it changes nothing.)
    function strictStep(StepContext calldata ctx, int256 pre, bytes calldata proofs)
        external
        view
        returns (bool exact, int256 post)
    {
        StepProofs memory p = abi.decode(proofs, (StepProofs));
        Layer memory l = GraphLeaf.layer(ctx.graphRoot, ctx.layer, p.descriptor, p.graphProof);
        uint256 n = GraphLeaf.numel(l);
        // INVARIANT: the disputed element is an element of layer k's output.
        if (ctx.element >= n) revert OneStepVerifierElementOutOfRange(ctx.element, n);
        StepReader memory r = StepReader({traceRoot: ctx.traceRoot, layer: l, openings: p.openings, used: 0});

        // INVARIANT: DENSE, CONV and MATMUL are checked term by term, MAXPOOL either way, every other
        // kind in one Direct step.
        bool direct = ctx.phase == StepPhase.Direct;
        if (direct ? _isSum(l.kind) : !_isSum(l.kind) && l.kind != GraphLeaf.MAXPOOL) {
            revert OneStepVerifierWrongPhase(l.kind, uint8(ctx.phase));
        }
        if (direct) {
            post = _direct(l, r, ctx.element);
        } else {
            (exact, post) = _reduction(l, r, ctx, pre);
            // Nothing else is read: the step never starts.
            if (!exact) return (false, 0);
        }
        // INVARIANT: one opening per read; nothing unread passes as proof.
        if (r.used != p.openings.length) revert OneStepVerifierUnusedOpenings(r.used, p.openings.length);
        exact = true;
    }

    /// @inheritdoc IOneStepVerifier
    function reductionLength(bytes32 graphRoot, uint256 layer, bytes calldata descriptor, bytes32[] calldata graphProof)
        external
        view
        returns (uint8 kind, uint256 length, uint256 numel)
    {
        try this.strictReductionLength(graphRoot, layer, descriptor, graphProof) returns (uint8 k, uint256 len, uint256 n) {
            return (k, len, n);
        } catch (bytes memory err) {
            // Kind 0 (no layer has it): the proven leaf is malformed (see {step}).
            if (_isMalformedModel(err)) return (0, 0, 0);
            _bubble(err);
        }
    }

    /// @notice {reductionLength} without the malformed-model rule (external only so that it can be caught).
    function strictReductionLength(bytes32 graphRoot, uint256 layer, bytes calldata descriptor, bytes32[] calldata graphProof)
        external
        view
        returns (uint8 kind, uint256 length, uint256 numel)
    {
        Layer memory l = GraphLeaf.layer(graphRoot, layer, descriptor, graphProof);
        return (l.kind, _isSum(l.kind) || _isWidePool(l) ? _length(l) : 0, GraphLeaf.numel(l));
    }

    ////////////////////////////////////////////////////////////////
    //                           Internals                        //
    ////////////////////////////////////////////////////////////////

    /// @dev DENSE, CONV and MATMUL: long sums that only a term-by-term bisection keeps cheap.
    function _isSum(uint8 kind) private pure returns (bool) {
        return kind == GraphLeaf.DENSE || kind == GraphLeaf.CONV || kind == GraphLeaf.MATMUL;
    }

    /// @dev A MAXPOOL whose window holds more than MAX_DIRECT_WINDOW elements (a softmax's row maximum, a
    /// global pool): one Direct step would open every element of it, so the game steps it as a running
    /// maximum instead, one chunk per step, like a sum.
    function _isWidePool(Layer memory l) private pure returns (bool) {
        return l.kind == GraphLeaf.MAXPOOL && MaxPoolStep.length(MaxPoolStep.geometry(l)) > MAX_DIRECT_WINDOW;
    }

    /// @dev Number of Reduce terms of one element (MAXPOOL: its window, used only when stepped).
    function _length(Layer memory l) private pure returns (uint256) {
        if (l.kind == GraphLeaf.DENSE) return DenseStep.length(l);
        if (l.kind == GraphLeaf.CONV) return ConvStep.length(ConvStep.geometry(l));
        if (l.kind == GraphLeaf.MATMUL) return MatMulStep.length(l);
        if (l.kind == GraphLeaf.MAXPOOL) return MaxPoolStep.length(MaxPoolStep.geometry(l));
        return 0;
    }

    /// @dev Reduce or Final step of a DENSE, CONV, MATMUL or MAXPOOL element; `exact` is false when
    /// it would start from a value outside the exact range.
    function _reduction(Layer memory l, StepReader memory r, StepContext calldata ctx, int256 pre)
        private
        view
        returns (bool exact, int256 post)
    {
        uint256 e = ctx.element;
        uint8 kind = l.kind;
        if (ctx.phase == StepPhase.Final) {
            if (!_exact(kind, pre)) return (false, 0);
            if (kind == GraphLeaf.DENSE) return (true, DenseStep.finish(l, r, e, pre));
            if (kind == GraphLeaf.CONV) return (true, ConvStep.finish(l, r, e, pre));
            if (kind == GraphLeaf.MATMUL) return (true, MatMulStep.finish(l, r, pre));
            return (true, MaxPoolStep.finish(e, pre));
        }
        uint256 len = _length(l);
        // INVARIANT: the bisection ends on a real term j < L.
        if (ctx.term >= len) revert OneStepVerifierTermOutOfRange(ctx.term, len);
        // INVARIANT: s_0 is never taken from a caller: term 0 starts from the constants.
        int256 s = ctx.term == 0 ? _initial(l, r, e) : pre;
        if (!_exact(kind, s)) return (false, 0);
        if (kind == GraphLeaf.DENSE) return (true, DenseStep.reduce(l, r, e, ctx.term, s));
        if (kind == GraphLeaf.CONV) return (true, ConvStep.reduce(l, r, e, ctx.term, s));
        if (kind == GraphLeaf.MATMUL) return (true, MatMulStep.reduce(l, r, e, ctx.term, s));
        return (true, MaxPoolStep.reduce(l, r, e, ctx.term, s));
    }

    /// @dev s_0 of a DENSE, CONV, MATMUL or MAXPOOL element.
    function _initial(Layer memory l, StepReader memory r, uint256 e) private view returns (int256) {
        if (l.kind == GraphLeaf.DENSE) return DenseStep.initial(l, r, e);
        if (l.kind == GraphLeaf.CONV) return ConvStep.initial(l, r, e);
        if (l.kind == GraphLeaf.MATMUL) return MatMulStep.initial();
        return MaxPoolStep.initial();
    }

    /// @dev A value a step may start from: |v| < 2^24, or MAXPOOL's running maximum still EMPTY.
    function _exact(uint8 kind, int256 v) private pure returns (bool) {
        return (v < EXACT_LIMIT && v > -EXACT_LIMIT) || (kind == GraphLeaf.MAXPOOL && v == MaxPoolStep.EMPTY);
    }

    /// @dev The output element of a MAXPOOL, ADD, MUL, RELU, CLIP, RESHAPE, LUT, PRODUCT, GATHER or
    /// CONST layer (GraphLeaf checked the kind is one of 1..13, the sums are refused above).
    function _direct(Layer memory l, StepReader memory r, uint256 e) private view returns (int256) {
        uint8 kind = l.kind;
        if (kind == GraphLeaf.MAXPOOL) return MaxPoolStep.direct(l, r, e);
        if (kind == GraphLeaf.ADD) return AddStep.direct(l, r, e);
        if (kind == GraphLeaf.MUL) return MulStep.direct(l, r, e);
        if (kind == GraphLeaf.RELU) return ReluStep.direct(l, r, e);
        if (kind == GraphLeaf.CLIP) return ClipStep.direct(l, r, e);
        if (kind == GraphLeaf.RESHAPE) return ReshapeStep.direct(l, r, e);
        if (kind == GraphLeaf.LUT) return LutStep.direct(l, r, e);
        if (kind == GraphLeaf.PRODUCT) return ProductStep.direct(l, r, e);
        if (kind == GraphLeaf.GATHER) return GatherStep.direct(l, r, e);
        return ConstStep.direct(l, r, e);
    }

    ////////////////////////////////////////////////////////////////
    //                     Malformed models                       //
    ////////////////////////////////////////////////////////////////

    /// @dev Whether `err` is one of the errors that only the model's own committed bytes (the graph
    /// leaf and its constants, proven against the graph commitment) or values both traces agree on
    /// can cause: a layout, kind, param or group that canonical/1 has not, an index table that
    /// points outside its inputs, a shift out of range, a pooling window of padding only, a table
    /// read outside its domain. Proof errors (root mismatches, missing or unused openings) are not.
    function _isMalformedModel(bytes memory err) private pure returns (bool) {
        if (err.length < 4) return false;
        bytes4 selector = bytes4(err);
        return
            selector == GraphLeafUnknownKind.selector ||
            selector == GraphLeafBadLayout.selector ||
            selector == GraphLeafInputNotEarlier.selector ||
            selector == GraphLeafBadParam.selector ||
            selector == ConvStepBadGroup.selector ||
            selector == GatherStepIndexOutOfRange.selector ||
            selector == OneStepVerifierBadShift.selector ||
            selector == OneStepVerifierEmptyWindow.selector ||
            selector == OneStepVerifierLutDomain.selector;
    }

    /// @dev Reverts with `err` as it came.
    function _bubble(bytes memory err) private pure {
        assembly ("memory-safe") {
            revert(add(err, 32), mload(err))
        }
    }
}
