// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IOneStepVerifier, StepContext} from "../interfaces/IOneStepVerifier.sol";
import {GraphLeaf, Header, Layer} from "../disputes/lib/GraphLeaf.sol";
import {MerkleProof} from "../disputes/lib/MerkleProof.sol";
import {TensorProof} from "../disputes/lib/TensorProof.sol";

/**
 * @title OneStepHarness
 * @notice Test-only: runs many one-step cases in one eth_call (differential tests, whole elements'
 * reductions chained on-chain), the gas of one step, and the libraries directly.
 */
contract OneStepHarness {
    /// @notice One call of {IOneStepVerifier-step}.
    struct Case {
        StepContext ctx;
        int256 pre;
        bytes proofs;
    }

    IOneStepVerifier public immutable verifier;

    constructor(IOneStepVerifier verifier_) {
        verifier = verifier_;
    }

    /// @notice Runs every case; `ok[i]` false means it reverted with `errors[i]`, `exact[i]` false
    /// that the verifier found its start outside the exact range.
    function run(Case[] calldata cases)
        external
        view
        returns (int256[] memory out, bool[] memory ok, bool[] memory exact, bytes[] memory errors)
    {
        out = new int256[](cases.length);
        ok = new bool[](cases.length);
        exact = new bool[](cases.length);
        errors = new bytes[](cases.length);
        for (uint256 i = 0; i < cases.length; ++i) {
            try verifier.step(cases[i].ctx, cases[i].pre, cases[i].proofs) returns (bool x, int256 v) {
                (out[i], ok[i], exact[i]) = (v, true, x);
            } catch (bytes memory err) {
                errors[i] = err;
            }
        }
    }

    /// @notice Like {run} over cases packed as
    /// `count ‖ (ctx (6 words) ‖ pre ‖ flags ‖ len ‖ proofs padded to 32 bytes)*`; flag bit 0 takes
    /// `pre` from the previous case's result, so a whole reduction can run on-chain in one call.
    /// @dev Packed by hand because ethers' ABI coder is slow on megabytes of `bytes`.
    function runPacked(bytes calldata packed)
        external
        view
        returns (int256[] memory out, bool[] memory ok, bool[] memory exact, bytes[] memory errors)
    {
        uint256 count = uint256(bytes32(packed[0:32]));
        out = new int256[](count);
        ok = new bool[](count);
        exact = new bool[](count);
        errors = new bytes[](count);
        uint256 o = 32;
        int256 last;
        for (uint256 i = 0; i < count; ++i) {
            uint256 len = uint256(bytes32(packed[o + 256:o + 288]));
            (out[i], ok[i], exact[i], errors[i]) = _call(packed[o:o + 256], packed[o + 288:o + 288 + len], last);
            o += 288 + ((len + 31) & ~uint256(31));
            if (ok[i]) last = out[i];
        }
    }

    function _call(bytes calldata head, bytes calldata proofs, int256 last)
        private
        view
        returns (int256, bool, bool, bytes memory)
    {
        (StepContext memory ctx, int256 pre, uint256 flags) = abi.decode(head, (StepContext, int256, uint256));
        if (flags & 1 == 1) pre = last;
        try verifier.step(ctx, pre, proofs) returns (bool exact, int256 r) {
            return (r, true, exact, "");
        } catch (bytes memory e) {
            return (0, false, false, e);
        }
    }

    /// @notice Execution gas of one step (the external call only, no calldata or base cost).
    function gasOf(Case calldata c) external view returns (uint256 used, bool exact, int256 out) {
        uint256 before = gasleft();
        (exact, out) = verifier.step(c.ctx, c.pre, c.proofs);
        used = before - gasleft();
    }

    /// @notice {MerkleProof-root}.
    function merkleRoot(bytes32 leaf, uint256 index, bytes32[] calldata proof) external view returns (bytes32) {
        return MerkleProof.root(leaf, index, proof);
    }

    /// @notice {TensorProof-read}.
    function readElement(bytes32 root, uint256 element, uint256 numel, bytes calldata chunk, bytes32[] calldata proof)
        external
        view
        returns (int256)
    {
        return TensorProof.read(root, element, numel, chunk, proof);
    }

    /// @notice {TensorProof-check}.
    function checkElement(
        bytes32 root,
        uint256 element,
        uint256 numel,
        int256 claimed,
        bytes calldata chunk,
        bytes32[] calldata proof
    ) external view {
        TensorProof.check(root, element, numel, claimed, chunk, proof);
    }

    /// @notice {GraphLeaf-layer}.
    function layer(bytes32 graphRoot, uint256 index, bytes calldata descriptor, bytes32[] calldata proof)
        external
        view
        returns (Layer memory)
    {
        return GraphLeaf.layer(graphRoot, index, descriptor, proof);
    }

    /// @notice {GraphLeaf-header}.
    function header(bytes32 graphRoot, bytes calldata descriptor, bytes32[] calldata proof)
        external
        view
        returns (Header memory)
    {
        return GraphLeaf.header(graphRoot, descriptor, proof);
    }
}
