// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @dev Bytes per tensor chunk (docs/SEMANTICS.md "Tensor commitment"). The one definition of the
/// chunk size; the dispute contracts import it from here.
uint256 constant CHUNK_BYTES = 1024;

/// @dev Elements per tensor chunk: {CHUNK_BYTES} / 4 int32 elements.
uint256 constant CHUNK_ELEMS = 256;

/**
 * @title TensorCommitment
 * @notice The tensor commitment of docs/SEMANTICS.md, computed on-chain: canonical bytes (int32
 * little-endian elements) cut into 1024-byte chunks, the last one zero-padded; each leaf is
 * sha256 of its chunk; leaves are zero-padded to a power of two and hashed pairwise with sha256.
 * @dev Gas grows with the size of `data` (one sha256 per chunk); the job escrow uses it only on
 * inputs and outputs whose bytes are in calldata anyway.
 */
library TensorCommitment {
    /// @dev `length` is not a whole number of int32 elements, or is zero.
    error TensorCommitmentInvalidLength(uint256 length);

    /// @notice Commitment to the canonical bytes `data`.
    /// @dev In assembly, in scratch memory past the free memory pointer (nothing is allocated, so a
    /// caller committing many tensors, the items of a batch, reuses the same memory): a chunk
    /// buffer, then the tree's level, reduced in place. Written out in Solidity, the allocations,
    /// copies and bounds checks cost about 7,400 gas beyond the SHA-256 calls on a 4-chunk input
    /// (a 784-element MNIST image), three times what the calls themselves cost.
    /// It is `view` only because inline assembly's `staticcall` is (it calls the SHA-256 precompile,
    /// and reads no state).
    function root(bytes calldata data) internal view returns (bytes32 result) {
        uint256 length = data.length;
        if (length == 0 || length % 4 != 0) revert TensorCommitmentInvalidLength(length);
        uint256 chunks = (length + CHUNK_BYTES - 1) / CHUNK_BYTES;
        uint256 width = 1;
        while (width < chunks) width <<= 1;
        assembly ("memory-safe") {
            let chunk := mload(0x40)
            let level := add(chunk, CHUNK_BYTES)
            // Leaves: sha256 of each chunk; the last one, if short, zero-padded.
            for { let i := 0 } lt(i, chunks) { i := add(i, 1) } {
                let start := mul(i, CHUNK_BYTES)
                let size := sub(length, start)
                if gt(size, CHUNK_BYTES) { size := CHUNK_BYTES }
                if lt(size, CHUNK_BYTES) { calldatacopy(chunk, calldatasize(), CHUNK_BYTES) }
                calldatacopy(chunk, add(data.offset, start), size)
                if iszero(staticcall(gas(), 0x02, chunk, CHUNK_BYTES, add(level, shl(5, i)), 0x20)) { revert(0, 0) }
            }
            // Zero leaves up to a power of two.
            for { let i := chunks } lt(i, width) { i := add(i, 1) } { mstore(add(level, shl(5, i)), 0) }
            // Each node is sha256(left ‖ right); node i of a level overwrites leaf i of the one below
            // it, which its parent has already read (i ≤ 2i).
            for { } gt(width, 1) { } {
                width := shr(1, width)
                for { let i := 0 } lt(i, width) { i := add(i, 1) } {
                    if iszero(staticcall(gas(), 0x02, add(level, shl(6, i)), 0x40, add(level, shl(5, i)), 0x20)) { revert(0, 0) }
                }
            }
            result := mload(level)
        }
    }
}
